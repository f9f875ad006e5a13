"""An IMAP account mounted with mailfs, against a real Dovecot: what the
mount shows is what the server holds, and what is done on either side shows
on the other."""

import errno
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from dovecot import IMAP_FLAG, letters, make_message  # noqa: F401
from mailfs_mount import MAILFS

SYNC = 15.0     # seconds a change may take to cross over (IDLE, polling)


def wait_until(pred, timeout=SYNC, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def names(fs, folder, sub="cur"):
    try:
        return sorted(os.listdir(fs.m(folder, sub)))
    except FileNotFoundError:
        return []


def uid_of(name):
    """The UID in a file name V<uidvalidity>U<uid>:2,<flags>."""
    return int(name.split(":2,")[0].split("U", 1)[1])


def flags_of(name):
    return name.split(":2,", 1)[1] if ":2," in name else ""


def by_uid(fs, folder):
    return {uid_of(n): n for n in names(fs, folder)}


def server(fs, folder="INBOX"):
    """{uid: Message} on the server, once every change made on the mount
    has been pushed there."""
    fs.flush()
    return {m.uid: m for m in fs.dovecot.list_messages(fs.user, folder)}


def server_folders(fs):
    fs.flush()
    return fs.dovecot.list_folders(fs.user)


def test_listing_is_byte_identical(dovecot_server, imap_mount_factory,
                                   tmp_path):
    user, _ = dovecot_server.add_user()
    filled = dovecot_server.fill(user, "INBOX", count=25, seed=3,
                                 attachment_ratio=0.2)
    dovecot_server.fill(user, "Archive/2024", count=5, seed=4)
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    fs = imap_mount_factory(conf, "imap")
    fs.user, fs.dovecot = user, dovecot_server
    fs.mount()
    on_server = server(fs, "INBOX")
    listed = by_uid(fs, "INBOX")
    assert sorted(listed) == sorted(on_server)
    dates = {f.data: f.date for f in filled}
    # the Message-ID comes with the listing: no body is fetched for it
    first = min(listed)
    msgid = os.getxattr(fs.m("INBOX", "cur", listed[first]),
                        "user.mail.message-id").decode()
    assert msgid and msgid.encode() in on_server[first].data
    assert not any(files for _, _, files in os.walk(
        os.path.join(fs.cache, "blobs"))), "a body was fetched for an xattr"
    for uid, m in on_server.items():
        path = fs.m("INBOX", "cur", listed[uid])
        st = os.stat(path)
        # exact size before the body was read, then the same bytes
        assert st.st_size == len(m.data)
        assert st.st_mtime == dates[m.data]
        with open(path, "rb") as f:
            assert f.read() == m.data
        assert flags_of(listed[uid]) == letters(m.flags)
    assert len(names(fs, "Archive/2024")) == 5
    assert names(fs, "INBOX", "new") == []
    # the status says where the mount stands with its server
    status = open(fs.m(".mailfs", "status")).read()
    assert "store: imap %s@" % user in status, status
    assert wait_until(lambda: "last sync: 20" in open(
        fs.m(".mailfs", "status")).read()), status
    assert "bodies cached:" in status and "connections:" in status, status
    for special in ("Sent", "Trash", "Drafts", "Junk"):
        assert os.path.isdir(fs.m(special, "cur"))


def test_flags_both_ways(imap_mount):
    fs = imap_mount
    fs.dovecot.append(fs.user, "INBOX", make_message(1))
    assert wait_until(lambda: len(names(fs, "INBOX")) == 1)
    (uid, name), = by_uid(fs, "INBOX").items()
    base = name.split(":2,")[0]
    os.rename(fs.m("INBOX", "cur", name), fs.m("INBOX", "cur", base + ":2,FS"))
    assert letters(server(fs)[uid].flags) == "FS"
    assert os.getxattr(fs.m("INBOX", "cur", base + ":2,FS"),
                       "user.mail.flags") == b"FS"
    # and from the server to the mount
    fs.dovecot.set_flags(fs.user, "INBOX", [uid], ["\\Answered"], mode="+")
    assert wait_until(lambda: base + ":2,FRS" in names(fs, "INBOX")), \
        names(fs, "INBOX")
    # clearing every flag
    os.rename(fs.m("INBOX", "cur", base + ":2,FRS"),
              fs.m("INBOX", "cur", base + ":2,"))
    assert letters(server(fs)[uid].flags) == ""


def test_move_and_delete(imap_mount):
    fs = imap_mount
    fs.dovecot.create_folder(fs.user, "Archive")
    a, b = make_message(2), make_message(3)
    fs.dovecot.append(fs.user, "INBOX", a)
    fs.dovecot.append(fs.user, "INBOX", b)
    assert wait_until(lambda: len(names(fs, "INBOX")) == 2 and
                      os.path.isdir(fs.m("Archive", "cur")))
    listed = by_uid(fs, "INBOX")
    uid_a = next(u for u, m in server(fs).items() if m.data == a)
    uid_b = next(u for u, m in server(fs).items() if m.data == b)
    os.rename(fs.m("INBOX", "cur", listed[uid_a]),
              fs.m("Archive", "cur", listed[uid_a]))
    assert [m.data for m in server(fs, "Archive").values()] == [a]
    assert uid_a not in server(fs)
    moved = names(fs, "Archive")
    assert len(moved) == 1
    with open(fs.m("Archive", "cur", moved[0]), "rb") as f:
        assert f.read() == a
    os.unlink(fs.m("INBOX", "cur", listed[uid_b]))
    assert uid_b not in server(fs)
    assert names(fs, "INBOX") == []


def test_delivery_appends(imap_mount):
    fs = imap_mount
    data = make_message(4, size=30000)
    tmp = fs.m("INBOX", "tmp", "1700000000.M1P1Q1.test")
    with open(tmp, "wb") as f:
        f.write(data)
        os.fsync(f.fileno())
    os.rename(tmp, fs.m("INBOX", "new", "1700000000.M1P1Q1.test"))
    stored = list(server(fs).values())
    assert [m.data for m in stored] == [data]
    # a file written straight into cur/ with flags
    data2 = make_message(5)
    with open(fs.m("INBOX", "cur", "direct:2,FS"), "wb") as f:
        f.write(data2)
    got = {m.data: m for m in server(fs).values()}
    assert data2 in got and letters(got[data2].flags) == "FS"
    # both keep the names they were written under, now and after a
    # remount, and read back as the server holds them
    want = {"1700000000.M1P1Q1.test:2,", "direct:2,FS"}
    bases = {n.split(":2,")[0] for n in want}
    assert {n.split(":2,")[0] for n in names(fs, "INBOX", "new") +
            names(fs, "INBOX")} == bases
    fs.remount()
    on_server = sorted(m.data for m in server(fs).values())
    got = []
    for sub in ("new", "cur"):
        for name in names(fs, "INBOX", sub):
            assert name.split(":2,")[0] in bases
            with open(fs.m("INBOX", sub, name), "rb") as f:
                got.append(f.read())
    assert sorted(got) == on_server


def test_folder_operations(imap_mount):
    fs = imap_mount
    os.mkdir(fs.m("Projects"))
    os.mkdir(fs.m("Projects", "Alpha"))
    folders = server_folders(fs)
    assert "Projects" in folders and "Projects/Alpha" in folders
    os.rename(fs.m("Projects", "Alpha"), fs.m("Projects", "Beta"))
    folders = server_folders(fs)
    assert "Projects/Beta" in folders and "Projects/Alpha" not in folders
    fs.dovecot.append(fs.user, "Projects/Beta", make_message(6))
    assert wait_until(lambda: len(names(fs, "Projects/Beta")) == 1)
    with pytest.raises(OSError) as exc:
        os.rmdir(fs.m("Projects", "Beta"))
    assert exc.value.errno == errno.ENOTEMPTY
    assert len(server(fs, "Projects/Beta")) == 1
    os.unlink(fs.m("Projects", "Beta", "cur", names(fs, "Projects/Beta")[0]))
    os.rmdir(fs.m("Projects", "Beta"))
    assert "Projects/Beta" not in server_folders(fs)


def test_utf8_folder_names(imap_mount):
    fs = imap_mount
    fs.dovecot.create_folder(fs.user, "Entwürfe")
    assert wait_until(lambda: "Entwürfe" in os.listdir(fs.mnt))
    os.mkdir(fs.m("Café"))
    assert "Café" in server_folders(fs)


def test_renaming_a_utf8_folder_takes_its_subfolders(imap_mount):
    # the index once cut "Briefé/" by its 8 bytes as 8 characters (the
    # listing after the rename mends the mount; tests/unit/test-index.c
    # shows the index alone)
    fs = imap_mount
    os.mkdir(fs.m("Briefé"))
    os.mkdir(fs.m("Briefé", "2024"))
    os.mkdir(fs.m("Brieféx"))
    os.rename(fs.m("Briefé"), fs.m("Archive2"))
    assert os.path.isdir(fs.m("Archive2", "2024", "cur"))
    assert "Briefé" not in os.listdir(fs.mnt)
    assert "Brieféx" in os.listdir(fs.mnt)
    folders = server_folders(fs)
    assert "Archive2/2024" in folders and "Briefé/2024" not in folders
    fs.remount()
    assert os.path.isdir(fs.m("Archive2", "2024", "cur"))
    assert "Briefé" not in os.listdir(fs.mnt)
    os.rename(fs.m("Archive2"), fs.m("Grüße"))
    assert os.path.isdir(fs.m("Grüße", "2024", "cur"))
    assert "Archive2" not in os.listdir(fs.mnt)


def test_a_date_after_9999_is_appended_as_9999(dovecot_server,
                                               imap_mount_factory, tmp_path):
    # RFC 3501's date-time has four digits for the year.  ext4 holds no
    # date past 2446, so the cache (where the file is written) is on tmpfs;
    # Dovecot takes a date in the future as the time of the APPEND.
    far = 300000000000
    cache = tempfile.mkdtemp(prefix="mailfs-imap-cache-", dir="/dev/shm")
    fs = None
    try:
        os.utime(cache, (far, far))
        if os.stat(cache).st_mtime != far:
            pytest.skip("/dev/shm holds no date past 9999")
        user, _ = dovecot_server.add_user()
        conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                            user=user)
        fs = imap_mount_factory(conf, "imap")
        fs.cache = cache
        fs.user, fs.dovecot = user, dovecot_server
        fs.mount()
        start = time.time()
        data = make_message(9)
        tmp = fs.m("INBOX", "tmp", "far.M1P1Q1.test")
        with open(tmp, "wb") as f:
            f.write(data)
        os.utime(tmp, (far, far))
        os.rename(tmp, fs.m("INBOX", "cur", "far.M1P1Q1.test:2,S"))
        assert [m.data for m in server(fs).values()] == [data]
        ((_, idate, _),) = fs.dovecot.message_info(user).values()
        assert start - 5 <= idate <= time.time() + 5
        assert "pending: 0" in subprocess.run(
            [MAILFS, "status", fs.mnt], capture_output=True, text=True,
            check=True).stdout
    finally:
        if fs is not None and fs.pid is not None:
            fs.unmount()
        shutil.rmtree(cache, ignore_errors=True)


