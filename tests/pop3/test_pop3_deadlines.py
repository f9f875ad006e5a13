"""A POP3 server (Dovecot) that stops answering in the middle of a session
(SIGSTOP): no FUSE call waits longer than the account's timeout, also one
that first waits for the session another call holds; what the cache holds
reads at once meanwhile; when the server goes on, new mail shows.

Each FUSE call is timed from here and must end within TIMEOUT + MARGIN.
"""

import os
import signal
import threading
import time

from conftest import pop3_config
from dovecot import DEFAULT_USERS, make_message, running_dovecot
import timing

TIMEOUT = 3                 # the account's timeout, seconds
MARGIN = 2.0                # what a FUSE call may take beyond it
QUICK = 1.0                 # what a call answered from the cache may take
SYNC = 20.0


def timed(what, fn, bound=TIMEOUT + MARGIN):
    return timing.timed(what, fn, bound)


def signal_all(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def listing(fs):
    """{unique part: path relative to INBOX} of cur/ and new/."""
    out = {}
    for sub in ("cur", "new"):
        for n in os.listdir(fs.m("INBOX", sub)):
            out[n.split(":2,")[0]] = os.path.join(sub, n)
    return out


def read(fs, rel):
    with open(fs.m("INBOX", rel), "rb") as f:
        return f.read()


def test_pop3_server_stopped_mid_session(imap_mount_factory, tmp_path):
    with running_dovecot(users=DEFAULT_USERS) as dv:
        for i in range(6):
            dv.append("alice", "INBOX", make_message(
                30 + i, msgid="<pop3-stopped-%d@test.example>" % i))
        conf = pop3_config(dv, str(tmp_path / "conf"), "alice",
                           timeout=TIMEOUT, poll_interval=2)
        fs = imap_mount_factory(conf, "pop3").mount()
        shown = listing(fs)
        rels = [shown[k] for k in sorted(shown)]
        cached_rel = rels[-1]
        cached = read(fs, cached_rel)
        pids = timing.process_tree(dv.proc.pid)
        signal_all(pids, signal.SIGSTOP)
        try:
            out, _ = timed("reading a cached message",
                           lambda: read(fs, cached_rel), bound=QUICK)
            assert out == cached
            timed("listing INBOX", lambda: listing(fs), bound=QUICK)
            # two readers of bodies not cached: one holds the session,
            # the other waits for it within its own deadline
            results = {}

            def reader(rel):
                results[rel] = timed("reading %s" % rel,
                                     lambda: read(fs, rel), bound=60)

            threads = [threading.Thread(target=reader, args=(r,),
                                        daemon=True) for r in rels[:2]]
            for t in threads:
                t.start()
            time.sleep(0.5)
            out, _ = timed("reading a cached message during the fetches",
                           lambda: read(fs, cached_rel), bound=QUICK)
            assert out == cached
            for t in threads:
                t.join(30)
            assert len(results) == 2, "a read never returned"
            for rel, (out, took) in results.items():
                assert took < TIMEOUT + MARGIN, \
                    "reading %s took %.1f s" % (rel, took)
            for _ in range(2):
                timed("reading %s again" % rels[0],
                      lambda: read(fs, rels[0]))
        finally:
            signal_all(pids, signal.SIGCONT)
        # the server goes on: so does the mount
        deadline = time.monotonic() + SYNC
        while True:
            out, _ = timed("reading after SIGCONT",
                           lambda: read(fs, listing(fs)[sorted(shown)[0]]))
            if isinstance(out, bytes) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert isinstance(out, bytes), out
        dv.append("alice", "INBOX", make_message(
            40, msgid="<pop3-after-stop@test.example>"))
        deadline = time.monotonic() + SYNC
        while len(listing(fs)) != 7:
            assert time.monotonic() < deadline, "the new message never came"
            time.sleep(0.2)
        fs.unmount()
