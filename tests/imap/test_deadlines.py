"""No FUSE call waits longer than the account's timeout, whatever the IMAP
server does: it trickles a body a byte at a time (the scripted server of
tests/harness/fakeimap.py), never says a word (a first mount), or stops
answering in the middle of a session (a real Dovecot stopped with SIGSTOP).
While it is stopped, what the cache holds reads as always; when it goes on,
so does the mount.

Each FUSE call is timed from here and must end within TIMEOUT + MARGIN.
"""

import errno
import os
import signal
import threading
import time

import pytest

from fakeimap import FakeIMAP, first_time, mailbox, never_answers, session
from dovecot import DEFAULT_USERS, make_message, running_dovecot
import timing

TIMEOUT = 3                 # the accounts' timeout, seconds
MARGIN = 2.0                # what a FUSE call may take beyond it
QUICK = 1.0                 # what a call answered from the cache may take
SYNC = 20.0                 # seconds a change may take to cross over

MSG = make_message(1, date=1700000000, msgid="<deadline-1@test.example>")
NAME = "V0000000001U0000000001:2,S"


def timed(what, fn, bound=TIMEOUT + MARGIN):
    return timing.timed(what, fn, bound)


def read(path):
    with open(path, "rb") as f:
        return f.read()


@pytest.fixture
def fake_factory():
    made = []

    def make(script, **kw):
        kw.setdefault("max_seconds", 60.0)
        fake = FakeIMAP(script, **kw).start()
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.stop()


def fake_fs(fake, imap_mount_factory, tmp_path):
    conf = fake.mailfs_config(str(tmp_path / ("conf%d" % fake.port)),
                              timeout=TIMEOUT, poll_interval=2)
    return imap_mount_factory(conf, "fake")


# ---------------------------------------------------------------------------
# A body that trickles in a byte a second: each read gets its byte long
# before the timeout, so only a deadline for the whole fetch ends it.

def trickle(announced=5000, seconds=40):
    steps = [("send", b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % announced)]
    for _ in range(seconds):
        steps += [("send", b"X"), ("sleep", 1.0)]
    return steps + [("close",)]


def test_trickled_body_is_cut_off_at_the_timeout(fake_factory,
                                                 imap_mount_factory,
                                                 tmp_path):
    hook = first_time(trickle())
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    fs = fake_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    out, took = timed("reading a trickled body", lambda: read(path))
    assert isinstance(out, OSError) and out.errno == errno.EIO, out
    assert took >= TIMEOUT - 0.5, "failed after %.1f s, before the " \
        "timeout" % took
    assert hook.count == 1
    # the server answers normally again: so does the mount
    out, _ = timed("reading the body again", lambda: read(path))
    assert out == MSG
    fs.unmount()


def test_large_body_that_keeps_flowing_is_not_cut_off(fake_factory,
                                                      imap_mount_factory,
                                                      tmp_path):
    # 1 MiB in 128 KiB pieces a second apart: longer than the timeout in
    # all, but data keeps coming, so the fetch goes on to the end
    big = make_message(3, msgid="<deadline-big@test.example>",
                       size=1 << 20)
    piece = 128 << 10
    steps = [("send", b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % len(big))]
    for at in range(0, len(big), piece):
        steps += [("send", big[at:at + piece]), ("sleep", 0.8)]
    steps += [("send", b")\r\n{tag} OK FETCH completed\r\n")]
    hook = first_time(steps)
    fake = fake_factory(session(*mailbox({1: big}, on_body=hook)))
    fs = fake_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    out, took = timed("reading a large body", lambda: read(path), bound=30)
    assert out == big, out if isinstance(out, OSError) else len(out)
    assert took > TIMEOUT, "the body came in %.1f s" % took
    assert hook.count == 1
    fs.unmount()


# ---------------------------------------------------------------------------
# A server that accepts and never answers: a first mount fails after one
# timeout, not one for going offline and another for the listing.

