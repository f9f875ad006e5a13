"""The EWS endpoint's HTTP answers before any SOAP, as Exchange's web
server gives them: a client that looks at the endpoint without
credentials (DavMail does, with a GET) is asked for them, whatever the
method; a logged-in GET gets a page; what is not served is said."""

import base64
import http.client

from conftest import PASSWORD, USER

AUTH = "Basic " + base64.b64encode(
    ("%s:%s" % (USER, PASSWORD)).encode()).decode()


def ask(server, method, path="/EWS/Exchange.asmx", auth=None, body=None):
    c = http.client.HTTPConnection("127.0.0.1", server.port["ews"],
                                   timeout=10)
    headers = {"Authorization": auth} if auth else {}
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("WWW-Authenticate"), \
        r.getheader("Content-Type"), data


def test_any_method_without_credentials_is_asked_for_them(ews_server):
    for method in ("GET", "POST", "PUT", "OPTIONS"):
        status, challenge, _, _ = ask(ews_server, method)
        assert status == 401, method
        assert challenge and challenge.startswith("Basic"), method


def test_a_logged_in_get_gets_a_page(ews_server):
    status, _, ctype, data = ask(ews_server, "GET", auth=AUTH)
    assert status == 200
    assert ctype.startswith("text/html")
    assert b"EWS" in data


def test_a_method_not_served_is_405_once_logged_in(ews_server):
    status, challenge, ctype, data = ask(ews_server, "PUT", auth=AUTH,
                                         body=b"x")
    assert status == 405
    assert challenge is None
    assert b"ErrorInvalidRequest" in data


def test_an_unknown_path_is_404(ews_server):
    status, _, _, _ = ask(ews_server, "GET", path="/nothing/here")
    assert status == 404
