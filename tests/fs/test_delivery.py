"""Delivering messages through the mount the ways Maildir writers do."""

import multiprocessing
import os
import subprocess
import traceback

from conftest import (SYNC_TIMEOUT, contents_of, deliver, mail_tree,
                      make_message, maildir_name, message_files, read_file,
                      tree_diff, wait_until, write_file)


def _wait_trees_equal(fs, timeout=SYNC_TIMEOUT):
    same = wait_until(lambda: mail_tree(fs.mnt) == mail_tree(fs.store),
                      timeout=timeout)
    if not same:
        a, b = mail_tree(fs.mnt), mail_tree(fs.store)
        assert a == b, "mount vs store: " + tree_diff(a, b)


def test_deliver_tmp_fsync_rename_into_new(mfs):
    data = make_message(1, size=12000)
    name = maildir_name("mda")
    dest = deliver(mfs.m("INBOX"), data, name=name)
    assert os.listdir(mfs.m("INBOX", "tmp")) == []
    assert read_file(dest) == data
    assert data in contents_of(mfs.m("INBOX"))
    assert wait_until(lambda: data in contents_of(mfs.s("INBOX"))), \
        "delivered message never reached the store"
    _wait_trees_equal(mfs)


def test_deliver_tmp_rename_into_cur_with_flags(mfs):
    data = make_message(2)
    dest = deliver(mfs.m("INBOX"), data, subdir="cur", flags="S")
    assert read_file(dest) == data
    assert wait_until(lambda: data in contents_of(mfs.s("INBOX")))
    _wait_trees_equal(mfs)


def test_deliver_link_then_unlink_tmp(mfs):
    # qmail / postfix style: link tmp/X to new/X, then unlink tmp/X.
    data = make_message(3, size=5000)
    name = maildir_name("link")
    tmp = mfs.m("INBOX", "tmp", name)
    new = mfs.m("INBOX", "new", name)
    write_file(tmp, data)
    os.link(tmp, new)
    os.unlink(tmp)
    assert os.listdir(mfs.m("INBOX", "tmp")) == []
    assert read_file(new) == data
    assert wait_until(lambda: data in contents_of(mfs.s("INBOX")))
    assert wait_until(lambda: os.listdir(mfs.s("INBOX", "tmp")) == [])
    _wait_trees_equal(mfs)


def test_direct_write_into_cur(mfs):
    data = make_message(4, size=30000)
    path = mfs.m("INBOX", "cur", maildir_name("direct") + ":2,S")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        # Several writes, as a program that streams a message would do.
        for off in range(0, len(data), 4096):
            os.write(fd, data[off:off + 4096])
    finally:
        os.close(fd)
    assert read_file(path) == data
    assert os.stat(path).st_size == len(data)
    assert wait_until(lambda: data in contents_of(mfs.s("INBOX")))
    _wait_trees_equal(mfs)


def test_direct_write_into_new(mfs):
    data = make_message(5)
    path = mfs.m("INBOX", "new", maildir_name("direct"))
    with open(path, "wb") as f:
        f.write(data)
    assert read_file(path) == data
    assert wait_until(lambda: data in contents_of(mfs.s("INBOX")))
    _wait_trees_equal(mfs)


# ---------------------------------------------------------------------------

WRITERS = 4
PER_WRITER = 250


def _writer_message(w, i):
    return make_message(w * 1000 + i,
                        msgid="<w%d-i%d@concurrent.test.mailfs.example>" % (w, i),
                        date=1_700_000_000 + i,
                        size=1500 + (i % 7) * 700)


def _writer(folder, w):
    try:
        for i in range(PER_WRITER):
            deliver(folder, _writer_message(w, i),
                    name="%d.W%dI%d.writer" % (1_700_000_000 + i, w, i))
    except BaseException:
        traceback.print_exc()
        os._exit(1)
    os._exit(0)


def test_four_concurrent_writers_1000_messages(mfs):
    folder = mfs.m("INBOX")
    before = len(message_files(folder))
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(folder, w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()
    assert [p.exitcode for p in procs] == [0] * WRITERS

    expected = {_writer_message(w, i) for w in range(WRITERS)
                for i in range(PER_WRITER)}
    assert len(expected) == WRITERS * PER_WRITER

    on_mount = contents_of(folder)
    assert len(expected - on_mount) == 0, \
        "%d messages missing on the mount" % len(expected - on_mount)
    assert len(message_files(folder)) == before + WRITERS * PER_WRITER

    in_store = wait_until(lambda: expected <= contents_of(mfs.s("INBOX")),
                          timeout=30)
    if not in_store:
        missing = expected - contents_of(mfs.s("INBOX"))
        assert not missing, "%d messages missing in the store" % len(missing)
    assert len(message_files(mfs.s("INBOX"))) == before + WRITERS * PER_WRITER
    assert os.listdir(mfs.m("INBOX", "tmp")) == []
    _wait_trees_equal(mfs, timeout=30)


def test_shell_redirect_into_cur(mfs):
    # `printf ... > cur/NAME` closes a dup()ed descriptor before writing;
    # the message stored must be the whole text, not an empty file.
    data = make_message(43)
    path = mfs.m("INBOX", "cur", "redirect-test:2,S")
    r = subprocess.run(["sh", "-c", 'cat > "$1"', "sh", path], input=data)
    assert r.returncode == 0
    assert read_file(path) == data
    store = mfs.s("INBOX", "cur", "redirect-test:2,S")
    assert wait_until(lambda: os.path.exists(store) and read_file(store) == data)


def test_cp_into_cur(mfs, tmp_path):
    data = make_message(44)
    src = tmp_path / "msg"
    src.write_bytes(data)
    r = subprocess.run(["cp", str(src), mfs.m("INBOX", "cur", "copied:2,")],
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    assert wait_until(lambda: os.path.exists(mfs.s("INBOX", "cur", "copied:2,"))
                      and read_file(mfs.s("INBOX", "cur", "copied:2,")) == data)
