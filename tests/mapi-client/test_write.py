"""The MAPI over HTTP client's changes (protocols/mapi: write.c, msgops.c,
fldops.c) against tests/harness/fakemapi.py with the changes model of
fakewrite.py: a message made from MIME (recipients, a big body by
stream, attachments, an attached message), flags, removal with and
without hard delete, move and copy with the new MIDs found, folders made,
renamed and deleted; the ROPs checked against what the recordings show a
real server taking, and the model's answers against the recorded bytes.

The `server` fixture is the one place that names the peer, so that a
server taking these changes (`mailfs serve --mapi`) can be added to its
parameters when it does.
"""

import base64
import email
import email.policy
import hashlib
import json
import os
import sys

import pytest

from conftest import HERE, TESTS, USER, PASSWORD

sys.path.insert(0, HERE)
import fakewrite  # noqa: E402
from fakemapi_wire import (Rd, parse_execute, open_rpc_ext,  # noqa: E402
                           split_payload, parse_rops,
                           parse_execute_response, u64)

INBOX = "0x0D00000000000001"
PROJECTS = "0x00001D0000000001"
PLAIN = 0x0000030000000001          # 01 Plain ASCII message, unread
HTML_ONLY = 0x0200030000000001      # 03 HTML only message
ALPHA = 0x01001D0000000001          # 13 Project Alpha kickoff
EML = os.path.join(TESTS, "data", "mapi-traces", "eml")
TRACES = os.path.join(TESTS, "data", "mapi-traces")


@pytest.fixture(params=["fakemapi"])
def server(request):
    f = fakewrite.FakeWriteMAPI(user=USER, password=PASSWORD)
    yield f
    f.stop()


def _ok(server, r):
    assert r.returncode == 0, r.stderr
    assert server.errors == []
    assert server.unanswered == []


def _rops(server):
    """Every ROP request the client sent, decoded by the harness's own
    reader, in order."""
    out = []
    for kind, _path, _headers, body in server.requests:
        if kind != "Execute":
            continue
        _flags, ropbuf, _max, _aux = parse_execute(body)
        rops, _handles = split_payload(open_rpc_ext(ropbuf))
        out += parse_rops(rops)
    return out


def _named(rops, name):
    return [r for r in rops if r["name"] == name]


def _recorded(scenario, name):
    """The requests `name` of a recorded scenario."""
    with open(os.path.join(TRACES, scenario + ".json")) as f:
        ex = json.load(f)["exchanges"]
    out = []
    for e in ex:
        if dict(e["request"]["headers"]).get("X-RequestType") != "Execute":
            continue
        _f, ropbuf, _m, _a = parse_execute(
            base64.b64decode(e["request"]["body_b64"]))
        rops, _h = split_payload(open_rpc_ext(ropbuf))
        out += [r for r in parse_rops(rops) if r["name"] == name]
    return out


def _h(v):
    return "0x%016X" % v


def _utf16(raw):
    return raw[:-2].decode("utf-16-le")


# ---- a new message ----

def test_create_sends_what_the_real_server_took(server, probe):
    r = probe(server, "create", PROJECTS, os.path.join(EML, "09-cc-bcc.eml"))
    _ok(server, r)
    # the MID the real server gave the message made in Projects
    assert r.values("mid") == ["0x03001D0000000001"]
    rops = _rops(server)
    rec = _recorded("05-write", "CreateMessage")[0]
    cm = _named(rops, "CreateMessage")
    assert len(cm) == 1
    assert (cm[0]["cpid"], cm[0]["fid"], cm[0]["assoc"]) == \
        (rec["cpid"], rec["fid"], rec["assoc"])
    mr = _named(rops, "ModifyRecipients")
    assert mr and all(m["tags"] == _recorded("05-write", "ModifyRecipients")
                      [0]["tags"] for m in mr)
    rows = [row for m in mr for row in m["rows"]]
    # RowId, RecipientType, then RecipientFlags as the recording's
    # (0x025B: SMTP, E, D, S, U)
    assert [row[4] for row in rows] == [1, 2, 2, 3]
    assert all(row[5:7] == b"\x5b\x02" for row in rows)
    sv = _named(rops, "SaveChangesMessage")
    assert [s["flags"] for s in sv] == \
        [_recorded("05-write", "SaveChangesMessage")[0]["flags"]]
    m = server.store.w.msgs[0x03001D0000000001]
    subject = m.props[0x0037001F]
    assert _utf16(subject) == "Meeting notes (Cc and Bcc)"
    assert 0x0E080003 not in m.props        # the server's own
    addrs = [row for row in m.recips]
    assert any(b"d\x00a\x00v\x00e\x00@" in row for row in addrs)


