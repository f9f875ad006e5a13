"""Reading one message whole over MAPI (protocols/mapi/message.c) and a
folder's contents table (protocols/mapi/ctable.c).

The messages come from fakemapi (a real server's recorded answers) and
are rendered to MIME by mapi_mail_render; each is compared, by Python's
email package, with the original that was imported into that server
(tests/data/mapi-traces/eml; /work/shared/mapi-traces/README.md says which
MID is which).  The contents table is read from `mailfs serve --mapi`,
because the recordings hold no contents table with the columns the
listing asks for.
"""

import email
import email.policy
import email.utils
import hashlib
import os

import pytest

from conftest import USER

HERE = os.path.dirname(os.path.abspath(__file__))
EML = os.path.join(HERE, "..", "data", "mapi-traces", "eml")
INBOX = "0x0D00000000000001"

# The messages whose properties, recipients and attachments the
# recordings hold whole (04-read-message): MID -> original.
RECORDED = {
    "0x0100030000000001": "02-utf8.eml",
    "0x0200030000000001": "03-html-only.eml",
    "0x0300030000000001": "04-alternative.eml",
    "0x0400030000000001": "05-attachment-pdf.eml",
    "0x0800030000000001": "09-cc-bcc.eml",
    "0x0900030000000001": "10-reply.eml",
    "0x0B00030000000001": "12-flagged.eml",
}


def load(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def original(name):
    with open(os.path.join(EML, name), "rb") as f:
        return load(f.read())


def fetch(fake, probe, tmp_path, mid, **kw):
    out = tmp_path / ("%s.eml" % mid)
    r = probe(fake, "fetch", INBOX, mid, str(out), **kw)
    return r, out


def addresses(msg, field):
    return sorted(a.lower() for _, a in
                  email.utils.getaddresses(msg.get_all(field, [])))


def names(msg, field):
    return sorted(n for n, _ in
                  email.utils.getaddresses([str(v) for v in
                                            msg.get_all(field, [])]))


def text_of(msg, kind):
    part = msg.get_body(preferencelist=(kind,))
    if part is None or part.get_content_type() != "text/" + kind:
        return None
    return part.get_content().replace("\r\n", "\n").strip()


def attachments(msg):
    return [(p.get_filename(), p.get_content_type(),
             p.get_payload(decode=True))
            for p in msg.iter_attachments()
            if p.get_content_type() != "message/rfc822"]


@pytest.mark.parametrize("mid", sorted(RECORDED))
def test_a_recorded_message_renders_as_its_original(fake, probe, tmp_path,
                                                   mid):
    r, out = fetch(fake, probe, tmp_path, mid)
    assert r.returncode == 0, r.stderr
    got, want = load(out.read_bytes()), original(RECORDED[mid])
    assert str(got["Subject"]) == str(want["Subject"])
    for field in ("From", "To", "Cc"):
        assert addresses(got, field) == addresses(want, field), field
        assert names(got, field) == names(want, field), field
    assert email.utils.parsedate_to_datetime(str(got["Date"])) == \
        email.utils.parsedate_to_datetime(str(want["Date"]))
    for field in ("Message-ID", "In-Reply-To", "References"):
        assert str(got[field] or "").split() == \
            str(want[field] or "").split(), field
    want_text = text_of(want, "plain")
    if want_text is not None:
        assert text_of(got, "plain") == want_text
    want_html = text_of(want, "html")
    if want_html is not None:
        assert text_of(got, "html") == want_html
    assert attachments(got) == attachments(want)
    assert fake.unanswered == [] and fake.errors == []


def test_the_pdf_comes_whole_by_stream(fake, probe, tmp_path):
    r, out = fetch(fake, probe, tmp_path, "0x0400030000000001")
    assert r.returncode == 0, r.stderr
    assert r.values("attachments") == ["1"]
    (name, ctype, data), = attachments(load(out.read_bytes()))
    assert (name, ctype, len(data)) == ("report.pdf", "application/pdf",
                                        4096)
    assert data.startswith(b"%PDF-1.4")
    assert hashlib.sha256(data).hexdigest().startswith("34276f15")
    # open, properties and the first reads of the stream share Executes:
    # connect, logon, message, attachment table, attachment, release
    kinds = [k for k, p, h, b in fake.requests]
    assert kinds.count("Execute") <= 5, kinds
    assert fake.unanswered == []


def test_recipients_of_every_kind(fake, probe, tmp_path):
    r, out = fetch(fake, probe, tmp_path, "0x0800030000000001")
    assert r.returncode == 0, r.stderr
    assert r.values("recipients") == ["4"]
    got = load(out.read_bytes())
    assert addresses(got, "Cc") == ["carol@example.test",
                                    "erin@external.test"]
    assert addresses(got, "Bcc") == ["dave@external.test"]


def test_a_message_the_server_does_not_have(fake, probe, tmp_path):
    r, out = fetch(fake, probe, tmp_path, "0x0F0F030000000001")
    assert r.returncode == 1
    assert r.stderr.startswith("error: " + USER), r.stderr
    assert "message 0x0F0F030000000001" in r.stderr
    assert "No such file" in r.stderr
    assert not out.exists()
    assert fake.unanswered == [] and fake.errors == []


HOSTILE = {
    "drop": "the answer broke off",
    "truncated": "malformed",
    "rowcount": "malformed QueryRows answer",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_answers_leave_no_partial_message(fake, probe, tmp_path,
                                                  kind):
    def hostile(f):
        f.hostile["Execute"] = kind
    out = tmp_path / "m.eml"
    r = probe(fake, "logon", "wait", "fetch", INBOX, "0x0400030000000001",
              str(out), options=("--timeout", "3"), between=hostile,
              limit=30)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("error: " + USER), r.stderr
    assert HOSTILE[kind] in r.stderr
    assert "Sanitizer" not in r.stderr
    assert not out.exists()
    assert fake.errors == []


# ---- the contents table, from mailfs serve --mapi ----

@pytest.fixture
def served(tmp_path):
    import test_our_server
    store = str(tmp_path / "store")
    test_our_server.serve_mapi.build_store(store)
    server = test_our_server.serve_mapi.Server(store, str(tmp_path),
                                               protocols=("mapi",))
    yield server
    test_our_server.serve_mapi.check_log(server, server.stop())


def test_the_contents_list_has_every_message(served):
    import test_our_server
    values, rows = test_our_server.probe(served, "list", INBOX)
    assert values["rows"] == ["12"]
    assert len(rows) == 12 and len({r["mid"] for r in rows}) == 12
    want = []
    for i in range(1, 13):
        with open(test_our_server.serve_mapi.eml_file("%02d-" % i),
                  "rb") as f:
            want.append(str(load(f.read())["Message-ID"]).strip())
    assert [r["message_id"] for r in rows] == want
    read = [r["message_id"] for r in rows if r["flags"] & 0x1]
    assert read == [want[10]]
    for r in rows:
        assert r["size"] > 0 and r["modified"] > 0 and r["delivered"] > 0
        assert len(r["change_key"]) >= 2 * 17
        assert r["flag_status"] == 0 and r["last_verb"] == 0


def test_the_contents_list_of_a_folder_that_is_not_there(served):
    import subprocess
    import test_our_server
    from conftest import probe_path
    sm = test_our_server.serve_mapi
    url = "http://127.0.0.1:%d" % served.port["mapi"]
    p = subprocess.run([probe_path(), url, sm.USER, sm.PASSWORD,
                        "list", "0x0FFF000000000001"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert "contents of folder 0x0FFF000000000001" in p.stderr, p.stderr
    assert "No such file" in p.stderr
