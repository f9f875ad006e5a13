"""fakemapi.py - a MAPI over HTTP server for the client's tests
([MS-OXCMAPIHTTP]): HTTP on 127.0.0.1 that answers EMSMDB, NSPI and
Autodiscover with what a real server (gromox 3.10) answered in the
recordings of tests/data/mapi-traces, their HTTP layer included: Basic
auth and its challenge, the echoed request headers, X-ResponseCode with
gromox's numbers, the sid and sequence cookies and their rules, the
meta-tags before the binary body, chunked transfer encoding.

ROP requests are read, not matched as bytes (fakemapi_wire.py reads them,
fakemapi_model.py answers them): a client's own handle indices, request
ids, column sets and ROP order get the answers the server gave, and what
the recordings cannot answer gets MAPI_E_NO_SUPPORT and a line in
`.unanswered`, which a test asserts empty.  NSPI requests are answered
when they ask what a recorded one asked (aux buffer and the presence
bytes aside); QueryRows, GetProps, DNToMId, ResolveNames and SeekEntries
besides from the address book of fakemapi_nspi.py; others get
MAPI_E_NO_SUPPORT and a line in `.unanswered`.  RegisterNotification is
accepted; a NotificationWait that answers EventPending leaves the
recorded RopNotify entries of 07-notifications (a mail delivered to the
Inbox) for the session's next Execute.

  FakeMAPI(user="alice@example.test", password="alicepw")
  .url, .emsmdb_url, .nspi_url, .autodiscover_url, .stop()
  .requests          [(request type, path, headers, body)], every POST
  .unanswered        [text], what the recordings could not answer
  .errors            [traceback], faults of the fake itself
  .hostile[type] = kind, .hostile_left[type] = N (only the next N)
      kinds: "drop" (connection closed mid-response), "pending" (PENDING
      keep-alives until the client leaves or the server stops),
      "truncated" (the Execute ROP buffer cut short, sizes consistent),
      "rowcount" (QueryRows says 3 rows more than it carries),
      "code" (X-ResponseCode .hostile_code, default 9), "503"
  .delay[type] = seconds   each answer of that type held back
  .event_pending, .notify_wait   what NotificationWait answers, and after
      how many seconds
  .pending_every     seconds between the PENDING lines of "pending"
  .autodiscover_rewrite   Autodiscover's mapiHttp URLs point here (True)
      rather than at the recorded https://localhost
  .store, .address_book   what was learnt (fakemapi_model, fakemapi_nspi)
"""

import base64
import email.utils
import http.server
import json
import os
import random
import re
import socketserver
import string
import threading
import time
import traceback
import uuid

from fakemapi_model import Store, Session, NO_SUPPORT, TRACES
from fakemapi_nspi import AddressBook
from fakemapi_wire import (WireError, Rd, build_execute_response,
                           parse_execute, u32, parse_execute_response,
                           split_payload, build_payload)

SERVER_APP = "Exchange/15.00.0847.4040"
EMSMDB_TYPES = ("Connect", "Execute", "Disconnect", "NotificationWait")
NSPI_TYPES = ("Bind", "Unbind", "CompareMIds", "DNToMId", "GetMatches",
              "GetPropList", "GetProps", "GetSpecialTable",
              "GetTemplateInfo", "ModLinkAtt", "ModProps", "QueryColumns",
              "QueryRows", "ResolveNames", "ResortRestriction",
              "SeekEntries", "UpdateStat", "GetMailboxUrl",
              "GetAddressBookUrl")
