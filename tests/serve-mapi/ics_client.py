"""ics_client.py - what the ICS and notification tests of `mailfs serve
--mapi` share: ROP requests built by hand (MS-OXCROPS 2.2.13, 2.2.12.3,
2.2.14), their responses read back, and a FastTransfer stream reader
(MS-OXCFXICS 2.2.4) and IDSET decoder (2.2.2.4-6) written for the tests,
apart from the C codecs.  The reader is proven against the stream a real
server sent (08-ics.json) before it judges ours.
"""

import base64
import struct

import fakemapi_wire as fw
import mapi_decode as md
from conftest import Client, trace

EX01 = trace("01-connect-logon")["exchanges"]
CONNECT, LOGON = EX01[0], EX01[1]
PATH = "/mapi/emsmdb/?MailboxId=whatever@example.test"
INBOX = md.fid(0x0D)
NO_HANDLE = 0xFFFFFFFF

# ---- requests ----


def headers(rtype, n=1):
    return [("Content-Type", "application/mapi-http"),
            ("X-RequestType", rtype),
            ("X-RequestId", "{a0000011-0000-4000-8000-000000000011}:%d" % n),
            ("X-ClientInfo", "{a0000011-0000-4000-8000-000000000011}")]


def execute_body(rops, handles):
    payload = fw.build_payload(rops, handles)
    ext = (fw.u16(0) + fw.u16(4) + fw.u16(len(payload)) +
           fw.u16(len(payload)) + payload)
    return (fw.u32(0) + fw.u32(len(ext)) + ext + fw.u32(0x10008) +
            fw.u32(0))


def open_folder(fid, hin=0, hout=1):
    return bytes([0x02, 0, hin, hout]) + fw.u64(fid) + b"\0"


def sync_configure(hin=1, hout=2, flags=0x2129, extra=0x0F, tags=(),
                   stype=0x01, restriction=b""):
    return (bytes([0x70, 0, hin, hout, stype, 0x01]) + fw.u16(flags) +
            fw.u16(len(restriction)) + restriction + fw.u32(extra) +
            fw.u16(len(tags)) + b"".join(fw.u32(t) for t in tags))


