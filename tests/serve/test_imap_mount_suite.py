"""The IMAP issue's mount tests that need only an account (tests/imap/
test_imap_mount.py), run against `mailfs serve` instead of Dovecot: mailfs's
own IMAP client on the embedded server, the same checks."""

import contextlib
import imaplib
import importlib.util
import os
import sys

import pytest

from conftest import PASSWORD, USER

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))

import dovecot  # noqa: E402
from mailfs_mount import (imap_account_keys,  # noqa: E402,F401
                          imap_mount_factory, write_mailfs_config,
                          write_password_file)


def _imap_tests():
    path = os.path.join(os.path.dirname(HERE), "imap", "test_imap_mount.py")
    spec = importlib.util.spec_from_file_location("imap_mount_tests", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class ServeAccount:
    """The account of a `mailfs serve`, with the IMAP helpers the mount
    tests call on Dovecot (the same code: plain IMAP commands)."""

    def __init__(self, server):
        self.server = server
        self.users = {USER: PASSWORD}

    def connect(self, user=None, **kw):
        c = imaplib.IMAP4("127.0.0.1", self.server.port["imap"], timeout=10)
        if user is not None:
            c.login(user, self.users[user])
        return c

    client = contextlib.contextmanager(dovecot.Dovecot.client.__wrapped__)

    def mailfs_config(self, directory, account="imap", user=USER):
        os.makedirs(directory, exist_ok=True)
        pwfile = write_password_file(
            os.path.join(directory, "%s.password" % account),
            self.users[user])
        keys = imap_account_keys(host="127.0.0.1",
                                 port=self.server.port["imap"], tls="none",
                                 user=user, password_file=pwfile)
        return write_mailfs_config(os.path.join(directory, "mailfs.conf"),
                                   account, keys)


for _name in ("create_folder", "delete_folder", "rename_folder",
              "list_folders", "append", "_append", "append_many", "_select",
              "list_messages", "set_flags", "expunge", "move", "status",
              "uidvalidity"):
    setattr(ServeAccount, _name, getattr(dovecot.Dovecot, _name))


@pytest.fixture
def imap_mount(server, imap_mount_factory, tmp_path):
    account = ServeAccount(server)
    # the tests begin with an empty INBOX: the new store's welcome goes
    welcome = [m.uid for m in account.list_messages(USER, "INBOX")]
    if welcome:
        account.expunge(USER, "INBOX", welcome)
    conf = account.mailfs_config(str(tmp_path))
    fs = imap_mount_factory(conf, "imap")
    fs.user, fs.password, fs.dovecot = USER, PASSWORD, account
    return fs.mount()


_suite = _imap_tests()
test_flags_both_ways = _suite.test_flags_both_ways
test_move_and_delete = _suite.test_move_and_delete
test_delivery_appends = _suite.test_delivery_appends
test_folder_operations = _suite.test_folder_operations
test_utf8_folder_names = _suite.test_utf8_folder_names
test_server_changes_appear = _suite.test_server_changes_appear
