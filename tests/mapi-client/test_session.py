"""The MAPI over HTTP client's first layer (protocols/mapi: one request,
the session, Execute batches) against tests/harness/fakemapi.py, which
answers with a real server's recorded bytes: the mailbox's folders,
contents and a large body read as a stream; a wrong password; the
sequence cookie rule; a session the server forgot; hostile answers.
"""

import email
import hashlib
import os

import pytest

from conftest import PASSWORD, SANITIZED, TESTS, USER

INBOX = "0x0D00000000000001"
PROJECTS = "0x00001D0000000001"
LARGE = "0x0700030000000001"
PIDTAGBODY = "0x1000001F"


def _ok(fake, r):
    assert r.returncode == 0, r.stderr
    assert fake.errors == []
    assert fake.unanswered == []


def _cookies(headers):
    out = {}
    for part in headers.get("Cookie", "").split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            out[k] = v
    return out


def test_logon_gives_the_special_folders(fake, probe):
    r = probe(fake, "logon")
    _ok(fake, r)
    assert r.values("display-name") == ["Alice Test"]
    folders = dict(v.split(" ") for v in r.values("folder"))
    assert folders["root"] == "0x0100000000000001"
    assert folders["ipm-subtree"] == "0x0900000000000001"
    assert folders["inbox"] == INBOX
    assert folders["sent"] == "0x0A00000000000001"
    assert folders["deleted"] == "0x0B00000000000001"
    assert len(folders) == 13
    kinds = [k for k, path, h, b in fake.requests]
    assert kinds == ["Connect", "Execute", "Disconnect"]
    # the request the server needs: the query string, our headers
    path, headers = fake.requests[0][1], fake.requests[0][2]
    assert path == "/mapi/emsmdb/?MailboxId=" + USER
    assert headers["Content-Type"] == "application/mapi-http"
    assert headers["X-RequestId"].endswith(":1")
    assert headers["X-ClientInfo"]


def test_hierarchy_of_the_recorded_mailbox(fake, probe):
    r = probe(fake, "hierarchy")
    _ok(fake, r)
    rows = r.rows()
    assert r.values("row-count") == ["20"]
    assert len(rows) == 20
    by_name = {row["name"]: row for row in rows}
    inbox = by_name["Inbox"]
    assert inbox["fid"] == INBOX
    assert (inbox["count"], inbox["unread"], inbox["subfolders"],
            inbox["depth"]) == (12, 11, True, 1)
    projects = by_name["Projects"]
    assert projects["fid"] == PROJECTS
    assert projects["parent"] == INBOX and projects["depth"] == 2
    assert projects["class"] == "IPF.Note"
    assert by_name["Calendar"]["class"] == "IPF.Appointment"
    assert by_name["Contacts"]["class"] == "IPF.Contact"
    assert "Sent Items" in by_name and "Deleted Items" in by_name


def test_inbox_contents_page_by_page(fake, probe):
    r = probe(fake, "contents", "inbox")
    _ok(fake, r)
    rows = r.rows()
    assert r.values("row-count") == ["12"]
    assert [row["mid"] for row in rows] == [
        "0x%02X00030000000001" % i for i in range(12)]
    assert rows[0]["subject"] == "Plain ASCII message"
    assert rows[1]["subject"] == \
        "Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \u65e5\u672c\u8a9e\u30c6" \
        "\u30b9\u30c8 \u2713"
    assert rows[10]["flags"] == 0x403
    assert all(len(row["change_key"]) == 44 for row in rows)
    # the table handle was used by later Executes and released at the end
    releases = [b for k, p, h, b in fake.requests if k == "Execute"]
    assert len(releases) >= 3


def test_a_message_and_its_properties(fake, probe):
    r = probe(fake, "message", "0x0100030000000001", INBOX)
    _ok(fake, r)
    [row] = r.rows()
    assert row["message_class"] == "IPM.Note"
    assert row["subject"].startswith("Gr\u00fc\u00dfe aus K\u00f6ln")
    assert row["message_id"].startswith("<")


def _large_body_sha256():
    """PidTagBody of 08-large as the server stores it: the text of the
    .eml with CRLF line ends, UTF-16LE with its terminating NUL."""
    with open(os.path.join(TESTS, "data", "mapi-traces", "eml",
                           "08-large.eml"), "rb") as f:
        m = email.message_from_binary_file(f)
    text = m.get_payload(decode=True).decode("ascii")
    text = text.replace("\n", "\r\n").rstrip("\r\n")
    data = (text + "\0").encode("utf-16-le")
    return len(data), hashlib.sha256(data).hexdigest()


def test_a_600k_body_read_as_a_stream(fake, probe):
    size, sha = _large_body_sha256()
    # the README's figures, which the .eml must give
    assert size == 614398
    assert sha.startswith("fad2c779") and sha.endswith("5f96a0ca2")
    r = probe(fake, "read-stream", LARGE, INBOX, PIDTAGBODY)
    _ok(fake, r)
    assert r.values("stream-size") == [str(size)]
    assert r.values("read") == [str(size)]
    assert r.values("sha256") == [sha]
    reads = [b for k, p, h, b in fake.requests if k == "Execute"]
    # 614398 bytes at most 32738 per ReadStream: 19 reads at least
    assert len(reads) >= 1 + 1 + 19


