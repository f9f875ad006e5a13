"""fakemapi_model.py - what the fake MAPI over HTTP server knows of the
mailbox, learnt from the recorded exchanges of a real server
(tests/data/mapi-traces), and the EMSMDB session that answers ROPs from
it ([MS-OXCROPS], [MS-OXCTABL], [MS-OXCMSG], [MS-OXCPRPT], [MS-OXCFXICS]).

The recordings are run through the same session machinery that later
answers clients, in "learning" mode: each ROP request gets a semantic key
(the ROP, the object it acts on, the table's columns and cursor or the
stream's position, its own fields, and the folders created so far), the
recorded response of that ROP is kept under the key, and the model takes
in what the response shows: table rows, property values, recipient rows,
stream bytes, the FastTransfer stream.  A client's ROP is answered with
the recorded bytes when its key was recorded, else from the model; what
neither can answer gets MAPI_E_NO_SUPPORT and a line in `unanswered`.
"""

import base64
import json
import os

from fakemapi_wire import (Rd, WireError, CREATES, read_row, write_row,
                           read_typed_string, read_recipient_rows, fail,
                           response_index, u16, u32, parse_rops,
                           split_payload, open_rpc_ext, build_payload)

TRACES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "data", "mapi-traces")
NO_SUPPORT = 0x80040102
NOT_FOUND = 0x8004010F
CALL_FAILED = 0x80004005
NULL_OBJECT = 0x000004B9
TAG_FID = 0x67480014
TAG_MID = 0x674A0014
TAG_ATTACH_NUM = 0x0E210003
READ_CAP = 32738            # the most bytes gromox puts in one ReadStream
FX_CAP = 0x7B00             # and in one FastTransfer buffer
# Exchanges that show the mailbox as it was before 05 changed it, in the
# order they were recorded (05 from its start until its first write).
LEARN = (("01-connect-logon", None), ("02-hierarchy", None),
         ("03-contents", None), ("04-read-message", None),
         ("08-ics", None), ("06-folders", None), ("05-write", 7),
         ("11-errors", 11))


class Obj:
    """A server object behind a handle: its identity and, for tables and
    streams, where its cursor is."""

    def __init__(self, ident):
        self.ident = ident
        self.cols = ()
        self.pos = 0
        self.size = None

    def state(self):
        kind = self.ident[0]
        if kind == "table":
            return (self.cols, self.pos)
        if kind in ("stream", "fx"):
            return (self.pos,)
        return ()


def _params(req, session, handles):
    skip = ("in", "out", "resp", "raw", "logon", "id", "name", "dest")
    items = tuple(sorted((k, v) for k, v in req.items() if k not in skip))
    if "dest" in req:
        dest = session.obj(handles, req["dest"])
        items += (("dest", dest.ident if dest else None),)
    return items


def parse_response(rd, req, obj):
    """One ROP response of the request req out of rd: a dict with "raw",
    "rv" and what the session and the model need of it."""
    start = rd.pos
    rid = rd.u8()
    if rid != req["id"]:
        raise WireError("response ROP 0x%02X for request 0x%02X"
                        % (rid, req["id"]))
    rd.u8()
    p = {"rv": rd.u32()}
    if p["rv"] != 0:
        p["raw"] = rd.data[start:rd.pos]
        return p
    r = rid
    if r == 0x02:
        rd.u8()
        if rd.u8():
            n = rd.u16()
            rd.u16()
            for _ in range(n):
                rd.asciiz()
    elif r in (0x03, 0x46):
        if r == 0x46:
            rd.u8()
            p["mid"] = rd.u64()
        rd.u8()
        read_typed_string(rd)
        read_typed_string(rd)
        rd.u16()
        rd.take(4 * rd.u16())
        read_recipient_rows(rd, False, rd.u8())
    elif r in (0x04, 0x05):
        p["count"] = rd.u32()
    elif r == 0x06:
        if rd.u8():
            p["mid"] = rd.u64()
    elif r == 0x07:
        p["row"], _ = read_row(rd, req["tags"])
    elif r == 0x0A:
        rd.take(10 * rd.u16())
    elif r == 0x0C:
        rd.u8()
        p["mid"] = rd.u64()
    elif r == 0x0F:
        p["rows"] = read_recipient_rows(rd, True, rd.u8())
    elif r == 0x11:
        if rd.u8():
            rd.take(25)
    elif r == 0x12:
        rd.u8()
    elif r == 0x15:
        p["origin"] = rd.u8()
        p["rows"] = [read_row(rd, obj.cols)[0] for _ in range(rd.u16())]
    elif r == 0x17:
        p["num"], p["den"] = rd.u32(), rd.u32()
    elif r == 0x18:
        rd.u8()
        p["sought"] = rd.u32()
    elif r == 0x1C:
        p["fid"] = rd.u64()
        if rd.u8():
            rd.u8()
            if rd.u8():
                n = rd.u16()
                rd.u16()
                for _ in range(n):
                    rd.asciiz()
    elif r in (0x1D, 0x1E, 0x33):
        rd.u8()
    elif r == 0x2B:
        p["size"] = rd.u32()
    elif r == 0x2C:
        p["data"] = rd.take(rd.u16())
    elif r == 0x4E:
        p["status"] = rd.u16()
        rd.take(5)
        p["data"] = rd.take(rd.u16())
    elif r == 0xFE:
        rd.take(160)
    p["raw"] = rd.data[start:rd.pos]
    return p


