"""`mailfs serve --mapi`: the session rules of MS-OXCMAPIHTTP (cookies,
sequence, expiry after Disconnect, the spec's X-ResponseCode values),
authentication, body bounds, ROP buffers that lie, and ids that outlive a
restart."""

import base64
import struct

import fakemapi_wire as fw
import mapi_decode as md
from conftest import (USER, Client, Server, check_log, trace, wait_until)

EX01 = trace("01-connect-logon")["exchanges"]
CONNECT, LOGON = EX01[0], EX01[1]
PATH = "/mapi/emsmdb/?MailboxId=whatever@example.test"
EC_RPC_FORMAT = 0x000004B6


def headers(rtype, n=1):
    return [("Content-Type", "application/mapi-http"),
            ("X-RequestType", rtype),
            ("X-RequestId", "{a0000009-0000-4000-8000-000000000009}:%d" % n),
            ("X-ClientInfo", "{a0000009-0000-4000-8000-000000000009}")]


def execute_body(rops, handles, chain=None):
    payload = fw.build_payload(rops, handles)
    ext = chain if chain is not None else (
        fw.u16(0) + fw.u16(4) + fw.u16(len(payload)) +
        fw.u16(len(payload)) + payload)
    return (fw.u32(0) + fw.u32(len(ext)) + ext + fw.u32(0x10008) +
            fw.u32(0))


def logon_rops():
    rops, _ = md.request_rops(base64.b64decode(LOGON["request"]["body_b64"]))
    return rops[0]["raw"]


def session(server):
    c = Client(server)
    reply = c.replay(CONNECT)
    assert reply.header("X-ResponseCode") == "0"
    return c


def execute(c, rops, handles, cookies=None):
    body = execute_body(rops, handles)
    reply = c.post(PATH, headers("Execute"), body, cookies)
    if reply.header("X-ResponseCode") != "0":
        return reply, None
    return reply, md.execute_response(reply.binary(), body, md.Tables())


def test_sequence_rules(mapi_server):
    c = session(mapi_server)
    stale = dict(c.cookies)
    reply, res = execute(c, logon_rops(), [0xFFFFFFFF])
    assert res["rops"][0]["rv"] == 0
    # the old sequence: refused with the spec's code, nothing consumed
    reply, _ = execute(c, logon_rops(), [0xFFFFFFFF], cookies=stale)
    assert reply.header("X-ResponseCode") == "15"
    assert reply.header("Content-Type").startswith("text/html")
    assert b"one request at a time" in reply.body
    assert not reply.all("Set-Cookie")
    reply, res = execute(c, logon_rops(), [0xFFFFFFFF])
    assert res["rops"][0]["rv"] == 0
    # a request the server refuses costs no sequence
    reply = c.post(PATH, headers("Bogus"), b"")
    assert reply.header("X-ResponseCode") == "5"
    reply = c.post(PATH, [h for h in headers("x") if h[0] !=
                          "X-RequestType"], b"")
    assert reply.header("X-ResponseCode") == "7"
    reply, res = execute(c, logon_rops(), [0xFFFFFFFF])
    assert res is not None
    # no cookies at all; a sid nobody gave
    reply, _ = execute(c, logon_rops(), [0xFFFFFFFF], cookies={})
    assert reply.header("X-ResponseCode") == "13"
    forged = dict(c.cookies, sid="0" * 32)
    reply, _ = execute(c, logon_rops(), [0xFFFFFFFF], cookies=forged)
    assert reply.header("X-ResponseCode") == "6"
    # Disconnect ends it: the same cookies are refused after
    reply = c.post(PATH, headers("Disconnect"), fw.u32(0))
    assert reply.header("X-ResponseCode") == "0"
    reply, _ = execute(c, logon_rops(), [0xFFFFFFFF])
    assert reply.header("X-ResponseCode") == "6"
    # the NSPI endpoint takes a Bind, not an empty body (test_nspi.py
    # has the rest)
    reply = c.post("/mapi/nspi/?MailboxId=x", headers("Bind"), b"")
    assert reply.header("X-ResponseCode") == "12"
    c.close()