def test_create_a_big_body_goes_by_stream(server, probe):
    r = probe(server, "create", PROJECTS, os.path.join(EML, "08-large.eml"))
    _ok(server, r)
    rops = _rops(server)
    streams = _named(rops, "OpenStream")
    assert [s["tag"] for s in streams] == [0x1000001F]
    assert streams[0]["mode"] == 0x02
    writes = _named(rops, "WriteStream")
    assert len(writes) > 1 and all(len(w["data"]) <= 0x3000 for w in writes)
    assert len(_named(rops, "CommitStream")) == 1
    body = server.store.w.msgs[0x03001D0000000001].props[0x1000001F]
    text = body.decode("utf-16-le")
    assert text.endswith("\0")
    assert text.startswith("Line 00000:")
    assert "Line 03199:" in text
    # no Execute bigger than an Execute may be
    for kind, _p, _h2, b in server.requests:
        assert kind != "Execute" or len(b) < 32768


def test_create_attachment_bytes_arrive_whole(server, probe):
    r = probe(server, "create", PROJECTS,
              os.path.join(EML, "05-attachment-pdf.eml"))
    _ok(server, r)
    rops = _rops(server)
    assert len(_named(rops, "CreateAttachment")) == 1
    assert len(_named(rops, "SaveChangesAttachment")) == 1
    m = server.store.w.msgs[0x03001D0000000001]
    assert len(m.attach) == 1
    data = m.attach[0].props[0x37010102]
    with open(os.path.join(EML, "05-attachment-pdf.eml"), "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    want = [p.get_payload(decode=True) for p in msg.walk()
            if p.get_filename() == "report.pdf"][0]
    assert hashlib.sha256(data).hexdigest() == \
        hashlib.sha256(want).hexdigest()
    assert _utf16(m.attach[0].props[0x3707001F]) == "report.pdf"


def test_create_attached_message(server, probe):
    r = probe(server, "create", PROJECTS,
              os.path.join(EML, "07-attached-eml.eml"))
    _ok(server, r)
    rops = _rops(server)
    emb = _named(rops, "OpenEmbeddedMessage")
    assert len(emb) == 1 and emb[0]["mode"] & 0x02
    # the attached message saved before its attachment, then the message
    names = [x["name"] for x in rops
             if x["name"].startswith("SaveChanges")]
    assert names == ["SaveChangesMessage", "SaveChangesAttachment",
                     "SaveChangesMessage"]
    att = server.store.w.msgs[0x03001D0000000001].attach[0]
    assert struct_l(att.props[0x37050003]) == 5
    inner = att.embedded
    assert "Inner forwarded message" in _utf16(inner.props[0x0037001F])


def struct_l(b):
    return int.from_bytes(b, "little")


def test_create_in_a_missing_folder(server, probe):
    r = probe(server, "create", "0x0000990000000001",
              os.path.join(EML, "01-plain-ascii.eml"))
    assert r.returncode == 1
    assert "folder 0x0000990000000001 not found" in r.stderr
    assert "No such file or directory" in r.stderr
    assert server.unanswered == []


def test_create_refuses_what_is_not_mail(server, probe, tmp_path):
    p = tmp_path / "empty.eml"
    p.write_bytes(b"")
    r = probe(server, "create", PROJECTS, str(p))
    assert r.returncode == 1
    assert "no header" in r.stderr
    assert _named(_rops(server), "CreateMessage") == []


# ---- flags ----

def _flags(server, mid):
    return struct_l(server.store.w.msgs[mid].props[0x0E070003])


