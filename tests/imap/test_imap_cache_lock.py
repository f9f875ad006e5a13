"""`mailfs sync` on an account that is mounted: the mount owns the cache,
so the sync is refused with a message naming the mount and touches
nothing; once the mount is gone (unmounted or killed) the sync runs."""

import os
import signal
import subprocess

from dovecot import make_message


def _sync(fs, conf):
    return subprocess.run([fs.command()[0], "sync", "--config", conf, "-o",
                           "cache_dir=%s" % fs.cache, "imap"],
                          capture_output=True, text=True, timeout=120)


def test_sync_of_a_mounted_account_is_refused(dovecot_server,
                                              imap_mount_factory, tmp_path):
    user, _ = dovecot_server.add_user()
    dovecot_server.fill(user, "INBOX", count=3, seed=17)
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    # a message half written through the mount waits in the cache's
    # staging/: a sync that cleaned up there would take it away
    tmp = fs.m("INBOX", "tmp", "half.msg")
    data = make_message(18)
    with open(tmp, "wb") as f:
        f.write(data[:100])
        f.flush()
        r = _sync(fs, conf)
        assert r.returncode != 0, r.stderr
        assert ("mailfs: account 'imap': its cache %s is in use by mailfs "
                "mounted at %s (pid %d)" % (fs.cache, fs.mnt, fs.proc.pid)
                in r.stderr), r.stderr
        f.write(data[100:])
        os.fsync(f.fileno())
    os.rename(tmp, fs.m("INBOX", "cur", "half.msg:2,S"))
    fs.flush()
    got = [m.data for m in dovecot_server.list_messages(user, "INBOX")]
    assert len(got) == 4 and got[-1].replace(b"\r\n", b"\n") == \
        data.replace(b"\r\n", b"\n"), len(got)
    assert not os.listdir(os.path.join(fs.cache, "rejected"))
    fs.unmount()
    r = _sync(fs, conf)
    assert r.returncode == 0, r.stderr
    assert "INBOX: 4" in r.stderr, r.stderr


def test_sync_after_the_mount_was_killed(dovecot_server, imap_mount_factory,
                                         tmp_path):
    user, _ = dovecot_server.add_user()
    dovecot_server.fill(user, "INBOX", count=2, seed=19)
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    fs.proc.send_signal(signal.SIGKILL)
    fs.proc.wait()
    fs.proc = None
    r = _sync(fs, conf)
    assert r.returncode == 0, r.stderr
    assert "INBOX: 2" in r.stderr, r.stderr
