"""`mailfs serve --mapi`: the changes a client makes through a folder
object (RopSetReadFlags, RopDeleteMessages, RopHardDeleteMessages,
RopMoveCopyMessages, RopEmptyFolder, RopCreateFolder, RopDeleteFolder,
RopMoveFolder), in the request shapes of the recorded scenarios 05-write
and 06-folders, answered as the recorded real server answers; each
change is checked in the Maildir on disk and through serve's IMAP on the
same store."""

import base64
import imaplib
import os
import struct

import fakemapi_wire as fw
import mapi_decode as md
import pytest
from conftest import (PASSWORD, USER, Client, Server, build_store,
                      check_log, recorded_binary, trace)

PATH = "/mapi/emsmdb/?MailboxId=whatever@example.test"
NONE = 0xFFFFFFFF
TAG_FID, TAG_NAME, TAG_PARENT = 0x67480014, 0x3001001F, 0x67490014
TAG_MID, TAG_SUBJECT, TAG_FLAGS = 0x674A0014, 0x0037001F, 0x0E070003
INBOX, IPM = md.fid(0x0D), md.fid(0x09)
NOT_FOUND, NO_ACCESS = 0x8004010F, 0x80070005
COLLISION, FOLDER_CYCLE = 0x80040604, 0x8004060B
DST_NULL = 0x503

EX05 = trace("05-write")["exchanges"]
EX06 = trace("06-folders")["exchanges"]


# ---- ROP requests, in the recorded shapes ----

def utf16z(s):
    return s.encode("utf-16-le") + b"\0\0"


def mids_of(mids):
    return fw.u16(len(mids)) + b"".join(fw.u64(m) for m in mids)


def open_folder(i, o, fid):
    return bytes([0x02, 0, i, o]) + fw.u64(fid) + b"\0"


def table(rid, i, o, flags=0x40):
    return bytes([rid, 0, i, o, flags])


def set_columns(i, tags):
    return (bytes([0x12, 0, i, 0]) + fw.u16(len(tags)) +
            b"".join(fw.u32(t) for t in tags))


def query_rows(i, n=100):
    return bytes([0x15, 0, i, 0, 1]) + fw.u16(n)


def set_read_flags(i, flags, mids):
    return bytes([0x66, 0, i, 0, flags]) + mids_of(mids)


def delete_messages(i, mids, hard=False):
    return bytes([0x91 if hard else 0x1E, 0, i, 0, 0]) + mids_of(mids)


def move_copy(src, dst, mids, copy=0):
    return bytes([0x33, 0, src, dst]) + mids_of(mids) + bytes([0, copy])


def empty_folder(i):
    return bytes([0x58, 0, i, 0, 0])


def create_folder(i, o, name, existing=0):
    return (bytes([0x1C, 0, i, o, 1, 1, existing, 0]) + utf16z(name) +
            utf16z(""))


def delete_folder(i, flags, fid):
    return bytes([0x1D, 0, i, flags]) + fw.u64(fid)


def move_folder(src, dst, fid, name):
    return bytes([0x35, 0, src, dst, 0, 1]) + fw.u64(fid) + utf16z(name)


def recorded_rop(exchange, rid):
    """The raw bytes of the recorded request's ROP `rid`."""
    rops, _ = md.request_rops(base64.b64decode(
        exchange["request"]["body_b64"]))
    return next(r["raw"] for r in rops if r["id"] == rid)


def recorded_answer(exchange):
    """The recorded response's ROP bytes."""
    payload, _, _ = fw.parse_execute_response(recorded_binary(exchange))
    return fw.split_payload(payload)[0]


# ---- the responses, read with fakemapi_wire's reader ----

PARTIAL = {0x1D, 0x1E, 0x35, 0x58, 0x66, 0x91}


def read_responses(rops, reqs, cols):
    rd, out = fw.Rd(rops), []
    for q in reqs:
        d = {"id": rd.u8(), "index": rd.u8(), "rv": rd.u32()}
        start = rd.pos - 6
        out.append(d)
        assert d["id"] == q[0], (d, q)
        rid = d["id"]
        if rid == 0x33 and d["rv"] == DST_NULL:
            d["dest"], d["partial"] = rd.u32(), rd.u8()
        elif d["rv"]:
            pass
        elif rid == 0xFE:
            md._logon(rd, d)
        elif rid == 0x02:
            d["has_rules"], d["ghosted"] = rd.u8(), rd.u8()
        elif rid in (0x04, 0x05):
            d["row_count"] = rd.u32()
        elif rid == 0x12:
            d["status"] = rd.u8()
        elif rid == 0x15:
            d["origin"] = rd.u8()
            d["rows"] = [fw.read_row(rd, cols[q[2]])
                         for _ in range(rd.u16())]
        elif rid == 0x1C:
            d["fid"], d["existing"] = rd.u64(), rd.u8()
        elif rid in PARTIAL or rid == 0x33:
            d["partial"] = rd.u8()
        d["raw"] = rops[start:rd.pos]
    assert rd.left() == 0
    return out


