"""POP3 servers that misbehave, scripted here on 127.0.0.1 (plain text,
one thread per session): no UIDL, a body cut short, a line that never
ends, a connection dropped in the middle of a body; and UIDLs that cannot
be file names as they are."""

import os
import socket
import threading
import time

import pytest

from conftest import pop3_account_keys
from dovecot import (write_mailfs_config,  # noqa: F401
                     write_password_file, imap_mount_factory)


def message(n, extra=b""):
    return (b"From: a@example.org\r\nSubject: m%d\r\n"
            b"Date: Mon, 01 Jan 2024 00:00:0%d +0000\r\n\r\n"
            b"body %d\r\n.starts with a dot\r\n%s" % (n, n, n, extra))


class ScriptedPop3:
    """A POP3 server: messages is a list of (uidl, bytes, how), where how
    is "ok", "short" (ends early with a proper "."), "drop" (the
    connection closes in the middle) or "endless" (one line without end).
    uidl=False: the server has no UIDL."""

    def __init__(self, messages, uidl=True, claims=None):
        self.messages = messages
        self.uidl = uidl
        # uidl -> the size LIST says, whatever is sent
        self.claims = claims or {}
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.sessions = 0
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.stop = True
        self.sock.close()

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.sessions += 1
            threading.Thread(target=self._session, args=(c,),
                             daemon=True).start()

    def _session(self, c):
        try:
            self._serve(c, c.makefile("rb"))
        except OSError:
            pass
        finally:
            c.close()

    def _serve(self, c, f):
        c.sendall(b"+OK scripted\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            words = line.decode().split()
            cmd = words[0].upper() if words else ""
            if cmd == "CAPA":
                caps = b"USER\r\nTOP\r\n" + (b"UIDL\r\n" if self.uidl else b"")
                c.sendall(b"+OK\r\n" + caps + b".\r\n")
            elif cmd in ("USER", "PASS", "NOOP", "DELE"):
                c.sendall(b"+OK\r\n")
            elif cmd == "QUIT":
                c.sendall(b"+OK bye\r\n")
                return
            elif cmd == "UIDL" and self.uidl:
                out = b"".join(b"%d %s\r\n" % (i + 1, u.encode())
                               for i, (u, _, _) in enumerate(self.messages))
                c.sendall(b"+OK\r\n" + out + b".\r\n")
            elif cmd == "LIST":
                out = b"".join(b"%d %d\r\n" % (i + 1, self.claims.get(
                    u, d if isinstance(d, int) else len(d)))
                    for i, (u, d, _) in enumerate(self.messages))
                c.sendall(b"+OK\r\n" + out + b".\r\n")
            elif cmd in ("RETR", "TOP"):
                _, data, how = self.messages[int(words[1]) - 1]
                if how == "big":
                    self._send_big(c, data, cmd == "TOP")
                    continue
                if cmd == "TOP":
                    how, data = "ok", data.split(b"\r\n\r\n")[0] + b"\r\n"
                stuffed = b"\r\n".join(b"." + l if l.startswith(b".") else l
                                       for l in data.split(b"\r\n"))
                if how == "ok":
                    c.sendall(b"+OK\r\n" + stuffed + b".\r\n")
                elif how == "short":
                    c.sendall(b"+OK\r\n" + stuffed[:len(stuffed) // 2] +
                              b"\r\n.\r\n")
                elif how == "drop":
                    c.sendall(b"+OK\r\n" + stuffed[:len(stuffed) // 2])
                    c.shutdown(socket.SHUT_RDWR)
                    return
                elif how == "endless":
                    c.sendall(b"+OK\r\n")
                    chunk = b"x" * 65536
                    deadline = time.monotonic() + 30
                    while not self.stop and time.monotonic() < deadline:
                        c.sendall(chunk)
            else:
                c.sendall(b"-ERR unknown command\r\n")

    def _send_big(self, c, size, top):
        """A message of `size` bytes, made as it is sent: a header, then
        lines of 78 letters; only the header for TOP."""
        head = (b"From: a@example.org\r\nSubject: big\r\n"
                b"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\n")
        c.sendall(b"+OK\r\n" + head)
        if top:
            c.sendall(b".\r\n")
            return
        line = b"y" * 78 + b"\r\n"
        chunk = line * 13443            # about 1 MiB
        left = size - len(head)
        while left >= len(chunk) and not self.stop:
            c.sendall(chunk)
            left -= len(chunk)
        rest = left % len(line)
        assert rest != 1, "a size this server cannot make"
        c.sendall(line * (left // len(line)) +
                  (b"z" * (rest - 2) + b"\r\n" if rest else b"") + b".\r\n")


@pytest.fixture
def scripted():
    made = []

    def make(*a, **kw):
        s = ScriptedPop3(*a, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def mount_on(server, factory, tmp_path, **keys):
    pw = write_password_file(str(tmp_path / "pw"), "secret-of-the-test")
    keys.setdefault("timeout", 3)
    kv = pop3_account_keys(port=server.port, tls="none", user="u",
                           password_file=pw, **keys)
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "pop3", kv)
    return factory(conf, "pop3")


def names(fs):
    return {n.split(":2,")[0]: os.path.join(fs.m("INBOX", sub), n)
            for sub in ("cur", "new") for n in os.listdir(fs.m("INBOX", sub))}


def test_no_uidl_is_a_clear_error(scripted, imap_mount_factory, tmp_path):
    srv = scripted([("a", message(1), "ok")], uidl=False)
    fail = mount_on(srv, imap_mount_factory, tmp_path).mount_fails()
    assert fail.returncode != 0
    assert ("server has no UIDL; POP3 accounts need it for stable names"
            in fail.output)


def test_odd_uidls_and_bodies(scripted, imap_mount_factory, tmp_path):
    msgs = [("a/b", message(1), "ok"), ("x:2,S", message(2), "ok"),
            (".dot", message(3), "ok"), ("50%25", message(4), "ok")]
    srv = scripted(msgs)
    fs = mount_on(srv, imap_mount_factory, tmp_path).mount()
    shown = names(fs)
    assert sorted(shown) == sorted(["a%2Fb", "x%3A2,S", "%2Edot",
                                    "50%2525"])
    for uidl, data, _ in msgs:
        from_id = {"a/b": "a%2Fb", "x:2,S": "x%3A2,S", ".dot": "%2Edot",
                   "50%25": "50%2525"}[uidl]
        with open(shown[from_id], "rb") as f:
            assert f.read() == data
        assert os.getxattr(shown[from_id], "user.mail.id").decode() \
            == from_id


@pytest.mark.parametrize("how", ["short", "drop", "endless"])
def test_broken_bodies_are_errors(scripted, imap_mount_factory, tmp_path,
                                  how):
    srv = scripted([("good", message(1), "ok"),
                    ("bad", message(2, b"padding\r\n" * 50), how)])
    fs = mount_on(srv, imap_mount_factory, tmp_path).mount()
    shown = names(fs)
    t0 = time.monotonic()
    with pytest.raises(OSError):
        with open(shown["bad"], "rb") as f:
            f.read()
    # bounded by the limits and the timeout (3 s), never a hang
    assert time.monotonic() - t0 < 20
    # the session is made again for what comes next
    with open(shown["good"], "rb") as f:
        assert f.read() == message(1)


MiB = 1024 * 1024


@pytest.fixture
def small_quarantine(monkeypatch):
    """An ASan build keeps freed memory aside (256 MiB of it by default)
    to catch its use, and a peak of memory counts it; the daemons of
    these tests keep a little."""
    opts = os.environ.get("ASAN_OPTIONS", "")
    monkeypatch.setenv("ASAN_OPTIONS",
                       (opts + ":" if opts else "") + "quarantine_size_mb=4")


def read_or_error(path):
    """The bytes of `path`, or the OSError reading it raised."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        return err


def test_a_huge_claim_is_bounded(scripted, imap_mount_factory, tmp_path,
                                 small_quarantine):
    """LIST says 10 GB and RETR sends 300 MiB: refused at the largest
    message, named, without the body ever being held in memory."""
    srv = scripted([("good", message(1), "ok"), ("huge", 300 * MiB, "big")],
                   claims={"huge": 10 * 1024 ** 3})
    fs = mount_on(srv, imap_mount_factory, tmp_path, timeout=20).mount()
    shown = names(fs)
    before = fs.vm_hwm_kb()
    got = read_or_error(shown["huge"])
    assert isinstance(got, OSError)
    grew = fs.vm_hwm_kb() - before
    assert grew < 48 * 1024, "the daemon's peak grew by %d KiB" % grew
    with open(fs.log, "rb") as f:
        log = f.read().decode(errors="replace")
    assert ("message huge is larger than 256 MiB, the most a POP3 "
            "message may be" in log), log[-3000:]
    # the session is made again for what comes next
    with open(shown["good"], "rb") as f:
        assert f.read() == message(1)


def test_a_large_message_is_kept_on_disk(scripted, imap_mount_factory,
                                         tmp_path, small_quarantine):
    """A true 48 MiB message is read whole, past memory."""
    size = 48 * MiB
    srv = scripted([("large", size, "big")])
    fs = mount_on(srv, imap_mount_factory, tmp_path, timeout=20).mount()
    shown = names(fs)
    before = fs.vm_hwm_kb()
    with open(shown["large"], "rb") as f:
        n, tail = 0, b""
        while True:
            block = f.read(MiB)
            if not block:
                break
            n += len(block)
            tail = (tail + block)[-100:]
    assert n == size
    assert tail.endswith(b"\r\n") and b"yyyy" in tail
    grew = fs.vm_hwm_kb() - before
    assert grew < 24 * 1024, "the daemon's peak grew by %d KiB" % grew


def test_more_than_listed_is_refused(scripted, imap_mount_factory,
                                     tmp_path, small_quarantine):
    """LIST says 2 KiB and RETR sends 300 MiB: refused early, named."""
    srv = scripted([("liar", 300 * MiB, "big")], claims={"liar": 2048})
    fs = mount_on(srv, imap_mount_factory, tmp_path, timeout=20).mount()
    shown = names(fs)
    before = fs.vm_hwm_kb()
    t0 = time.monotonic()
    got = read_or_error(shown["liar"])
    assert isinstance(got, OSError)
    assert time.monotonic() - t0 < 20
    grew = fs.vm_hwm_kb() - before
    assert grew < 16 * 1024, "the daemon's peak grew by %d KiB" % grew
    with open(fs.log, "rb") as f:
        log = f.read().decode(errors="replace")
    assert ("message liar is longer than the 2048 bytes the server listed "
            "for it" in log), log[-3000:]
