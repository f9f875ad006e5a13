"""The address book of `mailfs serve --mapi` (/mapi/nspi/): the requests
a real client sent to a real server (tests/data/mapi-traces/09-nspi.json)
replayed with our cookies, and requests of our own, over a store whose
Contacts folder holds the recorded vCards and a few more; the answers are
read back with a decoder written apart from the C codecs (fakemapi_wire's
reader) and compared in layout and meaning with the recorded ones."""

import base64
import os
import struct

import pytest

from conftest import (Client, Server, USER, build_store, check_log,
                      recorded_binary, trace)
from fakemapi_wire import Rd

NSPI = "/mapi/nspi/?MailboxId=%s" % USER
TAG_ENTRYID, TAG_NAME, TAG_SMTP = 0x0FFF0102, 0x3001001F, 0x39FE001F
TAG_EMAIL, TAG_ADDRTYPE, TAG_OBJTYPE = 0x3003001F, 0x3002001F, 0x0FFE0003
TAG_DISPTYPE, TAG_ACCOUNT, TAG_IKEY = 0x39000003, 0x3A00001F, 0x0FF60102
TAG_TITLE, TAG_COMPANY, TAG_DEPT = 0x3A17001F, 0x3A16001F, 0x3A18001F
TAG_OFFICE, TAG_HOMEPHONE = 0x3A19001F, 0x3A09001F
TAG_MOBILE, TAG_BUSPHONE = 0x3A1C001F, 0x3A08001F
TAG_GIVEN, TAG_SURNAME, TAG_HOME_MDB = 0x3A06001F, 0x3A11001F, 0x8006001E
TAG_ANR = 0x360C001F
NOT_FOUND, NO_SUPPORT = 0x8004010F, 0x80040102
ERRORS_RETURNED, UNBIND_SUCCESS = 0x00040380, 0x00000001
MID_UNRESOLVED, MID_AMBIGUOUS, MID_RESOLVED = 0, 1, 2
NSPI_GUID = bytes.fromhex("dca740c8c042101ab4b908002b2fe182")

# generated contacts beside the recorded two: names that sort among
# them, a name outside ASCII, two that share a first name, one without
# UID, and a file that is no vCard at all
CARDS = {
    "carol.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol Colleague\r\n"
                 "N:Colleague;Carol;;;\r\nORG:Example Corp;Research\r\n"
                 "TITLE:Chemist\r\nEMAIL:carol@example.test\r\n"
                 "TEL;TYPE=HOME:+49 30 111\r\nTEL;TYPE=CELL:+49 170 222\r\n"
                 "ADR;TYPE=WORK:;Room 4.12;Main St 1;Berlin;;10115;DE\r\n"
                 "UID:contact-carol-0003\r\nEND:VCARD\r\n",
    "dave1.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dave One\r\n"
                 "EMAIL:dave.one@example.test\r\nUID:dave-1\r\n"
                 "END:VCARD\r\n",
    "dave2.vcf": "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Dave Two\r\n"
                 "EMAIL:dave.two@example.test\r\nEND:VCARD\r\n",
    "zoe.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zo\u00eb \u00dcnicode\r\n"
               "EMAIL:zoe@example.test\r\nUID:zoe-5\r\nEND:VCARD\r\n",
    "broken.vcf": "this is no vCard\r\n",
}
# the book in display-name order: the user, then the contacts
ORDER = [USER, "Bob Sender", "Carol Colleague", "Dave One", "Dave Two",
         "Erin External", "Zo\u00eb \u00dcnicode"]


@pytest.fixture
def book_server(workdir):
    store = os.path.join(workdir, "store")
    build_store(store)
    for name, text in CARDS.items():
        with open(os.path.join(store, "Contacts", name), "wb") as f:
            f.write(text.encode())
    server = Server(store, workdir, protocols=("mapi",))
    yield server
    check_log(server, server.stop())


# ---- the decoder: MS-OXCMAPIHTTP 2.2.5 bodies as fakemapi_wire reads ----