def test_server_changes_appear(imap_mount):
    fs = imap_mount
    data = make_message(7)
    fs.dovecot.append(fs.user, "INBOX", data)
    assert wait_until(lambda: len(names(fs, "INBOX")) == 1)
    (name,) = names(fs, "INBOX")
    with open(fs.m("INBOX", "cur", name), "rb") as f:
        assert f.read() == data
    fs.dovecot.expunge(fs.user, "INBOX", uids=[uid_of(name)])
    assert wait_until(lambda: names(fs, "INBOX") == [])
    fs.dovecot.create_folder(fs.user, "Lists")
    fs.dovecot.append(fs.user, "Lists", make_message(8))
    assert wait_until(lambda: len(names(fs, "Lists")) == 1)


def test_remount_lists_from_the_index_and_works_offline(dovecot_server,
                                                         imap_mount_factory,
                                                         tmp_path):
    user, _ = dovecot_server.add_user()
    dovecot_server.fill(user, "INBOX", count=10, seed=5)
    dovecot_server.fill(user, "Unread", count=3, seed=6)
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user, timeout=3)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    listed = names(fs, "INBOX")
    unread = names(fs, "Unread")
    assert len(listed) == 10 and len(unread) == 3
    with open(fs.m("INBOX", "cur", listed[0]), "rb") as f:
        first = f.read()
    fs.unmount()
    dovecot_server.stop()
    try:
        fs.mount()
        assert names(fs, "INBOX") == listed
        # what was read before is there; the rest fails quickly and clearly
        with open(fs.m("INBOX", "cur", listed[0]), "rb") as f:
            assert f.read() == first
        t0 = time.monotonic()
        with pytest.raises(OSError) as exc:
            with open(fs.m("Unread", "cur", unread[0]), "rb") as f:
                f.read()
        assert exc.value.errno == errno.EIO
        assert time.monotonic() - t0 < 10
    finally:
        dovecot_server.start()
    # once the server is back, the rest comes
    assert wait_until(lambda: _readable(fs.m("Unread", "cur", unread[0])),
                      timeout=30)


