"""`mailfs serve --mapi`: messages a client makes (RopCreateMessage,
RopSetProperties, RopModifyRecipients, streams, attachments, attached
messages, RopSaveChangesMessage), in the request shapes of the recorded
scenario 05-write and answered in the layout of the recorded real
server; the new Maildir file is read back with Python's email package."""

import base64
import email
import email.policy
import os
import struct

import fakemapi_wire as fw
import mapi_decode as md
from conftest import recorded_binary, trace
from test_changes import (INBOX, IPM, NONE, PATH, TAG_NAME, Session,
                          create_folder, files, open_folder)

EX05 = trace("05-write")["exchanges"]
CREATE = EX05[7]
PROJECTS_DIR = "INBOX/Projects"

TAG_SUBJECT = 0x0037001F
TAG_BODY = 0x1000001F
TAG_CLASS = 0x001A001F
TAG_FLAGS = 0x0E070003
TAG_DATA = 0x37010102
TAG_FILENAME = 0x3707001F
TAG_METHOD = 0x37050003
TAG_MIME = 0x370E001F
TAG_FLAG_STATUS = 0x10900003
NO_SUPPORT, OBJECT_DELETED = 0x80040102, 0x8004010A
MEDIUM_FULL = 0x80030070
MSG_MAX = 64 << 20


def utf16z(s):
    return s.encode("utf-16-le") + b"\0\0"


def pv(tag, value):
    t = tag & 0xFFFF
    if t == 0x001F:
        return fw.u32(tag) + utf16z(value)
    if t == 0x0003:
        return fw.u32(tag) + struct.pack("<i", value)
    if t == 0x0102:
        return fw.u32(tag) + fw.u16(len(value)) + value
    raise ValueError(hex(tag))


def create_message(i, o, fid):
    return bytes([0x06, 0, i, o]) + fw.u16(0x0FFF) + fw.u64(fid) + b"\0"


def set_props(i, props):
    body = fw.u16(len(props)) + b"".join(pv(t, v) for t, v in props)
    return bytes([0x0A, 0, i]) + fw.u16(len(body)) + body


def save_message(resp, i, flags=0x02):
    return bytes([0x0C, 0, resp, i, flags])


def open_stream(i, o, tag, mode):
    return bytes([0x2B, 0, i, o]) + fw.u32(tag) + bytes([mode])


def write_stream(i, data):
    return bytes([0x2D, 0, i]) + fw.u16(len(data)) + data


def commit_stream(i):
    return bytes([0x5D, 0, i])


def set_stream_size(i, size):
    return bytes([0x2F, 0, i]) + fw.u64(size)


def create_attachment(i, o):
    return bytes([0x23, 0, i, o])


def save_attachment(resp, i):
    return bytes([0x25, 0, resp, i, 0x02])


def open_embedded(i, o, mode=0x02):
    return bytes([0x46, 0, i, o]) + fw.u16(0x0FFF) + bytes([mode])


def release(i):
    return bytes([0x01, 0, i])


