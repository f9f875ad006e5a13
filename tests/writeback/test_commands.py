"""The commands and calls that wait for the server: mailfs flush
[--unmount], fsync(2) of a message or a folder, mailfs status, and
-o writeback=off."""

import os
import subprocess

from cutproxy import CutProxy
from dovecot import make_message
from mailfs_mount import MAILFS
from wbutil import (letters, names, new_mount, pending, status, wait_until,
                    write)

HOLD = {"MAILFS_TEST_HOLD_FLUSH": "1"}


def on_server(fs, folder="INBOX"):
    return {m.data: letters(m.flags)
            for m in fs.dovecot.list_messages(fs.user, folder)}


def test_status_counts_what_waits_per_folder(dovecot_server,
                                             imap_mount_factory, tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    for n in range(3):
        write(fs.m("INBOX", "cur", "s-%d:2,S" % n), make_message(500 + n))
    write(fs.m("Archive", "cur", "s-9:2,"), make_message(509))
    text = status(fs)
    assert "pending: 4" in text
    assert "pending in INBOX: 3" in text and "pending in Archive: 1" in text
    assert "write-back: on" in text
    fs.flush()
    text = status(fs)
    assert "pending: 0" in text and "last flush: " in text
    assert "pending in" not in text
    fs.unmount()


def test_fsync_waits_for_its_own_message(dovecot_server, imap_mount_factory,
                                         tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    data = make_message(600)
    path = fs.m("INBOX", "cur", "synced:2,S")
    write(path, data)
    # nothing has gone yet: the flusher waits for a kick
    assert data not in on_server(fs)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    assert on_server(fs)[data] == "S"
    # a folder's fsync covers what was done in it
    other = make_message(601)
    write(fs.m("Archive", "cur", "dir-synced:2,"), other)
    fd = os.open(fs.m("Archive", "cur"), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    assert other in on_server(fs, "Archive")
    fs.unmount()


def test_flush_unmount_waits_then_unmounts(dovecot_server,
                                           imap_mount_factory, tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    sent = [make_message(700 + n) for n in range(20)]
    for n, data in enumerate(sent):
        write(fs.m("INBOX", "cur", "u-%02d:2,S" % n), data)
    r = subprocess.run([MAILFS, "flush", "--unmount", fs.mnt],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "changes to send" in r.stderr      # the progress it showed
    assert not os.path.ismount(fs.mnt)
    fs.proc.wait(timeout=30)
    fs.proc = None
    got = on_server(fs)
    assert all(got.get(d) == "S" for d in sent)


def test_flush_fails_with_a_reason_and_keeps_the_changes(
        dovecot_server, imap_mount_factory, tmp_path):
    with CutProxy("127.0.0.1", dovecot_server.imaps_port) as proxy:
        fs = new_mount(dovecot_server, imap_mount_factory, tmp_path,
                       env=HOLD, port=proxy.port, timeout=3)
        write(fs.m("INBOX", "cur", "later:2,"), make_message(800))
        proxy.cut_after = 0         # the server is out of reach
        r = subprocess.run([MAILFS, "flush", fs.mnt], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode != 0
        assert "not flushed" in r.stderr and "wait for the server" in \
            r.stderr
        assert pending(fs) == 1
        assert "flush failing: " in status(fs)
        proxy.cut_after = None
        fs.flush()
        assert pending(fs) == 0 and len(on_server(fs)) == 4
        fs.unmount()


def test_writeback_off_waits_for_the_server(dovecot_server,
                                            imap_mount_factory, tmp_path):
    user, _ = dovecot_server.add_user()
    dovecot_server.create_folder(user, "Archive")
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    fs = imap_mount_factory(conf, "imap")
    fs.user, fs.dovecot = user, dovecot_server
    fs.extra_args = ["-o", "writeback=off"]
    fs.mount()
    data = make_message(900)
    write(fs.m("INBOX", "cur", "now:2,S"), data)
    # on the server when close() returned, without a flush
    assert on_server(fs) == {data: "S"}
    (name,) = names(fs, "INBOX")
    os.rename(fs.m("INBOX", "cur", name), fs.m("Archive", "cur", name))
    assert on_server(fs, "Archive") == {data: "S"}
    assert "write-back: off" in status(fs) and pending(fs) == 0
    fs.unmount()


def test_a_message_deleted_before_it_was_sent_never_reaches_the_server(
        dovecot_server, imap_mount_factory, tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    data = make_message(950)
    write(fs.m("INBOX", "cur", "gone:2,"), data)
    assert pending(fs) == 1
    os.unlink(fs.m("INBOX", "cur", "gone:2,"))
    # the append is taken back rather than sent and deleted
    assert pending(fs) == 0
    fs.flush()
    assert data not in on_server(fs)
    fs.unmount()


def test_many_flag_changes_go_together(dovecot_server, imap_mount_factory,
                                       tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    dovecot_server.append_many(fs.user, "INBOX",
                               [make_message(1100 + n) for n in range(40)])
    assert wait_until(lambda: len(names(fs, "INBOX")) == 43)
    listed = names(fs, "INBOX")
    for n in listed:
        os.rename(fs.m("INBOX", "cur", n),
                  fs.m("INBOX", "cur", n.split(":2,")[0] + ":2,FS"))
    assert pending(fs) == 43
    gone = dovecot_server.list_messages(fs.user, "INBOX")[5]
    dovecot_server.expunge(fs.user, "INBOX", [gone.uid])
    # the flag change of the one gone is refused: said, exit status 3
    assert fs.flush(check=False).returncode == 3
    got = dovecot_server.list_messages(fs.user, "INBOX")
    assert len(got) == 42 and all(letters(m.flags) == "FS" for m in got)
    kept = os.listdir(os.path.join(fs.cache, "sync-issues"))
    assert len([k for k in kept if k.endswith(".reason")]) == 1
    assert pending(fs) == 0
    fs.unmount()


def test_many_deletes_go_together(dovecot_server, imap_mount_factory,
                                  tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    dovecot_server.append_many(fs.user, "INBOX",
                               [make_message(1200 + n) for n in range(30)])
    assert wait_until(lambda: len(names(fs, "INBOX")) == 33)
    keep = names(fs, "INBOX")[0]
    for n in names(fs, "INBOX")[1:]:
        os.unlink(fs.m("INBOX", "cur", n))
    assert names(fs, "INBOX") == [keep] and pending(fs) == 32
    # one of them is gone from the server already: still a delete done
    gone = dovecot_server.list_messages(fs.user, "INBOX")[7]
    dovecot_server.expunge(fs.user, "INBOX", [gone.uid])
    fs.flush()
    assert len(dovecot_server.list_messages(fs.user, "INBOX")) == 1
    assert not [k for k in os.listdir(os.path.join(fs.cache, "sync-issues"))]
    assert pending(fs) == 0 and names(fs, "INBOX") == [keep]
    fs.unmount()


def test_many_moves_go_together(dovecot_server, imap_mount_factory,
                                tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    sent = [make_message(1300 + n) for n in range(30)]
    dovecot_server.append_many(fs.user, "INBOX", sent)
    assert wait_until(lambda: len(names(fs, "INBOX")) == 33)
    by_data = {}
    for n in names(fs, "INBOX"):
        with open(fs.m("INBOX", "cur", n), "rb") as f:
            by_data[f.read()] = n
    for k, data in enumerate(sent):
        n = by_data[data]
        flags = "FS" if k % 2 else ""
        os.rename(fs.m("INBOX", "cur", n),
                  fs.m("Archive", "cur", n.split(":2,")[0] + ":2," + flags))
    assert pending(fs) == 30 and len(names(fs, "Archive")) == 30
    gone = next(m for m in dovecot_server.list_messages(fs.user, "INBOX")
                if m.data == sent[4])
    dovecot_server.expunge(fs.user, "INBOX", [gone.uid])
    assert fs.flush(check=False).returncode == 3
    got = {m.data: letters(m.flags)
           for m in dovecot_server.list_messages(fs.user, "Archive")}
    want = {d: ("FS" if k % 2 else "") for k, d in enumerate(sent) if k != 4}
    assert got == want
    assert len(dovecot_server.list_messages(fs.user, "INBOX")) == 3
    reasons = [k for k in os.listdir(os.path.join(fs.cache, "sync-issues"))
               if k.endswith(".reason")]
    assert len(reasons) == 1
    assert wait_until(lambda: len(names(fs, "Archive")) == 29)
    assert pending(fs) == 0
    fs.unmount()
