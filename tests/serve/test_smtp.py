"""SMTP delivery into the store's INBOX (RFC 5321), with Python's smtplib
and curl as the clients."""

import os
import smtplib
import socket
import ssl
import subprocess

import pytest

from conftest import (PASSWORD, USER, inbox_files, make_message, wait_until)


def delivered(store, marker):
    for path in inbox_files(store):
        with open(path, "rb") as f:
            data = f.read()
        if marker in data:
            return path, data
    return None


def test_ehlo_capabilities(server):
    with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
        code, _ = s.ehlo("client.example")
        assert code == 250
        for ext in ("size", "8bitmime", "pipelining", "auth"):
            assert s.has_extn(ext), ext
        assert "PLAIN" in s.esmtp_features["auth"]
        assert "LOGIN" in s.esmtp_features["auth"]
        assert not s.has_extn("starttls")     # no certificate given


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_delivery_byte_exact(server, mech):
    body = "Line one.\r\n.leading dot\r\n..two dots\r\n\r\nend\r\n"
    msg = make_message(subject="smtp " + mech, body=body)
    with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
        s.ehlo("client.example")
        s.user, s.password = USER, PASSWORD
        code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()),
                         initial_response_ok=(mech == "PLAIN"))
        assert code == 235
        refused = s.sendmail("bob@example.org", ["alice@example.org"], msg)
        assert refused == {}
    path, data = delivered(server.store, b"smtp " + mech.encode())
    # what the client sent, behind one trace line of ours
    assert data.startswith(b"Received: ")
    assert data.endswith(msg)
    assert os.path.basename(os.path.dirname(path)) == "new"


def test_mail_needs_authentication(server):
    with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
        s.ehlo("x")
        code, text = s.mail("bob@example.org")
        assert code == 530


def test_wrong_password_is_refused(server):
    with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
        s.ehlo("x")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login(USER, "wrong")


def test_size_is_enforced(store, workdir):
    from conftest import Server
    srv = Server(store, workdir, protocols=("smtp",),
                 extra_args=("--max-message-size", "2000"))
    try:
        with smtplib.SMTP("127.0.0.1", srv.port["smtp"], timeout=10) as s:
            s.ehlo("x")
            assert s.esmtp_features["size"] == "2000"
            s.login(USER, PASSWORD)
            # announced too large: refused at MAIL
            code, _ = s.docmd("MAIL FROM:<b@example.org> SIZE=5000")
            assert code == 552
            s.rset()
            # not announced, but too large: refused after the data
            big = make_message(subject="big", body="x" * 70 + "\r\n" * 1 +
                               ("y" * 70 + "\r\n") * 60)
            # (sendmail would announce the size; this does not)
            assert s.mail("b@example.org")[0] == 250
            assert s.rcpt("alice@example.org")[0] == 250
            assert s.data(big)[0] == 552
            # the session goes on
            small = make_message(subject="small one")
            assert s.sendmail("b@example.org", ["a@example.org"], small) == {}
        assert delivered(store, b"small one")
        assert not delivered(store, b"Subject: big")
    finally:
        assert srv.stop() == 0


def test_pipelined_commands(server):
    msg = make_message(subject="pipelined")
    s = socket.create_connection(("127.0.0.1", server.port["smtp"]))
    f = s.makefile("rb")
    assert f.readline().startswith(b"220")
    import base64
    auth = base64.b64encode(b"\0" + USER.encode() + b"\0" +
                            PASSWORD.encode()).decode()
    s.sendall(("EHLO x\r\nAUTH PLAIN %s\r\nMAIL FROM:<b@example.org>\r\n"
               "RCPT TO:<a@example.org>\r\nRCPT TO:<c@example.org>\r\n"
               "DATA\r\n" % auth).encode())
    codes = []
    while len(codes) < 5 + 1:
        line = f.readline()
        if line[3:4] == b" ":
            codes.append(line[:3])
    assert codes == [b"250", b"235", b"250", b"250", b"250", b"354"]
    s.sendall(msg + b".\r\nQUIT\r\n")
    assert f.readline().startswith(b"250")
    assert f.readline().startswith(b"221")
    s.close()
    _, data = delivered(server.store, b"pipelined")
    assert data.endswith(msg)
    # two recipients, one store: one copy
    assert len([p for p in inbox_files(server.store)
                if b"pipelined" in open(p, "rb").read()]) == 1


