"""What an EWS account keeps and reads is bounded (tests/harness/fakeews.py
plays the server): the spool of bodies fetched at sync stays within the
account's spool_size, loses no message over it, and starts each mount
empty; a folder hierarchy that the server gives in pages is read to its
last page, within the account's timeout for the whole listing."""

import email.utils
import os
import time

from conftest import ews_config

TIMEOUT = 5
SYNC = 60.0


def wait_until(pred, timeout=SYNC, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def message(n, size):
    head = ("From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
            "Subject: bound %d\r\nDate: %s\r\nMessage-ID: <ews-bound-%d@"
            "example.org>\r\n\r\n" % (n, email.utils.formatdate(
                1700000000 + n), n)).encode()
    line = ("%d: the quick brown fox jumps over the lazy dog.\r\n"
            % n).encode()
    return head + line * (size // len(line) + 1)


def make_fs(srv, mount_factory, tmp_path, **keys):
    keys.setdefault("timeout", TIMEOUT)
    conf = ews_config(str(tmp_path), srv.url, **keys)
    return mount_factory(conf, "ews")


def spool_of(fs):
    return os.path.join(fs.cache, "ews-spool")


def spool_bytes(fs):
    """(bytes, files) of the spool now."""
    total = files = 0
    try:
        names = os.listdir(spool_of(fs))
    except FileNotFoundError:
        return 0, 0
    for name in names:
        try:
            total += os.stat(os.path.join(spool_of(fs), name)).st_size
            files += 1
        except FileNotFoundError:
            pass
    return total, files


def inbox(fs):
    try:
        return sorted(os.listdir(fs.m("INBOX", "cur")))
    except FileNotFoundError:
        return []


# ---------------------------------------------------------------------------
# The spool

BOUND = 100 * 1024


def test_spool_stays_within_spool_size(fake, mount_factory, tmp_path):
    srv = fake()
    sent = {}
    for n in range(30):
        data = message(n, 12 * 1024 + 997 * n)
        srv.add("inbox", data)
        sent[data] = n
    assert sum(len(d) for d in sent) > 4 * BOUND
    fs = make_fs(srv, mount_factory, tmp_path, spool_size="100K")
    fs.mount()
    peak = 0

    def synced():
        nonlocal peak
        peak = max(peak, spool_bytes(fs)[0])
        return len(inbox(fs)) == len(sent)
    assert wait_until(synced, interval=0.02), inbox(fs)
    size, files = spool_bytes(fs)
    peak = max(peak, size)
    assert peak <= BOUND, "the spool held %d bytes (spool_size %d)" % (
        peak, BOUND)
    # what fits is still spooled: the bound is not "spool nothing"
    assert files > 0 and size > BOUND // 2, (size, files)
    # every message reads back whole, spooled or fetched again
    got = {}
    for name in inbox(fs):
        path = fs.m("INBOX", "cur", name)
        with open(path, "rb") as f:
            data = f.read()
        assert len(data) == os.stat(path).st_size, name
        got[data] = name
    assert set(got) == set(sent)
    # the bodies the cache took have left the spool
    assert spool_bytes(fs) == (0, 0), os.listdir(spool_of(fs))


def test_spool_size_zero_spools_nothing(fake, mount_factory, tmp_path):
    srv = fake()
    datas = [message(n, 3000) for n in range(5)]
    for d in datas:
        srv.add("inbox", d)
    fs = make_fs(srv, mount_factory, tmp_path, spool_size="0")
    fs.mount()
    assert wait_until(lambda: len(inbox(fs)) == len(datas)), inbox(fs)
    assert spool_bytes(fs) == (0, 0)
    got = []
    for name in inbox(fs):
        with open(fs.m("INBOX", "cur", name), "rb") as f:
            got.append(f.read())
    assert sorted(got) == sorted(datas)


def test_spool_left_by_a_crashed_run_is_cleaned_at_start(fake, mount_factory,
                                                        tmp_path):
    srv = fake()
    data = message(1, 2000)
    srv.add("inbox", data)
    fs = make_fs(srv, mount_factory, tmp_path)
    spool = spool_of(fs)
    os.makedirs(spool, mode=0o700)
    stale = {"QUFNa0l0ZW0vOTk5OTk5": b"From: x\r\n\r\nstale\r\n" * 500,
             "QUFNa0l0ZW0vOTk5OTk5.part": b"half a body",
             ".fetch-a1b2c3": b"a temporary file"}
    for name, body in stale.items():
        with open(os.path.join(spool, name), "wb") as f:
            f.write(body)
    fs.mount()
    assert wait_until(lambda: inbox(fs)), "INBOX never listed"
    left = [n for n in stale if os.path.exists(os.path.join(spool, n))]
    assert not left, "left in the spool: %s" % left
    with open(fs.m("INBOX", "cur", inbox(fs)[0]), "rb") as f:
        assert f.read() == data


def test_spool_of_a_folder_gone_from_the_server_is_dropped(
        fake, mount_factory, tmp_path):
    srv = fake()
    srv.add_folder("gone", "Gone")
    for n in range(3):
        srv.add("gone", message(n, 4000))
    fs = make_fs(srv, mount_factory, tmp_path)
    fs.mount()

    def listed():
        try:
            return len(os.listdir(fs.m("Gone", "cur"))) == 3
        except FileNotFoundError:
            return False
    assert wait_until(listed)
    assert spool_bytes(fs)[1] == 3
    with srv.lock:
        srv.extra = [x for x in srv.extra if x[0] != "gone"]
    assert wait_until(lambda: "Gone" not in os.listdir(fs.mnt))
    assert wait_until(lambda: spool_bytes(fs) == (0, 0), timeout=10), \
        os.listdir(spool_of(fs))


def test_bad_spool_size_is_refused(fake, mount_factory, tmp_path):
    srv = fake()
    fs = make_fs(srv, mount_factory, tmp_path, spool_size="lots")
    fail = fs.mount_fails()
    assert fail.returncode != 0
    assert "spool_size = lots" in fail.output, fail.output[-3000:]


# ---------------------------------------------------------------------------
# SyncFolderHierarchy in pages

def test_hierarchy_in_pages_is_read_whole(fake, mount_factory, tmp_path):
    srv = fake()
    srv.folder_page = 100
    want = ["Folder %04d" % i for i in range(2000)]
    for i, name in enumerate(want):
        srv.add_folder("f%04d" % i, name)
    fs = make_fs(srv, mount_factory, tmp_path, timeout=20)
    fs.mount()
    shown = set(os.listdir(fs.mnt))
    missing = [n for n in want if n not in shown]
    assert not missing, "%d folders missing, such as %s" % (
        len(missing), missing[:3])
    assert "INBOX" in shown and "Sent Items" in shown
    pages = [b for op, b in srv.requests if op == "SyncFolderHierarchy"]
    assert len(pages) >= 21
    # each page after the first asked from the state the one before gave
    assert "<m:SyncState>H-100</m:SyncState>" in pages[1]


def test_hierarchy_listing_ends_within_the_timeout(fake, mount_factory,
                                                  tmp_path):
    """Pages that each come well within the timeout, but trickle, so that
    the listing as a whole would take far longer: the first mount fails
    after about one timeout, not after the last page."""
    srv = fake()
    srv.folder_page = 5
    for i in range(400):
        srv.add_folder("f%04d" % i, "Folder %04d" % i)
    srv.delay["SyncFolderHierarchy"] = 0.5
    timeout = 3
    fs = make_fs(srv, mount_factory, tmp_path, timeout=timeout)
    fail = fs.mount_fails(timeout=60)
    assert fail.returncode != 0, fail.output[-3000:]
    assert "within %d s" % timeout in fail.output, fail.output[-3000:]
    assert fail.seconds < timeout + 3, \
        "the mount took %.1f s to fail; output:\n%s" % (
            fail.seconds, fail.output[-3000:])
    pages = [b for op, b in srv.requests if op == "SyncFolderHierarchy"]
    assert 2 <= len(pages) < 40, len(pages)
