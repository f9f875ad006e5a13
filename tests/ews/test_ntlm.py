"""NTLM (MS-NLMP, NTLMv2 only) on the embedded server's HTTP side, driven
by clients we did not write: curl --ntlm, exchangelib with auth_type
NTLM (requests_ntlm), and ntlm_auth's message builder for what those two
never send (an NTLMv1 response; an AUTHENTICATE on another connection than
its challenge's).  The login holds for the connection, as with IIS."""

import base64
import http.client
import subprocess

from conftest import PASSWORD, USER, endpoint

from ntlm_auth.ntlm import NtlmContext


def curl(server, *args, password=PASSWORD):
    r = subprocess.run(["curl", "-sv", "--ntlm", "-u",
                        "%s:%s" % (USER, password)] + list(args) +
                       [endpoint(server)], capture_output=True, text=True,
                       timeout=30)
    return r.stdout, r.stderr


def test_curl_logs_in_once_per_connection(ews_server):
    out, err = curl(ews_server, "-w", "%{http_code}\n", "-o", "/dev/null",
                    endpoint(ews_server), "-o", "/dev/null")
    assert out.split() == ["200", "200"], err
    # one NEGOTIATE, one AUTHENTICATE, then a request without either
    auths = [l for l in err.splitlines() if l.startswith("> Authorization")]
    assert len(auths) == 2, err
    assert err.count("> GET ") == 3, err
    assert "Connection #0" in err and "#1" not in err, err
    # a 401 offers both ways in
    assert "< WWW-Authenticate: NTLM TlRMTVNTUAACAAAA" in err, err
    out, err = curl(ews_server, "-o", "/dev/null", "-w", "%{http_code}\n",
                    password="wrong")
    assert out.split() == ["401"], err
    assert "< WWW-Authenticate: Basic" in err, err
    assert "< WWW-Authenticate: NTLM\r" in err or \
        "< WWW-Authenticate: NTLM\n" in err, err


def test_exchangelib_over_ntlm(ews_server):
    from exchangelib import (DELEGATE, NTLM, Account, Configuration,
                             Credentials)
    from requests_ntlm import HttpNtlmAuth
    config = Configuration(service_endpoint=endpoint(ews_server),
                           credentials=Credentials(USER, PASSWORD),
                           auth_type=NTLM, max_connections=1)
    a = Account(primary_smtp_address="alice@example.org", config=config,
                autodiscover=False, access_type=DELEGATE)
    names = {f.name for f in a.msg_folder_root.children}
    assert "INBOX" in names and "Archive" in names, names
    session = a.protocol.get_session()
    assert isinstance(session.auth, HttpNtlmAuth)
    a.protocol.release_session(session)


def handshake(conn, ctx, path="/EWS/Exchange.asmx"):
    """NEGOTIATE on conn; the CHALLENGE's base64."""
    conn.request("GET", path, headers={
        "Authorization": "NTLM " + base64.b64encode(ctx.step()).decode()})
    r = conn.getresponse()
    r.read()
    assert r.status == 401
    return base64.b64decode(r.getheader("WWW-Authenticate").split()[1])


def send_auth(conn, msg, path="/EWS/Exchange.asmx"):
    conn.request("GET", path, headers={
        "Authorization": "NTLM " + base64.b64encode(msg).decode()})
    r = conn.getresponse()
    r.read()
    return r.status


def test_ntlmv1_and_misplaced_answers_are_refused(ews_server):
    port = ews_server.port["ews"]
    # NTLMv1 (compatibility 1: NTLM2 session response) with the right
    # password: refused, and the log says why
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    v1 = NtlmContext(USER, PASSWORD, "", ntlm_compatibility=1)
    assert send_auth(c, v1.step(handshake(c, v1))) == 401
    c.close()
    # an AUTHENTICATE taken to another connection than its challenge's
    c1 = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c2 = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    v2 = NtlmContext(USER, PASSWORD, "")
    msg = v2.step(handshake(c1, v2))
    handshake(c2, NtlmContext(USER, PASSWORD, ""))
    assert send_auth(c2, msg) == 401
    # on its own connection it passes (the user in any case, in whatever
    # domain), and the next request needs nothing
    v2 = NtlmContext(USER.upper(), PASSWORD, "WORKGROUP")
    assert send_auth(c1, v2.step(handshake(c1, v2))) == 200
    c1.request("GET", "/EWS/Exchange.asmx")
    r = c1.getresponse()
    assert r.status == 200 and b"EWS" in r.read()
    c1.close()
    c2.close()
    assert "only NTLMv2 is taken" in ews_server.log()
