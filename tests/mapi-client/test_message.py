"""Reading one message whole over MAPI (protocols/mapi/message.c) and a
folder's contents table (protocols/mapi/ctable.c).

The messages come from fakemapi (a real server's recorded answers) and
are rendered to MIME by mapi_mail_render; each is compared, by Python's
email package, with the original that was imported into that server
(tests/data/mapi-traces/eml; /work/shared/mapi-traces/README.md says which
MID is which).  The contents table is read from `mailfs serve --mapi`,
because the recordings hold no contents table with the columns the
listing asks for.

Three messages were opened by the recorded client without asking for all
their properties: the 600 KB one (only its body, by stream), the one
with the inline image (only its attachment table) and the one with the
attached message (its table, and six properties of the inner message).
The same server sent every property of them in the ICS download of the
same session of recordings (08-ics, a FastTransfer stream); `taught`
gives the fake what that stream holds, in the forms a ROP answer has
(PtypString8 read as the Unicode form asked for, PtypBoolean as one byte,
a value over 0x7000 bytes as MAPI_E_NOT_ENOUGH_MEMORY with its stream),
and a property the stream does not carry as NotFound (the computed ones:
DisplayTo, HasAttachments, ...).
"""

import email
import email.policy
import email.utils
import hashlib
import json
import os

import struct

import pytest

from conftest import USER

HERE = os.path.dirname(os.path.abspath(__file__))
EML = os.path.join(HERE, "..", "data", "mapi-traces", "eml")
INBOX = "0x0D00000000000001"

# The messages whose properties, recipients and attachments the
# recordings hold whole (04-read-message): MID -> original.
# ---- what the ICS download of 08-ics holds (MS-OXCFXICS 2.2.4) ----

# Markers of a FastTransfer stream ([MS-OXCFXICS] 2.2.4.1.4): bare tags
MARKERS = {0x40000003, 0x40010003, 0x40020003, 0x40030003, 0x40040003,
           0x40090003, 0x400A0003, 0x400B0003, 0x400C0003, 0x400D0003,
           0x400E0003, 0x40100003, 0x40120003, 0x40130003, 0x14090003,
           0x40150003, 0x402F0003, 0x403A0003, 0x403B0003, 0x40740003,
           0x40750003}
NEW_ATTACH, START_EMBED, END_EMBED = 0x40000003, 0x40010003, 0x40020003
START_RECIP, END_RECIP, END_ATTACH = 0x40030003, 0x40040003, 0x400E0003
CHG, MSG, STATE_BEGIN = 0x40120003, 0x40150003, 0x403A0003
# in the stream, PtypBoolean is 2 bytes (the recorder's README)
FIXED = {0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8,
         0x000A: 4, 0x000B: 2, 0x0014: 8, 0x0040: 8, 0x0048: 16}


def fx_tokens(data):
    """(tag, value bytes or None for a marker), in order."""
    pos = 0
    while pos < len(data):
        tag, = struct.unpack_from("<I", data, pos)
        pos += 4
        if tag in MARKERS:
            yield tag, None
            continue
        ptype = tag & 0xFFFF
        if tag >> 16 >= 0x8000:
            kind = data[pos + 16]
            pos += 17
            if kind == 0:
                pos += 4
            else:
                while data[pos:pos + 2] != b"\0\0":
                    pos += 2
                pos += 2
        if tag == 0x40170003:
            # MetaTagIdsetGiven: PtypInteger32 by its tag, but carrying a
            # length and bytes (the recorder's README)
            n, = struct.unpack_from("<I", data, pos)
            yield tag, data[pos + 4:pos + 4 + n]
            pos += 4 + n
            continue

        def one(t, pos):
            if t in FIXED:
                return data[pos:pos + FIXED[t]], pos + FIXED[t]
            if t in (0x001E, 0x001F, 0x0102, 0x00FB, 0x000D):
                n, = struct.unpack_from("<I", data, pos)
                return data[pos + 4:pos + 4 + n], pos + 4 + n
            raise ValueError("type 0x%04X at %d" % (t, pos))
        if ptype & 0x1000:
            n, = struct.unpack_from("<I", data, pos)
            pos += 4
            vals = []
            for _ in range(n):
                v, pos = one(ptype & ~0x1000, pos)
                vals.append(v)
            yield tag, ("mv", vals)
        else:
            v, pos = one(ptype, pos)
            yield tag, v


