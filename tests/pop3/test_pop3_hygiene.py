"""The password of a POP3 account is not left lying about in the daemon's
memory once it has logged in (USER/PASS or SASL PLAIN): only the copy
the account keeps to log in again (pop3c_cfg.password) stays."""

import base64
import os
import secrets

import pytest

from conftest import pop3_config
from dovecot import make_message

KEPT_COPIES = 1


def _readable_regions(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            name = fields[5] if len(fields) > 5 else ""
            if fields[1][0] != "r" or name in ("[vvar]", "[vsyscall]",
                                               "[vvar_vclock]"):
                continue
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            # a sanitizer's shadow memory: reserved, never a heap block
            if hi - lo <= 1 << 32:
                yield lo, hi


def count_in_memory(pid, needles):
    """How often each of needles (bytes) occurs in the readable memory of
    process pid (read as root through /proc/PID/mem)."""
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


@pytest.mark.parametrize("auth", ["plain", "user"])
def test_password_not_left_in_memory(dovecot_server, imap_mount_factory,
                                     tmp_path, auth):
    dv = dovecot_server
    password = "Hygiene-" + secrets.token_hex(24)
    user, _ = dv.add_user(password=password)
    dv.append(user, "INBOX", make_message(3))
    conf = pop3_config(dv, str(tmp_path / "conf"), user, auth=auth)
    fs = imap_mount_factory(conf, "pop3").mount()
    for name in os.listdir(fs.m("INBOX", "cur")):
        with open(fs.m("INBOX", "cur", name), "rb") as f:
            f.read()
    plain = base64.b64encode(b"\0" + user.encode() + b"\0" +
                             password.encode())
    # the tails: a freed block's first bytes are the allocator's own
    pw, b64 = count_in_memory(fs.pid, [password.encode()[-40:],
                                       plain[-40:]])
    assert pw <= KEPT_COPIES and b64 == 0, \
        "password found %d times, base64 of PLAIN %d times" % (pw, b64)
    assert pw >= 1, "the scan did not find even the kept copy"
