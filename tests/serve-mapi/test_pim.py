"""`mailfs serve --mapi`: the store's contacts (.vcf) and calendar (.ics)
folders as IPM.Contact and IPM.Appointment messages, and the named
property ROPs (RopGetPropertyIdsFromNames 0x56, RopGetNamesFromPropertyIds
0x55).

The requests are built here by hand after MS-OXCROPS 2.2.8.1-2 and
2.2.13; the answers are read by this file's own readers (PropertyName of
MS-OXCDATA 2.6.1, the FastTransfer stream's named properties of
MS-OXCFXICS 2.2.4.1.1) and fakemapi_wire.py, apart from the C codecs, and
judged against the store's .vcf and .ics files."""

import datetime
import os
import struct

import fakemapi_wire as fw
import ics_client as ic
from conftest import Server, check_log, wait_until

NO_HANDLE = 0xFFFFFFFF
IPM_SUBTREE = ic.md.fid(0x09)

PSETID_ADDRESS = bytes.fromhex("0420060000000000c000000000000046")
PSETID_APPOINTMENT = bytes.fromhex("0220060000000000c000000000000046")
PS_MAPI = bytes.fromhex("2803020000000000c000000000000046")
PS_PUBLIC_STRINGS = bytes.fromhex("2903020000000000c000000000000046")

EMAIL1 = (PSETID_ADDRESS, 0, 0x8083)
LOCATION = (PSETID_APPOINTMENT, 0, 0x8208)
START = (PSETID_APPOINTMENT, 0, 0x820D)
END = (PSETID_APPOINTMENT, 0, 0x820E)

T_CLASS = 0x001A001F
T_SUBJECT = 0x0037001F
T_DISPLAY = 0x3001001F
T_SIZE = 0x0E080003
T_MID = 0x674A0014
T_FLAGS = 0x0E070003
W_ERRORS = 0x00040380

# ---- requests and responses of this file's ROPs ----


def prop_name(guid, kind, v):
    """PropertyName, MS-OXCDATA 2.6.1."""
    out = bytes([kind]) + guid
    if kind == 0:
        return out + fw.u32(v)
    s = v.encode("utf-16-le") + b"\0\0"
    return out + bytes([len(s)]) + s


def ids_from_names(names, create=False, h=0):
    return (bytes([0x56, 0, h, 0x02 if create else 0]) +
            fw.u16(len(names)) +
            b"".join(prop_name(*n) for n in names))


def names_from_ids(ids, h=0):
    return (bytes([0x55, 0, h]) + fw.u16(len(ids)) +
            b"".join(fw.u16(i) for i in ids))


def read_name(rd):
    kind = rd.u8()
    if kind == 0xFF:
        return None
    guid = rd.take(16)
    if kind == 0:
        return (guid, 0, rd.u32())
    assert kind == 1, kind
    size = rd.u8()
    raw = rd.take(size)
    assert raw.endswith(b"\0\0"), raw
    return (guid, 1, raw[:-2].decode("utf-16-le"))


def read_one(rd, tags=None):
    d = {"id": rd.u8(), "index": rd.u8(), "rv": rd.u32()}
    rid = d["id"]
    if rid == 0x56 and d["rv"] in (0, W_ERRORS):
        d["ids"] = [rd.u16() for _ in range(rd.u16())]
    elif d["rv"]:
        return d
    elif rid == 0x55:
        d["names"] = [read_name(rd) for _ in range(rd.u16())]
    elif rid == 0x02:
        rd.u8(), rd.u8()
    elif rid == 0x05:
        d["row_count"] = rd.u32()
    elif rid == 0x12:
        rd.u8()
    elif rid == 0x15:
        d["origin"] = rd.u8()
        d["rows"] = [fw.read_row(rd, tags)[0] for _ in range(rd.u16())]
    elif rid == 0x03:
        rd.u8()     # HasNamedProperties
        for _ in range(2):      # SubjectPrefix, NormalizedSubject
            kind = rd.u8()
            if kind in (2, 3):
                rd.asciiz()
            elif kind == 4:
                rd.utf16z()
        rd.u16()    # RecipientCount
        ncols = rd.u16()
        cols = [rd.u32() for _ in range(ncols)]
        n = rd.u8()
        assert n == 0, "recipient rows not read here"
        d["cols"] = cols
    elif rid == 0x07:
        d["row"] = fw.read_row(rd, tags)[0]
    elif rid == 0x06:
        if rd.u8():
            d["mid"] = rd.u64()
    elif rid == 0x0A:
        d["problems"] = [(rd.u16(), rd.u32(), rd.u32())
                         for _ in range(rd.u16())]
    elif rid == 0x0C:
        d["in"], d["mid"] = rd.u8(), rd.u64()
    else:
        raise AssertionError("no reader for 0x%02X" % rid)
    return d