def test_flags_set_and_cleared(server, probe):
    r = probe(server, "flags", INBOX, "SFR", _h(PLAIN))
    _ok(server, r)
    assert r.values("flags-rc") == [_h(PLAIN) + " 0"]
    m = server.store.w.msgs[PLAIN]
    assert _flags(server, PLAIN) & 0x1
    assert struct_l(m.props[0x10900003]) == 2
    assert struct_l(m.props[0x10810003]) == 102
    rops = _rops(server)
    srf = _named(rops, "SetReadFlags")
    assert [(s["flags"], s["mids"]) for s in srf] == [(0x01, (PLAIN,))]
    # the read flag variants the recording shows a real server taking
    taken = {x["flags"] for x in _recorded("05-write", "SetMessageReadFlag")}
    assert {s["flags"] for s in srf} <= taken

    r = probe(server, "flags", INBOX, "P", _h(PLAIN))
    _ok(server, r)
    assert not _flags(server, PLAIN) & 0x1
    assert 0x10900003 not in m.props
    assert struct_l(m.props[0x10810003]) == 104
    srf = _named(_rops(server), "SetReadFlags")
    assert srf[-1]["flags"] == 0x04 and 0x04 in taken
    dp = _named(_rops(server), "DeleteProperties")
    assert [d["tags"] for d in dp] == [(0x10900003,)]


def test_flags_unchanged_send_no_change(server, probe):
    # 03 is unread and unflagged: nothing to do
    r = probe(server, "flags", INBOX, "-", _h(HTML_ONLY))
    _ok(server, r)
    rops = _rops(server)
    for name in ("SetReadFlags", "SetProperties", "DeleteProperties",
                 "SaveChangesMessage"):
        assert _named(rops, name) == []


def test_flags_batch_with_a_missing_message(server, probe):
    missing = 0x0000990000000001
    r = probe(server, "flags", INBOX, "S",
              "%s,%s" % (_h(PLAIN), _h(missing)))
    _ok(server, r)
    assert r.values("flags-rc") == [_h(PLAIN) + " 0", _h(missing) + " -2"]
    assert _flags(server, PLAIN) & 0x1


def test_flags_of_a_missing_message(server, probe):
    r = probe(server, "flags", INBOX, "S", "0x0000990000000001")
    assert r.returncode == 1
    assert "message 0x0000990000000001 not found in folder " \
        "0x0D00000000000001" in r.stderr
    assert server.unanswered == []


# ---- removal ----

def test_remove_hard(server, probe):
    r = probe(server, "remove", PROJECTS, _h(ALPHA))
    _ok(server, r)
    hd = _named(_rops(server), "HardDeleteMessages")
    assert [h["mids"] for h in hd] == [(ALPHA,)]
    assert ALPHA not in server.store.w.msgs
    r = probe(server, "message", _h(ALPHA), PROJECTS)
    assert r.returncode == 1 and "0x8004010F" in r.stderr


def test_remove_falls_back_where_hard_delete_is_refused(server, probe):
    fakewrite.model_of(server.store).refuse_hard_delete = True
    r = probe(server, "remove", PROJECTS, _h(ALPHA))
    _ok(server, r)
    rops = _rops(server)
    dm = _named(rops, "DeleteMessages")
    rec = _recorded("05-write", "DeleteMessages")[0]
    assert [(d["async"], d["notify"], d["mids"]) for d in dm] == \
        [(rec["async"], rec["notify"], (ALPHA,))]
    assert ALPHA not in server.store.w.msgs


def test_remove_what_is_gone_counts_as_removed(server, probe):
    r = probe(server, "remove", PROJECTS, _h(ALPHA))
    _ok(server, r)
    r = probe(server, "remove", PROJECTS, _h(ALPHA))
    _ok(server, r)


def test_remove_partial_completion_checked(server, probe):
    w = fakewrite.model_of(server.store)
    w.partial_delete = True
    r = probe(server, "remove", PROJECTS, _h(ALPHA))
    _ok(server, r)
    # the server did not say which: the client looked for it again
    om = _named(_rops(server), "OpenMessage")
    assert [o["mid"] for o in om] == [ALPHA]
    w.partial_delete, w.keep_on_delete = False, True
    beta = 0x02001D0000000001
    r = probe(server, "remove", PROJECTS, _h(beta))
    assert r.returncode == 1
    assert "1 of 1 messages of folder 0x00001D0000000001 were not " \
        "removed" in r.stderr
    assert beta in server.store.w.msgs


