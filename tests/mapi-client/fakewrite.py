"""fakewrite.py - the changes a MAPI over HTTP server takes, added to the
fake server of tests/harness/fakemapi.py for the client's write tests:
new messages (CreateMessage, SetProperties, streams written, recipients,
attachments, attached messages, SaveChangesMessage), flags
(SetReadFlags, SetProperties/DeleteProperties on an open message),
DeleteMessages/HardDeleteMessages, MoveCopyMessages, a contents table
restricted on properties (Restrict), CreateFolder, DeleteFolder and
MoveFolder ([MS-OXCROPS], [MS-OXCMSG], [MS-OXCFOLD], [MS-OXCTABL]).

The fake replays the recorded answers of a real server (gromox 3.10) for
reads; a change cannot be replayed, since the client's values are its
own, so this model makes the change on what the recordings showed of the
mailbox (its folders from the hierarchy tables, its messages from the
contents tables) and answers in the recorded layouts, with the ids the
real server gave: a message made in Projects gets 0x03001D0000000001, a
folder made in the Inbox 0x00001E0000000001, as in 05-write and
06-folders.  test_write.py checks these answers byte for byte against the
recorded ones.  The ROP requests the harness's reader does not know yet
are read here.

  FakeWriteMAPI(...)   a FakeMAPI whose sessions take changes
  .store.w             the model: .folders {fid: Folder}, .msgs {mid: Msg},
                       .refuse_hard_delete (answer HardDeleteMessages
                       with MAPI_E_NO_SUPPORT, as a server without it),
                       .partial_delete, .keep_on_delete (answer a delete
                       with PartialCompletion, having deleted all or
                       none)
"""

import struct

import fakemapi_wire as wire
from fakemapi import FakeMAPI, MapiSession
from fakemapi_model import (Session, Obj, NOT_FOUND, NO_SUPPORT, TAG_FID,
                            TAG_MID)
from fakemapi_wire import Rd, WireError, fail, response_index, u16, u32, u64

DUPLICATE_NAME = 0x80040604
TAG_NAME = 0x3001001F
TAG_PARENT = 0x67490014
TAG_COUNT = 0x36020003
TAG_SUBFOLDERS = 0x360A000B
TAG_CLASS = 0x3613001F
TAG_FLAGS = 0x0E070003
TAG_MSGID = 0x1035001F
TAG_FLAG_STATUS = 0x10900003
TAG_LAST_VERB = 0x10810003
TAG_SEARCH_KEY = 0x300B0102
# what a message that never had them answers as NotFound
ABSENT = (TAG_FLAG_STATUS, TAG_LAST_VERB, TAG_SEARCH_KEY, TAG_MSGID)


# ---- the requests fakemapi_wire does not read yet ([MS-OXCROPS] 2.2) ----

def _r_delete_props(rd):
    d = {"in": rd.u8()}
    d["tags"] = tuple(rd.u32() for _ in range(rd.u16()))
    return d


def _r_restrict(rd):
    d = {"in": rd.u8(), "flags": rd.u8()}
    d["restriction"] = rd.take(rd.u16())
    return d


def _r_create_attachment(rd):
    return {"in": rd.u8(), "out": rd.u8()}


def _r_save_attachment(rd):
    return {"resp": rd.u8(), "in": rd.u8(), "flags": rd.u8()}


def _r_write_stream(rd):
    d = {"in": rd.u8()}
    d["data"] = rd.take(rd.u16())
    return d


def _r_move_folder(rd):
    d = {"in": rd.u8(), "dest": rd.u8(), "async": rd.u8(),
         "unicode": rd.u8(), "fid": rd.u64()}
    d["newname"] = rd.utf16z().decode("utf-16-le") if d["unicode"] \
        else rd.asciiz().decode("latin-1")
    return d


def _r_set_read_flags(rd):
    d = {"in": rd.u8(), "async": rd.u8(), "flags": rd.u8()}
    d["mids"] = tuple(rd.u64() for _ in range(rd.u16()))
    return d


def _r_hard_delete(rd):
    d = {"in": rd.u8(), "async": rd.u8(), "notify": rd.u8()}
    d["mids"] = tuple(rd.u64() for _ in range(rd.u16()))
    return d