def read_answers(rops, reqs):
    """The responses to `reqs` (raw requests), read by their RopId: each
    {"id", "index", "rv", "raw", ...}.  RopRelease answers nothing."""
    rd, out = fw.Rd(rops), []
    for q in reqs:
        if q[0] == 0x01:
            continue
        start = rd.pos
        d = {"id": rd.u8(), "index": rd.u8(), "rv": rd.u32()}
        assert d["id"] == q[0], (d, q)
        out.append(d)
        rid, ok = d["id"], d["rv"] == 0
        if rid == 0x06 and ok:
            d["has_mid"] = rd.u8()
            if d["has_mid"]:
                d["mid"] = rd.u64()
        elif rid == 0x0A and ok:
            d["problems"] = [(rd.u16(), rd.u32(), rd.u32())
                             for _ in range(rd.u16())]
        elif rid == 0x0C and ok:
            d["in"], d["mid"] = rd.u8(), rd.u64()
        elif rid == 0x2B and ok:
            d["size"] = rd.u32()
        elif rid == 0x2D:
            d["written"] = rd.u16()
        elif rid == 0x23 and ok:
            d["num"] = rd.u32()
        elif rid in (0x03, 0x46) and ok:
            if rid == 0x46:
                d["reserved"], d["mid"] = rd.u8(), rd.u64()
            d["has_named"] = rd.u8()
            fw.read_typed_string(rd)
            fw.read_typed_string(rd)
            d["recips"] = rd.u16()
            ncols = rd.u16()
            rd.take(4 * ncols)
            d["rows"] = fw.read_recipient_rows(rd, False, rd.u8())
        elif rid == 0x02 and ok:
            rd.take(2)
        elif rid == 0x1D and ok:
            d["partial"] = rd.u8()
        d["raw"] = rops[start:rd.pos]
    assert rd.left() == 0
    return out


def run(s, handles, rops):
    """One Execute of `rops` with handle table `handles`: the answers and
    the handle table back."""
    payload = fw.build_payload(b"".join(rops), handles)
    ext = (fw.u16(0) + fw.u16(4) + fw.u16(len(payload)) +
           fw.u16(len(payload)) + payload)
    body = fw.u32(0) + fw.u32(len(ext)) + ext + fw.u32(0x10008) + fw.u32(0)
    reply = s.c.post(PATH, [
        ("Content-Type", "application/mapi-http"),
        ("X-RequestType", "Execute"),
        ("X-RequestId", "{a0000009-0000-4000-8000-000000000009}:1"),
        ("X-ClientInfo", "{a0000009-0000-4000-8000-000000000009}")], body)
    assert reply.header("X-ResponseCode") == "0", reply.body
    payload, status, error = fw.parse_execute_response(reply.binary())
    assert (status, error) == (0, 0)
    resp, handles = fw.split_payload(payload)
    return read_answers(resp, [bytes(r) for r in rops]), handles


def recorded_rops(exchange):
    rops, _ = md.request_rops(base64.b64decode(
        exchange["request"]["body_b64"]))
    return {r["id"]: r["raw"] for r in rops}


def new_files(store, folder, before):
    now = files(store, folder)
    return {k: v for k, v in now.items() if k not in before}


def read_file(store, folder, name):
    for sub in ("cur", "new"):
        d = os.path.join(store, folder, sub)
        for f in os.listdir(d):
            if f.split(":")[0] == name:
                with open(os.path.join(d, f), "rb") as fh:
                    return email.message_from_binary_file(
                        fh, policy=email.policy.default)
    raise KeyError(name)


def projects_handle(s):
    """Projects' FID and a handle table [Projects, NONE] as 05-write #8
    has it ([folder, free slot])."""
    projects = s.folders(INBOX)["Projects"]
    s.run([open_folder(0, 1, projects)])
    return projects, [s.h[1], NONE]


