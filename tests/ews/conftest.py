"""Fixtures for the tests of the embedded EWS server (`mailfs serve
--ews`), driven by exchangelib, the EWS client we did not write.

The server itself is tests/serve/conftest.py's Server, loaded under a
name of its own (every suite's conftest is called conftest).

Helpers:
  fill_store(path)   makes the test store at path
  ews_server         a running `mailfs serve --ews` on a store with a few
                     folders; .port['ews'], .store
  endpoint(server)   its service URL
  account(server)    an exchangelib Account on it, version guessed
"""

import importlib.util
import os

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "mailfs_serve_conftest", os.path.join(_HERE, "..", "serve", "conftest.py"))
serve_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serve_conftest)

Server = serve_conftest.Server
USER = serve_conftest.USER
PASSWORD = serve_conftest.PASSWORD
make_message = serve_conftest.make_message
inbox_files = serve_conftest.inbox_files
workdir = serve_conftest.workdir

MAIL_FOLDERS = ("INBOX", "Sent", "Trash", "Drafts", "Archive", "Archive/2024")


def make_maildir(store, name):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(store, name, sub), exist_ok=True)


def put_message(store, folder, unique, data, flags="S"):
    path = os.path.join(store, folder, "cur", "%s:2,%s" % (unique, flags))
    with open(path, "wb") as f:
        f.write(data)
    return path


def fill_store(store):
    """The test store: mail folders, Contacts/bob.vcf, Calendar/meeting.ics."""
    for name in MAIL_FOLDERS:
        make_maildir(store, name)
    # the files tell the store these folders' kinds
    os.makedirs(os.path.join(store, "Contacts"), exist_ok=True)
    with open(os.path.join(store, "Contacts", "bob.vcf"), "w") as f:
        f.write("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\n"
                "EMAIL:bob@example.org\r\nEND:VCARD\r\n")
    os.makedirs(os.path.join(store, "Calendar"), exist_ok=True)
    with open(os.path.join(store, "Calendar", "meeting.ics"), "w") as f:
        f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
                "BEGIN:VEVENT\r\nUID:m1\r\nDTSTAMP:20240101T000000Z\r\n"
                "DTSTART:20240102T100000Z\r\nSUMMARY:Meeting\r\n"
                "END:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def ews_server(workdir):
    store = os.path.join(workdir, "store")
    fill_store(store)
    server = Server(store, workdir, protocols=("ews",))
    yield server
    rc = server.stop()
    log = server.log()
    assert rc == 0, log
    for marker in serve_conftest.SANITIZER_MARKERS:
        assert marker not in log, log


def endpoint(server):
    return "http://127.0.0.1:%d/EWS/Exchange.asmx" % server.port["ews"]


def account(server, password=PASSWORD):
    from exchangelib import (BASIC, DELEGATE, Account, Configuration,
                             Credentials)
    from exchangelib.protocol import BaseProtocol
    creds = Credentials(USER, password)
    config = Configuration(service_endpoint=endpoint(server),
                           credentials=creds, auth_type=BASIC,
                           max_connections=2)
    BaseProtocol.MAX_SESSION_POOL_SIZE = 2
    return Account(primary_smtp_address="alice@example.org", config=config,
                   autodiscover=False, access_type=DELEGATE)