class Sess(ic.Session):
    """ics_client's session, whose Execute reads this file's ROPs."""

    def run(self, rops, handles, tags=None):
        self.n += 1
        reply = self.c.post(ic.PATH, ic.headers("Execute", self.n),
                            ic.execute_body(rops, handles))
        assert reply.header("X-ResponseCode") == "0", reply.body
        payload, status, error = fw.parse_execute_response(reply.binary())
        assert (status, error) == (0, 0)
        data, handles = fw.split_payload(payload)
        rd = fw.Rd(data)
        out = []
        while rd.left():
            out.append(read_one(rd, tags))
        return out, handles

# ---- the FastTransfer stream, names kept ----


def fx_named(data):
    """The elements of a whole stream: ("m", name) or ("p", tag, raw,
    name) with name (guid, kind, lid or string) for ids from 0x8000."""
    rd = fw.Rd(data)
    out = []
    while rd.left():
        tag = rd.u32()
        if tag in ic.MARKERS:
            out.append(("m", ic.MARKERS[tag]))
            continue
        ptype, pid = tag & 0xFFFF, tag >> 16
        name = None
        if pid >= 0x8000:
            guid = rd.take(16)
            kind = rd.u8()
            if kind == 0:
                name = (guid, 0, rd.u32())
            else:
                assert kind == 1, kind
                name = (guid, 1, rd.utf16z().decode("utf-16-le"))
        if tag == ic.IDSET_GIVEN or ptype in ic.COUNTED:
            raw = rd.take(rd.u32())
        elif ptype in ic.SIZED:
            raw = rd.take(ic.SIZED[ptype])
        elif ptype & 0x1000 and (ptype & 0x0FFF) in ic.SIZED:
            raw = rd.take(rd.u32() * ic.SIZED[ptype & 0x0FFF])
        elif ptype & 0x1000 and (ptype & 0x0FFF) in ic.COUNTED:
            raw = [rd.take(rd.u32()) for _ in range(rd.u32())]
        else:
            raise fw.WireError("type 0x%04X at %d" % (ptype, rd.pos - 4))
        out.append(("p", tag, raw, name))
    return out


def messages(data):
    """Each message of a contentsSync stream: {"header": {tag: value},
    "props": {tag: value}, "named": {name: (tag, value)}}."""
    out = []
    cur = None
    part = None
    depth = 0
    for e in fx_named(data):
        if e[0] == "m":
            if e[1] == "IncrSyncChg":
                cur = {"header": {}, "props": {}, "named": {}}
                out.append(cur)
                part = "header"
            elif e[1] == "IncrSyncMessage":
                part = "props"
            elif e[1] in ("StartRecip", "NewAttach", "StartEmbed"):
                depth += 1 if e[1] == "StartEmbed" else 0
                part = None
            elif e[1] == "EndEmbed":
                depth -= 1
            elif e[1] in ("IncrSyncDel", "IncrSyncRead",
                          "IncrSyncStateBegin"):
                part = None
            continue
        if part is None or depth:
            continue
        _, tag, raw, name = e
        if tag == ic.FX_DEL_PROP:
            part = None
            continue
        value = ic.u(raw, tag)
        cur[part][tag] = value
        if name:
            assert name not in cur["named"], name
            cur["named"][name] = (tag, value)
    return out


def folder_fids(sess):
    changes, _, _ = ic.hierarchy_sync(
        ic.download_hierarchy(sess, IPM_SUBTREE))
    return {c[T_DISPLAY]: c[0x67480014] for c in changes}


def download(sess, fid):
    res, handles = sess.execute(ic.open_folder(fid) + ic.sync_configure(),
                                [sess.logon, NO_HANDLE, NO_HANDLE])
    assert [r["rv"] for r in res] == [0, 0], res
    h = handles[2]
    stream = b""
    for _ in range(1000):
        res, _ = sess.execute(ic.get_buffer(), [h])
        assert res[0]["rv"] == 0, res
        stream += res[0]["buf"]
        if res[0]["status"] == 0x0003:
            break
    sess.execute(ic.release(0) + ic.release(1), [h, handles[1]])
    return stream