# ---- move and copy ----

def test_move_finds_the_new_mid(server, probe):
    r = probe(server, "create", PROJECTS,
              os.path.join(EML, "01-plain-ascii.eml"),
              "move", INBOX, PROJECTS, _h(HTML_ONLY))
    _ok(server, r)
    # the MID the real server gave the moved message (05-write #18)
    assert r.values("new-mid") == [_h(HTML_ONLY) + " 0x04001D0000000001"]
    mc = _named(_rops(server), "MoveCopyMessages")
    rec = _recorded("05-write", "MoveCopyMessages")[0]
    assert [(m["mids"], m["async"], m["copy"]) for m in mc] == \
        [(rec["mids"], rec["async"], rec["copy"])]
    assert HTML_ONLY not in server.store.w.msgs
    restrict = _named(_rops(server), "Restrict")
    assert len(restrict) == 1


def test_copy_keeps_the_original(server, probe):
    r = probe(server, "copy", INBOX, PROJECTS, _h(HTML_ONLY))
    _ok(server, r)
    new = int(r.values("new-mid")[0].split()[1], 16)
    assert new != 0 and new != HTML_ONLY
    assert server.store.w.msgs[new].fid == 0x00001D0000000001
    assert HTML_ONLY in server.store.w.msgs


def test_move_of_a_missing_message(server, probe):
    r = probe(server, "move", INBOX, PROJECTS, "0x0000990000000001")
    assert r.returncode == 1
    assert "message 0x0000990000000001 not found" in r.stderr
    assert _named(_rops(server), "MoveCopyMessages") == []


# ---- folders ----

def test_mkfolder_as_the_real_server_took_it(server, probe):
    r = probe(server, "mkfolder", INBOX, "Temp", "mail")
    _ok(server, r)
    # the FID the real server gave "Temp" in 06-folders
    assert r.values("fid") == ["0x00001E0000000001"]
    cf = _named(_rops(server), "CreateFolder")
    rec = _recorded("06-folders", "CreateFolder")[0]
    assert [(c["ftype"], c["unicode"], c["existing"]) for c in cf] == \
        [(rec["ftype"], rec["unicode"], rec["existing"])]
    sp = _named(_rops(server), "SetProperties")
    assert len(sp) == 1
    vals = fakewrite.tagged_values(sp[0]["values"])
    assert _utf16(vals[0x3613001F]) == "IPF.Note"


def test_mkfolder_kinds(server, probe):
    r = probe(server, "mkfolder", INBOX, "People", "contacts",
              "mkfolder", INBOX, "Dates", "calendar")
    _ok(server, r)
    classes = [_utf16(fakewrite.tagged_values(s["values"])[0x3613001F])
               for s in _named(_rops(server), "SetProperties")]
    assert classes == ["IPF.Contact", "IPF.Appointment"]


def test_mkfolder_duplicate_name(server, probe):
    r = probe(server, "mkfolder", INBOX, "Projects", "mail")
    assert r.returncode == 1
    assert 'a folder named "Projects" is already there' in r.stderr
    assert "File exists" in r.stderr
    assert server.unanswered == []


def test_rmfolder_empty(server, probe):
    r = probe(server, "mkfolder", INBOX, "Temp", "mail",
              "rmfolder", INBOX, "0x00001E0000000001")
    _ok(server, r)
    df = _named(_rops(server), "DeleteFolder")
    # no DEL_MESSAGES or DEL_FOLDERS: contents are never deleted
    assert [(d["fid"], d["flags"] & 0x05) for d in df] == \
        [(0x00001E0000000001, 0)]
    assert 0x00001E0000000001 not in server.store.w.folders


