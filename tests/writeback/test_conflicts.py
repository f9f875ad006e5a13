"""What the server will not take is never lost: it is kept with the reason
in sync-issues/ of the account's cache directory, `mailfs status` counts it,
and the mount then shows what the server holds."""

import os
import signal

from dovecot import make_message
from wbutil import (names, new_mount, pending, read, status, wait_until,
                    write)

HOLD = {"MAILFS_TEST_HOLD_FLUSH": "1"}


def refused(r):
    """A flush that found changes refused: said, exit status 3."""
    assert r.returncode == 3 and "refused" in r.stderr, (r.returncode,
                                                         r.stderr)


def issues(fs):
    """{name: (bytes or None, reason)} kept in sync-issues/."""
    d = os.path.join(fs.cache, "sync-issues")
    out = {}
    for n in sorted(os.listdir(d)):
        if n.endswith(".reason"):
            base = n[:-len(".reason")]
            body = os.path.join(d, base)
            out[base] = (read(body) if os.path.exists(body) else None,
                         read(os.path.join(d, n)).decode())
    return out


def test_flag_change_on_a_message_deleted_on_the_server(
        dovecot_server, imap_mount_factory, tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    first = names(fs, "INBOX")[0]
    body = read(fs.m("INBOX", "cur", first))
    base = first.split(":2,")[0]
    os.rename(fs.m("INBOX", "cur", first), fs.m("INBOX", "cur",
                                                 base + ":2,FS"))
    uid = dovecot_server.list_messages(fs.user, "INBOX")[0].uid
    dovecot_server.expunge(fs.user, "INBOX", [uid])
    refused(fs.flush(check=False))
    kept = issues(fs)
    assert len(kept) == 1
    (data, reason), = kept.values()
    assert data == body
    assert "deleted on the server" in reason and "flags" in reason
    assert "sync issues: 1" in status(fs)
    assert wait_until(lambda: all(not n.startswith(base)
                                  for n in names(fs, "INBOX")))
    assert pending(fs) == 0
    fs.unmount()


def test_appends_into_a_folder_removed_on_the_server(
        dovecot_server, imap_mount_factory, tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    mine = [make_message(300 + n) for n in range(2)]
    for n, data in enumerate(mine):
        write(fs.m("Archive", "cur", "queued-%d:2,S" % n), data)
    dovecot_server.delete_folder(fs.user, "Archive")
    refused(fs.flush(check=False))
    kept = issues(fs)
    assert sorted(d for d, _ in kept.values()) == sorted(mine)
    for _, reason in kept.values():
        assert "Archive" in reason
    assert wait_until(lambda: "Archive" not in os.listdir(fs.mnt))
    assert "Archive" not in dovecot_server.list_folders(fs.user)
    fs.unmount()


def test_a_rename_the_server_refuses(dovecot_server, imap_mount_factory,
                                     tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    write(fs.m("Archive", "cur", "kept:2,S"), make_message(400))
    os.rename(fs.m("Archive"), fs.m("Old"))
    dovecot_server.create_folder(fs.user, "Old")
    dovecot_server.append(fs.user, "Old", make_message(401))
    refused(fs.flush(check=False))
    (reason,) = [r for _, r in issues(fs).values()]
    assert "rename folder" in reason and "Old" in reason
    # the server's folders as they are: both, each with its messages
    assert wait_until(lambda: {"Archive", "Old"} <= set(os.listdir(fs.mnt))), \
        (os.listdir(fs.mnt), status(fs))
    assert wait_until(lambda: len(names(fs, "Old")) == 1), names(fs, "Old")
    assert wait_until(lambda: names(fs, "Archive") == ["kept:2,S"]), \
        names(fs, "Archive")
    assert {"Archive", "Old"} <= set(dovecot_server.list_folders(fs.user))
    fs.unmount()


def test_names_made_here_survive_a_uidvalidity_change(
        dovecot_server, imap_mount_factory, tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path,
                   poll_interval=1)
    data = make_message(450)
    write(fs.m("Archive", "cur", "mine:2,S"), data)
    fs.flush()
    old_uv = dovecot_server.uidvalidity(fs.user, "Archive")
    # the folder is made again on the server: new UIDVALIDITY, the same
    # message in it under a new UID.  The daemon is held still meanwhile:
    # a poll that saw the folder empty in between would rightly drop the
    # message, and it would come back under the server's name.
    os.kill(fs.pid, signal.SIGSTOP)
    try:
        dovecot_server.delete_folder(fs.user, "Archive")
        dovecot_server.create_folder(fs.user, "Archive")
        dovecot_server.append(fs.user, "Archive", make_message(451))
        dovecot_server.append(fs.user, "Archive", data, flags=("\\Seen",))
    finally:
        os.kill(fs.pid, signal.SIGCONT)
    assert dovecot_server.uidvalidity(fs.user, "Archive") != old_uv
    assert wait_until(lambda: len(names(fs, "Archive")) == 2), \
        names(fs, "Archive")
    listed = names(fs, "Archive")
    assert "mine:2,S" in listed
    assert read(fs.m("Archive", "cur", "mine:2,S")) == data
    other, = [n for n in listed if n != "mine:2,S"]
    assert other.startswith("V%d" % dovecot_server.uidvalidity(fs.user,
                                                               "Archive"))
    fs.unmount()