class Session:
    """A Connect and a Logon; `h` is the handle table the next Execute
    sends (slot 0 the logon), kept from one Execute to the next."""

    def __init__(self, server):
        self.c = Client(server)
        reply = self.c.replay(EX05[0])
        assert reply.header("X-ResponseCode") == "0"
        logon = recorded_rop(EX05[1], 0xFE)
        self.h = [NONE] * 10
        self.cols = {}
        self.h = self.run([logon])[0]["handles"]

    def run(self, rops, expect_ok=True):
        """Run `rops` in one Execute; the responses (RopRelease answers
        nothing), with "handles" in the first."""
        out = self.run_with(self.h, rops, expect_ok)
        self.h = out[0]["handles"]
        return out

    def run_with(self, handles, rops, expect_ok=True):
        """As run(), but with the handle table `handles`, which is not
        kept for the next Execute."""
        payload = fw.build_payload(b"".join(rops), handles)
        ext = (fw.u16(0) + fw.u16(4) + fw.u16(len(payload)) +
               fw.u16(len(payload)) + payload)
        body = fw.u32(0) + fw.u32(len(ext)) + ext + fw.u32(0x10008) + \
            fw.u32(0)
        reply = self.c.post(PATH, [
            ("Content-Type", "application/mapi-http"),
            ("X-RequestType", "Execute"),
            ("X-RequestId", "{a0000009-0000-4000-8000-000000000009}:1"),
            ("X-ClientInfo", "{a0000009-0000-4000-8000-000000000009}")],
            body)
        assert reply.header("X-ResponseCode") == "0", reply.body
        payload, status, error = fw.parse_execute_response(reply.binary())
        assert (status, error) == (0, 0)
        resp, handles = fw.split_payload(payload)
        reqs = [(r[0], r[1], r[2]) for r in map(bytes, rops)]
        for r in rops:
            if r[0] == 0x12:
                self.cols[r[2]] = tuple(
                    struct.unpack("<%dI" % r[4], r[6:6 + 4 * r[4]]))
        out = read_responses(resp, reqs, self.cols)
        out[0]["handles"] = handles
        if expect_ok:
            for d in out:
                assert d["rv"] == 0, d
        return out

    def rows(self, slot, rid, fid, tags, flags=0x40):
        """The rows of the hierarchy (0x04) or contents (0x05) table of
        folder `fid`, opened into slots `slot` and `slot + 1`."""
        r = self.run([open_folder(0, slot, fid),
                      table(rid, slot, slot + 1, flags),
                      set_columns(slot + 1, tags),
                      query_rows(slot + 1)])
        return [{t: md.value(row, t) for t in tags} for row in r[3]["rows"]]

    def folders(self, fid, deep=False):
        return {r[TAG_NAME]: r[TAG_FID] for r in self.rows(
            8, 0x04, fid, [TAG_FID, TAG_NAME], 0x44 if deep else 0x40)}

    def messages(self, fid):
        """subject -> (MID, MessageFlags) of folder `fid`."""
        return {r[TAG_SUBJECT]: (r[TAG_MID], r[TAG_FLAGS])
                for r in self.rows(8, 0x05, fid,
                                   [TAG_MID, TAG_SUBJECT, TAG_FLAGS])}

    def close(self):
        self.c.close()


def files(store, folder):
    """The message files of a store folder: name -> info flags."""
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(store, folder, sub)
        for name in os.listdir(d):
            out[name.split(":")[0]] = name.partition(":2,")[2]
    return out


def by_prefix(store, folder, prefix):
    """The file name (without info) of the message whose name carries
    the eml prefix `prefix` ("01"), or None."""
    for name in files(store, folder):
        if ".m%s." % prefix in name:
            return name
    return None


@pytest.fixture
def both(workdir):
    """`mailfs serve` with MAPI and IMAP on one store."""
    store = os.path.join(workdir, "store")
    build_store(store)
    server = Server(store, workdir, protocols=("mapi", "imap"))
    yield server
    check_log(server, server.stop())