EXTRA = {
    0x0B: ("DeleteProperties", _r_delete_props),
    0x14: ("Restrict", _r_restrict),
    0x23: ("CreateAttachment", _r_create_attachment),
    0x25: ("SaveChangesAttachment", _r_save_attachment),
    0x2D: ("WriteStream", _r_write_stream),
    0x35: ("MoveFolder", _r_move_folder),
    0x5D: ("CommitStream", wire._r_in_only),
    0x66: ("SetReadFlags", _r_set_read_flags),
    0x91: ("HardDeleteMessages", _r_hard_delete),
}
for _rid, _entry in EXTRA.items():
    wire.ROPS.setdefault(_rid, _entry)
wire.CREATES.add(0x23)


# ---- values ----

def tagged_values(data):
    """A SetProperties value list: {tag: value bytes} in order."""
    rd = Rd(data)
    out = {}
    for _ in range(rd.u16()):
        tag = rd.u32()
        out[tag] = wire.skip_value(rd, tag & 0xFFFF)
    return out


def utf16(s):
    return s.encode("utf-16-le") + b"\0\0"


def counter(xid):
    """The global counter of a FID or MID (its last six bytes, big-endian)."""
    return int.from_bytes(u64(xid)[2:], "big")


def make_id(gc):
    return int.from_bytes(b"\x01\x00" + gc.to_bytes(6, "big"), "little")


def read_restriction(rd):
    """A restriction of the ROP form as nested tuples: ("or", [...]),
    ("and", [...]), ("prop", relop, tag, value bytes)."""
    kind = rd.u8()
    if kind in (0x00, 0x01):
        subs = [read_restriction(rd) for _ in range(rd.u16())]
        return ("and" if kind == 0 else "or", subs)
    if kind == 0x04:
        relop, tag = rd.u8(), rd.u32()
        vtag = rd.u32()
        return ("prop", relop, tag, wire.skip_value(rd, vtag & 0xFFFF))
    raise WireError("restriction type 0x%02X not modelled" % kind)


def matches(res, props):
    if res[0] == "or":
        return any(matches(r, props) for r in res[1])
    if res[0] == "and":
        return all(matches(r, props) for r in res[1])
    _, relop, tag, value = res
    have = props.get(tag)
    return relop == 0x04 and have is not None and have == value


class Folder:
    def __init__(self, fid, parent, name, cls=None):
        self.fid, self.parent, self.name, self.cls = fid, parent, name, cls


class Msg:
    """A message of the model: its folder and its properties as value
    bytes by tag; recipients and attachments as written."""

    def __init__(self, fid, props=None):
        self.fid = fid
        self.props = dict(props or {})
        self.recips = []
        self.attach = []
        self.streams = {}


