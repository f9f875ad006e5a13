"""fakemapi_nspi.py - the address book of the fake MAPI over HTTP server:
the GAL as the recorded NSPI exchanges of a real server showed it
(tests/data/mapi-traces/09-nspi.json), and answers to QueryRows, GetProps,
DNToMId, ResolveNames and SeekEntries built from it ([MS-OXCMAPIHTTP] 2.2.5, [MS-NSPI] 2.2, the
AddressBook value forms of [MS-OXCDATA] 2.11.1: a HasValue byte before
strings, binaries and multi-values, 4-byte counts).

Other requests are answered only when a recorded one asked the same.
"""

import base64

from fakemapi_wire import Rd, WireError, FIXED, u32

NOT_FOUND = 0x8004010F
ERRORS_RETURNED = 0x00040380
MID_END_OF_TABLE = 0x2
TAG_INSTANCE_KEY = 0x0FF60102
TAG_EMAIL_ADDRESS = 0x3003001F


def _value(rd, ptype):
    """The bytes of one AddressBook property value of type ptype."""
    start = rd.pos
    if ptype in FIXED and ptype != 0x000B:
        rd.take(FIXED[ptype])
    elif ptype == 0x000B:
        rd.take(1)
    elif ptype in (0x001E, 0x001F, 0x0102) or ptype & 0x1000:
        if rd.u8() == 0:
            return rd.data[start:rd.pos]
        if ptype == 0x001E:
            rd.asciiz()
        elif ptype == 0x001F:
            rd.utf16z()
        elif ptype == 0x0102:
            rd.take(rd.u32())
        else:
            for _ in range(rd.u32()):
                _value(rd, ptype & ~0x1000)
    else:
        raise WireError("AddressBook type 0x%04X not understood" % ptype)
    return rd.data[start:rd.pos]


def _stat(rd):
    return list(rd.u32() for _ in range(9))


def _tags(rd):
    return [rd.u32() for _ in range(rd.u32())]