def _cached_bytes(fs):
    """What the status file says the cache holds."""
    for line in open(fs.m(".mailfs", "status")):
        if line.startswith("bodies cached:"):
            return int(line.split()[2])
    raise AssertionError("no 'bodies cached' in the status")


def test_cache_size_evicts_the_least_recently_read(dovecot_server,
                                                   imap_mount_factory,
                                                   tmp_path):
    user, _ = dovecot_server.add_user()
    filled = dovecot_server.fill(user, "INBOX", count=14, seed=22,
                                 attachment_ratio=0,
                                 size_range=(10 * 1024, 11 * 1024))
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user, timeout=3)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    # read backwards (by id), so that no read looks ahead for the next
    order = sorted(names(fs, "INBOX"), key=uid_of, reverse=True)
    assert len(order) == 14
    size = {n: os.stat(fs.m("INBOX", "cur", n)).st_size for n in order}
    fs.unmount()
    kept, early, late = order[0], order[1:5], order[5:13]
    # room for `kept` and `late`, not for one more
    limit = (sum(size[n] for n in [kept] + late)
             + min(size[n] for n in early) // 2)
    fs.extra_args = ["-o", "cache_size=%d" % limit]
    fs.mount()
    assert names(fs, "INBOX") == sorted(order)
    bodies = {f.data for f in filled}

    def read(name):
        with open(fs.m("INBOX", "cur", name), "rb") as f:
            data = f.read()
        assert data in bodies
        return data

    read(kept)
    time.sleep(1.1)
    for n in early:
        read(n)
    time.sleep(1.1)
    read(kept)                  # used again: now newer than `early`
    time.sleep(1.1)
    for n in late:
        read(n)
    # the four read least recently made room for the rest
    assert _cached_bytes(fs) <= limit
    # what is left in the cache is what the mount can read offline
    fs.unmount()
    dovecot_server.stop()
    try:
        fs.mount()
        for n in [kept] + late:
            read(n)
        for n in early:
            with pytest.raises(OSError) as exc:
                read(n)
            assert exc.value.errno == errno.EIO
    finally:
        dovecot_server.start()
    # an evicted body comes again from the server, whole
    assert wait_until(lambda: _readable(fs.m("INBOX", "cur", early[0])),
                      timeout=30)
    read(early[0])
    assert _cached_bytes(fs) <= limit


def _in_page_cache(path):
    """Bytes of the file in the kernel's page cache (fincore)."""
    r = subprocess.run(["fincore", "--bytes", "--noheadings", "--output",
                        "RES", path], capture_output=True, text=True,
                       check=True)
    return int(r.stdout.strip())


def test_a_pass_reading_once_keeps_no_second_copy(dovecot_server,
                                                  imap_mount_factory,
                                                  tmp_path):
    user, _ = dovecot_server.add_user()
    filled = dovecot_server.fill(user, "INBOX", count=12, seed=23,
                                 attachment_ratio=0.2)
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    order = sorted(names(fs, "INBOX"), key=uid_of)
    paths = [fs.m("INBOX", "cur", n) for n in order]
    bodies = sorted(f.data for f in filled)

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    # the first read of a folder starts fetching the ones after it
    first = read(paths[0])
    total = sum(len(b) for b in bodies)
    assert wait_until(lambda: _cached_bytes(fs) == total), _cached_bytes(fs)
    got = [first] + [read(p) for p in paths[1:]]
    assert sorted(got) == bodies
    # what came in ahead went to its reader without the page cache; the
    # first one, fetched for its own open, is cached as usual
    assert _in_page_cache(paths[0]) > 0
    assert [_in_page_cache(p) for p in paths[1:]] == [0] * (len(paths) - 1)
    # a second read is an ordinary one
    assert read(paths[5]) == got[5]
    assert _in_page_cache(paths[5]) > 0


def _readable(path):
    try:
        with open(path, "rb") as f:
            return len(f.read()) > 0
    except OSError:
        return False


@pytest.mark.parametrize("tls", ["starttls", "none"])
def test_other_transports(dovecot_server, imap_mount_factory, tmp_path, tls):
    user, _ = dovecot_server.add_user()
    dovecot_server.append(user, "INBOX", make_message(9))
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user, tls=tls)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    assert len(names(fs, "INBOX")) == 1