class Model:
    """The mailbox as the recordings showed it, changed by the client."""

    def __init__(self, store):
        self.store = store
        self.folders = {}
        self.msgs = {}
        self.refuse_hard_delete = False
        self.reserved = {}          # MIDs of messages not saved yet
        self.partial_delete = False  # PartialCompletion, all deleted
        self.keep_on_delete = False  # PartialCompletion, none deleted
        self.saved = []             # Msg objects saved by the client
        for ident, props in list(store.row_props.items()) + \
                list(store.props.items()):
            if ident[0] == "folder" and TAG_FID in props \
                    and props[TAG_FID][0] == "v" \
                    and not self._gone(ident[1]):
                self._folder(props)
        for ident, rows in store.rows.items():
            if ident[0] != "table" or ident[1] != 0x05 \
                    or ident[2] is None or ident[2][0] != "folder":
                continue
            for row in rows.values():
                if TAG_MID in row and row[TAG_MID][0] == "v":
                    mid = int.from_bytes(row[TAG_MID][1], "little")
                    self.msgs.setdefault(mid, Msg(ident[2][1]))
        for mid, m in self.msgs.items():
            for src in (store.row_props, store.props):
                for tag, (kind, v) in src.get(("msg", mid), {}).items():
                    if kind == "v":
                        m.props.setdefault(tag, v)

    def _gone(self, fid):
        # made and deleted again by the recordings (06-folders' Temp)
        return fid in self.store.creatable and \
            fid not in self.store.created

    def _folder(self, props):
        fid = int.from_bytes(props[TAG_FID][1], "little")
        name = props.get(TAG_NAME, ("n", None))
        parent = props.get(TAG_PARENT, ("n", None))
        cls = props.get(TAG_CLASS, ("n", None))
        f = self.folders.setdefault(fid, Folder(fid, None, None))
        if name[0] == "v" and f.name is None:
            f.name = name[1][:-2].decode("utf-16-le")
        if parent[0] == "v" and f.parent is None:
            f.parent = int.from_bytes(parent[1], "little")
        if cls[0] == "v" and f.cls is None:
            f.cls = cls[1][:-2].decode("utf-16-le")

    def children(self, fid):
        return [f for f in self.folders.values() if f.parent == fid]

    def count(self, fid):
        return sum(1 for m in self.msgs.values() if m.fid == fid)

    def new_mid(self, fid):
        """The next MID of a folder: gromox counts on from the folder's
        newest message."""
        gcs = [counter(mid) for mid, m in self.msgs.items() if m.fid == fid]
        gcs += [counter(mid) for mid, f in self.reserved.items() if f == fid]
        return make_id(max(gcs) + 1 if gcs else counter(fid) + 1)

    def new_fid(self):
        """The next FID: gromox gives a new folder a fresh range of
        0x10000 ids after every id it gave."""
        top = max([counter(x) for x in self.folders] +
                  [counter(x) for x in self.msgs] +
                  [counter(x) for x in self.reserved])
        return make_id((top // 0x10000 + 1) * 0x10000)


def model_of(store):
    if not hasattr(store, "w"):
        store.w = Model(store)
    return store.w


class New:
    """What the client is building: a message, an attachment or a stream,
    not kept until saved."""

    def __init__(self, kind, **kw):
        self.kind = kind
        self.props = {}
        self.recips = []
        self.attach = []
        self.__dict__.update(kw)

    def __getitem__(self, i):
        # the harness reads an object's kind as ident[0]
        return (self.kind,)[i]


class WriteSession(Session):
    """A fakemapi session that also takes changes."""

    MINE = {0x02, 0x03, 0x05, 0x06, 0x0A, 0x0B, 0x0C, 0x0E, 0x14, 0x1C, 0x1D, 0x1E,
            0x23, 0x25, 0x2D, 0x33, 0x35, 0x5D, 0x66, 0x91}

    def rop(self, req, handles, rec=None):
        rid = req["id"]
        obj = self.obj(handles, req["in"]) if "in" in req else None
        w = model_of(self.store)
        mine = rid in self.MINE
        if rid == 0x2B:
            mine = req["mode"] & 0x02 or (obj is not None and
                                           isinstance(obj.ident, New))
        elif rid == 0x46:
            mine = bool(req["mode"] & 0x02)
        elif rid == 0x07:
            mine = obj is not None and (isinstance(obj.ident, New) or
                                        obj.ident[0] in ("msg", "folder"))
        elif rid == 0x15:
            mine = obj is not None and getattr(obj, "restriction", None)
        if not mine or req.get("unknown"):
            return super().rop(req, handles, rec)
        index = response_index(req)
        if rid not in (0x02, 0x03, 0x06, 0x1C) and obj is None:
            return fail(rid, index, 0x000004B9)
        raw, new = self.change(w, req, obj, index, handles)
        if "out" in req:
            while len(handles) <= req["out"]:
                handles.append(0xFFFFFFFF)
            handles[req["out"]] = 0xFFFFFFFF
            if new is not None:
                handles[req["out"]] = self.next_handle
                self.objects[self.next_handle] = new
                self.next_handle += 1
        return raw

    # Long because it is one table: each ROP's change and answer.
    def change(self, w, req, obj, index, handles):
        rid = req["id"]
        ok = bytes([rid, index]) + u32(0)
        ident = obj.ident if obj is not None else None
        if rid == 0x02:
            if req["fid"] in w.folders:
                return ok + b"\0\0", Obj(("folder", req["fid"]))
            return fail(rid, index, NOT_FOUND), None
        if rid == 0x03:
            m = w.msgs.get(req["mid"])
            if m is None or m.fid != req["fid"]:
                return fail(rid, index, NOT_FOUND), None
            opened = self.store.opened.get(("msg", req["mid"]))
            if opened is not None:
                return bytes([rid, index]) + opened[2:], \
                    Obj(("msg", req["mid"]))
            return ok + b"\0\0\0" + u16(0) + u16(0) + b"\0", \
                Obj(("msg", req["mid"]))
        if rid == 0x05:
            if ident[0] != "folder" or ident[1] not in w.folders:
                return fail(rid, index, NO_SUPPORT), None
            return ok + u32(w.count(ident[1])), \
                Obj(("table", rid, ident, req["tflags"] & ~0x40))
        if rid == 0x06:
            if req["fid"] not in w.folders:
                return fail(rid, index, NOT_FOUND), None
            mid = w.new_mid(req["fid"])
            w.reserved[mid] = req["fid"]
            return ok + b"\x01" + u64(mid), \
                Obj(New("message", fid=req["fid"], mid=mid))
        if rid == 0x07:
            return self._props(w, req, obj, ok), None
        if rid == 0x0A:
            values = tagged_values(req["values"])
            self._target(w, ident).update(values)
            return ok + u16(0), None
        if rid == 0x0B:
            target = self._target(w, ident)
            for tag in req["tags"]:
                target.pop(tag, None)
            return ok + u16(0), None
        if rid == 0x0C:
            return self._save(w, req, obj), None
        if rid == 0x0E:
            ident.recips.extend(req["rows"])
            return ok, None
        if rid == 0x14:
            obj.restriction = read_restriction(Rd(req["restriction"]))
            obj.pos = 0
            return ok + b"\0", None
        if rid == 0x15:
            return self._query(w, req, obj, ok), None
        if rid == 0x1C:
            return self._create_folder(w, req, obj, index, ok)
        if rid == 0x1D:
            return self._delete_folder(w, req, ident, ok), None
        if rid in (0x1E, 0x91):
            if rid == 0x91 and w.refuse_hard_delete:
                return fail(rid, index, NO_SUPPORT), None
            for mid in req["mids"]:
                m = w.msgs.get(mid)
                if m is not None and m.fid == ident[1] and \
                        not w.keep_on_delete:
                    del w.msgs[mid]
            partial = w.partial_delete or w.keep_on_delete
            return ok + bytes([1 if partial else 0]), None
        if rid == 0x23:
            att = New("attach", parent=ident, num=len(ident.attach))
            return ok + u32(att.num), Obj(att)
        if rid == 0x25:
            ident.parent.attach.append(ident)
            return bytes([rid, req["resp"]]) + u32(0), None
        if rid == 0x2B:
            return ok + u32(0), Obj(New("stream", parent=ident,
                                        tag=req["tag"], data=b""))
        if rid == 0x2D:
            ident.data += req["data"]
            return ok + u16(len(req["data"])), None
        if rid == 0x5D:
            ident.parent.props[ident.tag] = ident.data
            return ok, None
        if rid == 0x33:
            return self._move(w, req, ident, handles, ok), None
        if rid == 0x35:
            return self._move_folder(w, req, ident, handles, index, ok), \
                None
        if rid == 0x46:
            msg = New("embedded", parent=ident)
            ident.embedded = msg
            return ok + b"\0" + u64(0) + b"\0\0\0" + u16(0) + u16(0) + \
                b"\0", Obj(msg)
        if rid == 0x66:
            for mid in req["mids"]:
                m = w.msgs.get(mid)
                if m is None or m.fid != ident[1]:
                    continue
                flags = struct.unpack("<I", m.props.get(TAG_FLAGS,
                                                        u32(0)))[0]
                flags = flags & ~0x1 if req["flags"] & 0x04 else flags | 0x1
                m.props[TAG_FLAGS] = u32(flags)
            return ok + b"\0", None
        return self.unknown(req, "not modelled"), None

    @staticmethod
    def _target(w, ident):
        if isinstance(ident, New):
            return ident.props
        if ident[0] == "msg" and ident[1] in w.msgs:
            opened = w.msgs[ident[1]]
            # an open message's changes wait for SaveChangesMessage
            pending = getattr(opened, "pending", None)
            if pending is None:
                pending = opened.pending = dict(opened.props)
            return pending
        if ident[0] == "folder" and ident[1] in w.folders:
            return {}
        raise WireError("SetProperties on %r" % (ident,))

    def _save(self, w, req, obj):
        ident = obj.ident
        head = bytes([0x0C, req["resp"]]) + u32(0) + bytes([req["in"]])
        if isinstance(ident, New):
            if ident.kind == "embedded":
                return head + u64(0)
            m = Msg(ident.fid, ident.props)
            m.recips, m.attach = ident.recips, ident.attach
            w.msgs[ident.mid] = m
            w.reserved.pop(ident.mid, None)
            w.saved.append(m)
            return head + u64(ident.mid)
        m = w.msgs.get(ident[1])
        if m is None:
            return fail(0x0C, req["resp"], NOT_FOUND)
        if getattr(m, "pending", None) is not None:
            m.props, m.pending = m.pending, None
        return head + u64(ident[1])

    def _props(self, w, req, obj, ok):
        ident = obj.ident
        if isinstance(ident, New):
            have = {t: ("v", v) for t, v in ident.props.items()}
        elif ident[0] == "folder":
            f = w.folders.get(ident[1])
            if f is None:
                return fail(0x07, req["in"], NOT_FOUND)
            have = {TAG_COUNT: ("v", u32(w.count(f.fid))),
                    TAG_SUBFOLDERS: ("v", bytes([1 if w.children(f.fid)
                                                 else 0])),
                    TAG_FID: ("v", u64(f.fid))}
            if any(t not in have for t in req["tags"]):
                return super().answer(req, obj)
        else:
            m = w.msgs.get(ident[1])
            if m is None:
                return fail(0x07, req["in"], NOT_FOUND)
            have = {t: ("v", v) for t, v in m.props.items()}
            for t in ABSENT:
                have.setdefault(t, ("e", NOT_FOUND))
            if any(t not in have for t in req["tags"]):
                return super().answer(req, obj)
        for t in req["tags"]:
            have.setdefault(t, ("e", NOT_FOUND))
        return ok + wire.write_row(have, req["tags"])

    def _query(self, w, req, obj, ok):
        fid = obj.ident[2][1]
        rows = []
        for mid in sorted(w.msgs):
            m = w.msgs[mid]
            if m.fid != fid:
                continue
            props = dict(m.props)
            props[TAG_MID] = u64(mid)
            if matches(obj.restriction, props):
                rows.append(props)
        picked = rows[obj.pos:obj.pos + req["count"]]
        obj.pos += len(picked)
        out = [wire.write_row({t: ("v", p[t]) if t in p
                               else ("e", NOT_FOUND) for t in obj.cols},
                              obj.cols) for p in picked]
        origin = 2 if obj.pos >= len(rows) else 1
        return ok + bytes([origin]) + u16(len(out)) + b"".join(out)

    def _create_folder(self, w, req, obj, index, ok):
        raw = req["raw"]
        rd = Rd(raw, 8)
        name = rd.utf16z().decode("utf-16-le") if raw[5] \
            else rd.asciiz().decode("latin-1")
        if obj is None or obj.ident[0] != "folder":
            return fail(0x1C, index, 0x000004B9), None
        parent = obj.ident[1]
        for f in w.children(parent):
            if f.name is not None and f.name.lower() == name.lower():
                if not req["existing"]:
                    return fail(0x1C, index, DUPLICATE_NAME), None
                return ok + u64(f.fid) + b"\0", Obj(("folder", f.fid))
        fid = w.new_fid()
        w.folders[fid] = Folder(fid, parent, name)
        return ok + u64(fid) + b"\0", Obj(("folder", fid))

    @staticmethod
    def _delete_folder(w, req, ident, ok):
        f = w.folders.get(req["fid"])
        if f is None or f.parent != ident[1]:
            # gromox: deleting what is not there succeeds
            return ok + b"\0"
        full = w.count(f.fid) or w.children(f.fid)
        if full and (req["flags"] & 0x05) != 0x05:
            return ok + b"\x01"
        del w.folders[f.fid]
        return ok + b"\0"

    def _move(self, w, req, ident, handles, ok):
        dest = self.obj(handles, req["dest"])
        if dest is None or dest.ident[0] != "folder":
            return fail(0x33, req["in"], 0x00000503) + u32(req["dest"]) + \
                b"\0"
        partial = 0
        for mid in req["mids"]:
            m = w.msgs.get(mid)
            if m is None or m.fid != ident[1]:
                partial = 1
                continue
            new = w.new_mid(dest.ident[1])
            copy = Msg(dest.ident[1], m.props)
            w.msgs[new] = copy
            if not req["copy"]:
                del w.msgs[mid]
        return ok + bytes([partial])

    def _move_folder(self, w, req, ident, handles, index, ok):
        dest = self.obj(handles, req["dest"])
        f = w.folders.get(req["fid"])
        if f is None or f.parent != ident[1]:
            return fail(0x35, index, NOT_FOUND)
        if dest is None or dest.ident[0] != "folder":
            return fail(0x35, index, 0x00000503) + u32(req["dest"]) + b"\0"
        for g in w.children(dest.ident[1]):
            if g is not f and g.name.lower() == req["newname"].lower():
                return fail(0x35, index, DUPLICATE_NAME)
        f.parent, f.name = dest.ident[1], req["newname"]
        return ok + b"\0"


class FakeWriteMAPI(FakeMAPI):
    """A FakeMAPI whose EMSMDB sessions take changes."""

    def _new_session(self, kind):
        s = super()._new_session(kind)
        if kind == "emsmdb":
            s.emsmdb = WriteSession(self.store, self.unanswered)
        return s


assert MapiSession  # the harness's session holder, whose emsmdb we replace
