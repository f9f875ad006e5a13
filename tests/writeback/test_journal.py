"""Every change made on the mount reaches the server exactly once, however
the daemon is stopped: the journal-kill loop, a server that is down, a link
that keeps breaking."""

import os
import time

import pytest

from cutproxy import CutProxy
from dovecot import make_message
from wbutil import (check_server, kill_hard, letters, names, new_mount,
                    pending, read, status, wait_killed, wait_until, workload,
                    write)

# The workload journals eight changes; the flusher takes three steps for
# each (claimed, answered, completed), except the first two appends, which
# go in one request: claimed and answered together, completed one by one.
# One more than that: no crash.
STEPS = 6 * 3 + 4
# Under the sanitizers every other crash point: stops after a row was
# claimed, answered and completed are all among them (three steps a row,
# taken two at a time); the build without sanitizers stops at each.
SANITIZED = os.environ.get("MAILFS_SANITIZE", "none") not in ("", "none")
KILL_POINTS = [k for k in range(1, STEPS + 2)
               if not SANITIZED or k % 2 == 1 or k == STEPS + 1]


@pytest.mark.parametrize("k", KILL_POINTS)
def test_journal_kill_loop(k, dovecot_server, imap_mount_factory, tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path,
                   env={"MAILFS_TEST_HOLD_FLUSH": "1",
                        "MAILFS_TEST_CRASH_AFTER": str(k)})
    want, present, absent = workload(fs)
    assert pending(fs) == 8
    r = fs.flush(check=False)
    if k <= STEPS:
        assert r.returncode != 0, "the daemon was to stop at step %d" % k
        assert wait_killed(fs) == -9
    else:
        assert r.returncode == 0, r.stderr
        fs.unmount()
    for var in ("MAILFS_TEST_HOLD_FLUSH", "MAILFS_TEST_CRASH_AFTER"):
        fs.env.pop(var)
    fs.mount()
    fs.flush()
    assert pending(fs) == 0
    check_server(fs, want, present, absent)
    # and the mount shows what the server holds, under the same names
    assert wait_until(lambda: sorted(n.split(":2,")[0]
                                     for n in names(fs, "INBOX"))
                      .count("wl-a") == 1)
    assert "wl-c:2," in names(fs, "Work")
    fs.unmount()


def test_changes_return_at_once_and_survive_an_outage(
        dovecot_server, imap_mount_factory, tmp_path):
    # Dovecot's processes serve the connections open when it is stopped:
    # the link goes through a proxy that then resets every connection
    with CutProxy("127.0.0.1", dovecot_server.imaps_port) as proxy:
        outage(dovecot_server, imap_mount_factory, tmp_path, proxy)


def outage(dovecot_server, imap_mount_factory, tmp_path, proxy):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path,
                   port=proxy.port)
    proxy.cut_after = 0
    dovecot_server.stop()
    try:
        sent = {}
        for n in range(200):
            data = make_message(1000 + n)
            name = "offline-%03d" % n
            write(fs.m("INBOX", "cur", name + ":2,S"), data)
            sent[name] = data
        # flags of some, a move and a delete of others, all offline
        for n in range(0, 200, 10):
            name = "offline-%03d" % n
            os.rename(fs.m("INBOX", "cur", name + ":2,S"),
                      fs.m("INBOX", "cur", name + ":2,FS"))
        for n in range(5, 200, 20):
            name = "offline-%03d" % n
            os.rename(fs.m("INBOX", "cur", name + ":2,S"),
                      fs.m("Archive", "cur", name + ":2,S"))
        for n in range(7, 200, 50):
            os.unlink(fs.m("INBOX", "cur", "offline-%03d:2,S" % n))
        # the mount shows it all, and reads it back
        assert read(fs.m("INBOX", "cur", "offline-001:2,S")) == \
            sent["offline-001"]
        assert len(names(fs, "Archive")) == 10
        r = fs.flush(check=False)
        assert r.returncode != 0 and r.stderr.strip(), \
            "flush with the server down must fail and say why"
        assert pending(fs) > 200
        kill_hard(fs)
    finally:
        dovecot_server.start()
        proxy.cut_after = None
    fs.mount()
    fs.flush()
    want_inbox, want_archive = {}, {}
    for n in range(200):
        name = "offline-%03d" % n
        if n % 50 == 7:
            continue
        flags = "FS" if n % 10 == 0 else "S"
        (want_archive if n % 20 == 5 else want_inbox)[sent[name]] = flags
    for folder, want in (("INBOX", want_inbox), ("Archive", want_archive)):
        got = [(m.data, m.flags) for m in
               dovecot_server.list_messages(fs.user, folder)
               if m.data in sent.values()]
        assert len(got) == len(want), (folder, len(got), len(want))
        assert {d: letters(f) for d, f in got} == want
    fs.unmount()


def test_flush_through_a_link_that_keeps_breaking(
        dovecot_server, imap_mount_factory, tmp_path):
    with CutProxy("127.0.0.1", dovecot_server.imaps_port) as proxy:
        user, password = dovecot_server.add_user()
        conf = dovecot_server.mailfs_config(
            str(tmp_path), account="imap", user=user, port=proxy.port,
            timeout=5)
        fs = imap_mount_factory(conf, "imap")
        fs.user, fs.dovecot = user, dovecot_server
        fs.env["MAILFS_TEST_HOLD_FLUSH"] = "1"
        fs.mount()
        sent = [make_message(2000 + n, size=4000) for n in range(60)]
        for n, data in enumerate(sent):
            write(fs.m("INBOX", "cur", "cut-%02d:2,%s" % (
                n, "S" if n % 2 else "FS")), data)
        for n in range(0, 60, 3):
            os.rename(fs.m("INBOX", "cur", "cut-%02d:2,%s" % (
                n, "S" if n % 2 else "FS")),
                fs.m("INBOX", "cur", "cut-%02d:2,RS" % n))
        # every connection is reset after 30 kB, handshake included
        proxy.cut_after = 30000
        deadline = time.monotonic() + 240
        while fs.flush(check=False).returncode != 0:
            assert time.monotonic() < deadline, status(fs)
        assert proxy.cuts >= 3, "the link was never cut"
        proxy.cut_after = None
        got = {m.data: m.flags for m in
               dovecot_server.list_messages(user, "INBOX")}
        assert len(dovecot_server.list_messages(user, "INBOX")) == len(sent)
        for n, data in enumerate(sent):
            want = "RS" if n % 3 == 0 else ("S" if n % 2 else "FS")
            assert letters(got[data]) == want, n
        fs.unmount()