def test_tunnel_preauth(dovecot_server, imap_mount_factory, tmp_path):
    user, _ = dovecot_server.add_user()
    data = make_message(10)
    dovecot_server.append(user, "INBOX", data)
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user, tunnel=True)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    (name,) = names(fs, "INBOX")
    with open(fs.m("INBOX", "cur", name), "rb") as f:
        assert f.read() == data


def _mount_fails(fs):
    # the harness fails the test (and unmounts) should the mount come up
    fail = fs.mount_fails(timeout=60)
    assert fail.returncode != 0, fail
    assert not os.path.ismount(fs.mnt)
    return fail.output


def test_certificate_from_another_ca_is_refused(dovecot_server,
                                                imap_mount_factory, tmp_path):
    user, _ = dovecot_server.add_user()
    conf = dovecot_server.mailfs_config(
        str(tmp_path), account="imap", user=user,
        ca_file=dovecot_server.wrong_ca_file)
    err = _mount_fails(imap_mount_factory(conf, "imap"))
    assert "not trusted" in err, err


def test_certificate_needs_its_ca(dovecot_server, imap_mount_factory,
                                  tmp_path):
    user, _ = dovecot_server.add_user()
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    # no ca_file: the system's CAs do not know the test CA
    text = "".join(l for l in open(conf) if not l.startswith("ca_file"))
    open(conf, "w").write(text)
    err = _mount_fails(imap_mount_factory(conf, "imap"))
    assert "not trusted" in err, err


