"""`mailfs serve --mapis`: MAPI over HTTPS, the certificate verified
against the test CA; Autodiscover names https URLs."""

import http.client
import importlib.util
import os
import ssl
import sys

import mapi_decode as md
from conftest import (Server, basic, build_store, check_log, recorded_binary,
                      trace)

_HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "harness", "dovecot.py")


def _pki(d):
    if os.path.dirname(_HARNESS) not in sys.path:
        sys.path.append(os.path.dirname(_HARNESS))
    spec = importlib.util.spec_from_file_location("mailfs_harness_pki",
                                                  _HARNESS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.make_pki(d)


def test_connect_over_https(workdir):
    import base64
    pki = _pki(workdir)
    store = os.path.join(workdir, "store")
    build_store(store)
    server = Server(store, workdir, protocols=("mapis",),
                    tls=(pki["cert_file"], pki["key_file"]))
    try:
        ctx = ssl.create_default_context(cafile=pki["ca_file"])
        conn = http.client.HTTPSConnection(
            "localhost", server.port["mapis"], context=ctx, timeout=30)
        ex = trace("01-connect-logon")["exchanges"][0]
        keep = ("Content-Type", "X-RequestType", "X-RequestId",
                "X-ClientInfo")
        headers = {k: v for k, v in ex["request"]["headers"] if k in keep}
        headers["Authorization"] = basic()
        conn.request("POST", ex["request"]["path"],
                     body=base64.b64decode(ex["request"]["body_b64"]),
                     headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200
        assert resp.getheader("X-ResponseCode") == "0"
        binary = body[body.index(b"\r\n\r\n") + 4:]
        ours = md.connect_response(binary)
        assert set(ours) == set(md.connect_response(recorded_binary(ex)))
        assert ours["status"] == 0

        ad = trace("10-autodiscover")["exchanges"][0]["request"]
        conn.request("POST", "/Autodiscover/Autodiscover.xml",
                     body=base64.b64decode(ad["body_b64"]),
                     headers={"Authorization": basic(),
                              "Content-Type": "text/xml"})
        resp = conn.getresponse()
        xml = resp.read().decode()
        assert resp.status == 200
        assert "https://localhost:%d/mapi/emsmdb/" % server.port["mapis"] \
            in xml
        conn.close()
    finally:
        check_log(server, server.stop())
