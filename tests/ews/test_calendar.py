"""Calendar folders of `mailfs serve --ews` through exchangelib: the .ics
files as calendar items whose MimeContent is the file's bytes, and new
items stored from their MimeContent or their fields; an item's properties
changed by UpdateItem rewrite those lines of its file."""

import datetime
import os
import re

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
                b"TRIGGER:-P1DT2H\r\nEND:VALARM\r\n"
                b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    acc = account(ews_server)
    items = {i.subject: i for i in acc.calendar.all()}
    assert sorted(items) == ["Meeting", "Party, with friends"]
    party = items["Party, with friends"]
    assert party.location == "Garden"
    assert party.reminder_is_set
    assert party.reminder_minutes_before_start == 26 * 60
    assert not items["Meeting"].reminder_is_set
    assert items["Meeting"].sensitivity == "Normal"
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


def read_ics(store, name="meeting.ics"):
    with open(os.path.join(store, "Calendar", name), "rb") as f:
        return f.read().decode()


def test_update_times_in_a_zone(ews_server):
    """exchangelib sends Start and End in the item's zone, with its offset,
    and the zone as StartTimeZone and EndTimeZone: the file gets UTC."""
    import zoneinfo
    from exchangelib import EWSDateTime, EWSTimeZone, UTC
    acc = account(ews_server)
    berlin = EWSTimeZone.from_zoneinfo(zoneinfo.ZoneInfo("Europe/Berlin"))
    (item,) = [i for i in acc.calendar.all() if i.subject == "Meeting"]
    # winter and summer: +01:00 and +02:00
    item.start = EWSDateTime(2026, 12, 8, 12, 0, tzinfo=berlin)
    item.end = EWSDateTime(2027, 7, 1, 9, 30, tzinfo=berlin)
    item.save(update_fields=["start", "end"],
              send_meeting_invitations="SendToNone")
    ics = read_ics(ews_server.store)
    assert "DTSTART:20261208T110000Z\r\n" in ics, ics
    assert "DTEND:20270701T073000Z\r\n" in ics, ics
    got = acc.calendar.get(id=item.id)
    assert got.start == EWSDateTime(2026, 12, 8, 11, 0, tzinfo=UTC)
    assert got.end == EWSDateTime(2027, 7, 1, 7, 30, tzinfo=UTC)

    # an all-day event is sent as the midnights of its days in the
    # account's zone: its dates are those days, not the UTC ones before
    from exchangelib import EWSDate
    acc.default_timezone = berlin
    got.is_all_day = True
    got.start = EWSDate(2026, 12, 8)
    got.end = EWSDate(2026, 12, 8)
    got.save(update_fields=["is_all_day", "start", "end"],
             send_meeting_invitations="SendToNone")
    ics = read_ics(ews_server.store)
    assert "DTSTART;VALUE=DATE:20261208\r\n" in ics, ics
    assert "DTEND;VALUE=DATE:20261209\r\n" in ics, ics


