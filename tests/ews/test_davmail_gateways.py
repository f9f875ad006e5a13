"""DavMail's other gateways against `mailfs serve --ews`: smtplib through
its SMTP port (CreateItem with MessageDisposition SendOnly or
SendAndSaveCopy), python3-caldav through its CalDAV port (FindItem with
CalendarView and restrictions on the calendar, GetItem of calendar items
as MIME, CreateItem of events) and ldap3 through its LDAP port
(ResolveNames and contact searches).  One server and one gateway serve
the whole module: DavMail takes seconds to start, and each test leaves
the store as the next one expects it, checked after each step.
"""

import glob
import os
import re
import smtplib
import socket
import tempfile

import pytest

import conftest
from conftest import PASSWORD, USER, Server, endpoint, fill_store
from davmail import DAVMAIL, DavMail

pytestmark = pytest.mark.skipif(
    DAVMAIL is None, reason="davmail-server is not installed "
    "(scripts/install-deps test installs it)")

# what mailfs serve calls the user's mailbox: user@hostname
OWN = "%s@%s" % (USER, socket.gethostname())


@pytest.fixture(scope="module")
def site():
    with tempfile.TemporaryDirectory(prefix="mailfs-davmail-") as d:
        store = os.path.join(d, "store")
        fill_store(store)
        server = Server(store, d, protocols=("ews",))
        try:
            dm = DavMail(endpoint(server), d)
        except Exception:
            server.stop()
            raise
        try:
            yield server, dm
        finally:
            dm.stop()
            rc = server.stop()
            log = server.log()
            assert rc == 0, log
            for marker in conftest.serve_conftest.SANITIZER_MARKERS:
                assert marker not in log, log


def files(store, folder):
    return sorted(glob.glob(os.path.join(store, folder, "cur", "*")) +
                  glob.glob(os.path.join(store, folder, "new", "*")))


def snapshot(store):
    out = {}
    for root, _, names in os.walk(store):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, store)] = f.read()
    return out


def smtp(dm):
    s = smtplib.SMTP("127.0.0.1", dm.smtp, timeout=60)
    s.login(USER, PASSWORD)
    return s


MAIL = ("From: %s\r\nTo: %s\r\nSubject: note to self\r\n"
        "Message-ID: <self-1@example.org>\r\n"
        "Date: Mon, 07 Dec 2026 13:00:00 +0000\r\n\r\n"
        "Remember the milk.\r\n" % (OWN, OWN)).encode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sent_through(dm, store, rcpts, data):
    """Send `data` through DavMail's SMTP port; the new files of INBOX and
    Sent."""
    before = {f: set(files(store, f)) for f in ("INBOX", "Sent")}
    s = smtp(dm)
    try:
        assert s.sendmail(OWN, rcpts, data) == {}
    finally:
        s.quit()
    return {f: sorted(set(files(store, f)) - before[f])
            for f in ("INBOX", "Sent")}


def test_smtp_to_own_address_lands_in_inbox_and_sent(site):
    server, dm = site
    new = sent_through(dm, server.store, [OWN], MAIL)
    assert len(new["INBOX"]) == 1 and len(new["Sent"]) == 1, dm.text()
    # DavMail hands on the message without the CRLF that ends its DATA
    # (it takes it for part of the terminator); nothing else changes
    assert read(new["INBOX"][0]) == MAIL[:-2]
    assert read(new["Sent"][0]) == MAIL[:-2]
    assert new["INBOX"][0].endswith(":2,")
    assert new["Sent"][0].endswith(":2,S")


def test_smtp_bcc_is_not_delivered(site):
    server, dm = site
    data = MAIL.replace(b"To: ", b"Bcc: %s\r\nTo: " % OWN.encode(), 1)
    data = data.replace(b"<self-1@", b"<self-2@")
    new = sent_through(dm, server.store, [OWN], data)
    print(dm.text())
    assert len(new["INBOX"]) == 1 and len(new["Sent"]) == 1, dm.text()
    assert read(new["Sent"][0]) == data[:-2]
    assert read(new["INBOX"][0]) == MAIL.replace(b"<self-1@", b"<self-2@")[:-2]


def test_smtp_to_another_address_fails_and_changes_nothing(site):
    server, dm = site
    data = MAIL.replace(b"To: %s" % OWN.encode(),
                        b"To: %s, dave@example.net" % OWN.encode())
    before = snapshot(server.store)
    s = smtp(dm)
    try:
        with pytest.raises(smtplib.SMTPException) as err:
            s.sendmail(OWN, [OWN, "dave@example.net"], data)
    finally:
        s.close()
    print(err.value)
    assert "dave@example.net" in str(err.value)
    assert "ErrorInvalidRecipients" in str(err.value)
    assert snapshot(server.store) == before



