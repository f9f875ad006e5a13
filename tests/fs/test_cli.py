"""Bad command lines: a clear message on stderr and a non-zero exit, and
nothing left mounted."""

import os
import subprocess

import pytest

from conftest import MAILFS, unmount_path


def _run(fs, args, timeout=30):
    """Run mailfs (background mode, as a user would) with its output going to
    files, so that a daemon that wrongly stays up cannot hold a pipe open."""
    out_path = os.path.join(fs.base, "cli.out")
    err_path = os.path.join(fs.base, "cli.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        r = subprocess.run([MAILFS, *args], stdin=subprocess.DEVNULL,
                           stdout=out, stderr=err, env=fs.env, timeout=timeout)
    with open(err_path, "rb") as f:
        stderr = f.read().decode("utf-8", "replace")
    return r.returncode, stderr


def _opts(fs, store=None):
    return ["-o", "store=%s,cache_dir=%s" % (store or fs.store, fs.cache)]


def test_no_mountpoint_argument(mailfs_factory):
    fs = mailfs_factory()
    rc, err = _run(fs, _opts(fs))
    assert rc != 0
    assert err.strip(), "no message on stderr"


def test_missing_mountpoint(mailfs_factory):
    fs = mailfs_factory()
    missing = os.path.join(fs.base, "no", "such", "dir")
    rc, err = _run(fs, [*_opts(fs), missing])
    try:
        assert rc != 0, "mounting on a missing directory succeeded"
        assert err.strip(), "no message on stderr"
        assert missing in err or "no/such/dir" in err, \
            "message does not name the mount point: %r" % err
    finally:
        if os.path.ismount(missing):
            unmount_path(missing)


def test_already_mounted(mailfs_factory):
    fs = mailfs_factory().mount()
    other = mailfs_factory()
    rc, err = _run(other, ["-o", "store=%s,cache_dir=%s" % (other.store, other.cache),
                           fs.mnt])
    assert rc != 0, "mounting twice on the same mount point succeeded"
    assert err.strip(), "no message on stderr"
    assert fs.mnt in err, "message does not name the mount point: %r" % err
    # The first mount is unharmed.
    assert os.path.ismount(fs.mnt)
    assert os.path.isdir(fs.m("INBOX", "cur"))


def test_store_under_a_regular_file(mailfs_factory):
    fs = mailfs_factory()
    blocker = os.path.join(fs.base, "a-file")
    with open(blocker, "w") as f:
        f.write("not a directory\n")
    store = os.path.join(blocker, "store")
    rc, err = _run(fs, [*_opts(fs, store=store), fs.mnt])
    assert rc != 0, "mounting a store under a regular file succeeded"
    assert err.strip(), "no message on stderr"
    assert store in err or blocker in err, \
        "message does not name the store: %r" % err
    assert not os.path.ismount(fs.mnt)


def test_store_in_proc(mailfs_factory):
    fs = mailfs_factory()
    store = "/proc/mailfs-no-such-store"
    rc, err = _run(fs, [*_opts(fs, store=store), fs.mnt])
    assert rc != 0, "mounting a store under /proc succeeded"
    assert err.strip(), "no message on stderr"
    assert not os.path.ismount(fs.mnt)


def test_store_on_read_only_bind_mount(mailfs_factory):
    fs = mailfs_factory()
    ro = os.path.join(fs.base, "ro-store")
    os.mkdir(ro)
    r = subprocess.run(["mount", "--bind", ro, ro], stderr=subprocess.PIPE)
    if r.returncode != 0:
        pytest.skip("cannot make a bind mount here: %s" % r.stderr.decode().strip())
    try:
        r = subprocess.run(["mount", "-o", "remount,bind,ro", ro],
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            pytest.skip("cannot make a read-only bind mount here: %s"
                        % r.stderr.decode().strip())
        assert not os.access(ro, os.W_OK) or _cannot_write(ro)
        rc, err = _run(fs, [*_opts(fs, store=ro), fs.mnt])
        assert rc != 0, "mounting a read-only store succeeded"
        assert err.strip(), "no message on stderr"
        assert ro in err or "read-only" in err.lower() or "writ" in err.lower(), \
            "message does not say what is wrong with the store: %r" % err
        assert not os.path.ismount(fs.mnt)
    finally:
        unmount_path(fs.mnt)
        subprocess.run(["umount", ro], stderr=subprocess.DEVNULL)


def _cannot_write(d):
    try:
        fd = os.open(os.path.join(d, ".probe"), os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        return True
    os.close(fd)
    os.unlink(os.path.join(d, ".probe"))
    return False
