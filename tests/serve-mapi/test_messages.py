"""`mailfs serve --mapi`: messages read through the ROPs a client sends
(tests/data/mapi-traces/04-read-message.json): RopOpenMessage,
RopReadRecipients, the property ROPs, streams, attachments and attached
messages, RopSetMessageReadFlag.  Values are checked against the .eml
files the store was made of (Python's email package reads them); layouts
against the recorded answers of a real server, both read by
fakemapi_wire.py's reader, written apart from the C codecs."""

import base64
import email
import email.policy
import hashlib
import importlib.util
import json
import os
import struct
import subprocess

import fakemapi_wire as fw
import mapi_decode as md
from conftest import (USER, PASSWORD, Client, eml_file, recorded_binary,
                      trace)

EX01 = trace("01-connect-logon")["exchanges"]
EX04 = trace("04-read-message")["exchanges"]
CONNECT, LOGON = EX01[0], EX01[1]
PATH = "/mapi/emsmdb/?MailboxId=whatever@example.test"
NEW = 0xFFFFFFFF
INBOX = md.fid(0x0D)

NOT_FOUND = 0x8004010F
NOT_ENOUGH_MEMORY = 0x8007000E
NO_SUPPORT = 0x80040102
NULL_OBJECT = 0x000004B9
OBJECT_DELETED = 0x8004010A

T_BODY = 0x1000001F
T_SUBJECT = 0x0037001F
T_MID = 0x674A0014
T_ATTACH_DATA = 0x37010102
T_MESSAGE_FLAGS = 0x0E070003
T_DISPLAY_CC = 0x0E03001F
T_DISPLAY_BCC = 0x0E02001F
T_HTML = 0x10130102
T_BODY_HTML = 0x1013001F
T_TRANSPORT_HEADERS = 0x007D001F
T_IN_REPLY_TO = 0x1042001F
RECIP_COLS = (0x0FF90102, 0x0FFE0003, 0x39000003, 0x39FE001F, 0x5FF70102,
              0x5FFD0003)


def headers(n):
    return [("Content-Type", "application/mapi-http"),
            ("X-RequestType", "Execute"),
            ("X-RequestId", "{a0000016-0000-4000-8000-000000000016}:%d" % n),
            ("X-ClientInfo", "{a0000016-0000-4000-8000-000000000016}")]


def execute_body(rops, handles):
    payload = fw.build_payload(rops, handles)
    ext = (fw.u16(0) + fw.u16(4) + fw.u16(len(payload)) +
           fw.u16(len(payload)) + payload)
    return (fw.u32(0) + fw.u32(len(ext)) + ext + fw.u32(0x10008) +
            fw.u32(0))


# ---- requests (MS-OXCROPS 2.2.6, 2.2.8, 2.2.9) ----

def open_folder(i, o, fid):
    return bytes([0x02, 0, i, o]) + fw.u64(fid) + b"\0"


def contents_table(i, o):
    return bytes([0x05, 0, i, o, 0x40])


def set_columns(i, tags):
    return (bytes([0x12, 0, i, 0]) + fw.u16(len(tags)) +
            b"".join(fw.u32(t) for t in tags))


def query_rows(i, n=100):
    return bytes([0x15, 0, i, 0, 1]) + fw.u16(n)


def open_message(i, o, fid, mid, mode=0):
    return (bytes([0x03, 0, i, o]) + fw.u16(0x0FFF) + fw.u64(fid) +
            bytes([mode]) + fw.u64(mid))


def get_props(i, tags, limit=0):
    return (bytes([0x07, 0, i]) + fw.u16(limit) + fw.u16(1) +
            fw.u16(len(tags)) + b"".join(fw.u32(t) for t in tags))


def get_props_all(i):
    return bytes([0x08, 0, i]) + fw.u16(0) + fw.u16(1)


def get_props_list(i):
    return bytes([0x09, 0, i])


def read_recipients(i, row=0):
    return bytes([0x0F, 0, i]) + fw.u32(row) + fw.u16(0)


def set_read_flag(i, flags):
    return bytes([0x11, 0, i, i, flags])


def open_stream(i, o, tag, mode=0):
    return bytes([0x2B, 0, i, o]) + fw.u32(tag) + bytes([mode])


