"""Dot-directories at the top of the mount (.notmuch, .mu, ...) are plain
local directories: in the embedded store they are the store's own
dot-directories, they work like a local disk, and they are never folders,
neither on the mount nor for `mailfs serve`."""

import errno
import fcntl
import importlib.util
import imaplib
import os
import poplib
import shutil
import stat
import subprocess

import pytest

from conftest import (CTL_DIR, assert_errno, fill_store, message_files,
                      read_file, write_file)

HERE = os.path.dirname(os.path.abspath(__file__))


def _serve_conftest():
    # loaded under its own name: tests/serve has a conftest of its own
    path = os.path.join(os.path.dirname(HERE), "serve", "conftest.py")
    spec = importlib.util.spec_from_file_location("mailfs_serve_conftest",
                                                  path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run(cmd, env):
    return subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=120)


def notmuch_env(fs, root):
    """An environment whose notmuch keeps its database in the default
    place, ROOT/.notmuch."""
    config = os.path.join(fs.base, "notmuch-config")
    with open(config, "w") as f:
        f.write("[database]\npath=%s\n\n"
                "[user]\nname=Test User\nprimary_email=test@example.org\n\n"
                "[new]\ntags=unread;inbox;\nignore=%s;Contacts;Calendar\n\n"
                "[search]\nexclude_tags=\n\n"
                "[maildir]\nsynchronize_flags=false\n" % (root, CTL_DIR))
    return dict(fs.env, NOTMUCH_CONFIG=config)


def notmuch_count(env, query):
    r = _run(["notmuch", "count", query], env)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def test_notmuch_default_layout_on_the_mount(mailfs_factory):
    if shutil.which("notmuch") is None:
        pytest.skip("notmuch is not installed (Debian package notmuch)")
    fs = mailfs_factory()
    fill_store(fs.store, "INBOX", 20, size=2000)
    fill_store(fs.store, "Archive/2024", 5, start=100)
    fs.mount()
    env = notmuch_env(fs, fs.mnt)
    r = _run(["notmuch", "new"], env)
    assert r.returncode == 0, r.stderr
    assert notmuch_count(env, "*") == 25
    assert ".notmuch" in os.listdir(fs.mnt)
    # the store's dot-directory is the mount's, and no folder
    assert os.path.isdir(fs.s(".notmuch", "xapian"))
    r = _run(["notmuch", "tag", "+kept-across", "--",
              'subject:"Test message 103"'], env)
    assert r.returncode == 0, r.stderr
    assert notmuch_count(env, "tag:kept-across") == 1
    fs.remount()
    assert notmuch_count(env, "tag:kept-across") == 1
    r = _run(["notmuch", "search", "--output=files", "tag:kept-across"], env)
    assert r.returncode == 0 and r.stdout.startswith(
        fs.m("Archive", "2024", "cur")), r.stdout + r.stderr
    # a second pass finds nothing new and no folder appeared
    r = _run(["notmuch", "new"], env)
    assert r.returncode == 0 and "No new mail" in r.stdout, r.stdout
    status = read_file(fs.m(CTL_DIR, "status")).decode()
    assert "folders: 2\n" in status, status
    assert "local: %s\n" % os.path.realpath(fs.store) in status, status
    fs.unmount()

    # `mailfs serve` on the same store does not serve it as a folder
    srv_mod = _serve_conftest()
    srv = srv_mod.Server(fs.store, fs.base, protocols=("imap", "pop3"))
    try:
        c = imaplib.IMAP4("127.0.0.1", srv.port["imap"])
        c.login(srv_mod.USER, srv_mod.PASSWORD)
        typ, lines = c.list()
        assert typ == "OK"
        listed = b"\n".join(lines)
        assert b"INBOX" in listed and b"Archive/2024" in listed
        assert b"notmuch" not in listed and b"xapian" not in listed, listed
        typ, _ = c.select(".notmuch")
        assert typ == "NO"
        typ, _ = c.select(".notmuch/xapian")
        assert typ == "NO"
        c.logout()
        p = poplib.POP3("127.0.0.1", srv.port["pop3"])
        p.user(srv_mod.USER)
        p.pass_(srv_mod.PASSWORD)
        assert p.stat()[0] == 20
        p.quit()
    finally:
        assert srv.stop() == 0, srv.log()
        for marker in srv_mod.SANITIZER_MARKERS:
            assert marker not in srv.log(), srv.log()
    # ... nor does the mount after the server kept its state there
    assert os.path.isdir(fs.s(".mailfs-serve"))
    fs.mount()
    top = os.listdir(fs.mnt)
    assert ".notmuch" in top and ".mailfs-serve" not in top, top
    assert not os.path.exists(fs.m(".mailfs-serve"))
    assert notmuch_count(env, "tag:kept-across") == 1


