"""mapi_decode.py - the EMSMDB and ROP responses of the server read back
with fakemapi_wire.py's reader (written apart from the C codecs), into
plain dicts the tests compare: the recorded answers of a real server go
through the same reading, so that layouts can be set side by side.
"""

import struct

import fakemapi_wire as fw


def connect_response(binary):
    rd = fw.Rd(binary)
    d = {"status": rd.u32()}
    if d["status"]:
        d["aux"] = rd.take(rd.u32())
        assert rd.left() == 0
        return d
    d.update(error=rd.u32(), polls_max=rd.u32(), retry_count=rd.u32(),
             retry_delay=rd.u32())
    d["dn_prefix"] = rd.asciiz()
    d["display_name"] = rd.utf16z()
    d["aux"] = rd.take(rd.u32())
    if rd.left():
        raise fw.WireError("%d bytes after a Connect response" % rd.left())
    return d


def simple_response(binary):
    """Disconnect: StatusCode, ErrorCode, aux."""
    rd = fw.Rd(binary)
    d = {"status": rd.u32(), "error": rd.u32()}
    d["aux"] = rd.take(rd.u32())
    if rd.left():
        raise fw.WireError("%d bytes after the response" % rd.left())
    return d


def request_rops(body):
    """The ROP requests and handle table of an Execute request body."""
    _, ropbuf, _, _ = fw.parse_execute(body)
    rops, handles = fw.split_payload(fw.open_rpc_ext(ropbuf))
    return fw.parse_rops(rops), handles


class Tables:
    """The column set of each table, by server handle, across Executes."""

    def __init__(self):
        self.cols = {}


def _logon(rd, d):
    d["logon_flags"] = rd.u8()
    d["folders"] = [rd.u64() for _ in range(13)]
    d["response_flags"] = rd.u8()
    d["mailbox_guid"] = rd.take(16)
    d["repl_id"] = rd.u16()
    d["repl_guid"] = rd.take(16)
    d["logon_time"] = rd.take(8)
    d["gwart"] = rd.u64()
    d["store_state"] = rd.u32()


def execute_response(binary, req_body, tables):
    """The ROP responses of an Execute answer to the request `req_body`:
    a list of dicts (one per ROP answered, RopRelease has none), the
    handle table, status and error code, and what was left unread (must
    be nothing)."""
    payload, status, error = fw.parse_execute_response(binary)
    reqs, _ = request_rops(req_body)
    if not payload:
        return {"status": status, "error": error, "rops": [],
                "handles": []}
    rops, handles = fw.split_payload(payload)
    rd = fw.Rd(rops)
    out = []
    for q in reqs:
        if q["id"] == 0x01:
            continue
        if not rd.left():
            break
        d = {"id": rd.u8(), "index": rd.u8(), "rv": rd.u32()}
        out.append(d)
        if d["id"] == 0xFF or d["id"] != q["id"]:
            break
        if d["rv"]:
            continue
        rid = d["id"]
        if rid == 0xFE:
            _logon(rd, d)
        elif rid == 0x02:
            d["has_rules"] = rd.u8()
            d["ghosted"] = rd.u8()
        elif rid in (0x04, 0x05):
            d["row_count"] = rd.u32()
        elif rid == 0x12:
            d["table_status"] = rd.u8()
            tables.cols[handles[q["in"]]] = q["tags"]
        elif rid == 0x15:
            d["origin"] = rd.u8()
            n = rd.u16()
            tags = tables.cols[handles[q["in"]]]
            d["rows"] = [fw.read_row(rd, tags) for _ in range(n)]
            d["tags"] = tags
        elif rid == 0x17:
            d["numerator"], d["denominator"] = rd.u32(), rd.u32()
        elif rid == 0x18:
            d["sought_less"] = rd.u8()
            d["sought"] = struct.unpack("<i", rd.take(4))[0]
        else:
            raise fw.WireError("response to ROP 0x%02X not read here" % rid)
    return {"status": status, "error": error, "rops": out,
            "handles": handles, "left": rd.left()}


def value(row, tag):
    """A column's value as a Python value: ints, str, bytes, or ("e",
    code) for an error."""
    kind, raw = row[0][tag]
    if kind != "v":
        return (kind, raw)
    t = tag & 0xFFFF
    if t == 0x0003:
        return struct.unpack("<i", raw)[0]
    if t in (0x0014, 0x0040):
        return struct.unpack("<Q", raw)[0]
    if t == 0x000B:
        return raw[0]
    if t == 0x001F:
        return raw[:-2].decode("utf-16-le")
    if t == 0x0102:
        return raw[2:]
    return raw


def fid(counter):
    """The wire's little-endian uint64 of ReplId 1 and a global counter."""
    return struct.unpack("<Q", b"\x01\x00" + counter.to_bytes(6, "big"))[0]
