"""DELETE of the mailbox the session has selected, in `mailfs serve` and in
Dovecot: the same commands on the same store, answered alike.  RFC 3501
leaves to the server what becomes of the session; Dovecot deletes the
mailbox and leaves the session with none selected, and so does mailfs
serve.  INBOX, which neither server deletes, stays refused."""

import os
import re
import socket

import pytest

from conftest import PASSWORD, USER, Server, make_message
from test_keywords import DOVECOT_IMAP, dovecot_session

# the session ends after b: Dovecot tells BYE and closes
DELETE_SELECTED = ("a SELECT Work\r\n"
                   "b DELETE Work\r\n"
                   "c NOOP\r\n")
AFTER = ("a SELECT INBOX\r\n"
         "b DELETE INBOX\r\n"
         "c LIST \"\" *\r\n"
         "d LOGOUT\r\n")

def make_store(path):
    for folder in ("INBOX", "Work"):
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(path, folder, sub), exist_ok=True)
    for folder, unique in (("INBOX", "1.a"), ("Work", "2.b")):
        with open(os.path.join(path, folder, "cur", unique + ":2,S"),
                  "wb") as f:
            f.write(make_message(subject="in " + folder))


def mailfs_session(workdir, store, script):
    """The lines of `script` sent one by one to mailfs serve's IMAP after
    LOGIN, each answer read to its tagged line; returns the output."""
    srv = Server(store, workdir, protocols=("imap",))
    out = []
    try:
        with socket.create_connection(("127.0.0.1", srv.port["imap"]),
                                      timeout=10) as sock:
            f = sock.makefile("rb")
            f.readline()
            sock.sendall(b'l LOGIN "%s" "%s"\r\n' % (USER.encode(),
                                                       PASSWORD.encode()))
            while not f.readline().startswith(b"l "):
                pass
            for line in script.splitlines(keepends=True):
                tag = line.split(" ", 1)[0].encode()
                try:
                    sock.sendall(line.encode())
                    while True:
                        got = f.readline()
                        if not got:
                            break
                        out.append(got.decode(errors="replace"))
                        if got.startswith(tag + b" "):
                            break
                except OSError:
                    break   # the server ended the session
                if not got:
                    break
    finally:
        assert srv.stop() == 0, srv.log()
    return "".join(out)


def tagged(out):
    """tag -> OK, NO or BAD."""
    return {m.group(1): m.group(2) for m in
            re.finditer(r"^([a-d]) (OK|NO|BAD)\b", out, re.M)}


def listed(out):
    return sorted(m.group(1).strip('"') for m in
                  re.finditer(r'^\* LIST \([^)]*\) "/" (.+?)\r?$', out, re.M))


@pytest.mark.skipif(not os.path.exists(DOVECOT_IMAP), reason="no Dovecot")
def test_delete_selected_mailbox_as_dovecot_does(workdir):
    ours = os.path.join(workdir, "ours")
    dov_dir = os.path.join(workdir, "dovecot")
    theirs = os.path.join(dov_dir, "store")
    os.chmod(workdir, 0o755)
    make_store(ours)
    make_store(theirs)
    dov = dovecot_session(dov_dir, theirs, DELETE_SELECTED)
    got = mailfs_session(workdir, ours, DELETE_SELECTED)
    assert tagged(dov) == {"a": "OK", "b": "OK"}, dov
    assert tagged(got) == tagged(dov), (got, dov)
    assert re.search(r"^\* BYE ", dov, re.M), dov
    assert re.search(r"^\* BYE ", got, re.M), got
    assert not os.path.exists(os.path.join(ours, "Work"))
    assert not os.path.exists(os.path.join(theirs, "Work"))

    dov = dovecot_session(dov_dir, theirs, AFTER)
    got = mailfs_session(workdir, ours, AFTER)
    assert tagged(dov) == {"a": "OK", "b": "NO", "c": "OK", "d": "OK"}, dov
    assert tagged(got) == tagged(dov), (got, dov)
    assert listed(got) == listed(dov) == ["INBOX"], (got, dov)
    assert os.listdir(os.path.join(ours, "INBOX", "cur"))
