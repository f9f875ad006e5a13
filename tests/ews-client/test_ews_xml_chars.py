"""Characters XML 1.0 cannot hold (C0 controls, U+FFFE, U+FFFF, bytes that
are not UTF-8) in a card or event written on a type = ews mount against
`mailfs serve --ews`: the SOAP of either side stays well-formed (the
characters dropped, bytes that are not UTF-8 replaced by U+FFFD), the
server takes the change, and nothing lands in sync-issues/."""

import contextlib
import glob
import os
import re
import shutil
import sqlite3

import pytest

from conftest import ews_config, mount_on, url_of
from mailfs_mount import fsconf

# ED A0 80: U+D800 on its own, as CESU-8 writes it; not UTF-8
CARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Odd\uffffOne\r\n"
        "N:One;Odd;;;\r\nEMAIL:odd@example.org\r\n"
        "NOTE:bell\x01here\r\n").encode() + \
    b"ORG:Bad\xed\xa0\x80Bytes\r\nEND:VCARD\r\n"
EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailfs//test//EN\r\n"
         "BEGIN:VEVENT\r\nUID:odd-1@example.org\r\n"
         "DTSTAMP:20240101T090000Z\r\nDTSTART:20240103T090000Z\r\n"
         "DTEND:20240103T100000Z\r\nSUMMARY:Odd\ufffeMeeting\r\n"
         "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()
# an event and a card put in the store by hand, with characters the
# server's answers must not carry
PLAIN = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailfs//test//EN\r\n"
         "BEGIN:VEVENT\r\nUID:plain-1@example.org\r\n"
         "DTSTAMP:20240101T090000Z\r\nDTSTART:20240102T090000Z\r\n"
         "DTEND:20240102T091500Z\r\nSUMMARY:Plain\uffff\x01Talk\r\n"
         "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()
STORED = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ctl\x02Carl\uffff\r\n"
          "N:Carl;Ctl;;;\r\nEMAIL:carl@example.org\r\nEND:VCARD\r\n"
          ).encode()


GOOD = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailfs//test//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:good-1@example.org\r\n"
        b"DTSTAMP:20240101T090000Z\r\nDTSTART:20240104T090000Z\r\n"
        b"DTEND:20240104T091500Z\r\nSUMMARY:Good\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def make_mount(ews_served, ews_store, mount_factory, tmp_path):
    """make(odd_store): a mount of the store, which holds a good event
    and, with odd_store, the card and the event above."""
    def make(odd_store):
        os.makedirs(os.path.join(ews_store, "Calendar"))
        seed = {("Calendar", "good.ics"): GOOD}
        if odd_store:
            seed[("Contacts", "carl.vcf")] = STORED
            seed[("Calendar", "plain.ics")] = PLAIN
        for (folder, name), data in seed.items():
            with open(os.path.join(ews_store, folder, name), "wb") as f:
                f.write(data)
        conf = ews_config(str(tmp_path), url_of(ews_served))
        fs = mount_factory(conf, "ews")
        mount_on(fs, ews_served)
        fs.store = ews_store
        return fs
    return make


def store_files(store, folder):
    d = os.path.join(store, folder)
    return {n: open(os.path.join(d, n), "rb").read()
            for n in os.listdir(d) if not n.startswith(".")}


def mount_files(fs, folder):
    return sorted(open(fs.m(folder, n), "rb").read()
                  for n in os.listdir(fs.m(folder)))


def issues(fs):
    d = os.path.join(fs.cache, "sync-issues")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_the_server_answers_well_formed_xml_about_odd_items(make_mount):
    fs = make_mount(True)
    cards = mount_files(fs, "Contacts")
    assert any(b"FN:CtlCarl\r\n" in c for c in cards), cards
    # an event is its bytes as stored; the server's answers about it
    # (its subject among them) were read without a fault
    assert mount_files(fs, "Calendar") == sorted([GOOD, PLAIN])
    assert issues(fs) == []


def test_odd_characters_written_reach_the_server_without_them(make_mount):
    fs = make_mount(False)
    for name, data in (("odd.vcf", CARD), ("odd.ics", EVENT)):
        with open(os.path.join(fs.base, name), "wb") as f:
            f.write(data)
    shutil.copy(os.path.join(fs.base, "odd.vcf"), fs.m("Contacts"))
    shutil.copy(os.path.join(fs.base, "odd.ics"), fs.m("Calendar"))
    r = fs.flush(check=False)
    assert r.returncode == 0, r.stderr
    assert issues(fs) == []
    (card,) = [c for c in store_files(fs.store, "Contacts").values()
               if b"odd@example.org" in c]
    text = card.decode("utf-8")
    assert "FN:OddOne\r\n" in text, text
    assert "NOTE:bellhere\r\n" in text, text
    # GLib marks each byte of the sequence
    assert re.search("ORG:Bad\ufffd+Bytes", text), text
    # an event travels as its bytes (MimeContent, base64): kept as given
    events = sorted(store_files(fs.store, "Calendar").values())
    assert events == sorted([GOOD, EVENT])
    # what the server now holds is read back whole by a new mount
    fs.unmount()
    fs.mount()
    assert mount_files(fs, "Calendar") == events
    cards = mount_files(fs, "Contacts")
    assert any(b"odd@example.org" in c for c in cards), cards


def test_a_card_written_is_indexed_at_the_size_of_the_servers_card(
        ews_served, ews_store, mount_factory, tmp_path):
    # the server keeps the card otherwise than written (the odd
    # characters dropped, a UID added); the daemon stops hard once the
    # create is done, before any sync could tell the index of it: the
    # size the index holds is still that of the card a read brings
    fs = mount_factory(ews_config(str(tmp_path), url_of(ews_served)), "ews")
    fs.env.update({"MAILFS_TEST_HOLD_FLUSH": "1",
                   "MAILFS_TEST_CRASH_AFTER": "3"})
    mount_on(fs, ews_served)
    with open(fs.m("Contacts", "odd.vcf"), "wb") as f:
        f.write(CARD)
    assert fs.flush(check=False).returncode != 0
    fs.proc.wait(timeout=30)
    fsconf.unmount_path(fs.mnt)
    fs.proc = None
    (db,) = glob.glob(os.path.join(fs.cache, "**", "index.sqlite"),
                      recursive=True)
    with contextlib.closing(sqlite3.connect(db)) as con:
        (size,) = con.execute("SELECT size FROM items WHERE folder=? AND "
                              "id=?", ("Contacts", "odd.vcf")).fetchone()
    del fs.env["MAILFS_TEST_CRASH_AFTER"]
    mount_on(fs, ews_served)
    with open(fs.m("Contacts", "odd.vcf"), "rb") as f:
        data = f.read()
    assert b"odd@example.org" in data and data.endswith(b"END:VCARD\r\n")
    assert size == len(data) != len(CARD), data
