"""Contacts and events of a type = ews account named as a person would look
for them: the card's name, the event's date and summary, a " (2)" for a
second of the same name in the order of the ItemIds, the same on a fresh
cache, following a rename on the server (the recorded-response server's
contacts); a file written under a name of
the user's keeps that name on the mount.  And a calendar item whose
MimeContent holds no iCalendar object is made one from its properties."""

import os
import shutil
import time

import icalendar
import pytest

from conftest import ews_config, mount_on, url_of

BOB = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Sender\r\nN:Sender;Bob;;;\r\n"
       "EMAIL:bob@example.org\r\nEND:VCARD\r\n")
ALICE = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Alice Liddell\r\n"
         "N:Liddell;Alice;;;\r\nEND:VCARD\r\n")


def event(uid, summary="Stand-up", start="20240102T090000Z"):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
            "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20240101T000000Z\r\n"
            "DTSTART:%s\r\nSUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            % (uid, start, summary)).encode()


def wait_until(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not pred() and time.monotonic() < deadline:
        time.sleep(0.1)
    return pred()


def listing(fs):
    return {folder: {n: open(fs.m(folder, n), "rb").read()
                     for n in os.listdir(fs.m(folder))}
            for folder in ("Contacts", "Calendar")}


def test_names_collide_stay_and_follow(ews_served, ews_store, mount_factory,
                                       tmp_path):
    contacts = os.path.join(ews_store, "Contacts")
    for name, card in (("bob.vcf", BOB), ("bob2.vcf", BOB.replace(
            "bob@", "robert@")), ("alice.vcf", ALICE)):
        with open(os.path.join(contacts, name), "w", newline="") as f:
            f.write(card)
    cal = os.path.join(ews_store, "Calendar")
    os.makedirs(cal)
    for name, uid in (("a.ics", "s1"), ("b.ics", "s2")):
        with open(os.path.join(cal, name), "wb") as f:
            f.write(event(uid))
    conf = ews_config(str(tmp_path), url_of(ews_served))
    fs = mount_factory(conf, "ews")
    mount_on(fs, ews_served)
    first = listing(fs)
    assert sorted(first["Contacts"]) == [
        "Alice Liddell.vcf", "Bob Sender (2).vcf", "Bob Sender.vcf"]
    assert sorted(first["Calendar"]) == [
        "2024-01-02 Stand-up (2).ics", "2024-01-02 Stand-up.ics"]
    # the same names, each on the same item, with a wiped cache
    fs.unmount()
    shutil.rmtree(fs.cache)
    os.makedirs(fs.cache)
    mount_on(fs, ews_served)
    assert listing(fs) == first
    # a new file keeps the name it was written under
    with open(fs.m("Calendar", "lunch.ics"), "wb") as f:
        f.write(event("l1", "Lunch", "20240301T120000Z"))
    fs.flush()
    stored = [n for n in os.listdir(cal) if not n.startswith(".")]
    assert len(stored) == 3, stored
    assert "lunch.ics" in os.listdir(fs.m("Calendar"))
    # a mount that did not see it written names it by its content
    fresh = mount_factory(conf, "ews")
    mount_on(fresh, ews_served)
    assert "2024-03-01 Lunch.ics" in os.listdir(fresh.m("Calendar"))


def test_event_made_from_properties(fake, mount_factory, tmp_path):
    srv = fake()
    # no MimeContent at all, and a message without a text/calendar part
    srv.add_event("<t:Subject>Budget review</t:Subject>"
                  "<t:Start>2026-12-08T09:00:00Z</t:Start>"
                  "<t:End>2026-12-08T10:00:00Z</t:End>"
                  "<t:IsAllDayEvent>false</t:IsAllDayEvent>"
                  "<t:Location>Room 4</t:Location><t:UID>b-1</t:UID>")
    srv.add_event("<t:Subject>Offsite</t:Subject>"
                  "<t:Start>2026-12-09T23:00:00Z</t:Start>"
                  "<t:End>2026-12-10T23:00:00Z</t:End>"
                  "<t:IsAllDayEvent>true</t:IsAllDayEvent><t:UID>o-1</t:UID>",
                  mime=b"Subject: Offsite\r\nContent-Type: text/plain\r\n"
                       b"\r\nno calendar here\r\n")
    conf = ews_config(str(tmp_path), srv.url, timeout=5)
    fs = mount_factory(conf, "ews")
    fs.mount()
    names = sorted(os.listdir(fs.m("Calendar")))
    assert names == ["2026-12-08 Budget review.ics", "2026-12-10 Offsite.ics"]
    events = {}
    for n in names:
        data = open(fs.m("Calendar", n), "rb").read()
        assert os.stat(fs.m("Calendar", n)).st_size == len(data)
        (ev,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
        events[str(ev["UID"])] = ev
    assert str(events["b-1"]["LOCATION"]) == "Room 4"
    assert events["b-1"].decoded("DTSTART").isoformat() == \
        "2026-12-08T09:00:00+00:00"
    assert events["o-1"].decoded("DTSTART").isoformat() == "2026-12-10"


def test_contact_renamed_on_the_server(fake, mount_factory, tmp_path):
    srv = fake()
    card = ("<t:DisplayName>%s</t:DisplayName><t:EmailAddresses><t:Entry "
            "Key=\"EmailAddress1\">%s</t:Entry></t:EmailAddresses>")
    alice = srv.add_contact(card % ("Alice Liddell", "alice@example.org"))
    srv.add_contact(card % ("Bob", "bob@example.org"))
    srv.add_contact(card % ("Bob", "robert@example.org"))
    conf = ews_config(str(tmp_path), srv.url, timeout=5, poll_interval=1)
    fs = mount_factory(conf, "ews")
    fs.mount()
    names = sorted(os.listdir(fs.m("Contacts")))
    assert names == ["Alice Liddell.vcf", "Bob (2).vcf", "Bob.vcf"], names
    srv.change(alice, card % ("Alice Cooper", "alice@example.org"))
    assert wait_until(lambda: "Alice Cooper.vcf" in os.listdir(
        fs.m("Contacts"))), os.listdir(fs.m("Contacts"))
    assert sorted(os.listdir(fs.m("Contacts"))) == [
        "Alice Cooper.vcf", "Bob (2).vcf", "Bob.vcf"]
    data = open(fs.m("Contacts", "Alice Cooper.vcf")).read()
    assert "FN:Alice Cooper" in data and "alice@example.org" in data, data
