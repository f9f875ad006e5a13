"""`mailfs check` of EWS accounts against `mailfs serve --ewss` (and
--ews for plain HTTP)."""

import importlib.util
import os

import pytest

from conftest import run_check
from dovecot import make_pki, write_mailfs_config, write_password_file

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)


def _load(name, *parts):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(TESTS, *parts))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


serve = _load("mailfs_serve_conftest_check", "serve", "conftest.py")
workdir = serve.workdir

MAIL_FOLDERS = ("INBOX", "Sent", "Trash", "Archive", "Archive/2024")


@pytest.fixture
def pki(workdir):
    return make_pki(os.path.join(workdir, "pki"))


@pytest.fixture
def ewss(workdir, pki):
    store = os.path.join(workdir, "store")
    for name in MAIL_FOLDERS:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(store, name, sub), exist_ok=True)
    server = serve.Server(store, workdir, protocols=("ewss", "ews"),
                          tls=(pki["cert_file"], pki["key_file"]))
    yield server
    rc = server.stop()
    log = server.log()
    assert rc == 0, log
    for marker in serve.SANITIZER_MARKERS:
        assert marker not in log, log


def ews_config(workdir, url, password=serve.PASSWORD, **extra):
    pw = write_password_file(os.path.join(workdir, "ews.password"),
                             password)
    keys = {"type": "ews", "url": url, "user": serve.USER,
            "password_file": pw, "timeout": 10}
    keys.update(extra)
    return write_mailfs_config(os.path.join(workdir, "check.conf"), "work",
                               keys)


def https_url(server):
    return "https://127.0.0.1:%d/EWS/Exchange.asmx" % server.port["ewss"]


def test_ews_ok(ewss, workdir, pki):
    conf = ews_config(workdir, https_url(ewss), ca_file=pki["ca_file"])
    r = run_check(conf, "work", "-d")
    assert r.code == 0, r
    assert r.names() == ["config", "dns", "tcp", "tls", "http", "auth",
                         "folders"], r
    st, text, _ = r.step("tls")
    assert st == "ok" and "verified" in text and "CN=localhost" in text, r
    st, text, _ = r.step("http")
    assert st == "ok" and "HTTP 200" in text, r
    st, text, _ = r.step("auth")
    assert st == "ok" and text.startswith("basic (the default)"), r
    st, text, _ = r.step("folders")
    assert st == "ok", r
    n = int(text.split()[0])
    assert n >= len(MAIL_FOLDERS), r
    # the store's mail folders, and those the server made when the check
    # asked for distinguished folders an Exchange mailbox always has
    store = os.path.join(workdir, "store")
    mail = [d for d in os.listdir(store) if os.path.isdir(
        os.path.join(store, d, "cur"))]
    made = set(mail) - {f.split("/")[0] for f in MAIL_FOLDERS}
    assert made <= {"Drafts", "Junk", "Outbox"}, made
    assert "%d mail" % (len(MAIL_FOLDERS) + len(made)) in text, r
    assert serve.PASSWORD not in r.out + r.err


def test_ews_wrong_password(ewss, workdir, pki):
    wrong = "Wr0ng-" + serve.PASSWORD[::-1]
    conf = ews_config(workdir, https_url(ewss), password=wrong,
                      ca_file=pki["ca_file"])
    r = run_check(conf, "work", "-d")
    assert r.code == 1, r
    st, text, _ = r.step("http")
    assert "HTTP 401" in text, r
    st, text, fix = r.step("auth")
    assert st == "FAIL" and "401" in text, r
    assert "password_file" in fix, r
    assert r.names()[-1] == "auth", r
    assert wrong not in r.out + r.err


def test_ews_untrusted_certificate(ewss, workdir):
    conf = ews_config(workdir, https_url(ewss))
    r = run_check(conf, "work")
    assert r.code == 1, r
    st, text, fix = r.step("tls")
    assert st == "FAIL" and "NOT verified" in text, r
    assert "ca_file = /path/to/ca.pem" in fix, r
    assert r.names()[-1] == "tls", r


def test_ews_plain_http(ewss, workdir):
    url = "http://127.0.0.1:%d/EWS/Exchange.asmx" % ewss.port["ews"]
    conf = ews_config(workdir, url)
    r = run_check(conf, "work")
    assert r.code == 1 and r.names() == ["config"], r
    assert "allow_plaintext" in r.step("config")[1], r
    conf = ews_config(workdir, url, allow_plaintext=True)
    r = run_check(conf, "work")
    assert r.code == 0, r
    assert "plain text" in r.step("tls")[1], r