def upload(prop, data, h=0, pieces=1):
    out = bytes([0x75, 0, h]) + fw.u32(prop) + fw.u32(len(data))
    step = max(1, -(-len(data) // pieces))
    for i in range(0, len(data), step):
        chunk = data[i:i + step]
        out += bytes([0x76, 0, h]) + fw.u32(len(chunk)) + chunk
    return out + bytes([0x77, 0, h])


def get_buffer(h=0, size=0xBABE, maximum=0xFFFF):
    out = bytes([0x4E, 0, h]) + fw.u16(size)
    if size == 0xBABE:
        out += fw.u16(maximum)
    return out


def register(types, fid=INBOX, whole=False, hin=0, hout=1, mid=0):
    out = bytes([0x29, 0, hin, hout, types, 0, 1 if whole else 0])
    if not whole:
        out += fw.u64(fid) + fw.u64(mid)
    return out


def release(h):
    return bytes([0x01, 0, h])

# ---- responses ----


def read_responses(payload):
    """The responses of a ROP buffer, then the trailing RopNotify and
    RopPending entries, as dicts; and the handle table."""
    rops, handles = fw.split_payload(payload)
    rd = fw.Rd(rops)
    out = []
    while rd.left():
        rid = rd.u8()
        if rid == 0x2A:
            out.append(read_notify(rd))
            continue
        if rid == 0x6E:
            out.append({"id": rid, "session": rd.u16()})
            continue
        if rid == 0xFF:
            out.append({"id": rid, "size": rd.u16(), "req": rd.take(
                rd.left())})
            continue
        d = {"id": rid, "index": rd.u8(), "rv": rd.u32()}
        out.append(d)
        if d["rv"]:
            continue
        if rid == 0xFE:
            md._logon(rd, d)
        elif rid == 0x02:
            d["has_rules"], d["ghosted"] = rd.u8(), rd.u8()
            assert not d["ghosted"]
        elif rid == 0x4E:
            d["status"], d["progress"], d["total"] = (rd.u16(), rd.u16(),
                                                      rd.u16())
            d["reserved"] = rd.u8()
            d["buf"] = rd.take(rd.u16())
        elif rid not in (0x70, 0x75, 0x76, 0x77, 0x29):
            raise fw.WireError("response 0x%02X not read here" % rid)
    return out, handles


def read_notify(rd):
    """RopNotify (MS-OXCNOTIF 2.2.1.4.1.2) for the object events this
    server sends."""
    d = {"id": 0x2A, "handle": rd.u32(), "logon": rd.u8()}
    flags = rd.u16()
    d["flags"] = flags
    kind = flags & 0x0FFF
    message = bool(flags & 0x8000)
    d["fid"] = rd.u64()
    if message:
        d["mid"] = rd.u64()
    if kind in (0x0004, 0x0008, 0x0020, 0x0040) and not message:
        d["parent"] = rd.u64()
    if kind in (0x0004, 0x0010):
        n = rd.u16()
        d["tags"] = [rd.u32() for _ in range(n if n != 0xFFFF else 0)]
    if flags & 0x1000:
        d["total"] = rd.u32()
    if flags & 0x2000:
        d["unread"] = rd.u32()
    if kind == 0x0002:
        d["message_flags"] = rd.u32()
        d["unicode"] = rd.u8()
        d["class"] = (rd.utf16z().decode("utf-16-le") if d["unicode"]
                      else rd.asciiz().decode())
    return d


class Session:
    """A Connect, a Logon, and Executes on it."""

    def __init__(self, server):
        self.c = Client(server)
        assert self.c.replay(CONNECT).header("X-ResponseCode") == "0"
        self.n = 1
        rops, _ = md.request_rops(base64.b64decode(
            LOGON["request"]["body_b64"]))
        res, handles = self.execute(rops[0]["raw"], [NO_HANDLE])
        assert res[0]["rv"] == 0
        self.logon = handles[0]

    def execute(self, rops, handles):
        self.n += 1
        reply = self.c.post(PATH, headers("Execute", self.n),
                            execute_body(rops, handles))
        assert reply.header("X-ResponseCode") == "0", reply.body
        payload, status, error = fw.parse_execute_response(reply.binary())
        assert (status, error) == (0, 0)
        return read_responses(payload)

    def close(self):
        self.c.close()

# ---- the FastTransfer stream ----


MARKERS = {
    0x40090003: "StartTopFld", 0x400A0003: "StartSubFld",
    0x400B0003: "EndFolder", 0x400C0003: "StartMessage",
    0x40100003: "StartFAIMsg", 0x400D0003: "EndMessage",
    0x40030003: "StartRecip", 0x40040003: "EndToRecip",
    0x40000003: "NewAttach", 0x400E0003: "EndAttach",
    0x40010003: "StartEmbed", 0x40020003: "EndEmbed",
    0x40120003: "IncrSyncChg", 0x407D0003: "IncrSyncChgPartial",
    0x40130003: "IncrSyncDel", 0x40140003: "IncrSyncEnd",
    0x40150003: "IncrSyncMessage", 0x402F0003: "IncrSyncRead",
    0x403A0003: "IncrSyncStateBegin", 0x403B0003: "IncrSyncStateEnd",
    0x4074000B: "IncrSyncProgressMode",
    0x4075000B: "IncrSyncProgressPerMsg",
}
SIZED = {0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8,
         0x000A: 4, 0x000B: 2, 0x0014: 8, 0x0040: 8, 0x0048: 16}
COUNTED = (0x001E, 0x001F, 0x0102, 0x000D, 0x00FB)
IDSET_GIVEN = 0x40170003
FX_DEL_PROP = 0x40160003


def fx_elements(data):
    """The elements of a whole stream: ("m", name) or ("p", tag, raw)."""
    rd = fw.Rd(data)
    out = []
    while rd.left():
        tag = rd.u32()
        if tag in MARKERS:
            out.append(("m", MARKERS[tag]))
            continue
        ptype, pid = tag & 0xFFFF, tag >> 16
        if pid >= 0x8000:
            rd.take(16)
            if rd.u8() == 0:
                rd.u32()
            else:
                rd.utf16z()
        if tag == IDSET_GIVEN or ptype in COUNTED:
            raw = rd.take(rd.u32())
        elif ptype in SIZED:
            raw = rd.take(SIZED[ptype])
        elif ptype & 0x1000 and (ptype & 0x0FFF) in SIZED:
            raw = rd.take(rd.u32() * SIZED[ptype & 0x0FFF])
        elif ptype & 0x1000 and (ptype & 0x0FFF) in COUNTED:
            raw = [rd.take(rd.u32()) for _ in range(rd.u32())]
        else:
            raise fw.WireError("type 0x%04X at %d" % (ptype, rd.pos - 4))
        out.append(("p", tag, raw))
    return out


def u(raw, tag):
    t = tag & 0xFFFF
    if t == 0x0003:
        return struct.unpack("<i", raw)[0]
    if t in (0x0014, 0x0040):
        return struct.unpack("<Q", raw)[0]
    if t == 0x000B:
        return struct.unpack("<H", raw)[0]
    if t == 0x001F:
        return raw[:-2].decode("utf-16-le")
    if t == 0x001E:
        return raw.rstrip(b"\0").decode("latin-1")
    return raw


def contents_sync(data):
    """A contentsSync stream (MS-OXCFXICS 2.2.4.3.20) as: the changes,
    each {"header": {tag: value}, "props": {tag: value}, "recips": n,
    "attach": n}; the deletions, read-state and state properties (tag ->
    raw bytes).  Raises when the elements are out of their places."""
    el = fx_elements(data)
    changes, dels, reads, state = [], {}, {}, {}
    i = 0

    def props(i, into):
        # MetaTagFXDelProp (before the recipients and the attachments)
        # is no property of the message
        while i < len(el) and el[i][0] == "p" and el[i][1] != FX_DEL_PROP:
            into[el[i][1]] = u(el[i][2], el[i][1])
            i += 1
        return i

    while i < len(el) and el[i] == ("m", "IncrSyncChg"):
        c = {"header": {}, "props": {}, "recips": 0, "attach": 0}
        i = props(i + 1, c["header"])
        assert el[i] == ("m", "IncrSyncMessage"), el[i]
        i = props(i + 1, c["props"])
        depth = 0
        while i < len(el):
            e = el[i]
            if e == ("m", "StartRecip") and depth == 0:
                c["recips"] += 1
            if e == ("m", "NewAttach") and depth == 0:
                c["attach"] += 1
            if e in (("m", "StartEmbed"),):
                depth += 1
            if e in (("m", "EndEmbed"),):
                depth -= 1
            if depth == 0 and e[0] == "m" and e[1] in (
                    "IncrSyncChg", "IncrSyncDel", "IncrSyncRead",
                    "IncrSyncStateBegin"):
                break
            i += 1
        changes.append(c)
    for name, into in (("IncrSyncDel", dels), ("IncrSyncRead", reads)):
        if i < len(el) and el[i] == ("m", name):
            i += 1
            while i < len(el) and el[i][0] == "p":
                into[el[i][1]] = el[i][2]
                i += 1
    assert el[i] == ("m", "IncrSyncStateBegin"), el[i]
    i += 1
    while el[i][0] == "p":
        state[el[i][1]] = el[i][2]
        i += 1
    assert el[i:] == [("m", "IncrSyncStateEnd"), ("m", "IncrSyncEnd")], \
        el[i:]
    return changes, dels, reads, state

# ---- IDSETs ----


def globset(rd):
    """The GLOBCNTs of one GLOBSET (MS-OXCFXICS 2.2.2.5) as a set."""
    stack, ids = [], set()
    while True:
        cmd = rd.u8()
        if cmd == 0x00:
            assert not stack, stack
            return ids
        if 0x01 <= cmd <= 0x06:
            stack.append(rd.take(cmd))
            common = b"".join(stack)
            assert len(common) <= 6
            if len(common) == 6:
                ids.add(int.from_bytes(common, "big"))
                stack.pop()
        elif cmd == 0x50:
            stack.pop()
        elif cmd == 0x42:
            common = b"".join(stack)
            assert len(common) == 5
            start, mask = rd.u8(), rd.u8()
            base = int.from_bytes(common + bytes([start]), "big")
            ids.add(base)
            for bit in range(8):
                if mask & (1 << bit):
                    ids.add(base + bit + 1)
        elif cmd == 0x52:
            common = b"".join(stack)
            n = 6 - len(common)
            lo = int.from_bytes(common + rd.take(n), "big")
            hi = int.from_bytes(common + rd.take(n), "big")
            assert lo <= hi and hi - lo < 1 << 20, (lo, hi)
            ids.update(range(lo, hi + 1))
        else:
            raise fw.WireError("GLOBSET command 0x%02X" % cmd)


def idset(raw, by_guid):
    """{replica key: set of GLOBCNTs}."""
    rd = fw.Rd(raw)
    out = {}
    while rd.left():
        key = rd.take(16) if by_guid else rd.u16()
        out.setdefault(key, set()).update(globset(rd))
    return out


def counter(wire_id):
    """The GLOBCNT of an id held as the little-endian uint64 of its
    bytes."""
    return int.from_bytes(struct.pack("<Q", wire_id)[2:], "big")


def download(sess, state=None, flags=0x2129, extra=0x0F, tags=(),
             maximum=0xFFFF, pieces=1):
    """One whole contents download of the Inbox with `state` (tag ->
    bytes) uploaded: (the stream, the GetBuffer responses)."""
    res, handles = sess.execute(open_folder(INBOX) + sync_configure(
        flags=flags, extra=extra, tags=tags),
        [sess.logon, NO_HANDLE, NO_HANDLE])
    assert [r["rv"] for r in res] == [0, 0], res
    h = handles[2]
    if state:
        rops = b"".join(upload(p, v, pieces=pieces)
                        for p, v in state.items())
        res, _ = sess.execute(rops, [h])
        assert all(r["rv"] == 0 for r in res), res
    stream, pieces_r = b"", []
    for _ in range(10000):
        res, _ = sess.execute(get_buffer(maximum=maximum), [h])
        r = res[0]
        assert r["rv"] == 0, r
        pieces_r.append(r)
        stream += r["buf"]
        if r["status"] == 0x0003:
            break
        assert r["status"] == 0x0001, r
    sess.execute(release(0) + release(1), [h, handles[1]])
    return stream, pieces_r


def hierarchy_sync(data):
    """A hierarchySync stream (MS-OXCFXICS 2.2.4.3.18): the folder
    changes (tag -> value, in their order), the deletions and the
    state."""
    el = fx_elements(data)
    changes, dels, state = [], {}, {}
    i = 0
    while i < len(el) and el[i] == ("m", "IncrSyncChg"):
        c = {}
        i += 1
        while el[i][0] == "p":
            c[el[i][1]] = u(el[i][2], el[i][1])
            i += 1
        changes.append(c)
    if el[i] == ("m", "IncrSyncDel"):
        i += 1
        while el[i][0] == "p":
            dels[el[i][1]] = el[i][2]
            i += 1
    assert el[i] == ("m", "IncrSyncStateBegin"), el[i]
    i += 1
    while el[i][0] == "p":
        state[el[i][1]] = el[i][2]
        i += 1
    assert el[i:] == [("m", "IncrSyncStateEnd"), ("m", "IncrSyncEnd")]
    return changes, dels, state


def download_hierarchy(sess, fid, state=None):
    res, handles = sess.execute(open_folder(fid) + sync_configure(
        stype=0x02, flags=0x0001, extra=0x01),
        [sess.logon, NO_HANDLE, NO_HANDLE])
    assert [r["rv"] for r in res] == [0, 0], res
    h = handles[2]
    if state:
        res, _ = sess.execute(b"".join(upload(p, v)
                                       for p, v in state.items()), [h])
        assert all(r["rv"] == 0 for r in res), res
    stream = b""
    while True:
        res, _ = sess.execute(get_buffer(), [h])
        assert res[0]["rv"] == 0, res
        stream += res[0]["buf"]
        if res[0]["status"] == 0x0003:
            break
    sess.execute(release(0) + release(1), [h, handles[1]])
    return stream