def test_recorded_create(mapi_server):
    """05-write #8 as it was sent (but our Projects FID): the answers in
    gromox's layout, the message in the Maildir as it was made."""
    s = Session(mapi_server)
    store = mapi_server.store
    projects, handles = projects_handle(s)
    before = files(store, PROJECTS_DIR)
    rec = recorded_rops(CREATE)
    cm = rec[0x06][:6] + fw.u64(projects) + rec[0x06][14:]
    reqs = [cm, rec[0x0A], rec[0x0E], rec[0x0C]]
    ours, hout = run(s, handles, reqs)
    assert [d["rv"] for d in ours] == [0, 0, 0, 0]
    mid = ours[0]["mid"]
    assert ours[3]["mid"] == mid and ours[3]["in"] == 1
    assert mid not in (0, md.fid(0))
    assert hout[0] == handles[0] and hout[1] != NONE
    # the layout: gromox's bytes with its MID put in our place
    payload, _, _ = fw.parse_execute_response(recorded_binary(CREATE))
    theirs = read_answers(fw.split_payload(payload)[0], reqs)
    for a, b in zip(ours, theirs):
        raw = b["raw"]
        if "mid" in b:
            raw = raw.replace(fw.u64(b["mid"]), fw.u64(mid))
        assert a["raw"] == raw, (a, b)
    # the Maildir: one new file, read and a draft (MessageFlags 0x09)
    new = new_files(store, PROJECTS_DIR, before)
    assert len(new) == 1
    name, flags = next(iter(new.items()))
    assert flags == "DS"
    m = read_file(store, PROJECTS_DIR, name)
    assert m["Subject"] == "Created over MAPI/HTTP"
    assert [a.addr_spec for a in m["To"].addresses] == ["carol@example.test"]
    assert m["To"].addresses[0].display_name == "Carol Colleague"
    assert [a.addr_spec for a in m["Cc"].addresses] == ["erin@external.test"]
    body = m.get_body(("plain",)).get_content()
    assert body.startswith("This message was created with RopCreateMessage")
    assert m["Importance"].lower() == "high"
    # the contents table lists it under the MID CreateMessage gave
    # with MessageFlags read and unsent (gromox: 0x09; the store says
    # EVERREAD of every message read)
    msgs = s.messages(projects)
    assert msgs["Created over MAPI/HTTP"] == (mid, 0x409)
    s.close()


def make(s, handles, props, extra=()):
    """CreateMessage in slot 1's folder into slot 1 (as 05-write does),
    SetProperties, `extra`, SaveChangesMessage: the answers."""
    out, h = run(s, handles, [create_message(0, 1, 0), set_props(1, props)]
                 + list(extra) + [save_message(1, 1)])
    return out, h


def chunked(i, data, size=16000):
    return [write_stream(i, data[k:k + size])
            for k in range(0, len(data), size)]


def run_writes(s, h, writes):
    """Run the RopWriteStreams three to an Execute (a ROP buffer holds
    64 KiB); the answers."""
    out = []
    for k in range(0, len(writes), 3):
        r, h = run(s, h, writes[k:k + 3])
        out += r
    return out, h


def test_big_body_by_stream(mapi_server):
    s = Session(mapi_server)
    store = mapi_server.store
    projects, handles = projects_handle(s)
    handles += [NONE]
    before = files(store, PROJECTS_DIR)
    text = "".join("line %05d of a long body\r\n" % i for i in range(6000))
    data = text.encode("utf-16-le")
    r, h = run(s, handles, [
        create_message(0, 1, projects),
        set_props(1, [(TAG_SUBJECT, "Big body"), (TAG_FLAGS, 0x01)]),
        open_stream(1, 2, TAG_BODY, 0x02)])
    assert [d["rv"] for d in r] == [0, 0, 0]
    assert r[2]["size"] == 0
    w, h = run_writes(s, h, chunked(2, data))
    assert all(d["rv"] == 0 for d in w)
    assert sum(d["written"] for d in w) == len(data)
    r, h = run(s, h, [commit_stream(2), release(2), save_message(1, 1)])
    assert [d["rv"] for d in r] == [0, 0]
    new = new_files(store, PROJECTS_DIR, before)
    assert list(new.values()) == ["S"]
    m = read_file(store, PROJECTS_DIR, next(iter(new)))
    assert m["Subject"] == "Big body"
    got = m.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert got.rstrip("\n") == text.replace("\r\n", "\n").rstrip("\n")
    s.close()


