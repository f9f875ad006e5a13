"""Fixtures for the tests of what a user installs: `meson install` into a
private DESTDIR, the units, the completion, the man pages, fstab.

The build directory is the one of the MAILFS binary under test (meson passes
MAILFS), so each build (plain, sanitizers) installs and checks its own."""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MAILFS = os.environ.get("MAILFS", os.path.join(REPO, "build", "mailfs"))
BUILD = os.path.dirname(os.path.abspath(MAILFS))

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))


class Installed:
    """What `meson install --destdir ROOT` put under ROOT; paths by role."""

    def __init__(self, root):
        self.root = root
        bins = glob.glob(os.path.join(root, "**", "bin", "mailfs"),
                         recursive=True)
        assert len(bins) == 1, "meson install put mailfs at %s" % bins
        self.bindir = os.path.dirname(bins[0])
        self.prefix = os.path.dirname(self.bindir)
        self.mailfs = bins[0]
        self.man1 = os.path.join(self.prefix, "share", "man", "man1",
                                 "mailfs.1")
        self.man5 = os.path.join(self.prefix, "share", "man", "man5",
                                 "mailfs.conf.5")
        self.units = os.path.join(self.prefix, "lib", "systemd", "user")
        self.completion = os.path.join(self.prefix, "share",
                                       "bash-completion", "completions",
                                       "mailfs")

    def env(self, **extra):
        """The environment of a user with this install first on PATH."""
        env = dict(os.environ)
        env["PATH"] = self.bindir + os.pathsep + env.get("PATH", "")
        env["MANPATH"] = os.path.join(self.prefix, "share", "man")
        env.update(extra)
        return env


@pytest.fixture
def installed(tmp_path):
    root = tmp_path / "destdir"
    r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild",
                        "--destdir", str(root)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "meson install failed:\n%s%s" % (r.stdout,
                                                              r.stderr)
    return Installed(str(root))


@pytest.fixture
def home(tmp_path):
    """A user's home with the XDG directories in it; returns the env
    additions."""
    h = tmp_path / "home"
    for d in (".config/mailfs", ".cache", ".local/share"):
        (h / d).mkdir(parents=True)
    os.chmod(h, 0o700)
    return {"HOME": str(h),
            "XDG_CONFIG_HOME": str(h / ".config"),
            "XDG_CACHE_HOME": str(h / ".cache"),
            "XDG_DATA_HOME": str(h / ".local" / "share")}


class NotifySocket:
    """The datagram socket a service manager listens on (NOTIFY_SOCKET),
    collecting what the service sends there."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def wait_for(self, field, timeout=30.0, alive=None):
        """Wait until a message holds the line `field` (such as READY=1);
        returns that message.  `alive` () -> bool stops the wait early when
        the service died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in self.messages:
                if field in m.split("\n"):
                    return m
            if alive is not None and not alive():
                raise AssertionError("the service ended before %s" % field)
            self.sock.settimeout(0.2)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.messages.append(data.decode())
        raise AssertionError("no %s within %s s (got %r)" %
                             (field, timeout, self.messages))

    def close(self):
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path):
    s = NotifySocket(str(tmp_path / "notify"))
    yield s
    s.close()


def unit_commands(installed, unit, instance, home_dir):
    """The command lines of an installed unit file as systemd would run
    them: a dict of directive -> list of argv, with %i and %h expanded and a
    leading '-' (failure ignored) kept as the first element's prefix.  The
    unit names the program where the install put it once DESTDIR is taken
    away; here it runs from the DESTDIR."""
    path = os.path.join(installed.units, unit)
    final_bindir = installed.bindir[len(installed.root):]
    cmds = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("Exec") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            value = value.replace("%i", instance).replace("%h", home_dir)
            argv = value.split()
            prog = argv[0].lstrip("-")
            if prog.startswith(final_bindir + "/"):
                argv[0] = argv[0].replace(final_bindir, installed.bindir, 1)
            cmds.setdefault(key, []).append(argv)
    return cmds


def unit_settings(path):
    """Every key = value of a unit file (the last one of each key)."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def is_mounted(path):
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


def wait_until(cond, timeout=20.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


def force_unmount(path):
    if is_mounted(path):
        subprocess.run([shutil.which("fusermount3") or "fusermount3", "-uz",
                        path], capture_output=True)

