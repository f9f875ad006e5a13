"""Contacts, calendar and Directory folders of a type = ews account mounted
against `mailfs serve --ews`: cards and events read and written through
the mount land in the store's .vcf and .ics files, and the Directory
finds the store's contacts by ResolveNames."""

import errno
import os
import shutil
import time

import pytest

from conftest import ews_config, mount_on, url_of

SYNC = 15.0

BOB = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Builder\r\n"
       "N:Builder;Bob;;;\r\nEMAIL;TYPE=INTERNET:bob@example.org\r\n"
       "TEL;TYPE=CELL:+1 555 0100\r\n"
       "ADR;TYPE=WORK:;;1 Main St;Springfield;IL;62701;USA\r\n"
       "ORG:Builders Inc\r\nNOTE:Can fix it\r\n"
       "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ==\r\n"
       "X-MAILFS-TEST:kept\r\nEND:VCARD\r\n")
BORIS = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Boris Becker\r\n"
         "N:Becker;Boris;;;\r\nEMAIL:boris@example.org\r\nEND:VCARD\r\n")
ALICE = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice Liddell\r\n"
         "N:Liddell;Alice;;;\r\nEMAIL:alice@example.org\r\nEND:VCARD\r\n")
EVENT = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailfs//test//EN\r\n"
         b"BEGIN:VEVENT\r\nUID:standup-1@example.org\r\n"
         b"DTSTAMP:20240101T090000Z\r\nDTSTART:20240102T090000Z\r\n"
         b"DTEND:20240102T091500Z\r\nSUMMARY:Stand-up\r\n"
         b"LOCATION:Room 1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def wait_until(pred, timeout=SYNC, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def store_cards(store, folder="Contacts"):
    out = {}
    for n in os.listdir(os.path.join(store, folder)):
        if n.startswith("."):
            continue    # the store's own marker
        with open(os.path.join(store, folder, n), "rb") as f:
            out[n] = f.read().decode()
    return out


def mount_card(fs, text):
    """The file name on the mount of the card holding `text`."""
    for n in os.listdir(fs.m("Contacts")):
        if text in open(fs.m("Contacts", n)).read():
            return n
    return None


@pytest.fixture
def mounted(ews_served, ews_store, mount_factory, tmp_path):
    contacts = os.path.join(ews_store, "Contacts")
    with open(os.path.join(contacts, "bob.vcf"), "w", newline="") as f:
        f.write(BOB)
    with open(os.path.join(contacts, "boris.vcf"), "w", newline="") as f:
        f.write(BORIS)
    with open(os.path.join(contacts, "alice.vcf"), "w", newline="") as f:
        f.write(ALICE)
    os.makedirs(os.path.join(ews_store, "Calendar"))
    with open(os.path.join(ews_store, "Calendar", "standup.ics"), "wb") as f:
        f.write(EVENT)
    conf = ews_config(str(tmp_path), url_of(ews_served))
    fs = mount_factory(conf, "ews")
    mount_on(fs, ews_served)
    fs.store = ews_store
    return fs


def test_contacts_are_cards(mounted):
    fs = mounted
    files = sorted(os.listdir(fs.m("Contacts")))
    assert len(files) == 3 and all(n.endswith(".vcf") for n in files)
    n = mount_card(fs, "Bob Builder")
    assert n, files
    path = fs.m("Contacts", n)
    size = os.stat(path).st_size
    card = open(path, newline="").read()
    assert size == len(card.encode())
    for want in ("FN:Bob Builder", "Builder;Bob", "bob@example.org",
                 "+1 555 0100", "1 Main St", "Springfield", "62701",
                 "Builders Inc", "Can fix it"):
        assert want in card, card


