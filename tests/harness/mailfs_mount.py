"""Mounting a mailfs account described by a config file, for the tests of the
protocol clients (IMAP against Dovecot or the scripted fake server).

The mount machinery is the one of the embedded-store tests (tests/fs/conftest.py:
MailFS, unmounting, the sanitizer check); this module only changes the command
line to `mailfs -f --config FILE -o cache_dir=DIR ACCOUNT MOUNTPOINT`.

  write_mailfs_config()   a key-file config with one account
  ImapMailFS              MailFS for a configured account; .extra_args (e.g.
                          ["-d"] for the protocol trace), .mount_fails()
                          for a mount that must not come up, .vm_hwm_kb()
  imap_mount_factory      fixture: make(config, account) -> ImapMailFS (not
                          yet mounted); everything is unmounted and removed,
                          and a sanitizer report in a daemon's log fails the
                          test, at the end of the test
"""

import collections
import importlib.util
import os
import shlex
import subprocess
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)


def _load_fs_conftest():
    # Loaded under its own name: pytest may also load the same file as the
    # "conftest" of tests/fs, and the two must not replace each other.
    path = os.path.join(TESTS, "fs", "conftest.py")
    spec = importlib.util.spec_from_file_location("mailfs_fs_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


fsconf = _load_fs_conftest()
MAILFS = fsconf.MAILFS


def _keyfile_value(value):
    """A value as GLib's key-file parser reads it back unchanged."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        value = shlex.join(str(v) for v in value)
    value = str(value)
    if "\n" in value or "\r" in value:
        raise ValueError("a key-file value cannot hold a line break: %r" % value)
    value = value.replace("\\", "\\\\")
    if value.startswith((" ", "\t")):
        value = "\\s" + value[1:]
    return value


def write_password_file(path, password):
    """Write password (no line end) to path with mode 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password)
    os.chmod(path, 0o600)
    return path


def write_mailfs_config(path, account, keys, append=False):
    """Write (or with append=True add) the group [account NAME] with keys, a
    dict of key -> value (None values are left out; lists become a shell
    command line; bools true/false). Returns path."""
    lines = ["[account %s]" % account]
    for k, v in keys.items():
        if v is None:
            continue
        lines.append("%s = %s" % (k, _keyfile_value(v)))
    text = "\n".join(lines) + "\n"
    with open(path, "a" if append else "w") as f:
        if append and f.tell() > 0:
            f.write("\n")
        f.write(text)
    return path


def imap_account_keys(host="127.0.0.1", port=None, tls="implicit",
                      ca_file=None, user=None, password_file=None,
                      tunnel=None, connections=4, poll_interval=2, timeout=10,
                      **extra):
    """The keys of an IMAP account, in the order a person would write them.
    With tunnel (a command line, list or string), host/port/tls are left out.
    tls is implicit, starttls or none; none adds allow_plaintext = true.
    extra keys are added as given (a value of None removes a key)."""
    keys = {"type": "imap"}
    if tunnel is not None:
        keys["tunnel"] = tunnel
    else:
        keys["host"] = host
        keys["port"] = port
        keys["tls"] = tls
        if tls == "none":
            keys["allow_plaintext"] = True
        keys["ca_file"] = ca_file
    keys["user"] = user
    keys["password_file"] = password_file
    keys["connections"] = connections
    keys["poll_interval"] = poll_interval
    keys["timeout"] = timeout
    keys.update(extra)
    return keys


class ImapMailFS(fsconf.MailFS):
    """A mount of one configured account: cache and mount point under a
    private directory, the daemon run in the foreground as a child so that
    its log is kept (MailFS does the rest)."""

    def __init__(self, base, config, account):
        super().__init__(base)
        self.config = config
        self.account = account
        self.extra_args = []

    def command(self, *extra):
        return [MAILFS, "-f", "--config", self.config, "-o",
                "cache_dir=%s" % self.cache, *self.extra_args, *extra,
                self.account, self.mnt]

    def flush(self, check=True, timeout=120):
        """`mailfs flush` on the mount: every change on the server.
        Returns the completed process."""
        r = subprocess.run([MAILFS, "flush", self.mnt], capture_output=True,
                           text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, "mailfs flush: %s" % r.stderr
        return r

    @property
    def pid(self):
        """The daemon's pid while mounted, else None."""
        return self.proc.pid if self.proc is not None else None

    def vm_hwm_kb(self):
        """The daemon's peak resident set (VmHWM of /proc/PID/status) in
        KiB."""
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM for pid %d" % self.pid)

    def mount_fails(self, timeout=30):
        """Run the mount command expecting it to fail: returns
        MountFailure(returncode, output (stdout and stderr, str), seconds,
        maxrss_kb of the daemon). The output is also appended to the log.
        Fails the test when the command is still running after timeout
        seconds (it is killed then) or when the mount came up."""
        assert self.proc is None, "already mounted"
        self.mounts += 1
        out_path = os.path.join(self.base, "failed-mount-%d.out" % self.mounts)
        t0 = time.monotonic()
        deadline = t0 + timeout
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    env=self.env)
        rusage = None
        came_up = False
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                rusage = ru
                proc.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() >= deadline:
                proc.kill()
                proc.wait()
                break
            if not came_up and os.path.ismount(self.mnt):
                # it must not, but then it has to go away again
                came_up = True
                fsconf.unmount_path(self.mnt)
                deadline = time.monotonic() + fsconf.EXIT_TIMEOUT
            time.sleep(0.02)
        seconds = time.monotonic() - t0
        with open(out_path, "rb") as f:
            output = f.read().decode("utf-8", "replace")
        with open(self.log, "a") as log:
            log.write("\n==== mount %d (expected to fail): %s\n%s"
                      % (self.mounts, " ".join(self.command()), output))
        assert not came_up, "the mount came up; output:\n" + output[-4000:]
        if rusage is None:
            fsconf.unmount_path(self.mnt)
            raise AssertionError("the mount command still ran after %.0f s; "
                                 "output:\n%s" % (timeout, output[-4000:]))
        return MountFailure(proc.returncode, output, seconds,
                            rusage.ru_maxrss)


MountFailure = collections.namedtuple("MountFailure",
                                      "returncode output seconds maxrss_kb")


def fuse_missing_reason():
    return fsconf._fuse_missing_reason()


@pytest.fixture
def imap_mount_factory():
    """make(config, account) -> ImapMailFS, not yet mounted (call .mount()).
    Skips the test when this machine cannot mount FUSE. At the end of the
    test every mount is unmounted and removed; a sanitizer report in a
    daemon's log fails the test."""
    reason = fuse_missing_reason()
    if reason:
        pytest.skip(reason)
    made = []

    def make(config, account):
        base = tempfile.mkdtemp(prefix="mailfs-imap-test-")
        fs = ImapMailFS(base, config, account)
        made.append(fs)
        return fs

    yield make
    fsconf.finish_mounts(made)
