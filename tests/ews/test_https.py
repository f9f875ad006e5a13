"""`mailfs serve --ewss`: exchangelib over HTTPS, verifying the server's
certificate against the test CA (and refusing it under another CA)."""

import importlib.util
import os
import sys

import pytest

import conftest
from conftest import make_message, put_message

_HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "harness", "dovecot.py")


def _pki(d):
    # the harness module finds its neighbours (mailgen) on the path
    if os.path.dirname(_HARNESS) not in sys.path:
        sys.path.append(os.path.dirname(_HARNESS))
    spec = importlib.util.spec_from_file_location("mailfs_harness_pki",
                                                  _HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_pki(d)


@pytest.fixture
def ewss_server(workdir):
    pki = _pki(workdir)
    store = os.path.join(workdir, "store")
    for name in conftest.MAIL_FOLDERS:
        conftest.make_maildir(store, name)
    server = conftest.Server(store, workdir, protocols=("ewss",),
                             tls=(pki["cert_file"], pki["key_file"]))
    server.pki = pki
    yield server
    rc = server.stop()
    log = server.log()
    assert rc == 0, log
    for marker in conftest.serve_conftest.SANITIZER_MARKERS:
        assert marker not in log, log


def _ca(pki, wrong=False):
    return pki["wrong_ca_file" if wrong else "ca_file"]


def https_account(server, cafile):
    import requests.adapters
    from exchangelib import (BASIC, DELEGATE, Account, Configuration,
                             Credentials)
    from exchangelib.protocol import BaseProtocol

    class CAAdapter(requests.adapters.HTTPAdapter):
        def cert_verify(self, conn, url, verify, cert):
            super().cert_verify(conn=conn, url=url, verify=cafile,
                                cert=cert)

    BaseProtocol.HTTP_ADAPTER_CLS = CAAdapter
    url = "https://localhost:%d/EWS/Exchange.asmx" % server.port["ewss"]
    config = Configuration(service_endpoint=url,
                           credentials=Credentials(conftest.USER,
                                                   conftest.PASSWORD),
                           auth_type=BASIC, max_connections=2)
    return Account(primary_smtp_address="alice@example.org", config=config,
                   autodiscover=False, access_type=DELEGATE)


@pytest.fixture
def restore_adapter():
    from exchangelib.protocol import BaseProtocol
    saved = BaseProtocol.HTTP_ADAPTER_CLS
    yield
    BaseProtocol.HTTP_ADAPTER_CLS = saved


def test_https_with_test_ca(ewss_server, restore_adapter):
    raw = make_message("over tls")
    put_message(ewss_server.store, "INBOX", "1700000000.M1P1.h", raw, "S")
    acc = https_account(ewss_server, _ca(ewss_server.pki))
    assert acc.inbox.name == "INBOX"
    item = acc.inbox.all()[0]
    assert acc.inbox.get(id=item.id).mime_content == raw
    assert len(list(acc.inbox.sync_items(only_fields=["subject"]))) == 1


def test_https_refused_under_another_ca(ewss_server, restore_adapter):
    from exchangelib.errors import TransportError
    import requests
    with pytest.raises((TransportError, requests.exceptions.SSLError)):
        https_account(ewss_server, _ca(ewss_server.pki, wrong=True)).inbox


def test_ewss_needs_a_certificate(workdir):
    import subprocess
    store = os.path.join(workdir, "store")
    conftest.make_maildir(store, "INBOX")
    pw = conftest.serve_conftest.write_password_file(
        os.path.join(workdir, "pw"))
    r = subprocess.run([conftest.serve_conftest.MAILFS, "serve", "--store",
                        store, "--user", conftest.USER, "--password-file",
                        pw, "--ewss", "127.0.0.1:0"], capture_output=True,
                       timeout=30)
    assert r.returncode != 0
    assert b"--ewss needs --tls-cert" in r.stderr
