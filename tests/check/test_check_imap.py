"""`mailfs check` of IMAP accounts against a real Dovecot."""

import os
import socket
import time

from conftest import run_check
from dovecot import free_ports, write_mailfs_config, imap_account_keys


def fresh_user(dv, folders=()):
    user, password = dv.add_user()
    for f in folders:
        dv.create_folder(user, f)
    return user, password


def test_implicit_tls_ok(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = fresh_user(dv, ["Projects", "Projects/2024"])
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user)
    r = run_check(conf, "work")
    assert r.code == 0, r
    assert r.names()[:4] == ["config", "dns", "tcp", "tls"], r
    st, text, _ = r.step("tcp")
    assert st == "ok" and "127.0.0.1:%d" % dv.imaps_port in text, r
    st, text, _ = r.step("tls")
    assert st == "ok" and "verified" in text and "implicit TLS" in text, r
    assert "CN=localhost" in text and "TLSv1." in text, r
    st, text, _ = r.step("greeting")
    assert st == "ok" and text.startswith("* OK"), r
    st, text, _ = r.first("caps")
    assert "IMAP4REV1" in text.upper() and "AUTH=PLAIN" in text, r
    st, text, _ = r.step("auth")
    assert st == "ok" and text.startswith("PLAIN (offered by the server)")
    assert user in text, r
    st, text, _ = r.step("folders")
    # what the server lists for this user: INBOX, the special-use
    # folders the harness makes, and the two made above
    expected = len(dv.list_folders(user))
    assert st == "ok" and text.startswith("%d folders" % expected), r
    assert "FAIL" not in r.out


def test_starttls_ok(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = fresh_user(dv)
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            tls="starttls")
    r = run_check(conf, "work")
    assert r.code == 0, r
    st, text, _ = r.step("tls")
    assert st == "ok" and "STARTTLS offered and done" in text, r
    assert "verified" in text, r
    assert r.names().index("greeting") < r.names().index("tls"), r
    assert r.step("auth")[0] == "ok"
    assert r.step("folders")[0] == "ok"


def test_no_ca_file_not_verified(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = fresh_user(dv)
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            ca_file=dv.wrong_ca_file)
    # the harness fills in the test CA when none is given: write the
    # account again without one
    keys = imap_account_keys(host=dv.host, port=dv.imaps_port,
                             user=user, password_file=os.path.join(
                                 str(tmp_path), "work.password"))
    write_mailfs_config(conf, "work", keys)
    r = run_check(conf, "work")
    assert r.code == 1, r
    st, text, fix = r.step("tls")
    assert st == "FAIL" and "NOT verified" in text, r
    assert "unable to get local issuer certificate" in text or \
        "self-signed" in text or "self signed" in text, r
    assert "CN=localhost" in text, r
    assert fix and "ca_file = /path/to/ca.pem" in fix, r
    # nothing after the failed step
    assert r.names()[-1] == "tls", r


def test_wrong_ca_file(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = fresh_user(dv)
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            ca_file=dv.wrong_ca_file)
    r = run_check(conf, "work")
    assert r.code == 1, r
    st, text, fix = r.step("tls")
    assert st == "FAIL" and "NOT verified" in text, r
    assert "ca_file" in fix and dv.wrong_ca_file in fix, r
    assert r.names()[-1] == "tls", r


def test_wrong_password(dovecot_server, tmp_path):
    dv = dovecot_server
    user, password = fresh_user(dv)
    wrong = "Wr0ng-" + password[::-1]
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            password=wrong)
    for extra in ((), ("-d",)):
        r = run_check(conf, "work", *extra)
        assert r.code == 1, r
        st, text, fix = r.step("auth")
        assert st == "FAIL", r
        # Dovecot's own words
        assert "AUTHENTICATIONFAILED" in text or \
            "Authentication failed" in text, r
        assert "password_file" in fix and "password_cmd" in fix, r
        assert r.names()[-1] == "auth", r
        assert wrong not in r.out and wrong not in r.err, r
        assert password not in r.out and password not in r.err
    # -d showed the protocol, with the secret hidden
    assert "<secret>" in r.err, r


def test_password_not_shown_when_it_works(dovecot_server, tmp_path):
    dv = dovecot_server
    user, password = fresh_user(dv)
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            auth="login", tls="starttls")
    r = run_check(conf, "work", "-d")
    assert r.code == 0, r
    st, text, _ = r.step("auth")
    assert text.startswith("LOGIN (forced by auth =)"), r
    assert password not in r.out and password not in r.err