def test_wrong_password_is_a_clear_error(fake, probe):
    r = probe(fake, "logon", password="wrongpw")
    assert r.returncode == 1
    assert "login refused (HTTP 401)" in r.stderr
    assert USER in r.stderr and fake.url in r.stderr
    assert "wrongpw" not in r.stderr and "wrongpw" not in r.stdout
    # the fake records only what passed its authentication
    assert fake.requests == []


def test_the_latest_sequence_is_always_sent(fake, probe):
    """The fake refuses a stale sequence (X-ResponseCode 7), as the real
    server does: many Executes in one session succeed only when each
    sends the sequence the answer before it set."""
    r = probe(fake, "hierarchy", "contents", "inbox", "read-stream", LARGE,
              INBOX, PIDTAGBODY)
    _ok(fake, r)
    execs = [_cookies(h) for k, p, h, b in fake.requests if k == "Execute"]
    assert len(execs) > 25
    sids = {c["sid"] for c in execs}
    assert len(sids) == 1
    seqs = [c["sequence"] for c in execs]
    assert len(set(seqs)) == len(seqs)
    assert [k for k, p, h, b in fake.requests].count("Connect") == 1
    [disconnect] = [h for k, p, h, b in fake.requests if k == "Disconnect"]
    assert _cookies(disconnect)["sid"] in sids


def test_a_sequence_out_of_step_gets_a_new_session(fake, probe):
    """The rule the test above relies on: the fake refuses a sequence it
    did not send last (as when an answer that carried a new one was lost
    on the way), and such a session is of no more use: a new one is
    made, transparently."""
    r = probe(fake, "logon", "wait", "contents", "inbox",
              between=lambda f: [setattr(s, "seq", "taken")
                                 for s in f.sessions.values()])
    _ok(fake, r)
    assert len(r.rows()) == 12
    kinds = [k for k, p, h, b in fake.requests]
    assert kinds.count("Connect") == 2
    second = kinds.index("Connect", 1)
    assert kinds[second - 1:second + 3] == ["Execute", "Connect", "Execute",
                                            "Execute"]


def _forget(f):
    for s in f.sessions.values():
        s.dead = True


def _code(code):
    def change(f):
        f.hostile_code = code
        f.hostile["Execute"] = "code"
        f.hostile_left["Execute"] = 1
    return change


@pytest.mark.parametrize("forget", [_forget, _code(2), _code(10)],
                         ids=["forgotten", "code-2", "code-10"])
def test_a_forgotten_session_is_made_again(fake, probe, forget):
    r = probe(fake, "logon", "wait", "contents", "inbox", between=forget)
    _ok(fake, r)
    assert len(r.rows()) == 12
    kinds = [k for k, p, h, b in fake.requests]
    assert kinds.count("Connect") == 2
    # Connect, Logon, the refused Execute, Connect, Logon, the same again
    second = kinds.index("Connect", 1)
    assert kinds[second:second + 3] == ["Connect", "Execute", "Execute"]


def test_a_session_forgotten_twice_is_an_error(fake, probe):
    def always(f):
        f.hostile_code = 2
        f.hostile["Execute"] = "code"
    r = probe(fake, "logon", "wait", "contents", "inbox", between=always)
    assert r.returncode == 1
    assert "X-ResponseCode 2" in r.stderr
    assert "invalid session context cookie" in r.stderr
    assert [k for k, p, h, b in fake.requests].count("Connect") == 2