def test_update_what_outlook_and_davmail_change(ews_server):
    """Sensitivity, the reminder, attendees and an HTML body, through
    exchangelib, as lines of the event; turned off or deleted again."""
    from exchangelib import Attendee, HTMLBody, Mailbox
    acc = account(ews_server)
    (item,) = [i for i in acc.calendar.all() if i.subject == "Meeting"]
    item.sensitivity = "Private"
    item.reminder_is_set = True
    item.reminder_minutes_before_start = 30
    item.body = HTMLBody("<html><head><style>p {}</style></head><body>"
                         "<p>Agenda:&nbsp;budget &amp; plans</p>"
                         "<p>Bring <b>notes</b></p></body></html>")
    item.required_attendees = [
        Attendee(mailbox=Mailbox(email_address="bob@example.org",
                                 name="Bob Smith"), response_type="Unknown")]
    item.optional_attendees = [
        Attendee(mailbox=Mailbox(email_address="carol@example.org"),
                 response_type="Unknown")]
    item.save(update_fields=["sensitivity", "reminder_is_set",
                             "reminder_minutes_before_start", "body",
                             "required_attendees", "optional_attendees"],
              send_meeting_invitations="SendToNone")
    ics = read_ics(ews_server.store)
    assert "CLASS:PRIVATE\r\n" in ics, ics
    assert ("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\n"
            "TRIGGER:-PT30M\r\nEND:VALARM\r\n") in ics, ics
    assert ("DESCRIPTION:Agenda:\u00a0budget & plans\\nBring notes\r\n"
            in ics), ics
    assert ('ATTENDEE;ROLE=REQ-PARTICIPANT;CN="Bob Smith":'
            'mailto:bob@example.org\r\n') in ics, ics
    assert ("ATTENDEE;ROLE=OPT-PARTICIPANT:mailto:carol@example.org\r\n"
            in ics), ics
    assert ics.index("BEGIN:VALARM") > ics.index("SUMMARY:Meeting")
    got = acc.calendar.get(id=item.id)
    assert got.subject == "Meeting"
    assert got.sensitivity == "Private"
    assert got.reminder_is_set and got.reminder_minutes_before_start == 30

    got.sensitivity = "Normal"
    got.reminder_is_set = False
    got.required_attendees = None
    got.save(update_fields=["sensitivity", "reminder_is_set",
                            "required_attendees"],
             send_meeting_invitations="SendToNone")
    ics = read_ics(ews_server.store)
    assert "CLASS" not in ics and "VALARM" not in ics, ics
    assert "bob@" not in ics and "mailto:carol@example.org" in ics, ics

    # turned on again without minutes: Exchange's default of 15
    got = acc.calendar.get(id=item.id)
    assert got.sensitivity == "Normal" and not got.reminder_is_set
    got.reminder_is_set = True
    got.save(update_fields=["reminder_is_set"],
             send_meeting_invitations="SendToNone")
    assert "TRIGGER:-PT15M\r\n" in read_ics(ews_server.store)
    got = acc.calendar.get(id=item.id)
    assert got.reminder_is_set and got.reminder_minutes_before_start == 15


UPDATE = """<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"
 xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">
<s:Header><t:RequestServerVersion Version="Exchange2013_SP1"/>%s</s:Header>
<s:Body><m:UpdateItem MessageDisposition="SaveOnly"
 ConflictResolution="AutoResolve"
 SendMeetingInvitationsOrCancellations="SendToNone">
<m:ItemChanges><t:ItemChange><t:ItemId Id="%s"/><t:Updates>%s
</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem></s:Body>
</s:Envelope>"""

CONTEXT = ('<t:TimeZoneContext><t:TimeZoneDefinition Id="%s"/>'
           '</t:TimeZoneContext>')


def set_field(uri, elem, value, kind="CalendarItem", attrs=""):
    return ('<t:SetItemField><t:FieldURI FieldURI="%s"/><t:%s><t:%s%s>%s'
            '</t:%s></t:%s></t:SetItemField>'
            % (uri, kind, elem, attrs, value, elem, kind))


def set_times(start, end):
    return (set_field("calendar:Start", "Start", start) +
            set_field("calendar:End", "End", end))


def set_ext(tag, value):
    return ('<t:SetItemField><t:ExtendedFieldURI PropertyTag="%s" '
            'PropertyType="String"/><t:Item><t:ExtendedProperty>'
            '<t:ExtendedFieldURI PropertyTag="%s" PropertyType="String"/>'
            '<t:Value>%s</t:Value></t:ExtendedProperty></t:Item>'
            '</t:SetItemField>' % (tag, tag, value))


def update(server, item_id, changes, header=""):
    """An UpdateItem as DavMail writes it: the ResponseCode."""
    import base64
    import re
    import urllib.request
    from conftest import PASSWORD, USER, endpoint
    body = (UPDATE % (header, item_id, changes)).encode()
    req = urllib.request.Request(endpoint(server), data=body, method="POST")
    req.add_header("Content-Type", "text/xml; charset=utf-8")
    token = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode())
    req.add_header("Authorization", "Basic " + token.decode())
    with urllib.request.urlopen(req, timeout=20) as resp:
        text = resp.read().decode()
    return re.search(r"<m:ResponseCode>([^<]*)<", text).group(1)


