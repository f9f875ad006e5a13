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
  FilterProxy(server, refuse_sync_report=, hold_listing=)
                a proxy of the test's own in front of a real server: it
                passes requests through unchanged, but can refuse the
                sync-collection REPORT as a server without it does, or
                answer 503 to every PROPFIND and REPORT for a while (so
                that the mount learns nothing of a change made meanwhile)
"""

import http.client
import http.server
import os
import sys
import threading
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


REFUSAL = (b'<?xml version="1.0"?><d:error xmlns:d="DAV:">'
           b'<d:supported-report/></d:error>')


class FilterProxy:
    def __init__(self, srv, refuse_sync_report=False):
        self.user, self.password = srv.user, srv.password
        self.refuse_sync_report = refuse_sync_report
        self.hold_listing = False
        self.refused = []
        proxy = self
        port = srv.port

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, ctype="application/xml"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def forward(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                if proxy.hold_listing and self.command in ("PROPFIND",
                                                           "REPORT"):
                    return self.reply(503, b"", "text/plain")
                if proxy.refuse_sync_report and self.command == "REPORT" \
                        and body and b"sync-collection" in body:
                    proxy.refused.append(self.path)
                    return self.reply(403, REFUSAL)
                hdr = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection")}
                c = http.client.HTTPConnection("127.0.0.1", port,
                                               timeout=20)
                try:
                    c.request(self.command, self.path, body=body,
                              headers=hdr)
                    r = c.getresponse()
                    data = r.read()
                finally:
                    c.close()
                self.send_response(r.status, r.reason)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "connection",
                                         "transfer-encoding", "server",
                                         "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_DELETE = forward
            do_PROPFIND = do_REPORT = forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()
        self.url = "http://127.0.0.1:%d/" % self.httpd.server_address[1]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