def test_wrong_password(dovecot_server, imap_mount_factory, tmp_path):
    user, _ = dovecot_server.add_user()
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user, password="wrong")
    err = _mount_fails(imap_mount_factory(conf, "imap"))
    assert "AUTHENTICATIONFAILED" in err or "uthentication" in err, err


def test_plaintext_needs_consent(dovecot_server, imap_mount_factory,
                                 tmp_path):
    user, _ = dovecot_server.add_user()
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user, tls="none",
                                        allow_plaintext=None)
    err = _mount_fails(imap_mount_factory(conf, "imap"))
    assert "allow_plaintext" in err, err


def test_password_never_shown(dovecot_server, imap_mount_factory, tmp_path):
    user, password = dovecot_server.add_user()
    dovecot_server.append(user, "INBOX", make_message(11))
    for auth in ("PLAIN", "LOGIN"):
        d = tmp_path / auth
        conf = dovecot_server.mailfs_config(str(d), account="imap",
                                            user=user, auth=auth)
        fs = imap_mount_factory(conf, "imap")
        # -d traces every protocol line
        fs.command_extra = ["-d"]
        orig = fs.command
        fs.command = lambda *extra, orig=orig: orig("-d", *extra)
        fs.mount()
        assert len(names(fs, "INBOX")) == 1
        for pid in _pids_of(fs.mnt):
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                assert password.encode() not in f.read()
        fs.unmount()
        log = fs.log_tail(n=10 ** 7)
        assert "LOGIN" in log or "AUTHENTICATE" in log, \
            "the trace shows no login at all"
        assert password not in log
        import base64
        assert base64.b64encode(b"\0%s\0%s" % (user.encode(),
                                               password.encode())).decode() \
            not in log


def _pids_of(mnt):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    if mnt.encode() in f.read():
                        out.append(int(entry))
            except OSError:
                pass
    return out