def filetime(iso):
    t = datetime.datetime.fromisoformat(iso).replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 10_000_000 + 116444736000000000


def by_email(msgs):
    return {m["named"][EMAIL1][1]: m for m in msgs}

# ---- the tests ----


def test_contacts_download(mapi_server):
    sess = Sess(mapi_server)
    fids = folder_fids(sess)
    msgs = messages(download(sess, fids["Contacts"]))
    assert len(msgs) == 2, msgs
    got = by_email(msgs)
    assert set(got) == {"bob@example.test", "erin@external.test"}
    files = {"bob@example.test": "contact-1-bob.vcf",
             "erin@external.test": "contact-2-erin.vcf"}
    for addr, m in got.items():
        assert m["props"][T_CLASS] == "IPM.Contact"
        size = os.path.getsize(os.path.join(mapi_server.store, "Contacts",
                                            files[addr]))
        assert m["header"][T_SIZE] == size
        tag = m["named"][EMAIL1][0]
        assert 0x8000 <= tag >> 16 <= 0xFFFE and tag & 0xFFFF == 0x001F
    assert got["bob@example.test"]["props"][T_DISPLAY] == "Bob Sender"
    assert got["erin@external.test"]["props"][T_DISPLAY] == "Erin External"
    # one name, one id, in every message
    ids = {}
    for m in msgs:
        for name, (tag, _) in m["named"].items():
            assert ids.setdefault(name, tag >> 16) == tag >> 16
    assert len(set(ids.values())) == len(ids)
    sess.close()


def test_calendar_download(mapi_server):
    sess = Sess(mapi_server)
    msgs = messages(download(sess, folder_fids(sess)["Calendar"]))
    assert len(msgs) == 1, msgs
    m = msgs[0]
    assert m["props"][T_CLASS] == "IPM.Appointment"
    assert m["props"][T_SUBJECT] == "Team sync"
    assert m["named"][LOCATION][1] == "Room 1"
    assert m["named"][START][0] & 0xFFFF == 0x0040
    assert m["named"][START][1] == filetime("2026-12-10T10:00:00")
    assert m["named"][END][1] == filetime("2026-12-10T11:00:00")
    size = os.path.getsize(os.path.join(mapi_server.store, "Calendar",
                                        "appointment-1.ics"))
    assert m["header"][T_SIZE] == size
    sess.close()


def test_names_round_trip(mapi_server, workdir):
    sess = Sess(mapi_server)
    fids = folder_fids(sess)
    stream_ids = {name: tag >> 16 for m in messages(
        download(sess, fids["Contacts"])) for name, (tag, _) in
        m["named"].items()}
    custom = (PS_PUBLIC_STRINGS, 1, "X-Mailfs-Test")
    asked = [EMAIL1, START, custom, (PS_MAPI, 0, 0x0037)]
    # without Create: the unknown name has no id, and the answer says so
    res, _ = sess.run(ids_from_names(asked), [sess.logon])
    assert res[0]["rv"] == W_ERRORS, res
    ids = res[0]["ids"]
    assert ids[0] == stream_ids[EMAIL1]
    assert ids[1] >= 0x8000 and ids[1] != ids[0]
    assert ids[2] == 0 and ids[3] == 0x0037
    # with Create it gets one, the same when asked again
    res, _ = sess.run(ids_from_names([custom], create=True), [sess.logon])
    assert res[0]["rv"] == 0 and res[0]["ids"][0] >= 0x8000, res
    made = res[0]["ids"][0]
    assert made not in ids
    res, _ = sess.run(ids_from_names([custom]), [sess.logon])
    assert res[0] == {"id": 0x56, "index": 0, "rv": 0, "ids": [made]}
    # and back: names of the ids, PS_MAPI below 0x8000, none for 0xFFFE
    res, _ = sess.run(names_from_ids([ids[0], ids[1], made, 0x0037,
                                      0xFFFE]), [sess.logon])
    assert res[0]["rv"] == 0, res
    assert res[0]["names"] == [EMAIL1, START, custom, (PS_MAPI, 0, 0x37),
                               None]
    # every id given, when no name is asked
    res, _ = sess.run(ids_from_names([]), [sess.logon])
    assert res[0]["rv"] == 0
    every = res[0]["ids"]
    assert made in every and ids[0] in every and ids[1] in every
    assert len(set(every)) == len(every)
    # a ROP on a handle that is not there
    res, _ = sess.run(names_from_ids([0x8000], h=1), [sess.logon,
                                                      NO_HANDLE])
    assert res[0]["rv"] != 0
    sess.close()
    # the same ids after a restart, the one made too
    check_log(mapi_server, mapi_server.stop())
    again = Server(mapi_server.store, workdir, protocols=("mapi",))
    try:
        sess = Sess(again)
        res, _ = sess.run(ids_from_names([EMAIL1, START, custom]),
                          [sess.logon])
        assert res[0]["ids"] == [ids[0], ids[1], made], res
        sess.close()
    finally:
        check_log(again, again.stop())