def test_rset_noop_helo_and_bad_sequence(server):
    with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
        assert s.docmd("RCPT TO:<a@b>")[0] == 503
        assert s.helo("old.example")[0] == 250
        assert s.noop()[0] == 250
        assert s.docmd("DATA")[0] == 503
        assert s.docmd("FROB")[0] == 500
        assert s.docmd("MAIL FROM:bob")[0] == 501
        assert s.rset()[0] == 250


def test_eight_bit_body(server):
    msg = make_message(subject="8bit", body="Grüße aus Köln\r\n",
                       extra_headers=["Content-Type: text/plain; charset=utf-8",
                                      "Content-Transfer-Encoding: 8bit"])
    with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
        s.login(USER, PASSWORD)
        assert s.sendmail("b@example.org", ["a@example.org"], msg,
                          mail_options=["BODY=8BITMIME"]) == {}
    _, data = delivered(server.store, b"Subject: 8bit")
    assert data.endswith(msg)


def test_endless_line_and_junk(server):
    s = socket.create_connection(("127.0.0.1", server.port["smtp"]))
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO " + b"a" * 10000 + b"\r\n")
    assert f.readline().startswith(b"500")
    s.sendall(b"\x00\xff\xfe garbage\r\n")
    assert f.readline()[:1] == b"5"
    s.sendall(b"NOOP\r\n")
    assert f.readline().startswith(b"250")
    # a line that never ends: the server hangs up rather than keep it
    try:
        for _ in range(80):
            s.sendall(b"x" * 16384)
    except OSError:
        pass
    s.settimeout(10)
    try:
        rest = s.recv(100)
    except OSError:
        rest = b""
    assert rest == b""
    s.close()


def test_curl_sends_mail(server, workdir):
    msg = make_message(subject="sent by curl")
    path = os.path.join(workdir, "mail.eml")
    with open(path, "wb") as f:
        f.write(msg)
    subprocess.run(["curl", "-sS", "--url",
                    "smtp://127.0.0.1:%d" % server.port["smtp"],
                    "--user", "%s:%s" % (USER, PASSWORD),
                    "--mail-from", "bob@example.org",
                    "--mail-rcpt", "alice@example.org",
                    "--upload-file", path], check=True, timeout=30)
    _, data = delivered(server.store, b"sent by curl")
    assert data.endswith(msg)


def test_starttls(tls_server):
    ctx = ssl.create_default_context(cafile=tls_server.cafile)
    msg = make_message(subject="over starttls")
    with smtplib.SMTP("127.0.0.1", tls_server.port["smtp"], timeout=10) as s:
        s.ehlo("x")
        assert s.has_extn("starttls")
        s.starttls(context=ctx)
        s.ehlo("x")
        assert not s.has_extn("starttls")
        s.login(USER, PASSWORD)
        s.sendmail("b@example.org", ["a@example.org"], msg)
    _, data = delivered(tls_server.store, b"over starttls")
    assert b"with ESMTPSA" in data


def test_implicit_tls(tls_server):
    ctx = ssl.create_default_context(cafile=tls_server.cafile)
    with smtplib.SMTP_SSL("127.0.0.1", tls_server.port["smtps"], timeout=10,
                          context=ctx) as s:
        s.login(USER, PASSWORD)
        s.sendmail("b@example.org", ["a@example.org"],
                   make_message(subject="over smtps"))
    assert delivered(tls_server.store, b"over smtps")


def test_starttls_refuses_plaintext_sent_along(tls_server):
    """Commands pipelined behind STARTTLS in the clear must never be taken
    as if they had come over TLS: the server hangs up instead."""
    s = socket.create_connection(("127.0.0.1", tls_server.port["smtp"]),
                                 timeout=10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"220")
    s.sendall(b"EHLO x\r\n")
    while not f.readline().startswith(b"250 "):
        pass
    s.sendall(b"STARTTLS\r\nRSET\r\n")
    assert f.readline().startswith(b"220")
    assert f.readline() == b""
    s.close()
