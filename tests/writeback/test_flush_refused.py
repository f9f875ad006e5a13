"""`mailfs flush` says what the server refused since the last flush: each
change kept in sync-issues/ is named with its reason, and the exit status
is 3, not 0, though nothing is left to send."""

import os
import re

from dovecot import make_message
from wbutil import new_mount, pending, status, wait_until, write

HOLD = {"MAILFS_TEST_HOLD_FLUSH": "1"}


def reasons(fs):
    """{sync-issues file: reason} of every .reason kept."""
    d = os.path.join(fs.cache, "sync-issues")
    out = {}
    for n in os.listdir(d):
        if n.endswith(".reason"):
            with open(os.path.join(d, n)) as f:
                out[os.path.join(d, n[:-len(".reason")])] = f.read().strip()
    return out


def test_flush_names_appends_the_server_refused(
        dovecot_server, imap_mount_factory, tmp_path):
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path, env=HOLD)
    mine = [make_message(700 + n) for n in range(2)]
    for n, data in enumerate(mine):
        write(fs.m("Archive", "cur", "refused-%d:2,S" % n), data)
    # Dovecot answers the APPENDs NO [TRYCREATE]: the folder is gone
    dovecot_server.delete_folder(fs.user, "Archive")
    r = fs.flush(check=False)
    kept = reasons(fs)
    assert len(kept) == 2, kept
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "refused 2 changes" in r.stderr, r.stderr
    for path, why in kept.items():
        assert "%s: %s" % (path, why) in r.stderr, (path, why, r.stderr)
        assert "Archive" in why
    assert pending(fs) == 0
    # said once: the next flush has nothing new to say
    again = fs.flush(check=False)
    assert again.returncode == 0, again.stderr
    assert "refused since the last flush: 0" in status(fs)
    fs.unmount()


def test_flush_names_what_was_refused_before_it_began(
        dovecot_server, imap_mount_factory, tmp_path):
    # no poll between the folder's removal and the write: a listing
    # would take Archive/ off the mount first (IDLE watches INBOX only)
    fs = new_mount(dovecot_server, imap_mount_factory, tmp_path,
                   poll_interval=600)
    dovecot_server.delete_folder(fs.user, "Archive")
    write(fs.m("Archive", "cur", "late:2,S"), make_message(750))
    # the flusher meets the refusal on its own, before any flush
    assert wait_until(lambda: reasons(fs)), status(fs)
    assert wait_until(lambda: pending(fs) == 0), status(fs)
    r = fs.flush(check=False)
    assert r.returncode == 3, (r.returncode, r.stderr)
    (path, why), = reasons(fs).items()
    assert "%s: %s" % (path, why) in r.stderr, r.stderr
    assert re.search(r"refused at the last flush: .*late", status(fs))
    fs.unmount()
