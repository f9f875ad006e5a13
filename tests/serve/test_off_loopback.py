"""`mailfs serve` off loopback: no password in plaintext, and no TLS older
than 1.2.

A client that is not on loopback may log in only over TLS: before
STARTTLS (STLS) the IMAP server shows LOGINDISABLED and no AUTH=, the POP3
server's CAPA shows neither USER nor SASL, the SMTP server's EHLO no AUTH,
and each refuses a login; EWS over plain HTTP answers 403 without looking
at credentials.  After STARTTLS the same client logs in.  A client on
loopback keeps logging in as before, also on a wildcard listener, where
its address comes mapped into IPv6.  A listener off loopback without a
certificate is refused at start.

Clients off loopback come from a network namespace of the test's own: two
namespaces joined by a veth pair, the server in one and the clients in
the other, with addresses private to them (10.251.17.0/30,
fd00:251:17::/64); nothing is added to the host's network.  The clients
are Python's imaplib, poplib and smtplib and curl, run in the client's
namespace with `ip netns exec`.  These tests need root and iproute2.

The TLS versions are tried with `openssl s_client` on 127.0.0.1; its
security level is lowered so that the client itself offers TLS 1.0 and
1.1, and only the server can refuse them.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

import pytest

import namespaces

from conftest import (MAILFS, PASSWORD, SANITIZER_MARKERS, START_TIMEOUT,
                      USER, inbox_files, make_message, wait_until,
                      write_password_file)

PYTHON = "/usr/bin/python3"
SRV_V4, CLI_V4 = "10.251.17.1", "10.251.17.2"
SRV_V6, CLI_V6 = "fd00:251:17::1", "fd00:251:17::2"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("ip"),
    reason="network namespaces need root and iproute2")


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True, capture_output=True,
                   timeout=30)


class Namespaces:
    """Two network namespaces joined by a veth pair: `srv` and `cli`."""

    def __init__(self):
        tag = "mfs-offloop-%d" % os.getpid()
        self.srv, self.cli = tag + "-srv", tag + "-cli"
        self.remove()
        try:
            ip("netns", "add", self.srv)
            ip("netns", "add", self.cli)
            ip("-n", self.srv, "link", "add", "veth-s", "type", "veth",
               "peer", "name", "veth-c", "netns", self.cli)
            for ns, dev, v4, v6 in ((self.srv, "veth-s", SRV_V4, SRV_V6),
                                    (self.cli, "veth-c", CLI_V4, CLI_V6)):
                ip("-n", ns, "addr", "add", v4 + "/30", "dev", dev)
                ip("-n", ns, "addr", "add", v6 + "/64", "dev", dev, "nodad")
                ip("-n", ns, "link", "set", dev, "up")
                ip("-n", ns, "link", "set", "lo", "up")
        except BaseException:
            self.remove()
            raise

    def remove(self):
        # the veth pair goes with its namespaces
        for ns in (self.srv, self.cli):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True,
                           timeout=30)


@pytest.fixture(scope="module")
def netns():
    spaces = Namespaces()
    try:
        yield spaces
    finally:
        spaces.remove()


@pytest.fixture(scope="module")
def certs():
    """A self-signed certificate for every address the tests serve on."""
    with tempfile.TemporaryDirectory(prefix="mailfs-offloop-tls-") as d:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,"
                        "IP:127.0.0.1,IP:%s,IP:%s" % (SRV_V4, SRV_V6),
                        "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        yield cert, key


class NsServer:
    """A `mailfs serve` in namespace `ns` (None: the host's) on the
    addresses of `listen`, (option, address) pairs."""

    def __init__(self, workdir, ns, listen, tls=None):
        self.store = os.path.join(workdir, "store")
        pw = write_password_file(os.path.join(workdir, "password"))
        args = [MAILFS, "serve", "--store", self.store, "--user", USER,
                "--password-file", pw]
        for opt, addr in listen:
            args += ["--" + opt, addr]
        if tls:
            args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        if ns:
            args = namespaces.wrap(["ip", "netns", "exec", ns], args)
        # `ip netns exec` execs: the process is mailfs itself
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.lines, self.port = [], {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        pat = re.compile(r"(\w+)( \(TLS\))?: listening on \S+:(\d+)$")
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
            m = pat.search(line)
            if m:
                self.port[m.group(1) + ("s" if m.group(2) else "")] = \
                    int(m.group(3))

    def log(self):
        with self._lock:
            return "\n".join(self.lines)

    def serving(self):
        """Wait until it serves (True) or has ended (False)."""
        wait_until(lambda: "serving " in self.log() or
                   self.proc.poll() is not None, START_TIMEOUT)
        if self.proc.poll() is not None:
            self._reader.join(5)
            return False
        return "serving " in self.log()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("mailfs serve did not stop:\n" + self.log())
        self._reader.join(5)
        log = self.log()
        for marker in SANITIZER_MARKERS:
            assert marker not in log, log
        assert rc == 0, "exit status %r\n%s" % (rc, log)


@pytest.fixture
def serve(workdir):
    """Start servers with serve(ns, listen, tls); each is stopped, and must
    stop cleanly, after the test."""
    started = []

    def start(ns, listen, tls=None):
        sub = os.path.join(workdir, "s%d" % len(started))
        os.makedirs(sub)
        srv = NsServer(sub, ns, listen, tls)
        started.append(srv)
        if not srv.serving():
            raise RuntimeError("mailfs serve did not start:\n" + srv.log())
        return srv

    yield start
    for srv in started:
        srv.stop()


def run_in(ns, code, **params):
    """Run Python `code` in namespace `ns`; it finds `params` in P and
    leaves what it saw in the dict R, which comes back."""
    prelude = ("import json, ssl, sys\nP = json.loads(sys.argv[1])\n"
               "R = {}\n")
    epilogue = "\nprint(json.dumps(R))\n"
    p = subprocess.run(namespaces.wrap(["ip", "netns", "exec", ns],
                                       [PYTHON, "-c",
                                        prelude + code + epilogue,
                                        json.dumps(params)]),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout)


def url_host(host):
    return "[%s]" % host if ":" in host else host


def listen_addr(host):
    return "%s:0" % url_host(host)


IMAP_CLIENT = r"""
import imaplib
m = imaplib.IMAP4(P["host"], P["port"])
R["greeting"] = m.welcome.decode()
R["caps"] = list(m.capabilities)
try:
    m.login(P["user"], P["password"])
    R["login"] = "OK"
except imaplib.IMAP4.error as e:
    R["login"] = str(e)
def plain(_):
    return ("\0%s\0%s" % (P["user"], P["password"])).encode()
try:
    m.authenticate("PLAIN", plain)
    R["authenticate"] = "OK"
except imaplib.IMAP4.error as e:
    R["authenticate"] = str(e)
if R["login"] != "OK" and R["authenticate"] != "OK":
    m.starttls(ssl_context=ssl.create_default_context(cafile=P["ca"]))
    R["caps_tls"] = list(m.capabilities)
    R["login_tls"] = m.login(P["user"], P["password"])[0]
    R["select_tls"] = m.select("INBOX")[0]
m.logout()
"""


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_imap_login_only_after_starttls(netns, serve, certs, family):
    srv_addr = SRV_V4 if family == "ipv4" else SRV_V6
    srv = serve(netns.srv, [("imap", listen_addr(srv_addr))], tls=certs)
    r = run_in(netns.cli, IMAP_CLIENT, host=srv_addr, port=srv.port["imap"],
               user=USER, password=PASSWORD, ca=certs[0])
    # RFC 3501 and RFC 9051: LOGINDISABLED, and no mechanism to use
    assert "LOGINDISABLED" in r["greeting"] and "STARTTLS" in r["greeting"]
    assert "AUTH=" not in r["greeting"], r["greeting"]
    assert "LOGINDISABLED" in r["caps"] and "STARTTLS" in r["caps"]
    assert not [c for c in r["caps"] if c.startswith("AUTH=")], r["caps"]
    # RFC 5530: the reason, in a code a client can act on
    assert "PRIVACYREQUIRED" in r["login"], r
    assert "PRIVACYREQUIRED" in r["authenticate"], r
    # once the connection is private, the same client logs in
    assert "AUTH=PLAIN" in r["caps_tls"], r
    assert "LOGINDISABLED" not in r["caps_tls"], r
    assert r["login_tls"] == "OK" and r["select_tls"] == "OK", r
    # the server writes the line after its answer: wait for it
    assert wait_until(lambda: "logged in" in srv.log()), srv.log()


POP3_CLIENT = r"""
import base64, poplib
p = poplib.POP3(P["host"], P["port"])
R["capa"] = sorted(p.capa())
for name, call in (("user", lambda: p.user(P["user"])),
                   ("pass", lambda: p.pass_(P["password"])),
                   ("auth", lambda: p._shortcmd("AUTH PLAIN " +
                       base64.b64encode(("\0%s\0%s" % (P["user"],
                       P["password"])).encode()).decode()))):
    try:
        R[name] = call().decode()
    except poplib.error_proto as e:
        R[name] = e.args[0].decode()
if not R["pass"].startswith("+OK"):
    p.stls(context=ssl.create_default_context(cafile=P["ca"]))
    R["capa_tls"] = sorted(p.capa())
    p.user(P["user"])
    R["pass_tls"] = p.pass_(P["password"]).decode()
    R["stat_tls"] = list(p.stat())
p.quit()
"""


def test_pop3_login_only_after_stls(netns, serve, certs):
    srv = serve(netns.srv, [("pop3", listen_addr(SRV_V4))], tls=certs)
    r = run_in(netns.cli, POP3_CLIENT, host=SRV_V4, port=srv.port["pop3"],
               user=USER, password=PASSWORD, ca=certs[0])
    # RFC 2595 and RFC 2449: no way to log in is offered but STLS
    assert "STLS" in r["capa"], r
    assert "USER" not in r["capa"] and "SASL" not in r["capa"], r
    for step in ("user", "pass", "auth"):
        assert r[step].startswith("-ERR"), r
        assert "STLS" in r[step], r
    assert "USER" in r["capa_tls"] and "SASL" in r["capa_tls"], r
    assert "STLS" not in r["capa_tls"], r
    assert r["pass_tls"].startswith("+OK"), r
    assert r["stat_tls"][0] == len(inbox_files(srv.store)), r


SMTP_CLIENT = r"""
import base64, smtplib
s = smtplib.SMTP(P["host"], P["port"])
s.ehlo("client.test")
R["features"] = sorted(s.esmtp_features)
code, text = s.docmd("AUTH", "PLAIN " + base64.b64encode(
    ("\0%s\0%s" % (P["user"], P["password"])).encode()).decode())
R["auth"] = [code, text.decode()]
code, text = s.docmd("MAIL", "FROM:<bob@example.org>")
R["mail"] = [code, text.decode()]
s.rset()
s.starttls(context=ssl.create_default_context(cafile=P["ca"]))
s.ehlo("client.test")
R["features_tls"] = sorted(s.esmtp_features)
R["login_tls"] = s.login(P["user"], P["password"])[0]
R["refused_tls"] = list(s.sendmail("bob@example.org", ["alice@example.org"],
                                   P["message"].encode()))
s.quit()
"""


def test_smtp_auth_only_after_starttls(netns, serve, certs):
    srv = serve(netns.srv, [("smtp", listen_addr(SRV_V4))], tls=certs)
    r = run_in(netns.cli, SMTP_CLIENT, host=SRV_V4, port=srv.port["smtp"],
               user=USER, password=PASSWORD, ca=certs[0],
               message=make_message("after starttls").decode())
    # RFC 4954 section 4 and RFC 3207 section 4
    assert "starttls" in r["features"] and "auth" not in r["features"], r
    assert r["auth"] == [530, "5.7.0 Must issue a STARTTLS command first"], r
    assert r["mail"][0] == 530 and "STARTTLS" in r["mail"][1], r
    assert "auth" in r["features_tls"], r
    assert r["login_tls"] == 235 and r["refused_tls"] == [], r
    assert wait_until(lambda: inbox_files(srv.store))


UNKNOWN_OP = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
              b'envelope/"><s:Body><m:Frobnicate xmlns:m="http://schemas.'
              b'microsoft.com/exchange/services/2006/messages"/></s:Body>'
              b'</s:Envelope>')


def curl_in(ns, url, ca, auth=True, password=PASSWORD):
    """POST an EWS request from namespace `ns`: (status, headers, body)."""
    with tempfile.TemporaryDirectory(prefix="mailfs-offloop-curl-") as d:
        req, head = os.path.join(d, "req"), os.path.join(d, "head")
        with open(req, "wb") as f:
            f.write(UNKNOWN_OP)
        args = ["ip", "netns", "exec", ns, "curl", "-sS", "--max-time", "60",
                "--cacert", ca, "-H", "Content-Type: text/xml",
                "--data-binary", "@" + req, "-D", head, "-o", "-",
                "-w", "\n%{http_code}"]
        if auth:
            args += ["-u", "%s:%s" % (USER, password)]
        p = subprocess.run(args + [url], capture_output=True, timeout=90)
        assert p.returncode == 0, p.stderr
        body, _, status = p.stdout.rpartition(b"\n")
        with open(head, "rb") as f:
            headers = f.read().decode(errors="replace").lower()
        return int(status), headers, body


def test_ews_basic_only_over_https(netns, serve, certs):
    srv = serve(netns.srv, [("ews", listen_addr(SRV_V4)),
                            ("ewss", listen_addr(SRV_V4))], tls=certs)
    http = "http://%s:%d/EWS/Exchange.asmx" % (SRV_V4, srv.port["ews"])
    https = "https://%s:%d/EWS/Exchange.asmx" % (SRV_V4, srv.port["ewss"])
    status, headers, body = curl_in(netns.cli, http, certs[0])
    assert status == 403, (status, body)
    assert b"HTTPS" in body and b"ErrorAccessDenied" in body, body
    # no challenge that would have a client send a password in the clear
    status, headers, body = curl_in(netns.cli, http, certs[0], auth=False)
    assert status == 403, (status, body)
    assert "www-authenticate" not in headers, headers
    # over HTTPS the same credentials are taken (an unknown operation
    # answers only once logged in), and wrong ones are still told apart
    status, headers, body = curl_in(netns.cli, https, certs[0])
    assert status == 500 and b"ErrorInvalidOperation" in body, (status, body)
    status, _, _ = curl_in(netns.cli, https, certs[0], password="wrong")
    assert status == 401


def test_loopback_peer_logs_in_as_before(netns, serve, certs):
    """On a wildcard listener, a loopback client (seen as
    ::ffff:127.0.0.1 on a dual-stack socket) still logs in without TLS;
    a client off loopback on the same listener does not."""
    srv = serve(netns.srv, [("imap", "[::]:0"), ("ews", "[::]:0")],
                tls=certs)
    local = run_in(netns.srv, IMAP_CLIENT, host="127.0.0.1",
                   port=srv.port["imap"], user=USER, password=PASSWORD,
                   ca=certs[0])
    assert "AUTH=PLAIN" in local["caps"], local
    assert "LOGINDISABLED" not in local["caps"], local
    assert local["login"] == "OK", local
    remote = run_in(netns.cli, IMAP_CLIENT, host=SRV_V4,
                    port=srv.port["imap"], user=USER, password=PASSWORD,
                    ca=certs[0])
    assert "PRIVACYREQUIRED" in remote["login"], remote
    assert remote["login_tls"] == "OK", remote
    url = "/EWS/Exchange.asmx"
    status, _, body = curl_in(netns.srv, "http://127.0.0.1:%d%s"
                              % (srv.port["ews"], url), certs[0])
    assert status == 500 and b"ErrorInvalidOperation" in body, (status, body)
    status, _, _ = curl_in(netns.srv, "http://[::1]:%d%s"
                           % (srv.port["ews"], url), certs[0])
    assert status == 500
    status, _, _ = curl_in(netns.cli, "http://%s:%d%s"
                           % (SRV_V4, srv.port["ews"], url), certs[0])
    assert status == 403


@pytest.mark.parametrize("opt,addr", [
    ("imap", SRV_V4 + ":0"),
    ("pop3", "0.0.0.0:0"),
    ("smtp", "[::]:0"),
    ("ews", "[%s]:0" % SRV_V6),
])
def test_plaintext_listener_off_loopback_needs_certificate(netns, workdir,
                                                           opt, addr):
    srv = NsServer(workdir, netns.srv, [(opt, addr)])
    try:
        started = srv.serving()
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
        srv.proc.wait()
        srv._reader.join(5)
    log = srv.log()
    assert not started, "it listened off loopback without a certificate:\n" \
        + log
    assert srv.proc.returncode != 0
    assert "--%s %s" % (opt, addr) in log, log
    assert "not a loopback address" in log and "--tls-cert" in log, log
    if opt == "ews":
        assert "--ewss" in log, log


def s_client(port, version):
    """Try a TLS handshake with only `version` offered: (ok, output)."""
    p = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port, "-servername", "localhost",
                        "-brief", "-" + version,
                        "-cipher", "DEFAULT:@SECLEVEL=0"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=60)
    out = p.stdout + p.stderr
    return p.returncode == 0 and "Protocol version" in out, out


def test_tls_older_than_1_2_refused(serve, certs):
    srv = serve(None, [("imaps", "127.0.0.1:0"), ("pop3s", "127.0.0.1:0"),
                       ("smtps", "127.0.0.1:0"), ("ewss", "127.0.0.1:0")],
                tls=certs)
    for proto in ("ewss", "imaps", "pop3s", "smtps"):
        for old in ("tls1", "tls1_1"):
            ok, out = s_client(srv.port[proto], old)
            assert not ok, "%s took %s:\n%s" % (proto, old, out)
        ok, out = s_client(srv.port[proto], "tls1_2")
        assert ok and "TLSv1.2" in out, "%s:\n%s" % (proto, out)
