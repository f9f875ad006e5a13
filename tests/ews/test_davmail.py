"""DavMail (Debian's davmail-server) in EWS mode against `mailfs serve
--ews`, driven as Thunderbird drives it: Python's imaplib through
DavMail's IMAP port.  What DavMail does with each IMAP command is its own
choice of EWS operations (ConvertId to learn the mailbox, GetFolder of
every distinguished folder, FindFolder and FindItem with restrictions and
sort orders, extended properties by tag and by name, CreateItem,
UpdateItem, CopyItem, DeleteItem); the store is checked after each.
"""

import glob
import imaplib
import os
import time

import pytest

from conftest import PASSWORD, USER, endpoint, put_message
from davmail import DAVMAIL, DavMail

pytestmark = pytest.mark.skipif(
    DAVMAIL is None, reason="davmail-server is not installed "
    "(scripts/install-deps test installs it)")

MSG1 = (b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
        b"Subject: hello from bob\r\nMessage-ID: <1@example.org>\r\n"
        b"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nHello there.\r\n")
MSG2 = (b"From: Carol <carol@example.org>\r\nTo: alice@example.org\r\n"
        b"Subject: =?utf-8?q?caf=C3=A9?= plans\r\n"
        b"Message-ID: <2@example.org>\r\n"
        b"Date: Mon, 07 Dec 2026 11:00:00 +0000\r\n\r\nSecond body.\r\n")


@pytest.fixture
def gateway(ews_server, workdir):
    put_message(ews_server.store, "INBOX", "1000.a", MSG1, "S")
    put_message(ews_server.store, "INBOX", "1001.b", MSG2, "")
    dm = DavMail(endpoint(ews_server), workdir)
    yield dm
    dm.stop()


def files(store, folder):
    return sorted(glob.glob(os.path.join(store, folder, "cur", "*")) +
                  glob.glob(os.path.join(store, folder, "new", "*")))


def login(dm):
    m = imaplib.IMAP4("127.0.0.1", dm.imap, timeout=60)
    typ, _ = m.login(USER, PASSWORD)
    assert typ == "OK"
    return m


def test_login_and_folders(gateway, ews_server):
    m = login(gateway)
    try:
        typ, lines = m.list()
        assert typ == "OK", gateway.text()
        names = {line.decode().rsplit(' "/" ', 1)[1].strip('"')
                 for line in lines}
        assert {"INBOX", "Sent", "Trash", "Drafts", "Archive"} <= names
    finally:
        m.logout()


def test_read_messages_byte_for_byte(gateway, ews_server):
    m = login(gateway)
    try:
        typ, data = m.select("INBOX")
        assert (typ, data) == ("OK", [b"2"]), gateway.text()
        typ, data = m.fetch("1:2", "(FLAGS RFC822.SIZE RFC822)")
        assert typ == "OK"
        got = [d for d in data if isinstance(d, tuple)]
        bodies = [d[1] for d in got]
        assert sorted(bodies) == sorted([MSG1, MSG2])
        for head, body in got:
            assert b"RFC822.SIZE %d" % len(body) in head
            seen = b"\\Seen" in head
            assert seen == (body == MSG1)
    finally:
        m.logout()


def test_search_is_answered_by_the_server(gateway, ews_server):
    m = login(gateway)
    try:
        m.select("INBOX")
        typ, data = m.search(None, "UNSEEN")
        assert typ == "OK", gateway.text()
        unseen = data[0].split()
        assert len(unseen) == 1
        typ, data = m.fetch(unseen[0].decode(), "(RFC822)")
        assert data[0][1] == MSG2
        typ, data = m.search(None, "SUBJECT", "hello")
        hits = data[0].split()
        assert len(hits) == 1
        typ, data = m.fetch(hits[0].decode(), "(RFC822)")
        assert data[0][1] == MSG1
        typ, data = m.search(None, "SUBJECT", "nothing-like-this")
        assert data == [b""]
    finally:
        m.logout()


def test_flags_append_copy_expunge_reach_the_store(gateway, ews_server):
    store = ews_server.store
    m = login(gateway)
    try:
        m.select("INBOX")
        typ, data = m.search(None, "UNSEEN")
        n = data[0].split()[0].decode()
        typ, _ = m.store(n, "+FLAGS", "(\\Seen \\Flagged)")
        assert typ == "OK", gateway.text()
        carol = [p for p in files(store, "INBOX") if "1001.b" in p]
        assert len(carol) == 1 and carol[0].endswith(":2,FS"), carol

        new = (b"From: alice@example.org\r\nTo: bob@example.org\r\n"
               b"Subject: appended through the gateway\r\n"
               b"Message-ID: <3@example.org>\r\n"
               b"Date: Mon, 07 Dec 2026 12:00:00 +0000\r\n\r\nAppended.\r\n")
        typ, _ = m.append("INBOX", "(\\Seen)",
                          imaplib.Time2Internaldate(time.time()), new)
        assert typ == "OK", gateway.text()
        appended = [p for p in files(store, "INBOX")
                    if "1000.a" not in p and "1001.b" not in p]
        assert len(appended) == 1
        assert appended[0].endswith(":2,S")
        with open(appended[0], "rb") as f:
            assert f.read() == new

        m.select("INBOX")
        typ, data = m.search(None, "SUBJECT", "hello")
        bob = data[0].split()[0].decode()
        typ, _ = m.copy(bob, "Archive")
        assert typ == "OK", gateway.text()
        copied = files(store, "Archive")
        assert len(copied) == 1
        with open(copied[0], "rb") as f:
            assert f.read() == MSG1

        typ, _ = m.store(bob, "+FLAGS", "(\\Deleted)")
        assert typ == "OK"
        bobs = [p for p in files(store, "INBOX") if "1000.a" in p]
        assert bobs[0].endswith(":2,ST"), bobs
        typ, _ = m.expunge()
        assert typ == "OK", gateway.text()
        assert not [p for p in files(store, "INBOX") if "1000.a" in p]
        assert len(files(store, "INBOX")) == 2
    finally:
        m.logout()