def imap_view(server, folder):
    """What IMAP sees of `folder`: the number of messages and of those
    with \\Seen."""
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"])
    try:
        m.login(USER, PASSWORD)
        typ, data = m.select('"%s"' % folder, readonly=True)
        assert typ == "OK", data
        n = int(data[0])
        typ, data = m.search(None, "SEEN")
        seen = len(data[0].split())
        return n, seen
    finally:
        m.logout()


PLAIN = "Plain ASCII message"


def test_set_read_flags(both):
    s = Session(both)
    store = both.store
    name = by_prefix(store, "INBOX", "01")
    mid = s.messages(INBOX)[PLAIN][0]
    assert imap_view(both, "INBOX") == (12, 1)
    s.run([open_folder(0, 1, INBOX)])
    # the three variants of 05-write #13-15: rfDefault marks read,
    # rfClearReadFlag unread, rfSuppressReceipt read again
    for flags, seen, mapi_flags in ((0x00, "S", 0x403), (0x04, "", 0x002),
                                    (0x01, "S", 0x403)):
        r = s.run([set_read_flags(1, flags, [mid])])
        assert r[0]["raw"] == bytes([0x66, 1, 0, 0, 0, 0, 0])
        assert files(store, "INBOX")[name] == seen
        assert s.messages(INBOX)[PLAIN] == (mid, mapi_flags)
        assert imap_view(both, "INBOX") == (12, 2 if seen else 1)
    # receipts only: the read state stays
    r = s.run([set_read_flags(1, 0x10, [mid]),
               set_read_flags(1, 0x20, [mid])])
    assert [d["partial"] for d in r] == [0, 0]
    assert files(store, "INBOX")[name] == "S"
    # a MID the folder does not hold: the rest done, PartialCompletion
    r = s.run([set_read_flags(1, 0x04, [md.fid(0xFFFFFF), mid])])
    assert r[0]["partial"] == 1
    assert files(store, "INBOX")[name] == ""
    # a message another writer removed since the client listed it: as
    # one not found
    gone = s.messages(INBOX)["HTML only message"][0]
    m = imaplib.IMAP4("127.0.0.1", both.port["imap"])
    m.login(USER, PASSWORD)
    m.select("INBOX")
    typ, data = m.search(None, "SUBJECT", '"HTML only"')
    m.store(data[0], "+FLAGS", "\\Deleted")
    m.expunge()
    m.logout()
    assert by_prefix(store, "INBOX", "03") is None
    r = s.run([set_read_flags(1, 0x00, [gone, mid]),
               delete_messages(1, [gone])])
    assert [d["partial"] for d in r] == [1, 1]
    assert files(store, "INBOX")[name] == "S"
    s.close()


def test_move_copy_delete(both):
    s = Session(both)
    store = both.store
    projects = s.folders(INBOX)["Projects"]
    before = s.messages(INBOX)
    subject2 = next(k for k in before if k.startswith("Gr"))
    mid2 = before[subject2][0]
    s.run([open_folder(0, 1, INBOX), open_folder(0, 2, projects)])
    inbox_h, projects_h = s.h[1], s.h[2]
    # 05-write #15: MoveCopyMessages(Inbox, Projects, [MID], WantCopy 0)
    # with the handle table it had: [Inbox, Projects]
    raw = recorded_rop(EX05[15], 0x33)
    assert raw[2:4] == bytes([0, 1])
    r = s.run_with([inbox_h, projects_h], [raw[:6] + fw.u64(mid2) +
                                           raw[14:]])
    assert r[0]["raw"] == recorded_answer(EX05[15])
    assert by_prefix(store, "INBOX", "02") is None
    assert by_prefix(store, "INBOX/Projects", "02") is not None
    inbox, proj = s.messages(INBOX), s.messages(projects)
    assert len(inbox) == 11 and len(proj) == 3
    # a new MID in its new folder
    new_mid = proj[subject2][0]
    assert new_mid != mid2
    assert imap_view(both, "INBOX") == (11, 1)
    assert imap_view(both, "INBOX/Projects") == (3, 0)
    # a copy keeps the original
    mid1 = inbox[PLAIN][0]
    r = s.run([move_copy(1, 2, [mid1], copy=1)])
    assert r[0]["partial"] == 0
    assert len(s.messages(INBOX)) == 11 and len(s.messages(projects)) == 4
    assert imap_view(both, "INBOX/Projects") == (4, 0)
    # 05-write #18: DeleteMessages(Projects, [MID]), handle table
    # [Projects]
    raw = recorded_rop(EX05[18], 0x1E)
    r = s.run_with([projects_h], [raw[:7] + fw.u64(new_mid)])
    assert r[0]["raw"] == recorded_answer(EX05[18])
    assert by_prefix(store, "INBOX/Projects", "02") is None
    assert subject2 not in s.messages(projects)
    # again: it is gone, PartialCompletion
    r = s.run([delete_messages(2, [new_mid])])
    assert r[0]["partial"] == 1
    # hard delete, and a MID of another folder is not this one's
    html = inbox["HTML only message"][0]
    r = s.run([delete_messages(1, [mid1], hard=True),
               delete_messages(2, [html])])
    assert r[0]["raw"] == bytes([0x91, 1, 0, 0, 0, 0, 0])
    assert r[1]["partial"] == 1
    assert by_prefix(store, "INBOX", "01") is None
    assert by_prefix(store, "INBOX", "03") is not None
    assert imap_view(both, "INBOX") == (10, 1)
    # a move into a slot holding no object: ecDstNullObject
    r = s.run([move_copy(1, 7, [html])], expect_ok=False)
    assert (r[0]["rv"], r[0]["dest"]) == (DST_NULL, 7)
    assert by_prefix(store, "INBOX", "03") is not None
    s.close()