def test_ldap_finds_contacts_by_mail_and_cn_prefix(site):
    """DavMail answers an LDAP search from the contacts folder (FindItem
    with a restriction on the card's fields; a contact's entry is
    uid=<its PidTagInternetArticleNumber>) and from the address book
    (ResolveNames: uid=<its alias>)."""
    import ldap3
    server, dm = site
    srv = ldap3.Server("127.0.0.1", port=dm.ldap)
    conn = ldap3.Connection(srv, user="uid=%s,ou=people" % USER,
                            password=PASSWORD, auto_bind=True)
    found = {}
    try:
        for flt in ("(mail=bob@example.org)", "(cn=Bo*)", "(cn=Zed*)",
                    "(mail=nobody@example.org)"):
            conn.search("ou=people", flt, attributes=["cn", "mail"])
            assert conn.result["result"] == 0, (conn.result, dm.text())
            found[flt] = {(e.entry_dn.split(",")[0], str(e.cn), str(e.mail))
                          for e in conn.entries}
    finally:
        conn.unbind()
    bob = ("Bob", "bob@example.org")
    for flt in ("(mail=bob@example.org)", "(cn=Bo*)"):
        assert {e[1:] for e in found[flt]} == {bob}, (found, dm.text())
        contacts = [e for e in found[flt] if e[0][4:].isdigit()]
        assert len(contacts) == 1, found
    assert found["(cn=Zed*)"] == set()
    assert found["(mail=nobody@example.org)"] == set()


def calendar(dm, client):
    return client.calendar(url="http://127.0.0.1:%d/users/%s/calendar/"
                           % (dm.caldav, OWN))


def test_caldav_reads_the_calendar(site):
    import caldav
    server, dm = site
    with caldav.DAVClient("http://127.0.0.1:%d/" % dm.caldav,
                          username=USER, password=PASSWORD,
                          timeout=60) as client:
        events = calendar(dm, client).events()
        got = [(str(e.icalendar_component["summary"]),
                e.icalendar_component["dtstart"].dt.isoformat())
               for e in events]
    assert got == [("Meeting", "2024-01-02T10:00:00+00:00")], dm.text()


NEW_EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailfs test//EN\r\n"
             "BEGIN:VEVENT\r\nUID:lunch-1@example.org\r\n"
             "DTSTAMP:20261207T120000Z\r\nDTSTART:20261208T120000Z\r\n"
             "DTEND:20261208T130000Z\r\nSUMMARY:Lunch\r\n"
             "END:VEVENT\r\nEND:VCALENDAR\r\n")


def test_caldav_creates_an_event_in_the_store(site):
    import caldav
    server, dm = site
    cal_dir = os.path.join(server.store, "Calendar")
    before = set(os.listdir(cal_dir))
    with caldav.DAVClient("http://127.0.0.1:%d/" % dm.caldav,
                          username=USER, password=PASSWORD,
                          timeout=60) as client:
        calendar(dm, client).save_event(NEW_EVENT)
    new = sorted(set(os.listdir(cal_dir)) - before)
    # the file is named after the CalDAV resource, so that the client
    # finds the event again under its name
    assert new == ["lunch-1@example.org.ics"], (new, dm.text())
    text = read(os.path.join(cal_dir, new[0])).decode()
    assert "UID:lunch-1@example.org" in text
    assert "SUMMARY:Lunch" in text
    # DavMail writes the event with its own additions (METHOD,
    # ORGANIZER, the zone the server named); the time stays 12:00 UTC
    assert re.search(r"^DTSTART(;TZID=[^:]*)?:20261208T120000Z?\r$",
                     text, re.M), text
    with caldav.DAVClient("http://127.0.0.1:%d/" % dm.caldav,
                          username=USER, password=PASSWORD,
                          timeout=60) as client:
        summaries = sorted(str(e.icalendar_component["summary"])
                           for e in calendar(dm, client).events())
    assert summaries == ["Lunch", "Meeting"]



def test_caldav_updates_an_event_in_the_store(site):
    import caldav
    server, dm = site
    path = os.path.join(server.store, "Calendar", "lunch-1@example.org.ics")
    assert os.path.exists(path), "the previous test makes the event"
    with caldav.DAVClient("http://127.0.0.1:%d/" % dm.caldav,
                          username=USER, password=PASSWORD,
                          timeout=60) as client:
        cal = calendar(dm, client)
        ev = cal.event_by_uid("lunch-1@example.org")
        comp = ev.icalendar_component
        comp["summary"] = "Long lunch"
        comp["location"] = "Canteen"
        del comp["dtend"]
        comp.add("dtend", comp["dtstart"].dt.replace(hour=14))
        # DavMail answers 200 to a PUT that overwrites an event, which
        # caldav's save() takes for a failure (it wants 201 or 204): the
        # same PUT, sent here
        r = client.put(str(ev.url), ev.data,
                       {"Content-Type": 'text/calendar; charset="utf-8"'})
        assert r.status in (200, 204), (r.status, dm.text())
    text = read(path).decode()
    assert "SUMMARY:Long lunch" in text, (text, dm.text())
    assert "LOCATION:Canteen" in text, text
    assert re.search(r"^DTEND(;TZID=[^:]*)?:20261208T140000Z?\r$",
                     text, re.M), text
    assert "UID:lunch-1@example.org" in text
    with caldav.DAVClient("http://127.0.0.1:%d/" % dm.caldav,
                          username=USER, password=PASSWORD,
                          timeout=60) as client:
        got = sorted((str(e.icalendar_component["summary"]),
                      str(e.icalendar_component.get("location", "")))
                     for e in calendar(dm, client).events())
    assert got == [("Long lunch", "Canteen"), ("Meeting", "")], got
