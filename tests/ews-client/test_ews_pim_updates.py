"""Contacts and events changed on a type = ews account mounted against
`mailfs serve --ews` reach the server as one item each: a card rewritten
before its creation was sent is created once, with the rewritten content,
whether its create still waits in the journal or was already on its way."""

import os
import subprocess

import pytest

from conftest import ews_config, mount_on, url_of
from mailfs_mount import MAILFS, fsconf

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


@pytest.fixture
def held(ews_served, ews_store, mount_factory, tmp_path):
    """A mount whose flusher waits for `mailfs flush`."""
    conf = ews_config(str(tmp_path), url_of(ews_served))
    fs = mount_factory(conf, "ews")
    fs.env["MAILFS_TEST_HOLD_FLUSH"] = "1"
    mount_on(fs, ews_served)
    fs.store = ews_store
    return fs


def check_one_carol(fs):
    cards = store_cards(fs.store)
    carols = [c for c in cards.values() if "Carol Jones" in c]
    assert len(carols) == 1, cards
    assert "+44 20 7946 0999" in carols[0], carols[0]
    assert "+44 20 7946 0000" not in carols[0], carols[0]
    assert len(cards) == 2, cards       # Bob and Carol
    assert pending(fs) == 0


def test_card_edited_before_its_create_is_sent(held):
    fs = held
    path = fs.m("Contacts", "carol.vcf")
    write(path, CAROL)
    write(path, CAROL_EDITED)
    # the rewrite folds into the create that still waits
    assert pending(fs) == 1
    assert open(path, newline="").read() == CAROL_EDITED
    fs.flush()
    check_one_carol(fs)
    names = [n for n in os.listdir(fs.m("Contacts")) if n != "bob.vcf"]
    assert len(names) == 1, os.listdir(fs.m("Contacts"))


def test_card_edited_while_its_create_is_on_its_way(held):
    fs = held
    path = fs.m("Contacts", "carol.vcf")
    write(path, CAROL)
    # the flusher stops hard once it has claimed the create: it may have
    # been sent, and is looked up before it is sent again
    fs.env["MAILFS_TEST_CRASH_AFTER"] = "1"
    fs.unmount()
    fs.env.pop("MAILFS_TEST_HOLD_FLUSH")
    fs.mount()
    r = fs.flush(check=False)
    assert r.returncode != 0
    fs.proc.wait(timeout=30)
    fsconf.unmount_path(fs.mnt)
    fs.proc = None
    fs.env.pop("MAILFS_TEST_CRASH_AFTER")
    fs.env["MAILFS_TEST_HOLD_FLUSH"] = "1"
    fs.mount()
    write(path, CAROL_EDITED)
    # the create is not folded into: the rewrite waits for its server id
    assert pending(fs) == 2
    fs.flush()
    check_one_carol(fs)
