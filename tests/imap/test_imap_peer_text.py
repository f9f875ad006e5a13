"""Text from an IMAP server never reaches a terminal or a log as it came:
the scripted server of tests/harness/fakeimap.py puts escape sequences
(a window title, a bell, a screen clear, its 8-bit CSI form) into its
greeting, its NO and BYE texts, and the stderr of the mount and of
`mailfs sync`, the daemon's log and .mailfs/errors must hold no byte
below 0x20 but newline and tab, no DEL and no C1 control: the server's
bytes show written out as \\xHH."""

import errno
import os
import re
import subprocess
import time

import pytest

from dovecot import make_message
from fakeimap import FakeIMAP, greeting, mailbox, session, first_time

TIMEOUT = 3
# IMAP text holds no CR or LF (the parser refuses them), but any other byte
NASTY = b"\x1b]0;owned\x07\x1b[2J\x9b2J\x7f done"
SHOWN = "\\x1b]0;owned\\x07\\x1b[2J\\x9b2J\\x7f done"
MSG = make_message(1, date=1700000000, msgid="<text-1@test.example>")
NAME = "V0000000001U0000000001:2,S"


@pytest.fixture
def fake_factory():
    made = []

    def make(script, **kw):
        kw.setdefault("max_seconds", 20.0)
        fake = FakeIMAP(script, **kw).start()
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.stop()


def make_fs(fake, imap_mount_factory, tmp_path, **keys):
    keys.setdefault("timeout", TIMEOUT)
    keys.setdefault("poll_interval", 2)
    conf = fake.mailfs_config(str(tmp_path / ("conf%d" % fake.port)), **keys)
    fs = imap_mount_factory(conf, "fake")
    fs.conf = conf
    return fs


def sync(fs):
    """`mailfs sync` of the account; returns its stderr (str)."""
    r = subprocess.run([fs.command()[0], "sync", "--config", fs.conf, "-o",
                        "cache_dir=%s" % fs.cache, "fake"],
                       capture_output=True, timeout=60)
    return r.returncode, r.stderr.decode("utf-8", "replace")


def no_controls(text, where):
    """No byte below 0x20 but newline and tab, no DEL, no C1 control and
    no byte that is not UTF-8."""
    assert "\ufffd" not in text, "not UTF-8 in %s:\n%r" % (where,
                                                         text[-3000:])
    bad = sorted({c for c in text if (c < " " and c not in "\n\t")
                  or "\x7f" <= c <= "\x9f"})
    assert not bad, "control bytes %r in %s:\n%r" % (bad, where, text[-3000:])


def log_of(fs):
    with open(fs.log, "rb") as f:
        return f.read().decode("utf-8", "replace")


def test_refusing_greeting(fake_factory, imap_mount_factory, tmp_path):
    fake = fake_factory([("send", b"* BYE " + NASTY + b"\r\n"), ("close",)])
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    rc, err = sync(fs)
    assert rc != 0 and SHOWN in err, err
    no_controls(err, "the stderr of mailfs sync")
    # no cache yet: the first listing fails the mount
    fail = fs.mount_fails()
    assert fail.returncode == 1, fail.output
    m = re.search(r".*the server refused the connection.*", fail.output)
    assert m and SHOWN in m.group(0), fail.output
    no_controls(fail.output, "the output of the failed mount")


def test_greeting_and_refused_login(fake_factory, imap_mount_factory,
                                    tmp_path):
    script = [("send", b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] " + NASTY +
               b"\r\n"),
              ("expect", rb"LOGIN|AUTHENTICATE"),
              ("send", b"{tag} NO [AUTHENTICATIONFAILED] " + NASTY +
               b"\r\n"),
              ("close",)]
    fake = fake_factory(script)
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    rc, err = sync(fs)
    assert rc != 0 and SHOWN in err, err
    no_controls(err, "the stderr of mailfs sync")
    fail = fs.mount_fails()
    assert fail.returncode == 1 and SHOWN in fail.output, fail.output
    no_controls(fail.output, "the output of the failed mount")


def test_no_and_bye_in_a_session(fake_factory, imap_mount_factory,
                                 tmp_path):
    hook = first_time([("send", b"{tag} NO [UNAVAILABLE] " + NASTY +
                        b"\r\n"),
                       ("send", b"* BYE " + NASTY + b"\r\n"), ("close",)])
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    # one connection: the BYE waits on the connection the read used, and
    # is read when that connection is next taken from the pool; with
    # several, the poller may keep taking another one
    fs = make_fs(fake, imap_mount_factory, tmp_path, connections=1).mount()
    with pytest.raises(OSError) as exc:
        with open(fs.m("INBOX", "cur", NAME), "rb") as f:
            f.read()
    assert exc.value.errno in (errno.EIO, errno.EAGAIN), exc.value
    with open(fs.m(".mailfs", "errors"), "rb") as f:
        errors = f.read().decode("utf-8", "replace")
    assert SHOWN in errors, errors
    no_controls(errors, ".mailfs/errors")
    deadline = time.monotonic() + 10
    while "closes the connection" not in log_of(fs):
        assert time.monotonic() < deadline, log_of(fs)
        time.sleep(0.1)
        os.listdir(fs.m("INBOX", "cur"))
    # the next read asks again and gets the message
    with open(fs.m("INBOX", "cur", NAME), "rb") as f:
        assert f.read() == MSG
    fs.unmount()
    log = log_of(fs)
    assert re.search(r"closes the connection: " + re.escape(SHOWN), log), log
    no_controls(log, "the log")
