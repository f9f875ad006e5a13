"""Self-tests of the scripted IMAP server, driven by Python's imaplib (and a
raw socket where imaplib itself would give up)."""

import configparser
import imaplib
import os
import socket
import ssl
import time

import pytest

import fakeimap
from fakeimap import FakeIMAP, HUGE, HOSTILE_LIST_NAMES
from dovecot import make_pki


@pytest.fixture
def fake_factory():
    made = []

    def make(script, **kw):
        f = FakeIMAP(script, **kw).start()
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()
        assert not any(t.is_alive() for t in f._threads), "a thread is left"
        assert f.errors == [], f.errors


def imap(fake, timeout=5):
    return imaplib.IMAP4(fake.host, fake.port, timeout=timeout)


def read_until(f, prefix):
    lines = []
    while True:
        line = f.readline()
        assert line, "connection closed; got %r" % lines
        lines.append(line)
        if line.startswith(prefix):
            return lines


def test_session_with_fallback(fake_factory):
    fake = fake_factory(fakeimap.session())
    c = imap(fake)
    assert b"fake IMAP ready" in c.welcome
    assert "IDLE" in c.capabilities
    c.login("alice", "pass word\"x")
    assert c.capability()[0] == "OK"
    typ, data = c.list()
    assert typ == "OK" and data == [b'(\\HasNoChildren) "/" INBOX']
    typ, data = c.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    assert c.noop()[0] == "OK"
    with pytest.raises(imaplib.IMAP4.error, match="BAD"):
        c.uid("FETCH", "1", "(FLAGS)")     # not in the fallback: BAD
    c.logout()
    assert fake.credentials == [(b"alice", b'pass word"x')]
    assert b"pass word" in fake.received
    assert b"LOGIN" in [l.split()[1] for l in fake.commands]
    assert fake.wait_idle()


def test_login_literal_and_authenticate(fake_factory):
    fake = fake_factory(fakeimap.session())
    # credentials as literals, synchronizing: the server sends "+ OK"
    s = socket.create_connection((fake.host, fake.port), timeout=5)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a1 LOGIN {3}\r\n")
    assert f.readline().startswith(b"+")
    s.sendall(b"bob {4}\r\n")
    assert f.readline().startswith(b"+")
    s.sendall(b"p\x00w!\r\n")
    assert f.readline().startswith(b"a1 OK")
    s.close()
    # AUTHENTICATE PLAIN with an initial response (SASL-IR)
    s = socket.create_connection((fake.host, fake.port), timeout=5)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a1 AUTHENTICATE PLAIN AGVyaW4AaXI=\r\n")
    assert f.readline().startswith(b"a1 OK")
    s.close()
    # AUTHENTICATE PLAIN, once with and once without an initial response
    c = imap(fake)
    c.authenticate("PLAIN", lambda _: b"\0carol\0secret")
    c.logout()
    fake2 = fake_factory(fakeimap.session(),
                         caps=b"IMAP4rev1 AUTH=PLAIN")
    c = imap(fake2)
    c.authenticate("PLAIN", lambda _: b"\0dave\0s3cret")
    c.logout()
    assert fake.wait_for(lambda: len(fake.credentials) == 3)
    assert fake.credentials == [(b"bob", b"p\x00w!"), (b"erin", b"ir"),
                                (b"carol", b"secret")]
    assert fake2.wait_for(lambda: fake2.credentials)
    assert fake2.credentials == [(b"dave", b"s3cret")]


def test_expect_and_tag(fake_factory):
    fake = fake_factory(fakeimap.session(
        ("expect", rb"^\S+ SELECT (?P<box>\S+)"),
        ("send", b"* 3 EXISTS\r\n* OK [UIDVALIDITY 42] x\r\n"
                 b"{tag} OK [READ-WRITE] selected {box}\r\n"),
        ("expect", rb"FETCH"),
        ("send", b"* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n{tag} OK done\r\n")))
    c = imap(fake)
    c.login("u", "p")
    c.list()                                    # unexpected: fallback
    typ, data = c.select("Archive")
    assert (typ, data) == ("OK", [b"3"])
    assert c.untagged_responses["UIDVALIDITY"] == [b"42"]
    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK" and data == [b"1 (UID 7 FLAGS (\\Seen))"]
    c.logout()
    # imaplib asks for CAPABILITY first; both go to the fallback
    assert [l.split()[1] for l in fake.unexpected] == [b"CAPABILITY", b"LIST"]


def test_each_connection_runs_the_script(fake_factory):
    fake = fake_factory(lambda i: [("send", b"* OK conn %d\r\n" % i)])
    welcomes = []
    for _ in range(3):
        c = imap(fake)
        welcomes.append(c.welcome)
        c.logout()
    assert welcomes == [b"* OK conn 0", b"* OK conn 1", b"* OK conn 2"]
    assert fake.connections == 3