def test_two_sessions_apart(mapi_server):
    a, b = session(mapi_server), session(mapi_server)
    assert a.cookies["sid"] != b.cookies["sid"]
    _, ra = execute(a, logon_rops(), [0xFFFFFFFF])
    _, rb = execute(b, logon_rops(), [0xFFFFFFFF])
    # each session has its own objects: both logons are handle 0
    assert ra["handles"] == rb["handles"] == [0]
    # a's sid with b's sequence is not a's sequence
    mixed = {"sid": a.cookies["sid"], "sequence": b.cookies["sequence"]}
    reply, _ = execute(a, logon_rops(), [0xFFFFFFFF], cookies=mixed)
    assert reply.header("X-ResponseCode") == "15"
    a.close()
    b.close()


def test_notification_wait(mapi_server):
    c = session(mapi_server)
    seq = c.cookies["sequence"]
    reply = c.post(PATH, headers("NotificationWait"), fw.u32(0) + fw.u32(0))
    assert reply.header("X-ResponseCode") == "0"
    rd = fw.Rd(reply.binary())
    assert (rd.u32(), rd.u32(), rd.u32(), rd.u32()) == (0, 0, 0, 0)
    # no new sequence for a NotificationWait
    assert c.cookies["sequence"] == seq
    assert [s.split("=")[0] for s in reply.all("Set-Cookie")] == ["sid"]
    c.close()


def test_unauthenticated_and_bounds(mapi_server):
    c = Client(mapi_server, auth="")
    reply = c.replay(CONNECT)
    assert reply.status == 401
    assert "Basic" in reply.header("WWW-Authenticate")
    c.close()
    c = Client(mapi_server)
    reply = c.post(PATH, headers("Connect"), b"\0" * (1024 * 1024 + 1))
    assert reply.status == 413
    c.close()
    c = Client(mapi_server)
    # a GET is not served
    c.conn.request("GET", PATH, headers={"Authorization": c.auth})
    resp = c.conn.getresponse()
    resp.read()
    assert resp.status == 405
    # a Connect body cut short
    reply = c.post(PATH, headers("Connect"), b"\0\0")
    assert reply.header("X-ResponseCode") == "12"
    c.close()