def fx_messages(data):
    """{mid: message} of an ICS contents stream; a message is
    {"props": {tag: bytes}, "recips": [props], "attach": [(props,
    message or None)]}."""
    toks = list(fx_tokens(data))
    i = 0
    out = {}

    def content(i, stop):
        m = {"props": {}, "recips": [], "attach": []}
        while i < len(toks) and toks[i][0] not in stop:
            tag, v = toks[i]
            if tag == START_RECIP:
                r = {}
                i += 1
                while toks[i][0] != END_RECIP:
                    r[toks[i][0]] = toks[i][1]
                    i += 1
                m["recips"].append(r)
            elif tag == NEW_ATTACH:
                a, emb = {}, None
                i += 1
                while toks[i][0] != END_ATTACH:
                    if toks[i][0] == START_EMBED:
                        emb, i = content(i + 1, (END_EMBED,))
                    else:
                        a[toks[i][0]] = toks[i][1]
                    i += 1
                m["attach"].append((a, emb))
            elif v is not None:
                m["props"][tag] = v
            i += 1
        return m, i
    while i < len(toks):
        if toks[i][0] != CHG:
            i += 1
            continue
        head = {}
        i += 1
        while toks[i][0] != MSG:
            head[toks[i][0]] = toks[i][1]
            i += 1
        m, i = content(i + 1, (CHG, STATE_BEGIN))
        mid = struct.unpack("<Q", head[0x674A0014])[0]
        out[mid] = m
    return out


# the properties message.c asks for (msg_tags there)
MSG_TAGS = (0x001A001F, 0x0037001F, 0x0C1A001F, 0x0C1F001F, 0x0C1E001F,
            0x5D01001F, 0x0E04001F, 0x0E03001F, 0x0E02001F, 0x1035001F,
            0x1042001F, 0x1039001F, 0x0E070003, 0x10900003, 0x0E1B000B,
            0x0E080003, 0x3FDE0003, 0x10160003, 0x00390040, 0x007D001F,
            0x1000001F, 0x10130102)
# the columns ctable.c asks for
LIST_COLS = (0x674A0014, 0x30080040, 0x0E070003, 0x0E080003, 0x65E20102,
             0x1035001F, 0x0E060040, 0x10900003, 0x10810003)
NOT_FOUND, TOO_BIG = 0x8004010F, 0x8007000E
BIG = 0x7000


def rop_value(tag, fxprops):
    """The value of `tag` as a ROP answer gives it, from the stream's
    properties: ("v", bytes) or ("e", code), and the stream's bytes when
    it is too big for an answer."""
    want = tag & 0xFFFF
    have = [t for t in fxprops if t >> 16 == tag >> 16]
    if not have:
        return ("e", NOT_FOUND), None
    t, v = have[0], fxprops[have[0]]
    if want == 0x001F and t & 0xFFFF == 0x001E:
        v = v.rstrip(b"\0").decode("cp1252").encode("utf-16-le") + \
            b"\0\0"
    if want in (0x001F, 0x0102) and len(v) > BIG:
        return ("e", TOO_BIG), v
    if want == 0x0102:
        return ("v", struct.pack("<H", len(v)) + v), None
    if want == 0x000B:
        return ("v", v[:1]), None
    return ("v", v), None


def teach(store, ident, fxprops, tags):
    have = store.props.setdefault(ident, {})
    known = dict(store.row_props.get(ident, {}))
    known.update(have)
    for tag in tags:
        if tag in known:
            continue
        have[tag], stream = rop_value(tag, fxprops)
        key = ("stream", ident, tag)
        if stream is not None and key not in store.streams:
            store.streams[key] = (len(stream), {0: stream})


@pytest.fixture
def taught(fake):
    st = fake.store
    data = [d for d in map(st.fx_data, list(st.fx)) if d][0]
    for mid, m in fx_messages(data).items():
        ident = ("msg", mid)
        teach(st, ident, m["props"], MSG_TAGS)
        for a, emb in m["attach"]:
            num = struct.unpack("<I", a[0x0E210003])[0]
            aid = ("attach", ident, num)
            blob = a.get(0x37010102)
            if blob is not None:
                # an attachment's bytes come by stream, whatever size
                st.streams.setdefault(("stream", aid, 0x37010102),
                                      (len(blob), {0: blob}))
            if emb is not None:
                teach(st, ("embedded", aid), emb["props"], MSG_TAGS)
    # the Inbox's contents table, with the listing's columns
    fx = fx_messages(data)
    table = st.rows.get(("table", 5, ("folder", int(INBOX, 16)), 0), {})
    for row in table.values():
        mid = struct.unpack("<Q", row[0x674A0014][1])[0]
        for tag in LIST_COLS:
            if tag not in row:
                row[tag] = rop_value(tag, fx[mid]["props"])[0]
    return fake


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
    """The named parts, wherever the structure puts them (an inline image
    may sit in a multipart/related inside a multipart/alternative), not
    those of an attached message."""
    out = []
    if msg.get_content_type() == "message/rfc822":
        return out
    if msg.is_multipart():
        for part in msg.get_payload():
            out += attachments(part)
    elif msg.get_filename():
        out.append((msg.get_filename(), msg.get_content_type(),
                    msg.get_payload(decode=True)))
    return out


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


# the messages the recordings opened only in part, and 08-ics completes
TAUGHT = {
    "0x0500030000000001": "06-inline-image.eml",
    "0x0600030000000001": "07-attached-eml.eml",
    "0x0700030000000001": "08-large.eml",
}