class Store:
    """The mailbox as the recordings show it, shared by every session of
    one fake server."""

    def __init__(self, traces=TRACES):
        self.traces = traces
        self.recorded = {}      # semantic key -> response bytes
        self.conflicts = []     # keys recorded with two different answers
        self.logon = None
        self.folders = set()
        self.rows = {}          # table ident -> {position: {tag: value}}
        self.counts = {}        # table ident -> RowCount
        self.props = {}         # object ident -> {tag: value}
        self.row_props = {}     # the same, as table rows showed them
        self.opened = {}        # message ident -> OpenMessage response
        self.recipients = {}    # message ident -> [(rowid, row bytes)]
        self.streams = {}       # stream ident -> (size, {pos: bytes})
        self.fx = {}            # fx ident -> {pos: (status, bytes)}
        self.refuse_buffers = False  # GetBuffer fails (a server that
        #                              refuses a download it configured)
        self.created = ()       # folders created since the recordings
        self.creatable = set()  # folders the recordings created
        self.exchanges = {}     # scenario -> its JSON
        self.learning = False
        for name, last in LEARN:
            self._learn(name, last)

    def scenario(self, name):
        if name not in self.exchanges:
            with open(os.path.join(self.traces, name + ".json")) as f:
                self.exchanges[name] = json.load(f)
        return self.exchanges[name]

    def _learn(self, name, last):
        session = Session(self)
        self.learning = True
        try:
            for ex in self.scenario(name)["exchanges"]:
                if last is not None and ex["seq"] > last:
                    break
                kind = dict(ex["request"]["headers"]).get("X-RequestType")
                if kind != "Execute" or ex["response"]["status"] != 200:
                    continue
                resp = ex["response"]
                if dict(resp["headers"]).get("X-ResponseCode") != "0":
                    continue
                body = base64.b64decode(ex["request"]["body_b64"])
                out = base64.b64decode(resp["body_b64"])
                out = out[resp["mh_binary_offset"]:]
                session.execute_body(body, recorded=out)
        finally:
            self.learning = False

    def keep(self, key, raw):
        have = self.recorded.get(key)
        if have is None:
            self.recorded[key] = raw
        elif have[2:] != raw[2:] and key[0] != 0xFE:
            # every Logon answer carries its own LogonTime
            self.conflicts.append(key)

    def learn(self, req, obj, p):
        """Take in what one recorded ROP response shows."""
        r = req["id"]
        if r == 0xFE and p["rv"] == 0 and self.logon is None:
            self.logon = p["raw"]
            ids = p["raw"][7:7 + 13 * 8]
            self.folders.update(int.from_bytes(ids[i:i + 8], "little")
                                for i in range(0, len(ids), 8))
        if p["rv"] != 0 or obj is None:
            return
        ident = obj.ident
        if r == 0x03:
            self.opened[("msg", req["mid"])] = p["raw"]
        elif r == 0x46:
            self.opened[("embedded", ident)] = p["raw"]
        elif r == 0x07:
            self._merge(self.props.setdefault(ident, {}), p["row"])
        elif r == 0x0F and req["rowid"] == 0:
            self.recipients[ident] = p["rows"]
        elif r == 0x15 and req["forward"]:
            table = self.rows.setdefault(ident, {})
            for i, row in enumerate(p["rows"]):
                self._merge(table.setdefault(obj.pos + i, {}), row)
                self._row_object(ident, row)
            if p["origin"] == 2:
                # the end of the table: an attachment table's only count
                self.counts.setdefault(ident, obj.pos + len(p["rows"]))
        elif r == 0x2C:
            self.streams[ident][1][obj.pos] = p["data"]
        elif r == 0x4E:
            self.fx.setdefault(ident, {})[obj.pos] = (p["status"],
                                                      p["data"])

    @staticmethod
    def _merge(have, row):
        # the first recording of a value stands: later scenarios saw a
        # mailbox that the earlier ones had already changed a little
        for tag, value in row.items():
            have.setdefault(tag, value)

    def _row_object(self, table, row):
        """A table row tells the properties of the object it stands for;
        they count less than what the object itself answered."""
        ident = None
        if TAG_FID in row and row[TAG_FID][0] == "v":
            fid = int.from_bytes(row[TAG_FID][1], "little")
            self.folders.add(fid)
            ident = ("folder", fid)
        elif TAG_MID in row and row[TAG_MID][0] == "v":
            ident = ("msg", int.from_bytes(row[TAG_MID][1], "little"))
        elif TAG_ATTACH_NUM in row and row[TAG_ATTACH_NUM][0] == "v":
            num = int.from_bytes(row[TAG_ATTACH_NUM][1], "little")
            ident = ("attach", table[2], num)
        if ident is not None:
            self._merge(self.row_props.setdefault(ident, {}), row)

    def stream_data(self, ident):
        size, parts = self.streams.get(ident, (None, {}))
        data, pos = b"", 0
        while pos in parts and parts[pos]:
            data += parts[pos]
            pos += len(parts[pos])
        return data if size is not None and len(data) == size else None

    def fx_data(self, ident):
        parts = self.fx.get(ident, {})
        data, pos = b"", 0
        while pos in parts:
            status, chunk = parts[pos]
            data += chunk
            pos += len(chunk)
            if status == 0x0003:
                return data
        return None

    def table_rows(self, ident):
        table = self.rows.get(ident, {})
        count = self.counts.get(ident)
        if count is None or any(i not in table for i in range(count)):
            return None
        return [table[i] for i in range(count)]


