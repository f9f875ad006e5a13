"""The client's first layer against the other side of this project:
`mailfs serve --mapi` on a store shaped like the recorded mailbox (the
same store tests/serve-mapi/ builds).  What the client reads must be what
the store holds: the special folders, the folder tree, the Inbox's
messages with their subjects and read state."""

import email
import email.policy
import importlib.util
import json
import os
import subprocess

import pytest

from conftest import probe_path

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# tests/serve-mapi/conftest.py under a name of its own: its store and the
# serve harness it reuses
serve_mapi = _load("mailfs_serve_mapi_conftest",
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
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    rows = [json.loads(l) for l in lines if l.startswith("{")]
    values = {}
    for l in lines:
        if not l.startswith("{") and " " in l:
            k, v = l.split(" ", 1)
            values.setdefault(k, []).append(v)
    return values, rows


def subject_of(prefix):
    with open(serve_mapi.eml_file(prefix), "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    return str(msg["Subject"])


def test_logon_and_the_folder_tree(served):
    values, _ = probe(served, "logon")
    assert values["display-name"] == [serve_mapi.USER]
    folders = dict(v.split(" ", 1) for v in values["folder"])
    assert folders["inbox"] == "0x0D00000000000001"
    assert folders["ipm-subtree"] == "0x0900000000000001"
    _, rows = probe(served, "hierarchy")
    by_name = {r["name"]: r for r in rows}
    inbox = by_name["Inbox"]
    assert inbox["fid"] == folders["inbox"] and inbox["depth"] == 1
    assert inbox["count"] == 12 and inbox["unread"] == 11
    projects = by_name["Projects"]
    assert projects["parent"] == inbox["fid"] and projects["depth"] == 2
    assert projects["count"] == 2


def test_the_inbox_as_the_store_holds_it(served):
    _, rows = probe(served, "contents", "0x0D00000000000001")
    assert [r["subject"] for r in rows] == \
        [subject_of("%02d-" % i) for i in range(1, 13)]
    read = [r["subject"] for r in rows if r["flags"] & 0x1]
    assert read == [subject_of("11-")]
    assert len({r["mid"] for r in rows}) == 12
