"""Fixtures and helpers for the real-mount tests of mailfs.

Every test gets a fresh store, cache directory and mount point under a
private temporary directory, mounts the embedded local store there with
`mailfs -f -o store=DIR,cache_dir=DIR MOUNTPOINT`, and always unmounts and
cleans up afterwards, even when the test fails.

The binary comes from the MAILFS environment variable, or build/mailfs in the
repository.

Helpers (import them with `from conftest import ...`):

  make_message()     an RFC 5322 message with CRLF line ends
  maildir_name()     a unique Maildir base name
  deliver()          tmp/ + write + fsync + rename into new/ (or cur/)
  wait_until()       poll a condition for a bounded time
  mail_tree()        relative path -> bytes for every file of a tree,
                     leaving out tmp/ contents and dot-names (.mailfs/)
  message_files()    the message files (cur/ and new/) of one folder
"""

import email.utils
import errno
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAILFS = os.environ.get("MAILFS", os.path.join(REPO, "build", "mailfs"))
FUSERMOUNT = shutil.which("fusermount3")

MOUNT_TIMEOUT = 20.0    # seconds to wait for a mount to become ready
EXIT_TIMEOUT = 20.0     # seconds to wait for the daemon to exit after unmount
SYNC_TIMEOUT = 10.0     # seconds a change may take to show on the other side

CTL_DIR = ".mailfs"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "runtime error:")
MAILDIR_SUBDIRS = ("cur", "new", "tmp")


# ---------------------------------------------------------------------------
# Skipping when this machine cannot mount FUSE file systems at all

def _fuse_missing_reason():
    if not os.path.exists("/dev/fuse"):
        return "/dev/fuse is missing: this machine cannot mount FUSE file systems"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is not readable and writable by this user"
    if FUSERMOUNT is None:
        return "fusermount3 is not installed (Debian package fuse3)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _fuse_missing_reason()
    if reason is None:
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.fspath).startswith(here + os.sep):
            item.add_marker(pytest.mark.skip(reason=reason))


# ---------------------------------------------------------------------------
# Messages

_counter = 0


def maildir_name(tag="test"):
    """A unique Maildir base name: time.M<usec>P<pid>Q<n>.<host>."""
    global _counter
    _counter += 1
    now = time.time()
    return "%d.M%06dP%dQ%d.%s" % (int(now), int((now % 1) * 1e6), os.getpid(),
                                  _counter, tag)


def make_message(n=0, subject=None, body=None, msgid=None, date=None,
                 sender="Alice Example <alice@example.org>",
                 to="Bob Example <bob@example.net>", size=None,
                 extra_headers=()):
    """An RFC 5322 message as bytes, CRLF line ends.

    n       a number woven into the subject, Message-ID and body
    size    if given, the body is padded with text lines up to about that
            many bytes in total
    date    a Unix time (default: now)
    """
    if subject is None:
        subject = "Test message %d" % n
    if msgid is None:
        msgid = "<%s.%d@test.mailfs.example>" % (maildir_name("m"), n)
    if date is None:
        date = time.time()
    if body is None:
        body = ("Hello Bob,\r\n\r\nthis is test message number %d.\r\n"
                "It has a few lines of text.\r\n\r\n-- \r\nAlice\r\n" % n)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "surrogateescape")
    if "\r\n" not in body:
        body = body.replace("\n", "\r\n")
    headers = [
        ("Return-Path", "<alice@example.org>"),
        ("From", sender),
        ("To", to),
        ("Subject", subject),
        ("Date", email.utils.formatdate(date, localtime=False)),
        ("Message-ID", msgid),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ]
    headers.extend(extra_headers)
    text = "".join("%s: %s\r\n" % h for h in headers) + "\r\n" + body
    data = text.encode("utf-8", "surrogateescape")
    if size is not None and len(data) < size:
        line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit %d.\r\n" % n
        reps = (size - len(data)) // len(line) + 1
        data += line * reps
    return data