def value(rd, ptype):
    if ptype == 0x0003 or ptype == 0x000A:
        return rd.u32()
    if ptype == 0x000B:
        return rd.u8()
    if ptype in (0x001E, 0x001F, 0x0102) or ptype & 0x1000:
        if rd.u8() == 0:
            return None
        if ptype == 0x001E:
            return rd.asciiz().decode()
        if ptype == 0x001F:
            return rd.utf16z().decode("utf-16-le")
        if ptype == 0x0102:
            return rd.take(rd.u32())
        return [value(rd, ptype & ~0x1000) for _ in range(rd.u32())]
    raise AssertionError("type 0x%04X" % ptype)


def stat(rd):
    return list(struct.unpack("<9I", rd.take(36))) if rd.u8() else None


def tags(rd):
    return [rd.u32() for _ in range(rd.u32())]


def rowset(rd):
    if not rd.u8():
        return None, None
    cols = tags(rd)
    rows = []
    for _ in range(rd.u32()):
        flag = rd.u8()
        row = {}
        for t in cols:
            f = rd.u8() if flag else 0
            if f == 0x0A:
                row[t] = ("error", rd.u32())
            elif f == 0:
                row[t] = value(rd, t & 0xFFFF)
            else:
                row[t] = ("missing",)
        rows.append(row)
    return cols, rows


def tagged_list(rd):
    out = []
    for _ in range(rd.u32()):
        t = rd.u32()
        out.append((t, value(rd, t & 0xFFFF)))
    return out


def aux_end(rd):
    rd.take(rd.u32())
    assert rd.left() == 0


def head(rd):
    return rd.u32(), rd.u32()


def decode(kind, b):
    rd = Rd(b)
    out = {}
    out["status"], out["error"] = head(rd)
    if kind == "Bind":
        out["guid"] = rd.take(16)
    elif kind == "GetSpecialTable":
        out["cp"] = rd.u32()
        out["version"] = rd.u32() if rd.u8() else None
        out["rows"] = ([tagged_list(rd) for _ in range(rd.u32())]
                       if rd.u8() else None)
    elif kind in ("QueryRows", "SeekEntries"):
        out["stat"] = stat(rd)
        out["cols"], out["rows"] = rowset(rd)
    elif kind == "ResolveNames":
        out["cp"] = rd.u32()
        out["mids"] = tags(rd) if rd.u8() else None
        out["cols"], out["rows"] = rowset(rd)
    elif kind == "GetMatches":
        out["stat"] = stat(rd)
        out["mids"] = tags(rd) if rd.u8() else None
        out["cols"], out["rows"] = rowset(rd)
    elif kind == "DNToMId":
        out["mids"] = tags(rd) if rd.u8() else None
    elif kind == "GetProps":
        out["cp"] = rd.u32()
        out["vals"] = tagged_list(rd) if rd.u8() else None
    elif kind == "QueryColumns":
        out["columns"] = tags(rd) if rd.u8() else None
    elif kind == "GetPropList":
        out["tags"] = tags(rd) if rd.u8() else None
    elif kind in ("GetMailboxUrl", "GetAddressBookUrl"):
        out["url"] = rd.utf16z().decode("utf-16-le")
    elif kind == "CompareMIds":
        out["result"] = struct.unpack("<i", rd.take(4))[0]
    elif kind == "UpdateStat":
        out["stat"] = stat(rd)
        out["delta"] = struct.unpack("<i", rd.take(4))[0] if rd.u8() \
            else None
    elif kind == "ResortRestriction":
        out["stat"] = stat(rd)
        out["mids"] = tags(rd) if rd.u8() else None
    elif kind == "GetTemplateInfo":
        out["cp"] = rd.u32()
        assert rd.u8() == 0
    aux_end(rd)
    return out


# ---- requests of our own (MS-OXCMAPIHTTP 2.2.5, as a client writes) ----

def u32(v):
    return struct.pack("<I", v)


def stat_bytes(cur=0, delta=0, cp=1252):
    return b"\x01" + struct.pack("<IIIiIIIII", 0, 0, cur, delta, 0, 0,
                                 cp, 0x409, 0x409)


def tag_bytes(ts):
    return b"\x01" + u32(len(ts)) + b"".join(u32(t) for t in ts)


def utf16z(s):
    return s.encode("utf-16-le") + b"\0\0"


COLS = [TAG_NAME, TAG_SMTP, TAG_EMAIL, TAG_ADDRTYPE, TAG_OBJTYPE,
        TAG_DISPTYPE]


