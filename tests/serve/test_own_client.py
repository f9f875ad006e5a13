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
