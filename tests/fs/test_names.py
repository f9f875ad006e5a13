"""Unusual file names and non-message files in cur/ are carried through
unchanged in both directions."""

import os
import random

from conftest import (contents_of, make_message, read_file, wait_until,
                      write_file)

ODD_NAMES = [
    b"1700000000.odd name with spaces.host:2,S",
    b"1700000001.new\nline.host:2,S",
    b"1700000002.bytes\xff\xfe\x80latin1-\xe9.host:2,",
]


# Named like a message (":2," and no flags) so that the cur/ naming rule and
# the store's name agree.
JUNK_NAME = "1700000004.junk.host:2,"


def _junk(seed, size=20000):
    return random.Random(seed).randbytes(size) + b"\0\r\n\xff"


def test_odd_names_from_store(mailfs_factory):
    fs = mailfs_factory()
    cur = os.fsencode(fs.s("INBOX", "cur"))
    for sub in ("cur", "new", "tmp"):
        os.makedirs(fs.s("INBOX", sub), exist_ok=True)
    msgs = {}
    for i, name in enumerate(ODD_NAMES):
        data = make_message(50 + i)
        with open(os.path.join(cur, name), "wb") as f:
            f.write(data)
        msgs[name] = data
    fs.mount()
    mcur = os.fsencode(fs.m("INBOX", "cur"))
    listing = set(os.listdir(mcur))
    for name, data in msgs.items():
        assert name in listing, "%r not listed on the mount: %r" % (name, listing)
        assert read_file(os.path.join(mcur, name)) == data
        assert os.stat(os.path.join(mcur, name)).st_size == len(data)


def test_odd_names_through_mount(mfs):
    mcur = os.fsencode(mfs.m("INBOX", "cur"))
    mtmp = os.fsencode(mfs.m("INBOX", "tmp"))
    msgs = {}
    for i, name in enumerate(ODD_NAMES):
        data = make_message(60 + i)
        base = name.split(b":2,")[0]
        write_file(os.path.join(mtmp, base), data)
        os.rename(os.path.join(mtmp, base), os.path.join(mcur, name))
        msgs[name] = data
    listing = set(os.listdir(mcur))
    for name, data in msgs.items():
        assert name in listing, "%r not listed on the mount" % name
        assert read_file(os.path.join(mcur, name)) == data
    assert wait_until(lambda: set(msgs.values()) <= contents_of(mfs.s("INBOX")))
    scur = os.fsencode(mfs.s("INBOX", "cur"))
    assert wait_until(lambda: set(msgs) <= set(os.listdir(scur))), \
        "store names differ: %r" % os.listdir(scur)


def test_binary_junk_in_cur_from_store(mailfs_factory):
    fs = mailfs_factory()
    for sub in ("cur", "new", "tmp"):
        os.makedirs(fs.s("INBOX", sub), exist_ok=True)
    junk = _junk(1)
    with open(fs.s("INBOX", "cur", JUNK_NAME), "wb") as f:
        f.write(junk)
    fs.mount()
    assert JUNK_NAME in os.listdir(fs.m("INBOX", "cur"))
    assert os.stat(fs.m("INBOX", "cur", JUNK_NAME)).st_size == len(junk)
    assert read_file(fs.m("INBOX", "cur", JUNK_NAME)) == junk


def test_binary_junk_in_cur_through_mount(mfs):
    junk = _junk(2)
    path = mfs.m("INBOX", "cur", "1700000003.junk.host:2,")
    write_file(path, junk)
    assert read_file(path) == junk
    assert os.stat(path).st_size == len(junk)
    assert wait_until(lambda: junk in contents_of(mfs.s("INBOX"))), \
        "junk file written into cur/ not kept byte for byte in the store"
    assert read_file(path) == junk
