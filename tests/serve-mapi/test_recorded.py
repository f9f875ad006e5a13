"""`mailfs serve --mapi` answering the requests a real client sent to a
real server (scenarios 01, 02 and 03 of tests/data/mapi-traces/), replayed
with the cookies our server gives: our answers must have the layout of
the recorded ones, with the values of our store."""

import base64
import email
import email.header
import struct

import mapi_decode as md
from conftest import (PASSWORD, USER, Client, basic, eml_file,
                      recorded_binary, trace)

TAG_FID, TAG_NAME = 0x67480014, 0x3001001F
TAG_COUNT, TAG_UNREAD = 0x36020003, 0x36030003
TAG_SUBFOLDERS, TAG_CLASS = 0x360A000B, 0x3613001F
TAG_PARENT, TAG_DEPTH = 0x67490014, 0x30050003
TAG_MID, TAG_SUBJECT, TAG_SIZE = 0x674A0014, 0x0037001F, 0x0E080003
TAG_FLAGS, TAG_DELIVERY, TAG_MSGID = 0x0E070003, 0x0E060040, 0x1035001F
TAG_LASTMOD, TAG_CHANGEKEY = 0x30080040, 0x65E20102
NOT_FOUND = 0x8004010F

MAPI_HEADERS = ("X-RequestType", "X-RequestId", "X-ClientInfo")


def check_success_headers(reply, exchange):
    assert reply.status == 200, reply.body
    assert reply.header("Content-Type") == "application/mapi-http"
    assert reply.header("X-ResponseCode") == "0"
    assert reply.header("X-PendingPeriod") == "30000"
    assert reply.header("X-ExpirationInfo") == "900000"
    assert reply.header("X-ServerApplication")
    sent = dict(exchange["request"]["headers"])
    for h in MAPI_HEADERS:
        assert reply.header(h) == sent[h]
    names = [c.split("=")[0] for c in reply.all("Set-Cookie")]
    assert "sid" in names


def replay_exec(client, exchange, tables):
    reply = client.replay(exchange)
    check_success_headers(reply, exchange)
    body = base64.b64decode(exchange["request"]["body_b64"])
    ours = md.execute_response(reply.binary(), body, tables)
    assert ours["status"] == 0 and ours["error"] == 0
    assert ours["left"] == 0
    return ours


def recorded_exec(exchange, tables):
    body = base64.b64decode(exchange["request"]["body_b64"])
    return md.execute_response(recorded_binary(exchange), body, tables)


def test_connect_logon_disconnect(mapi_server):
    ex = trace("01-connect-logon")["exchanges"]
    c = Client(mapi_server)
    reply = c.replay(ex[0])
    check_success_headers(reply, ex[0])
    assert {"sid", "sequence"} <= set(c.cookies)
    assert len(c.cookies["sid"]) >= 32
    ours = md.connect_response(reply.binary())
    theirs = md.connect_response(recorded_binary(ex[0]))
    assert set(ours) == set(theirs)
    assert ours["status"] == 0 and ours["error"] == 0
    assert ours["display_name"].decode("utf-16-le") == USER
    assert ours["dn_prefix"] == b""
    assert (ours["polls_max"], ours["retry_count"], ours["retry_delay"]) \
        == (theirs["polls_max"], theirs["retry_count"],
            theirs["retry_delay"])

    seq = c.cookies["sequence"]
    t1, t2 = md.Tables(), md.Tables()
    ours = replay_exec(c, ex[1], t1)
    assert c.cookies["sequence"] != seq
    theirs = recorded_exec(ex[1], t2)
    assert [r["id"] for r in ours["rops"]] == [0xFE]
    lo, lt = ours["rops"][0], theirs["rops"][0]
    assert set(lo) == set(lt)
    assert lo["rv"] == 0 and lo["index"] == lt["index"]
    # the same special folder ids as the real server, in the same order
    assert lo["folders"] == lt["folders"]
    assert lo["response_flags"] == lt["response_flags"]
    assert ours["handles"] == theirs["handles"] == [0]

    seq = c.cookies["sequence"]
    reply = c.replay(ex[2])
    check_success_headers(reply, ex[2])
    assert md.simple_response(reply.binary()) == \
        md.simple_response(recorded_binary(ex[2]))
    # Disconnect echoes the sequence it was given
    assert c.cookies["sequence"] == seq
    # and the session is gone
    reply = c.replay(ex[1])
    assert reply.header("X-ResponseCode") == "6"
    assert reply.header("Content-Type").startswith("text/html")
    assert not reply.all("Set-Cookie")

    for e, auth in ((ex[3], basic(USER, PASSWORD + "x")), (ex[4], "")):
        c2 = Client(mapi_server, auth=auth)
        reply = c2.replay(e)
        assert reply.status == e["response"]["status"] == 401
        assert reply.header("WWW-Authenticate").startswith("Basic")
        c2.close()
    c.close()


