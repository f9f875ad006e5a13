"""Fixtures for the tests of `mailfs serve`, driven by clients we did not
write (Python's smtplib, poplib and imaplib, curl, mbsync).

Every test gets a fresh store under a private temporary directory and a
server on ports the kernel chooses (port 0); the ports are read from the
server's own log lines ("imap: listening on 127.0.0.1:PORT").  The server
is stopped with SIGTERM after the test, which must end it cleanly (exit
status 0, no sanitizer report).

The binary comes from the MAILFS environment variable, or build/mailfs.

Helpers:
  Server             a running `mailfs serve`; .port['imap'], .log(), .stop()
  USER, PASSWORD     the credentials every server is started with
  make_message()     an RFC 5322 message with CRLF line ends
  inbox_files()      the message files of the store's INBOX (cur/ and new/)
  wait_until()       poll a condition for a bounded time
"""

import email.utils
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAILFS = os.environ.get("MAILFS", os.path.join(REPO, "build", "mailfs"))

USER = "alice"
PASSWORD = "s3cret pass"
START_TIMEOUT = 20.0
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")


def wait_until(cond, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = cond()
        if value:
            return value
        time.sleep(step)
    return cond()


def make_message(subject="hello", body="Hello there.\r\n", sender="bob@example.org",
                 to="alice@example.org", extra_headers=()):
    lines = [
        "From: Bob <%s>" % sender,
        "To: Alice <%s>" % to,
        "Subject: %s" % subject,
        "Date: %s" % email.utils.formatdate(localtime=False),
        "Message-ID: %s" % email.utils.make_msgid(domain="example.org"),
    ]
    lines.extend(extra_headers)
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def write_password_file(path, password=PASSWORD, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    os.chmod(path, mode)
    return path


def inbox_files(store, folder="INBOX"):
    out = []
    for sub in ("cur", "new"):
        d = os.path.join(store, folder, sub)
        if os.path.isdir(d):
            out.extend(os.path.join(d, n) for n in sorted(os.listdir(d))
                       if not n.startswith("."))
    return out


class Server:
    """A `mailfs serve` on ephemeral ports of 127.0.0.1."""

    def __init__(self, store, workdir, protocols=("imap", "pop3", "smtp"),
                 extra_args=(), tls=None):
        self.store = store
        self.pwfile = write_password_file(os.path.join(workdir, "password"))
        args = [MAILFS, "serve", "--store", store, "--user", USER,
                "--password-file", self.pwfile]
        for proto in protocols:
            args += ["--" + proto, "127.0.0.1:0"]
        if tls:
            args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.lines = []
        self.port = {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        want = set(protocols)
        ok = wait_until(lambda: want <= set(self.port) or
                        self.proc.poll() is not None, START_TIMEOUT)
        if not ok or not want <= set(self.port):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("mailfs serve did not start:\n" + self.log())

    def _read(self):
        pat = re.compile(r"(\w+)( \(TLS\))?: listening on [\d.:\[\]a-f]*:(\d+)$")
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
            m = pat.search(line)
            if m:
                key = m.group(1) + ("s" if m.group(2) else "")
                self.port[key] = int(m.group(3))

    def log(self):
        with self._lock:
            return "\n".join(self.lines)

    def stop(self, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("mailfs serve did not stop on SIGTERM:\n" +
                                 self.log())
        self._reader.join(5)
        return rc


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="mailfs-serve-") as d:
        yield d


@pytest.fixture
def store(workdir):
    path = os.path.join(workdir, "store")
    return path


@pytest.fixture
def server(store, workdir):
    srv = Server(store, workdir)
    try:
        yield srv
    finally:
        rc = srv.stop()
        log = srv.log()
        for marker in SANITIZER_MARKERS:
            assert marker not in log, log
        assert rc == 0, "exit status %r\n%s" % (rc, log)


@pytest.fixture(scope="session")
def tls_files():
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    with tempfile.TemporaryDirectory(prefix="mailfs-serve-tls-") as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        yield cert, key


@pytest.fixture
def tls_server(store, workdir, tls_files):
    srv = Server(store, workdir, tls=tls_files,
                 protocols=("imap", "pop3", "smtp", "imaps", "pop3s",
                            "smtps"))
    srv.cafile = tls_files[0]
    try:
        yield srv
    finally:
        rc = srv.stop()
        assert rc == 0, srv.log()
