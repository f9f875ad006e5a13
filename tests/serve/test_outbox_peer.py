"""mailfs's Outbox/ submitting to `mailfs serve`'s own SMTP receiver, with
STARTTLS and AUTH, on an account whose IMAP is the same server: the
message arrives in the store's INBOX without its Bcc: field, and its copy
in Sent."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))

from conftest import PASSWORD, USER, Server, inbox_files, wait_until  # noqa: E402
from mailfs_mount import (imap_account_keys,  # noqa: E402,F401
                          imap_mount_factory, write_mailfs_config,
                          write_password_file)


def test_outbox_sends_through_the_embedded_smtp(store, workdir, tls_files,
                                                imap_mount_factory,
                                                tmp_path):
    srv = Server(store, workdir, tls=tls_files, protocols=("imap", "smtp"))
    try:
        pwfile = write_password_file(str(tmp_path / "pw"), PASSWORD)
        keys = imap_account_keys(host="127.0.0.1", port=srv.port["imap"],
                                 tls="starttls", ca_file=tls_files[0],
                                 user=USER, password_file=pwfile)
        keys["smtp"] = "smtp://127.0.0.1:%d" % srv.port["smtp"]
        conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "serve",
                                   keys)
        fs = imap_mount_factory(conf, "serve").mount()
        before = set(inbox_files(store))
        # no Sent yet: the first message sent makes it
        assert not os.path.exists(os.path.join(store, "Sent"))
        data = (b"From: Alice <alice@example.com>\n"
                b"To: alice@example.com\n"
                b"Bcc: hidden@example.org\n"
                b"Subject: through our own server\n"
                b"Message-ID: <outbox-peer@example.com>\n\n"
                b"Hello by way of mailfs serve.\n")
        with open(fs.m("Outbox", "peer.eml"), "wb") as f:
            f.write(data)
        fs.flush()
        # gone as the flusher tells the mount, a moment after the flush
        assert wait_until(lambda: os.listdir(fs.m("Outbox")) == [])
        assert wait_until(lambda: set(inbox_files(store)) - before)
        (new,) = set(inbox_files(store)) - before
        with open(new, "rb") as f:
            got = f.read()
        assert b"through our own server" in got
        assert b"Bcc:" not in got and b"hidden@example.org" not in got
        # the copy, Bcc: and all, in Sent
        sent = inbox_files(store, "Sent")
        assert len(sent) == 1
        with open(sent[0], "rb") as f:
            copy = f.read()
        assert copy.replace(b"\r\n", b"\n") == data
        fs.unmount()
    finally:
        assert srv.stop() == 0, srv.log()