class Book:
    """A bound NSPI session of our server."""

    def __init__(self, server):
        self.c = Client(server)
        self.ex = trace("09-nspi")["exchanges"]
        reply = self.c.replay(self.ex[0])
        assert reply.header("X-ResponseCode") == "0", reply.body
        self.bind = decode("Bind", reply.binary())

    def call(self, kind, body, rc="0"):
        headers = [("Content-Type", "application/mapi-http"),
                   ("X-RequestType", kind),
                   ("X-RequestId", "{6d61696c-6673-4000-8000-000000000001}:1"),
                   ("X-ClientInfo", "{6d61696c-6673-4000-8000-000000000002}")]
        reply = self.c.post(NSPI, headers, body)
        assert reply.header("X-ResponseCode") == rc, reply.body
        return decode(kind, reply.binary()) if rc == "0" else reply

    def replay(self, i):
        reply = self.c.replay(self.ex[i])
        assert reply.header("X-ResponseCode") == "0", reply.body
        kind = dict(self.ex[i]["request"]["headers"])["X-RequestType"]
        return (decode(kind, reply.binary()),
                decode(kind, recorded_binary(self.ex[i])))

    def rows(self, cols=COLS, count=100):
        body = (u32(0) + stat_bytes() + u32(0) + u32(count) +
                tag_bytes(cols) + u32(0))
        return self.call("QueryRows", body)


def permanent_entryid(eid):
    """(display type, DN) of a permanent EntryID, MS-OXNSPI 2.2.9.3."""
    assert eid[0] == 0 and eid[1:4] == b"\0\0\0"
    assert eid[4:20] == NSPI_GUID
    assert struct.unpack("<I", eid[20:24])[0] == 1
    dtype = struct.unpack("<I", eid[24:28])[0]
    assert eid[-1:] == b"\0"
    return dtype, eid[28:-1].decode()


def test_bind_special_table_and_gal_rows(book_server):
    b = Book(book_server)
    assert b.bind["status"] == 0 and b.bind["error"] == 0
    assert len(b.bind["guid"]) == 16
    assert {"sid", "sequence"} <= set(b.c.cookies)

    ours, theirs = b.replay(1)
    assert ours["error"] == theirs["error"] == 0
    assert ours["cp"] == theirs["cp"] and ours["version"] == 1
    # the GAL row as the recorded server sends it, byte for byte in its
    # EntryID; its second row, a domain container, has no counterpart
    assert [t for t, _ in ours["rows"][0]] == \
        [t for t, _ in theirs["rows"][0]]
    assert ours["rows"][0] == theirs["rows"][0]
    assert len(ours["rows"]) == 1

    ours, theirs = b.replay(2)
    assert ours["cols"] == theirs["cols"]
    names = [r[TAG_NAME] for r in ours["rows"]]
    assert names == ORDER
    n = len(ORDER)
    # the STAT as recorded: at the end of the table, all read
    assert ours["stat"][2:6] == [2, 0, n, n]
    assert theirs["stat"][2:6] == [2, 0, 3, 3]
    for i, row in enumerate(ours["rows"]):
        assert set(row) == set(theirs["rows"][0])
        mid = 0x11 + i
        assert row[TAG_IKEY] == u32(mid)
        assert row[TAG_ADDRTYPE] == "EX" and row[TAG_OBJTYPE] == 6
        assert row[TAG_DISPTYPE] == 0
        dtype, dn = permanent_entryid(row[TAG_ENTRYID])
        assert dtype == 0 and dn == row[TAG_EMAIL]
        assert dn.startswith("/o=mailfs/ou=Exchange Administrative Group")
    me = ours["rows"][0]
    assert me[TAG_SMTP] == USER and me[TAG_ACCOUNT] == USER
    assert me[TAG_EMAIL].endswith("/cn=Recipients/cn=" + USER)
    bob = ours["rows"][1]
    assert bob[TAG_SMTP] == "bob@example.test"
    assert bob[TAG_ACCOUNT] == "bob@example.test"
    assert len({r[TAG_EMAIL] for r in ours["rows"]}) == n