def message_id_of(data):
    """The Message-ID value (with angle brackets) of message bytes."""
    for line in data.split(b"\r\n"):
        if line == b"":
            break
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return None


def write_file(path, data, fsync=True):
    """Write bytes to a path (str or bytes), fsync, close."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def deliver(folder, data, name=None, subdir="new", flags=None):
    """Deliver a message into a Maildir folder the way a delivery agent does:
    create in tmp/, write, fsync, close, rename into new/ (or cur/).

    Returns the final path. With subdir="cur" the name gets ":2,<flags>".
    """
    if name is None:
        name = maildir_name()
    tmp = os.path.join(folder, "tmp", name)
    write_file(tmp, data)
    final = name
    if subdir == "cur":
        final = "%s:2,%s" % (name, flags or "")
    dest = os.path.join(folder, subdir, final)
    os.rename(tmp, dest)
    return dest


# ---------------------------------------------------------------------------
# Trees and polling

def wait_until(predicate, timeout=SYNC_TIMEOUT, interval=0.05, what=None):
    """Call predicate() until it returns a true value or timeout passes.

    Returns the last value; the caller asserts on it so that a failure shows
    what was seen last.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def mail_tree(root):
    """relative path (bytes) -> content (bytes) for every regular file under
    root, leaving out the contents of tmp/ directories and every name that
    starts with a dot: the .mailfs/ control directory on the mount, and in the
    store the files of other programs and the store's own markers, which are
    never folders or messages. Directories are listed as path -> None so that
    empty folders count too."""
    root_b = os.fsencode(root)
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root_b):
        rel_dir = os.path.relpath(dirpath, root_b)
        dirnames[:] = [d for d in dirnames if not d.startswith(b".")]
        for d in dirnames:
            tree[os.path.normpath(os.path.join(rel_dir, d))] = None
        if os.path.basename(dirpath) == b"tmp":
            continue
        for f in filenames:
            if f.startswith(b"."):
                continue
            full = os.path.join(dirpath, f)
            rel = os.path.normpath(os.path.join(rel_dir, f))
            tree[rel] = read_file(full)
    return tree


def tree_diff(a, b):
    """A short human-readable description of how two mail_tree()s differ."""
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    differ = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    return "only in first: %r; only in second: %r; contents differ: %r" % (
        only_a[:10], only_b[:10], differ[:10])


def message_files(folder):
    """Sorted list of (subdir, name) for the messages in cur/ and new/."""
    out = []
    for sub in ("cur", "new"):
        d = os.path.join(folder, sub)
        try:
            names = os.listdir(os.fsencode(d))
        except FileNotFoundError:
            continue
        out.extend((sub, os.fsdecode(n)) for n in names)
    return sorted(out)


def contents_of(folder):
    """Set of message contents (bytes) in cur/ and new/ of a folder."""
    out = set()
    for sub, name in message_files(folder):
        try:
            out.add(read_file(os.path.join(folder, sub, name)))
        except FileNotFoundError:
            pass
    return out


def flags_of(name):
    """The flag letters of a cur/ name ("" when it has no info part)."""
    if ":2," not in name:
        return ""
    return name.rsplit(":2,", 1)[1]


def base_of(name):
    """The base (unique) part of a Maildir name."""
    return name.split(":2,", 1)[0]


# ---------------------------------------------------------------------------
# The mount

def _mailfs_env(base):
    env = dict(os.environ)
    for var, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "home/.config"),
                     ("XDG_CACHE_HOME", "home/.cache"),
                     ("XDG_DATA_HOME", "home/.local/share"),
                     ("XDG_RUNTIME_DIR", "run")):
        path = os.path.join(base, sub)
        os.makedirs(path, mode=0o700, exist_ok=True)
        env[var] = path
    return env


