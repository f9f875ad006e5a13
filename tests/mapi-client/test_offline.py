"""A type = mapi account whose server goes away: the mount keeps working
on what it holds, changes made meanwhile wait in the journal (and
`mailfs status` says so), and once the server is back they reach it
exactly once.  The server is `mailfs serve --mapi` on a store made of the
recorded mailbox's messages (tests/serve-mapi/conftest.py's), reached
through a proxy that resets every connection while the link is "down"."""

import email
import email.policy
import os
import subprocess

from conftest import load_module
from cutproxy import CutProxy



_load = load_module


mount_mod = _load("mailfs_mount_mapio", "harness", "mailfs_mount.py")
mount_factory = mount_mod.imap_mount_factory
serve_mapi = _load("mailfs_serve_mapi_conftest_o", "serve-mapi",
                   "conftest.py")
wait_until = serve_mapi.wait_until
MAILFS = mount_mod.MAILFS


def maildir(d):
    """{base name: (sub, flags, path)} of a Maildir folder's messages."""
    out = {}
    for sub in ("cur", "new"):
        p = os.path.join(d, sub)
        for n in os.listdir(p) if os.path.isdir(p) else []:
            base, _, fl = n.partition(":2,")
            out[base] = (sub, fl, os.path.join(p, n))
    return out


def subject(path):
    with open(path, "rb") as f:
        return str(email.message_from_binary_file(
            f, policy=email.policy.default)["Subject"])


def status(fs):
    return subprocess.run([MAILFS, "status", fs.mnt], capture_output=True,
                          text=True, timeout=60).stdout


def pending(fs):
    for line in status(fs).splitlines():
        if line.startswith("pending: "):
            return int(line.split()[1])
    raise AssertionError("no pending line in:\n" + status(fs))


NEW = (b"From: Carol <carol@example.test>\r\nTo: alice@example.test\r\n"
       b"Subject: written while the server was away\r\n"
       b"Message-ID: <offline-1@example.test>\r\n"
       b"Date: Mon, 07 Dec 2026 12:00:00 +0000\r\n\r\n"
       b"Kept until it could be sent.\r\n")


def test_changes_wait_for_the_server_and_reach_it_once(tmp_path,
                                                       mount_factory):
    store = str(tmp_path / "store")
    serve_mapi.build_store(store)
    os.makedirs(os.path.join(store, "Archive", "cur"))
    for sub in ("new", "tmp"):
        os.makedirs(os.path.join(store, "Archive", sub))
    server = serve_mapi.Server(store, str(tmp_path), protocols=("mapi",))
    with CutProxy("127.0.0.1", server.port["mapi"]) as proxy:
        pw = mount_mod.write_password_file(str(tmp_path / "pw"),
                                           serve_mapi.PASSWORD)
        keys = {"type": "mapi", "url": "http://127.0.0.1:%d" % proxy.port,
                "allow_plaintext": True, "user": serve_mapi.USER,
                "password_file": pw, "poll_interval": 600, "timeout": 5}
        cfg = mount_mod.write_mailfs_config(str(tmp_path / "cfg"), "mapi",
                                            keys)
        fs = mount_factory(cfg, "mapi")
        fs.mount()
        try:
            inbox = maildir(fs.m("INBOX"))
            assert len(inbox) == 12
            before = {subject(v[2]) for v in inbox.values()}
            names = sorted(inbox)
            flag_it, move_it, drop_it = names[0], names[1], names[2]
            moved_subject = subject(inbox[move_it][2])
            dropped_subject = subject(inbox[drop_it][2])
            proxy.cut_after = 0
            # the link is down: every change returns at once
            sub, fl, path = inbox[flag_it]
            os.rename(path, fs.m("INBOX", "cur", flag_it + ":2,FS"))
            os.rename(inbox[move_it][2],
                      fs.m("Archive", "cur", move_it + ":2,S"))
            os.unlink(inbox[drop_it][2])
            with open(fs.m("INBOX", "cur", "offline-1:2,S"), "wb") as f:
                f.write(NEW)
            # the mount shows them, the server has none of them
            shown = maildir(fs.m("INBOX"))
            assert drop_it not in shown and move_it not in shown
            assert shown[flag_it][1] == "FS"
            with open(shown["offline-1"][2], "rb") as f:
                assert f.read() == NEW
            assert pending(fs) == 4
            r = fs.flush(check=False)
            assert r.returncode != 0 and r.stderr.strip(), \
                "flush with the server away must fail and say why"
            assert len(maildir(os.path.join(store, "INBOX"))) == 12
            # back: everything reaches the server, once
            proxy.cut_after = None
            fs.flush()
            assert pending(fs) == 0
            got = maildir(os.path.join(store, "INBOX"))
            subjects = [subject(v[2]) for v in got.values()]
            assert sorted(subjects) == sorted(
                (before - {moved_subject, dropped_subject}) |
                {"written while the server was away"})
            archived = maildir(os.path.join(store, "Archive"))
            assert [subject(v[2]) for v in archived.values()] == \
                [moved_subject]
            flagged = [v for v in got.values() if "F" in v[1]]
            assert len(flagged) == 1 and "S" in flagged[0][1]
        finally:
            fs.unmount()
    serve_mapi.check_log(server, server.stop())