def test_hostile_list(fake_factory):
    fake = fake_factory(fakeimap.hostile_list())
    c = imap(fake)
    c.login("u", "p")
    typ, data = c.list()
    assert typ == "OK"
    lines = [d for d in data if d != b""]   # imaplib's remnant of a literal
    assert len(lines) == len(HOSTILE_LIST_NAMES) + 2
    literal = [d for d in lines if isinstance(d, tuple)]
    assert literal == [(b'(\\HasNoChildren) "/" {7}', b"nul\x00end")]
    assert b'(\\HasNoChildren) "/" "Caf&AOk-"' in lines
    assert b'(\\HasNoChildren) "/" ".."' in lines
    typ, data = c.lsub()
    assert typ == "OK" and len([d for d in data if d != b""]) == len(lines)
    c.logout()


def test_huge_literal_stops_when_client_hangs_up(fake_factory):
    fake = fake_factory(fakeimap.huge_literal())
    s = socket.create_connection((fake.host, fake.port), timeout=5)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"a LOGIN u p\r\nb SELECT INBOX\r\n")
    read_until(f, b"b OK")
    s.sendall(b"c UID FETCH 1 BODY.PEEK[]\r\n")
    line = f.readline()
    assert line.endswith(b"{%d}\r\n" % HUGE)
    assert HUGE == 2 ** 63 - 1
    got = 0
    while got < 8 << 20:
        got += len(f.read(1 << 20))
    f.close()
    s.close()
    assert fake.wait_idle(10)
    assert 8 << 20 <= fake.forever_sent < fake.send_limit


def test_huge_literal_bounded(fake_factory):
    fake = fake_factory(fakeimap.huge_literal(), send_limit=3 << 20)
    c = imap(fake)
    c.login("u", "p")
    c.select("INBOX")
    s = c.sock
    s.sendall(b"Z1 UID FETCH 1 BODY.PEEK[]\r\n")
    got = 0
    while True:
        data = s.recv(1 << 20)
        if not data:
            break
        got += len(data)
    assert fake.forever_sent == 3 << 20
    assert got > 3 << 20      # the announcement line and the data
    c.shutdown()


def test_unbalanced_parens(fake_factory):
    fake = fake_factory(fakeimap.unbalanced_parens())
    c = imap(fake)
    c.login("u", "p")
    typ, data = c.list()
    assert typ == "OK" and data[0] == b'((\\HasNoChildren "/" INBOX'
    typ, data = c.select("INBOX")
    assert typ == "OK"
    typ, data = c.uid("FETCH", "1", "(FLAGS)")
    assert typ == "OK" and b"1 UID 1 FLAGS \\Seen))" in data
    c.logout()


def test_deep_nesting(fake_factory):
    fake = fake_factory(fakeimap.deep_nesting())
    c = imap(fake)
    c.login("u", "p")
    typ, data = c.list()
    assert typ == "OK" and data[0].startswith(b"(" * 10000 + b")")
    c.select("INBOX")
    typ, data = c.uid("FETCH", "1", "(BODYSTRUCTURE)")
    assert typ == "OK"
    assert data[0].count(b"(") == data[0].count(b")") == 10002
    c.logout()


def test_truncated_then_close(fake_factory):
    fake = fake_factory(fakeimap.truncated_then_close())
    c = imap(fake)
    c.login("u", "p")
    with pytest.raises(imaplib.IMAP4.abort):
        c.list()
    assert fake.wait_idle()
    assert fake.sent and fake.commands[-1].split()[1] == b"LIST"


def test_disconnect_in_literal(fake_factory):
    fake = fake_factory(fakeimap.disconnect_in_literal())
    c = imap(fake)
    c.login("u", "p")
    c.select("INBOX")
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        c.uid("FETCH", "1", "(BODY.PEEK[])")
    assert fake.wait_idle()


def test_bye_mid_session(fake_factory):
    fake = fake_factory(fakeimap.bye_mid_session(delay=0.1))
    c = imap(fake)
    c.login("u", "p")
    assert c.list()[0] == "OK"
    with pytest.raises(imaplib.IMAP4.abort, match="shutting down"):
        c.select("INBOX")
    assert fake.wait_idle()


def test_never_answers(fake_factory):
    fake = fake_factory(fakeimap.never_answers())
    t0 = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError)):
        imaplib.IMAP4(fake.host, fake.port, timeout=0.5)
    assert time.monotonic() - t0 < 3
    fake2 = fake_factory(fakeimap.silent_after_login())
    c = imap(fake2, timeout=0.5)
    c.login("u", "secret-pw")
    with pytest.raises((socket.timeout, TimeoutError, imaplib.IMAP4.abort)):
        c.noop()
    assert fake2.credentials == [(b"u", b"secret-pw")]
    assert fake2.wait_for(lambda: b"NOOP" in fake2.received)


