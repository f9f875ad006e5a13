"""The EWS client against a server we did not write: grommunio gromox's
answers to a whole mount (tests/data/ews-traces/) played back by
tests/harness/fakeews.py.  Calendar files are iCalendar objects (the
text/calendar part of the MIME gromox gives, as Exchange does), Directory
cards carry the address they were looked up by, and contacts and events
are named as a person would look for them."""

import os

import pytest

from conftest import ews_config

TRACE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "data", "ews-traces", "gromox-mount.json")


@pytest.fixture
def mounted(fake, mount_factory, tmp_path):
    srv = fake(recording=TRACE)
    conf = ews_config(str(tmp_path), srv.url, timeout=5, poll_interval=30)
    fs = mount_factory(conf, "ews")
    fs.mount()
    fs.srv = srv
    return fs


def cards(fs):
    # the sub-folders gromox keeps below Contacts are directories
    return sorted(n for n in os.listdir(fs.m("Contacts"))
                  if n.endswith(".vcf"))


def read(path):
    size = os.stat(path).st_size
    data = open(path, "rb").read()
    assert size == len(data), path
    return data


def test_gromox_event_is_icalendar(mounted):
    import icalendar
    fs = mounted
    (name,) = os.listdir(fs.m("Calendar"))
    data = read(fs.m("Calendar", name))
    assert data.startswith(b"BEGIN:VCALENDAR\r\n"), data[:200]
    assert data.endswith(b"END:VCALENDAR\r\n"), data[-200:]
    cal = icalendar.Calendar.from_ical(data)
    (ev,) = cal.walk("VEVENT")
    assert str(ev["SUMMARY"]) == "Team sync"
    assert str(ev["UID"]) == "appt-0001@example.test"
    assert str(ev["LOCATION"]) == "Room 1"
    assert ev.decoded("DTSTART").isoformat() == "2026-12-10T10:00:00+00:00"
    # mail reads as before; every request found its recorded answer
    assert len(os.listdir(fs.m("INBOX", "cur"))) >= 1
    for n in os.listdir(fs.m("INBOX", "cur")):
        read(fs.m("INBOX", "cur", n))
    real = [op for op, body in fs.srv.unanswered
            if op not in ("SyncFolderItems", "ResolveNames")]
    assert real == [], real


def test_gromox_directory_card_has_the_address(mounted):
    fs = mounted
    card = read(fs.m("Directory", "bob@example.test.vcf")).decode()
    assert "\r\nEMAIL:bob@example.test\r\n" in card, card
    assert "FN:Bob Sender" in card, card
    assert os.listdir(fs.m("Directory", "Car*")) == ["carol@example.test.vcf"]
    carol = read(fs.m("Directory", "Car*", "carol@example.test.vcf")).decode()
    assert "\r\nEMAIL:carol@example.test\r\n" in carol, carol


def test_gromox_readable_names(mounted):
    fs = mounted
    assert os.listdir(fs.m("Calendar")) == ["2026-12-10 Team sync.ics"]
    assert cards(fs) == ["Bob Sender.vcf", "Erin External.vcf"]
    bob = read(fs.m("Contacts", "Bob Sender.vcf")).decode()
    assert "FN:Bob Sender" in bob and "bob@example.test" in bob, bob


def test_gromox_names_survive_a_wiped_cache(fake, mount_factory, tmp_path):
    srv = fake(recording=TRACE)
    conf = ews_config(str(tmp_path), srv.url, timeout=5, poll_interval=30)
    fs = mount_factory(conf, "ews")
    fs.mount()
    first = (cards(fs),
             os.listdir(fs.m("Calendar")))
    fs.unmount()
    import shutil
    shutil.rmtree(fs.cache)
    fs.mount()
    assert (cards(fs),
            os.listdir(fs.m("Calendar"))) == first
