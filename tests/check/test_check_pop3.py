"""`mailfs check` of POP3 accounts against a real Dovecot."""

import os

from conftest import run_check
from dovecot import make_message, write_mailfs_config, write_password_file


def pop3_config(dv, directory, user, tls="implicit", password=None,
                **extra):
    pwfile = write_password_file(os.path.join(directory, "home.password"),
                                 password if password is not None
                                 else dv.users[user])
    keys = {"type": "pop3", "host": dv.host,
            "port": dv.pop3s_port if tls == "implicit" else dv.pop3_port,
            "tls": tls, "ca_file": dv.ca_file, "user": user,
            "password_file": pwfile}
    if tls == "none":
        keys["allow_plaintext"] = True
        keys["ca_file"] = None
    keys.update(extra)
    return write_mailfs_config(os.path.join(directory, "mailfs.conf"),
                               "home", keys)


def test_pop3_ok(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    for i in range(3):
        dv.append(user, "INBOX", make_message(i))
    conf = pop3_config(dv, str(tmp_path), user)
    r = run_check(conf, "home")
    assert r.code == 0, r
    assert r.names()[:4] == ["config", "dns", "tcp", "tls"], r
    st, text, _ = r.step("tls")
    assert st == "ok" and "verified" in text and "CN=localhost" in text, r
    st, text, _ = r.step("greeting")
    assert st == "ok" and text.startswith("+OK"), r
    st, text, _ = r.first("caps")
    assert "UIDL" in text and "SASL PLAIN" in text, r
    st, text, _ = r.step("auth")
    assert st == "ok" and text.startswith("SASL PLAIN (offered"), r
    st, text, _ = r.step("folders")
    assert st == "ok" and "3 messages" in text, r
    # nothing was deleted
    assert len(os.listdir(os.path.join(dv.maildir(user), "cur"))) + \
        len(os.listdir(os.path.join(dv.maildir(user), "new"))) == 3


def test_pop3_stls_and_user_pass(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    conf = pop3_config(dv, str(tmp_path), user, tls="starttls", auth="user")
    r = run_check(conf, "home")
    assert r.code == 0, r
    st, text, _ = r.step("tls")
    assert st == "ok" and "STLS offered and done" in text, r
    st, text, _ = r.step("auth")
    assert text.startswith("USER/PASS (forced by auth =)"), r
    assert "0 messages" in r.step("folders")[1], r


def test_pop3_wrong_password(dovecot_server, tmp_path):
    dv = dovecot_server
    user, password = dv.add_user()
    wrong = "Wr0ng-" + password[::-1]
    conf = pop3_config(dv, str(tmp_path), user, password=wrong)
    for extra in ((), ("-d",)):
        r = run_check(conf, "home", *extra)
        assert r.code == 1, r
        st, text, fix = r.step("auth")
        assert st == "FAIL" and "-ERR" in text or "[AUTH]" in text, r
        assert "Authentication failed" in text, r
        assert "password_file" in fix, r
        assert r.names()[-1] == "auth", r
        assert wrong not in r.out + r.err
        assert password not in r.out + r.err


def test_pop3_no_ca_file(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    conf = pop3_config(dv, str(tmp_path), user, ca_file=None)
    r = run_check(conf, "home")
    assert r.code == 1, r
    st, text, fix = r.step("tls")
    assert st == "FAIL" and "NOT verified" in text, r
    assert "ca_file = /path/to/ca.pem" in fix, r
    assert r.names()[-1] == "tls", r
