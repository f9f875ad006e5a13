"""Mail tools work on the mount unmodified: mblaze, notmuch, rsync, grep."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import (CTL_DIR, deliver, fill_store, mail_tree, make_message,
                      maildir_name, message_files, tree_diff)

N_INBOX = 50
N_ARCHIVE = 10


def _need(tool, package):
    if shutil.which(tool) is None:
        pytest.skip("%s is not installed (Debian package %s)" % (tool, package))


@pytest.fixture
def seeded(mailfs_factory):
    """A store with generated messages in INBOX and Archive/2024, mounted."""
    fs = mailfs_factory()
    fill_store(fs.store, "INBOX", N_INBOX, size=3000)
    fill_store(fs.store, "INBOX", 3, start=N_INBOX, subdir="new")
    fill_store(fs.store, "Archive/2024", N_ARCHIVE, start=100, flags="RS")
    return fs


def _store_message_count(store):
    total = 0
    for dirpath, dirnames, _ in os.walk(store):
        if "cur" in dirnames and "new" in dirnames:
            total += len(message_files(dirpath))
    return total


def _run(cmd, env=None, **kw):
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120, **kw)


def test_mblaze_mlist_mscan(seeded):
    _need("mlist", "mblaze")
    _need("mscan", "mblaze")
    fs = seeded.mount()
    env = dict(fs.env, COLUMNS="200")
    mlist = _run(["mlist", fs.m("INBOX")], env=env)
    assert mlist.returncode == 0, mlist.stderr
    paths = [p for p in mlist.stdout.decode().split("\n") if p]
    expected = len(message_files(fs.s("INBOX")))
    assert len(paths) == expected
    scan = _run(["mscan"], env=env, input=mlist.stdout)
    assert scan.returncode == 0, scan.stderr
    lines = [ln for ln in scan.stdout.decode("utf-8", "replace").split("\n") if ln]
    assert len(lines) == expected, scan.stdout
    text = "\n".join(lines)
    for i in range(N_INBOX + 3):
        assert re.search(r"Test message %d\b" % i, text), \
            "mscan output lacks message %d" % i


def test_notmuch_indexes_every_message(seeded):
    _need("notmuch", "notmuch")
    fs = seeded.mount()
    db = os.path.join(fs.base, "notmuch-db")
    os.mkdir(db)
    config = os.path.join(fs.base, "notmuch-config")
    with open(config, "w") as f:
        f.write("[database]\npath=%s\nmail_root=%s\n\n"
                "[user]\nname=Test User\nprimary_email=test@example.org\n\n"
                "[new]\ntags=unread;inbox;\nignore=%s;Contacts;Calendar\n\n"
                "[search]\nexclude_tags=\n\n"
                "[maildir]\nsynchronize_flags=false\n" % (db, fs.mnt, CTL_DIR))
    env = dict(fs.env, NOTMUCH_CONFIG=config)
    new = _run(["notmuch", "new"], env=env)
    assert new.returncode == 0, new.stderr
    count = _run(["notmuch", "count", "*"], env=env)
    assert count.returncode == 0, count.stderr
    assert int(count.stdout) == _store_message_count(fs.store) == \
        N_INBOX + 3 + N_ARCHIVE
    # The database lives outside the mount; nothing was written into the store.
    assert not os.path.exists(fs.s(".notmuch"))
    sub = _run(["notmuch", "count", "subject:\"Test message 104\""], env=env)
    assert int(sub.stdout) == 1


def test_rsync_backup_identical_to_store(seeded):
    _need("rsync", "rsync")
    fs = seeded.mount()
    backup = os.path.join(fs.base, "backup")
    r = _run(["rsync", "-a", fs.mnt + "/", backup + "/"])
    assert r.returncode == 0, r.stderr
    # Left out: the mount's .mailfs/ and the store's own marker files.
    d = _run(["diff", "-r", "-x", CTL_DIR, "-x", CTL_DIR + "-*", fs.store, backup])
    assert d.returncode == 0, "backup differs from the store:\n%s%s" % (
        d.stdout.decode("utf-8", "replace")[-3000:],
        d.stderr.decode("utf-8", "replace")[-2000:])
    # A second run sees every file as unchanged.
    again = _run(["rsync", "-ai", "--exclude=/" + CTL_DIR, fs.mnt + "/",
                  backup + "/"])
    assert again.returncode == 0, again.stderr
    changed = [ln for ln in again.stdout.decode("utf-8", "replace").split("\n")
               if re.match(r"^[<>ch]f", ln)]
    assert not changed, "second rsync transferred files again: %r" % changed[:10]


def test_grep_finds_planted_string(mailfs_factory):
    fs = mailfs_factory()
    fill_store(fs.store, "INBOX", N_INBOX, size=4000)
    fill_store(fs.store, "Archive/2024", N_ARCHIVE, start=100)
    needle = "quokka-%s-needle" % maildir_name("g").replace(".", "-")
    name = maildir_name("planted") + ":2,S"
    with open(fs.s("Archive", "2024", "cur", name), "wb") as f:
        f.write(make_message(999, body="The secret word is %s.\r\n" % needle,
                             size=8000))
    fs.mount()
    r = _run(["grep", "-rl", needle, fs.mnt])
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split("\n")[:-1] == \
        [fs.m("Archive", "2024", "cur", name)]
    # A string found nowhere: exit 1 (not 2), and no read errors anywhere,
    # the control files included.
    r = _run(["grep", "-r", needle + "-absent", fs.mnt])
    assert r.returncode == 1, r.stderr
    assert r.stderr == b""


def test_rsync_backup_mounts_as_store(mfs, mailfs_factory):
    # A backup taken with rsync -a from a mount is itself a store that
    # mailfs can mount, showing the same folders and messages.
    _need("rsync", "rsync")
    fs = mfs
    for i in range(5):
        deliver(fs.m("INBOX"), make_message(200 + i), subdir="cur", flags="S")
    os.makedirs(fs.m("Archive", "2024"))
    deliver(fs.m("Archive", "2024"), make_message(210), subdir="cur", flags="RS")
    card = (b"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:backup-test-1\r\n"
            b"FN:Backup Person\r\nEMAIL:backup@example.org\r\nEND:VCARD\r\n")
    with open(fs.m("Contacts", "backup-person.vcf"), "wb") as f:
        f.write(card)
    original = mail_tree(fs.mnt)

    restored = mailfs_factory()
    os.rmdir(restored.store)
    r = _run(["rsync", "-a", "--exclude=/" + CTL_DIR, fs.mnt + "/",
              restored.store + "/"])
    assert r.returncode == 0, r.stderr
    restored.mount()
    again = mail_tree(restored.mnt)
    assert again == original, tree_diff(original, again)
    # Contacts is still a contacts folder: a new card can be written there.
    card2 = card.replace(b"backup-test-1", b"backup-test-2").replace(
        b"Backup Person", b"Second Person")
    with open(restored.m("Contacts", "second.vcf"), "wb") as f:
        f.write(card2)
    with open(restored.m("Contacts", "second.vcf"), "rb") as f:
        assert f.read() == card2
    assert not os.path.exists(restored.m("Contacts", "cur"))
