"""The mount shows the store's layout: seeded folders, message files with the
store's bytes, sizes and dates, plus the .mailfs/ control directory."""

import os
import subprocess
import time

from conftest import (CTL_DIR, MAILFS, daemon_pids, fill_store, mail_tree,
                      message_files, read_file, tree_diff, unmount_path,
                      wait_pids_gone)


def test_seeded_store_layout_visible(mfs):
    # A new empty store is seeded with INBOX, Contacts/ and Calendar/.
    for folder in ("INBOX", "Contacts", "Calendar"):
        assert os.path.isdir(mfs.s(folder)), "store lacks %s" % folder
        assert os.path.isdir(mfs.m(folder)), "mount lacks %s" % folder
    for sub in ("cur", "new", "tmp"):
        assert os.path.isdir(mfs.m("INBOX", sub))
        assert os.path.isdir(mfs.s("INBOX", sub))
    top_mount = {n for n in os.listdir(mfs.mnt) if not n.startswith(".")}
    top_store = {n for n in os.listdir(mfs.store) if not n.startswith(".")}
    assert top_mount == top_store


def test_welcome_message_identical_to_store(mfs):
    msgs = message_files(mfs.m("INBOX"))
    assert len(msgs) == 1, "expected one welcome message, mount has %r" % msgs
    assert message_files(mfs.s("INBOX")) == msgs
    sub, name = msgs[0]
    data = read_file(mfs.m("INBOX", sub, name))
    assert data == read_file(mfs.s("INBOX", sub, name))
    assert b"\r\n\r\n" in data, "welcome message is not RFC 5322 with CRLF"
    assert b"Message-ID:" in data or b"Message-Id:" in data


def test_mount_tree_equals_store_tree(mfs):
    a, b = mail_tree(mfs.mnt), mail_tree(mfs.store)
    assert a == b, tree_diff(a, b)


def test_ctl_files_readable_and_not_in_store(mfs):
    assert os.path.isdir(mfs.m(CTL_DIR))
    for name in ("status", "errors"):
        data = read_file(mfs.m(CTL_DIR, name))
        data.decode("utf-8")  # plain text
    assert read_file(mfs.m(CTL_DIR, "status")).strip(), "status is empty"
    assert not os.path.exists(mfs.s(CTL_DIR))


def test_statfs(mfs):
    st = os.statvfs(mfs.mnt)
    assert st.f_bsize > 0
    assert st.f_namemax >= 255


def test_size_and_mtime_match_store(mailfs_factory):
    fs = mailfs_factory()
    date = 1_600_000_000  # 2020-09-13
    msgs = fill_store(fs.store, "INBOX", 5, size=7000, date=date)
    # One message with an older, distinct date.
    name = sorted(msgs)[0]
    os.utime(fs.s("INBOX", "cur", name), (date - 86400 * 30, date - 86400 * 30))
    fs.mount()
    for name, data in msgs.items():
        mst = os.stat(fs.m("INBOX", "cur", name))
        sst = os.stat(fs.s("INBOX", "cur", name))
        assert mst.st_size == sst.st_size == len(data)
        assert int(mst.st_mtime) == int(sst.st_mtime), name
        assert len(read_file(fs.m("INBOX", "cur", name))) == mst.st_size


def test_find_lists_every_store_file(mailfs_factory):
    fs = mailfs_factory()
    fill_store(fs.store, "INBOX", 20)
    fill_store(fs.store, "Archive/2024", 10)
    fs.mount()

    def files(root):
        # Dot-names are left out: .mailfs/ on the mount, the store's own
        # marker files in the store.
        cmd = ["find", ".", "-name", ".?*", "-prune", "-o",
               "-type", "f", "-print"]
        out = subprocess.run(cmd, cwd=root, check=True,
                             stdout=subprocess.PIPE).stdout
        return sorted(out.split(b"\n"))

    assert files(fs.mnt) == files(fs.store)


def test_background_mount_returns_when_ready(mailfs_factory):
    fs = mailfs_factory()
    cmd = [MAILFS, "-o", "store=%s,cache_dir=%s" % (fs.store, fs.cache), fs.mnt]
    with open(fs.log, "ab") as log:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT, env=fs.env, timeout=30)
    assert r.returncode == 0, fs.log_tail()
    # Ready when the command returns: no waiting.
    assert os.path.ismount(fs.mnt)
    assert os.path.isdir(fs.m("INBOX", "cur"))
    pids = daemon_pids(fs.mnt)
    assert unmount_path(fs.mnt)
    assert not wait_pids_gone(pids), "daemon still running after unmount"


def test_options_after_mountpoint(mailfs_factory):
    # mount.fuse style: options after the mount point.
    fs = mailfs_factory()
    cmd = [MAILFS, fs.mnt, "-o", "store=%s,cache_dir=%s" % (fs.store, fs.cache)]
    with open(fs.log, "ab") as log:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT, env=fs.env, timeout=30)
    assert r.returncode == 0, fs.log_tail()
    deadline = time.monotonic() + 10
    while not os.path.ismount(fs.mnt) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.ismount(fs.mnt)
    assert os.path.isdir(fs.m("INBOX", "cur"))
    assert os.path.isdir(fs.s("INBOX", "cur"))
    pids = daemon_pids(fs.mnt)
    assert unmount_path(fs.mnt)
    assert not wait_pids_gone(pids)