def read_stream(i, count, maximum=None):
    out = bytes([0x2C, 0, i]) + fw.u16(count)
    return out + (fw.u32(maximum) if count == 0xBABE else b"")


def seek_stream(i, origin, offset):
    return bytes([0x2E, 0, i, origin]) + struct.pack("<q", offset)


def stream_size(i):
    return bytes([0x5E, 0, i])


def attachment_table(i, o):
    return bytes([0x21, 0, i, o, 0x40])


def open_attachment(i, o, num):
    return bytes([0x22, 0, i, o, 0]) + fw.u32(num)


def open_embedded(i, o, mode=0):
    return bytes([0x46, 0, i, o]) + fw.u16(0x0FFF) + bytes([mode])


# ---- responses ----

def msg_info(rd, d):
    d["has_named"] = rd.u8()
    for k in ("prefix", "subject"):
        kind = rd.u8()
        d[k + "_type"] = kind
        d[k] = (rd.utf16z().decode("utf-16-le") if kind == 4 else
                rd.asciiz().decode() if kind in (2, 3) else "")
    d["recip_count"] = rd.u16()
    d["cols"] = tuple(rd.u32() for _ in range(rd.u16()))
    d["recips"] = [recip_row(rd, d["cols"], False)
                   for _ in range(rd.u8())]


def recip_row(rd, cols, with_rowid):
    r = {}
    if with_rowid:
        r["row_id"] = rd.u32()
    r["type"], r["cpid"], _ = rd.u8(), rd.u16(), rd.u16()
    sub = fw.Rd(rd.take(rd.u16()))
    flags = r["flags"] = sub.u16()
    assert flags & 0x0200, "strings not UTF-16"
    assert flags & 0x0007 == 0x0003, "not SMTP"
    r["email"] = sub.utf16z().decode("utf-16-le") if flags & 0x08 else None
    r["name"] = sub.utf16z().decode("utf-16-le") if flags & 0x10 else None
    if flags & 0x0400:
        sub.utf16z()
    if flags & 0x0020:
        sub.utf16z()
    n = sub.u16()
    r["row"] = fw.read_row(sub, cols[:n])
    assert sub.left() == 0, "bytes after a recipient row"
    return r


def read_response(rd, q):
    """One ROP response to the request `q` (our own dict)."""
    d = {"id": rd.u8(), "index": rd.u8(), "rv": rd.u32()}
    assert d["id"] == q["id"], (d, q)
    if d["rv"]:
        return d
    rid = d["id"]
    if rid in (0x02,):
        d["has_rules"], d["ghosted"] = rd.u8(), rd.u8()
    elif rid == 0x05:
        d["row_count"] = rd.u32()
    elif rid == 0x12:
        rd.u8()
    elif rid == 0x15:
        d["origin"] = rd.u8()
        d["rows"] = [fw.read_row(rd, q["tags"]) for _ in range(rd.u16())]
    elif rid == 0x03:
        msg_info(rd, d)
    elif rid == 0x46:
        d["reserved"], d["mid"] = rd.u8(), rd.u64()
        msg_info(rd, d)
    elif rid == 0x0F:
        d["recips"] = [recip_row(rd, RECIP_COLS, True)
                       for _ in range(rd.u8())]
    elif rid == 0x07:
        d["row"] = fw.read_row(rd, q["tags"])
    elif rid == 0x08:
        d["props"] = {}
        for _ in range(rd.u16()):
            tag = rd.u32()
            d["props"][tag] = fw.skip_value(rd, tag & 0xFFFF)
    elif rid == 0x09:
        d["tags"] = [rd.u32() for _ in range(rd.u16())]
    elif rid == 0x11:
        d["changed"] = rd.u8()
    elif rid == 0x2B:
        d["size"] = rd.u32()
    elif rid == 0x2C:
        d["data"] = rd.take(rd.u16())
    elif rid == 0x2E:
        d["pos"] = rd.u64()
    elif rid == 0x5E:
        d["size"] = rd.u32()
    elif rid in (0x21, 0x22):
        pass
    else:
        raise AssertionError("no reader for 0x%02X" % rid)
    return d


