"""Other writers to the store while it is mounted: their changes show up on
the mount within a few seconds."""

import os
import subprocess
import sys

from conftest import (SYNC_TIMEOUT, base_of, contents_of, fill_store,
                      make_message, maildir_name, read_file, wait_until)

# A separate process delivers into the store the way a delivery agent does.
_DELIVER = r"""
import os, sys
folder, name, path = sys.argv[1:4]
data = open(path, "rb").read()
tmp = os.path.join(folder, "tmp", name)
fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, data)
os.fsync(fd)
os.close(fd)
os.rename(tmp, os.path.join(folder, "new", name))
"""


def _external_deliver(fs, folder, data):
    name = maildir_name("outside")
    src = os.path.join(fs.base, name + ".eml")
    with open(src, "wb") as f:
        f.write(data)
    subprocess.run([sys.executable, "-c", _DELIVER, fs.s(folder), name, src],
                   check=True, timeout=30)
    return name


def test_store_delivery_shows_on_mount(mfs):
    os.listdir(mfs.m("INBOX", "new"))  # let the mount see the folder first
    data = make_message(40, size=6000)
    name = _external_deliver(mfs, "INBOX", data)
    seen = wait_until(lambda: name in os.listdir(mfs.m("INBOX", "new")))
    assert seen, "message delivered into the store not on the mount after %d s" \
        % SYNC_TIMEOUT
    assert read_file(mfs.m("INBOX", "new", name)) == data
    assert os.stat(mfs.m("INBOX", "new", name)).st_size == len(data)


def test_store_flag_rename_shows_on_mount(mailfs_factory):
    fs = mailfs_factory()
    msgs = fill_store(fs.store, "INBOX", 3, flags="")
    fs.mount()
    name = sorted(msgs)[1]
    assert name in os.listdir(fs.m("INBOX", "cur"))
    new_name = base_of(name) + ":2,RS"
    os.rename(fs.s("INBOX", "cur", name), fs.s("INBOX", "cur", new_name))

    def renamed():
        listing = os.listdir(fs.m("INBOX", "cur"))
        return new_name in listing and name not in listing
    assert wait_until(renamed), "flag change in the store not on the mount: %r" \
        % os.listdir(fs.m("INBOX", "cur"))
    assert read_file(fs.m("INBOX", "cur", new_name)) == msgs[name]
    flags = os.getxattr(fs.m("INBOX", "cur", new_name), "user.mail.flags")
    assert flags.rstrip(b"\0") == b"RS"


def test_store_deletion_shows_on_mount(mailfs_factory):
    fs = mailfs_factory()
    msgs = fill_store(fs.store, "INBOX", 3)
    fs.mount()
    name = sorted(msgs)[0]
    assert read_file(fs.m("INBOX", "cur", name)) == msgs[name]
    os.unlink(fs.s("INBOX", "cur", name))
    assert wait_until(lambda: name not in os.listdir(fs.m("INBOX", "cur"))), \
        "message deleted from the store still listed on the mount"
    assert wait_until(lambda: not os.path.exists(fs.m("INBOX", "cur", name)))
    assert msgs[name] not in contents_of(fs.m("INBOX"))


def test_store_folder_created_shows_on_mount(mfs):
    os.listdir(mfs.mnt)
    data = make_message(41)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(mfs.s("Lists", sub))
    name = _external_deliver(mfs, "Lists", data)
    assert wait_until(lambda: "Lists" in os.listdir(mfs.mnt)), \
        "folder made in the store not on the mount"
    assert wait_until(lambda: os.path.isdir(mfs.m("Lists", "cur")))
    assert wait_until(lambda: name in os.listdir(mfs.m("Lists", "new")))
    assert read_file(mfs.m("Lists", "new", name)) == data
