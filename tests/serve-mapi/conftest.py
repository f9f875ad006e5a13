"""Fixtures for the tests of the embedded MAPI over HTTP server (`mailfs
serve --mapi`), driven by the requests a real client sent to a real
server (tests/data/mapi-traces/), whose answers fakemapi_wire.py (a
decoder written apart from the C codecs) reads back.

The server itself is tests/serve/conftest.py's Server, loaded under a
name of its own (every suite's conftest is called conftest).

Helpers:
  mapi_server        a running `mailfs serve --mapi` on a store shaped like
                     the recorded mailbox; .port['mapi'], .store
  Client(server)     one HTTP connection with its cookies: .post(), .replay()
  trace(name)        a recording's JSON
"""

import base64
import http.client
import json
import os
import importlib.util
import shutil
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
# fakemapi_wire.py, the decoder written apart from the C codecs
sys.path.insert(0, os.path.join(_HERE, "..", "harness"))
_spec = importlib.util.spec_from_file_location(
    "mailfs_serve_conftest", os.path.join(_HERE, "..", "serve", "conftest.py"))
serve_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serve_conftest)

Server = serve_conftest.Server
USER = serve_conftest.USER
PASSWORD = serve_conftest.PASSWORD
workdir = serve_conftest.workdir
wait_until = serve_conftest.wait_until

TRACES = os.path.join(_HERE, "..", "data", "mapi-traces")
EML = os.path.join(TRACES, "eml")

# store folder -> the eml files it holds; the Inbox's 11 is read
STORE = {
    "INBOX": ["%02d-" % i for i in range(1, 13)],
    "INBOX/Projects": ["13-", "14-"],
    "Sent": [], "Trash": [], "Drafts": [],
}
READ = {"11-"}


def trace(name):
    with open(os.path.join(TRACES, name + ".json")) as f:
        return json.load(f)


def eml_file(prefix):
    for name in sorted(os.listdir(EML)):
        if name.startswith(prefix) and name.endswith(".eml"):
            return os.path.join(EML, name)
    raise KeyError(prefix)


def build_store(store):
    # delivery order is the order of the file dates, as in the recording
    when = 1700000000
    for folder, prefixes in STORE.items():
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(store, folder, sub), exist_ok=True)
        for p in prefixes:
            flags = "S" if p in READ else ""
            dst = os.path.join(store, folder, "cur",
                               "%d.m%s.test:2,%s" % (when, p[:2], flags))
            shutil.copyfile(eml_file(p), dst)
            os.utime(dst, (when, when))
            when += 60
    os.makedirs(os.path.join(store, "Contacts"), exist_ok=True)
    for name in ("contact-1-bob.vcf", "contact-2-erin.vcf"):
        shutil.copyfile(os.path.join(EML, name),
                        os.path.join(store, "Contacts", name))
    os.makedirs(os.path.join(store, "Calendar"), exist_ok=True)
    shutil.copyfile(os.path.join(EML, "appointment-1.ics"),
                    os.path.join(store, "Calendar", "appointment-1.ics"))


def check_log(server, rc):
    log = server.log()
    assert rc == 0, log
    for marker in serve_conftest.SANITIZER_MARKERS:
        assert marker not in log, log


@pytest.fixture
def mapi_server(workdir):
    store = os.path.join(workdir, "store")
    build_store(store)
    server = Server(store, workdir, protocols=("mapi",))
    yield server
    check_log(server, server.stop())


def basic(user=USER, password=PASSWORD):
    raw = ("%s:%s" % (user, password)).encode()
    return "Basic " + base64.b64encode(raw).decode()


class Reply:
    def __init__(self, resp, body):
        self.status = resp.status
        self.headers = resp.getheaders()
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def binary(self):
        """The binary response after the meta-tags, which must be there."""
        end = self.body.index(b"\r\n\r\n")
        meta = self.body[:end].split(b"\r\n")
        assert meta[0] == b"PROCESSING", meta
        assert b"DONE" in meta, meta
        assert any(m.startswith(b"X-ElapsedTime: ") for m in meta), meta
        assert any(m.startswith(b"X-StartTime: ") for m in meta), meta
        return self.body[end + 4:]


class Client:
    """One HTTP connection to the server and the cookies it was given."""

    def __init__(self, server, auth=None):
        self.port = server.port["mapi"]
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=30)
        self.cookies = {}
        self.auth = basic() if auth is None else auth

    def close(self):
        self.conn.close()

    def post(self, path, headers, body, cookies=None):
        h = dict(headers)
        if self.auth:
            h["Authorization"] = self.auth
        jar = self.cookies if cookies is None else cookies
        if jar:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
        self.conn.request("POST", path, body=body, headers=h)
        resp = self.conn.getresponse()
        reply = Reply(resp, resp.read())
        if cookies is None:
            for sc in reply.all("Set-Cookie"):
                name, _, rest = sc.partition("=")
                self.cookies[name.strip()] = rest.split(";")[0].strip()
        return reply

    def replay(self, exchange, cookies=None):
        """Send a recorded request as it was, but with our credentials
        and cookies."""
        q = exchange["request"]
        keep = ("Content-Type", "X-RequestType", "X-RequestId",
                "X-ClientInfo", "X-ClientApplication")
        headers = [(k, v) for k, v in q["headers"] if k in keep]
        body = base64.b64decode(q["body_b64"])
        return self.post(q["path"], headers, body, cookies)


def recorded_binary(exchange):
    r = exchange["response"]
    body = base64.b64decode(r["body_b64"])
    return body[r["mh_binary_offset"]:]
