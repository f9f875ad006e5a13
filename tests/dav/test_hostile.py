"""A hostile DAV server (a small one of the test's own, on 127.0.0.1:
Radicale and Xandikos cannot be made to lie): an answer with a DOCTYPE,
an href to another host and an href that climbs out of its collection
each give an error for that folder, named in .mailfs/errors; the other
folders of the account are read as usual, and nothing is fetched from
where the hostile hrefs lead.  At the first mount such a folder ends the
mount with a message naming it."""

import http.server
import os
import threading

from conftest import card, wait_for

OK = b"HTTP/1.1 200 OK"


def ms(*responses, token=b"t1"):
    return (b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" '
            b'xmlns:card="urn:ietf:params:xml:ns:carddav">' +
            b"".join(responses) + b"<d:sync-token>" + token +
            b"</d:sync-token></d:multistatus>")


def resp(href, props):
    return (b"<d:response><d:href>" + href + b"</d:href><d:propstat>"
            b"<d:prop>" + props + b"</d:prop><d:status>" + OK +
            b"</d:status></d:propstat></d:response>")


def book(href, name):
    return resp(href, b"<d:resourcetype><d:collection/><card:addressbook/>"
                b"</d:resourcetype><d:displayname>" + name +
                b"</d:displayname>")


CARD = card(1)
ANSWERS = {
    ("PROPFIND", "/"): ms(resp(b"/", b"<d:current-user-principal><d:href>"
                               b"/p/</d:href></d:current-user-principal>")),
    ("PROPFIND", "/p/"): ms(
        resp(b"/p/", b"<card:addressbook-home-set><d:href>/p/</d:href>"
             b"</card:addressbook-home-set>"),
        book(b"/p/good/", b"Good"), book(b"/p/doctype/", b"Doctype"),
        book(b"/p/elsewhere/", b"Elsewhere"), book(b"/p/climb/", b"Climb")),
    ("REPORT", "/p/good/"): ms(resp(b"/p/good/a.vcf",
                                    b'<d:getetag>"1"</d:getetag>')),
    ("REPORT", "/p/doctype/"): b'<?xml version="1.0"?>\n<!DOCTYPE d:multi'
    b'status [<!ENTITY e SYSTEM "file:///etc/passwd">]>' +
    ms(resp(b"/p/doctype/&e;", b'<d:getetag>"1"</d:getetag>')),
    ("REPORT", "/p/elsewhere/"): ms(resp(b"http://evil.example/p/elsewhere/"
                                         b"b.vcf",
                                         b'<d:getetag>"1"</d:getetag>')),
    ("REPORT", "/p/climb/"): ms(resp(b"/p/climb/../good/a.vcf",
                                     b'<d:getetag>"1"</d:getetag>')),
}


BENIGN = ms(token=b"t0")


class Hostile(http.server.BaseHTTPRequestHandler):
    seen = []
    hostile = False

    def log_message(self, *args):
        pass

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.seen.append((self.command, self.path))
        if self.command == "GET" and self.path == "/p/good/a.vcf":
            status, body, ctype = 200, CARD, "text/vcard"
        elif (self.command == "REPORT" and self.path != "/p/good/" and
              not Hostile.hostile):
            status, body, ctype = 207, BENIGN, "application/xml"
        elif (self.command, self.path) in ANSWERS:
            status, body = 207, ANSWERS[(self.command, self.path)]
            ctype = "application/xml"
        else:
            status, body, ctype = 404, b"", "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if status == 200:
            self.send_header("ETag", '"1"')
        self.end_headers()
        self.wfile.write(body)

    do_PROPFIND = do_REPORT = do_GET = answer


class Server:
    url = None
    user = "alice"
    password = "pw"


def test_hostile_answers(dav_mount):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    srv = Server()
    srv.url = "http://127.0.0.1:%d/" % httpd.server_address[1]
    try:
        fs = dav_mount(srv, "carddav").mount()
        assert sorted(n for n in os.listdir(fs.mnt) if n[0] != ".") == [
            "Climb", "Doctype", "Elsewhere", "Good"]
        with open(fs.m("Good", "a.vcf"), "rb") as f:
            assert f.read() == CARD
        for bad in ("Climb", "Doctype", "Elsewhere"):
            assert os.listdir(fs.m(bad)) == []
        # the folders turn hostile after the mount's first listing (a
        # first listing that fails ends the mount, as for every account)
        Hostile.hostile = True

        def said():
            with open(fs.m(".mailfs", "errors")) as f:
                text = f.read()
            return all(b in text for b in ("Climb", "Doctype",
                                           "Elsewhere")) and text
        text = wait_for(said, what=".mailfs/errors naming each folder")
        assert "refused" in text
        # nothing was asked outside the collections' own paths
        assert all(p.startswith("/p/") or p == "/"
                   for _, p in Hostile.seen), Hostile.seen
        assert ("GET", "/p/good/a.vcf") in Hostile.seen
        assert not [p for m, p in Hostile.seen if m == "GET" and
                    p != "/p/good/a.vcf"]
        fs.unmount()
        fs = dav_mount(srv, "carddav")
        out = fs.mount_fails().output
        assert "refused" in out and ("Climb" in out or "Doctype" in out or
                                     "Elsewhere" in out), out
    finally:
        httpd.shutdown()