HOSTILE = {
    "drop": "the answer broke off",
    "pending": "kept the request waiting (PENDING) for more than 2 s",
    "truncated": "malformed",
    "rowcount": "malformed QueryRows answer",
    "503": "server busy (HTTP 503)",
    "code": "X-ResponseCode 9): The server is out of memory.",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_answers_are_clear_errors(fake, probe, kind):
    def hostile(f):
        f.hostile["Execute"] = kind
    r = probe(fake, "logon", "wait", "contents", "inbox",
              options=("--timeout", "3", "--pending-max", "2"),
              between=hostile, limit=30)
    assert r.returncode == 1, r.stdout
    assert r.stderr.startswith("error: " + USER), r.stderr
    assert HOSTILE[kind] in r.stderr
    assert "Sanitizer" not in r.stderr
    assert r.seconds < 15
    if not SANITIZED and r.maxrss:
        assert r.maxrss < 64 * 1024, (kind, r.maxrss)
    assert fake.errors == []


def test_no_answer_within_the_timeout(fake, probe):
    fake.delay["Execute"] = 6
    r = probe(fake, "logon", options=("--timeout", "2"), limit=30)
    assert r.returncode == 1
    assert "no answer within 2 s" in r.stderr
    assert r.seconds < 5


def test_password_never_in_the_clear_but_in_basic_auth(fake, probe):
    r = probe(fake, "logon")
    _ok(fake, r)
    for k, p, h, b in fake.requests:
        assert PASSWORD.encode() not in b
        assert "Basic " in h["Authorization"]


def test_cookies_in_any_order_with_attributes(fake, probe):
    """Set-Cookie headers in another order than the fake's own (sequence
    first), with attributes and a cookie of no interest among them."""
    answer = fake._answer

    def reordered(h, *args, **kw):
        send, end, held = h.send_header, h.end_headers, []

        def send_header(name, value):
            if name == "Set-Cookie":
                held.append(value)
            else:
                send(name, value)

        def end_headers():
            send("Set-Cookie", "X-BackEndCookie=1-2-3; path=/; HttpOnly")
            for value in reversed(held):
                send("Set-Cookie", value + "; path=/mapi/; HttpOnly")
            end()
        h.send_header, h.end_headers = send_header, end_headers
        return answer(h, *args, **kw)
    fake._answer = reordered
    r = probe(fake, "hierarchy", "contents", "inbox")
    _ok(fake, r)
    assert len(r.rows()) == 20 + 12
    for k, p, h, b in fake.requests[1:]:
        assert sorted(_cookies(h)) == ["sequence", "sid"]


def test_a_session_ended_by_a_rop_answer_is_made_again(fake, probe):
    """A server may say it forgot the session by answering the first ROP
    with MAPI_E_END_OF_SESSION rather than by X-ResponseCode."""
    from fakemapi_wire import build_payload

    def end(f):
        for s in f.sessions.values():
            if s.emsmdb is not None:
                s.emsmdb.execute_body = lambda body, **kw: build_payload(
                    bytes([0x02, 1]) + (0x80040200).to_bytes(4, "little"),
                    [0xFFFFFFFF] * 3)
    r = probe(fake, "logon", "wait", "contents", "inbox", between=end)
    _ok(fake, r)
    assert len(r.rows()) == 12
    assert [k for k, p, h, b in fake.requests].count("Connect") == 2


def test_pending_lines_keep_a_request_alive_beyond_the_timeout(fake, probe):
    """PENDING renews the deadline (timeout 1 s), up to pending-max."""
    def hostile(f):
        f.hostile["Execute"] = "pending"
    r = probe(fake, "logon", "wait", "contents", "inbox",
              options=("--timeout", "1", "--pending-max", "3"),
              between=hostile, limit=30)
    assert r.returncode == 1
    assert "(PENDING) for more than 3 s" in r.stderr
    assert 3 <= r.seconds < 10


def test_one_execute_at_a_time_per_session(fake, probe):
    """Threads sharing a session take turns: every Execute carries the
    sequence the one before it got, none is refused, no new session."""
    r = probe(fake, "parallel", "4")
    _ok(fake, r)
    assert len(r.rows()) == 4 * 12
    kinds = [k for k, p, h, b in fake.requests]
    assert kinds.count("Connect") == 1
    seqs = [_cookies(h)["sequence"] for k, p, h, b in fake.requests
            if k == "Execute"]
    assert len(set(seqs)) == len(seqs) > 4 * 3


def test_trailing_entries_are_taken_after_the_responses(fake, probe):
    """A server appends RopPending (and RopNotify) to any Execute answer,
    after the regular responses; they are taken, not mistaken for one."""
    def pending(f):
        for s in f.sessions.values():
            if s.emsmdb is None:
                continue
            plain = s.emsmdb.execute_body

            def with_pending(body, plain=plain, **kw):
                payload = plain(body, **kw)
                size = int.from_bytes(payload[:2], "little")
                return ((size + 3).to_bytes(2, "little") + payload[2:size]
                        + b"\x6e\x05\x00" + payload[size:])
            s.emsmdb.execute_body = with_pending
    r = probe(fake, "logon", "wait", "contents", "inbox", between=pending)
    _ok(fake, r)
    assert len(r.rows()) == 12
    # the table's first Execute and each QueryRows
    assert len(r.values("trailer")) >= 2
    assert set(r.values("trailer")) == {"pending 5"}


def test_bytes_after_the_responses_that_are_no_trailer(fake, probe):
    def junk(f):
        for s in f.sessions.values():
            if s.emsmdb is None:
                continue
            plain = s.emsmdb.execute_body

            def with_junk(body, plain=plain, **kw):
                payload = plain(body, **kw)
                size = int.from_bytes(payload[:2], "little")
                return ((size + 2).to_bytes(2, "little") + payload[2:size]
                        + b"\x33\x33" + payload[size:])
            s.emsmdb.execute_body = with_junk
    r = probe(fake, "logon", "wait", "contents", "inbox", between=junk)
    assert r.returncode == 1
    assert "after the ROP answers, bytes that are no RopNotify" in r.stderr


def test_the_trace_shows_no_secret(fake, probe):
    r = probe(fake, "logon", "contents", "inbox",
              options=("--debug", "proto"))
    _ok(fake, r)
    assert "mapi C: Execute" in r.stderr and "mapi S: Execute" in r.stderr
    assert PASSWORD not in r.stderr
    sids = {_cookies(h)["sid"] for k, p, h, b in fake.requests[1:]}
    assert sids and not any(sid in r.stderr for sid in sids)
