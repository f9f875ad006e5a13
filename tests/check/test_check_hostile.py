"""`mailfs check` against the scripted servers of tests/harness
(fakeimap.py): servers that say nothing, refuse, or send what a terminal
should not show."""

import time

from conftest import run_check
from dovecot import imap_account_keys, write_mailfs_config, \
    write_password_file
from fakeimap import FakeIMAP, greeting, never_answers

CAPS_NO_PLAIN = b"IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE"


def plain_config(tmp_path, fake, **extra):
    pw = write_password_file(str(tmp_path / "pw"), "fake-Passw0rd")
    keys = imap_account_keys(port=fake.port, tls="none", user="alice",
                             password_file=pw, timeout=2)
    keys.update(extra)
    return write_mailfs_config(str(tmp_path / "mailfs.conf"), "fake", keys)


def test_silent_server_times_out_at_greeting(tmp_path):
    with FakeIMAP(never_answers()) as fake:
        conf = plain_config(tmp_path, fake)
        started = time.monotonic()
        r = run_check(conf, "fake")
    assert time.monotonic() - started < 10, r
    assert r.code == 1, r
    st, text, fix = r.step("greeting")
    assert st == "FAIL" and "2 s" in text, r
    assert "tls =" in fix, r


def test_bye_at_greeting(tmp_path):
    with FakeIMAP([("send", b"* BYE too many connections\r\n"),
                   ("close",)]) as fake:
        r = run_check(plain_config(tmp_path, fake), "fake")
    assert r.code == 1, r
    st, text, _ = r.step("greeting")
    assert st == "FAIL" and "too many connections" in text, r


def test_control_characters_are_not_printed(tmp_path):
    with FakeIMAP([("send", b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] "
                            b"hi \x1b[2J\x07there\r\n"),
                   ("login",)]) as fake:
        r = run_check(plain_config(tmp_path, fake), "fake")
    assert "\x1b" not in r.out and "\x07" not in r.out, r
    st, text, _ = r.step("greeting")
    assert st == "ok" and "there" in text, r


def test_forced_mechanism_not_offered(tmp_path):
    with FakeIMAP([greeting(CAPS_NO_PLAIN), ("login", False)],
                  caps=CAPS_NO_PLAIN) as fake:
        r = run_check(plain_config(tmp_path, fake, auth="plain"), "fake")
    assert r.code == 1, r
    st, text, fix = r.step("auth")
    assert st == "FAIL" and text.startswith("PLAIN (forced by auth =)"), r
    assert "auth =" in fix, r
    assert "fake-Passw0rd" not in r.out + r.err


def test_login_disabled_without_tls(tmp_path):
    caps = b"IMAP4rev1 LOGINDISABLED ID"
    with FakeIMAP([greeting(caps), ("login",)], caps=caps) as fake:
        r = run_check(plain_config(tmp_path, fake), "fake")
    assert r.code == 1, r
    st, text, fix = r.step("auth")
    assert st == "FAIL" and "LOGINDISABLED" in text, r
    assert "tls = none" in fix and "tls = starttls" in fix, r
    # the password was not sent
    assert not fake.credentials, fake.credentials
