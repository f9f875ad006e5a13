"""A collection without sync-collection (RFC 6578): Radicale behind a
small proxy of the test's own that refuses the REPORT as a server
without it does (403 with DAV:supported-report) and passes everything
else through unchanged.  The account then syncs by getctag and the
members' ETags (PROPFIND Depth 1): every card byte-equal to the
server's, and a card added, changed or removed on the server reaches
the mount at the next poll."""

import http.client
import http.server
import os
import threading

from conftest import card, wait_for
from test_read import check_folder, ls

REFUSAL = (b'<?xml version="1.0"?><d:error xmlns:d="DAV:">'
           b'<d:supported-report/></d:error>')


def proxy_to(port):
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        refused = []

        def log_message(self, *args):
            pass

        def forward(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            if self.command == "REPORT" and body and \
                    b"sync-collection" in body:
                Proxy.refused.append(self.path)
                self.send_response(403)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(REFUSAL)))
                self.end_headers()
                self.wfile.write(REFUSAL)
                return
            hdr = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "connection")}
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
            try:
                c.request(self.command, self.path, body=body, headers=hdr)
                r = c.getresponse()
                data = r.read()
            finally:
                c.close()
            self.send_response(r.status, r.reason)
            for k, v in r.getheaders():
                if k.lower() not in ("content-length", "connection",
                                     "transfer-encoding", "server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = forward

    return Proxy


class Through:
    """The Radicale of `srv` as the proxy shows it."""

    def __init__(self, srv, port):
        self.url = "http://127.0.0.1:%d/" % port
        self.user, self.password = srv.user, srv.password


def test_getctag_and_etags(radicale, dav_mount):
    srv = radicale
    handler = proxy_to(srv.port)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        fs = dav_mount(Through(srv, httpd.server_address[1]),
                       "carddav").mount()
        assert handler.refused, "the proxy refused no sync-collection"
        assert ls(fs.mnt) == ["Friends", "Work people"]
        check_folder(fs, "Friends", srv, srv.friends)
        d = fs.m("Friends")
        srv.put(srv.friends + "ctag1.vcf", card(300), create=True)
        wait_for(lambda: os.path.exists(os.path.join(d, "ctag1.vcf")),
                 what="ctag1.vcf")
        check_folder(fs, "Friends", srv, srv.friends)
        srv.delete(srv.friends + "ctag1.vcf")
        wait_for(lambda: not os.path.exists(os.path.join(d, "ctag1.vcf")),
                 what="ctag1.vcf gone")
        fs.unmount()
    finally:
        httpd.shutdown()
