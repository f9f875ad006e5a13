"""Dot-directories on an IMAP account's mount (a real Dovecot): notmuch keeps
its database in the mount root, and none of it reaches the server, the
write-back journal or the cache; it lives in the account's local
directory."""

import os
import shutil
import stat
import subprocess

import pytest

from mailfs_mount import MAILFS


def _run(cmd, env):
    return subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=120)


def _notmuch_env(fs, tmp_path):
    config = str(tmp_path / "notmuch-config")
    with open(config, "w") as f:
        f.write("[database]\npath=%s\n\n"
                "[user]\nname=T\nprimary_email=t@example.org\n\n"
                "[new]\ntags=inbox;\nignore=.mailfs\n\n"
                "[search]\nexclude_tags=\n\n"
                "[maildir]\nsynchronize_flags=false\n" % fs.mnt)
    return dict(fs.env, NOTMUCH_CONFIG=config)


def _count(env, query):
    r = _run(["notmuch", "count", query], env)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def test_notmuch_database_stays_local(dovecot_server, imap_mount_factory,
                                      tmp_path):
    if shutil.which("notmuch") is None:
        pytest.skip("notmuch is not installed (Debian package notmuch)")
    user, _ = dovecot_server.add_user()
    dovecot_server.fill(user, "INBOX", count=12, seed=31,
                        attachment_ratio=0)
    before = set(dovecot_server.list_folders(user))
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    env = _notmuch_env(fs, tmp_path)
    r = _run(["notmuch", "new"], env)
    assert r.returncode == 0, r.stderr
    assert _count(env, "*") == 12
    r = _run(["notmuch", "search", "--output=messages", "--limit=1", "*"],
             env)
    msgid = r.stdout.strip()
    assert r.returncode == 0 and msgid.startswith("id:"), r.stdout + r.stderr
    r = _run(["notmuch", "tag", "+local-only", "--", msgid], env)
    assert r.returncode == 0, r.stderr
    assert ".notmuch" in os.listdir(fs.mnt)

    # kept in the account's local directory, mode 0700; not in the cache
    local = os.path.join(fs.env["XDG_DATA_HOME"], "mailfs", "local", "imap")
    assert os.path.isdir(os.path.join(local, ".notmuch", "xapian"))
    assert stat.S_IMODE(os.stat(local).st_mode) == 0o700
    for root, dirs, files in os.walk(fs.cache):
        assert not [n for n in dirs + files
                    if "notmuch" in n or "xapian" in n], (root, dirs, files)
    # nothing went to the server, nothing waits to go
    fs.flush()
    r = subprocess.run([MAILFS, "status", fs.mnt], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "pending: 0\n" in r.stdout and "pending in" not in r.stdout, \
        r.stdout
    assert set(dovecot_server.list_folders(user)) == before
    status = open(fs.m(".mailfs", "status")).read()
    assert "local: %s\n" % local in status, status

    # the tags survive a remount: they live only in the database
    fs.remount()
    assert _count(env, "tag:local-only") == 1
    r = _run(["notmuch", "new"], env)
    assert r.returncode == 0, r.stderr
    assert _count(env, "*") == 12
    fs.unmount()

    # -o local_dir= keeps them elsewhere
    other = str(tmp_path / "elsewhere")
    fs.extra_args = ["-o", "local_dir=%s" % other]
    fs.mount()
    assert ".notmuch" not in os.listdir(fs.mnt)
    os.mkdir(fs.m(".mu"))
    with open(fs.m(".mu", "db"), "wb") as f:
        f.write(b"x")
    assert open(os.path.join(other, ".mu", "db"), "rb").read() == b"x"
    assert stat.S_IMODE(os.stat(other).st_mode) == 0o700
    fs.flush()
    assert set(dovecot_server.list_folders(user)) == before
    fs.unmount()