def test_mail_tools(dovecot_server, imap_mount_factory, tmp_path):
    user, _ = dovecot_server.add_user()
    filled = dovecot_server.fill(user, "INBOX", count=40, seed=9)
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    fs = imap_mount_factory(conf, "imap")
    fs.mount()
    # rsync: a backup identical to what the server holds
    backup = str(tmp_path / "backup")
    subprocess.run(["rsync", "-a", "--exclude=/.mailfs", fs.mnt + "/",
                    backup + "/"], check=True)
    got = sorted(open(os.path.join(backup, "INBOX", "cur", n), "rb").read()
                 for n in os.listdir(os.path.join(backup, "INBOX", "cur")))
    assert got == sorted(f.data for f in filled)
    # grep finds a planted string in exactly one message
    planted = make_message(12, body="the needle xyzzy-4711 is here\r\n")
    dovecot_server.append(user, "INBOX", planted)
    assert wait_until(lambda: len(names(fs, "INBOX")) == 41)
    r = subprocess.run(["grep", "-rl", "xyzzy-4711", fs.m("INBOX")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 1
    # notmuch indexes every message, its database outside the mount
    db = str(tmp_path / "notmuch-db")
    os.mkdir(db)
    config = str(tmp_path / "notmuch-config")
    with open(config, "w") as f:
        f.write("[database]\npath=%s\nmail_root=%s\n\n"
                "[user]\nname=T\nprimary_email=t@example.org\n\n"
                "[new]\ntags=inbox;\nignore=.mailfs\n\n"
                "[maildir]\nsynchronize_flags=false\n" % (db, fs.mnt))
    env = dict(os.environ, NOTMUCH_CONFIG=config)
    r = subprocess.run(["notmuch", "new"], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["notmuch", "count", "*"], env=env,
                       capture_output=True, text=True)
    assert int(r.stdout) == 41, r.stdout + r.stderr
    # mblaze lists every message
    if subprocess.run(["which", "mlist"], capture_output=True).returncode:
        pytest.skip("mblaze is not installed")
    r = subprocess.run("mlist %s | mscan" % fs.m("INBOX"), shell=True,
                       capture_output=True, text=True)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 41


def test_namespace_prefix(imap_mount_factory, tmp_path):
    # A Courier-style server keeps every folder under "INBOX." with "."
    # between names; the mount shows them without the prefix.
    from dovecot import running_dovecot
    with running_dovecot(users={"carol": "carol-secret"}, ns_prefix="INBOX.",
                         ns_separator=".") as dv:
        data = make_message(13)
        with dv.client("carol") as c:
            for box in ("INBOX.Archive", "INBOX.Archive.2024"):
                assert c.create(box)[0] == "OK"
            assert c.append("INBOX.Archive.2024", None, None, data)[0] == "OK"
        conf = dv.mailfs_config(str(tmp_path), account="imap", user="carol")
        fs = imap_mount_factory(conf, "imap")
        fs.mount()
        top = os.listdir(fs.mnt)
        assert "Archive" in top and "INBOX" in top, top
        (name,) = names(fs, "Archive/2024")
        with open(fs.m("Archive", "2024", "cur", name), "rb") as f:
            assert f.read() == data
        os.mkdir(fs.m("Projects"))
        fs.flush()
        with dv.client("carol") as c:
            typ, boxes = c.list()
        assert any(b'"INBOX.Projects"' in b or b.endswith(b" INBOX.Projects")
                   for b in boxes), boxes
        fs.unmount()


def test_sync_prefetch_then_read_offline(dovecot_server, imap_mount_factory,
                                         tmp_path):
    user, _ = dovecot_server.add_user()
    filled = dovecot_server.fill(user, "INBOX", count=20, seed=14,
                                 attachment_ratio=0.2)
    dovecot_server.fill(user, "Archive", count=5, seed=15)
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user, timeout=3)
    fs = imap_mount_factory(conf, "imap")
    r = subprocess.run([fs.command()[0], "sync", "--prefetch", "--config",
                        conf, "-o", "cache_dir=%s" % fs.cache, "imap"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "INBOX: 20" in r.stderr, r.stderr
    dovecot_server.stop()
    try:
        fs.mount()
        got = sorted(open(fs.m("INBOX", "cur", n), "rb").read()
                     for n in names(fs, "INBOX"))
        assert got == sorted(f.data for f in filled)
        assert len(names(fs, "Archive")) == 5
        for n in names(fs, "Archive"):
            assert _readable(fs.m("Archive", "cur", n))
        fs.unmount()
    finally:
        dovecot_server.start()
    # the embedded store has nothing to sync
    r = subprocess.run([fs.command()[0], "sync", "--config", conf, "local"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "local already" in r.stderr, r.stderr