def test_query_rows_by_position_and_explicit_table(book_server):
    b = Book(book_server)
    # two rows from Carol (0x13) on, then on from where that left off
    body = (u32(0) + stat_bytes(cur=0x13) + u32(0) + u32(2) +
            tag_bytes([TAG_NAME]) + u32(0))
    got = b.call("QueryRows", body)
    assert [r[TAG_NAME] for r in got["rows"]] == ORDER[2:4]
    assert got["stat"][2:6] == [0x15, 0, 4, len(ORDER)]
    # Delta moves back from the end of the table
    body = (u32(0) + stat_bytes(cur=2, delta=-1) + u32(0) + u32(5) +
            tag_bytes([TAG_NAME]) + u32(0))
    got = b.call("QueryRows", body)
    assert [r[TAG_NAME] for r in got["rows"]] == ORDER[-1:]
    # an explicit table: those MIds in that order, an unknown one a row
    # of errors
    body = (u32(0) + stat_bytes() + u32(3) + u32(0x16) + u32(0x12) +
            u32(0x999) + u32(10) + tag_bytes([TAG_NAME, TAG_SMTP]) + u32(0))
    got = b.call("QueryRows", body)
    assert got["rows"][0][TAG_NAME] == "Erin External"
    assert got["rows"][1][TAG_SMTP] == "bob@example.test"
    assert got["rows"][2][TAG_NAME] == ("error", NOT_FOUND)
    # the whole of a contact, 8-bit strings as asked
    cols = [TAG_GIVEN, TAG_SURNAME, TAG_TITLE, TAG_COMPANY, TAG_DEPT,
            TAG_OFFICE, TAG_HOMEPHONE, TAG_MOBILE, TAG_BUSPHONE,
            0x3001001E]
    body = (u32(0) + stat_bytes() + u32(2) + u32(0x13) + u32(0x17) +
            u32(10) + tag_bytes(cols) + u32(0))
    carol, zoe = b.call("QueryRows", body)["rows"]
    assert [carol[t] for t in cols[:8]] == [
        "Carol", "Colleague", "Chemist", "Example Corp", "Research",
        "Room 4.12", "+49 30 111", "+49 170 222"]
    assert carol[TAG_BUSPHONE] == ("error", NOT_FOUND)
    assert carol[0x3001001E] == "Carol Colleague"
    assert zoe[0x3001001E] == "Zo\u00eb \u00dcnicode"


def test_resolve_names(book_server):
    b = Book(book_server)
    ours, theirs = b.replay(3)
    assert ours["cp"] == theirs["cp"] == 1200
    assert ours["cols"] == theirs["cols"]
    # "alice" is our user and "carol@example.test" Carol's address, as
    # on the recorded server; "example" begins no name here and
    # "nobody-here" is unresolved, as MS-OXNSPI 2.2.1.9 says (the
    # recorded server answered MID_AMBIGUOUS for both)
    assert theirs["mids"] == [2, 1, 1, 2]
    assert ours["mids"] == [MID_RESOLVED, MID_UNRESOLVED, MID_UNRESOLVED,
                            MID_RESOLVED]
    assert [r[TAG_NAME] for r in ours["rows"]] == [USER, "Carol Colleague"]
    assert set(ours["rows"][1]) == set(theirs["rows"][1])
    assert ours["rows"][1][TAG_SMTP] == theirs["rows"][1][TAG_SMTP]

    names = ["dave", "Dave Two", "smtp:ERIN@external.test", "zo", "bo"]
    body = (u32(0) + stat_bytes() + tag_bytes([TAG_NAME]) + b"\x01" +
            u32(len(names)) + b"".join(utf16z(n) for n in names) + u32(0))
    got = b.call("ResolveNames", body)
    assert got["mids"] == [MID_AMBIGUOUS, MID_RESOLVED, MID_RESOLVED,
                           MID_RESOLVED, MID_RESOLVED]
    assert [r[TAG_NAME] for r in got["rows"]] == [
        "Dave Two", "Erin External", "Zo\u00eb \u00dcnicode", "Bob Sender"]


