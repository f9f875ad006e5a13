"""The EWS client against a server that lies about its folder tree or
sends terminal control sequences (tests/harness/fakeews.py).

A hierarchy whose folders share a FolderId, or name each other as parents,
must give a mount that comes up within seconds with the rest of the
mailbox, bounded memory, and a log line naming each folder left out.
Text from the server (a SOAP Fault, a MessageText) reaches the log, the
terminal and .mailfs/errors only with its control bytes written out."""

import os
import re
import signal
import subprocess
import time

import pytest

import fakeews
from conftest import ews_config

TIMEOUT = 3
UP_WITHIN = 10.0            # seconds the mount may take to come up
MAX_RSS_KB = 300 * 1024     # the daemon's resident memory meanwhile
ROOT = fakeews.folder_id("msgfolderroot")
# XML carries no C0 control but tab and newline: a hostile server sends a
# line of its own and the 8-bit forms of a screen clear (CSI 2J) and a
# window title (OSC 0;... ST), which terminals in a non-UTF-8 locale obey
NASTY = "\nmailfs: all is well\x9b2J\x9d0;owned\x9c"
SHOWN = "\\x0amailfs: all is well\\xc2\\x9b2J\\xc2\\x9d0;owned\\xc2\\x9c"


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def mount_bounded(fs):
    """fs.mount(), but the daemon is killed and the test fails when the
    mount is not up within UP_WITHIN seconds or its memory passes
    MAX_RSS_KB on the way: a walk of a cyclic tree must not hang the
    suite or eat the machine."""
    fs.mounts += 1
    with open(fs.log, "ab") as logf:
        logf.write(b"\n==== mount %d: %s\n" % (fs.mounts, " ".join(
            fs.command()).encode()))
        logf.flush()
        proc = subprocess.Popen(fs.command(), stdin=subprocess.DEVNULL,
                                stdout=logf, stderr=subprocess.STDOUT,
                                env=fs.env)
    t0 = time.monotonic()
    why = None
    while not os.path.ismount(fs.mnt):
        if proc.poll() is not None:
            why = "mailfs exited with status %d" % proc.returncode
            break
        if rss_kb(proc.pid) > MAX_RSS_KB:
            why = "the daemon's memory passed %d KiB" % MAX_RSS_KB
            break
        if time.monotonic() - t0 > UP_WITHIN:
            why = "the mount was not up after %.0f s" % UP_WITHIN
            break
        time.sleep(0.05)
    if why:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        pytest.fail("%s; log:\n%s" % (why, fs.log_tail(4000)))
    fs.proc = proc
    assert rss_kb(proc.pid) < MAX_RSS_KB
    return fs


def make_fs(srv, mount_factory, tmp_path, **keys):
    keys.setdefault("timeout", TIMEOUT)
    conf = ews_config(str(tmp_path), srv.url, **keys)
    return mount_factory(conf, "ews")


def log_of(fs):
    return fs.log_tail(n=10 ** 8)


def no_controls(text, where):
    """No byte below 0x20 but newline and tab, no DEL, no C1 control, and
    no line that the server wrote."""
    bad = sorted({c for c in text if (c < " " and c not in "\n\t")
                  or "\x7f" <= c <= "\x9f"})
    assert not bad, "control bytes %r in %s:\n%r" % (bad, where, text[-3000:])
    assert not re.search(r"^mailfs: all is well", text, re.M), text[-3000:]


# ---------------------------------------------------------------------------
# Folder trees that are no trees

def test_three_folders_sharing_one_id(fake, mount_factory, tmp_path):
    # the first of them is a folder under the root; the other two say
    # they are its children while carrying its id: a walk that does not
    # remember where it has been goes down 2 ways at every level
    srv = fake()
    loop = fakeews.folder_id("loop")
    srv.add_folder("loop1", "Loop One", parent=ROOT, fid=loop)
    srv.add_folder("loop2", "Loop Two", parent=loop, fid=loop)
    srv.add_folder("loop3", "Loop Three", parent=loop, fid=loop)
    fs = mount_bounded(make_fs(srv, mount_factory, tmp_path))
    top = sorted(os.listdir(fs.mnt))
    assert "INBOX" in top and "Loop One" in top, top
    assert os.path.isdir(fs.m("Loop One", "cur"))
    # nothing below it: its "children" are itself
    assert sorted(os.listdir(fs.m("Loop One"))) == ["cur", "new", "tmp"]
    log = log_of(fs)
    for name in ("Loop Two", "Loop Three"):
        assert re.search(r"folder '%s'.*FolderId.*'Loop One'.*left out"
                         % name, log), log[-3000:]
    fs.unmount()


