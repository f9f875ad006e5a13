"""What a mount leaves for others to find: no core dump and no ptrace by
the same user (core limit 0, not dumpable), the password not lying about
in the daemon's memory once it has logged in (only the one copy kept to
log in again), and a cache directory that another user could tamper with
refused at start."""

import base64
import concurrent.futures
import os
import re
import secrets
import shutil
import subprocess
import time

import pytest

from dovecot import make_message

# Each connection needs the password again after a reconnect: the
# account's settings keep it (imapc_cfg.password), and that is the only
# copy that is to outlive a login.
KEPT_COPIES = 1


def _readable_regions(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            perms = fields[1]
            name = fields[5] if len(fields) > 5 else ""
            if perms[0] != "r" or name in ("[vvar]", "[vsyscall]",
                                           "[vvar_vclock]"):
                continue
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            # a sanitizer's shadow memory: terabytes reserved, never a
            # heap block
            if hi - lo > 1 << 32:
                continue
            yield lo, hi


def count_in_memory(pid, needles):
    """How often each of needles (bytes) occurs in the readable memory of
    process pid (read as root through /proc/PID/mem). Returns a list."""
    counts = [0] * len(needles)
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
        for lo, hi in _readable_regions(pid):
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                continue
            for i, n in enumerate(needles):
                counts[i] += data.count(n)
    return counts


def _gdb_dumpable(pid):
    """PR_GET_DUMPABLE (3) of pid, asked of the process itself through gdb
    (nothing in /proc shows the flag to root; that root can attach at all
    is part of the point: debugging as root still works)."""
    r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex",
                        "print (int)prctl(3, 0, 0, 0, 0)"],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"^\$1 = (-?\d+)$", r.stdout, re.M)
    assert m, "gdb could not ask pid %d:\n%s\n%s" % (pid, r.stdout,
                                                     r.stderr)
    return int(m.group(1))


def _mount(dovecot_server, imap_mount_factory, tmp_path, password=None,
           **keys):
    user, password = dovecot_server.add_user(password=password)
    dovecot_server.append(user, "INBOX", make_message(1))
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user, **keys)
    fs = imap_mount_factory(conf, "imap")
    return fs, user, password


def test_no_core_dump_and_not_dumpable(dovecot_server, imap_mount_factory,
                                       tmp_path):
    fs, _, _ = _mount(dovecot_server, imap_mount_factory, tmp_path)
    fs.mount()
    assert len(os.listdir(fs.m("INBOX", "cur"))) == 1
    with open("/proc/%d/limits" % fs.pid) as f:
        core = [line.split() for line in f if line.startswith("Max core")]
    assert core and core[0][4:6] == ["0", "0"], core
    if not shutil.which("gdb"):
        pytest.skip("no gdb to ask the process whether it is dumpable")
    assert _gdb_dumpable(fs.pid) == 0
    # and the mount still serves after the attach
    assert len(os.listdir(fs.m("INBOX", "cur"))) == 1


def test_debug_core_keeps_core_dumps(dovecot_server, imap_mount_factory,
                                     tmp_path):
    fs, _, _ = _mount(dovecot_server, imap_mount_factory, tmp_path)
    fs.env = dict(fs.env, MAILFS_DEBUG_CORE="1")
    fs.mount()
    if not shutil.which("gdb"):
        pytest.skip("no gdb to ask the process whether it is dumpable")
    assert _gdb_dumpable(fs.pid) == 1


