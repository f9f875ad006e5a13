"""One process at a time on a cache directory: a second mount of the same
cache is refused with a message naming the first, and the lock goes with
the process that held it, however it ended."""

import fcntl
import os
import signal
import subprocess

from conftest import (MAILFS, deliver, make_message, read_file,
                      unmount_path, wait_until)


def _second_mount(fs, mnt):
    """Mount fs's store and cache at mnt (in the background, so that a
    mount that wrongly comes up does not hold the test); its result."""
    os.makedirs(mnt, exist_ok=True)
    try:
        return subprocess.run(
            [MAILFS, "-o", "store=%s,cache_dir=%s" % (fs.store, fs.cache),
             mnt], stdin=subprocess.DEVNULL, capture_output=True, text=True,
            env=fs.env, timeout=60)
    finally:
        unmount_path(mnt)


def test_second_mount_of_a_cache_is_refused(mailfs_factory):
    fs = mailfs_factory()
    fs.mount()
    inbox = fs.m("INBOX")
    os.makedirs(inbox, exist_ok=True)
    # a message half written through the first mount: its bytes wait in
    # the cache's staging/, which a second process must leave alone
    tmp = os.path.join(inbox, "tmp", "half.msg")
    data = make_message(1, size=3000)
    with open(tmp, "wb") as f:
        f.write(data[:1000])
        f.flush()
        other = os.path.join(fs.base, "mnt2")
        r = _second_mount(fs, other)
        assert r.returncode != 0, r.stderr
        assert "its cache %s is in use by mailfs mounted at %s (pid %d)" % (
            fs.cache, fs.mnt, fs.proc.pid) in r.stderr, r.stderr
        assert not os.path.ismount(other)
        f.write(data[1000:])
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(inbox, "cur", "half.msg:2,S"))
    assert read_file(os.path.join(inbox, "cur", "half.msg:2,S")) == data
    assert not os.listdir(os.path.join(fs.cache, "rejected"))
    # the first mount goes on as before
    deliver(inbox, make_message(2))
    wait_until(lambda: len(os.listdir(fs.s("INBOX", "new"))) +
               len(os.listdir(fs.s("INBOX", "cur"))) == 2,
               what="both messages in the store")


def test_lock_is_released_on_unmount_and_on_kill(mailfs_factory):
    fs = mailfs_factory()
    fs.mount()
    fs.unmount()
    fs.mount()
    # a daemon killed outright leaves no lock behind: the kernel drops it
    fs.proc.send_signal(signal.SIGKILL)
    fs.proc.wait()
    fs.proc = None
    assert unmount_path(fs.mnt)
    fs.mount()
    deliver(fs.m("INBOX"), make_message(3))
    fs.unmount()


def test_a_holder_that_says_nothing_is_still_refused(mailfs_factory):
    """An empty or half-written owner line: the refusal still comes, with
    a message that does not make up a name."""
    fs = mailfs_factory()
    with open(os.path.join(fs.cache, "lock"), "wb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = _second_mount(fs, fs.mnt)
        assert r.returncode != 0, r.stderr
        assert "is in use by another mailfs process" in r.stderr, r.stderr
        f.write(b"mailfs mounted at /half")
        f.flush()
        r = _second_mount(fs, fs.mnt)
        assert r.returncode != 0, r.stderr
        assert "is in use by another mailfs process" in r.stderr, r.stderr
    fs.mount()
    fs.unmount()