def test_folders_naming_each_other_as_parents(fake, mount_factory,
                                              tmp_path):
    srv = fake()
    ping, pong = fakeews.folder_id("ping"), fakeews.folder_id("pong")
    srv.add_folder("ping", "Ping", parent=pong)
    srv.add_folder("pong", "Pong", parent=ping)
    srv.add_folder("self", "Itself", parent=fakeews.folder_id("self"))
    srv.add_folder("fine", "Fine")
    fs = mount_bounded(make_fs(srv, mount_factory, tmp_path))
    top = sorted(os.listdir(fs.mnt))
    assert "Fine" in top and "INBOX" in top, top
    for gone in ("Ping", "Pong", "Itself"):
        assert gone not in top, top
    log = log_of(fs)
    assert re.search(r"folders? .*'P[io]ng'.*'P[io]ng'.*cycle", log), \
        log[-3000:]
    assert re.search(r"folders? .*'Itself'.*cycle", log), log[-3000:]
    fs.unmount()


def test_duplicate_ids_do_not_double_the_tree(fake, mount_factory,
                                               tmp_path):
    srv = fake()
    dup = fakeews.folder_id("dup")
    srv.add_folder("dup1", "Dup", fid=dup)
    srv.add_folder("dup2", "Dup Again", fid=dup)
    srv.add_folder("child", "Child", parent=dup)
    srv.add("child", b"Subject: x\r\nMessage-ID: <c@x>\r\n\r\nbody\r\n")
    fs = mount_bounded(make_fs(srv, mount_factory, tmp_path))
    top = sorted(os.listdir(fs.mnt))
    assert "Dup" in top and "Dup Again" not in top, top
    assert os.path.isdir(fs.m("Dup", "Child", "cur"))
    assert re.search(r"folder 'Dup Again'.*FolderId.*'Dup'.*left out",
                     log_of(fs)), log_of(fs)[-3000:]
    fs.unmount()


# ---------------------------------------------------------------------------
# Control sequences in the server's text

def test_fault_text_is_made_printable(fake, mount_factory, tmp_path):
    # a Fault at the first listing fails the mount, and `mailfs sync`: its
    # text goes to the terminal of whoever ran mailfs
    srv = fake()
    srv.hostile["SyncFolderHierarchy"] = "fault"
    srv.fault_text = NASTY + "it broke"
    fs = make_fs(srv, mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert fail.returncode == 1, fail.output[-3000:]
    assert SHOWN + "it broke" in fail.output, fail.output[-3000:]
    no_controls(fail.output, "the failed mount's output")
    r = subprocess.run([fs.command()[0], "sync", "--config", fs.config,
                        "-o", "cache_dir=%s" % fs.cache, "ews"],
                       capture_output=True, timeout=60)
    err = r.stderr.decode("utf-8")
    assert r.returncode != 0 and SHOWN + "it broke" in err, err
    no_controls(err, "the stderr of mailfs sync")


def test_message_text_is_made_printable(fake, mount_factory, tmp_path):
    # a per-item error's MessageText, in the log and in .mailfs/errors
    srv = fake()
    srv.add("inbox", b"Subject: 1\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n")
    fs = mount_bounded(make_fs(srv, mount_factory, tmp_path))
    srv.error_text = NASTY + "corrupt"
    srv.hostile["GetItem"] = "item-error"
    srv.add("inbox", b"Subject: 2\r\nMessage-ID: <2@x>\r\n\r\nbody\r\n")
    deadline = time.monotonic() + 20
    errors = ""
    while "corrupt" not in errors and time.monotonic() < deadline:
        time.sleep(0.2)
        with open(fs.m(".mailfs", "errors"), "rb") as f:
            errors = f.read().decode("utf-8")
    assert SHOWN + "corrupt" in errors, errors
    no_controls(errors, ".mailfs/errors")
    del srv.hostile["GetItem"]
    fs.unmount()
    log = log_of(fs)
    assert SHOWN + "corrupt" in log, log[-3000:]
    no_controls(log, "the log")