class AddressBook:
    """The GAL's entries by MId, each {tag: value bytes} in the
    AddressBook forms, and their order in the GAL."""

    def __init__(self, exchanges, binary_of):
        self.entries = {}
        self.order = []
        for ex in exchanges:
            kind = dict(ex["request"]["headers"])["X-RequestType"]
            try:
                if kind == "QueryRows":
                    self._learn_rows(binary_of(ex))
                elif kind == "GetProps":
                    self._learn_props(ex, binary_of(ex))
            except WireError:
                continue

    def _learn_rows(self, binary):
        rd = Rd(binary)
        rd.take(8)
        if rd.u8():
            _stat(rd)
        if not rd.u8():
            return
        cols = _tags(rd)
        for _ in range(rd.u32()):
            flag = rd.u8()
            row = {}
            for tag in cols:
                if flag:
                    f = rd.u8()
                    if f == 0x0A:
                        rd.take(4)
                    if f != 0:
                        continue
                row[tag] = _value(rd, tag & 0xFFFF)
            key = row.get(TAG_INSTANCE_KEY)
            if key is None:
                continue
            mid = int.from_bytes(key[-4:], "little")
            if mid not in self.entries:
                self.order.append(mid)
            have = self.entries.setdefault(mid, {})
            for tag, v in row.items():
                have.setdefault(tag, v)

    def _learn_props(self, ex, binary):
        req = Rd(base64.b64decode(ex["request"]["body_b64"]))
        req.take(4)
        mid = _stat(req)[2] if req.u8() else None
        rd = Rd(binary)
        rd.take(4 + 4 + 4)
        if mid is None or not rd.u8():
            return
        have = self.entries.setdefault(mid, {})
        for _ in range(rd.u32()):
            tag = rd.u32()
            value = _value(rd, tag & 0xFFFF)
            if tag & 0xFFFF == 0x000A:
                # a property the entry lacks: remembered under its tag
                # as asked, answered again as the server did
                have.setdefault(("missing", tag >> 16), value)
            else:
                have.setdefault(tag, value)

    def mid_of(self, dn):
        for mid, props in self.entries.items():
            v = props.get(TAG_EMAIL_ADDRESS)
            if v and v[:1] == b"\xff" and v[1:-2].decode(
                    "utf-16-le").lower() == dn.lower():
                return mid
        return 0

    # ---- answers; None when the model cannot answer ----

    def query_rows(self, body, unanswered):
        rd = Rd(body)
        rd.u32()
        stat = _stat(rd) if rd.u8() else None
        explicit = [rd.u32() for _ in range(rd.u32())]
        count = rd.u32()
        cols = _tags(rd) if rd.u8() else None
        if stat is None or cols is None:
            return None
        if explicit:
            mids = explicit[:count]
            pos = len(mids)
        else:
            if stat[1] != 0:
                return None
            if stat[2] == MID_END_OF_TABLE:
                start = len(self.order)
            elif stat[2] == 0:
                start = 0
            elif stat[2] in self.order:
                start = self.order.index(stat[2])
            else:
                return None
            start = max(0, min(len(self.order), start + stat[3]))
            mids = self.order[start:start + count]
            pos = start + len(mids)
        rows = []
        for mid in mids:
            row = self.row(mid, cols, "QueryRows", unanswered)
            if row is None:
                return None
            rows.append(row)
        if not explicit:
            stat[2] = (self.order[pos] if pos < len(self.order)
                       else MID_END_OF_TABLE)
            stat[3] = 0
            stat[4] = pos
            stat[5] = len(self.order)
        return (u32(0) + u32(0) + b"\xff" + b"".join(u32(v) for v in stat)
                + b"\xff" + u32(len(cols)) + b"".join(u32(t) for t in cols)
                + u32(len(rows)) + b"".join(rows) + u32(0))

    def get_props(self, body, unanswered):
        rd = Rd(body)
        rd.u32()
        stat = _stat(rd) if rd.u8() else None
        tags = _tags(rd) if rd.u8() else None
        if stat is None or tags is None or stat[2] not in self.entries:
            return None
        props = self.entries[stat[2]]
        out, error = [], 0
        for tag in tags:
            if tag in props:
                out.append(u32(tag) + props[tag])
                continue
            if ("missing", tag >> 16) not in props:
                unanswered.append("NSPI GetProps: property 0x%08X of MId "
                                  "0x%X never recorded" % (tag, stat[2]))
                return None
            out.append(u32((tag & 0xFFFF0000) | 0x000A) +
                       props[("missing", tag >> 16)])
            error = ERRORS_RETURNED
        return (u32(0) + u32(error) + u32(stat[6]) + b"\xff" +
                u32(len(out)) + b"".join(out) + u32(0))

    def dn_to_mid(self, body):
        rd = Rd(body)
        rd.u32()
        if not rd.u8():
            return None
        mids = [self.mid_of(rd.asciiz().decode("latin-1"))
                for _ in range(rd.u32())]
        return (u32(0) + u32(0) + b"\xff" + u32(len(mids)) +
                b"".join(u32(m) for m in mids) + u32(0))

    # ---- ResolveNames and SeekEntries, as gromox answered them ----

    def row(self, mid, cols, kind, unanswered):
        """An AddressBookPropertyRow of an entry: standard when it has
        every column, else flagged, a property it lacks (as GetProps
        showed) given as the error NotFound; None (and a line in
        unanswered) for a property never recorded either way."""
        props = self.entries.get(mid, {})
        if all(t in props for t in cols):
            return b"\0" + b"".join(props[t] for t in cols)
        out = b"\1"
        for t in cols:
            if t in props:
                out += b"\0" + props[t]
            elif ("missing", t >> 16) in props:
                out += b"\x0a" + props[("missing", t >> 16)]
            else:
                unanswered.append("NSPI %s: property 0x%08X of MId 0x%X "
                                  "never recorded" % (kind, t, mid))
                return None
        return out

    def text(self, mid, tag):
        v = self.entries.get(mid, {}).get(tag)
        if not v or v[:1] != b"\xff":
            return ""
        return v[1:-2].decode("utf-16-le")

    def _rows(self, mids, cols, kind, unanswered):
        rows = []
        for mid in mids:
            row = self.row(mid, cols, kind, unanswered)
            if row is None:
                return None
            rows.append(row)
        return (b"\xff" + u32(len(cols)) + b"".join(u32(t) for t in cols)
                + u32(len(rows)) + b"".join(rows))

    def resolve_names(self, body, unanswered):
        """A name resolves when it is part of exactly one entry's display
        name, SMTP address or account; gromox calls a name that matches
        several entries ambiguous, and one that matches none too."""
        rd = Rd(body)
        rd.u32()
        if rd.u8():
            _stat(rd)
        cols = _tags(rd) if rd.u8() else []
        names = ([rd.utf16z().decode("utf-16-le") for _ in range(rd.u32())]
                 if rd.u8() else [])
        states, resolved = [], []
        for name in names:
            n = name.casefold()
            hits = [m for m in self.order if any(
                n in self.text(m, t).casefold()
                for t in (0x3001001F, 0x39FE001F, 0x3A00001F))]
            if len(hits) == 1:
                states.append(0x2)
                resolved.append(hits[0])
            else:
                states.append(0x1)
        rows = self._rows(resolved, cols, "ResolveNames", unanswered) \
            if cols else b"\0"
        if rows is None:
            return None
        return (u32(0) + u32(0) + u32(1200) + b"\xff" + u32(len(states)) +
                b"".join(u32(m) for m in states) + rows + u32(0))

    def seek_entries(self, body, unanswered):
        """Positions on the first entry whose display name sorts at or
        after the target, and gives that one row."""
        rd = Rd(body)
        rd.u32()
        stat = _stat(rd) if rd.u8() else None
        if stat is None or stat[1] != 0 or not rd.u8():
            return None
        tag = rd.u32()
        target = _value(rd, tag & 0xFFFF)
        if tag != 0x3001001F or target[:1] != b"\xff":
            return None
        want = target[1:-2].decode("utf-16-le").casefold()
        if rd.u8():
            return None         # an explicit table: not modelled
        cols = _tags(rd) if rd.u8() else None
        at = [i for i, m in enumerate(self.order)
              if self.text(m, 0x3001001F).casefold() >= want]
        if not at:
            return (u32(0) + u32(NOT_FOUND) + b"\0\0" + u32(0))
        i = at[0]
        stat[2], stat[3], stat[4], stat[5] = self.order[i], 0, i, \
            len(self.order)
        rows = self._rows([self.order[i]], cols, "SeekEntries",
                          unanswered) if cols else b"\0"
        if rows is None:
            return None
        return (u32(0) + u32(0) + b"\xff" + b"".join(u32(v) for v in stat)
                + rows + u32(0))
