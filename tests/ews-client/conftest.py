"""Fixtures for the EWS client's tests: a `type = ews` account mounted
against `mailfs serve --ews` (the embedded server) or against the
recorded-response server of tests/harness/fakeews.py.

The embedded server comes from tests/serve/conftest.py and the mounts from
tests/harness/mailfs_mount.py, each loaded under a name of its own (every
suite's conftest is called conftest).

  ews_store          a store with mail folders, a contacts and a calendar
                     folder; ews_served: `mailfs serve --ews` on it, its
                     calendar items' MimeContent MIME messages (as gromox
                     gives them)
  ews_config(...)    the config file of an account on a URL
  mount_factory      make(config, account) -> a mount (not yet mounted)
  has_op(server, op) whether the embedded server carries an operation
"""

import importlib.util
import os
import sys
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "harness"))


def _load(name, *parts):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(TESTS, *parts))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


serve_conftest = _load("mailfs_serve_conftest_ewsc", "serve", "conftest.py")
mount_mod = _load("mailfs_mount_ewsc", "harness", "mailfs_mount.py")

USER = serve_conftest.USER
PASSWORD = serve_conftest.PASSWORD
workdir = serve_conftest.workdir
mount_factory = mount_mod.imap_mount_factory
write_mailfs_config = mount_mod.write_mailfs_config
write_password_file = mount_mod.write_password_file

MAIL_FOLDERS = ("INBOX", "Sent", "Trash", "Drafts", "Archive", "Archive/2024")


@pytest.fixture
def fake():
    """make(**kw): a scripted EWS server (harness/fakeews.py) with this
    suite's credentials, stopped after the test."""
    import fakeews
    servers = []

    def make(**kw):
        s = fakeews.FakeEWS(USER, PASSWORD, **kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


def make_maildir(store, name):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(store, name, sub), exist_ok=True)


@pytest.fixture
def ews_store(workdir):
    store = os.path.join(workdir, "store")
    for name in MAIL_FOLDERS:
        make_maildir(store, name)
    os.makedirs(os.path.join(store, "Contacts"), exist_ok=True)
    with open(os.path.join(store, "Contacts", "bob.vcf"), "w") as f:
        f.write("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nEND:VCARD\r\n")
    return store


@pytest.fixture
def ews_served(ews_store, workdir, monkeypatch):
    # calendar items' MimeContent as gromox gives it: a MIME message with
    # the object in its text/calendar part, which the client must take
    monkeypatch.setenv("MAILFS_TEST_EWS_CALENDAR_MIME", "1")
    server = serve_conftest.Server(ews_store, workdir, protocols=("ews",))
    yield server
    rc = server.stop()
    log = server.log()
    assert rc == 0, log
    for marker in serve_conftest.SANITIZER_MARKERS:
        assert marker not in log, log


def mount_on(fs, server):
    """fs.mount(); a mount that fails says the server's side too."""
    try:
        fs.mount()
    except pytest.fail.Exception as e:
        pytest.fail("%s\nthe server's log:\n%s" % (e, server.log()[-6000:]))


def url_of(server):
    return "http://127.0.0.1:%d/EWS/Exchange.asmx" % server.port["ews"]


def ews_config(base, url, password=PASSWORD, account="ews", **extra):
    pw = write_password_file(os.path.join(base, "ews-password"), password)
    keys = {"type": "ews", "url": url, "allow_plaintext": True,
            "user": USER, "password_file": pw, "poll_interval": 1,
            "timeout": 5}
    keys.update(extra)
    return write_mailfs_config(os.path.join(base, "ews-config"), account,
                               keys)


def has_op(server, op):
    """Whether the embedded server runs `op` (it answers a Fault that says
    "not supported" for the operations it does not carry yet)."""
    import base64
    body = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.'
            'xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft'
            '.com/exchange/services/2006/messages"><s:Body><m:%s/></s:Body>'
            '</s:Envelope>' % op).encode()
    req = urllib.request.Request(url_of(server), data=body, headers={
        "Content-Type": "text/xml",
        "Authorization": "Basic " + base64.b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode()})
    try:
        text = urllib.request.urlopen(req, timeout=10).read()
    except urllib.error.HTTPError as e:
        text = e.read()
    return b"is not supported" not in text


def need_ops(server, *ops):
    missing = [op for op in ops if not has_op(server, op)]
    if missing:
        pytest.skip("the embedded EWS server has no %s yet" %
                    ", ".join(missing))
