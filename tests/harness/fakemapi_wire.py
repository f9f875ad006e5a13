"""fakemapi_wire.py - the byte layouts the fake MAPI over HTTP server reads
and writes: the EMSMDB request and response bodies of [MS-OXCMAPIHTTP]
2.2.4, RPC_HEADER_EXT ([MS-OXCRPC] 2.2.2.1), the ROP buffer and each ROP
request of [MS-OXCROPS] 2.2, and the property values of [MS-OXCDATA] 2.11
as they travel in ROP buffers.

A second reading of these structures, written apart from the C codecs on
purpose: a test peer that shares its reading with the code under test
would agree with it on every mistake.  Standard library only.
"""

import struct


class WireError(ValueError):
    """A buffer that does not hold what its layout promises."""


class Rd:
    """A bounded little-endian reader: every read past the end raises."""

    def __init__(self, data, pos=0, end=None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def left(self):
        return self.end - self.pos

    def take(self, n):
        if n < 0 or self.pos + n > self.end:
            raise WireError("%d bytes wanted at %d, %d left"
                            % (n, self.pos, self.left()))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("<H", self.take(2))[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def asciiz(self):
        end = self.data.find(b"\0", self.pos, self.end)
        if end < 0:
            raise WireError("unterminated 8-bit string at %d" % self.pos)
        out = self.data[self.pos:end]
        self.pos = end + 1
        return out

    def utf16z(self):
        p = self.pos
        while True:
            if p + 2 > self.end:
                raise WireError("unterminated UTF-16 string at %d" % self.pos)
            if self.data[p:p + 2] == b"\0\0":
                break
            p += 2
        out = self.data[self.pos:p]
        self.pos = p + 2
        return out


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v)


# property types ([MS-OXCDATA] 2.11.1) and their fixed sizes in ROP buffers
FIXED = {0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8,
         0x000A: 4, 0x000B: 1, 0x0014: 8, 0x0040: 8, 0x0048: 16}
PT_ERROR = 0x000A
PT_UNSPECIFIED = 0x0000


def skip_value(rd, ptype):
    """Step over one property value of type ptype (ROP buffer forms) and
    return its bytes."""
    start = rd.pos
    if ptype == PT_UNSPECIFIED:
        ptype = rd.u16()
        skip_value(rd, ptype)
    elif ptype in FIXED:
        rd.take(FIXED[ptype])
    elif ptype == 0x001E:
        rd.asciiz()
    elif ptype == 0x001F:
        rd.utf16z()
    elif ptype in (0x0102, 0x00FB):
        rd.take(rd.u16())
    elif ptype & 0x1000:
        base = ptype & ~0x1000
        for _ in range(rd.u32()):
            skip_value(rd, base)
    else:
        raise WireError("property type 0x%04X not understood" % ptype)
    return rd.data[start:rd.pos]


def read_row(rd, tags):
    """A PropertyRow ([MS-OXCDATA] 2.8.1) in the columns tags: returns
    {tag: ("v", bytes) | ("e", code) | ("n", None)} and the flag byte."""
    flag = rd.u8()
    out = {}
    for tag in tags:
        ptype = tag & 0xFFFF
        if flag == 0:
            out[tag] = ("v", skip_value(rd, ptype))
            continue
        f = rd.u8()
        if f == 0:
            out[tag] = ("v", skip_value(rd, ptype))
        elif f == 0x0A:
            out[tag] = ("e", rd.u32())
        elif f == 0x01:
            out[tag] = ("n", None)
        else:
            raise WireError("property flag 0x%02X" % f)
    if flag not in (0, 1):
        raise WireError("row flag 0x%02X" % flag)
    return out, flag


def write_row(values, tags):
    """The PropertyRow of values (as read_row gives them) in tags: a
    standard row when every value is there, else a flagged row."""
    if all(values[t][0] == "v" for t in tags):
        return b"\0" + b"".join(values[t][1] for t in tags)
    out = [b"\x01"]
    for t in tags:
        kind, v = values[t]
        if kind == "v":
            out.append(b"\0" + v)
        elif kind == "e":
            out.append(b"\x0a" + u32(v))
        else:
            out.append(b"\x01")
    return b"".join(out)


def read_typed_string(rd):
    kind = rd.u8()
    if kind == 2 or kind == 3:
        rd.asciiz()
    elif kind == 4:
        rd.utf16z()
    elif kind not in (0, 1):
        raise WireError("string type %d" % kind)


def read_recipient_rows(rd, with_rowid, count):
    rows = []
    for _ in range(count):
        start = rd.pos
        rowid = rd.u32() if with_rowid else None
        rd.take(1 + 2 + 2)
        rd.take(rd.u16())
        rows.append((rowid, rd.data[start:rd.pos]))
    return rows


# ---- EMSMDB bodies ([MS-OXCMAPIHTTP] 2.2.4) ----

def parse_execute(body):
    """An Execute request: (flags, rop buffer bytes, MaxRopOut, aux
    bytes)."""
    rd = Rd(body)
    flags = rd.u32()
    ropbuf = rd.take(rd.u32())
    maxout = rd.u32()
    aux = rd.take(rd.u32())
    return flags, ropbuf, maxout, aux


def open_rpc_ext(ropbuf):
    """The payload of a single RPC_HEADER_EXT, refusing what the fake does
    not do: compression, obfuscation, chained headers."""
    rd = Rd(ropbuf)
    version, flags, size, actual = rd.u16(), rd.u16(), rd.u16(), rd.u16()
    if version != 0:
        raise WireError("RPC_HEADER_EXT version %d" % version)
    if flags & 0x0003:
        raise WireError("RPC_HEADER_EXT flags 0x%04X: compressed or XOR "
                        "payloads are not supported by this server" % flags)
    if not flags & 0x0004:
        raise WireError("RPC_HEADER_EXT without Last: chained payloads are "
                        "not supported by this server")
    if size != actual:
        raise WireError("RPC_HEADER_EXT Size %d != SizeActual %d"
                        % (size, actual))
    return rd.take(size)


def split_payload(payload):
    """RopSize, the ROP bytes and the handle table of a payload."""
    rd = Rd(payload)
    ropsize = rd.u16()
    if ropsize < 2 or ropsize > len(payload):
        raise WireError("RopSize %d in a payload of %d" % (ropsize,
                                                           len(payload)))
    rops = payload[2:ropsize]
    rest = payload[ropsize:]
    if len(rest) % 4:
        raise WireError("handle table of %d bytes" % len(rest))
    handles = list(struct.unpack("<%dI" % (len(rest) // 4), rest))
    return rops, handles


def build_payload(rops, handles):
    return (u16(len(rops) + 2) + rops +
            b"".join(u32(h) for h in handles))


def build_execute_response(payload, status=0, error=0):
    ropbuf = u16(0) + u16(0x0004) + u16(len(payload)) + \
        u16(len(payload)) + payload
    return (u32(status) + u32(error) + u32(0) + u32(len(ropbuf)) + ropbuf +
            u32(0))


def parse_execute_response(binary):
    """(payload, status, error) of an Execute response body."""
    rd = Rd(binary)
    status, error = rd.u32(), rd.u32()
    rd.u32()
    ropbuf = rd.take(rd.u32())
    return (open_rpc_ext(ropbuf) if ropbuf else b""), status, error


# ---- ROP requests ([MS-OXCROPS] 2.2) ----
# Each entry: RopId -> (name, reader).  A reader gets the Rd just after
# RopId and LogonId and returns a dict with "in" (the input handle index),
# "out" when the ROP creates an object, "resp" for a ResponseHandleIndex,
# and the ROP's other fields.

def _r_release(rd):
    return {"in": rd.u8()}


def _r_open_folder(rd):
    return {"in": rd.u8(), "out": rd.u8(), "fid": rd.u64(),
            "mode": rd.u8()}


def _r_open_message(rd):
    return {"in": rd.u8(), "out": rd.u8(), "cpid": rd.u16(),
            "fid": rd.u64(), "mode": rd.u8(), "mid": rd.u64()}


def _r_get_table(rd):
    return {"in": rd.u8(), "out": rd.u8(), "tflags": rd.u8()}


def _r_create_message(rd):
    return {"in": rd.u8(), "out": rd.u8(), "cpid": rd.u16(),
            "fid": rd.u64(), "assoc": rd.u8()}


def _tags(rd, n):
    return tuple(rd.u32() for _ in range(n))


def _r_get_props(rd):
    d = {"in": rd.u8(), "limit": rd.u16(), "unicode": rd.u16()}
    d["tags"] = _tags(rd, rd.u16())
    return d


def _r_set_props(rd):
    d = {"in": rd.u8()}
    size = rd.u16()
    d["values"] = rd.take(size)
    return d


def _r_save_message(rd):
    return {"resp": rd.u8(), "in": rd.u8(), "flags": rd.u8()}


def _r_modify_recipients(rd):
    d = {"in": rd.u8()}
    d["tags"] = _tags(rd, rd.u16())
    rows = []
    for _ in range(rd.u16()):
        rows.append(rd.take(4 + 1) + rd.take(rd.u16()))
    d["rows"] = tuple(rows)
    return d


def _r_read_recipients(rd):
    return {"in": rd.u8(), "rowid": rd.u32(), "reserved": rd.u16()}


def _r_set_read_flag(rd):
    return {"resp": rd.u8(), "in": rd.u8(), "flags": rd.u8()}


def _r_set_columns(rd):
    d = {"in": rd.u8(), "flags": rd.u8()}
    d["tags"] = _tags(rd, rd.u16())
    return d


def _r_query_rows(rd):
    return {"in": rd.u8(), "flags": rd.u8(), "forward": rd.u8(),
            "count": rd.u16()}


def _r_in_only(rd):
    return {"in": rd.u8()}


def _r_seek_row(rd):
    return {"in": rd.u8(), "origin": rd.u8(),
            "rows": struct.unpack("<i", rd.take(4))[0], "want": rd.u8()}


def _r_create_folder(rd):
    d = {"in": rd.u8(), "out": rd.u8(), "ftype": rd.u8(),
         "unicode": rd.u8(), "existing": rd.u8(), "reserved": rd.u8()}
    if d["unicode"]:
        d["name"], d["comment"] = rd.utf16z(), rd.utf16z()
    else:
        d["name"], d["comment"] = rd.asciiz(), rd.asciiz()
    return d


def _r_delete_folder(rd):
    return {"in": rd.u8(), "flags": rd.u8(), "fid": rd.u64()}


def _r_delete_messages(rd):
    d = {"in": rd.u8(), "async": rd.u8(), "notify": rd.u8()}
    d["mids"] = tuple(rd.u64() for _ in range(rd.u16()))
    return d


def _r_open_attachment(rd):
    return {"in": rd.u8(), "out": rd.u8(), "flags": rd.u8(),
            "num": rd.u32()}


def _r_open_stream(rd):
    return {"in": rd.u8(), "out": rd.u8(), "tag": rd.u32(),
            "mode": rd.u8()}


def _r_read_stream(rd):
    d = {"in": rd.u8(), "count": rd.u16()}
    if d["count"] == 0xBABE:
        d["max"] = rd.u32()
    return d


def _r_move_copy(rd):
    d = {"in": rd.u8(), "dest": rd.u8()}
    d["mids"] = tuple(rd.u64() for _ in range(rd.u16()))
    d["async"], d["copy"] = rd.u8(), rd.u8()
    return d


def _r_open_embedded(rd):
    return {"in": rd.u8(), "out": rd.u8(), "cpid": rd.u16(),
            "mode": rd.u8()}


def _r_register_notification(rd):
    d = {"in": rd.u8(), "out": rd.u8(), "types": rd.u8(),
         "reserved": rd.u8(), "whole": rd.u8()}
    if not d["whole"]:
        d["fid"], d["mid"] = rd.u64(), rd.u64()
    return d


def _r_sync_configure(rd):
    d = {"in": rd.u8(), "out": rd.u8(), "stype": rd.u8(),
         "send": rd.u8(), "flags": rd.u16()}
    d["restriction"] = rd.take(rd.u16())
    d["extra"] = rd.u32()
    d["tags"] = _tags(rd, rd.u16())
    return d


def _r_upload_begin(rd):
    return {"in": rd.u8(), "prop": rd.u32(), "size": rd.u32()}


def _r_upload_continue(rd):
    d = {"in": rd.u8()}
    d["data"] = rd.take(rd.u32())
    return d


def _r_get_buffer(rd):
    d = {"in": rd.u8(), "size": rd.u16()}
    if d["size"] == 0xBABE:
        d["max"] = rd.u16()
    return d


def _r_logon(rd):
    d = {"out": rd.u8(), "flags": rd.u8(), "open": rd.u32(),
         "state": rd.u32()}
    d["essdn"] = rd.take(rd.u16())
    return d


ROPS = {
    0x01: ("Release", _r_release),
    0x02: ("OpenFolder", _r_open_folder),
    0x03: ("OpenMessage", _r_open_message),
    0x04: ("GetHierarchyTable", _r_get_table),
    0x05: ("GetContentsTable", _r_get_table),
    0x06: ("CreateMessage", _r_create_message),
    0x07: ("GetPropertiesSpecific", _r_get_props),
    0x0A: ("SetProperties", _r_set_props),
    0x0C: ("SaveChangesMessage", _r_save_message),
    0x0E: ("ModifyRecipients", _r_modify_recipients),
    0x0F: ("ReadRecipients", _r_read_recipients),
    0x11: ("SetMessageReadFlag", _r_set_read_flag),
    0x12: ("SetColumns", _r_set_columns),
    0x15: ("QueryRows", _r_query_rows),
    0x17: ("QueryPosition", _r_in_only),
    0x18: ("SeekRow", _r_seek_row),
    0x1C: ("CreateFolder", _r_create_folder),
    0x1D: ("DeleteFolder", _r_delete_folder),
    0x1E: ("DeleteMessages", _r_delete_messages),
    0x21: ("GetAttachmentTable", _r_get_table),
    0x22: ("OpenAttachment", _r_open_attachment),
    0x29: ("RegisterNotification", _r_register_notification),
    0x2B: ("OpenStream", _r_open_stream),
    0x2C: ("ReadStream", _r_read_stream),
    0x33: ("MoveCopyMessages", _r_move_copy),
    0x46: ("OpenEmbeddedMessage", _r_open_embedded),
    0x4E: ("FastTransferSourceGetBuffer", _r_get_buffer),
    0x70: ("SynchronizationConfigure", _r_sync_configure),
    0x75: ("SynchronizationUploadStateStreamBegin", _r_upload_begin),
    0x76: ("SynchronizationUploadStateStreamContinue", _r_upload_continue),
    0x77: ("SynchronizationUploadStateStreamEnd", _r_in_only),
    0xFE: ("Logon", _r_logon),
}
CREATES = {0x02, 0x03, 0x04, 0x05, 0x06, 0x1C, 0x21, 0x22, 0x29, 0x2B, 0x46,
           0x70, 0xFE}


def parse_rops(rops):
    """The ROP requests of a ROP buffer, in order: dicts with "id",
    "name", "logon", "raw" and the fields of ROPS.  A ROP this reader
    does not know ends the list, marked "unknown"."""
    rd = Rd(rops)
    out = []
    while rd.left():
        start = rd.pos
        rid = rd.u8()
        if rid not in ROPS:
            # its length is unknown, so nothing after it can be read:
            # it ends the list, to be refused with what came before
            # answered
            index = rops[start + 2] if start + 2 < len(rops) else 0
            out.append({"id": rid, "name": "ROP 0x%02X" % rid,
                        "unknown": True, "in": index, "logon": 0,
                        "raw": rops[start:]})
            break
        logon = rd.u8()
        d = ROPS[rid][1](rd)
        d.update(id=rid, name=ROPS[rid][0], logon=logon,
                 raw=rops[start:rd.pos])
        out.append(d)
    return out


def fail(rid, index, code):
    """A failed ROP as gromox answers every one: RopId, HandleIndex,
    ReturnValue and nothing more."""
    return bytes([rid, index]) + u32(code)


def response_index(req):
    """The handle index a ROP's response names."""
    if "out" in req:
        return req["out"]
    if "resp" in req:
        return req["resp"]
    return req["in"]