@pytest.mark.parametrize("source", ["password_file", "password_cmd"])
@pytest.mark.parametrize("auth", ["plain", "login"])
def test_password_not_left_in_memory(dovecot_server, imap_mount_factory,
                                     tmp_path, auth, source):
    password = "Hygiene-" + secrets.token_hex(24)
    fs, user, _ = _mount(dovecot_server, imap_mount_factory, tmp_path,
                         password=password, auth=auth, connections=8)
    if source == "password_cmd":
        # the same file, read through a command
        with open(fs.config) as f:
            text = f.read()
        text = re.sub(r"^password_file = (.*)$", r"password_cmd = cat \1",
                      text, flags=re.M)
        with open(fs.config, "w") as f:
            f.write(text)
    folders = ["INBOX"] + ["F%d" % i for i in range(8)]
    for name in folders[1:]:
        dovecot_server.create_folder(user, name)
        dovecot_server.append(user, name, make_message(len(name)))
    fs.mount()

    # every connection logs in: the folders read side by side
    def read_folder(name):
        for msg in os.listdir(fs.m(name, "cur")):
            with open(fs.m(name, "cur", msg), "rb") as f:
                f.read()

    with concurrent.futures.ThreadPoolExecutor(len(folders)) as pool:
        list(pool.map(read_folder, folders))
    plain = base64.b64encode(b"\0" + user.encode() + b"\0" +
                             password.encode())
    # the tails: a freed block's first bytes are the allocator's own
    # (its list pointers), the rest of what it held stays
    # a login the daemon starts on its own (a reconnect, the watcher) holds
    # its words for a moment; a copy left behind is there at every look
    # (and under ASan freed blocks are held back, so a leak stays visible)
    for _ in range(3):
        pw, b64 = count_in_memory(fs.pid, [password.encode()[-40:],
                                           plain[-40:]])
        if pw <= KEPT_COPIES and b64 == 0:
            break
        time.sleep(0.5)
    assert pw <= KEPT_COPIES and b64 == 0, \
        "password found %d times, base64 of PLAIN %d times" % (pw, b64)
    assert pw >= 1, "the scan did not find even the kept copy"


def _refused(fs):
    r = fs.mount_fails()
    assert r.returncode != 0
    return r.output


def test_cache_of_another_user_is_refused(dovecot_server, imap_mount_factory,
                                          tmp_path):
    fs, _, _ = _mount(dovecot_server, imap_mount_factory, tmp_path)
    os.makedirs(fs.cache, exist_ok=True)
    os.chmod(fs.cache, 0o700)
    os.chown(fs.cache, 65534, 65534)
    out = _refused(fs)
    assert ("cache %s is owned by uid 65534, not by this user (uid %d)"
            % (fs.cache, os.geteuid())) in out, out
    assert not os.path.exists(os.path.join(fs.cache, "lock")), \
        "the refused cache was written to"


def test_cache_writable_by_others_is_refused(dovecot_server,
                                             imap_mount_factory, tmp_path):
    fs, _, _ = _mount(dovecot_server, imap_mount_factory, tmp_path)
    os.makedirs(fs.cache, exist_ok=True)
    os.chmod(fs.cache, 0o777)
    out = _refused(fs)
    assert ("cache %s can be written by group or others (mode 0777)"
            % fs.cache) in out, out
    # the sync takes the same path
    r = subprocess.run([fs.command()[0], "sync", "--config", fs.config,
                        "-o", "cache_dir=%s" % fs.cache, "imap"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0
    assert "can be written by group or others" in r.stderr, r.stderr
    os.chmod(fs.cache, 0o700)
    fs.mount()
    assert len(os.listdir(fs.m("INBOX", "cur"))) == 1


def test_default_cache_parent_is_checked(dovecot_server, imap_mount_factory,
                                         tmp_path):
    """Without cache_dir, the cache is $XDG_CACHE_HOME/mailfs/ACCOUNT:
    whoever can write in $XDG_CACHE_HOME/mailfs can swap the account's
    directory, so that one is checked too."""
    fs, _, _ = _mount(dovecot_server, imap_mount_factory, tmp_path)
    xdg = tmp_path / "xdg"
    parent = xdg / "mailfs"
    os.makedirs(parent)
    os.chmod(parent, 0o777)
    env = dict(fs.env, XDG_CACHE_HOME=str(xdg))

    def sync():
        return subprocess.run([fs.command()[0], "sync", "--config",
                               fs.config, "imap"], env=env,
                              capture_output=True, text=True, timeout=120)

    r = sync()
    assert r.returncode != 0
    assert ("cache %s can be written by group or others (mode 0777)"
            % parent) in r.stderr, r.stderr
    assert not os.path.exists(parent / "imap")
    os.chmod(parent, 0o700)
    os.chown(parent, 65534, 65534)
    r = sync()
    assert r.returncode != 0
    assert "cache %s is owned by uid 65534" % parent in r.stderr, r.stderr
    os.chown(parent, os.geteuid(), os.getegid())
    r = sync()
    assert r.returncode == 0, r.stderr
    assert os.path.isdir(parent / "imap")