def test_bad_rop_buffers(mapi_server):
    c = session(mapi_server)
    _, res = execute(c, logon_rops(), [0xFFFFFFFF])
    logon = res["handles"][0]
    open_inbox = bytes([0x02, 0, 0, 1]) + fw.u64(md.fid(0x0D)) + b"\0"
    # cut short: a failure answer for that ROP, and the ROPs before it
    # answered
    body = execute_body(open_inbox + open_inbox[:6], [logon, 0xFFFFFFFF])
    reply = c.post(PATH, headers("Execute"), body)
    payload, status, error = fw.parse_execute_response(reply.binary())
    rops, handles = fw.split_payload(payload)
    assert (status, error) == (0, 0)
    # OpenFolder's answer (head, HasRules, IsGhosted), then the head alone
    assert rops == (bytes([0x02, 1]) + fw.u32(0) + b"\0\0" +
                    bytes([0x02, 0]) + fw.u32(EC_RPC_FORMAT))
    assert handles[0] == logon and handles[1] != 0xFFFFFFFF
    # an input index past the handle table, an output index past it, an
    # empty slot
    bad_in = bytes([0x02, 0, 9, 1]) + fw.u64(md.fid(0x0D)) + b"\0"
    bad_out = bytes([0x02, 0, 0, 9]) + fw.u64(md.fid(0x0D)) + b"\0"
    from_empty = bytes([0x02, 0, 1, 0]) + fw.u64(md.fid(0x0D)) + b"\0"
    _, res = execute(c, bad_in + bad_out + from_empty,
                     [logon, 0xFFFFFFFF])
    assert [r["rv"] for r in res["rops"]] == \
        [0x80070057, 0x80070057, 0x000004B9]
    # a folder that does not exist
    ghost = bytes([0x02, 0, 0, 1]) + fw.u64(md.fid(0x7777)) + b"\0"
    _, res = execute(c, ghost, [logon, 0xFFFFFFFF])
    assert res["rops"][0]["rv"] == 0x8004010F
    # a ROP not run yet: MAPI_E_NO_SUPPORT, and the log names it
    _, res = execute(c, bytes([0x0D, 0, 0, 0, 0, 0, 0]), [logon])
    assert res["rops"][0]["id"] == 0x0D
    assert res["rops"][0]["rv"] == 0x80040102
    # the log is read by a thread of its own: give it a moment
    want = "RopRemoveAllRecipients (0x0d) not supported"
    assert wait_until(lambda: want in mapi_server.log(), 5), \
        mapi_server.log()
    # a RopSize that lies, a chain with no Last buffer, compressed junk:
    # the Execute fails as a whole with ecRpcFormat
    payload = fw.u16(200) + open_inbox + fw.u32(logon)
    lying = fw.u16(0) + fw.u16(4) + fw.u16(len(payload)) + \
        fw.u16(len(payload)) + payload
    no_last = fw.u16(0) + fw.u16(0) + fw.u16(len(payload)) + \
        fw.u16(len(payload)) + payload
    junk = fw.u16(0) + fw.u16(5) + fw.u16(4) + fw.u16(4000) + b"\xff" * 4
    for chain in (lying, no_last, junk, b"\x00"):
        body = execute_body(b"", [], chain=chain)
        reply = c.post(PATH, headers("Execute"), body)
        assert reply.header("X-ResponseCode") == "0"
        rd = fw.Rd(reply.binary())
        assert rd.u32() == 0 and rd.u32() == EC_RPC_FORMAT
    # an Execute body that lies about its sizes
    reply = c.post(PATH, headers("Execute"), fw.u32(0) + fw.u32(9999))
    assert reply.header("X-ResponseCode") == "12"
    # and the server still serves, the session included
    _, res = execute(c, open_inbox, [logon, 0xFFFFFFFF])
    assert res["rops"][0]["rv"] == 0
    c.close()


def test_table_cursor(mapi_server):
    c = session(mapi_server)
    _, res = execute(c, logon_rops(), [0xFFFFFFFF])
    logon = res["handles"][0]
    rops = (bytes([0x02, 0, 0, 1]) + fw.u64(md.fid(0x0D)) + b"\0" +
            bytes([0x05, 0, 1, 2, 0x40]) +
            bytes([0x12, 0, 2, 0]) + fw.u16(1) + fw.u32(0x674A0014) +
            bytes([0x18, 0, 2, 2]) + struct.pack("<i", -3) + b"\1" +
            bytes([0x15, 0, 2, 0, 1]) + fw.u16(10) +
            bytes([0x18, 0, 2, 0]) + struct.pack("<i", -1) + b"\1" +
            bytes([0x17, 0, 2]) +
            bytes([0x15, 0, 2, 0, 0]) + fw.u16(2))
    _, res = execute(c, rops, [logon, 0xFFFFFFFF, 0xFFFFFFFF])
    r = res["rops"]
    assert [x["rv"] for x in r] == [0] * 8
    assert (r[3]["sought"], r[3]["sought_less"]) == (-3, 0)
    assert len(r[4]["rows"]) == 3 and r[4]["origin"] == 2
    assert (r[5]["sought"], r[5]["sought_less"]) == (0, 1)
    assert (r[6]["numerator"], r[6]["denominator"]) == (0, 12)
    # reading backwards from the start: nothing, at the beginning
    assert r[7]["rows"] == [] and r[7]["origin"] == 0
    c.close()


def test_autodiscover(mapi_server):
    ex = trace("10-autodiscover")["exchanges"][0]
    c = Client(mapi_server)
    q = ex["request"]
    body = base64.b64decode(q["body_b64"])
    c.conn.request("POST", "/autodiscover/autodiscover.xml", body=body,
                   headers={"Authorization": c.auth,
                            "Content-Type": "text/xml"})
    resp = c.conn.getresponse()
    xml = resp.read().decode()
    assert resp.status == 200
    port = mapi_server.port["mapi"]
    assert 'Type="mapiHttp"' in xml
    assert "http://127.0.0.1:%d/mapi/emsmdb/?MailboxId=" % port in xml
    assert "http://127.0.0.1:%d/mapi/nspi/?MailboxId=" % port in xml
    assert "<DisplayName>%s</DisplayName>" % USER in xml
    assert "/cn=Recipients/cn=%s</LegacyDN>" % USER in xml
    c.close()


