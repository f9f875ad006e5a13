"""`mailfs serve` with clients we did not write beyond Python's: mbsync
pulling the store, curl speaking imap://, a mount of the same store seeing
what SMTP delivers, and many sessions at once."""

import imaplib
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import threading
import time

import pytest

from conftest import (MAILFS, PASSWORD, USER, inbox_files, make_message,
                      wait_until)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "harness"))


def store_messages(store):
    """folder -> sorted list of message bytes, for every mail folder."""
    out = {}
    for dirpath, dirnames, _ in os.walk(store):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if os.path.isdir(os.path.join(dirpath, "cur")):
            folder = os.path.relpath(dirpath, store)
            out[folder] = sorted(open(p, "rb").read()
                                 for p in inbox_files(store, folder))
    return out


def test_mbsync_pulls_byte_identical(server, workdir):
    from mbsync import as_server_bytes, run_mbsync, write_mbsyncrc
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"])
    m.login(USER, PASSWORD)
    m.create("Archive/2024")
    for i in range(5):
        m.append("INBOX", None, None, make_message(subject="pull %d" % i))
        m.append("Archive/2024", r"(\Seen)", None,
                 make_message(subject="old %d" % i, body="x\r\n" * (i * 50)))
    m.logout()
    near = os.path.join(workdir, "near")
    rc = write_mbsyncrc(os.path.join(workdir, "mbsyncrc"), near, "127.0.0.1",
                        server.port["imap"], USER, server.pwfile,
                        ssl_type="None", auth_mechs="LOGIN")
    res = run_mbsync(rc, timeout=120)
    assert res.returncode == 0, res.stdout + "\n" + server.log()
    want = store_messages(server.store)
    got = {}
    for folder in want:
        got[folder] = sorted(as_server_bytes(open(p, "rb").read())
                             for p in inbox_files(near, folder))
    assert got == want
    # a second run finds nothing to do and changes nothing
    res = run_mbsync(rc, timeout=120)
    assert res.returncode == 0, res.stdout


def curl(*args, data=None):
    return subprocess.run(["curl", "-sS", "--user", "%s:%s" % (USER, PASSWORD)]
                          + list(args), input=data, capture_output=True,
                          check=True, timeout=30).stdout


def test_curl_imap(server, workdir):
    url = "imap://127.0.0.1:%d/" % server.port["imap"]
    listing = curl(url)
    assert b'"INBOX"' in listing
    msg = make_message(subject="uploaded by curl")
    path = os.path.join(workdir, "up.eml")
    with open(path, "wb") as f:
        f.write(msg)
    curl(url + "INBOX", "-T", path)
    assert msg in [open(p, "rb").read() for p in inbox_files(server.store)]
    uids = curl(url + "INBOX", "-X", "UID SEARCH SUBJECT curl")
    uid = int(uids.split()[-1])
    assert curl(url + "INBOX;UID=%d" % uid) == msg
    assert curl(url + "INBOX;UID=%d;SECTION=HEADER.FIELDS%%20(SUBJECT)" % uid) \
        == b"Subject: uploaded by curl\r\n\r\n"


def fuse_missing():
    if not os.path.exists("/dev/fuse") or not shutil.which("fusermount3"):
        return "this machine cannot mount FUSE file systems"
    return None


@pytest.mark.skipif(fuse_missing() is not None, reason=str(fuse_missing()))
def test_mount_sees_smtp_delivery_and_imap_sees_mount(server, workdir):
    mnt = os.path.join(workdir, "mnt")
    cache = os.path.join(workdir, "cache")
    os.makedirs(mnt)
    proc = subprocess.Popen([MAILFS, "-f", "-o", "store=%s,cache_dir=%s" %
                             (server.store, cache), mnt],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_until(lambda: os.path.ismount(mnt), 20)
        msg = make_message(subject="seen through the mount")
        with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
            s.login(USER, PASSWORD)
            s.sendmail("b@example.org", ["a@example.org"], msg)

        def on_mount():
            for sub in ("new", "cur"):
                d = os.path.join(mnt, "INBOX", sub)
                for n in os.listdir(d):
                    with open(os.path.join(d, n), "rb") as f:
                        if f.read().endswith(msg):
                            return True
            return False
        assert wait_until(on_mount, 10)
        # a message written into the mount is there for IMAP
        m = imaplib.IMAP4("127.0.0.1", server.port["imap"])
        m.login(USER, PASSWORD)
        m.select("INBOX")
        before = len(m.search(None, "ALL")[1][0].split())
        name = "1700000001.M2P2.mount"
        mine = make_message(subject="written into the mount")
        with open(os.path.join(mnt, "INBOX", "tmp", name), "wb") as f:
            f.write(mine)
        os.rename(os.path.join(mnt, "INBOX", "tmp", name),
                  os.path.join(mnt, "INBOX", "new", name))
        assert wait_until(lambda: m.noop() and len(
            m.search(None, "ALL")[1][0].split()) == before + 1, 10)
        uid = m.uid("SEARCH", "SUBJECT", '"written into the mount"')[1][0]
        assert m.uid("FETCH", uid, "(BODY.PEEK[])")[1][0][1] == mine
        m.logout()
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def test_many_sessions_at_once(server):
    """A bounded load: IMAP sessions selecting, fetching and appending while
    SMTP delivers; nothing fails, nothing is lost."""
    sessions, rounds, deliveries = 16, 3, 12
    errors = []
    end = time.monotonic() + 20

    def imap_worker(n):
        try:
            m = imaplib.IMAP4("127.0.0.1", server.port["imap"], timeout=30)
            m.login(USER, PASSWORD)
            for r in range(rounds):
                assert m.select("INBOX")[0] == "OK"
                typ, data = m.fetch("1:*", "(FLAGS RFC822.SIZE BODY.PEEK[HEADER])")
                assert typ == "OK"
                assert m.append("INBOX", None, None,
                                make_message(subject="load %d/%d" % (n, r)))[0] == "OK"
                if time.monotonic() > end:
                    break
            m.logout()
        except Exception as e:      # reported below, with the server's log
            errors.append("imap %d: %r" % (n, e))

    def smtp_worker():
        try:
            with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=30) as s:
                s.login(USER, PASSWORD)
                for i in range(deliveries):
                    s.sendmail("b@example.org", ["a@example.org"],
                               make_message(subject="delivery %d" % i))
        except Exception as e:
            errors.append("smtp: %r" % e)

    threads = [threading.Thread(target=imap_worker, args=(n,))
               for n in range(sessions)] + [threading.Thread(target=smtp_worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, "\n".join(errors) + "\n" + server.log()
    subjects = []
    for p in inbox_files(server.store):
        for line in open(p, "rb").read().split(b"\r\n"):
            if line.startswith(b"Subject: "):
                subjects.append(line[9:])
                break
    assert len([s for s in subjects if s.startswith(b"load ")]) == sessions * rounds
    assert len([s for s in subjects if s.startswith(b"delivery ")]) == deliveries
    # every message has its own UID, in one SELECT
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"])
    m.login(USER, PASSWORD)
    m.select("INBOX")
    uids = m.uid("SEARCH", "ALL")[1][0].split()
    assert len(uids) == len(set(uids)) == len(subjects)
    m.logout()
