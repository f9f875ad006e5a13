"""Calendar folders of `mailfs serve --ews` through exchangelib: the .ics
files as calendar items whose MimeContent is the file's bytes, and new
items stored from their MimeContent or their fields; an item's properties
changed by UpdateItem rewrite those lines of its file."""

import datetime
import os

from conftest import account

MEETING = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
           "BEGIN:VEVENT\r\nUID:m1\r\nDTSTAMP:20240101T000000Z\r\n"
           "DTSTART:20240102T100000Z\r\nSUMMARY:Meeting\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def ics_files(store):
    d = os.path.join(store, "Calendar")
    return sorted(n for n in os.listdir(d) if n.endswith(".ics"))


def test_list_and_get(ews_server):
    store = ews_server.store
    with open(os.path.join(store, "Calendar", "party.ics"), "wb") as f:
        f.write(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n"
                b"BEGIN:VEVENT\r\nUID:p1\r\nDTSTAMP:20240101T000000Z\r\n"
                b"DTSTART;TZID=Europe/Berlin:20240601T190000\r\n"
                b"DTEND;TZID=Europe/Berlin:20240601T230000\r\n"
                b"SUMMARY:Party\\, with friends\r\nLOCATION:Garden\r\n"
                b"BEGIN:VALARM\r\nACTION:DISPLAY\r\nSUMMARY:not this\r\n"
                b"TRIGGER:-PT15M\r\nEND:VALARM\r\n"
                b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    acc = account(ews_server)
    items = {i.subject: i for i in acc.calendar.all()}
    assert sorted(items) == ["Meeting", "Party, with friends"]
    party = items["Party, with friends"]
    assert party.location == "Garden"
    assert party.uid == "p1"
    from exchangelib import EWSDateTime, UTC
    assert party.start == EWSDateTime(2024, 6, 1, 17, 0, tzinfo=UTC)
    assert party.end == EWSDateTime(2024, 6, 1, 21, 0, tzinfo=UTC)
    meeting = acc.calendar.get(id=items["Meeting"].id)
    assert meeting.mime_content == MEETING
    assert meeting.uid == "m1"
    assert meeting.start == meeting.end


def times():
    """exchangelib insists on Start and End; MimeContent wins here."""
    from exchangelib import EWSDateTime, UTC
    return dict(start=EWSDateTime(2030, 1, 1, 0, 0, tzinfo=UTC),
                end=EWSDateTime(2030, 1, 1, 1, 0, tzinfo=UTC))


def test_create_from_mime_content(ews_server):
    from exchangelib import CalendarItem
    acc = account(ews_server)
    ics = MEETING.replace(b"UID:m1", b"UID:m2").replace(b"Meeting",
                                                        b"Second")
    item = CalendarItem(folder=acc.calendar, mime_content=ics, **times())
    item.save(send_meeting_invitations="SendToNone")
    names = ics_files(ews_server.store)
    assert len(names) == 2
    new = [n for n in names if n != "meeting.ics"][0]
    with open(os.path.join(ews_server.store, "Calendar", new), "rb") as f:
        assert f.read() == ics
    got = acc.calendar.get(id=item.id)
    assert got.subject == "Second" and got.mime_content == ics


def test_create_from_fields_and_delete(ews_server):
    from exchangelib import CalendarItem, EWSDateTime, UTC
    acc = account(ews_server)
    item = CalendarItem(folder=acc.calendar, subject="Lunch; soon",
                        location="Cafe",
                        start=EWSDateTime(2024, 3, 4, 12, 0, tzinfo=UTC),
                        end=EWSDateTime(2024, 3, 4, 13, 0, tzinfo=UTC))
    item.save(send_meeting_invitations="SendToNone")
    got = acc.calendar.get(id=item.id)
    assert got.subject == "Lunch; soon" and got.location == "Cafe"
    assert got.end - got.start == datetime.timedelta(hours=1)
    assert b"SUMMARY:Lunch\\; soon\r\n" in got.mime_content
    got.delete()
    assert ics_files(ews_server.store) == ["meeting.ics"]


def test_update_fields(ews_server):
    from exchangelib import EWSDateTime, UTC
    from exchangelib.errors import ErrorInvalidPropertySet
    import pytest
    acc = account(ews_server)
    path = os.path.join(ews_server.store, "Calendar", "meeting.ics")
    (item,) = [i for i in acc.calendar.all() if i.subject == "Meeting"]
    item.subject = "Review"
    item.location = "Room 2"
    item.start = EWSDateTime(2024, 1, 3, 14, 0, tzinfo=UTC)
    item.end = EWSDateTime(2024, 1, 3, 15, 0, tzinfo=UTC)
    item.save(update_fields=["subject", "location", "start", "end"],
              send_meeting_invitations="SendToNone")
    assert ics_files(ews_server.store) == ["meeting.ics"]
    with open(path, "rb") as f:
        ics = f.read()
    assert ics == (MEETING.replace(b"SUMMARY:Meeting", b"SUMMARY:Review")
                   .replace(b"DTSTART:20240102T100000Z",
                            b"DTSTART:20240103T140000Z")
                   .replace(b"END:VEVENT", b"LOCATION:Room 2\r\n"
                            b"DTEND:20240103T150000Z\r\nEND:VEVENT")), ics
    got = acc.calendar.get(id=item.id)
    assert got.subject == "Review" and got.location == "Room 2"
    assert got.start == EWSDateTime(2024, 1, 3, 14, 0, tzinfo=UTC)
    # a property the file does not hold here is refused, nothing changed
    got.categories = ["work"]
    with pytest.raises(ErrorInvalidPropertySet):
        got.save(update_fields=["categories"],
                 send_meeting_invitations="SendToNone")
    with open(path, "rb") as f:
        assert f.read() == ics


def test_hostile_ics(ews_server):
    from exchangelib import CalendarItem
    from exchangelib.errors import ErrorInvalidPropertySet
    import pytest
    with open(os.path.join(ews_server.store, "Calendar", "bad.ics"),
              "wb") as f:
        f.write(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n"
                b"SUMMARY:\xff\x01\r\n")
    acc = account(ews_server)
    assert sorted(i.subject or "" for i in acc.calendar.all()) == [
        "", "Meeting"]
    item = CalendarItem(folder=acc.calendar, mime_content=b"not ical",
                        **times())
    with pytest.raises(ErrorInvalidPropertySet):
        item.save(send_meeting_invitations="SendToNone")