def test_ids_outlive_restart(mapi_server, workdir):
    def projects_and_mids(server):
        c = session(server)
        _, res = execute(c, logon_rops(), [0xFFFFFFFF])
        logon = res["handles"][0]
        rops = (bytes([0x02, 0, 0, 1]) + fw.u64(md.fid(0x09)) + b"\0" +
                bytes([0x04, 0, 1, 2, 0x44]) +
                bytes([0x12, 0, 2, 0]) + fw.u16(2) + fw.u32(0x67480014) +
                fw.u32(0x3001001F) +
                bytes([0x15, 0, 2, 0, 1]) + fw.u16(100) +
                bytes([0x02, 0, 0, 3]) + fw.u64(md.fid(0x0D)) + b"\0" +
                bytes([0x05, 0, 3, 4, 0x40]) +
                bytes([0x12, 0, 4, 0]) + fw.u16(1) + fw.u32(0x674A0014) +
                bytes([0x15, 0, 4, 0, 1]) + fw.u16(100))
        _, res = execute(c, rops, [logon] + [0xFFFFFFFF] * 4)
        folders = {md.value(row, 0x3001001F): md.value(row, 0x67480014)
                   for row in res["rops"][3]["rows"]}
        mids = [md.value(row, 0x674A0014) for row in res["rops"][7]["rows"]]
        c.close()
        return folders, mids

    before = projects_and_mids(mapi_server)
    check_log(mapi_server, mapi_server.stop())
    again = Server(mapi_server.store, workdir, protocols=("mapi",))
    try:
        after = projects_and_mids(again)
    finally:
        check_log(again, again.stop())
    assert before == after
    assert len(set(before[1])) == 12
    assert before[0]["Projects"] == after[0]["Projects"]


def test_session_bound(mapi_server):
    # 32 sessions of one user at most: the 33rd Connect makes room by
    # forgetting the one unused longest
    clients = [session(mapi_server) for _ in range(33)]
    reply, _ = execute(clients[0], logon_rops(), [0xFFFFFFFF])
    assert reply.header("X-ResponseCode") == "6"
    for c in clients[1:]:
        reply, res = execute(c, logon_rops(), [0xFFFFFFFF])
        assert res["rops"][0]["rv"] == 0
    for c in clients:
        c.close()


def test_chained_rop_buffers(mapi_server):
    # two extended buffers, the second Last: each ROP buffer is run and
    # answered in an extended buffer of its own (MS-OXCRPC 3.1.4.2)
    c = session(mapi_server)
    p1 = fw.build_payload(logon_rops(), [0xFFFFFFFF])
    p2 = fw.build_payload(logon_rops(), [0xFFFFFFFF])
    chain = (fw.u16(0) + fw.u16(0) + fw.u16(len(p1)) + fw.u16(len(p1)) +
             p1 + fw.u16(0) + fw.u16(4) + fw.u16(len(p2)) +
             fw.u16(len(p2)) + p2)
    reply = c.post(PATH, headers("Execute"), execute_body(b"", [], chain))
    rd = fw.Rd(reply.binary())
    assert (rd.u32(), rd.u32(), rd.u32()) == (0, 0, 0)
    ropbuf = fw.Rd(rd.take(rd.u32()))
    handles = []
    for last in (0, 4):
        assert (ropbuf.u16(), ropbuf.u16()) == (0, last)
        size, actual = ropbuf.u16(), ropbuf.u16()
        assert size == actual
        rops, h = fw.split_payload(ropbuf.take(size))
        assert rops[0] == 0xFE and rops[2:6] == fw.u32(0)
        handles += h
    assert ropbuf.left() == 0
    # two logons, two objects
    assert handles == [0, 1]
    c.close()