def test_rmfolder_not_empty(server, probe):
    r = probe(server, "rmfolder", INBOX, PROJECTS)
    assert r.returncode == 1
    assert "holds messages or folders" in r.stderr
    assert "Directory not empty" in r.stderr
    assert _named(_rops(server), "DeleteFolder") == []
    assert 0x00001D0000000001 in server.store.w.folders


def test_rmfolder_missing(server, probe):
    r = probe(server, "rmfolder", INBOX, "0x0000990000000001")
    assert r.returncode == 1
    assert "folder 0x0000990000000001 not found" in r.stderr


def test_mvfolder_rename_and_move(server, probe):
    r = probe(server, "mkfolder", INBOX, "Temp", "mail",
              "mvfolder", INBOX, "0x00001E0000000001", INBOX, "Renamed",
              "mvfolder", INBOX, "0x00001E0000000001",
              "0x0900000000000001", "Top")
    _ok(server, r)
    mf = _named(_rops(server), "MoveFolder")
    assert [(m["fid"], m["newname"]) for m in mf] == \
        [(0x00001E0000000001, "Renamed"), (0x00001E0000000001, "Top")]
    f = server.store.w.folders[0x00001E0000000001]
    assert (f.parent, f.name) == (0x0900000000000001, "Top")


def test_mvfolder_onto_a_taken_name(server, probe):
    r = probe(server, "mkfolder", INBOX, "Temp", "mail",
              "mvfolder", INBOX, "0x00001E0000000001", INBOX, "projects")
    assert r.returncode == 1
    assert 'a folder named "projects" is already there' in r.stderr


# ---- the model against the recordings ----

@pytest.mark.parametrize("scenario", ["05-write", "06-folders"])
def test_model_answers_as_the_real_server(scenario):
    """The write ROPs of a recorded scenario, replayed through the model
    in one session, get the recorded answers byte for byte."""
    from fakemapi_model import Store
    store = Store()
    session = fakewrite.WriteSession(store, [])
    with open(os.path.join(TRACES, scenario + ".json")) as f:
        exchanges = json.load(f)["exchanges"]
    compared = 0
    for ex in exchanges:
        if dict(ex["request"]["headers"]).get("X-RequestType") != "Execute":
            continue
        body = base64.b64decode(ex["request"]["body_b64"])
        resp = ex["response"]
        out = base64.b64decode(resp["body_b64"])[resp["mh_binary_offset"]:]
        rec_payload, _s, _e = parse_execute_response(out)
        rec_rops, _ = split_payload(rec_payload)
        ours = session.execute_body(body)
        our_rops, _ = split_payload(ours)
        _f, ropbuf, _m, _a = parse_execute(body)
        reqs = parse_rops(split_payload(open_rpc_ext(ropbuf))[0])
        writes = {0x06, 0x0A, 0x0C, 0x0E, 0x1C, 0x1D, 0x1E, 0x33}
        if not any(r["id"] in writes for r in reqs):
            continue
        assert _same_writes(reqs, our_rops, rec_rops, writes), ex["step"]
        compared += 1
    # 05: CreateMessage..SaveChangesMessage, MoveCopyMessages,
    # DeleteMessages; 06: three CreateFolder, two DeleteFolder
    assert compared == (3 if scenario == "05-write" else 5)


def _split(reqs, rops):
    """The response bytes of each request, by the harness's reader."""
    from fakemapi_model import parse_response, Obj
    rd = Rd(rops)
    out = []
    for req in reqs:
        if req["id"] == 0x01:
            out.append(b"")
            continue
        obj = Obj(("table",))
        obj.cols = ()
        start = rd.pos
        parse_response(rd, req, obj)
        out.append(rops[start:rd.pos])
    return out


def _same_writes(reqs, ours, recorded, writes):
    a, b = _split(reqs, ours), _split(reqs, recorded)
    assert len(a) == len(b) == len(reqs)
    for req, x, y in zip(reqs, a, b):
        if req["id"] in writes and x != y:
            return False
    return True


assert u64  # the id layout the model writes


# ---- a server whose answers are cut short ----