def test_contents_table_and_open(mapi_server):
    sess = Sess(mapi_server)
    fid = folder_fids(sess)["Contacts"]
    res, _ = sess.run(ids_from_names([EMAIL1]), [sess.logon])
    email_tag = (res[0]["ids"][0] << 16) | 0x001F
    cols = [T_MID, T_SUBJECT, T_DISPLAY, T_CLASS, T_SIZE, T_FLAGS,
            email_tag]
    res, handles = sess.run(
        bytes([0x02, 0, 0, 1]) + fw.u64(fid) + b"\0" +
        bytes([0x05, 0, 1, 2, 0x40]) +
        bytes([0x12, 0, 2, 0]) + fw.u16(len(cols)) +
        b"".join(fw.u32(t) for t in cols) +
        bytes([0x15, 0, 2, 0, 1]) + fw.u16(100),
        [sess.logon, NO_HANDLE, NO_HANDLE], tags=cols)
    assert [r["rv"] for r in res] == [0, 0, 0, 0], res
    assert res[1]["row_count"] == 2
    rows = res[3]["rows"]
    by_addr = {}
    for row in rows:
        assert all(v[0] == "v" for v in row.values()), row
        addr = row[email_tag][1][:-2].decode("utf-16-le")
        by_addr[addr] = row
        cls = row[T_CLASS][1][:-2].decode("utf-16-le")
        assert cls == "IPM.Contact"
        flags = struct.unpack("<I", row[T_FLAGS][1])[0]
        assert flags & 0x01     # read: a contact is never unread
    bob = by_addr["bob@example.test"]
    assert bob[T_DISPLAY][1][:-2].decode("utf-16-le") == "Bob Sender"
    assert bob[T_SUBJECT][1][:-2].decode("utf-16-le") == "Bob Sender"
    size = os.path.getsize(os.path.join(mapi_server.store, "Contacts",
                                        "contact-1-bob.vcf"))
    assert struct.unpack("<i", bob[T_SIZE][1])[0] == size
    mid = struct.unpack("<Q", bob[T_MID][1])[0]
    # the message opened: its properties, the named one by its id
    want = [T_CLASS, T_DISPLAY, email_tag, T_SIZE]
    res, _ = sess.run(
        bytes([0x03, 0, 0, 1]) + fw.u16(0x0FFF) + fw.u64(fid) +
        bytes([0]) + fw.u64(mid) +
        bytes([0x07, 0, 1]) + fw.u16(0) + fw.u16(1) + fw.u16(len(want)) +
        b"".join(fw.u32(t) for t in want),
        [sess.logon, NO_HANDLE], tags=want)
    assert [r["rv"] for r in res] == [0, 0], res
    row = res[1]["row"]
    assert row[T_CLASS][1][:-2].decode("utf-16-le") == "IPM.Contact"
    assert row[email_tag][1][:-2].decode("utf-16-le") == \
        "bob@example.test"
    assert struct.unpack("<i", row[T_SIZE][1])[0] == size
    sess.close()