def test_dot_file_operations(mfs):
    top = mfs.m(".mu")
    os.mkdir(top, 0o755)
    assert stat.S_ISDIR(os.stat(mfs.s(".mu")).st_mode)
    # write, pwrite, read, truncate, fsync
    path = os.path.join(top, "data")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        assert os.write(fd, b"hello world") == 11
        assert os.pwrite(fd, b"HELLO", 0) == 5
        os.fsync(fd)
        os.fdatasync(fd)
        assert os.pread(fd, 100, 0) == b"HELLO world"
        os.ftruncate(fd, 5)
    finally:
        os.close(fd)
    assert read_file(path) == b"HELLO"
    assert read_file(mfs.s(".mu", "data")) == b"HELLO"
    os.truncate(path, 2)
    assert os.stat(path).st_size == 2
    with open(path, "ab") as f:
        f.write(b"-appended")
    assert read_file(path) == b"HE-appended"
    # mode and times
    os.chmod(path, 0o600)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(mfs.s(".mu", "data")).st_mode) == 0o600
    os.utime(path, (1000000000, 1200000000))
    st = os.stat(path)
    assert (st.st_atime, st.st_mtime) == (1000000000, 1200000000)
    assert os.stat(mfs.s(".mu", "data")).st_mtime == 1200000000
    # extended attributes are the file's own
    os.setxattr(path, "user.tag", b"\x00binary\xff")
    assert os.getxattr(path, "user.tag") == b"\x00binary\xff"
    assert "user.tag" in os.listxattr(path)
    assert os.getxattr(mfs.s(".mu", "data"), "user.tag") == b"\x00binary\xff"
    os.removexattr(path, "user.tag")
    assert "user.tag" not in os.listxattr(mfs.s(".mu", "data"))
    with pytest.raises(OSError) as e:
        os.getxattr(path, "user.tag")
    assert_errno(e, errno.ENODATA)
    # rename, hard link, symlink, readlink
    os.rename(path, os.path.join(top, "renamed"))
    assert sorted(os.listdir(top)) == ["renamed"]
    os.link(os.path.join(top, "renamed"), os.path.join(top, "linked"))
    assert os.stat(os.path.join(top, "linked")).st_nlink == 2
    assert os.stat(os.path.join(top, "linked")).st_ino == \
        os.stat(os.path.join(top, "renamed")).st_ino
    os.symlink("renamed", os.path.join(top, "sym"))
    assert os.readlink(os.path.join(top, "sym")) == "renamed"
    assert read_file(os.path.join(top, "sym")) == b"HE-appended"
    assert os.path.islink(mfs.s(".mu", "sym"))
    assert os.listxattr(os.path.join(top, "sym"), follow_symlinks=False) == []
    # sub-directories, rename between them and to the top
    os.makedirs(os.path.join(top, "a", "b"))
    os.rename(os.path.join(top, "linked"), os.path.join(top, "a", "b", "x"))
    os.rename(os.path.join(top, "a"), mfs.m(".moved"))
    assert read_file(mfs.m(".moved", "b", "x")) == b"HE-appended"
    with pytest.raises(OSError) as e:
        os.rmdir(mfs.m(".moved"))
    assert_errno(e, errno.ENOTEMPTY)
    os.unlink(mfs.m(".moved", "b", "x"))
    os.rmdir(mfs.m(".moved", "b"))
    os.rmdir(mfs.m(".moved"))
    assert not os.path.exists(mfs.s(".moved"))
    # a plain file at the top
    write_file(mfs.m(".mbsyncstate"), b"state\n")
    assert read_file(mfs.s(".mbsyncstate")) == b"state\n"
    assert {".mu", ".mbsyncstate", CTL_DIR} <= set(os.listdir(mfs.mnt))
    # statfs is the local disk's
    assert os.statvfs(top).f_blocks == os.statvfs(mfs.store).f_blocks
    # rm -rf
    shutil.rmtree(top)
    assert not os.path.exists(top) and not os.path.exists(mfs.s(".mu"))
    # nothing of it is mail
    status = read_file(mfs.m(CTL_DIR, "status")).decode()
    assert "folders: 3\n" in status, status


def test_dot_locks(mfs):
    os.mkdir(mfs.m(".db"))
    path = mfs.m(".db", "lock")
    write_file(path, b"")
    fd1 = os.open(path, os.O_RDWR)
    fd2 = os.open(path, os.O_RDWR)
    try:
        # flock: per open file, so the second open is shut out
        fcntl.flock(fd1, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd1, fcntl.LOCK_UN)
        fcntl.flock(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd2, fcntl.LOCK_UN)
        # POSIX record locks: per process, so another process is shut out
        fcntl.lockf(fd1, fcntl.LOCK_EX | fcntl.LOCK_NB)
        probe = ("import fcntl, os, sys\n"
                 "fd = os.open(sys.argv[1], os.O_RDWR)\n"
                 "try:\n"
                 "    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                 "except BlockingIOError:\n"
                 "    sys.exit(3)\n")
        r = subprocess.run(["/usr/bin/python3", "-c", probe, path])
        assert r.returncode == 3, "a second process took a held lock"
        fcntl.lockf(fd1, fcntl.LOCK_UN)
        r = subprocess.run(["/usr/bin/python3", "-c", probe, path])
        assert r.returncode == 0
    finally:
        os.close(fd1)
        os.close(fd2)