def test_update_times_without_offset(ews_server):
    """A time with no offset is in the change's StartTimeZone or
    EndTimeZone, else in the request's TimeZoneContext, else UTC; an
    unknown zone is ErrorTimeZone and changes nothing."""
    acc = account(ews_server)
    (item,) = [i for i in acc.calendar.all() if i.subject == "Meeting"]
    tz = lambda u, z: set_field(u, u.split(":")[1], "", attrs=' Id="%s"' % z)

    # the request's zone: New York, -05:00 in winter, -04:00 in summer
    assert update(ews_server, item.id,
                  set_times("2026-12-08T12:00:00", "2027-07-01T12:00:00"),
                  CONTEXT % "Eastern Standard Time") == "NoError"
    ics = read_ics(ews_server.store)
    assert "DTSTART:20261208T170000Z\r\n" in ics, ics
    assert "DTEND:20270701T160000Z\r\n" in ics, ics

    # the change's zones win over the request's; End in Start's when it
    # names none
    assert update(ews_server, item.id,
                  set_times("2026-12-08T12:00:00", "2026-12-08T13:00:00") +
                  tz("calendar:StartTimeZone", "W. Europe Standard Time"),
                  CONTEXT % "Tokyo Standard Time") == "NoError"
    ics = read_ics(ews_server.store)
    assert "DTSTART:20261208T110000Z\r\n" in ics, ics
    assert "DTEND:20261208T120000Z\r\n" in ics, ics
    assert update(ews_server, item.id,
                  set_times("2026-12-08T12:00:00", "2026-12-08T13:00:00") +
                  tz("calendar:StartTimeZone", "W. Europe Standard Time") +
                  tz("calendar:EndTimeZone", "Pacific Standard Time"),
                  CONTEXT % "Tokyo Standard Time") == "NoError"
    ics = read_ics(ews_server.store)
    assert "DTSTART:20261208T110000Z\r\n" in ics, ics
    assert "DTEND:20261208T210000Z\r\n" in ics, ics

    # an offset given is the time's own; no zone at all is UTC
    assert update(ews_server, item.id,
                  set_times("2026-12-09T12:00:00+05:30",
                            "2026-12-09T12:00:00"),
                  CONTEXT % "") == "ErrorTimeZone"
    assert update(ews_server, item.id,
                  set_times("2026-12-09T12:00:00+05:30",
                            "2026-12-09T12:00:00")) == "NoError"
    ics = read_ics(ews_server.store)
    assert "DTSTART:20261209T063000Z\r\n" in ics, ics
    assert "DTEND:20261209T120000Z\r\n" in ics, ics

    for changes, header in [
            (set_times("2026-12-10T12:00:00", "2026-12-10T13:00:00") +
             tz("calendar:StartTimeZone", "Mars Standard Time"), ""),
            (set_times("2026-12-10T12:00:00", "2026-12-10T13:00:00"),
             CONTEXT % "Europe/Berlin")]:
        assert update(ews_server, item.id, changes,
                      header) == "ErrorTimeZone"
        assert read_ics(ews_server.store) == ics


def test_update_subject_and_body_by_tag(ews_server):
    """DavMail sets the subject as PidTagSubject and deletes PidTagBody;
    PidTagNormalizedSubject is the subject too, other tags are refused."""
    acc = account(ews_server)
    (item,) = [i for i in acc.calendar.all() if i.subject == "Meeting"]
    assert update(ews_server, item.id, set_field(
        "item:Body", "Body", "Old; text", kind="Item",
        attrs=' BodyType="Text"')) == "NoError"
    assert "DESCRIPTION:Old\\; text\r\n" in read_ics(ews_server.store)
    # HTML nested deep: its text to the parser's depth of 256, the rest
    # dropped, and the server still there
    assert update(ews_server, item.id, set_field(
        "item:Body", "Body", "&lt;div&gt;x" * 100000, kind="Item",
        attrs=' BodyType="HTML"')) == "NoError"
    unfolded = read_ics(ews_server.store).replace("\r\n ", "")
    text = re.search(r"^DESCRIPTION:([^\r]*)\r$", unfolded, re.M).group(1)
    assert 200 <= text.count("x") <= 100000 and set(text) == {"x"}, text
    assert acc.calendar.get(id=item.id).subject == "Meeting"
    assert update(ews_server, item.id,
                  '<t:DeleteItemField><t:ExtendedFieldURI '
                  'PropertyTag="0x1000" PropertyType="String"/>'
                  '</t:DeleteItemField>' +
                  set_ext("0x37", "Long, lunch")) == "NoError"
    ics = read_ics(ews_server.store)
    assert "DESCRIPTION" not in ics and "SUMMARY:Long\\, lunch\r\n" in ics
    assert update(ews_server, item.id,
                  set_ext("0x0E1D", "Short lunch")) == "NoError"
    assert acc.calendar.get(id=item.id).subject == "Short lunch"
    ics = read_ics(ews_server.store)
    assert update(ews_server, item.id,
                  set_ext("0x37", "Not this") +
                  set_ext("0x0E04", "someone")) == "ErrorInvalidPropertySet"
    assert read_ics(ews_server.store) == ics
