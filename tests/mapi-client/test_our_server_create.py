"""The client's message creation (write.c: `create FID EMLFILE`) against
the other side of this project, `mailfs serve --mapi`, on the store
tests/serve-mapi/ builds: each .eml of the recordings made in Projects
over MAPI arrives as a new Maildir file that means what the .eml means
(subject, addresses, text, attachment bytes, an attached message)."""

import email
import email.policy
import importlib.util
import os
import re
import subprocess

import pytest

from conftest import probe_path

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECTS_DIR = "INBOX/Projects"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


serve_mapi = _load("mailfs_serve_mapi_conftest_create",
                   os.path.join(HERE, "..", "serve-mapi", "conftest.py"))


@pytest.fixture
def served(tmp_path):
    store = str(tmp_path / "store")
    serve_mapi.build_store(store)
    server = serve_mapi.Server(store, str(tmp_path), protocols=("mapi",))
    yield server
    serve_mapi.check_log(server, server.stop())


def probe(server, *commands):
    url = "http://127.0.0.1:%d" % server.port["mapi"]
    p = subprocess.run([probe_path(), url, serve_mapi.USER,
                        serve_mapi.PASSWORD] + list(commands),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def projects_fid(server):
    import json
    out = probe(server, "hierarchy")
    rows = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    return next(r["fid"] for r in rows if r["name"] == "Projects")


def maildir(store, folder):
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(store, folder, sub)
        for name in os.listdir(d):
            out[name] = os.path.join(d, name)
    return out


def parse(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def addrs(msg, field):
    h = msg[field]
    return sorted(a.addr_spec.lower() for a in h.addresses) if h else []


def text_of(msg):
    part = msg.get_body(("plain",))
    if part is None:
        return None
    return re.sub(r"\s+", " ", part.get_content()).strip()


def attachments(msg):
    out = []
    for a in msg.iter_attachments():
        if a.get_content_type() == "message/rfc822":
            inner = a.get_content()
            out.append(("message", str(inner["Subject"])))
        else:
            out.append((a.get_filename(), a.get_content()))
    return out


@pytest.mark.parametrize("eml", ["01-plain-ascii", "02-utf8", "05-attachment",
                                 "07-attached-eml", "08-large", "09-cc-bcc"])
def test_create_from_eml(served, eml):
    src_path = serve_mapi.eml_file(eml[:3])
    src = parse(src_path)
    fid = projects_fid(served)
    before = maildir(served.store, PROJECTS_DIR)
    out = probe(served, "create", fid, src_path)
    assert re.search(r"^mid 0x[0-9A-F]{16}$", out, re.M), out
    new = {k: v for k, v in maildir(served.store, PROJECTS_DIR).items()
           if k not in before}
    assert len(new) == 1, new
    got = parse(next(iter(new.values())))
    assert str(got["Subject"]) == str(src["Subject"])
    for field in ("From", "To", "Cc", "Bcc"):
        assert addrs(got, field) == addrs(src, field), field
    if text_of(src) is not None:
        assert text_of(got) == text_of(src)
    assert attachments(got) == attachments(src)