def unmount_path(path, timeout=EXIT_TIMEOUT):
    """Unmount every FUSE mount stacked on path: fusermount3 -u, retried
    while busy, then a lazy unmount. Returns True when path is no longer a
    mount point."""
    deadline = time.monotonic() + timeout
    while os.path.ismount(path):
        r = subprocess.run([FUSERMOUNT or "fusermount3", "-u", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode == 0:
            continue
        if time.monotonic() >= deadline:
            subprocess.run([FUSERMOUNT or "fusermount3", "-uz", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            break
        time.sleep(0.2)
    return not os.path.ismount(path)


def daemon_pids(mountpoint):
    """Pids of mailfs processes of this user whose command line names the
    mount point (used for daemons that went to the background)."""
    pids = []
    want = os.fsencode(mountpoint)
    exe = os.path.basename(MAILFS).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if args and os.path.basename(args[0]) == exe and want in args:
            pids.append(int(entry))
    return pids


def wait_pids_gone(pids, timeout=EXIT_TIMEOUT):
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if os.path.exists("/proc/%d" % p)
                 and not _is_zombie(p)]
        if alive:
            time.sleep(0.1)
    return alive


def thread_stacks(pid):
    """The stack of every thread of process pid, as gdb prints them (a
    daemon that does not end says where it waits), or why there are
    none."""
    gdb = shutil.which("gdb")
    if not gdb:
        return "(no gdb to show them)"
    try:
        r = subprocess.run([gdb, "-p", str(pid), "-batch", "-nx",
                            "-ex", "thread apply all bt"],
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "(gdb did not answer within 60 s)"
    return r.stdout[-20000:] or r.stderr[-2000:]


def _is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class MailFS:
    """One store + cache + mount point, mounted with `mailfs -f` as a child
    process so that its log is kept and its exit can be awaited."""

    def __init__(self, base):
        self.base = base
        self.store = os.path.join(base, "store")
        self.cache = os.path.join(base, "cache")
        self.mnt = os.path.join(base, "mnt")
        self.log = os.path.join(base, "mailfs.log")
        for d in (self.store, self.cache, self.mnt):
            os.makedirs(d, exist_ok=True)
        self.env = _mailfs_env(base)
        self.proc = None
        self.mounts = 0

    # paths -----------------------------------------------------------------
    def m(self, *parts):
        """A path on the mount."""
        return os.path.join(self.mnt, *parts)

    def s(self, *parts):
        """A path in the store."""
        return os.path.join(self.store, *parts)

    def command(self, *extra):
        return [MAILFS, "-f", "-o",
                "store=%s,cache_dir=%s" % (self.store, self.cache),
                *extra, self.mnt]

    # mounting --------------------------------------------------------------
    def mount(self):
        if not os.path.exists(MAILFS):
            pytest.fail("mailfs binary not found at %s (build it first, or set "
                        "MAILFS to its path)" % MAILFS)
        assert self.proc is None, "already mounted"
        self.mounts += 1
        logf = open(self.log, "ab")
        logf.write(b"\n==== mount %d: %s\n" % (self.mounts, " ".join(
            self.command()).encode()))
        logf.flush()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=subprocess.STDOUT,
                                     env=self.env)
        logf.close()
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while not os.path.ismount(self.mnt):
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                pytest.fail("mailfs exited with status %d before the mount was "
                            "ready; log:\n%s" % (rc, self.log_tail()))
            if time.monotonic() >= deadline:
                pytest.fail("mount not ready after %.0f s; log:\n%s"
                            % (MOUNT_TIMEOUT, self.log_tail()))
            time.sleep(0.05)
        return self

    def unmount(self):
        ok = unmount_path(self.mnt)
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                proc.wait(timeout=EXIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                stacks = thread_stacks(proc.pid)
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                pytest.fail("mailfs did not exit within %.0f s of unmount; "
                            "where its threads were:\n%s\nlog:\n%s"
                            % (EXIT_TIMEOUT, stacks, self.log_tail()))
            assert proc.returncode == 0, (
                "mailfs exited with status %d after unmount; log:\n%s"
                % (proc.returncode, self.log_tail()))
        assert ok, "%s is still mounted" % self.mnt

    def remount(self):
        self.unmount()
        return self.mount()

    @property
    def mounted(self):
        return self.proc is not None

    def log_tail(self, n=6000):
        try:
            with open(self.log, "rb") as f:
                data = f.read()
        except OSError:
            return "(no log)"
        return data[-n:].decode("utf-8", "replace")

    # teardown --------------------------------------------------------------
    def cleanup(self):
        """Unmount whatever is left and remove the directory, never
        recursing into a live mount."""
        try:
            unmount_path(self.mnt)
        finally:
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=EXIT_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                self.proc = None
        for pid in daemon_pids(self.mnt):
            # A daemon that a test started in the background.
            if wait_pids_gone([pid], timeout=5):
                os.kill(pid, signal.SIGKILL)
        if os.path.ismount(self.mnt):
            return
        _rmtree(self.base)


def _rmtree(path):
    top = os.path.abspath(path)

    def inside(p):
        p = os.path.abspath(p)
        return p == top or p.startswith(top + os.sep)

    def onerror(func, p, exc):
        # Make read-only directories left by a test removable again, but
        # never touch anything outside the test's own directory (/tmp!).
        try:
            parent = os.path.dirname(p)
            if inside(parent):
                os.chmod(parent, 0o700)
            if inside(p):
                os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=onerror)


@pytest.fixture
def mailfs_factory():
    """Returns a function that makes a new, not yet mounted MailFS (a fresh
    store, cache directory and mount point). Use it to fill the store before
    mounting. Everything is unmounted and removed at the end of the test."""
    made = []

    def factory():
        base = tempfile.mkdtemp(prefix="mailfs-test-")
        fs = MailFS(base)
        made.append(fs)
        return fs

    yield factory
    finish_mounts(made)


def finish_mounts(made):
    """Print each mount's log (pytest shows it when the test failed), unmount
    and remove everything, and fail when a daemon's log holds a sanitizer
    report. Also used by the mounts of other stores (tests/harness)."""
    reports = []
    for fs in made:
        print("---- mailfs log (%s) ----\n%s" % (fs.base, fs.log_tail()))
        log = fs.log_tail(n=10 ** 7)
        fs.cleanup()
        # a daemon built with sanitizers reports into its log
        for marker in SANITIZER_MARKERS:
            if marker in log:
                reports.append(log[log.index(marker) - 200:][:4000])
                break
    assert not reports, "sanitizer report from mailfs:\n" + "\n".join(reports)


@pytest.fixture
def mfs(mailfs_factory):
    """A freshly seeded store, mounted."""
    return mailfs_factory().mount()


def fill_store(store, folder, count, start=0, subdir="cur", flags="S",
               size=None, date=None):
    """Write count generated messages straight into store/folder (creating the
    Maildir). Returns {name: bytes}."""
    fdir = os.path.join(store, folder)
    for sub in MAILDIR_SUBDIRS:
        os.makedirs(os.path.join(fdir, sub), exist_ok=True)
    out = {}
    for i in range(start, start + count):
        data = make_message(i, size=size, date=date)
        name = maildir_name("seed")
        if subdir == "cur":
            name = "%s:2,%s" % (name, flags)
        path = os.path.join(fdir, subdir, name)
        with open(path, "wb") as f:
            f.write(data)
        if date is not None:
            os.utime(path, (date, date))
        out[name] = data
    return out


def assert_errno(exc_info, *codes):
    got = exc_info.value.errno
    assert got in codes, "expected errno %s, got %s (%s)" % (
        "/".join(errno.errorcode[c] for c in codes),
        errno.errorcode.get(got, got), exc_info.value)
