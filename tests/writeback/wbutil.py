"""Helpers of the write-back tests: a mount of a fresh Dovecot user, a
scripted workload with the server state it must lead to, and a hard stop
of the daemon."""

import collections
import os
import signal
import subprocess

from dovecot import letters, make_message  # noqa: F401
from mailfs_mount import MAILFS, fsconf

def names(fs, folder, sub="cur"):
    try:
        return sorted(os.listdir(fs.m(folder, sub)))
    except FileNotFoundError:
        return []


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def new_mount(dovecot, factory, tmp_path, env=None, **keys):
    """A fresh user with three messages in INBOX and an empty Archive,
    mounted; env: extra variables for the daemon."""
    user, password = dovecot.add_user()
    for n in (1, 2, 3):
        dovecot.append(user, "INBOX", make_message(n), flags=("\\Seen",))
    dovecot.create_folder(user, "Archive")
    conf = dovecot.mailfs_config(str(tmp_path), account="imap", user=user,
                                 **keys)
    fs = factory(conf, "imap")
    fs.user, fs.password, fs.dovecot = user, password, dovecot
    fs.env.update(env or {})
    if os.environ.get("MAILFS_TEST_DEBUG"):
        fs.extra_args.append("-d")
    return fs.mount()


def server_state(fs):
    """{folder: Counter of (bytes, flag letters)} of every folder the
    server holds, and the set of folder names."""
    folders = set(fs.dovecot.list_folders(fs.user))
    state = {}
    for f in folders:
        msgs = fs.dovecot.list_messages(fs.user, f)
        if msgs:
            state[f] = collections.Counter((m.data, letters(m.flags))
                                           for m in msgs)
    return state, folders


def workload(fs):
    """Appends, a flag change, a move, a delete, a folder made, filled and
    renamed, made on the mount.  Returns what the server must hold then,
    as server_state() gives it (the folders as a set of names that must
    be there and a set that must not)."""
    by_data = {read(fs.m("INBOX", "cur", n)): n for n in names(fs, "INBOX")}
    m1, m2, m3 = sorted(by_data, key=by_data.get)   # in UID order
    a, b, c = (make_message(n, size=3000) for n in (101, 102, 103))
    write(fs.m("INBOX", "cur", "wl-a:2,S"), a)
    write(fs.m("INBOX", "tmp", "wl-b"), b)
    os.rename(fs.m("INBOX", "tmp", "wl-b"), fs.m("INBOX", "new", "wl-b"))
    base1 = by_data[m1].split(":2,")[0]
    os.rename(fs.m("INBOX", "cur", by_data[m1]),
              fs.m("INBOX", "cur", base1 + ":2,FS"))
    os.rename(fs.m("INBOX", "cur", by_data[m2]),
              fs.m("Archive", "cur", by_data[m2]))
    os.unlink(fs.m("INBOX", "cur", by_data[m3]))
    os.mkdir(fs.m("Projects"))
    write(fs.m("Projects", "cur", "wl-c:2,"), c)
    os.rename(fs.m("Projects"), fs.m("Work"))
    os.rename(fs.m("INBOX", "cur", "wl-a:2,S"),
              fs.m("INBOX", "cur", "wl-a:2,FS"))
    want = {
        "INBOX": collections.Counter([(m1, "FS"), (a, "FS"), (b, "")]),
        "Archive": collections.Counter([(m2, "S")]),
        "Work": collections.Counter([(c, "")]),
    }
    return want, {"INBOX", "Archive", "Work"}, {"Projects"}


def check_server(fs, want, present, absent):
    state, folders = server_state(fs)
    assert state == want, "server holds %r" % {
        f: {(len(d), fl): n for (d, fl), n in c.items()}
        for f, c in state.items()}
    assert present <= folders and not (absent & folders), folders


def wait_killed(fs, timeout=30):
    """The daemon stopped itself hard (the crash hook): reap it and clear
    the dead mount.  Returns its exit status."""
    proc = fs.proc
    proc.wait(timeout=timeout)
    fsconf.unmount_path(fs.mnt)
    fs.proc = None
    return proc.returncode


def kill_hard(fs):
    os.kill(fs.proc.pid, signal.SIGKILL)
    return wait_killed(fs)


def status(fs):
    return subprocess.run([MAILFS, "status", fs.mnt], capture_output=True,
                          text=True, timeout=30).stdout


def pending(fs):
    for line in status(fs).splitlines():
        if line.startswith("pending: "):
            return int(line.split()[1])
    raise AssertionError("no pending line in:\n" + status(fs))


wait_until = fsconf.wait_until
