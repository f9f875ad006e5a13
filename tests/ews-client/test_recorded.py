"""The EWS client against tests/harness/fakeews.py: what only a real
Exchange does (throttling, paging, forgotten sync states, a 2019 server,
NTLM) and what no good server does (DOCTYPE, huge, truncated and garbled
answers, Faults, per-item errors, HTTP failures, silence).

Every hostile case must give a clear error for the operation concerned,
no crash (the daemon exits 0 at unmount, no sanitizer report), bounded
memory and nothing waiting much past the account's timeout."""

import errno
import os
import re
import time

import pytest

from conftest import PASSWORD, USER, ews_config

TIMEOUT = 3
BOUND = 12.0
MAX_HWM_KB = 400 * 1024


def msg(n, size=200):
    body = (b"line %d of the body\r\n" % n) * (size // 20 + 1)
    return (b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
            b"Subject: recorded %d\r\nMessage-ID: <rec-%d@example.org>\r\n"
            b"\r\n" % (n, n)) + body


def wait_until(pred, timeout=15.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def names(fs, folder="INBOX"):
    try:
        return sorted(os.listdir(fs.m(folder, "cur")))
    except FileNotFoundError:
        return []


def mount(fake_srv, mount_factory, tmp_path, **keys):
    keys.setdefault("timeout", TIMEOUT)
    conf = ews_config(str(tmp_path), fake_srv.url, **keys)
    fs = mount_factory(conf, "ews")
    fs.mount()
    return fs


def errors_of(fs):
    return open(fs.m(".mailfs", "errors")).read()


def bodies(fs, folder="INBOX"):
    out = []
    for n in names(fs, folder):
        p = fs.m(folder, "cur", n)
        size = os.stat(p).st_size
        data = open(p, "rb").read()
        assert size == len(data), n
        out.append(data)
    return sorted(out)


def test_folder_tree_and_kinds(fake, mount_factory, tmp_path):
    srv = fake()
    fs = mount(srv, mount_factory, tmp_path)
    top = sorted(os.listdir(fs.mnt))
    # the inbox is INBOX whatever its DisplayName; tasks are left out
    for want in ("INBOX", "Sent Items", "Deleted Items", "Drafts",
                 "Junk Email", "Contacts", "Calendar"):
        assert want in top, top
    assert "Tasks" not in top
    assert os.path.isdir(fs.m("Sent Items", "cur"))
    # Exchange2016 is asked for, never newer
    for op, body in srv.requests:
        assert 'RequestServerVersion Version="Exchange2016"' in body, body


def test_sync_pages_until_the_last(fake, mount_factory, tmp_path):
    srv = fake(page=5)
    want = [msg(i, 100 + 37 * i) for i in range(12)]
    for m in want:
        srv.add("inbox", m)
    fs = mount(srv, mount_factory, tmp_path)
    assert wait_until(lambda: len(names(fs)) == 12), names(fs)
    assert bodies(fs) == sorted(want)
    syncs = [b for op, b in srv.requests if op == "SyncFolderItems" and
             srv._folder_of(b) == "inbox"]
    assert len(syncs) >= 3
    assert all("<m:MaxChangesReturned>512<" in b for b in syncs)
    # ids never hold '/', and fit a file name with the info suffix
    for n in names(fs):
        assert "/" not in n and len(n) < 250
    # many ItemIds per GetItem
    assert max(b.count("<t:ItemId ") for op, b in srv.requests
               if op == "GetItem") >= 5


def test_server_busy_is_waited_for(fake, mount_factory, tmp_path):
    srv = fake()
    srv.add("inbox", msg(1))
    srv.busy["GetItem"] = [800]
    fs = mount(srv, mount_factory, tmp_path)
    assert wait_until(lambda: len(names(fs)) == 1)
    times = [t for op, t in srv.times if op == "GetItem"]
    assert len(times) >= 2 and times[1] - times[0] >= 0.75, times


def test_server_busy_too_long_is_an_error(fake, mount_factory, tmp_path):
    srv = fake()
    srv.add("inbox", msg(1))
    fs = mount(srv, mount_factory, tmp_path)
    assert wait_until(lambda: len(names(fs)) == 1)
    srv.busy["GetItem"] = [600000]
    srv.add("inbox", msg(2))
    t0 = time.monotonic()
    assert wait_until(lambda: "busy" in errors_of(fs)), errors_of(fs)
    assert time.monotonic() - t0 < BOUND
    assert len(names(fs)) == 1


def test_invalid_sync_state_resyncs(fake, mount_factory, tmp_path):
    srv = fake()
    srv.add("inbox", msg(1))
    fs = mount(srv, mount_factory, tmp_path, poll_interval=1)
    assert wait_until(lambda: len(names(fs)) == 1)
    before = names(fs)
    srv.invalid_state = 1
    srv.add("inbox", msg(2))
    assert wait_until(lambda: len(names(fs)) == 2), names(fs)
    assert before[0] in names(fs)
    assert bodies(fs) == sorted([msg(1), msg(2)])
    gets = sum(b.count("<t:ItemId ") for op, b in srv.requests
               if op == "GetItem" and "IncludeMimeContent" in b)
    # the message already known is not downloaded again
    assert gets == 2, gets


def test_exchange_2019(fake, mount_factory, tmp_path):
    srv = fake(version="2019")
    srv.add("inbox", msg(3))
    fs = mount(srv, mount_factory, tmp_path)
    assert wait_until(lambda: len(names(fs)) == 1)
    assert bodies(fs) == [msg(3)]
    assert wait_until(lambda: "V2017_07_11" in
                      open(fs.m(".mailfs", "status")).read())


def test_ntlm(fake, mount_factory, tmp_path):
    srv = fake(ntlm=True)
    srv.add("inbox", msg(4))
    fs = mount(srv, mount_factory, tmp_path, auth="ntlm")
    assert wait_until(lambda: len(names(fs)) == 1)
    assert bodies(fs) == [msg(4)]


def test_http_401_fails_the_mount(fake, mount_factory, tmp_path):
    srv = fake()
    conf = ews_config(str(tmp_path), srv.url, password="wrong")
    fs = mount_factory(conf, "ews")
    fail = fs.mount_fails()
    assert fail.returncode != 0 and "401" in fail.output, fail.output


def test_password_never_logged(fake, mount_factory, tmp_path):
    srv = fake()
    srv.add("inbox", msg(5))
    conf = ews_config(str(tmp_path), srv.url, timeout=TIMEOUT)
    fs = mount_factory(conf, "ews")
    fs.extra_args = ["-d"]
    fs.mount()
    assert wait_until(lambda: len(names(fs)) == 1)
    fs.unmount()
    log = open(fs.log, errors="replace").read()
    assert "ews C: SyncFolderItems" in log
    assert PASSWORD not in log
    import base64
    assert base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode() \
        not in log


HOSTILE = {
    "doctype": "document type",
    "huge": "larger than",
    "truncated": "well-formed",
    "garbage": "well-formed",
    "fault": "ErrorInternalServerError",
    "item-error": "ErrorCorruptData",
    "500": "HTTP 500",
    "503": "busy",
    "401": "401",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_answer_to_a_sync(fake, mount_factory, tmp_path, kind):
    srv = fake()
    srv.add("inbox", msg(6))
    fs = mount(srv, mount_factory, tmp_path)
    assert wait_until(lambda: len(names(fs)) == 1)
    srv.hostile["GetItem"] = kind
    srv.add("inbox", msg(8))
    t0 = time.monotonic()
    assert wait_until(lambda: HOSTILE[kind] in errors_of(fs),
                      timeout=BOUND + 10), errors_of(fs)
    assert time.monotonic() - t0 < BOUND + (10 if kind == "huge" else 0)
    # what was there stays, nothing half-read appears
    assert bodies(fs) == [msg(6)]
    assert "root:" not in errors_of(fs)
    assert fs.vm_hwm_kb() < MAX_HWM_KB
    # the server mends its ways: the next poll brings the message
    del srv.hostile["GetItem"]
    assert wait_until(lambda: len(names(fs)) == 2)
    assert bodies(fs) == sorted([msg(6), msg(8)])


@pytest.mark.parametrize("kind", ["doctype", "garbage", "fault"])
def test_hostile_answer_at_mount(fake, mount_factory, tmp_path, kind):
    srv = fake()
    srv.hostile["SyncFolderHierarchy"] = kind
    conf = ews_config(str(tmp_path), srv.url, timeout=TIMEOUT)
    fs = mount_factory(conf, "ews")
    t0 = time.monotonic()
    fail = fs.mount_fails()
    assert time.monotonic() - t0 < BOUND
    assert fail.returncode == 1, fail.output
    assert HOSTILE[kind] in fail.output, fail.output
    assert "root:" not in fail.output


def test_first_listing_asks_a_failed_folder_again(fake, mount_factory,
                                                  tmp_path):
    srv = fake()
    srv.add("inbox", msg(9))
    srv.hostile["SyncFolderItems"] = "fault"
    srv.hostile_left["SyncFolderItems"] = 1
    fs = mount(srv, mount_factory, tmp_path)
    assert wait_until(lambda: len(names(fs)) == 1)
    assert bodies(fs) == [msg(9)]
    assert "trying again" in open(fs.log, errors="replace").read()


def test_first_listing_failing_twice_fails_the_mount(fake, mount_factory,
                                                     tmp_path):
    # a folder shown empty would tell rsync --delete to empty a backup
    srv = fake()
    srv.add("inbox", msg(9))
    srv.hostile["SyncFolderItems"] = "fault"
    conf = ews_config(str(tmp_path), srv.url, timeout=TIMEOUT)
    fs = mount_factory(conf, "ews")
    fail = fs.mount_fails()
    assert fail.returncode == 1, fail.output
    assert "trying again" in fail.output, fail.output
    assert "listing the messages of" in fail.output, fail.output
    assert "ErrorInternalServerError" in fail.output, fail.output


def test_silent_server_is_bounded_by_timeout(fake, mount_factory, tmp_path):
    srv = fake()
    srv.add("inbox", msg(7))
    fs = mount(srv, mount_factory, tmp_path)
    assert wait_until(lambda: len(names(fs)) == 1)
    (n,) = names(fs)
    # the spooled body is gone (as after a read and an eviction): the
    # next read asks the server, which says nothing
    for d, _, files in os.walk(fs.cache):
        for f in files:
            if "ews-spool" in d or "blobs" in d:
                os.unlink(os.path.join(d, f))
    srv.hostile["GetItem"] = "silent"
    t0 = time.monotonic()
    with pytest.raises(OSError) as ei:
        open(fs.m("INBOX", "cur", n), "rb").read()
    took = time.monotonic() - t0
    assert ei.value.errno in (errno.EIO, errno.ETIMEDOUT), ei.value
    assert took < TIMEOUT + 5, took
    # listing never waits for the server
    t0 = time.monotonic()
    os.stat(fs.m("INBOX", "cur", n))
    assert time.monotonic() - t0 < 1.5