def test_connection_refused(tmp_path):
    port, = free_ports(1)
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "work",
                               imap_account_keys(port=port, user="alice"))
    started = time.monotonic()
    r = run_check(conf, "work")
    assert time.monotonic() - started < 5, r
    assert r.code == 1, r
    st, text, fix = r.step("tcp")
    assert st == "FAIL" and "refused" in text.lower(), r
    assert "port =" in fix, r
    assert r.names() == ["config", "dns", "tcp"], r


def test_unresolvable_host(tmp_path):
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "work",
                               imap_account_keys(host="nonexistent.invalid",
                                                 port=993, user="alice"))
    r = run_check(conf, "work")
    assert r.code == 1, r
    st, text, fix = r.step("dns")
    assert st == "FAIL" and "nonexistent.invalid" in text, r
    assert "no such host" in text or "resolve" in text, r
    assert "host =" in fix, r
    assert r.names() == ["config", "dns"], r


def test_plaintext_without_allow(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = fresh_user(dv)
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            tls="none", allow_plaintext=None)
    mark = dv._log_size()
    r = run_check(conf, "work")
    assert r.code == 1, r
    assert r.names() == ["config"], r
    st, text, _ = r.step("config")
    assert st == "FAIL" and "tls = none" in text and \
        "allow_plaintext" in text, r
    assert conf in text and "account 'work'" in text, r
    # nothing was sent: Dovecot saw no connection
    time.sleep(0.3)
    assert "imap-login" not in dv.log_since(mark), dv.log_since(mark)


def test_plaintext_allowed(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = fresh_user(dv)
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            tls="none")
    r = run_check(conf, "work")
    assert r.code == 0, r
    st, text, _ = r.step("tls")
    assert st == "ok" and "plain text" in text, r


def test_password_file_readable_by_others(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = fresh_user(dv)
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user)
    os.chmod(os.path.join(str(tmp_path), "work.password"), 0o644)
    r = run_check(conf, "work")
    assert r.code == 1, r
    st, text, _ = r.step("config")
    assert st == "FAIL" and "password_file" in text and "chmod 600" in text
    assert r.names() == ["config"], r


def test_missing_host_and_bad_tls(tmp_path):
    conf = str(tmp_path / "mailfs.conf")
    write_mailfs_config(conf, "nohost", {"type": "imap", "user": "alice"})
    write_mailfs_config(conf, "badtls", {"type": "imap", "host": "x",
                                         "tls": "sometimes"}, append=True)
    r = run_check(conf, "nohost")
    assert r.code == 1 and r.names() == ["config"], r
    assert "no host" in r.step("config")[1], r
    r = run_check(conf, "badtls")
    assert r.code == 1 and r.names() == ["config"], r
    assert "tls = sometimes" in r.step("config")[1], r


def test_tunnel(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = fresh_user(dv)
    conf = dv.mailfs_config(str(tmp_path), account="work", user=user,
                            tunnel=True)
    r = run_check(conf, "work")
    assert r.code == 0, r
    st, text, _ = r.step("tunnel")
    assert st == "ok" and "started" in text, r
    assert "dns" not in r.names() and "tcp" not in r.names(), r
    assert r.step("auth")[1].startswith("PREAUTH"), r


def test_unknown_account_and_usage(tmp_path):
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "work",
                               imap_account_keys(user="alice", port=1))
    r = run_check(conf, "nosuch")
    assert r.code == 1, r
    assert len(r.steps) == 1 and r.steps[0][0] == "FAIL", r
    assert "nosuch" in r.out and conf in r.out, r
    import subprocess
    from conftest import MAILFS
    p = subprocess.run([MAILFS, "check"], capture_output=True, text=True)
    assert p.returncode == 2 and "usage" in p.stderr, p
    p = subprocess.run([MAILFS, "check", "a", "b"], capture_output=True,
                       text=True)
    assert p.returncode == 2, p


def test_unknown_type(tmp_path):
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "work",
                               {"type": "gopher", "host": "x"})
    r = run_check(conf, "work")
    assert r.code == 1 and r.names() == ["config"], r
    assert "type = gopher" in r.step("config")[1], r
