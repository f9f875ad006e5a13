"""`mailfs check` of an account's submission server (`smtp =`), an
aiosmtpd sink (tests/harness/smtpsink.py) beside a real Dovecot."""

import pytest

from conftest import run_check
from smtpsink import SmtpSink


@pytest.fixture
def sink(dovecot_server):
    pki = dovecot_server.pki
    s = SmtpSink(tls=(pki["cert_file"], pki["key_file"]), users={})
    s.start()
    yield s
    s.stop()


def smtp_lines(r):
    return [s for s in r.steps if s[1].startswith("smtp ")]


def test_smtp_ok(dovecot_server, sink, tmp_path):
    dv = dovecot_server
    user, password = dv.add_user()
    sink.users[user] = password
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            smtp=sink.url)
    r = run_check(conf, "work", "-d")
    assert r.code == 0, r
    names = [s[1] for s in smtp_lines(r)]
    assert names[:5] == ["smtp config", "smtp dns", "smtp tcp",
                         "smtp greeting", "smtp ehlo"], r
    st, text, _ = r.step("smtp tls")
    assert st == "ok" and "STARTTLS offered and done" in text, r
    assert "verified" in text, r
    st, text, _ = r.step("smtp ehlo")
    assert "AUTH" in text, r
    st, text, _ = r.step("smtp auth")
    assert st == "ok" and text.startswith("PLAIN (offered by the server)")
    assert sink.logins == [("PLAIN", user, True)]
    # nothing was sent
    assert sink.messages == []
    assert password not in r.out + r.err


def test_smtp_auth_refused(dovecot_server, sink, tmp_path):
    dv = dovecot_server
    user, password = dv.add_user()
    sink.users[user] = "another password"
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            smtp=sink.url, smtp_auth="login")
    r = run_check(conf, "work", "-d")
    assert r.code == 1, r
    # the mail server itself is fine
    assert r.step("folders")[0] == "ok", r
    st, text, fix = r.step("smtp auth")
    assert st == "FAIL" and text.startswith("LOGIN (forced by smtp_auth"), r
    assert "535" in text, r
    assert "password_file" in fix, r
    assert password not in r.out + r.err
    assert "<secret>" in r.err


def test_smtp_without_starttls(dovecot_server, tmp_path):
    dv = dovecot_server
    user, password = dv.add_user()
    with SmtpSink(users={user: password}) as plain:
        conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                                smtp=plain.url)
        r = run_check(conf, "work")
    assert r.code == 1, r
    st, text, fix = r.step("smtp tls")
    assert st == "FAIL" and "no STARTTLS" in text, r
    assert "smtps://" in fix, r
    assert "smtp auth" not in r.names(), r


def test_smtp_bad_url_is_config(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            smtp="http://example.org/")
    mark = dv._log_size()
    r = run_check(conf, "work")
    assert r.code == 1 and r.names() == ["config"], r
    assert "smtp = http://example.org/" in r.step("config")[1], r
    assert "imap-login" not in dv.log_since(mark)