class Session:
    def __init__(self, server):
        self.c = Client(server)
        assert self.c.replay(CONNECT).header("X-ResponseCode") == "0"
        self.n = 1
        rops, _ = md.request_rops(
            base64.b64decode(LOGON["request"]["body_b64"]))
        _, handles = self.run([(rops[0]["raw"], {"id": 0xFE})], [NEW],
                              raw_logon=True)
        self.logon = handles[0]

    def run(self, rops, handles, raw_logon=False):
        """Run (bytes, request dict) pairs; the responses and the handle
        table."""
        self.n += 1
        body = execute_body(b"".join(r for r, _ in rops), handles)
        reply = self.c.post(PATH, headers(self.n), body)
        assert reply.header("X-ResponseCode") == "0", reply.body
        payload, status, error = fw.parse_execute_response(reply.binary())
        assert (status, error) == (0, 0)
        data, handles = fw.split_payload(payload)
        if raw_logon:
            return None, handles
        rd = fw.Rd(data)
        out = [read_response(rd, q) for _, q in rops if q["id"] != 0x01]
        assert rd.left() == 0, "%d bytes after the responses" % rd.left()
        return out, handles

    def close(self):
        self.c.close()


def R(raw, **kw):
    kw["id"] = raw[0]
    return (raw, kw)