def test_empty_folder(both):
    s = Session(both)
    store = both.store
    projects = s.folders(INBOX)["Projects"]
    s.run([open_folder(0, 1, INBOX), create_folder(1, 2, "Keep")])
    r = s.run([open_folder(0, 3, projects), empty_folder(3)])
    assert r[1]["raw"] == bytes([0x58, 3, 0, 0, 0, 0, 0])
    assert files(store, "INBOX/Projects") == {}
    assert s.messages(projects) == {}
    assert imap_view(both, "INBOX/Projects") == (0, 0)
    # messages only: the folder and the Inbox's other folders stay
    assert set(s.folders(INBOX)) == {"Projects", "Keep"}
    assert len(files(store, "INBOX")) == 12
    s.close()


def test_create_and_delete_folder(both):
    s = Session(both)
    store = both.store
    projects = s.folders(INBOX)["Projects"]
    s.run([open_folder(0, 1, INBOX)])
    inbox_h = s.h[1]
    # 06-folders #4: CreateFolder("Temp") in the Inbox, with the handle
    # table it had: [Inbox, -]
    raw = recorded_rop(EX06[4], 0x1C)
    r = s.run_with([inbox_h, NONE], [raw])
    want = recorded_answer(EX06[4])
    assert r[0]["raw"][:6] == want[:6] and len(r[0]["raw"]) == 15
    assert r[0]["existing"] == 0
    assert r[0]["handles"][1] != NONE
    temp = r[0]["fid"]
    assert os.path.isdir(os.path.join(store, "INBOX", "Temp", "cur"))
    assert s.folders(INBOX) == {"Projects": projects, "Temp": temp}
    imap = imaplib.IMAP4("127.0.0.1", both.port["imap"])
    imap.login(USER, PASSWORD)
    typ, data = imap.list()
    assert any(d.endswith(b"INBOX/Temp") or d.endswith(b'INBOX/Temp"')
               for d in data), data
    imap.logout()
    # 06-folders #7: the same name again: MAPI_E_COLLISION, as recorded
    r = s.run_with([inbox_h, NONE], [recorded_rop(EX06[7], 0x1C)],
                   expect_ok=False)
    assert r[0]["raw"] == recorded_answer(EX06[7])
    assert r[0]["handles"][1] == NONE
    r = s.run([create_folder(1, 2, "projects")], expect_ok=False)
    assert r[0]["rv"] == COLLISION
    # 06-folders #8: OpenExisting opens it, IsExistingFolder still 0
    r = s.run_with([inbox_h, NONE], [recorded_rop(EX06[8], 0x1C)])
    want = recorded_answer(EX06[8])
    assert r[0]["raw"][:6] == want[:6] and len(r[0]["raw"]) == len(want)
    assert (r[0]["fid"], r[0]["existing"]) == (projects, 0)
    # 06-folders #9-10: DeleteFolder(0x15, Temp), twice, both succeed
    raw = recorded_rop(EX06[9], 0x1D)
    for _ in range(2):
        r = s.run_with([inbox_h], [raw[:4] + fw.u64(temp)])
        assert r[0]["raw"] == recorded_answer(EX06[9])
    assert not os.path.exists(os.path.join(store, "INBOX", "Temp"))
    assert s.folders(INBOX) == {"Projects": projects}
    # a name the store cannot hold
    r = s.run([create_folder(1, 2, "a/b"), create_folder(1, 2, ".x")],
              expect_ok=False)
    assert [d["rv"] for d in r] == [0x80070057] * 2
    # a folder made anew under a deleted one's name has a new FID
    r = s.run([create_folder(1, 2, "Temp")])
    assert r[0]["fid"] != temp
    s.close()


