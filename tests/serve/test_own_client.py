"""mailfs's own IMAP client mounting `mailfs serve`: the two ends of the
project talking to each other, over the same store."""

import imaplib
import os
import sys

from conftest import PASSWORD, USER, inbox_files, make_message, wait_until

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "harness"))

from mailfs_mount import (imap_account_keys, imap_mount_factory,  # noqa: E402,F401
                          write_mailfs_config)


def test_mount_of_the_served_store(server, workdir, imap_mount_factory):
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"])
    m.login(USER, PASSWORD)
    m.create("Archive/2024")
    sent = [make_message(subject="for the mount %d" % i) for i in range(3)]
    for msg in sent:
        m.append("Archive/2024", r"(\Seen)", None, msg)
    m.logout()
    cfg = write_mailfs_config(
        os.path.join(workdir, "config"), "served",
        imap_account_keys(port=server.port["imap"], tls="none", user=USER,
                          password_file=server.pwfile))
    fs = imap_mount_factory(cfg, "served")
    fs.mount()
    # what the mount shows is what the store holds, byte for byte
    for folder in ("INBOX", "Archive/2024"):
        shown = sorted(open(p, "rb").read() for p in inbox_files(fs.mnt, folder))
        held = sorted(open(p, "rb").read()
                      for p in inbox_files(server.store, folder))
        assert shown == held, folder
    names = [os.path.basename(p) for p in inbox_files(fs.mnt, "Archive/2024")]
    assert all(n.endswith(":2,S") for n in names), names
    # a flag set on the mount and a message written into it reach the store
    first = inbox_files(fs.mnt, "Archive/2024")[0]
    os.rename(first, first.replace(":2,S", ":2,FS"))
    mine = make_message(subject="written into the client mount")
    with open(os.path.join(fs.mnt, "Archive", "2024", "cur", "new-one:2,S"),
              "wb") as f:
        f.write(mine)
    fs.flush()

    def in_store():
        held = [open(p, "rb").read()
                for p in inbox_files(server.store, "Archive/2024")]
        flagged = [p for p in inbox_files(server.store, "Archive/2024")
                   if p.endswith(":2,FS")]
        return mine in held and len(flagged) == 1
    assert wait_until(in_store, 15), server.log()


def test_mount_and_server_changes_both_ways(server, workdir, imap_mount_factory):
    """Moves, deletes and folder changes made on a mount of mailfs serve
    reach the store; what another IMAP client does shows on the mount."""
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"])
    m.login(USER, PASSWORD)
    m.create("Lists")
    keep, gone = make_message(subject="keep me"), make_message(subject="drop me")
    m.append("INBOX", None, None, keep)
    m.append("INBOX", None, None, gone)
    cfg = write_mailfs_config(
        os.path.join(workdir, "config"), "served",
        imap_account_keys(port=server.port["imap"], tls="none", user=USER,
                          password_file=server.pwfile))
    fs = imap_mount_factory(cfg, "served")
    fs.mount()

    def file_with(folder, data):
        for p in inbox_files(fs.mnt, folder):
            with open(p, "rb") as f:
                if f.read() == data:
                    return p
        return None

    # move one into Lists, delete the other, make a folder
    src = file_with("INBOX", keep)
    os.rename(src, os.path.join(fs.mnt, "Lists", "cur",
                                os.path.basename(src)))
    os.unlink(file_with("INBOX", gone))
    os.mkdir(os.path.join(fs.mnt, "Made on the mount"))
    fs.flush()

    def store_has(folder, data):
        return any(open(p, "rb").read() == data
                   for p in inbox_files(server.store, folder))
    assert wait_until(lambda: store_has("Lists", keep) and
                      not store_has("INBOX", keep) and
                      not store_has("INBOX", gone), 15), server.log()
    assert wait_until(lambda: os.path.isdir(
        os.path.join(server.store, "Made on the mount")), 15)
    # another client's delivery and flag change show on the mount
    news = make_message(subject="from another client")
    m.append("INBOX", r"(\Flagged)", None, news)
    assert wait_until(lambda: file_with("INBOX", news), 20)
    assert file_with("INBOX", news).endswith(":2,F")
    m.logout()
