"""An EWS server (`mailfs serve --ews`) that stops answering (SIGSTOP):
a first mount fails after one timeout, not two; in the middle of a session
no FUSE call that needs the server (writeback = off: each change goes to
the server before the call returns) waits longer than the account's
timeout, what the cache holds reads at once, and when the server goes on
the mount follows again.

Each FUSE call is timed from here and must end within TIMEOUT + MARGIN.
"""

import email.utils
import os
import shutil
import signal
import time

import fakeews
from conftest import PASSWORD, USER, ews_config, mount_on, url_of
import timing

TIMEOUT = 3                 # the account's timeout, seconds
MARGIN = 2.0                # what a FUSE call may take beyond it
QUICK = 1.0                 # what a call answered from the cache may take
SYNC = 20.0


def timed(what, fn, bound=TIMEOUT + MARGIN):
    return timing.timed(what, fn, bound)


def message(n):
    return ("From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
            "Subject: deadline %d\r\nDate: %s\r\nMessage-ID: <ews-dl-%d@"
            "example.org>\r\n\r\nBody %d.\r\n"
            % (n, email.utils.formatdate(1700000000 + n), n, n)).encode()


def put(store, folder, unique, data, flags="S"):
    path = os.path.join(store, folder, "cur", "%s:2,%s" % (unique, flags))
    with open(path, "wb") as f:
        f.write(data)
    return path


def names(fs, folder="INBOX"):
    return sorted(os.listdir(fs.m(folder, "cur")))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def read_listed(path):
    """The bytes of a file just listed, or None when a sync renamed it
    since (its flags as the server has them)."""
    try:
        return read(path)
    except FileNotFoundError:
        return None


def test_stopped_server_fails_a_first_mount_once(ews_served, mount_factory,
                                                 tmp_path):
    conf = ews_config(str(tmp_path), url_of(ews_served), timeout=TIMEOUT)
    fs = mount_factory(conf, "ews")
    os.kill(ews_served.proc.pid, signal.SIGSTOP)
    try:
        fail = fs.mount_fails(timeout=60)
    finally:
        os.kill(ews_served.proc.pid, signal.SIGCONT)
    assert fail.returncode == 1, fail.output[-4000:]
    assert "no answer within" in fail.output, fail.output[-4000:]
    assert TIMEOUT - 0.5 <= fail.seconds < TIMEOUT + MARGIN, \
        "the mount took %.1f s to fail; output:\n%s" % (
            fail.seconds, fail.output[-4000:])


def test_server_stopped_mid_session(ews_served, ews_store, mount_factory,
                                    tmp_path):
    for i in range(3):
        put(ews_store, "INBOX", "1700000%03d.M%dP1.host" % (i, i),
            message(i))
    conf = ews_config(str(tmp_path), url_of(ews_served), timeout=TIMEOUT)
    fs = mount_factory(conf, "ews")
    fs.extra_args = ["-o", "writeback=off"]
    mount_on(fs, ews_served)
    first, second, third = names(fs)
    cached = read(fs.m("INBOX", "cur", first))
    pid = ews_served.proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        out, _ = timed("reading a cached message",
                       lambda: read(fs.m("INBOX", "cur", first)),
                       bound=QUICK)
        assert out == cached
        timed("listing INBOX", lambda: names(fs), bound=QUICK)
        # changes that must reach the server before the call returns
        timed("a flag change", lambda: os.rename(
            fs.m("INBOX", "cur", second),
            fs.m("INBOX", "cur", second.rsplit(":2,", 1)[0] + ":2,FS")))
        timed("a move", lambda: os.rename(
            fs.m("INBOX", "cur", third), fs.m("Archive", "cur", third)))
        src = os.path.join(fs.base, "new-message")
        with open(src, "wb") as f:
            f.write(message(7))
        timed("a copy in", lambda: shutil.copyfile(
            src, fs.m("INBOX", "new", "new-message")))
        out, _ = timed("reading a cached message again",
                       lambda: read(fs.m("INBOX", "cur", first)),
                       bound=QUICK)
        assert out == cached
    finally:
        os.kill(pid, signal.SIGCONT)
    # the server goes on: so does the mount, both ways
    put(ews_store, "INBOX", "1700000050.M50P1.host", message(50))
    deadline = time.monotonic() + SYNC
    while not any(read_listed(fs.m("INBOX", "cur", n)) == message(50)
                  for n in names(fs)):
        assert time.monotonic() < deadline, "the new message never came"
        time.sleep(0.3)
    base = first.rsplit(":2,", 1)[0]
    out, _ = timed("a flag change after SIGCONT", lambda: os.rename(
        fs.m("INBOX", "cur", first), fs.m("INBOX", "cur", base + ":2,F")))
    assert out is None, out
    path = [n for n in os.listdir(os.path.join(ews_store, "INBOX", "cur"))
            if n.startswith("1700000000.")]
    assert len(path) == 1 and path[0].endswith(":2,F"), path
    fs.unmount()


def test_busy_retries_do_not_add_up(mount_factory, tmp_path):
    # a server that asks to be left alone 2.5 s at a time: one FUSE call
    # waits for it within its timeout, not once per retry
    srv = fakeews.FakeEWS(USER, PASSWORD)
    try:
        srv.add("inbox", message(1), read=True)
        conf = ews_config(str(tmp_path), srv.url, timeout=TIMEOUT)
        fs = mount_factory(conf, "ews")
        fs.extra_args = ["-o", "writeback=off"]
        fs.mount()
        deadline = time.monotonic() + SYNC
        while not names(fs):
            assert time.monotonic() < deadline, "the message never came"
            time.sleep(0.2)
        (name,) = names(fs)
        srv.busy["UpdateItem"] = [2500, 2500, 2500, 2500]
        out, took = timed("a flag change on a busy server", lambda: os.rename(
            fs.m("INBOX", "cur", name),
            fs.m("INBOX", "cur", name.rsplit(":2,", 1)[0] + ":2,FS")))
        assert isinstance(out, OSError), out
        assert [op for op, _ in srv.requests].count("UpdateItem") >= 1
        fs.unmount()
    finally:
        srv.stop()
