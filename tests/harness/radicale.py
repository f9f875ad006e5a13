"""A real Radicale (CardDAV and CalDAV) on 127.0.0.1 for the DAV client tests.

Everything lives in one temporary directory: the config file, the htpasswd
file (plain passwords), the filesystem storage (collections/) and the log.
Radicale runs as a child of the test process (`python3 -I -m radicale
--config FILE`; -I, so that this module does not stand in for it) on a
port picked free at start, and is stopped with
SIGTERM.

    from radicale import Radicale
    with Radicale(tmp_path) as srv:
        srv.make_collection("contacts", "addressbook", "Friends")
        srv.put("/alice/contacts/a.vcf", card_bytes)

DavPeer holds what both servers of the tests share (xandikos.py uses it):
plain HTTP with http.client, so that what the server holds is read back
without any code of ours.
"""

import base64
import http.client
import os
import signal
import socket
import subprocess
import time

START_TIMEOUT = 20.0
PYTHON = "/usr/bin/python3"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DavPeer:
    """A DAV server child process and plain HTTP requests to it."""

    user = None
    password = None
    proc = None
    port = None
    log_path = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    def request(self, method, path, body=None, headers=None):
        """One request; returns (status, headers dict, body bytes)."""
        h = dict(headers or {})
        if body is not None and "Content-Type" not in h:
            h["Content-Type"] = "application/xml; charset=utf-8"
        if self.user:
            tok = base64.b64encode(("%s:%s" % (self.user, self.password))
                                   .encode()).decode()
            h["Authorization"] = "Basic " + tok
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def get(self, path):
        """The bytes the server holds at `path` and their ETag."""
        st, hdr, body = self.request("GET", path)
        assert st == 200, (path, st, body[:200])
        return body, hdr.get("etag")

    def put(self, path, body, etag=None, create=False):
        h = {"Content-Type": "text/vcard" if path.endswith(".vcf")
             else "text/calendar"}
        if etag:
            h["If-Match"] = etag
        if create:
            h["If-None-Match"] = "*"
        st, hdr, data = self.request("PUT", path, body, h)
        assert st in (201, 204), (path, st, data[:300])
        return hdr.get("etag")

    def delete(self, path):
        st, _, data = self.request("DELETE", path)
        assert st in (200, 204), (path, st, data[:200])

    def members(self, coll):
        """The hrefs of the members of collection path `coll`."""
        st, _, body = self.request(
            "PROPFIND", coll, b'<?xml version="1.0"?><propfind xmlns="DAV:">'
            b'<prop><getetag/></prop></propfind>', {"Depth": "1"})
        assert st == 207, (coll, st)
        import re
        hrefs = re.findall(rb"<(?:\w+:)?href>([^<]*)</(?:\w+:)?href>", body)
        return [h.decode() for h in hrefs if h.decode().rstrip("/") !=
                coll.rstrip("/")]

    def _wait_up(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited: %s" % (
                    type(self).__name__, self.log()))
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("%s did not start: %s" % (type(self).__name__,
                                                     self.log()))

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Radicale(DavPeer):
    """Radicale with one user (alice) and plain htpasswd auth."""

    def __init__(self, tmpdir, user="alice", password="radicale-pw"):
        self.dir = os.path.join(str(tmpdir), "radicale")
        os.makedirs(self.dir, exist_ok=True)
        self.user, self.password = user, password
        self.port = free_port()
        self.storage = os.path.join(self.dir, "collections")
        self.log_path = os.path.join(self.dir, "radicale.log")
        users = os.path.join(self.dir, "users")
        with open(users, "w") as f:
            f.write("%s:%s\n" % (user, password))
        conf = os.path.join(self.dir, "config")
        with open(conf, "w") as f:
            f.write("[server]\nhosts = 127.0.0.1:%d\n"
                    "[auth]\ntype = htpasswd\nhtpasswd_filename = %s\n"
                    "htpasswd_encryption = plain\ndelay = 0\n"
                    "[rights]\ntype = owner_only\n"
                    "[storage]\nfilesystem_folder = %s\n"
                    "[web]\ntype = none\n"
                    "[logging]\nlevel = warning\n"
                    % (self.port, users, self.storage))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [PYTHON, "-I", "-m", "radicale", "--config", conf],
                stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        try:
            self._wait_up()
        except Exception:
            self.stop()
            raise

    @property
    def principal(self):
        return "/%s/" % self.user

    def make_collection(self, name, kind, displayname):
        """An address book (kind "addressbook") or a calendar ("calendar")
        under the user's principal; returns its path."""
        path = "%s%s/" % (self.principal, name)
        if kind == "addressbook":
            rt = ('<resourcetype><collection/><C:addressbook/>'
                  '</resourcetype>')
            ns = 'xmlns:C="urn:ietf:params:xml:ns:carddav"'
        else:
            rt = ('<resourcetype><collection/><C:calendar/>'
                  '</resourcetype>')
            ns = 'xmlns:C="urn:ietf:params:xml:ns:caldav"'
        body = ('<?xml version="1.0"?><mkcol xmlns="DAV:" %s><set><prop>'
                '%s<displayname>%s</displayname></prop></set></mkcol>'
                % (ns, rt, displayname)).encode()
        st, _, data = self.request("MKCOL", path, body)
        assert st == 201, (st, data[:300], self.log())
        return path
