"""`mailfs serve --mapi`: ICS contents downloads (MS-OXCFXICS).  The
requests are built as 08-ics.json's client sent them; the FastTransfer
stream is read by ics_client.py's reader (proven first against the
recorded stream of a real server) and compared with the store's files
read by Python's email package.  Then the store changes (a flag, \\Seen,
a file removed, one delivered) and a download with the state of the one
before must say exactly that."""

import base64
import email
import email.policy
import glob
import hashlib
import os
import shutil

import ics_client as ic
from conftest import Server, check_log, eml_file, trace

TAG_SUBJECT = 0x0037001F
TAG_MSGID = 0x1035001F
TAG_FLAGS = 0x0E070003
TAG_BODY = 0x1000001F
SOURCE_KEY, CHANGE_KEY, PCL = 0x65E00102, 0x65E20102, 0x65E30102
MID, SIZE, CN = 0x674A0014, 0x0E080003, 0x67A40014
LAST_MOD, ASSOCIATED = 0x30080040, 0x67AA000B
HEADER = [SOURCE_KEY, LAST_MOD, CHANGE_KEY, PCL, ASSOCIATED, MID, SIZE, CN]
GIVEN, SEEN, SEEN_FAI, READ = 0x40170003, 0x67960102, 0x67DA0102, 0x67D20102
DELETED, IDS_READ, IDS_UNREAD = 0x67E50102, 0x402D0102, 0x402E0102


def recorded_stream():
    ex = trace("08-ics")["exchanges"]
    out = b""
    for e in ex[4:36]:
        body = base64.b64decode(e["response"]["body_b64"])
        payload, _, _ = ic.fw.parse_execute_response(
            body[e["response"]["mh_binary_offset"]:])
        res, _ = ic.read_responses(payload)
        out += res[0]["buf"]
    return out


def test_reader_reads_the_recorded_stream():
    data = recorded_stream()
    assert hashlib.sha256(data).hexdigest().startswith("99040b7a")
    changes, dels, reads, state = ic.contents_sync(data)
    assert len(changes) == 12
    el = ic.fx_elements(data)
    assert el.count(("m", "StartRecip")) == 16   # one in the embedded one
    assert sum(c["recips"] for c in changes) == 15
    assert sum(c["attach"] for c in changes) == 3
    assert list(changes[0]["header"]) == HEADER
    assert changes[0]["props"][0x001A001E] == "IPM.Note"
    assert set(state) == {GIVEN, SEEN, SEEN_FAI, READ}
    assert not dels and not reads


def store_files(store, folder="INBOX"):
    """Message-ID -> path of the store's files."""
    out = {}
    for sub in ("cur", "new"):
        for p in glob.glob(os.path.join(store, folder, sub, "*")):
            with open(p, "rb") as f:
                m = email.message_from_binary_file(
                    f, policy=email.policy.default)
            out[m["message-id"]] = p
    return out


def check_against_store(changes, files):
    """Every change is a store message with its properties."""
    for c in changes:
        h, p = c["header"], c["props"]
        assert list(h) == HEADER
        path = files[p[TAG_MSGID]]
        with open(path, "rb") as f:
            m = email.message_from_binary_file(f,
                                               policy=email.policy.default)
        assert p[TAG_SUBJECT] == str(m["subject"])
        assert h[SIZE] == os.path.getsize(path)
        letters = path.split(":2,")[1] if ":2," in path else ""
        assert bool(p[TAG_FLAGS] & 1) == ("S" in letters)
        sk = h[SOURCE_KEY]
        assert len(sk) == 22 and ic.counter(h[MID]) == int.from_bytes(
            sk[16:], "big")
        assert h[CHANGE_KEY][:16] == sk[:16]
        assert ic.counter(h[CN]) == int.from_bytes(h[CHANGE_KEY][16:], "big")
        assert h[PCL] == bytes([22]) + h[CHANGE_KEY]
        assert h[ASSOCIATED] == 0
        if m.get_body(("plain",)) is not None and TAG_BODY in p:
            want = m.get_body(("plain",)).get_content()
            assert p[TAG_BODY].replace("\r\n", "\n").strip() == \
                want.replace("\r\n", "\n").strip()
        n_to = sum(len(m.get_all(k, [])) and len(
            email.utils.getaddresses(m.get_all(k, [])))
            for k in ("to", "cc", "bcc"))
        assert c["recips"] == n_to


