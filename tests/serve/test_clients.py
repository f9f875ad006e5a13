"""`mailfs serve` with clients we did not write beyond Python's: mbsync
pulling the store, curl speaking imap://, a mount of the same store seeing
what SMTP delivers, and many sessions at once."""

import imaplib
import os
import re
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


def test_mbsync_pushes_changes_back(server, workdir):
    from mbsync import run_mbsync, write_mbsyncrc
    near = os.path.join(workdir, "near")
    rc = write_mbsyncrc(os.path.join(workdir, "mbsyncrc"), near, "127.0.0.1",
                        server.port["imap"], USER, server.pwfile,
                        ssl_type="None", auth_mechs="LOGIN")
    with open(rc) as f:
        text = f.read()
    with open(rc, "w") as f:
        f.write(text.replace("Sync Pull", "Sync All"))
    res = run_mbsync(rc, timeout=120)
    assert res.returncode == 0, res.stdout
    # flag the welcome message, add one, in the near Maildir
    cur = os.path.join(near, "INBOX", "cur")
    new = os.path.join(near, "INBOX", "new")
    (first,) = [os.path.join(d, n) for d in (cur, new) for n in os.listdir(d)]
    base = os.path.basename(first).split(":")[0]
    os.rename(first, os.path.join(cur, base + ":2,FS"))
    mine = make_message(subject="pushed by mbsync").replace(b"\r\n", b"\n")
    with open(os.path.join(cur, "1700000002.M3P3.near:2,S"), "wb") as f:
        f.write(mine)
    res = run_mbsync(rc, timeout=120)
    assert res.returncode == 0, res.stdout
    held = {os.path.basename(p): open(p, "rb").read()
            for p in inbox_files(server.store)}
    assert any(n.endswith(":2,FS") for n in held), held.keys()
    pushed = [d for d in held.values() if b"pushed by mbsync" in d]
    assert len(pushed) == 1
    # mbsync marks what it uploads with an X-TUID header line of its own
    got = re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"",
                 pushed[0].replace(b"\r\n", b"\n"), count=1)
    assert got == mine


def test_fetchmail_takes_everything(server, workdir):
    fetchmail = shutil.which("fetchmail")
    if not fetchmail:
        pytest.skip("fetchmail is not installed (scripts/install-deps test)")
    sent = []
    for i in range(3):
        msg = make_message(subject="fetch me %d" % i)
        sent.append(msg)
        with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
            s.login(USER, PASSWORD)
            s.sendmail("b@example.org", ["a@example.org"], msg)
    out = os.path.join(workdir, "fetched")
    rcfile = os.path.join(workdir, "fetchmailrc")
    fd = os.open(rcfile, os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write('poll 127.0.0.1 service %d protocol POP3 uidl auth password\n'
                '  user "%s" password "%s"\n'
                '  sslproto "" no rewrite\n'
                '  mda "/bin/sh -c \'cat >> %s\'"\n'
                % (server.port["pop3"], USER, PASSWORD, out))
    env = dict(os.environ, FETCHMAILHOME=workdir, HOME=workdir)
    res = subprocess.run([fetchmail, "-f", rcfile, "--nosyslog"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr + server.log()
    data = open(out, "rb").read().replace(b"\r\n", b"\n")
    for msg in sent:
        body = msg.replace(b"\r\n", b"\n")
        assert body.split(b"\n\n", 1)[0].split(b"\n")[2] in data
    # fetched and deleted: DELE took effect at QUIT
    assert inbox_files(server.store) == []


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


LOAD_SECONDS = float(os.environ.get("MAILFS_SERVE_LOAD_SECONDS", "8"))


def test_many_sessions_at_once(server):
    """A bounded load: 50 IMAP sessions selecting, fetching and appending
    while SMTP delivers, for LOAD_SECONDS: 8 s in the suite, which also
    runs under AddressSanitizer (where 30 s of unthrottled appends and
    deliveries grow INBOX past what the server rescans in time);
    MAILFS_SERVE_LOAD_SECONDS=30 runs the issue's full 30 s.  Nothing fails,
    nothing is lost, every message has its own UID."""
    sessions = 50
    errors = []
    appended = [0] * sessions
    delivered = [0]
    end = time.monotonic() + LOAD_SECONDS

    def imap_worker(n):
        try:
            m = imaplib.IMAP4("127.0.0.1", server.port["imap"], timeout=60)
            m.login(USER, PASSWORD)
            r = 0
            while time.monotonic() < end:
                assert m.select("INBOX")[0] == "OK"
                typ, data = m.fetch("1:*", "(FLAGS RFC822.SIZE BODY.PEEK[HEADER])")
                assert typ == "OK"
                assert m.append("INBOX", None, None,
                                make_message(subject="load %d/%d" % (n, r)))[0] == "OK"
                appended[n] += 1
                r += 1
            m.logout()
        except Exception as e:      # reported below, with the server's log
            errors.append("imap %d: %r" % (n, e))

    def smtp_worker():
        try:
            with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=60) as s:
                s.login(USER, PASSWORD)
                while time.monotonic() < end:
                    s.sendmail("b@example.org", ["a@example.org"],
                               make_message(subject="delivery %d" % delivered[0]))
                    delivered[0] += 1
        except Exception as e:
            errors.append("smtp: %r" % e)

    threads = [threading.Thread(target=imap_worker, args=(n,))
               for n in range(sessions)] + [threading.Thread(target=smtp_worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(LOAD_SECONDS + 120)
    assert not errors, "\n".join(errors[:5]) + "\n" + server.log()[-3000:]
    subjects = []
    for p in inbox_files(server.store):
        for line in open(p, "rb").read().split(b"\r\n"):
            if line.startswith(b"Subject: "):
                subjects.append(line[9:])
                break
    assert len([s for s in subjects if s.startswith(b"load ")]) == sum(appended)
    assert len([s for s in subjects if s.startswith(b"delivery ")]) == delivered[0]
    assert all(appended) and delivered[0] > 0
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"])
    m.login(USER, PASSWORD)
    m.select("INBOX")
    uids = m.uid("SEARCH", "ALL")[1][0].split()
    assert len(uids) == len(set(uids)) == len(subjects)
    m.logout()