class Session:
    """One EMSMDB session context: the server objects behind its handles,
    numbered from 0 as gromox numbers them."""

    def __init__(self, store, unanswered=None):
        self.store = store
        self.objects = {}
        self.next_handle = 0
        self.unanswered = unanswered if unanswered is not None else []

    def obj(self, handles, index):
        if index >= len(handles):
            return None
        return self.objects.get(handles[index])

    def execute_body(self, body, recorded=None, tamper=False):
        """An Execute request body: returns the ROP payload of the answer.
        With recorded (a recorded Execute response), learn from it; with
        tamper, every QueryRows claims 3 rows more than it carries."""
        rd = Rd(body)
        rd.u32()
        ropbuf = rd.take(rd.u32())
        payload = open_rpc_ext(ropbuf)
        rops, handles = split_payload(payload)
        reqs = parse_rops(rops)
        rec = None
        if recorded is not None:
            rd2 = Rd(recorded)
            rd2.take(12)
            rec_payload = open_rpc_ext(rd2.take(rd2.u32()))
            rec_rops, _ = split_payload(rec_payload)
            rec = Rd(rec_rops)
        out = []
        handles = list(handles)
        for req in reqs:
            raw = self.rop(req, handles, rec)
            if tamper and req["id"] == 0x15 and raw[2:6] == u32(0):
                n = int.from_bytes(raw[7:9], "little") + 3
                raw = raw[:7] + u16(n) + raw[9:]
            out.append(raw)
        return build_payload(b"".join(out), handles)

    def rop(self, req, handles, rec=None):
        rid = req["id"]
        if req.get("unknown"):
            self.unanswered.append("%s: not understood; it and the ROPs "
                                   "after it were refused" % req["name"])
            return fail(rid, req["in"], NO_SUPPORT)
        if rid == 0xFE:
            obj = None
        else:
            obj = self.obj(handles, req["in"])
        if rid == 0x01:
            if obj is not None:
                del self.objects[handles[req["in"]]]
            return b""
        key = (rid, obj.ident if obj else None,
               obj.state() if obj else (), _params(req, self, handles),
               self.store.created)
        if rec is not None:
            p = parse_response(rec, req, obj)
            self.store.keep(key, p["raw"])
            self.store.learn(req, obj, p)
        else:
            raw = self.store.recorded.get(key)
            if raw is not None:
                index = response_index(req)
                raw = bytes([rid, index]) + raw[2:]
            else:
                raw = self.answer(req, obj)
            p = parse_response(Rd(raw), req, obj)
        self.effects(req, obj, p, handles)
        return p["raw"]

    def effects(self, req, obj, p, handles):
        rid = req["id"]
        if rid in CREATES:
            handles_out = 0xFFFFFFFF
            if p["rv"] == 0:
                ident = self.ident_of(req, obj, p)
                new = Obj(ident)
                if rid in (0x04, 0x05):
                    self.store.counts.setdefault(ident, p["count"])
                if rid == 0x2B:
                    new.size = p["size"]
                    if self.store.learning:
                        self.store.streams.setdefault(ident, (p["size"], {}))
                handles_out = self.next_handle
                self.next_handle += 1
                self.objects[handles_out] = new
            while len(handles) <= req["out"]:
                handles.append(0xFFFFFFFF)
            handles[req["out"]] = handles_out
            if rid == 0x1C and p["rv"] == 0:
                fid = p["fid"]
                if self.store.learning and fid not in self.store.folders:
                    self.store.creatable.add(fid)
                if fid in self.store.creatable:
                    self.store.created = tuple(sorted(
                        set(self.store.created) | {fid}))
            return
        if p["rv"] != 0 or obj is None:
            return
        if rid == 0x12:
            obj.cols = req["tags"]
        elif rid == 0x15 and not req["flags"] & 0x01:
            n = len(p["rows"])
            obj.pos += n if req["forward"] else -n
        elif rid == 0x18:
            obj.pos = self._seek(obj, req)
        elif rid in (0x2C, 0x4E):
            obj.pos += len(p["data"])
        elif rid == 0x1D:
            self.store.created = tuple(f for f in self.store.created
                                       if f != req["fid"])

    def ident_of(self, req, parent, p):
        rid = req["id"]
        pid = parent.ident if parent else None
        if rid == 0xFE:
            return ("store",)
        if rid == 0x02:
            return ("folder", req["fid"])
        if rid == 0x03:
            return ("msg", req["mid"])
        if rid == 0x06:
            return ("msg", p.get("mid"))
        if rid in (0x04, 0x05, 0x21):
            return ("table", rid, pid, req["tflags"] & ~0x40)
        if rid == 0x1C:
            return ("folder", p["fid"])
        if rid == 0x22:
            return ("attach", pid, req["num"])
        if rid == 0x2B:
            return ("stream", pid, req["tag"])
        if rid == 0x46:
            return ("embedded", pid)
        if rid == 0x70:
            return ("fx", pid, req["stype"], req["send"], req["flags"],
                    req["restriction"], req["extra"], req["tags"])
        return ("notify", pid, req["types"])

    def _count(self, obj):
        rows = self.store.table_rows(obj.ident)
        if rows is not None:
            return len(rows)
        return self.store.counts.get(obj.ident, 0)

    def _seek(self, obj, req):
        base = (0, obj.pos, self._count(obj))[min(req["origin"], 2)]
        return max(0, min(self._count(obj), base + req["rows"]))

    # ---- answers from the model ----

    def unknown(self, req, why):
        self.unanswered.append("%s: %s" % (req["name"], why))
        return fail(req["id"], response_index(req), NO_SUPPORT)

    def answer(self, req, obj):
        rid = req["id"]
        index = response_index(req)
        ok = bytes([rid, index]) + u32(0)
        if rid != 0xFE and obj is None:
            return fail(rid, index, NULL_OBJECT)
        st = self.store
        if rid == 0xFE:
            return bytes([rid, index]) + st.logon[2:]
        if rid == 0x29:
            return ok               # RegisterNotification, as 07 #3
        if rid == 0x02:
            fid = req["fid"]
            known = fid in st.folders or ("folder", fid) in st.props
            if fid in st.creatable and fid not in st.created:
                known = False       # created and deleted by 06 again
            if known:
                return ok + b"\0\0"
            return fail(rid, index, NOT_FOUND)
        if rid in (0x03, 0x46):
            key = (("msg", req["mid"]) if rid == 0x03
                   else ("embedded", obj.ident))
            if key in st.opened:
                return bytes([rid, index]) + st.opened[key][2:]
            if rid == 0x03 and key not in st.props \
                    and key not in st.row_props:
                return fail(rid, index, NOT_FOUND)
            return self.unknown(req, "message %r never opened in the "
                                "recordings" % (key,))
        if rid in (0x04, 0x05, 0x21):
            ident = ("table", rid, obj.ident, req["tflags"] & ~0x40)
            if ident not in st.counts and st.table_rows(ident) is None \
                    and rid != 0x21:
                return self.unknown(req, "table %r never recorded"
                                    % (ident,))
            if rid == 0x21:
                return ok
            return ok + u32(st.counts[ident])
        if rid == 0x12:
            return ok + b"\0"
        if rid == 0x15:
            return self._query_rows(req, obj, ok)
        if rid == 0x17:
            return ok + u32(obj.pos) + u32(self._count(obj))
        if rid == 0x18:
            new = self._seek(obj, req)
            want = obj.pos + req["rows"] if req["origin"] == 1 else new
            return ok + bytes([1 if new != want else 0]) + \
                u32((new - obj.pos) & 0xFFFFFFFF)
        if rid == 0x07:
            return self._get_props(req, obj, ok)
        if rid == 0x0F:
            rows = st.recipients.get(obj.ident)
            if rows is None:
                return self.unknown(req, "recipients of %r never recorded"
                                    % (obj.ident,))
            rows = [r for rowid, r in rows if rowid >= req["rowid"]]
            return ok + bytes([len(rows)]) + b"".join(rows)
        if rid == 0x22:
            if ("attach", obj.ident, req["num"]) in st.row_props:
                return ok
            return fail(rid, index, NOT_FOUND)
        if rid == 0x2B:
            data = st.stream_data(("stream", obj.ident, req["tag"]))
            if data is None:
                return self.unknown(req, "stream 0x%08X of %r never read "
                                    "whole" % (req["tag"], obj.ident))
            return ok + u32(len(data))
        if rid == 0x2C:
            if obj.ident[0] != "stream":
                return fail(rid, index, NO_SUPPORT)
            data = st.stream_data(obj.ident)
            n = req.get("max", req["count"])
            n = min(n, READ_CAP)
            chunk = data[obj.pos:obj.pos + n]
            return ok + u16(len(chunk)) + chunk
        if rid == 0x70:
            if obj.ident[0] != "folder":
                return fail(rid, index, NO_SUPPORT)
            ident = self.ident_of(req, obj, {})
            if st.fx_data(ident) is None:
                return self.unknown(req, "synchronization %r never recorded"
                                    % (ident[2:5],))
            return ok
        if rid in (0x75, 0x76, 0x77) and obj.ident[0] == "fx":
            return ok
        if rid == 0x4E:
            return self._get_buffer(req, obj, ok)
        return self.unknown(req, "no recorded answer for %r" % (req["raw"],))

    def _query_rows(self, req, obj, ok):
        rows = self.store.table_rows(obj.ident)
        if rows is None:
            return self.unknown(req, "rows of %r never recorded whole"
                                % (obj.ident,))
        if not req["forward"]:
            start = max(0, obj.pos - req["count"])
            picked = list(reversed(rows[start:obj.pos]))
            end = start
        else:
            picked = rows[obj.pos:obj.pos + req["count"]]
            end = obj.pos + len(picked)
        out = []
        for row in picked:
            missing = [t for t in obj.cols if t not in row]
            if missing:
                return self.unknown(req, "column 0x%08X of %r never recorded"
                                    % (missing[0], obj.ident))
            out.append(write_row(row, obj.cols))
        origin = 2 if end >= len(rows) else (0 if end == 0 else 1)
        return ok + bytes([origin]) + u16(len(out)) + b"".join(out)

    def _get_props(self, req, obj, ok):
        have = dict(self.store.row_props.get(obj.ident, {}))
        have.update(self.store.props.get(obj.ident, {}))
        missing = [t for t in req["tags"] if t not in have]
        if missing:
            return self.unknown(req, "property 0x%08X of %r never recorded"
                                % (missing[0], obj.ident))
        return ok + write_row(have, req["tags"])

    def _get_buffer(self, req, obj, ok):
        if self.store.refuse_buffers:
            return fail(req["id"], response_index(req), CALL_FAILED)
        data = self.store.fx_data(obj.ident) if obj.ident[0] == "fx" \
            else None
        if data is None:
            return self.unknown(req, "no FastTransfer stream for %r"
                                % (obj.ident,))
        n = min(req.get("max", req["size"]), FX_CAP)
        chunk = data[obj.pos:obj.pos + n]
        done = obj.pos + len(chunk) >= len(data)
        # gromox counts one step, done once the stream is out
        return ok + u16(3 if done else 1) + u16(1 if done else 0) + \
            u16(1) + b"\0" + u16(len(chunk)) + chunk