def test_attachment_and_attached_message(mapi_server):
    s = Session(mapi_server)
    store = mapi_server.store
    projects, handles = projects_handle(s)
    before = files(store, PROJECTS_DIR)
    blob = bytes(range(256)) * 300
    handles = handles + [NONE] * 4
    r, h = run(s, handles, [
        create_message(0, 1, projects),
        set_props(1, [(TAG_SUBJECT, "With attachments"),
                      (TAG_BODY, "see the attachments"),
                      (TAG_FLAG_STATUS, 2)]),
        create_attachment(1, 2),
        set_props(2, [(TAG_METHOD, 1), (TAG_FILENAME, "data.bin"),
                      (TAG_MIME, "application/octet-stream")]),
        open_stream(2, 3, TAG_DATA, 0x02)])
    assert [d["rv"] for d in r] == [0] * len(r), r
    nums = [d["num"] for d in r if d["id"] == 0x23]
    w, h = run_writes(s, h, chunked(3, blob))
    assert sum(d["written"] for d in w) == len(blob)
    r, h = run(s, h, [
        commit_stream(3),
        save_attachment(2, 2),
        create_attachment(1, 4),
        open_embedded(4, 5),
        set_props(5, [(TAG_SUBJECT, "The inner one"),
                      (TAG_BODY, "inner body")]),
        save_message(5, 5),
        save_attachment(4, 4),
        save_message(1, 1)])
    assert [d["rv"] for d in r] == [0] * len(r), r
    nums += [d["num"] for d in r if d["id"] == 0x23]
    assert nums == [0, 1]
    new = new_files(store, PROJECTS_DIR, before)
    # a new message is read and unsent unless MessageFlags says other
    assert list(new.values()) == ["DFS"]
    m = read_file(store, PROJECTS_DIR, next(iter(new)))
    assert m["Subject"] == "With attachments"
    parts = list(m.iter_attachments())
    assert len(parts) == 2
    assert parts[0].get_filename() == "data.bin"
    assert parts[0].get_content() == blob
    assert parts[1].get_content_type() == "message/rfc822"
    inner = parts[1].get_content()
    assert inner["Subject"] == "The inner one"
    assert inner.get_body(("plain",)).get_content().strip() == "inner body"
    s.close()


def test_errors(mapi_server):
    s = Session(mapi_server)
    store = mapi_server.store
    projects, handles = projects_handle(s)
    handles = handles + [NONE] * 3
    # a stream past the bound of a message: STG_E_MEDIUMFULL, and the
    # stream stays as it was
    r, h = run(s, handles, [
        create_message(0, 1, projects),
        open_stream(1, 2, TAG_BODY, 0x02),
        set_stream_size(2, MSG_MAX + 2),
        write_stream(2, "ok".encode("utf-16-le")),
        set_stream_size(2, 4)])
    assert [d["rv"] for d in r] == [0, 0, MEDIUM_FULL, 0, 0]
    assert r[3]["written"] == 4
    # a read-only message cannot be changed; a folder cannot hold an
    # associated message here
    mid = s.messages(INBOX)["Plain ASCII message"][0]
    opened = (bytes([0x03, 0, 0, 3]) + fw.u16(0x0FFF) + fw.u64(INBOX) +
              b"\0" + fw.u64(mid))
    r, h = run(s, h, [opened])
    assert r[0]["rv"] == 0
    r, h = run(s, h, [set_props(3, [(TAG_SUBJECT, "changed")]),
                      bytes([0x06, 0, 0, 4]) + fw.u16(0x0FFF) +
                      fw.u64(projects) + b"\x01"])
    assert [d["rv"] for d in r] == [0x80070005, NO_SUPPORT]
    # a save of a message whose folder went meanwhile
    s.run([open_folder(0, 2, INBOX)])
    inbox_h = s.h[2]
    before_inbox = files(store, "INBOX")
    r, h = run(s, h, [create_message(0, 1, projects),
                      set_props(1, [(TAG_SUBJECT, "orphan")])])
    assert [d["rv"] for d in r] == [0, 0]
    r, _ = run(s, [inbox_h], [
        bytes([0x1D, 0, 0, 0x05]) + fw.u64(projects)])
    assert r[0]["rv"] == 0
    assert not os.path.exists(os.path.join(store, PROJECTS_DIR))
    r, h = run(s, h, [save_message(1, 1)])
    assert r[0]["rv"] == OBJECT_DELETED
    assert files(store, "INBOX") == before_inbox
    s.close()


