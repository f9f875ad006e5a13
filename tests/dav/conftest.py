"""Fixtures for the CardDAV/CalDAV client: real Radicale and Xandikos
servers on 127.0.0.1 (tests/harness/radicale.py, xandikos.py), filled
with generated cards and events, and mounts of type = carddav / caldav
accounts of them (tests/harness/mailfs_mount.py).

  radicale      a Radicale with alice's address books "Friends" and
                "Work people" and the calendar "Work", filled
  xandikos      a Xandikos with its default address book and calendar,
                filled
  dav_mount(server, type, tmp_path, **keys)
                a mounted account of `server`; poll_interval 1
  wait_for(cond, timeout)
"""

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "harness"))

from mailfs_mount import (imap_mount_factory, write_mailfs_config,  # noqa
                          write_password_file)
from radicale import Radicale  # noqa: E402
from xandikos import Xandikos  # noqa: E402

__all__ = ["imap_mount_factory"]


def card(n, extra=""):
    """A vCard 3.0, CR LF ended, with a non-ASCII name."""
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-%d\r\n"
            "FN:Zoë Person %d\r\nN:Person %d;Zoë;;;\r\n"
            "EMAIL;TYPE=INTERNET:p%d@example.org\r\n%sEND:VCARD\r\n"
            % (n, n, n, n, extra)).encode()


def event(n, summary=None):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailfs tests//EN\r\n"
            "BEGIN:VEVENT\r\nUID:event-%d\r\nDTSTAMP:20260101T000000Z\r\n"
            "DTSTART:202602%02dT100000Z\r\nDTEND:202602%02dT110000Z\r\n"
            "SUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            % (n, n % 27 + 1, n % 27 + 1,
               summary or "Meeting %d" % n)).encode()


def fill(srv, ab, cal, cards=6, events=5):
    for i in range(cards):
        srv.put("%sc%d.vcf" % (ab, i), card(i), create=True)
    for i in range(events):
        srv.put("%se%d.ics" % (cal, i), event(i), create=True)


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    srv = Radicale(tmp_path_factory.mktemp("radicale"))
    srv.friends = srv.make_collection("friends", "addressbook", "Friends")
    srv.work = srv.make_collection("work", "addressbook", "Work people")
    srv.calendar = srv.make_collection("cal", "calendar", "Work")
    fill(srv, srv.friends, srv.calendar)
    srv.put(srv.work + "w1.vcf", card(100), create=True)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def xandikos(tmp_path_factory):
    srv = Xandikos(tmp_path_factory.mktemp("xandikos"))
    fill(srv, srv.addressbook, srv.calendar)
    yield srv
    srv.stop()


def account_keys(srv, kind, tmp, **extra):
    keys = {"type": kind, "url": srv.url, "allow_plaintext": True,
            "user": srv.user or "nobody",
            "password_file": write_password_file(
                os.path.join(str(tmp), "pw-%s" % kind),
                srv.password or "unused"),
            "poll_interval": 1, "timeout": 10}
    keys.update(extra)
    return keys


@pytest.fixture
def dav_mount(imap_mount_factory, tmp_path):
    def make(srv, kind, **extra):
        cfg = os.path.join(str(tmp_path), "accounts-%s" % kind)
        write_mailfs_config(cfg, "dav", account_keys(srv, kind, tmp_path,
                                                     **extra))
        return imap_mount_factory(cfg, "dav")
    return make


def wait_for(cond, timeout=15, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)