# what follows StatusCode and ErrorCode in a failed NSPI answer: every
# optional block absent ([MS-OXCMAPIHTTP] 2.2.5)
NSPI_FAIL = {"GetSpecialTable": u32(0) + b"\0\0", "QueryRows": b"\0\0",
             "ResolveNames": u32(0) + b"\0\0", "GetMatches": b"\0\0\0",
             "SeekEntries": b"\0\0", "DNToMId": b"\0",
             "GetProps": u32(0) + b"\0", "GetPropList": b"\0",
             "GetMailboxUrl": b"\0\0", "GetAddressBookUrl": b"\0\0",
             "QueryColumns": b"\0", "CompareMIds": u32(0),
             "UpdateStat": b"\0\0", "ResortRestriction": b"\0\0",
             "GetTemplateInfo": u32(0) + b"\0", "GetNamesFromIDs": b"\0\0",
             "GetIDsFromNames": b"\0"}
# gromox's X-ResponseCode texts, as recorded
RC_TEXT = {1: "The request has an invalid verb.",
           2: "The request has an invalid session context cookie.",
           3: "The request is missing a required header.",
           4: "The request does not have the required privilege.",
           5: "The request has an invalid request body.",
           6: "The request is missing a required cookie.",
           7: "The request has violated the sequencing requirement of one "
              "request at a time per Session Context.",
           8: "Invalid request type for this endpoint.",
           9: "The server is out of memory."}
# the request types whose STAT block's presence byte is at offset 4
NSPI_STAT = ("GetSpecialTable", "QueryRows", "ResolveNames", "GetMatches",
             "SeekEntries", "GetProps", "UpdateStat", "ResortRestriction")


def _date():
    return email.utils.formatdate(usegmt=True)


def _sid():
    return "".join(random.choice(string.ascii_lowercase + string.digits)
                   for _ in range(32))


def nspi_key(kind, body):
    """What an NSPI request asks, for matching against the recorded ones:
    the body without an empty aux buffer, its presence bytes read as
    booleans (the recorder sent 0x01 where servers send 0xFF)."""
    if kind in ("Bind", "Unbind"):
        return (kind,)
    b = bytearray(body[:-4] if body.endswith(b"\0\0\0\0") else body)

    def flag(pos):
        if pos < len(b) and b[pos]:
            b[pos] = 1
    if kind in NSPI_STAT:
        flag(4)
        try:
            if kind == "QueryRows":
                n = int.from_bytes(b[41:45], "little")
                flag(41 + 4 + 4 * n + 4)
            elif kind in ("GetProps", "ResolveNames"):
                flag(41)
                if kind == "ResolveNames" and b[41]:
                    n = int.from_bytes(b[42:46], "little")
                    flag(46 + 4 * n)
            elif kind == "SeekEntries":
                flag(41)
        except IndexError:
            pass
    elif kind == "DNToMId":
        flag(4)
    return (kind, bytes(b))


class MapiSession:
    def __init__(self, kind, store, unanswered):
        self.kind = kind
        self.sid = _sid()
        self.seq = str(uuid.uuid4())
        self.dead = False
        self.notify = b""       # RopNotify entries for the next Execute
        self.emsmdb = Session(store, unanswered) if kind == "emsmdb" \
            else None
        self.lock = threading.Lock()