def test_flags_of_a_stored_message(mapi_server):
    """A message opened read/write: flag properties change the Maildir
    name at the save; another change is refused and leaves the file."""
    s = Session(mapi_server)
    store = mapi_server.store
    mid = s.messages(INBOX)["Plain ASCII message"][0]
    name = next(n for n in files(store, "INBOX") if ".m01." in n)
    handles = [s.h[0], NONE, NONE]
    opened = (bytes([0x03, 0, 0, 1]) + fw.u16(0x0FFF) + fw.u64(INBOX) +
              b"\x01" + fw.u64(mid))
    r, h = run(s, handles, [opened,
                            set_props(1, [(TAG_FLAG_STATUS, 2),
                                          (TAG_FLAGS, 0x01)]),
                            save_message(1, 1)])
    assert [d["rv"] for d in r] == [0, 0, 0]
    assert r[2]["mid"] == mid
    assert files(store, "INBOX")[name] == "FS"
    r, h = run(s, h, [set_props(1, [(TAG_SUBJECT, "rewritten")]),
                      save_message(1, 1)])
    assert [d["rv"] for d in r] == [0, NO_SUPPORT]
    assert files(store, "INBOX")[name] == "FS"
    s.close()


def test_folder_class(mapi_server):
    """RopSetProperties(PidTagContainerClass) on a folder just made: an
    empty folder becomes a contacts folder of the store; one holding
    messages stays a mail folder, and says so by a PropertyProblem."""
    s = Session(mapi_server)
    store = mapi_server.store
    tag_class = 0x3613001F
    s.run([open_folder(0, 1, IPM)])
    r = s.run([create_folder(1, 2, "People")])
    people = r[0]["fid"]
    r, _ = run(s, [s.h[2]], [set_props(0, [(tag_class, "IPF.Contact")])])
    assert r[0]["rv"] == 0 and r[0]["problems"] == []
    assert not os.path.isdir(os.path.join(store, "People", "cur"))
    rows = s.rows(6, 0x04, IPM, [TAG_NAME, 0x67480014, tag_class])
    row = next(x for x in rows if x[TAG_NAME] == "People")
    assert row[tag_class] == "IPF.Contact" and row[0x67480014] == people
    projects = s.folders(INBOX)["Projects"]
    s.run([open_folder(0, 3, projects)])
    r, _ = run(s, [s.h[3]], [set_props(0, [(tag_class, "IPF.Contact")])])
    assert r[0]["rv"] == 0
    assert r[0]["problems"] == [(0, tag_class, 0x80070005)]
    assert os.path.isdir(os.path.join(store, PROJECTS_DIR, "cur"))
    s.close()


def test_recipients_bound(mapi_server):
    """A message being made holds at most 2000 recipients: the row after
    is MAPI_E_TOO_BIG, and the message keeps the 2000."""
    s = Session(mapi_server)
    projects, handles = projects_handle(s)
    raw = recorded_rops(CREATE)[0x0E]
    head = raw[:21]
    size0 = struct.unpack("<H", raw[28:30])[0]
    row0 = raw[23:30 + size0]

    def rows(first, n):
        body = b"".join(fw.u32(first + k) + row0[4:] for k in range(n))
        return head + fw.u16(n) + body

    r, h = run(s, handles, [create_message(0, 1, projects)])
    assert r[0]["rv"] == 0
    for first in range(0, 2000, 250):
        r, h = run(s, h, [rows(first, 250)])
        assert r[0]["rv"] == 0, first
    r, h = run(s, h, [rows(2000, 1)])
    assert r[0]["rv"] == 0x80040305
    # replacing a row that is there is no new recipient
    r, h = run(s, h, [rows(1999, 1)])
    assert r[0]["rv"] == 0
    s.close()
