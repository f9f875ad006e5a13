"""Contacts and events changed on a type = ews account mounted against
`mailfs serve --ews` reach the server as one item each: an event rewritten
on the mount is updated in place (UpdateItem of its properties, the item
keeping its ItemId), and a card rewritten before its creation was sent is
created once, with the rewritten content, whether its create still waits
in the journal or was already on its way."""

import os
import subprocess

import pytest

from conftest import ews_config, mount_on, url_of
from mailfs_mount import MAILFS, fsconf

EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailfs//test//EN\r\n"
         b"BEGIN:VEVENT\r\nUID:standup-1@example.org\r\n"
         b"DTSTAMP:20240101T090000Z\r\nDTSTART:20240102T090000Z\r\n"
         b"DTEND:20240102T091500Z\r\nSUMMARY:Stand-up\r\n"
         b"LOCATION:Room 1\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\n"
         b"DESCRIPTION:soon\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\n"
         b"END:VEVENT\r\nEND:VCALENDAR\r\n")
EDITED = (EVENT.replace(b"SUMMARY:Stand-up", b"SUMMARY:Daily sync")
          .replace(b"DTSTART:20240102T090000Z", b"DTSTART:20240102T093000Z")
          .replace(b"DTEND:20240102T091500Z", b"DTEND:20240102T094500Z"))
CAROL = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol Jones\r\n"
         "N:Jones;Carol;;;\r\nEMAIL:carol@example.org\r\n"
         "TEL;TYPE=HOME:+44 20 7946 0000\r\nEND:VCARD\r\n")
CAROL_EDITED = CAROL.replace("+44 20 7946 0000", "+44 20 7946 0999")


def store_cards(store):
    out = {}
    for n in os.listdir(os.path.join(store, "Contacts")):
        if not n.startswith("."):
            with open(os.path.join(store, "Contacts", n), newline="") as f:
                out[n] = f.read()
    return out


def pending(fs):
    out = subprocess.run([MAILFS, "status", fs.mnt], capture_output=True,
                         text=True, timeout=30).stdout
    for line in out.splitlines():
        if line.startswith("pending: "):
            return int(line.split()[1])
    raise AssertionError("no pending line in:\n" + out)


def write(path, text):
    with open(path, "w", newline="") as f:
        f.write(text)


def store_events(store):
    cal = os.path.join(store, "Calendar")
    return {n: open(os.path.join(cal, n), "rb").read()
            for n in os.listdir(cal) if not n.startswith(".")}


@pytest.fixture
def with_event(ews_served, ews_store, mount_factory, tmp_path):
    os.makedirs(os.path.join(ews_store, "Calendar"))
    with open(os.path.join(ews_store, "Calendar", "standup.ics"), "wb") as f:
        f.write(EVENT)
    conf = ews_config(str(tmp_path), url_of(ews_served))
    fs = mount_factory(conf, "ews")
    mount_on(fs, ews_served)
    fs.store = ews_store
    fs.conf = conf
    return fs


def test_edited_event_is_updated_in_place(with_event, mount_factory,
                                          ews_served):
    fs = with_event
    (n,) = os.listdir(fs.m("Calendar"))
    assert open(fs.m("Calendar", n), "rb").read() == EVENT
    with open(fs.m("Calendar", n), "wb") as f:
        f.write(EDITED)
    fs.flush()
    events = store_events(fs.store)
    # the same item, changed: not a new one in place of the old
    assert list(events) == ["standup.ics"], events
    ics = events["standup.ics"]
    assert b"SUMMARY:Daily sync\r\n" in ics, ics
    assert b"DTSTART:20240102T093000Z\r\n" in ics, ics
    assert b"DTEND:20240102T094500Z\r\n" in ics, ics
    # what the change did not touch is kept, the alarm's lines too
    for line in (b"UID:standup-1@example.org", b"LOCATION:Room 1",
                 b"DESCRIPTION:soon", b"TRIGGER:-PT5M"):
        assert line in ics, ics
    assert b"Stand-up" not in ics, ics
    assert b"DTSTART:20240102T090000Z" not in ics, ics
    # a fresh mount reads the server's copy, named by its new summary
    assert n == "2024-01-02 Stand-up.ics"
    fresh = mount_factory(fs.conf, "ews")
    mount_on(fresh, ews_served)
    (m,) = os.listdir(fresh.m("Calendar"))
    assert m == "2024-01-02 Daily sync.ics"
    assert open(fresh.m("Calendar", m), "rb").read() == ics


@pytest.fixture
def held(ews_served, ews_store, mount_factory, tmp_path):
    """make(env) -> a mount whose flusher waits for `mailfs flush`, with
    `env` for the daemon."""
    def make(env=None):
        conf = ews_config(str(tmp_path), url_of(ews_served))
        fs = mount_factory(conf, "ews")
        fs.env["MAILFS_TEST_HOLD_FLUSH"] = "1"
        fs.env.update(env or {})
        mount_on(fs, ews_served)
        fs.store = ews_store
        fs.server = ews_served
        return fs
    return make


def check_one_carol(fs):
    cards = store_cards(fs.store)
    carols = [c for c in cards.values() if "Carol Jones" in c]
    assert len(carols) == 1, cards
    assert "+44 20 7946 0999" in carols[0], carols[0]
    assert "+44 20 7946 0000" not in carols[0], carols[0]
    assert len(cards) == 2, cards       # Bob and Carol
    assert pending(fs) == 0


def test_card_edited_before_its_create_is_sent(held):
    fs = held()
    path = fs.m("Contacts", "carol.vcf")
    write(path, CAROL)
    write(path, CAROL_EDITED)
    # the rewrite folds into the create that still waits
    assert pending(fs) == 1
    assert open(path, newline="").read() == CAROL_EDITED
    fs.flush()
    check_one_carol(fs)
    # Bob's card and Carol's, under the name it was written with
    names = os.listdir(fs.m("Contacts"))
    assert len(names) == 2 and "carol.vcf" in names, names


def test_card_edited_while_its_create_is_on_its_way(held):
    # the flusher stops hard once it has claimed the create: it may have
    # been sent, and is looked up before it is sent again
    fs = held({"MAILFS_TEST_CRASH_AFTER": "1"})
    path = fs.m("Contacts", "carol.vcf")
    write(path, CAROL)
    assert fs.flush(check=False).returncode != 0
    fs.proc.wait(timeout=30)
    fsconf.unmount_path(fs.mnt)
    fs.proc = None
    fs.env.pop("MAILFS_TEST_CRASH_AFTER")
    mount_on(fs, fs.server)
    write(path, CAROL_EDITED)
    # not folded into a create that may be on the server: the rewrite
    # waits for the server id of what it made
    assert pending(fs) == 2
    fs.flush()
    check_one_carol(fs)