def test_dot_tree_stays_apart_from_mail(mfs):
    os.mkdir(mfs.m(".notmuch"))
    write_file(mfs.m(".notmuch", "f"), b"local\n")
    msgs = message_files(mfs.m("INBOX"))
    assert msgs
    sub, name = msgs[0]
    # neither way across, files or directories: it cannot become mail
    for src, dst in [(mfs.m(".notmuch", "f"), mfs.m("INBOX", "cur", "f")),
                     (mfs.m(".notmuch"), mfs.m("INBOX", ".notmuch")),
                     (mfs.m(".notmuch"), mfs.m("Local")),
                     (mfs.m("INBOX", sub, name), mfs.m(".notmuch", "m")),
                     (mfs.m("INBOX"), mfs.m(".inbox"))]:
        with pytest.raises(OSError) as e:
            os.rename(src, dst)
        assert_errno(e, errno.EXDEV)
    with pytest.raises(OSError) as e:
        os.link(mfs.m(".notmuch", "f"), mfs.m("INBOX", "cur", "g"))
    assert_errno(e, errno.EXDEV)
    with pytest.raises(OSError) as e:
        os.symlink("x", mfs.m("INBOX", "cur", "l"))
    assert_errno(e, errno.EPERM)
    # mv(1) copies after EXDEV, and the store refuses a dot-folder
    r = subprocess.run(["mv", mfs.m(".notmuch"), mfs.m("INBOX")],
                       capture_output=True)
    assert r.returncode != 0
    assert os.path.exists(mfs.m(".notmuch", "f"))
    assert not os.path.exists(mfs.s("INBOX", ".notmuch"))
    # the names of mailfs itself cannot be made or taken
    for name in (CTL_DIR, ".mailfs-serve", ".mailfs-anything"):
        with pytest.raises(OSError) as e:
            os.mkdir(mfs.m(name))
        assert_errno(e, errno.EPERM, errno.EEXIST)
        with pytest.raises(OSError) as e:
            os.rename(mfs.m(".notmuch"), mfs.m(name))
        assert_errno(e, errno.EPERM)
    with pytest.raises(OSError) as e:
        write_file(mfs.m(".mailfs-x"), b"no")
    assert_errno(e, errno.EPERM)
    assert sorted(os.listdir(mfs.m(CTL_DIR))) == ["errors", "flush", "status"]
    # the store's own dot-names stay hidden, and out of reach
    os.makedirs(mfs.s(".mailfs-serve", "uids"))
    write_file(mfs.s(".mailfs-serve", "uids", "map"), b"state")
    assert ".mailfs-serve" not in os.listdir(mfs.mnt)
    with pytest.raises(FileNotFoundError):
        os.stat(mfs.m(".mailfs-serve", "uids", "map"))
    with pytest.raises(OSError) as e:
        os.rmdir(mfs.m(".mailfs-serve"))
    assert_errno(e, errno.ENOENT)
    assert os.path.exists(mfs.s(".mailfs-serve", "uids", "map"))
    # '..' is the mount's, never the local directory's parent
    assert os.stat(mfs.m(".notmuch", "..")).st_ino == os.stat(mfs.mnt).st_ino
    assert sorted(os.listdir(mfs.m(".notmuch", ".."))) == \
        sorted(os.listdir(mfs.mnt))
    # a link is read, never followed on the local side: "../secret" from
    # the store's .notmuch would be the store's own file
    write_file(mfs.s("secret"), b"store-side\n")
    os.symlink("../secret", mfs.s(".notmuch", "up"))
    assert os.readlink(mfs.m(".notmuch", "up")) == "../secret"
    with pytest.raises(FileNotFoundError):
        read_file(mfs.m(".notmuch", "up"))
    with pytest.raises(OSError) as e:
        with open(mfs.m(".notmuch", "up"), "wb") as f:
            f.write(b"through the link")
    assert_errno(e, errno.EPERM, errno.ENOENT)
    assert read_file(mfs.s("secret")) == b"store-side\n"
    shutil.rmtree(mfs.m(".notmuch"))
    assert not os.path.exists(mfs.s(".notmuch"))


def test_dot_inode_numbers(mfs):
    os.mkdir(mfs.m(".idx"))
    write_file(mfs.m(".idx", "a"), b"a")
    inos = {p: os.lstat(mfs.m(*p)).st_ino for p in [(".idx",), (".idx", "a")]}
    mail = {os.lstat(os.path.join(d, n)).st_ino
            for d, _, files in os.walk(mfs.m("INBOX")) for n in files}
    mail.add(os.lstat(mfs.m("INBOX")).st_ino)
    assert not set(inos.values()) & mail
    assert len(set(inos.values())) == 2
    mfs.remount()
    assert {p: os.lstat(mfs.m(*p)).st_ino for p in inos} == inos