def folder_rows(result):
    rows = [r for r in result["rops"] if r["id"] == 0x15][0]
    return rows, [{t: md.value(row, t) for t in rows["tags"]}
                  for row in rows["rows"]]


def test_hierarchy(mapi_server):
    ex = trace("02-hierarchy")["exchanges"]
    c = Client(mapi_server)
    c.replay(ex[0])
    ours_t, theirs_t = md.Tables(), md.Tables()
    replay_exec(c, ex[1], ours_t)
    recorded_exec(ex[1], theirs_t)

    # the root's hierarchy table
    ours = replay_exec(c, ex[2], ours_t)
    theirs = recorded_exec(ex[2], theirs_t)
    assert [r["id"] for r in ours["rops"]] == \
        [r["id"] for r in theirs["rops"]] == [0x02, 0x04, 0x12, 0x15]
    assert all(r["rv"] == 0 for r in ours["rops"])
    assert ours["handles"] == theirs["handles"]
    qr, rows = folder_rows(ours)
    qr_t, rows_t = folder_rows(theirs)
    assert ours["rops"][1]["row_count"] == len(rows) == 8
    assert qr["origin"] == qr_t["origin"] == 2
    names = [r[TAG_NAME] for r in rows]
    for n in ("Deferred Action", "Spooler Queue", "Shortcuts", "Finder",
              "Views", "Common Views", "Schedule",
              "Top of Information Store"):
        assert n in names
        assert n in [r[TAG_NAME] for r in rows_t]
    top = rows[names.index("Top of Information Store")]
    assert top[TAG_FID] == md.fid(0x09) and top[TAG_SUBFOLDERS] == 1
    assert top[TAG_PARENT] == md.fid(0x01)
    # system folders have no container class: a flagged row, NotFound,
    # as the real server answers
    finder = rows[names.index("Finder")]
    assert finder[TAG_CLASS] == ("e", NOT_FOUND)
    assert qr["rows"][names.index("Finder")][1] == 1
    t_finder = rows_t[[r[TAG_NAME] for r in rows_t].index("Finder")]
    assert t_finder[TAG_CLASS] == ("e", NOT_FOUND)
    assert finder[TAG_FID] == t_finder[TAG_FID]

    # the IPM subtree with Depth
    ours = replay_exec(c, ex[3], ours_t)
    theirs = recorded_exec(ex[3], theirs_t)
    assert ours["handles"] == theirs["handles"]
    qr, rows = folder_rows(ours)
    _, rows_t = folder_rows(theirs)
    assert qr["tags"] == folder_rows(theirs)[0]["tags"]
    assert TAG_DEPTH in qr["tags"]
    by = {r[TAG_NAME]: r for r in rows}
    inbox = by["Inbox"]
    assert inbox[TAG_FID] == md.fid(0x0D)
    assert (inbox[TAG_COUNT], inbox[TAG_UNREAD]) == (12, 11)
    assert inbox[TAG_SUBFOLDERS] == 1 and inbox[TAG_DEPTH] == 1
    assert inbox[TAG_CLASS] == "IPF.Note"
    t_inbox = [r for r in rows_t if r[TAG_NAME] == "Inbox"][0]
    assert (t_inbox[TAG_COUNT], t_inbox[TAG_UNREAD]) == (12, 11)
    proj = by["Projects"]
    assert proj[TAG_PARENT] == inbox[TAG_FID]
    assert (proj[TAG_COUNT], proj[TAG_UNREAD], proj[TAG_DEPTH]) == (2, 2, 2)
    assert proj[TAG_SUBFOLDERS] == 0
    assert struct.pack("<Q", proj[TAG_FID])[:2] == b"\x01\x00"
    assert by["Calendar"][TAG_CLASS] == "IPF.Appointment"
    assert by["Calendar"][TAG_COUNT] == 1
    assert by["Contacts"][TAG_CLASS] == "IPF.Contact"
    assert by["Contacts"][TAG_COUNT] == 2
    assert by["Sent"][TAG_FID] == md.fid(0x0A)
    assert by["Trash"][TAG_FID] == md.fid(0x0B)
    assert by["Outbox"][TAG_FID] == md.fid(0x0C)
    assert all(r[TAG_DEPTH] in (1, 2) for r in rows)
    # every folder's parent is listed before it
    seen = {md.fid(0x09)}
    for r in rows:
        assert r[TAG_PARENT] in seen
        seen.add(r[TAG_FID])

    # RopRelease x4: no response at all, the handle table as sent
    ours = replay_exec(c, ex[4], ours_t)
    theirs = recorded_exec(ex[4], theirs_t)
    assert ours["rops"] == theirs["rops"] == []
    assert ours["handles"] == theirs["handles"]
    reply = c.replay(ex[5])
    check_success_headers(reply, ex[5])
    c.close()