def test_broken_vcard_is_left_out(mapi_server):
    path = os.path.join(mapi_server.store, "Contacts", "broken.vcf")
    with open(path, "wb") as f:
        f.write(b"this is no vCard at all\r\n")
    sess = Sess(mapi_server)
    fids = folder_fids(sess)
    msgs = messages(download(sess, fids["Contacts"]))
    assert sorted(by_email(msgs)) == ["bob@example.test",
                                      "erin@external.test"]
    res, _ = sess.run(
        bytes([0x02, 0, 0, 1]) + fw.u64(fids["Contacts"]) + b"\0" +
        bytes([0x05, 0, 1, 2, 0x40]),
        [sess.logon, NO_HANDLE, NO_HANDLE])
    assert [r["rv"] for r in res] == [0, 0], res
    assert res[1]["row_count"] == 2
    sess.close()
    # the server's log reaches its file a little later than the answer
    assert wait_until(lambda: "broken.vcf of Contacts left out of a "
                      "contents table" in mapi_server.log()), \
        mapi_server.log()
    log = mapi_server.log()
    assert "broken.vcf of Contacts left out of an ICS download" in log, log


def tagged(tag, v):
    """TaggedPropertyValue, MS-OXCDATA 2.11.4."""
    if tag & 0xFFFF == 0x001F:
        return fw.u32(tag) + v.encode("utf-16-le") + b"\0\0"
    assert tag & 0xFFFF == 0x0040
    return fw.u32(tag) + fw.u64(v)


def make(sess, fid, props):
    """CreateMessage in folder `fid`, SetProperties, SaveChangesMessage:
    the responses."""
    body = fw.u16(len(props)) + b"".join(tagged(t, v) for t, v in props)
    res, _ = sess.run(
        bytes([0x02, 0, 0, 1]) + fw.u64(fid) + b"\0" +
        bytes([0x06, 0, 1, 2]) + fw.u16(0x0FFF) + fw.u64(fid) + b"\0" +
        bytes([0x0A, 0, 2]) + fw.u16(len(body)) + body +
        bytes([0x0C, 0, 2, 2, 0x02]),
        [sess.logon, NO_HANDLE, NO_HANDLE])
    assert [r["rv"] for r in res] == [0, 0, 0, 0], res
    assert res[2]["problems"] == []
    assert res[3]["mid"] == res[1]["mid"]
    return res


def new_files(store, folder, before):
    return [os.path.join(store, folder, n)
            for n in sorted(os.listdir(os.path.join(store, folder)))
            if n not in before and not n.startswith(".")]


def test_contact_and_appointment_made(mapi_server):
    store = mapi_server.store
    sess = Sess(mapi_server)
    fids = folder_fids(sess)
    res, _ = sess.run(ids_from_names([EMAIL1, LOCATION, START, END]),
                      [sess.logon])
    email_id, loc_id, start_id, end_id = res[0]["ids"]
    before = os.listdir(os.path.join(store, "Contacts"))
    make(sess, fids["Contacts"], [
        (T_DISPLAY, "Carol New"), (0x3A06001F, "Carol"),
        (0x3A11001F, "New"), (email_id << 16 | 0x001F, "carol@new.test")])
    made = new_files(store, "Contacts", before)
    assert len(made) == 1 and made[0].endswith(".vcf"), made
    with open(made[0], "rb") as f:
        text = f.read().decode()
    assert text.startswith("BEGIN:VCARD\r\n"), text
    assert "FN:Carol New\r\n" in text and "carol@new.test" in text, text
    # and it is a contact of the folder from now on
    got = by_email(messages(download(sess, fids["Contacts"])))
    assert sorted(got) == ["bob@example.test", "carol@new.test",
                           "erin@external.test"]
    assert got["carol@new.test"]["props"][T_DISPLAY] == "Carol New"
    assert got["carol@new.test"]["props"][T_CLASS] == "IPM.Contact"
    before = os.listdir(os.path.join(store, "Calendar"))
    make(sess, fids["Calendar"], [
        (T_SUBJECT, "Planning"), (loc_id << 16 | 0x001F, "Room 2"),
        (start_id << 16 | 0x0040, filetime("2026-12-11T09:00:00")),
        (end_id << 16 | 0x0040, filetime("2026-12-11T09:30:00"))])
    made = new_files(store, "Calendar", before)
    assert len(made) == 1 and made[0].endswith(".ics"), made
    with open(made[0], "rb") as f:
        text = f.read().decode()
    for line in ("BEGIN:VCALENDAR", "SUMMARY:Planning", "LOCATION:Room 2",
                 "DTSTART:20261211T090000Z", "DTEND:20261211T093000Z"):
        assert line + "\r\n" in text, text
    msgs = messages(download(sess, fids["Calendar"]))
    subjects = sorted(m["props"][T_SUBJECT] for m in msgs)
    assert subjects == ["Planning", "Team sync"]
    sess.close()