def test_get_matches(book_server):
    b = Book(book_server)
    # a prefix of the display name: the recorded server supports no
    # content restriction and found nothing; Carol is the one here
    ours, theirs = b.replay(4)
    assert theirs["mids"] == [] and ours["mids"] == [0x13]
    assert ours["cols"] == theirs["cols"]
    assert ours["stat"] == theirs["stat"]
    # ambiguous name resolution and an exact address: as recorded
    for i, mid, name in ((5, 0x13, "Carol Colleague"),
                         (6, 0x12, "Bob Sender")):
        ours, theirs = b.replay(i)
        assert theirs["mids"] == [mid] and ours["mids"] == [mid]
        assert ours["cols"] == theirs["cols"]
        assert ours["rows"][0][TAG_NAME] == name
        assert ours["rows"][0][TAG_SMTP] == theirs["rows"][0][TAG_SMTP]
        assert set(ours["rows"][0]) == set(theirs["rows"][0])
    # a bound on rows: everyone with an address, two at most
    exist = b"\x08" + u32(TAG_SMTP)
    body = (u32(0) + stat_bytes() + b"\0" + u32(0) + b"\x01" + exist +
            b"\0" + u32(2) + tag_bytes([TAG_NAME]) + u32(0))
    got = b.call("GetMatches", body)
    assert got["mids"] == [0x11, 0x12]
    assert [r[TAG_NAME] for r in got["rows"]] == ORDER[:2]
    # NOT (content substring "ave", ignoring case) within an explicit set
    content = (b"\x03" + struct.pack("<HH", 1, 1) + u32(TAG_NAME) +
               b"\xff" + u32(TAG_NAME) + b"\xff" + utf16z("AVE"))
    body = (u32(0) + stat_bytes() + b"\x01" + u32(3) + u32(0x13) +
            u32(0x14) + u32(0x15) + u32(0) + b"\x01" + b"\x02" + content +
            b"\0" + u32(10) + tag_bytes([TAG_NAME]) + u32(0))
    assert b.call("GetMatches", body)["mids"] == [0x13]


def test_seek_entries_and_positions(book_server):
    b = Book(book_server)
    ours, theirs = b.replay(7)
    assert theirs["stat"][2:5] == [0x12, 0, 1]
    assert ours["stat"][2:6] == [0x12, 0, 1, len(ORDER)]
    assert ours["cols"] == theirs["cols"]
    assert [r[TAG_NAME] for r in ours["rows"]] == ["Bob Sender"]
    # CompareMIds, UpdateStat and ResortRestriction over those positions
    body = u32(0) + stat_bytes() + u32(0x16) + u32(0x12) + u32(0)
    assert b.call("CompareMIds", body)["result"] > 0
    body = u32(0) + stat_bytes(cur=0x12, delta=3) + b"\x01" + u32(0)
    got = b.call("UpdateStat", body)
    assert got["stat"][2:5] == [0x15, 0, 4] and got["delta"] == 3
    body = (u32(0) + stat_bytes(cur=0x14) + b"\x01" + u32(4) + u32(0x17) +
            u32(0x14) + u32(0x888) + u32(0x12) + u32(0))
    got = b.call("ResortRestriction", body)
    assert got["mids"] == [0x12, 0x14, 0x17]
    assert got["stat"][2] == 0x14 and got["stat"][4:6] == [1, 3]
    # the columns the book knows, string types as the flag asks
    wide = b.call("QueryColumns", u32(0) + u32(0x80000000) + u32(0))
    narrow = b.call("QueryColumns", u32(0) + u32(0) + u32(0))
    for t in (TAG_NAME, TAG_SMTP, TAG_TITLE, TAG_OFFICE, TAG_MOBILE):
        assert t in wide["columns"]
        assert (t & ~0xFFFF) | 0x1E in narrow["columns"]
    assert TAG_IKEY in wide["columns"] and TAG_IKEY in narrow["columns"]