@pytest.mark.parametrize("command", [
    ("create", PROJECTS, os.path.join(EML, "07-attached-eml.eml")),
    ("flags", INBOX, "SF", _h(PLAIN)),
    ("remove", PROJECTS, _h(ALPHA)),
    ("move", INBOX, PROJECTS, _h(HTML_ONLY)),
    ("mkfolder", INBOX, "Temp", "mail"),
    ("rmfolder", INBOX, PROJECTS),
    ("mvfolder", INBOX, PROJECTS, INBOX, "Other"),
], ids=lambda c: c[0])
def test_truncated_answers_are_clear_errors(server, probe, command):
    def cut(f):
        f.hostile["Execute"] = "truncated"
    r = probe(server, "logon", "wait", *command, between=cut, limit=60)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("error: " + USER), r.stderr
    assert "malformed" in r.stderr
    assert "Sanitizer" not in r.stderr
    assert server.errors == []


# ---- against mailfs serve --mapi ----
# The other side of this project, on a store shaped like the recorded
# mailbox (tests/serve-mapi's).  It takes the folder-level changes so far;
# the message-level ones (OpenMessage, CreateMessage) join the `server`
# fixture above when it takes them.

def _load_serve_mapi():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "mailfs_serve_mapi_conftest_w",
        os.path.join(HERE, "..", "serve-mapi", "conftest.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def ours(tmp_path):
    sm = _load_serve_mapi()
    store = str(tmp_path / "store")
    sm.build_store(store)
    srv = sm.Server(store, str(tmp_path), protocols=("mapi",))
    srv.sm = sm
    yield srv
    sm.check_log(srv, srv.stop())


def _ours(srv, *commands):
    import subprocess
    from conftest import probe_path
    url = "http://127.0.0.1:%d" % srv.port["mapi"]
    p = subprocess.run([probe_path(), url, srv.sm.USER, srv.sm.PASSWORD] +
                       list(commands), capture_output=True, text=True,
                       timeout=60)
    assert "Sanitizer" not in p.stderr
    return p


def _tree(srv):
    p = _ours(srv, "hierarchy")
    assert p.returncode == 0, p.stderr
    return {r["name"]: r for r in (json.loads(line) for line in
                                   p.stdout.splitlines()
                                   if line.startswith("{"))}


def test_ours_folders_made_renamed_refused(ours):
    p = _ours(ours, "mkfolder", INBOX, "Temp", "mail")
    assert p.returncode == 0, p.stderr
    fid = p.stdout.split()[-1]
    tree = _tree(ours)
    assert tree["Temp"]["fid"] == fid
    assert tree["Temp"]["parent"] == INBOX
    assert tree["Temp"]["class"] == "IPF.Note"
    p = _ours(ours, "mkfolder", INBOX, "Temp", "mail")
    assert p.returncode == 1
    assert 'a folder named "Temp" is already there (File exists)' in p.stderr
    p = _ours(ours, "mvfolder", INBOX, fid, INBOX, "Renamed")
    assert p.returncode == 0, p.stderr
    tree = _tree(ours)
    assert "Temp" not in tree and tree["Renamed"]["fid"] == fid


def test_ours_contacts_folder_has_its_class_or_is_not_made(ours):
    p = _ours(ours, "mkfolder", INBOX, "People", "contacts")
    tree = _tree(ours)
    if p.returncode == 0:
        assert tree["People"]["class"] == "IPF.Contact"
    else:
        assert "does not take the class IPF.Contact" in p.stderr
        assert "People" not in tree


def test_ours_non_empty_folder_stays(ours):
    projects = _tree(ours)["Projects"]
    p = _ours(ours, "rmfolder", INBOX, projects["fid"])
    assert p.returncode == 1
    assert _tree(ours)["Projects"]["count"] == projects["count"]


def test_ours_remove(ours):
    p = _ours(ours, "contents", "inbox")
    mids = [json.loads(line)["mid"] for line in p.stdout.splitlines()
            if line.startswith("{")]
    p = _ours(ours, "remove", "inbox", mids[0])
    assert p.returncode == 0, p.stderr
    p = _ours(ours, "contents", "inbox")
    left = [json.loads(line)["mid"] for line in p.stdout.splitlines()
            if line.startswith("{")]
    assert left == mids[1:]
