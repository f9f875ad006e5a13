"""What was done through the mount is still there after unmount and mount,
with the same names and the same inode numbers."""

import os
import shutil
import subprocess

from conftest import (CTL_DIR, FUSERMOUNT, base_of, deliver, fill_store,
                      mail_tree, make_message, read_file, tree_diff,
                      wait_until)


def _inodes(root):
    """relative path -> st_ino for every file and directory under root except
    .mailfs/ and tmp/ contents."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            dirnames[:] = [d for d in dirnames if d != CTL_DIR]
        for name in dirnames + ([] if os.path.basename(dirpath) == "tmp"
                                else filenames):
            p = os.path.join(dirpath, name)
            out[os.path.normpath(os.path.join(rel, name))] = os.lstat(p).st_ino
    return out


def _make_changes(fs):
    delivered = deliver(fs.m("INBOX"), make_message(30, size=4000))
    flagged = deliver(fs.m("INBOX"), make_message(31), subdir="cur", flags="S")
    flagged_new = fs.m("INBOX", "cur", base_of(os.path.basename(flagged)) + ":2,FS")
    os.rename(flagged, flagged_new)
    os.makedirs(fs.m("Archive", "2024"))
    deliver(fs.m("Archive", "2024"), make_message(32), subdir="cur", flags="RS")
    return delivered, flagged_new


def test_changes_persist_across_remount(mfs):
    delivered, flagged = _make_changes(mfs)
    before = mail_tree(mfs.mnt)
    mfs.remount()
    after = mail_tree(mfs.mnt)
    assert after == before, tree_diff(before, after)
    assert os.path.exists(delivered)
    assert os.path.exists(flagged)
    assert os.getxattr(flagged, "user.mail.flags").rstrip(b"\0") == b"FS"
    assert os.path.isdir(mfs.m("Archive", "2024", "cur"))
    store = mail_tree(mfs.store)
    assert after == store, tree_diff(after, store)


def test_inodes_stable_across_remount(mailfs_factory):
    fs = mailfs_factory()
    fill_store(fs.store, "INBOX", 10)
    fill_store(fs.store, "Lists/debian", 5)
    fs.mount()
    _make_changes(fs)
    before = _inodes(fs.mnt)
    assert len(set(before.values())) == len(before), "inode numbers not unique"
    fs.remount()
    after = _inodes(fs.mnt)
    assert set(after) == set(before)
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, "st_ino changed across remount: %r" % changed


def test_inode_stable_while_mounted(mfs):
    path = deliver(mfs.m("INBOX"), make_message(33), subdir="cur", flags="")
    ino = os.stat(path).st_ino
    # Let the kernel forget the inode, then look it up again.
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2")
    except OSError:
        pass
    assert os.stat(path).st_ino == ino, \
        "st_ino of a delivered message changed when the kernel looked it up again"
    renamed = mfs.m("INBOX", "cur", base_of(os.path.basename(path)) + ":2,S")
    os.rename(path, renamed)
    assert os.stat(renamed).st_ino == ino


def test_names_survive_wiped_cache(mfs):
    _make_changes(mfs)
    before = mail_tree(mfs.mnt)
    assert wait_until(lambda: mail_tree(mfs.store) == before), \
        tree_diff(before, mail_tree(mfs.store))
    mfs.unmount()
    shutil.rmtree(mfs.cache)
    os.mkdir(mfs.cache)
    mfs.mount()
    after = mail_tree(mfs.mnt)
    assert after == before, tree_diff(before, after)


def test_files_open_at_unmount_lose_nothing(mfs):
    # A reader and a finished writer still hold files when the mount is
    # detached (fusermount3 -uz, as a busy mount needs): the daemon serves
    # them until they close, and everything written and closed is kept.
    kept = make_message(50, size=20000)
    reading = deliver(mfs.m("INBOX"), kept, subdir="cur", flags="S")
    reader = open(reading, "rb")
    head = reader.read(100)
    written = make_message(51)
    path = mfs.m("INBOX", "cur", "written-at-unmount:2,")
    writer = open(path, "wb")
    writer.write(written)
    writer.flush()
    r = subprocess.run([FUSERMOUNT, "-uz", mfs.mnt], capture_output=True)
    assert r.returncode == 0, r.stderr
    assert not os.path.ismount(mfs.mnt)
    # both files still work through their open descriptors
    assert head + reader.read() == kept
    writer.close()
    reader.close()
    # the daemon ends once nothing holds the mount, and exits cleanly
    proc = mfs.proc
    proc.wait(timeout=20)
    assert proc.returncode == 0, mfs.log_tail()
    mfs.proc = None
    assert read_file(mfs.s("INBOX", "cur", "written-at-unmount:2,")) == written
    mfs.mount()
    assert read_file(path) == written
    assert read_file(reading) == kept