def test_idle_and_login_failure(fake_factory):
    fake = fake_factory([fakeimap.greeting(), ("login", False), ("login",)])
    c = imap(fake)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        c.login("u", "wrong")
    c.login("u", "right")
    tag = c._new_tag()
    c.send(tag + b" IDLE\r\n")
    assert c.readline().startswith(b"+ ")
    c.send(b"DONE\r\n")
    assert c.readline().startswith(tag + b" OK")
    c.logout()


def test_implicit_tls_and_starttls(fake_factory, tmp_path):
    pki = make_pki(str(tmp_path / "pki"))
    ctx = fakeimap.server_tls_context(pki["cert_file"], pki["key_file"])
    client_ctx = ssl.create_default_context(cafile=pki["ca_file"])
    fake = fake_factory(fakeimap.session(), tls_context=ctx,
                        implicit_tls=True)
    c = imaplib.IMAP4_SSL(fake.host, fake.port, ssl_context=client_ctx,
                          timeout=5)
    c.login("u", "p")
    c.logout()
    fake2 = fake_factory(
        [fakeimap.greeting(b"IMAP4rev1 STARTTLS"),
         ("expect", rb"STARTTLS"), ("send", b"{tag} OK begin TLS\r\n"),
         ("starttls",), ("login",)], tls_context=ctx,
        caps=b"IMAP4rev1 STARTTLS")
    c = imaplib.IMAP4(fake2.host, fake2.port, timeout=5)
    c.starttls(client_ctx)
    c.login("u", "p2")
    c.logout()
    assert fake2.credentials == [(b"u", b"p2")]
    assert b"LOGIN u \"p2\"" in fake2.received    # recorded after decryption


def test_mailfs_config(fake_factory, tmp_path):
    fake = fake_factory(fakeimap.never_answers())
    path = fake.mailfs_config(str(tmp_path), account="hostile", timeout=2)
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(path)
    a = cp["account hostile"]
    assert (a["type"], a["host"], a["port"], a["tls"], a["allow_plaintext"],
            a["timeout"]) == ("imap", "127.0.0.1", str(fake.port), "none",
                              "true", "2")
    assert open(a["password_file"]).read() == "fake-password-0123"
    assert oct(os.stat(a["password_file"]).st_mode & 0o777) == "0o600"


def test_mailbox_and_hooks(fake_factory):
    body = b"Subject: hi\r\n\r\nhello\r\n"
    other = b"Subject: other\r\n\r\nthere\r\n"
    hook = fakeimap.first_time([
        ("send", b"* BYE [UNAVAILABLE] once\r\n"), ("close",)])
    fake = fake_factory(fakeimap.session(
        *fakeimap.mailbox({1: body, 5: body + b"x"}, uidvalidity=77,
                          folders={b"Other": {3: other}}, on_body=hook)))
    c = imap(fake)
    c.login("u", "p")
    typ, data = c.select("INBOX")
    assert (typ, data) == ("OK", [b"2"])
    assert c.untagged_responses["UIDVALIDITY"] == [b"77"]
    typ, data = c.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE)")
    assert typ == "OK" and len(data) == 2
    assert b"UID 5 FLAGS (\\Seen) RFC822.SIZE %d" % (len(body) + 1) in data[1]
    with pytest.raises(imaplib.IMAP4.abort, match="once"):
        c.uid("FETCH", "1", "(UID BODY.PEEK[])")
    assert hook.count == 1
    c = imap(fake)
    c.login("u", "p")
    c.select("INBOX")
    typ, data = c.uid("FETCH", "5", "(UID BODY.PEEK[])")
    assert typ == "OK" and data[0][1] == body + b"x"
    typ, data = c.fetch("1", "(BODY[])")
    assert typ == "OK" and data[0][1] == body
    c.select("Other")
    typ, data = c.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    assert data[0][1] == other and b"UID 3" in data[0][0]
    typ, data = c.status("Other", "(MESSAGES UIDNEXT)")
    assert typ == "OK" and b"MESSAGES 1 UIDNEXT 4" in data[0]
    c.logout()
    assert hook.count == 4


def test_answer_then_more(fake_factory):
    fake = fake_factory(fakeimap.session(
        *fakeimap.mailbox({1: b"a\r\n"}),
        ("expect", rb"SELECT"), ("answer",),
        ("send", b"* BYE [UNAVAILABLE] after select\r\n"), ("close",)))
    c = imap(fake)
    c.login("u", "p")
    assert c.select("INBOX")[0] == "OK"
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        c.noop()
    assert fake.wait_idle()
