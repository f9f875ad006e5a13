"""Mounting a mailfs account described by a config file, for the tests of the
protocol clients (IMAP against Dovecot or the scripted fake server).

The mount machinery is the one of the embedded-store tests (tests/fs/conftest.py:
MailFS, unmounting, the sanitizer check); this module only changes the command
line to `mailfs -f --config FILE -o cache_dir=DIR ACCOUNT MOUNTPOINT`.

  write_mailfs_config()   a key-file config with one account
  ImapMailFS              MailFS for a configured account
  imap_mount_factory      fixture: make(config, account) -> ImapMailFS (not
                          yet mounted); everything is unmounted and removed,
                          and a sanitizer report in a daemon's log fails the
                          test, at the end of the test
"""

import importlib.util
import os
import shlex
import tempfile

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

    def command(self, *extra):
        return [MAILFS, "-f", "--config", self.config, "-o",
                "cache_dir=%s" % self.cache, *extra, self.account, self.mnt]


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
