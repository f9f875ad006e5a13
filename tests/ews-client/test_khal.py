"""A calendar tool we did not write reading the events of an EWS account:
vdirsyncer copies the mount's Calendar/ (its filesystem storage, a
directory of .ics files) into a vdir and khal lists the events.  Both
refuse a file that is not an iCalendar object, which is what a calendar
item's MimeContent is when `mailfs serve --ews` gives it as Exchange
does (a MIME message)."""

import os
import subprocess

from conftest import ews_config, mount_on, url_of

PARTY = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
         b"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\n"
         b"DTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\n"
         b"TZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
         b"DTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\n"
         b"TZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
         b"BEGIN:VEVENT\r\nUID:party-1@example.org\r\n"
         b"DTSTAMP:20240101T000000Z\r\n"
         b"DTSTART;TZID=Europe/Berlin:20240601T190000\r\n"
         b"DTEND;TZID=Europe/Berlin:20240601T230000\r\n"
         b"SUMMARY:Garden party\r\nLOCATION:Garden\r\n"
         b"END:VEVENT\r\nEND:VCALENDAR\r\n")
TRIP = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:trip-1@example.org\r\n"
        b"DTSTAMP:20240101T000000Z\r\nDTSTART;VALUE=DATE:20240602\r\n"
        b"DTEND;VALUE=DATE:20240603\r\nSUMMARY:Day trip\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n")


def run(cmd, env):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, (cmd, r.stdout, r.stderr)
    return r.stdout


def test_khal_lists_the_events(ews_served, ews_store, mount_factory,
                               tmp_path):
    cal = os.path.join(ews_store, "Calendar")
    os.makedirs(cal)
    for name, data in (("party.ics", PARTY), ("trip.ics", TRIP)):
        with open(os.path.join(cal, name), "wb") as f:
            f.write(data)
    fs = mount_factory(ews_config(str(tmp_path), url_of(ews_served)), "ews")
    mount_on(fs, ews_served)
    assert sorted(os.listdir(fs.m("Calendar"))) == [
        "2024-06-01 Garden party.ics", "2024-06-02 Day trip.ics"]

    home = tmp_path / "home"
    local = tmp_path / "vdir"
    for d in (home, local):
        d.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home),
               XDG_DATA_HOME=str(home), XDG_CACHE_HOME=str(home), TZ="UTC",
               LC_ALL="C.UTF-8")
    vconf = tmp_path / "vdirsyncer.conf"
    vconf.write_text(
        '[general]\nstatus_path = "%s/status/"\n\n'
        '[pair cal]\na = "mount"\nb = "local"\ncollections = null\n'
        'conflict_resolution = "a wins"\n\n'
        '[storage mount]\ntype = "filesystem"\npath = "%s/"\n'
        'fileext = ".ics"\nread_only = true\n\n'
        '[storage local]\ntype = "filesystem"\npath = "%s/"\n'
        'fileext = ".ics"\n' % (tmp_path, fs.m("Calendar"), local))
    run(["vdirsyncer", "-c", str(vconf), "discover"], env)
    run(["vdirsyncer", "-c", str(vconf), "sync"], env)
    assert len(os.listdir(local)) == 2

    kconf = tmp_path / "khal.conf"
    kconf.write_text(
        "[calendars]\n[[mail]]\npath = %s\ntype = calendar\n"
        "[locale]\ntimeformat = %%H:%%M\ndateformat = %%Y-%%m-%%d\n"
        "longdateformat = %%Y-%%m-%%d\ndatetimeformat = %%Y-%%m-%%d %%H:%%M\n"
        "longdatetimeformat = %%Y-%%m-%%d %%H:%%M\nlocal_timezone = UTC\n"
        "default_timezone = UTC\n[sqlite]\npath = %s/khal.db\n"
        % (local, tmp_path))
    out = run(["khal", "-c", str(kconf), "list", "--format",
               "{start} {title}", "2024-06-01", "3d"], env)
    assert "2024-06-01 17:00 Garden party" in out, out
    assert "2024-06-02 Day trip" in out, out