def test_full_then_incremental(mapi_server):
    store = mapi_server.store
    sess = ic.Session(mapi_server)
    stream, pieces = ic.download(sess)
    changes, dels, reads, state = ic.contents_sync(stream)
    files = store_files(store)
    # every message of the Inbox, newest first, as the store has it
    assert len(changes) == 12
    assert [c["props"][TAG_MSGID] for c in changes] == [
        "<m12.flag@example.test>", "<m11.read@example.test>",
        "<m10.reply@example.test>", "<m09.ccbcc@example.test>",
        "<m08.large@example.test>", "<m07.outer@example.test>",
        "<m06.inline@example.test>", "<m05.pdf@example.test>",
        "<m04.alt@example.test>", "<m03.html@example.test>",
        "<m02.utf8@example.test>", "<m01.plain@example.test>"]
    check_against_store(changes, files)
    assert [c["attach"] for c in changes if c["attach"]] != []
    assert not dels and not reads
    # pieces of at most what was asked, Partial then Done, counts that
    # end at the total
    assert all(len(p["buf"]) <= 0xFFFF for p in pieces)
    assert [p["status"] for p in pieces] == [1] * (len(pieces) - 1) + [3]
    assert pieces[-1]["progress"] == pieces[-1]["total"] == 13
    mids = {c["props"][TAG_MSGID]: ic.counter(c["header"][MID])
            for c in changes}
    cns = {c["props"][TAG_MSGID]: ic.counter(c["header"][CN])
           for c in changes}
    guid = changes[0]["header"][SOURCE_KEY][:16]
    given = ic.idset(state[GIVEN], True)
    assert given == {guid: set(mids.values())}
    seen = ic.idset(state[SEEN], True)[guid]
    assert set(cns.values()) <= seen
    assert ic.idset(state[READ], True)[guid] >= set(cns.values())

    # the same state again: nothing changed
    stream2, _ = ic.download(sess, state)
    changes2, dels2, reads2, state2 = ic.contents_sync(stream2)
    assert (changes2, dels2, reads2) == ([], {}, {})
    assert ic.idset(state2[GIVEN], True) == given

    # flag one, read one, remove one, deliver one
    os.rename(files["<m01.plain@example.test>"],
              files["<m01.plain@example.test>"] + "F")
    os.rename(files["<m02.utf8@example.test>"],
              files["<m02.utf8@example.test>"] + "S")
    os.rename(files["<m11.read@example.test>"],
              files["<m11.read@example.test>"][:-1])
    os.unlink(files["<m03.html@example.test>"])
    shutil.copyfile(eml_file("15-"), os.path.join(
        store, "INBOX", "new", "1800000000.m15.test"))
    stream3, _ = ic.download(sess, state2, pieces=3)
    changes3, dels3, reads3, state3 = ic.contents_sync(stream3)
    files = store_files(store)
    assert [c["props"][TAG_MSGID] for c in changes3] == [
        "<m15.notify@example.test>", "<m01.plain@example.test>"]
    check_against_store(changes3, files)
    new_mid = ic.counter(changes3[0]["header"][MID])
    assert new_mid not in mids.values()
    assert ic.counter(changes3[1]["header"][MID]) == \
        mids["<m01.plain@example.test>"]
    assert ic.counter(changes3[1]["header"][CN]) > max(cns.values())
    assert changes3[1]["header"][LAST_MOD] > changes[-1]["header"][LAST_MOD]
    assert ic.idset(dels3[DELETED], False) == {
        1: {mids["<m03.html@example.test>"]}}
    assert ic.idset(reads3[IDS_READ], False) == {
        1: {mids["<m02.utf8@example.test>"]}}
    assert ic.idset(reads3[IDS_UNREAD], False) == {
        1: {mids["<m11.read@example.test>"]}}
    given3 = ic.idset(state3[GIVEN], True)[guid]
    assert given3 == (set(mids.values()) -
                      {mids["<m03.html@example.test>"]}) | {new_mid}

    # and after that, nothing again
    stream4, _ = ic.download(sess, state3)
    assert ic.contents_sync(stream4)[:3] == ([], {}, {})
    sess.close()