def eml(prefix):
    with open(eml_file(prefix), "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def inbox_mids(s):
    res, _ = s.run([R(open_folder(0, 1, INBOX)), R(contents_table(1, 2)),
                    R(set_columns(2, (T_MID, T_SUBJECT))),
                    R(query_rows(2), tags=(T_MID, T_SUBJECT))],
                   [s.logon, NEW, NEW])
    rows = res[3]["rows"]
    out = {}
    for row in rows:
        out[md.value(row, T_SUBJECT)] = md.value(row, T_MID)
    return out


def mid_of(s, prefix):
    return inbox_mids(s)[str(eml(prefix)["Subject"])]


def val(row, tag):
    return md.value(row, tag)


def recorded_tags():
    """The 23 tags the recorded client asked every message for."""
    reqs, _ = md.request_rops(base64.b64decode(EX04[3]["request"]["body_b64"]))
    return reqs[1]["tags"]


def recorded_response(seq):
    ex = EX04[seq - 1]
    reqs, _ = md.request_rops(base64.b64decode(ex["request"]["body_b64"]))
    payload, _, _ = fw.parse_execute_response(recorded_binary(ex))
    data, _ = fw.split_payload(payload)
    rd = fw.Rd(data)
    out, cols = [], None
    for q in reqs:
        q = dict(q)
        if q["id"] == 0x12:
            cols = q["tags"]
        if q["id"] == 0x15:
            q["tags"] = cols
        if q["id"] != 0x01:
            out.append(read_response(rd, q))
    return out


def test_recorded_answers_read_here():
    """The reader of this file understands the real server's answers:
    the recorded OpenMessage + GetPropertiesSpecific + ReadRecipients of
    message 09 (4 recipients)."""
    res = recorded_response(12)
    assert [r["rv"] for r in res] == [0, 0, 0]
    assert res[0]["cols"] == RECIP_COLS and res[0]["recip_count"] == 4
    m = eml("09-")
    want = [a.addr_spec for f in ("To", "Cc", "Bcc")
            for a in m[f].addresses]
    assert [r["email"] for r in res[2]["recips"]] == want
    assert [r["type"] for r in res[2]["recips"]] == [1, 2, 2, 3]


def test_open_message_as_the_eml_says(mapi_server):
    s = Session(mapi_server)
    mids = inbox_mids(s)
    tags = recorded_tags()
    rec = recorded_response(12)
    for prefix in ("01-", "02-", "03-", "04-", "05-", "09-", "10-", "11-"):
        m = eml(prefix)
        res, h = s.run([R(open_message(0, 1, INBOX,
                                       mids[str(m["Subject"])])),
                        R(get_props(1, tags), tags=tags),
                        R(read_recipients(1))], [s.logon, NEW])
        om, gp, rr = res
        assert [om["rv"], gp["rv"], rr["rv"]] == [0, 0, 0], prefix
        # the layout of the real server's answer
        assert om["cols"] == rec[0]["cols"]
        assert om["has_named"] == 0 and om["subject_type"] == 4
        row = gp["row"]
        assert val(row, T_SUBJECT) == str(m["Subject"])
        assert om["prefix"] + om["subject"] == str(m["Subject"])
        want = []
        for field in ("To", "Cc", "Bcc"):
            want += [a.addr_spec for a in (m[field].addresses
                                          if m[field] else ())]
        assert om["recip_count"] == len(want)
        assert [r["email"] for r in rr["recips"]] == want
        assert [r["row_id"] for r in rr["recips"]] == list(range(len(want)))
        assert [r["email"] for r in om["recips"]] == want
        # the header block as received
        hdr = val(row, T_TRANSPORT_HEADERS)
        assert "Message-ID: %s" % m["Message-ID"] in hdr.replace(
            "Message-Id", "Message-ID")
        # PidTagBodyHtml is never there, as on the real server
        assert val(row, T_BODY_HTML) == ("e", NOT_FOUND)
        body = m.get_body(("plain",))
        if body is not None:
            text = val(row, T_BODY)
            first = body.get_content().strip().splitlines()[0]
            assert first in text.replace("\r\n", "\n"), prefix
        flags = val(row, T_MESSAGE_FLAGS)
        assert bool(flags & 1) == (prefix == "11-"), prefix
        s.run([(bytes([0x01, 0, 0]), {"id": 1})], [h[1]])
    s.close()


def test_cc_bcc_and_reply_fields(mapi_server):
    s = Session(mapi_server)
    mids = inbox_mids(s)
    tags = recorded_tags()
    res, _ = s.run([R(open_message(0, 1, INBOX,
                                   mids[str(eml("09-")["Subject"])])),
                    R(get_props(1, tags), tags=tags),
                    R(read_recipients(1))], [s.logon, NEW])
    row = res[1]["row"]
    assert val(row, T_DISPLAY_CC) == "Carol Colleague; Erin External"
    assert val(row, T_DISPLAY_BCC) == "Dave Hidden"
    assert [r["type"] for r in res[2]["recips"]] == [1, 2, 2, 3]
    res, _ = s.run([R(open_message(0, 1, INBOX,
                                   mids[str(eml("10-")["Subject"])])),
                    R(get_props(1, tags), tags=tags)], [s.logon, NEW])
    assert val(res[1]["row"], T_IN_REPLY_TO) == str(eml("10-")["In-Reply-To"])
    s.close()


def test_big_body_by_stream(mapi_server):
    """Message 08's 600 KB body: NotEnoughMemory in a row, then a stream
    read in the recorded request shapes (0xBABE, then 0x7000)."""
    s = Session(mapi_server)
    mid = mid_of(s, "08-")
    res, h = s.run([R(open_message(0, 1, INBOX, mid)),
                    R(get_props(1, (T_BODY, T_SUBJECT)),
                      tags=(T_BODY, T_SUBJECT)),
                    R(open_stream(1, 2, T_BODY))], [s.logon, NEW, NEW])
    assert val(res[1]["row"], T_BODY) == ("e", NOT_ENOUGH_MEMORY)
    assert res[1]["row"][1] == 1  # a flagged row
    text = eml("08-").get_body(("plain",)).get_content()
    want = text.replace("\r\n", "\n").encode("utf-16-le")
    size = res[2]["size"]
    st = h[2]
    got = b""
    res, _ = s.run([R(read_stream(0, 0xBABE, 1 << 20))], [st])
    first = res[0]["data"]
    assert 0 < len(first) <= 0x10008
    got += first
    while True:
        res, _ = s.run([R(read_stream(0, 0x7000))], [st])
        assert res[0]["rv"] == 0
        got += res[0]["data"]
        if not res[0]["data"]:
            break
        assert len(res[0]["data"]) <= 0x7000
    assert len(got) == size
    assert got[-2:] == b"\0\0"
    body = got[:-2].decode("utf-16-le").replace("\r\n", "\n")
    assert body.strip() == text.replace("\r\n", "\n").strip()
    assert "Line 00000" in body and "Line 03199" in body
    assert len(got) >= len(want)
    # size, seeks, a read past the end
    res, _ = s.run([R(stream_size(0)), R(seek_stream(0, 0, 4)),
                    R(read_stream(0, 10)), R(seek_stream(0, 1, -2)),
                    R(seek_stream(0, 2, 100)), R(read_stream(0, 10)),
                    R(seek_stream(0, 0, -1))], [st])
    assert res[0]["size"] == size
    assert res[1]["pos"] == 4 and res[2]["data"] == got[4:14]
    assert res[3]["pos"] == 12
    assert res[4]["pos"] == size + 100
    assert res[5]["rv"] == 0 and res[5]["data"] == b""
    assert res[6]["rv"] == 0x80030019
    s.close()


def attachment_of(m):
    for part in m.iter_attachments():
        return part
    raise AssertionError("no attachment")


def test_attachment_table_and_bytes(mapi_server):
    s = Session(mapi_server)
    mids = inbox_mids(s)
    rec = recorded_response(43)
    reqs, _ = md.request_rops(base64.b64decode(EX04[42]["request"]
                                               ["body_b64"]))
    cols = [q for q in reqs if q["id"] == 0x12][0]["tags"]
    pdf = attachment_of(eml("05-")).get_content()
    res, h = s.run([R(open_message(0, 1, INBOX,
                                   mids[str(eml("05-")["Subject"])])),
                    R(attachment_table(1, 2)), R(set_columns(2, cols)),
                    R(query_rows(2), tags=cols),
                    R(open_attachment(1, 3, 0)),
                    R(open_stream(3, 4, T_ATTACH_DATA)),
                    R(get_props(3, (0x3707001F, T_ATTACH_DATA)),
                      tags=(0x3707001F, T_ATTACH_DATA)),
                    R(open_attachment(1, 5, 7))],
                   [s.logon, NEW, NEW, NEW, NEW, NEW])
    assert [r["rv"] for r in res[:7]] == [0] * 7
    assert res[7]["rv"] == NOT_FOUND
    rows = res[3]["rows"]
    assert len(rows) == 1
    assert val(rows[0], 0x3707001F) == "report.pdf"
    assert val(rows[0], 0x370E001F) == "application/pdf"
    assert val(rows[0], 0x37050003) == 1
    assert len(rec[3]["rows"]) == 1
    assert val(rec[3]["rows"][0], 0x3707001F) == "report.pdf"
    assert res[5]["size"] == len(pdf)
    assert val(res[6]["row"], T_ATTACH_DATA) == pdf
    res, _ = s.run([R(read_stream(0, 0x1000)), R(read_stream(0, 0x1000))],
                   [h[4]])
    assert res[0]["data"] + res[1]["data"] == pdf[:0x2000]
    # the inline image of 06: its content id, rendered in the body
    res, _ = s.run([R(open_message(0, 1, INBOX,
                                   mids[str(eml("06-")["Subject"])])),
                    R(attachment_table(1, 2)), R(set_columns(2, cols)),
                    R(query_rows(2), tags=cols)], [s.logon, NEW, NEW])
    row = res[3]["rows"][0]
    assert val(row, 0x3712001F) == "logo06@example.test"
    assert val(row, 0x37140003) == 4
    s.close()


def test_embedded_message(mapi_server):
    s = Session(mapi_server)
    mids = inbox_mids(s)
    inner = attachment_of(eml("07-")).get_content()
    res, _ = s.run([R(open_message(0, 1, INBOX,
                                   mids[str(eml("07-")["Subject"])])),
                    R(open_attachment(1, 2, 0)),
                    R(get_props(2, (0x37050003,)), tags=(0x37050003,)),
                    R(open_embedded(2, 3)),
                    R(get_props(3, (T_SUBJECT, T_BODY)),
                      tags=(T_SUBJECT, T_BODY)),
                    R(read_recipients(3)),
                    R(open_embedded(2, 4, 2))],
                   [s.logon, NEW, NEW, NEW, NEW])
    assert [r["rv"] for r in res[:6]] == [0] * 6
    assert val(res[2]["row"], 0x37050003) == 5
    em = res[3]
    rec = recorded_response(50)[1]
    assert rec["subject"] == "Inner forwarded message"
    assert em["subject"] == str(inner["Subject"]) == rec["subject"]
    assert em["recip_count"] == len(rec["recips"]) == 1
    assert em["cols"] == rec["cols"]
    assert em["mid"] == 1
    assert em["recips"][0]["email"] == inner["To"].addresses[0].addr_spec
    assert val(res[4]["row"], T_SUBJECT) == str(inner["Subject"])
    # an attached message opens read-only here
    assert res[6]["rv"] != 0
    s.close()


def test_props_all_and_list(mapi_server):
    s = Session(mapi_server)
    mid = mid_of(s, "08-")
    res, _ = s.run([R(open_message(0, 1, INBOX, mid)),
                    R(get_props_all(1)), R(get_props_list(1))],
                   [s.logon, NEW])
    allp = res[1]["props"]
    # the big body is an error value there too
    assert allp[0x1000000A] == fw.u32(NOT_ENOUGH_MEMORY)
    assert struct.unpack("<Q", allp[T_MID])[0] == mid
    tags = res[2]["tags"]
    assert T_BODY in tags and T_MID in tags and T_SUBJECT in tags
    assert len(tags) == len(allp)
    s.close()


def test_errors(mapi_server):
    s = Session(mapi_server)
    mid = mid_of(s, "01-")
    res, h = s.run([R(open_message(0, 1, INBOX, md.fid(0xABCDEF))),
                    R(open_folder(0, 2, INBOX)),
                    R(read_stream(2, 16)),
                    R(open_message(0, 3, INBOX, mid)),
                    R(open_stream(3, 4, 0x0E1D001F)),
                    R(open_stream(3, 4, 0x3A17001F)),
                    R(open_stream(3, 4, T_BODY, mode=1)),
                    R(read_recipients(3, 99)),
                    R(get_props(2, (T_SUBJECT,)), tags=(T_SUBJECT,)),
                    R(read_stream(5, 16))],
                   [s.logon, NEW, NEW, NEW, NEW, NEW])
    rv = [r["rv"] for r in res]
    assert rv[0] == NOT_FOUND
    assert rv[1] == 0
    assert rv[2] == NO_SUPPORT  # ReadStream on a folder
    assert rv[3] == 0
    assert rv[4] == 0  # the normalized subject as a stream
    assert rv[5] == NOT_FOUND
    assert rv[6] != 0  # no writing here
    assert rv[7] == NOT_FOUND
    assert rv[8] == NO_SUPPORT
    assert rv[9] == NULL_OBJECT
    s.close()


def store_file(server, prefix, folder="INBOX"):
    cur = os.path.join(server.store, folder, "cur")
    names = [n for n in os.listdir(cur) if (".m%s." % prefix[:2]) in n]
    assert len(names) == 1, names
    return os.path.join(cur, names[0])


def test_set_message_read_flag(mapi_server):
    s = Session(mapi_server)
    mid = mid_of(s, "01-")
    assert store_file(mapi_server, "01-").endswith(":2,")
    res, h = s.run([R(open_message(0, 1, INBOX, mid, mode=1)),
                    R(set_read_flag(1, 0)),
                    R(get_props(1, (T_MESSAGE_FLAGS,)),
                      tags=(T_MESSAGE_FLAGS,))], [s.logon, NEW])
    assert [r["rv"] for r in res] == [0, 0, 0]
    assert res[1]["changed"] == 0  # as a real private store says
    assert val(res[2]["row"], T_MESSAGE_FLAGS) & 1
    assert store_file(mapi_server, "01-").endswith(":2,S")
    msg = h[1]
    res, _ = s.run([R(set_read_flag(0, 0x04))], [msg])
    assert res[0]["rv"] == 0
    assert store_file(mapi_server, "01-").endswith(":2,")
    # the table agrees, and the MID stays
    assert mid_of(s, "01-") == mid
    # the message removed under the open object
    os.unlink(store_file(mapi_server, "01-"))
    res, _ = s.run([R(set_read_flag(0, 0)),
                    R(get_props(0, (T_SUBJECT,)), tags=(T_SUBJECT,))],
                   [msg])
    assert res[0]["rv"] == OBJECT_DELETED
    assert res[1]["rv"] == 0  # what was opened is still there to read
    res, _ = s.run([R(open_message(0, 1, INBOX, mid))], [s.logon, NEW])
    assert res[0]["rv"] == NOT_FOUND
    s.close()


def _probe_path():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "mailfs_mapi_client_conftest",
        os.path.join(here, "..", "mapi-client", "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.probe_path()


def probe(server, *commands):
    url = "http://127.0.0.1:%d" % server.port["mapi"]
    p = subprocess.run([_probe_path(), url, USER, PASSWORD] +
                       list(commands), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


def test_client_reads_our_messages(mapi_server):
    """protocols/mapi's own reading (mapic-probe) against this server."""
    s = Session(mapi_server)
    mid2, mid8 = mid_of(s, "02-"), mid_of(s, "08-")
    s.close()
    out = probe(mapi_server, "message", "0x%016X" % mid2, "0x%016X" % INBOX)
    row = json.loads([l for l in out if l.startswith("{")][0])
    assert str(eml("02-")["Subject"]) in json.dumps(row, ensure_ascii=False)
    out = probe(mapi_server, "read-stream", "0x%016X" % mid8,
                "0x%016X" % INBOX, "0x%08X" % T_BODY)
    values = dict(l.split(" ", 1) for l in out if " " in l)
    s = Session(mapi_server)
    res, h = s.run([R(open_message(0, 1, INBOX, mid8)),
                    R(open_stream(1, 2, T_BODY))], [s.logon, NEW, NEW])
    got = b""
    while True:
        r, _ = s.run([R(read_stream(0, 0xBABE, 1 << 20))], [h[2]])
        if not r[0]["data"]:
            break
        got += r[0]["data"]
    s.close()
    assert int(values["stream-size"]) == res[1]["size"] == len(got)
    assert int(values["read"]) == len(got)
    assert values["sha256"] == hashlib.sha256(got).hexdigest()


def test_maildir_letters_as_properties(mapi_server):
    """The store's letters (D, F, P, R) as MAPI's flags, follow-up and
    last verb: what msgload.c adds to the parsed message."""
    T_FLAG_STATUS, T_LAST_VERB, T_ICON = 0x10900003, 0x10810003, 0x10800003
    T_SIZE, T_SEARCH_KEY = 0x0E080003, 0x300B0102
    tags = (T_MESSAGE_FLAGS, T_FLAG_STATUS, T_LAST_VERB, T_ICON, T_SIZE,
            T_SEARCH_KEY)
    s = Session(mapi_server)
    mid12, mid10 = mid_of(s, "12-"), mid_of(s, "10-")
    for prefix, letters in (("12-", "DFP"), ("10-", "RS")):
        path = store_file(mapi_server, prefix)
        os.rename(path, path.rsplit(":2,", 1)[0] + ":2," + letters)
    res, _ = s.run([R(open_message(0, 1, INBOX, mid12)),
                    R(get_props(1, tags), tags=tags),
                    R(open_message(0, 2, INBOX, mid10)),
                    R(get_props(2, tags), tags=tags)],
                   [s.logon, NEW, NEW])
    assert [r["rv"] for r in res] == [0] * 4
    a, b = res[1]["row"], res[3]["row"]
    # D: unsent, not read; F: flagged; P alone: forwarded
    assert val(a, T_MESSAGE_FLAGS) & 0x409 == 0x008
    assert val(a, T_FLAG_STATUS) == 2
    assert (val(a, T_LAST_VERB), val(a, T_ICON)) == (104, 0x106)
    assert val(a, T_SIZE) == os.path.getsize(store_file(mapi_server, "12-"))
    with open(store_file(mapi_server, "12-"), "rb") as f:
        assert val(a, T_SEARCH_KEY) == hashlib.md5(f.read()).digest()
    # R and S: replied and read, no follow-up flag
    assert val(b, T_MESSAGE_FLAGS) & 0x409 == 0x401
    assert val(b, T_FLAG_STATUS) == ("e", NOT_FOUND)
    assert (val(b, T_LAST_VERB), val(b, T_ICON)) == (102, 0x105)
    s.close()
