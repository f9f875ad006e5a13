"""The POP3 mount tests: a real Dovecot (tests/harness/dovecot.py) serving
POP3 on 127.0.0.1, the mailfs binary, and a few scripted hostile servers
(test_pop3_hostile.py)."""

import os
import poplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "harness"))

from dovecot import (dovecot_module, dovecot_server,  # noqa: E402,F401
                     imap_mount_factory, write_mailfs_config,
                     write_password_file)


def pop3_account_keys(host="127.0.0.1", port=None, tls="implicit",
                      ca_file=None, user=None, password_file=None,
                      poll_interval=1, timeout=10, **extra):
    """The keys of a POP3 account. tls none adds allow_plaintext = true;
    extra keys are added as given (None leaves one out)."""
    keys = {"type": "pop3", "host": host, "port": port, "tls": tls}
    if tls == "none":
        keys["allow_plaintext"] = True
    keys.update({"ca_file": ca_file, "user": user,
                 "password_file": password_file,
                 "poll_interval": poll_interval, "timeout": timeout})
    keys.update(extra)
    return keys


def pop3_config(dv, directory, user, account="pop3", tls="implicit",
                password=None, ca_file="default", **keys):
    """Write DIRECTORY/mailfs.conf with a POP3 account for user on the
    Dovecot dv, and its password file. ca_file="default": the test CA;
    None: none. Returns the config's path."""
    os.makedirs(directory, exist_ok=True)
    pwfile = write_password_file(
        os.path.join(directory, "%s.password" % account),
        password if password is not None else dv.users[user])
    port = dv.pop3s_port if tls == "implicit" else dv.pop3_port
    if ca_file == "default":
        ca_file = dv.ca_file if tls != "none" else None
    kv = pop3_account_keys(host=dv.host, port=port, tls=tls, ca_file=ca_file,
                           user=user, password_file=pwfile, **keys)
    return write_mailfs_config(os.path.join(directory, "mailfs.conf"),
                               account, kv)


def pop3_messages(dv, user):
    """{uidl (str): the message as POP3 sends it (CRLF line ends)} from
    the Dovecot dv, over plain POP3 with poplib."""
    p = poplib.POP3(dv.host, dv.pop3_port, timeout=10)
    try:
        p.user(user)
        p.pass_(dv.users[user])
        out = {}
        for line in p.uidl()[1]:
            num, uidl = line.decode().split()
            lines = p.retr(int(num))[1]
            out[uidl] = b"".join(l + b"\r\n" for l in lines)
        return out
    finally:
        p.quit()