def test_delete_folder_flags(both):
    s = Session(both)
    store = both.store
    projects = s.folders(INBOX)["Projects"]
    r = s.run([open_folder(0, 1, INBOX), open_folder(0, 2, projects),
               create_folder(2, 3, "Sub")])
    # not empty, no DEL_MESSAGES: kept, PartialCompletion
    r = s.run([delete_folder(1, 0x00, projects)])
    assert r[0]["raw"] == bytes([0x1D, 1, 0, 0, 0, 0, 1])
    r = s.run([delete_folder(1, 0x01, projects)])
    assert r[0]["partial"] == 1
    assert os.path.isdir(os.path.join(store, "INBOX", "Projects", "Sub"))
    assert len(files(store, "INBOX/Projects")) == 2
    # a folder that is not the parent's child; a special folder
    r = s.run([delete_folder(2, 0x15, projects)], expect_ok=False)
    assert r[0]["rv"] == NOT_FOUND
    r = s.run([open_folder(0, 4, IPM), delete_folder(4, 0x15, INBOX)],
              expect_ok=False)
    assert r[1]["rv"] == NO_ACCESS
    assert len(files(store, "INBOX")) == 12
    # both flags: the folder, its messages and its sub-folders go
    r = s.run([delete_folder(1, 0x05, projects)])
    assert r[0]["partial"] == 0
    assert not os.path.exists(os.path.join(store, "INBOX", "Projects"))
    assert s.folders(INBOX) == {}
    assert imap_view(both, "INBOX") == (12, 1)
    # the folder object of the deleted one: not found any more
    r = s.run([empty_folder(2)], expect_ok=False)
    assert r[0]["rv"] == NOT_FOUND
    s.close()


def test_move_folder(both, workdir):
    s = Session(both)
    store = both.store
    projects = s.folders(INBOX)["Projects"]
    r = s.run([open_folder(0, 1, IPM), create_folder(1, 2, "Work"),
               create_folder(2, 3, "Old")])
    work, old = r[1]["fid"], r[2]["fid"]
    mids = {k: v[0] for k, v in s.messages(projects).items()}
    # Projects (with its messages) into Work, renamed
    r = s.run([open_folder(0, 4, INBOX), open_folder(0, 5, work)])
    r = s.run([move_folder(4, 5, projects, "Archive")])
    assert r[0]["raw"] == bytes([0x35, 4, 0, 0, 0, 0, 0])
    assert not os.path.exists(os.path.join(store, "INBOX", "Projects"))
    assert len(files(store, "Work/Archive")) == 2
    # the FID stays, and so do the MIDs of its messages
    assert s.folders(work) == {"Old": old, "Archive": projects}
    assert {k: v[0] for k, v in s.messages(projects).items()} == mids
    assert imap_view(both, "Work/Archive") == (2, 0)
    # Work (with Old and Archive) renamed in place
    r = s.run([move_folder(1, 1, work, "Jobs")])
    assert os.path.isdir(os.path.join(store, "Jobs", "Archive", "cur"))
    assert s.folders(IPM)["Jobs"] == work
    assert s.folders(work) == {"Old": old, "Archive": projects}
    # a name that is there; into its own sub-folder; a special folder
    r = s.run([open_folder(0, 2, work), open_folder(0, 3, old)])
    r = s.run([move_folder(2, 2, old, "archive"),
               move_folder(1, 3, work, "Loop"),
               move_folder(1, 2, INBOX, "Mail")], expect_ok=False)
    assert [d["rv"] for d in r] == [COLLISION, FOLDER_CYCLE, NO_ACCESS]
    r = s.run([move_folder(1, 2, md.fid(0x0A), "Mail")], expect_ok=False)
    assert r[0]["rv"] == NO_ACCESS
    assert os.path.isdir(os.path.join(store, "INBOX", "cur"))
    s.close()
    # the ids outlive a restart
    check_log(both, both.stop())
    again = Server(store, workdir, protocols=("mapi",))
    try:
        s = Session(again)
        assert s.folders(IPM)["Jobs"] == work
        assert s.folders(work) == {"Old": old, "Archive": projects}
        assert {k: v[0] for k, v in s.messages(projects).items()} == mids
        s.close()
    finally:
        check_log(again, again.stop())
