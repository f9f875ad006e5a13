"""POP3 on the store's INBOX (RFC 1939), with Python's poplib and curl."""

import base64
import os
import poplib
import smtplib
import socket
import ssl
import subprocess

import pytest

from conftest import PASSWORD, USER, inbox_files, make_message


def deliver(server, subject, body="Body text.\r\n"):
    msg = make_message(subject=subject, body=body)
    with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
        s.login(USER, PASSWORD)
        s.sendmail("b@example.org", ["a@example.org"], msg)
    return msg


def number_of(p, marker):
    """The message number whose header holds `marker`."""
    for line in p.list()[1]:
        n = int(line.split()[0])
        if marker in b"\r\n".join(p.top(n, 0)[1]):
            return n
    raise AssertionError("no message with %r" % marker)


def login(server):
    p = poplib.POP3("127.0.0.1", server.port["pop3"], timeout=10)
    p.user(USER)
    p.pass_(PASSWORD)
    return p


def test_capa_and_stat(server):
    deliver(server, "one")
    p = poplib.POP3("127.0.0.1", server.port["pop3"], timeout=10)
    caps = p.capa()
    for c in ("TOP", "UIDL", "USER", "SASL"):
        assert c in caps
    assert "PLAIN" in caps["SASL"]
    p.user(USER)
    p.pass_(PASSWORD)
    count, size = p.stat()
    # the seeded welcome message and ours
    assert count == 2
    assert size == sum(os.path.getsize(f) for f in inbox_files(server.store))
    p.quit()


def test_list_uidl_retr_top(server):
    msg = deliver(server, "retrieve me",
                  body="first\r\n.dotted\r\nthird\r\nfourth\r\n")
    p = login(server)
    _, listing, _ = p.list()
    assert len(listing) == 2
    _, uidls, _ = p.uidl()
    uids = [u.split()[1] for u in uidls]
    assert len(set(uids)) == 2
    n = number_of(p, b"Subject: retrieve me")
    _, lines, octets = p.retr(n)
    data = b"\r\n".join(lines) + b"\r\n"
    assert data.endswith(msg)
    _, top, _ = p.top(n, 1)
    text = b"\r\n".join(top)
    assert b"Subject: retrieve me" in text
    assert text.endswith(b"\r\n\r\nfirst")
    assert p.uidl(n).split()[2] == uids[n - 1]
    p.quit()
    # stable across sessions
    p = login(server)
    assert [u.split()[1] for u in p.uidl()[1]] == uids
    p.quit()


def test_dele_applies_at_quit_only(server):
    deliver(server, "doomed")
    p = login(server)
    assert p.stat()[0] == 2
    p.dele(2)
    with pytest.raises(poplib.error_proto):
        p.retr(2)
    assert p.stat()[0] == 1
    p.rset()
    assert p.stat()[0] == 2
    p.dele(2)
    # a connection that drops removes nothing (and lets go of INBOX: the
    # file poplib reads through holds the socket open too)
    p.file.close()
    p.sock.close()
    p = login(server)
    assert p.stat()[0] == 2
    p.dele(2)
    p.quit()
    p = login(server)
    assert p.stat()[0] == 1
    p.quit()
    assert len(inbox_files(server.store)) == 1


def test_sasl_plain_and_failures(server):
    p = poplib.POP3("127.0.0.1", server.port["pop3"], timeout=10)
    with pytest.raises(poplib.error_proto):
        p.stat()        # before login
    with pytest.raises(poplib.error_proto):
        p.user(USER)
        p.pass_("wrong")
    resp = base64.b64encode(b"\0%s\0%s" % (USER.encode(),
                                          PASSWORD.encode())).decode()
    assert p._shortcmd("AUTH PLAIN " + resp).startswith(b"+OK")
    assert p.noop().startswith(b"+OK")
    p.quit()


def test_bad_input(server):
    s = socket.create_connection(("127.0.0.1", server.port["pop3"]))
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    for line in (b"RETR 1", b"LIST x", b"TOP 1", b"FOO", b"\xff\x00",
                 b"USER " + b"u" * 5000, b"DELE 99999999999999999999"):
        s.sendall(line + b"\r\n")
        assert f.readline().startswith(b"-ERR"), line
    s.sendall(b"QUIT\r\n")
    assert f.readline().startswith(b"+OK")
    s.close()


def test_curl_lists_and_retrieves(server):
    msg = deliver(server, "curl pop")
    url = "pop3://127.0.0.1:%d/" % server.port["pop3"]
    out = subprocess.run(["curl", "-sS", "--user", "%s:%s" % (USER, PASSWORD),
                          url], check=True, capture_output=True,
                         timeout=30).stdout
    assert out.count(b"\r\n") == 2
    got = [subprocess.run(["curl", "-sS", "--user",
                           "%s:%s" % (USER, PASSWORD), url + str(n)],
                          check=True, capture_output=True, timeout=30).stdout
           for n in (1, 2)]
    assert any(g.endswith(msg) for g in got)


def test_stls(tls_server):
    deliver(tls_server, "tls pop")
    ctx = ssl.create_default_context(cafile=tls_server.cafile)
    p = poplib.POP3("127.0.0.1", tls_server.port["pop3"], timeout=10)
    assert "STLS" in p.capa()
    p.stls(context=ctx)
    p.user(USER)
    p.pass_(PASSWORD)
    assert p.stat()[0] == 2
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", tls_server.port["pop3s"], timeout=10,
                        context=ctx)
    p.user(USER)
    p.pass_(PASSWORD)
    assert p.stat()[0] == 2
    p.quit()