def eml_subject(prefix):
    with open(eml_file(prefix), "rb") as f:
        msg = email.message_from_binary_file(f)
    parts = email.header.decode_header(msg["Subject"])
    return "".join(p.decode(cs or "ascii") if isinstance(p, bytes) else p
                   for p, cs in parts), msg["Message-ID"].strip()


def test_contents(mapi_server):
    ex = trace("03-contents")["exchanges"]
    c = Client(mapi_server)
    c.replay(ex[0])
    ours_t, theirs_t = md.Tables(), md.Tables()
    replay_exec(c, ex[1], ours_t)
    recorded_exec(ex[1], theirs_t)

    ours = replay_exec(c, ex[2], ours_t)
    theirs = recorded_exec(ex[2], theirs_t)
    assert [r["id"] for r in ours["rops"]] == [0x02, 0x05, 0x12, 0x15]
    assert ours["rops"][1]["row_count"] == 12
    qr, rows = folder_rows(ours)
    qr_t, rows_t = folder_rows(theirs)
    assert qr["origin"] == qr_t["origin"] == 1
    assert len(rows) == len(rows_t) == 7
    # every column there: standard rows, as recorded
    assert [r[1] for r in qr["rows"]] == [r[1] for r in qr_t["rows"]] \
        == [0] * 7
    mids = set()
    for i, (row, row_t) in enumerate(zip(rows, rows_t)):
        subject, msgid = eml_subject("%02d-" % (i + 1))
        assert row[TAG_SUBJECT] == row_t[TAG_SUBJECT] == subject
        assert row[TAG_MSGID] == row_t[TAG_MSGID] == msgid
        assert row[TAG_FLAGS] == row_t[TAG_FLAGS]
        assert len(row[TAG_CHANGEKEY]) == len(row_t[TAG_CHANGEKEY]) == 22
        assert struct.pack("<Q", row[TAG_MID])[:2] == b"\x01\x00"
        assert row[TAG_SIZE] > 0 and row[TAG_DELIVERY] > 0
        assert row[TAG_LASTMOD] > 0
        mids.add(row[TAG_MID])
    assert len(mids) == 7

    ours = replay_exec(c, ex[3], ours_t)
    theirs = recorded_exec(ex[3], theirs_t)
    pos, pos_t = ours["rops"][0], theirs["rops"][0]
    assert (pos["numerator"], pos["denominator"]) == \
        (pos_t["numerator"], pos_t["denominator"]) == (7, 12)
    qr, rows = folder_rows(ours)
    assert qr["origin"] == 2 and len(rows) == 5
    assert rows[4][TAG_SUBJECT] == eml_subject("12-")[0]
    assert rows[3][TAG_FLAGS] == 0x403	# 11 is read

    ours = replay_exec(c, ex[4], ours_t)
    theirs = recorded_exec(ex[4], theirs_t)
    assert ours["rops"][0]["origin"] == theirs["rops"][0]["origin"] == 2
    assert ours["rops"][0]["rows"] == theirs["rops"][0]["rows"] == []
    replay_exec(c, ex[5], ours_t)
    check_success_headers(c.replay(ex[6]), ex[6])
    c.close()