def test_silent_server_fails_a_first_mount_once(fake_factory,
                                                imap_mount_factory,
                                                tmp_path):
    fake = fake_factory(never_answers())
    fs = fake_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails(timeout=60)
    assert fail.returncode == 1, fail.output[-4000:]
    assert "listing the folders failed" in fail.output, fail.output[-4000:]
    assert "timed out" in fail.output, fail.output[-4000:]
    assert TIMEOUT - 0.5 <= fail.seconds < TIMEOUT + MARGIN, \
        "the mount took %.1f s to fail" % fail.seconds


# ---------------------------------------------------------------------------
# Dovecot stopped in the middle of a session


class Stopped:
    """SIGSTOP the whole Dovecot for a `with` block; SIGCONT after."""

    def __init__(self, dv):
        self.dv = dv
        self.pids = []

    def __enter__(self):
        self.pids = timing.process_tree(self.dv.proc.pid)
        for pid in self.pids:
            os.kill(pid, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def wait_until(predicate, timeout=SYNC, what="the change"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "%s never came" % what
        time.sleep(0.2)


def names(fs, folder="INBOX"):
    return sorted(os.listdir(fs.m(folder, "cur")))


def with_flag(name, letter):
    base, info = name.split(":2,")
    return "%s:2,%s" % (base, "".join(sorted(info + letter)))


def test_dovecot_stopped_mid_session(imap_mount_factory, tmp_path):
    # one connection: a second reader waits for the first one's, and that
    # wait is part of its deadline too
    with running_dovecot(users=DEFAULT_USERS) as dv:
        for i in range(6):
            dv.append("alice", "INBOX", make_message(
                10 + i, msgid="<stopped-%d@test.example>" % i), flags=())
        conf = dv.mailfs_config(str(tmp_path / "conf"), account="imap",
                                user="alice", timeout=TIMEOUT,
                                poll_interval=2, connections=1)
        fs = imap_mount_factory(conf, "imap").mount()
        listed = names(fs)
        first, second, cached_name = listed[0], listed[1], listed[-1]
        cached = read(fs.m("INBOX", "cur", cached_name))
        with Stopped(dv):
            # cached reads, listings and stats answer at once
            out, _ = timed("reading a cached message",
                           lambda: read(fs.m("INBOX", "cur", cached_name)),
                           bound=QUICK)
            assert out == cached
            timed("listing INBOX", lambda: names(fs), bound=QUICK)
            timed("stat", lambda: os.stat(fs.m("INBOX", "cur", first)),
                  bound=QUICK)
            # two readers of bodies not cached, at once
            results = {}

            def reader(name):
                results[name] = timed("reading %s" % name, lambda: read(
                    fs.m("INBOX", "cur", name)), bound=60)

            threads = [threading.Thread(target=reader, args=(n,),
                                        daemon=True) for n in (first, second)]
            for t in threads:
                t.start()
            # meanwhile the cached read keeps working
            time.sleep(0.5)
            out, _ = timed("reading a cached message during the fetches",
                           lambda: read(fs.m("INBOX", "cur", cached_name)),
                           bound=QUICK)
            assert out == cached
            for t in threads:
                t.join(30)
            for name, (out, took) in results.items():
                assert took < TIMEOUT + MARGIN, \
                    "reading %s took %.1f s" % (name, took)
            # a flag change is kept and sent later
            timed("a flag change",
                  lambda: os.rename(fs.m("INBOX", "cur", cached_name),
                                    fs.m("INBOX", "cur",
                                         with_flag(cached_name, "F"))),
                  bound=QUICK)
            # what needs the server fails within the timeout, each time
            for _ in range(2):
                timed("reading %s again" % first,
                      lambda: read(fs.m("INBOX", "cur", first)))
        # the server goes on: so does the mount
        deadline = time.monotonic() + SYNC
        while True:
            out, _ = timed("reading after SIGCONT",
                           lambda: read(fs.m("INBOX", "cur", first)))
            if isinstance(out, bytes) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert isinstance(out, bytes), out
        fs.flush(timeout=30)
        info = dv.message_info("alice")
        flagged = [uid for uid, (_, _, fl) in info.items()
                   if "\\Flagged" in fl]
        assert len(flagged) == 1, info
        dv.append("alice", "INBOX", make_message(
            20, msgid="<after-stop@test.example>"), flags=())
        wait_until(lambda: len(names(fs)) == 7, what="the new message")
        fs.unmount()