class FakeMAPI:
    def __init__(self, user="alice@example.test", password="alicepw",
                 traces=TRACES):
        self.user, self.password = user, password
        self.store = Store(traces)
        self.unanswered = []
        self.requests = []
        self.errors = []
        self.hostile = {}
        self.hostile_left = {}
        self.hostile_code = 9
        self.delay = {}
        self.event_pending = 0
        self.notify_wait = 0.0
        self.pending_every = 0.2
        self.autodiscover_rewrite = True
        self.sessions = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._recorded()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                try:
                    fake._post(self)
                except Exception:
                    # a fault of the fake itself: the test sees it in
                    # .errors, the client an answer it cannot mistake
                    with fake.lock:
                        fake.errors.append(traceback.format_exc())
                    fake._plain(self, 500, b"fakemapi fault\r\n")

            def do_GET(self):
                fake._plain(self, 404, b"Not Found\r\n", keep=True)

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.emsmdb_url = self.url + "/mapi/emsmdb/?MailboxId=" + user
        self.nspi_url = self.url + "/mapi/nspi/?MailboxId=" + user
        self.autodiscover_url = self.url + "/autodiscover/autodiscover.xml"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _recorded(self):
        """The answers that do not depend on the request: Connect, the
        401 challenge, Autodiscover, and every NSPI answer by what it
        asked."""
        def binary(ex):
            r = ex["response"]
            return base64.b64decode(r["body_b64"])[r["mh_binary_offset"]:]
        first = self.store.scenario("01-connect-logon")["exchanges"]
        self.connect_answer = binary(first[0])
        self.challenge = dict(first[3]["response"]["headers"])[
            "WWW-Authenticate"]
        with open(os.path.join(self.store.traces,
                               "10-autodiscover.json")) as f:
            ad = json.load(f)["exchanges"][0]["response"]
        self.autodiscover_answer = base64.b64decode(ad["body_b64"])
        # the RopNotify entries of the Execute after the event
        notified = self.store.scenario("07-notifications")["exchanges"][4]
        self.notify_rops = split_payload(
            parse_execute_response(binary(notified))[0])[0]
        self.nspi = {}
        self.address_book = AddressBook(
            self.store.scenario("09-nspi")["exchanges"], binary)
        for ex in self.store.scenario("09-nspi")["exchanges"]:
            kind = dict(ex["request"]["headers"])["X-RequestType"]
            body = base64.b64decode(ex["request"]["body_b64"])
            self.nspi.setdefault(nspi_key(kind, body), binary(ex))

    # ---- HTTP ----

    def _plain(self, h, status, body, headers=(), keep=False):
        h.send_response_only(status)
        h.send_header("Date", _date())
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Content-Type", "text/plain; charset=utf-8")
        if keep:
            h.send_header("Connection", "keep-alive")
            h.send_header("Keep-Alive", "timeout=180")
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _rc(self, h, code, text=None):
        body = ('<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n'
                '<html><head>\r\n<title>MAPI OVER HTTP ERROR</title>\r\n'
                '</head><body>\r\n<h1>Diagnostic Information</h1>\r\n'
                '<p>%s</p>\r\n</body></html>\r\n'
                % (text or RC_TEXT.get(code, "error"))).encode()
        h.send_response_only(200)
        h.send_header("Cache-Control", "private")
        h.send_header("Content-Type", "text/html")
        h.send_header("X-ResponseCode", str(code))
        h.send_header("Content-Length", str(len(body)))
        h.send_header("X-ServerApplication", SERVER_APP)
        h.send_header("Date", _date())
        h.end_headers()
        h.wfile.write(body)

    def _auth_ok(self, h):
        want = base64.b64encode(("%s:%s" % (self.user, self.password))
                                .encode()).decode()
        if h.headers.get("Authorization", "") == "Basic " + want:
            return True
        self._plain(h, 401, b"Unauthorized\r\n",
                    [("WWW-Authenticate", self.challenge)], keep=True)
        return False

    def _post(self, h):
        n = int(h.headers.get("Content-Length", "0"))
        body = h.rfile.read(n)
        path = h.path
        if path.lower().startswith("/autodiscover/autodiscover.xml"):
            if self._auth_ok(h):
                self._record("Autodiscover", h, body)
                self._autodiscover(h)
            return
        m = re.match(r"/mapi/(emsmdb|nspi)/(\?.*)?$", path)
        if not m:
            self._plain(h, 404, b"Not Found\r\n", keep=True)
            return
        if not m.group(2) or len(m.group(2)) < 2:
            self._plain(h, 405, b"Method Not Allowed\r\n")
            return
        if not self._auth_ok(h):
            return
        kind = h.headers.get("X-RequestType")
        self._record(kind, h, body)
        if not kind:
            self._rc(h, 1)
            return
        hostile = self._take_hostile(kind)
        if self.delay.get(kind):
            time.sleep(self.delay[kind])
        if hostile == "503":
            self._plain(h, 503, b"Service Unavailable\r\n")
            return
        if hostile == "code":
            self._rc(h, self.hostile_code)
            return
        if m.group(1) == "emsmdb":
            self._emsmdb(h, kind, body, hostile)
        else:
            self._nspi(h, kind, body, hostile)

    def _record(self, kind, h, body):
        with self.lock:
            self.requests.append((kind, h.path, dict(h.headers.items()),
                                  body))

    def _take_hostile(self, kind):
        with self.lock:
            hostile = self.hostile.get(kind)
            if hostile and kind in self.hostile_left:
                self.hostile_left[kind] -= 1
                if self.hostile_left[kind] <= 0:
                    del self.hostile_left[kind]
                    del self.hostile[kind]
            return hostile

    def _cookies(self, h):
        out = {}
        for part in h.headers.get("Cookie", "").split(";"):
            k, _, v = part.strip().partition("=")
            if k:
                out[k] = v
        return out

    def _session(self, h, kind, check_seq=True):
        """The session the cookies name, or None once the failure is
        answered."""
        c = self._cookies(h)
        if "sid" not in c or (check_seq and "sequence" not in c):
            self._rc(h, 6)
            return None
        with self.lock:
            s = self.sessions.get(c["sid"])
        if s is None or s.dead or s.kind != kind:
            self._rc(h, 2)
            return None
        if check_seq and c["sequence"] != s.seq:
            self._rc(h, 7)
            return None
        return s

    def _new_session(self, kind):
        s = MapiSession(kind, self.store, self.unanswered)
        with self.lock:
            self.sessions[s.sid] = s
        return s

    def _answer(self, h, kind, binary, s, new_seq=True, seq=True,
                hostile=None, twice=False):
        if new_seq and seq:
            s.seq = str(uuid.uuid4())
        sequence = s.seq if new_seq else \
            self._cookies(h).get("sequence", s.seq)
        start = _date()
        h.send_response_only(200)
        for k, v in (("Cache-Control", "private"),
                     ("Content-Type", "application/mapi-http"),
                     ("X-RequestType", kind),
                     ("X-RequestId", h.headers.get("X-RequestId", "")),
                     ("X-ClientInfo", h.headers.get("X-ClientInfo", "")),
                     ("X-ResponseCode", "0"), ("X-PendingPeriod", "30000"),
                     ("X-ExpirationInfo", "900000"),
                     ("X-ServerApplication", SERVER_APP), ("Date", start),
                     ("Set-Cookie", "sid=" + s.sid),
                     ("Transfer-Encoding", "chunked")):
            h.send_header(k, v)
        if seq:
            h.send_header("Set-Cookie", "sequence=" + sequence)
        h.end_headers()
        try:
            self._chunk(h, b"PROCESSING\r\n")
            if twice:
                self._chunk(h, b"PROCESSING\r\n")
            if hostile == "pending":
                while not self.stopping.is_set():
                    self._chunk(h, b"PENDING\r\n")
                    time.sleep(self.pending_every)
                h.close_connection = True
                return
            rest = (b"DONE\r\nX-ElapsedTime: 0\r\nX-StartTime: " +
                    start.encode() + b"\r\n\r\n" + binary)
            if hostile == "drop":
                h.wfile.write(b"%x\r\n" % len(rest) + rest[:len(rest) // 2])
                h.wfile.flush()
                h.close_connection = True
                return
            self._chunk(h, rest)
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            h.close_connection = True

    def _chunk(self, h, data):
        h.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        h.wfile.flush()

    def _autodiscover(self, h):
        body = self.autodiscover_answer
        if self.autodiscover_rewrite:
            body = body.replace(b"https://localhost/mapi/",
                                self.url.encode() + b"/mapi/")
        h.send_response_only(200)
        h.send_header("Content-Type", "text/xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    # ---- EMSMDB ----

    def _emsmdb(self, h, kind, body, hostile):
        if kind not in EMSMDB_TYPES:
            # gromox consumes the sequence and sends no new one
            s = self.sessions.get(self._cookies(h).get("sid", ""))
            if s is not None:
                s.seq = str(uuid.uuid4())
            self._rc(h, 8)
            return
        if kind == "Connect":
            try:
                rd = Rd(body)
                rd.asciiz()
                rd.take(16)
                rd.take(rd.u32())
            except WireError as e:
                self._rc(h, 5, "Connect request: %s" % e)
                return
            s = self._new_session("emsmdb")
            self._answer(h, kind, self.connect_answer, s, hostile=hostile)
            return
        s = self._session(h, "emsmdb", check_seq=(kind == "Execute"))
        if s is None:
            return
        if kind == "Disconnect":
            s.dead = True
            self._answer(h, kind, u32(0) * 3, s, new_seq=False,
                         hostile=hostile)
            return
        if kind == "NotificationWait":
            end = time.monotonic() + self.notify_wait
            while time.monotonic() < end and not self.stopping.is_set():
                time.sleep(0.05)
            if self.event_pending:
                with s.lock:
                    s.notify += self.notify_rops
            self._answer(h, kind, u32(0) + u32(0) + u32(self.event_pending)
                         + u32(0), s, seq=False, hostile=hostile, twice=True)
            return
        with s.lock:
            try:
                parse_execute(body)
                payload = s.emsmdb.execute_body(
                    body, tamper=(hostile == "rowcount"))
                if s.notify:
                    rops, handles = split_payload(payload)
                    payload = build_payload(rops + s.notify, handles)
                    s.notify = b""
            except WireError as e:
                with self.lock:
                    self.unanswered.append("Execute: %s" % e)
                self._rc(h, 5, "Execute request: %s" % e)
                return
        if hostile == "truncated":
            ropsize = int.from_bytes(payload[:2], "little")
            cut = max(3, ropsize // 2)
            payload = (cut).to_bytes(2, "little") + payload[2:cut] + \
                payload[ropsize:]
        self._answer(h, kind, build_execute_response(payload), s,
                     hostile=hostile)

    # ---- NSPI ----

    def _nspi_model(self, kind, body, why):
        ab = self.address_book
        try:
            if kind == "QueryRows":
                return ab.query_rows(body, why)
            if kind == "GetProps":
                return ab.get_props(body, why)
            if kind == "DNToMId":
                return ab.dn_to_mid(body)
            if kind == "ResolveNames":
                return ab.resolve_names(body, why)
            if kind == "SeekEntries":
                return ab.seek_entries(body, why)
        except WireError as e:
            why.append("NSPI %s: %s" % (kind, e))
        return None

    def _nspi(self, h, kind, body, hostile):
        kind = {k.lower(): k for k in NSPI_TYPES}.get(kind.lower(), kind)
        if kind not in NSPI_TYPES:
            s = self.sessions.get(self._cookies(h).get("sid", ""))
            if s is not None:
                s.seq = str(uuid.uuid4())
            self._rc(h, 8)
            return
        if kind == "Bind":
            s = self._new_session("nspi")
        else:
            s = self._session(h, "nspi", check_seq=(kind != "Unbind"))
            if s is None:
                return
        answer = self.nspi.get(nspi_key(kind, body))
        why = []
        if answer is None:
            answer = self._nspi_model(kind, body, why)
        if answer is None:
            with self.lock:
                self.unanswered.append(why[0] if why else
                                       "NSPI %s: no recorded request asked "
                                       "this (%s)" % (kind, body.hex()))
            answer = u32(0) + u32(NO_SUPPORT) + \
                NSPI_FAIL.get(kind, b"") + u32(0)
        if kind == "Unbind":
            s.dead = True
        # gromox echoes NSPI request types in lower case
        self._answer(h, kind.lower(), answer, s, seq=(kind != "Unbind"),
                     hostile=hostile)