def same_message(got, want):
    assert str(got["Subject"]) == str(want["Subject"])
    for field in ("From", "To", "Cc"):
        assert addresses(got, field) == addresses(want, field), field
        assert names(got, field) == names(want, field), field
    assert email.utils.parsedate_to_datetime(str(got["Date"])) == \
        email.utils.parsedate_to_datetime(str(want["Date"]))
    assert str(got["Message-ID"]).split() == str(want["Message-ID"]).split()
    want_text = text_of(want, "plain")
    if want_text is not None:
        assert text_of(got, "plain") == want_text


@pytest.mark.parametrize("mid", sorted(TAUGHT))
def test_a_message_from_the_ics_stream_renders_as_its_original(
        taught, probe, tmp_path, mid):
    r, out = fetch(taught, probe, tmp_path, mid)
    assert r.returncode == 0, r.stderr
    got, want = load(out.read_bytes()), original(TAUGHT[mid])
    same_message(got, want)
    assert attachments(got) == attachments(want)
    assert taught.unanswered == [] and taught.errors == []


def test_the_large_body_comes_by_stream(taught, probe, tmp_path):
    r, out = fetch(taught, probe, tmp_path, "0x0700030000000001")
    assert r.returncode == 0, r.stderr
    text = text_of(load(out.read_bytes()), "plain")
    lines = text.split("\n")
    assert len(lines) == 3200
    assert lines[0].startswith("Line 00000: ")
    assert lines[-1].startswith("Line 03199: ")
    # two reads of 28 KiB per Execute, the first two with the open:
    # logon, open, the body's 614398 bytes in 11, the HTML's, release
    ident = ("msg", 0x0700030000000001)
    html = taught.store.streams[("stream", ident, 0x10130102)][0]
    want = 1 + 1 + -(-614398 // 0xE000) + -(-html // 0xE000) + 1
    kinds = [k for k, p, h, b in taught.requests]
    assert kinds.count("Execute") == want
    assert taught.unanswered == []


def test_the_inline_image_keeps_its_place(taught, probe, tmp_path):
    r, out = fetch(taught, probe, tmp_path, "0x0500030000000001")
    assert r.returncode == 0, r.stderr
    got = load(out.read_bytes())
    want = original("06-inline-image.eml")
    img = [p for p in got.walk() if p.get_content_type() == "image/png"]
    orig = [p for p in want.walk() if p.get_content_type() == "image/png"]
    assert len(img) == 1
    assert str(img[0]["Content-ID"]).strip("<>") == "logo06@example.test"
    assert img[0].get_payload(decode=True) == \
        orig[0].get_payload(decode=True)
    related = [p for p in got.walk()
               if p.get_content_type() == "multipart/related"]
    assert related and img[0] in related[0].get_payload()
    assert "cid:logo06@example.test" in text_of(got, "html")


def test_the_attached_message_is_whole(taught, probe, tmp_path):
    r, out = fetch(taught, probe, tmp_path, "0x0600030000000001")
    assert r.returncode == 0, r.stderr
    got = load(out.read_bytes())
    want = original("07-attached-eml.eml")
    inner = [p for p in got.walk()
             if p.get_content_type() == "message/rfc822"]
    orig = [p for p in want.walk()
            if p.get_content_type() == "message/rfc822"]
    assert len(inner) == 1
    same_message(inner[0].get_payload(0), orig[0].get_payload(0))


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


# ---- the contents table ----

def test_the_contents_list_as_the_recorded_server_has_it(taught, probe):
    r = probe(taught, "list", "inbox")
    assert r.returncode == 0, r.stderr
    rows = r.rows()
    with open(os.path.join(EML, "..", "08-ics.json")) as f:
        ics = json.load(f)["summary"]["messages"]
    heads = {m["header"]["PidTagMid"]: m["header"] for m in ics}
    assert len(rows) == 12 and set(r["mid"] for r in rows) == set(heads)
    for row in rows:
        head = heads[row["mid"]]
        assert row["modified"] == int(head["PidTagLastModificationTime"],
                                      16)
        assert row["change_key"] == head["PidTagChangeKey"]
    by_id = {row["message_id"]: row for row in rows}
    assert by_id["<m12.flag@example.test>"]["flag_status"] == 2
    assert by_id["<m11.read@example.test>"]["flags"] & 0x1
    assert by_id["<m05.pdf@example.test>"]["flags"] & 0x10
    assert taught.unanswered == [] and taught.errors == []


LIST_HOSTILE = {
    "drop": "the answer broke off",
    "truncated": "malformed",
    "rowcount": "malformed QueryRows answer",
}


@pytest.mark.parametrize("kind", sorted(LIST_HOSTILE))
def test_a_hostile_contents_table_is_a_clear_error(taught, probe, kind):
    def hostile(f):
        f.hostile["Execute"] = kind
    r = probe(taught, "logon", "wait", "list", "inbox",
              options=("--timeout", "3"), between=hostile, limit=30)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("error: " + USER), r.stderr
    assert LIST_HOSTILE[kind] in r.stderr
    assert "Sanitizer" not in r.stderr
    assert r.rows() == []
    assert taught.errors == []


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