def test_small_pieces_give_the_same_stream(mapi_server):
    sess = ic.Session(mapi_server)
    big, _ = ic.download(sess)
    small, pieces = ic.download(sess, maximum=1000)
    assert small == big
    assert len(pieces) == -(-len(big) // 1000)
    assert all(len(p["buf"]) == 1000 for p in pieces[:-1])
    sess.close()


def test_flags_of_the_download(mapi_server):
    sess = ic.Session(mapi_server)
    # only the properties named; no recipients, no attachments
    stream, _ = ic.download(sess, flags=0x2129 | 0x0080,
                            tags=[TAG_SUBJECT, TAG_MSGID])
    changes, _, _, state = ic.contents_sync(stream)
    assert len(changes) == 12
    for c in changes:
        assert set(c["props"]) == {TAG_SUBJECT, TAG_MSGID}
        assert c["recips"] == c["attach"] == 0
    # the header without Eid, MessageSize, Cn
    stream, _ = ic.download(sess, extra=0)
    changes, _, _, _ = ic.contents_sync(stream)
    assert list(changes[0]["header"]) == HEADER[:5]
    # Normal not asked: no messages, but the state all the same
    stream, _ = ic.download(sess, flags=0x0001)
    changes, _, _, state = ic.contents_sync(stream)
    assert changes == [] and GIVEN in state
    sess.close()


def test_bad_requests(mapi_server):
    sess = ic.Session(mapi_server)
    res, handles = sess.execute(ic.open_folder(ic.INBOX) +
                                ic.sync_configure(),
                                [sess.logon, ic.NO_HANDLE, ic.NO_HANDLE])
    h = handles[2]
    # a state that does not decode: an error, and the server goes on
    for bad in (b"\x01\x00\x07", b"\x01" * 16 + b"\x52\x00\x00\x00\x00\x00"
                b"\x05\x00\x00\x00\x00\x00\x01\x00",
                b"\xff" * 16 + b"\x03\x00\x00"):
        res, _ = sess.execute(ic.upload(SEEN, bad), [h])
        assert [r["id"] for r in res] == [0x75, 0x76, 0x77]
        assert res[0]["rv"] == res[1]["rv"] == 0
        assert res[2]["rv"] == 0x8004011B
    # a property that is no state; Continue and End without Begin
    res, _ = sess.execute(bytes([0x75, 0, 0]) + ic.fw.u32(0x0037001F) +
                          ic.fw.u32(0) + bytes([0x77, 0, 0]), [h])
    assert res[0]["rv"] == 0x80070057 and res[1]["rv"] != 0
    # more state than the server takes
    res, _ = sess.execute(bytes([0x75, 0, 0]) + ic.fw.u32(SEEN) +
                          ic.fw.u32(0x7FFFFFFF), [h])
    assert res[0]["rv"] == 0x80040305
    # restrictions are refused, said so
    res, _ = sess.execute(ic.open_folder(ic.INBOX) +
                          ic.sync_configure(restriction=b"\x08\x00\x00"),
                          [sess.logon, ic.NO_HANDLE, ic.NO_HANDLE])
    assert res[1]["rv"] == 0x80040102
    # GetBuffer on a folder, not a download
    res, _ = sess.execute(ic.get_buffer(), [handles[1]])
    assert res[0]["rv"] == 0x80070057
    # after it all, a download still works
    stream, _ = ic.download(sess)
    assert len(ic.contents_sync(stream)[0]) == 12
    sess.close()


def test_change_numbers_survive_a_restart(mapi_server, workdir):
    sess = ic.Session(mapi_server)
    stream, _ = ic.download(sess)
    state = ic.contents_sync(stream)[3]
    sess.close()
    check_log(mapi_server, mapi_server.stop())
    again = Server(mapi_server.store, workdir, protocols=("mapi",))
    try:
        sess = ic.Session(again)
        stream, _ = ic.download(sess, state)
        assert ic.contents_sync(stream)[:3] == ([], {}, {})
        sess.close()
    finally:
        check_log(again, again.stop())


def test_hierarchy(mapi_server):
    store = mapi_server.store
    sess = ic.Session(mapi_server)
    ipm = ic.md.fid(0x09)
    changes, dels, state = ic.hierarchy_sync(
        ic.download_hierarchy(sess, ipm))
    names = [c[0x3001001F] for c in changes]
    for want in ("Inbox", "Projects", "Sent", "Trash", "Drafts",
                 "Contacts", "Calendar", "Outbox"):
        assert names.count(want) == 1, names
    assert not dels
    keys = {}
    for c in changes:
        assert list(c)[:6] == [0x65E10102, SOURCE_KEY, LAST_MOD,
                               CHANGE_KEY, PCL, 0x3001001F]
        sk = c[SOURCE_KEY]
        assert ic.counter(c[0x67480014]) == int.from_bytes(sk[16:], "big")
        keys[sk] = c
    for c in changes:
        if c[0x67490014] == ipm:
            assert c[0x65E10102] == b""
        else:   # a parent listed before its children
            parent = keys[c[0x65E10102]]
            assert changes.index(parent) < changes.index(c)
    proj = [c for c in changes if c[0x3001001F] == "Projects"][0]
    assert keys[proj[0x65E10102]][0x3001001F] == "Inbox"
    # again with the state: nothing; then a folder made, one removed
    again = ic.hierarchy_sync(ic.download_hierarchy(sess, ipm, state))
    assert again[:2] == ([], {})
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(store, "Archive", sub))
    shutil.rmtree(os.path.join(store, "Drafts"))
    changes2, dels2, _ = ic.hierarchy_sync(
        ic.download_hierarchy(sess, ipm, again[2]))
    assert [c[0x3001001F] for c in changes2] == ["Archive"]
    drafts = [c for c in changes if c[0x3001001F] == "Drafts"][0]
    assert ic.idset(dels2[DELETED], False) == {
        1: {ic.counter(drafts[0x67480014])}}
    sess.close()