def test_new_card_lands_in_the_store(mounted):
    fs = mounted
    src = os.path.join(fs.base, "carol.vcf")
    with open(src, "w", newline="") as f:
        f.write("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol Jones\r\n"
                "N:Jones;Carol;;;\r\nEMAIL:carol@example.org\r\n"
                "TEL;TYPE=HOME:+44 20 7946 0000\r\nORG:Acme\r\n"
                "NOTE:met at the fair\r\nEND:VCARD\r\n")
    shutil.copy(src, fs.m("Contacts"))
    fs.flush()
    new = [c for c in store_cards(fs.store).values() if "Carol" in c]
    assert len(new) == 1, store_cards(fs.store)
    for want in ("Carol Jones", "carol@example.org", "+44 20 7946 0000",
                 "Acme", "met at the fair"):
        assert want in new[0], new[0]
    assert len(store_cards(fs.store)) == 4


def test_edited_card_keeps_unmapped_lines(mounted):
    fs = mounted
    n = mount_card(fs, "Bob Builder")
    path = fs.m("Contacts", n)
    card = open(path, newline="").read()
    card = card.replace("+1 555 0100", "+1 555 0199")
    card = card.replace("Builders Inc", "Builders Ltd")
    with open(path, "w", newline="") as f:
        f.write(card)
    fs.flush()
    bob = store_cards(fs.store)["bob.vcf"]
    assert "+1 555 0199" in bob and "Builders Ltd" in bob, bob
    assert "+1 555 0100" not in bob
    assert "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ==" in bob
    assert "X-MAILFS-TEST:kept" in bob
    assert len(store_cards(fs.store)) == 3


def test_removed_card_leaves_the_store(mounted):
    fs = mounted
    os.unlink(fs.m("Contacts", mount_card(fs, "Alice")))
    fs.flush()
    assert sorted(store_cards(fs.store)) == ["bob.vcf", "boris.vcf"]


def test_event_bytes_both_ways(mounted):
    fs = mounted
    (n,) = os.listdir(fs.m("Calendar"))
    assert n.endswith(".ics")
    assert os.stat(fs.m("Calendar", n)).st_size == len(EVENT)
    assert open(fs.m("Calendar", n), "rb").read() == EVENT
    other = EVENT.replace(b"standup-1", b"review-2").replace(
        b"Stand-up", b"Review")
    src = os.path.join(fs.base, "review.ics")
    with open(src, "wb") as f:
        f.write(other)
    shutil.copy(src, fs.m("Calendar"))
    fs.flush()
    got = sorted(open(os.path.join(fs.store, "Calendar", x), "rb").read()
                 for x in os.listdir(os.path.join(fs.store, "Calendar"))
                 if not x.startswith("."))
    assert got == sorted([EVENT, other])
    os.unlink(fs.m("Calendar", n))
    fs.flush()
    left = [open(os.path.join(fs.store, "Calendar", x), "rb").read()
            for x in os.listdir(os.path.join(fs.store, "Calendar"))
            if not x.startswith(".")]
    assert left == [other]


def test_directory_lookups(mounted):
    fs = mounted
    assert "Directory" in os.listdir(fs.mnt)
    card = open(fs.m("Directory", "bob@example.org.vcf"), newline="").read()
    assert "FN:Bob Builder" in card and "bob@example.org" in card, card
    assert "+1 555 0100" in card
    found = sorted(os.listdir(fs.m("Directory", "Bo*")))
    assert found == ["bob@example.org.vcf", "boris@example.org.vcf"], found
    with pytest.raises(FileNotFoundError):
        open(fs.m("Directory", "nobody@example.org.vcf"))
    with pytest.raises(OSError) as ex:
        with open(fs.m("Directory", "new@example.org.vcf"), "w") as f:
            f.write(ALICE)
    assert ex.value.errno == errno.EROFS
    with pytest.raises(OSError) as ex:
        os.unlink(fs.m("Directory", "bob@example.org.vcf"))
    assert ex.value.errno == errno.EROFS
    with pytest.raises(OSError) as ex:
        os.mkdir(fs.m("Directory", "sub"))
    assert ex.value.errno == errno.EROFS