def test_dn_to_mid_and_props(book_server):
    b = Book(book_server)
    ours, theirs = b.replay(8)
    assert theirs["mids"] == [0x11, 0]
    # the recorded DN is the other server's: unknown here
    assert ours["mids"] == [0, 0]
    dns = {r[TAG_NAME]: r[TAG_EMAIL] for r in b.rows()["rows"]}
    names = [dns["Erin External"], dns[USER].upper(), "/o=nobody"]
    body = (u32(0) + b"\x01" + u32(3) +
            b"".join(n.encode() + b"\0" for n in names) + u32(0))
    assert b.call("DNToMId", body)["mids"] == [0x16, 0x11, 0]
    # a contact's DN comes from its UID: the same in a new session
    again = Book(book_server)
    assert {r[TAG_NAME]: r[TAG_EMAIL] for r in again.rows()["rows"]} == dns

    # GetProps of MId 0x11 as recorded: every tag answered in its
    # place, the missing Title as an error and ErrorsReturned
    ours, theirs = b.replay(9)
    assert ours["error"] == theirs["error"] == ERRORS_RETURNED
    assert [t for t, _ in ours["vals"]] == [t for t, _ in theirs["vals"]]
    mine = dict(ours["vals"])
    assert mine[0x3A17000A] == NOT_FOUND
    assert mine[TAG_NAME] == USER
    assert mine[TAG_HOME_MDB].endswith("/cn=Microsoft Private MDB")
    assert mine[0x800F101F] == ["SMTP:" + USER]
    assert mine[0x0FF80102] == NSPI_GUID

    ours, theirs = b.replay(10)
    assert ours["error"] == 0
    for t in (TAG_IKEY, TAG_ENTRYID, 0x3001001E, 0x3003001E, 0x39FE001E,
              0x3A00001E, TAG_HOME_MDB):
        assert t in theirs["tags"] and t in ours["tags"]


def test_urls_and_unbind(book_server):
    b = Book(book_server)
    base = "http://127.0.0.1:%d" % book_server.port["mapi"]
    for i in (11, 12):
        ours, theirs = b.replay(i)
        assert theirs["url"].startswith("https://localhost/mapi/emsmdb/")
        assert ours["url"] == base + "/mapi/emsmdb/?MailboxId=" + USER
    ours, theirs = b.replay(13)
    assert ours["url"] == base + "/mapi/nspi/?MailboxId=" + USER

    reply = b.c.replay(b.ex[14])
    assert decode("Unbind", reply.binary())["error"] == UNBIND_SUCCESS
    assert decode("Unbind", recorded_binary(b.ex[14]))["error"] == \
        UNBIND_SUCCESS
    # Unbind sends sid only, as recorded; the session is gone after it
    names = [c.split("=")[0] for c in reply.all("Set-Cookie")]
    assert names == ["sid"]
    body = base64.b64decode(b.ex[2]["request"]["body_b64"])
    rep = b.call("QueryRows", body, rc="6")
    assert rep.header("Content-Type") == "text/html"


def test_refusals(book_server):
    b = Book(book_server)
    # what the book does not do
    body = (u32(0) + u32(0) + b"\0" + u32(1252) + u32(0x409) + u32(0))
    got = b.call("GetTemplateInfo", body)
    assert got["error"] == NO_SUPPORT
    body = u32(0) + stat_bytes(cur=0x999) + tag_bytes([TAG_NAME]) + u32(0)
    assert b.call("GetProps", body)["error"] == NOT_FOUND
    target = b"\x01" + u32(TAG_NAME) + b"\xff" + utf16z("zz")
    body = (u32(0) + stat_bytes() + target + b"\0" +
            tag_bytes([TAG_NAME]) + u32(0))
    assert b.call("SeekEntries", body)["error"] == NOT_FOUND
    # an EMSMDB request here, a stale sequence, no cookie at all
    b.call("Connect", b"", rc="5")
    good = dict(b.c.cookies)
    body = base64.b64decode(b.ex[2]["request"]["body_b64"])
    b.call("QueryRows", body)
    stale = Client(book_server)
    rep = stale.post(NSPI, [("X-RequestType", "QueryRows")], body,
                     cookies=good)
    assert rep.header("X-ResponseCode") == "15"
    rep = stale.post(NSPI, [("X-RequestType", "QueryRows")], body,
                     cookies={})
    assert rep.header("X-ResponseCode") == "13"
    # every recorded request cut short: refused, the session goes on
    for ex in b.ex[1:14]:
        whole = base64.b64decode(ex["request"]["body_b64"])
        kind = dict(ex["request"]["headers"])["X-RequestType"]
        for cut in sorted({1, len(whole) // 2, len(whole) - 1}):
            b.call(kind, whole[:cut], rc="12")
        b.call(kind, whole + b"\0", rc="12")
    assert [r[TAG_NAME] for r in b.rows()["rows"]] == ORDER
