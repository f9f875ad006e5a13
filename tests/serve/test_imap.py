"""IMAP4rev1 (RFC 3501) of `mailfs serve`, driven by Python's imaplib and
by raw lines where imaplib cannot say what a test needs."""

import base64
import imaplib
import os
import re
import smtplib
import socket
import ssl
import tempfile
import time

import pytest

from conftest import (PASSWORD, USER, Server, inbox_files, make_message,
                      wait_until)

MULTIPART = (
    b"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>\r\n"
    b"To: Alice <alice@example.org>, bob@example.org\r\n"
    b"Cc: Carol <carol@example.org>\r\n"
    b"Subject: Quarterly numbers\r\n"
    b"Date: Mon, 07 Feb 1994 21:52:25 -0800\r\n"
    b"Message-ID: <numbers@example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=\"=-sep\"\r\n"
    b"\r\n"
    b"This is a MIME message.\r\n"
    b"--=-sep\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Numbers are up.\r\n"
    b"Second line.\r\n"
    b"--=-sep\r\n"
    b"Content-Type: application/pdf; name=report.pdf\r\n"
    b"Content-Disposition: attachment; filename=report.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQK\r\n"
    b"--=-sep--\r\n"
)


def connect(server, login=True):
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"], timeout=10)
    if login:
        m.login(USER, PASSWORD)
    return m


def smtp_deliver(server, subject):
    msg = make_message(subject=subject)
    with smtplib.SMTP("127.0.0.1", server.port["smtp"], timeout=10) as s:
        s.login(USER, PASSWORD)
        s.sendmail("b@example.org", ["a@example.org"], msg)
    return msg


def appenduid(resp):
    m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", resp[1][0])
    return int(m.group(1)), int(m.group(2))


def test_capability_and_logins(server):
    m = connect(server, login=False)
    assert "IMAP4REV1" in m.capabilities
    assert "AUTH=PLAIN" in m.capabilities
    # nothing but login before login
    with pytest.raises(imaplib.IMAP4.error):
        m.select("INBOX")
    with pytest.raises(imaplib.IMAP4.error):
        m.login(USER, "wrong")
    typ, _ = m.authenticate("PLAIN", lambda _: b"\0%s\0%s" % (
        USER.encode(), PASSWORD.encode()))
    assert typ == "OK"
    typ, caps = m.capability()
    for c in (b"UIDPLUS", b"MOVE", b"IDLE", b"NAMESPACE", b"LITERAL+"):
        assert c in caps[0]
    typ, ns = m.namespace()
    assert ns[0] == b'(("" "/")) NIL NIL'
    m.logout()


def test_append_and_fetch_every_kind(server):
    m = connect(server)
    when = imaplib.Time2Internaldate(time.mktime((2024, 3, 5, 10, 20, 30, 0, 0, -1)))
    resp = m.append("INBOX", r"(\Flagged)", when, MULTIPART)
    assert resp[0] == "OK"
    validity, uid = appenduid(resp)
    typ, data = m.select("INBOX")
    assert typ == "OK"
    typ, data = m.uid("FETCH", str(uid), "(UID FLAGS RFC822.SIZE INTERNALDATE)")
    line = data[0]
    assert b"UID %d" % uid in line
    assert b"\\Flagged" in line
    assert b"RFC822.SIZE %d" % len(MULTIPART) in line
    assert imaplib.Internaldate2tuple(line)[:6] == (2024, 3, 5, 10, 20, 30)

    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[])")
    assert data[0][1] == MULTIPART
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[HEADER])")
    assert data[0][1] == MULTIPART[:MULTIPART.index(b"\r\n\r\n") + 4]
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[TEXT])")
    assert data[0][1] == MULTIPART[MULTIPART.index(b"\r\n\r\n") + 4:]
    typ, data = m.uid("FETCH", str(uid),
                      "(BODY.PEEK[HEADER.FIELDS (SUBJECT message-id)])")
    assert data[0][1] == (b"Subject: Quarterly numbers\r\n"
                          b"Message-ID: <numbers@example.org>\r\n\r\n")
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[HEADER.FIELDS.NOT (From To Cc Date Subject Message-ID)])")
    assert data[0][1] == (b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
                          b"boundary=\"=-sep\"\r\n\r\n")
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[]<10.20>)")
    assert b"BODY[]<10>" in data[0][0]
    assert data[0][1] == MULTIPART[10:30]
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[1])")
    assert data[0][1] == b"Numbers are up.\r\nSecond line."
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[2])")
    assert data[0][1] == b"JVBERi0xLjQK"
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[2.MIME])")
    assert data[0][1].startswith(b"Content-Type: application/pdf")
    typ, data = m.uid("FETCH", str(uid), "(ENVELOPE)")
    env = data[0]
    assert b'"Quarterly numbers"' in env
    assert b'"Mon, 07 Feb 1994 21:52:25 -0800"' in env
    assert b'("Alice" NIL "alice" "example.org")(NIL NIL "bob" "example.org")' in env
    assert b'"<numbers@example.org>"' in env
    typ, data = m.uid("FETCH", str(uid), "(BODYSTRUCTURE)")
    bs = data[0]
    assert b'("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 29 2' in bs
    assert b'("APPLICATION" "PDF" ("NAME" "report.pdf") NIL NIL "BASE64" 12' in bs
    assert b'("ATTACHMENT" ("FILENAME" "report.pdf"))' in bs
    assert b'"MIXED" ("BOUNDARY" "=-sep")' in bs
    typ, data = m.uid("FETCH", str(uid), "(BODY)")
    assert b'"MIXED")' in data[0]
    # PEEK left it unseen; BODY[] marks it seen
    typ, data = m.uid("FETCH", str(uid), "(FLAGS)")
    assert b"\\Seen" not in data[0]
    typ, data = m.uid("FETCH", str(uid), "(BODY[1])")
    assert b"\\Seen" in data[0][0] + data[-1]
    typ, data = m.uid("FETCH", str(uid), "(FLAGS)")
    assert b"\\Seen" in data[0]
    typ, data = m.fetch("1:*", "FAST")
    assert typ == "OK" and len(data) == 2
    m.logout()


def test_store_search_expunge(server):
    m = connect(server)
    for i in range(4):
        m.append("INBOX", None, None, make_message(subject="topic %d" % i,
                                                   body="body %d\r\n" % i))
    m.select("INBOX")
    assert m.search(None, "ALL")[1][0].split() == [b"1", b"2", b"3", b"4", b"5"]
    assert m.search(None, "SUBJECT", '"topic 2"')[1][0] == b"4"
    assert m.search(None, "BODY", '"body 3"')[1][0] == b"5"
    assert m.search(None, "FROM", "bob")[1][0].split() == [b"2", b"3", b"4", b"5"]
    assert m.search(None, "HEADER", "Subject", "welcome")[1][0] == b"1"
    typ, data = m.store("2:3", "+FLAGS", r"(\Deleted \Seen)")
    assert typ == "OK" and len(data) == 2
    assert m.search(None, "DELETED")[1][0].split() == [b"2", b"3"]
    assert m.search(None, "OR", "DELETED", "SUBJECT", '"topic 3"')[1][0].split() == [b"2", b"3", b"5"]
    assert m.search(None, "NOT", "DELETED", "UNSEEN")[1][0].split() == [b"1", b"4", b"5"]
    assert m.search(None, "LARGER", "100000")[1][0] == b""
    assert m.search(None, "SINCE", "1-Jan-2000")[1][0].split() == [b"1", b"2", b"3", b"4", b"5"]
    assert m.search(None, "SENTBEFORE", "1-Jan-2000")[1][0] == b""
    typ, data = m.uid("SEARCH", "UID", "2:3")
    uids = data[0].split()
    assert len(uids) == 2
    m.store("4", "-FLAGS", r"(\Seen)")
    typ, data = m.expunge()
    assert data == [b"3", b"2"]
    assert len(m.search(None, "ALL")[1][0].split()) == 3
    with pytest.raises(imaplib.IMAP4.error):
        m.store("1", "+FLAGS", r"(\Bogus)")
    typ, data = m.store("1", "FLAGS", r"(\Answered)")
    assert b"\\Answered" in data[0]
    m.logout()
    # the flags are the store's Maildir letters
    names = [os.path.basename(p) for p in inbox_files(server.store)]
    assert any(n.endswith(":2,R") for n in names), names


def test_copy_move_uidplus(server):
    m = connect(server)
    assert m.create("Archive/2024")[0] == "OK"
    assert m.create("Archive/2024")[0] == "NO"
    for i in range(3):
        m.append("INBOX", None, None, make_message(subject="move %d" % i))
    m.select("INBOX")
    # imaplib keeps no tagged response codes: ask for the tagged line
    typ, data = m._command_complete("COPY", m._command("UID", "COPY", "1:2",
                                                      "Archive/2024"))
    assert typ == "OK"
    code = re.search(rb"\[COPYUID (\d+) ([\d:,]+) ([\d:,]+)\]", data[0])
    assert code and code.group(2) == b"1:2" and code.group(3) == b"1:2"
    typ, data = m.uid("MOVE", "3:4", "Archive")
    assert typ == "OK"
    assert m.select("INBOX")[1][0] == b"2"
    assert m.select("Archive")[1][0] == b"2"
    assert m.select("Archive/2024")[1][0] == b"2"
    typ, data = m.list()
    names = b"\n".join(data)
    assert b'(\\HasChildren \\Archive) "/" "Archive"' in names
    assert b'"Archive/2024"' in names
    assert m.uid("COPY", "1", "Nowhere")[0] == "NO"
    m.select("INBOX")
    typ, data = m.copy("1", "Nowhere")
    assert typ == "NO" and b"TRYCREATE" in data[0]
    assert m.rename("Archive/2024", "Old")[0] == "OK"
    assert m.delete("Old")[0] == "OK"
    assert m.delete("INBOX")[0] == "NO"
    m.logout()
    assert os.path.isdir(os.path.join(server.store, "Archive", "cur"))
    assert not os.path.exists(os.path.join(server.store, "Old"))


def test_uids_stable_across_restart(store, workdir):
    srv = Server(store, workdir)
    try:
        m = connect(srv)
        for i in range(3):
            m.append("INBOX", None, None, make_message(subject="stay %d" % i))
        m.select("INBOX")
        before = m.response("UIDVALIDITY")[1][0]
        uids = m.uid("SEARCH", "ALL")[1][0]
        m.store("2", "+FLAGS", r"(\Seen)")     # renames the file
        m.logout()
    finally:
        assert srv.stop() == 0
    srv = Server(store, workdir)
    try:
        m = connect(srv)
        m.select("INBOX")
        assert m.response("UIDVALIDITY")[1][0] == before
        assert m.uid("SEARCH", "ALL")[1][0] == uids
        # a message delivered by a plain Maildir writer gets the next UID
        name = "1700000000.M1P1.elsewhere"
        with open(os.path.join(store, "INBOX", "new", name), "wb") as f:
            f.write(make_message(subject="outside"))
        m.noop()
        new = m.uid("SEARCH", "SUBJECT", "outside")[1][0]
        assert int(new) > max(int(u) for u in uids.split())
        m.logout()
    finally:
        assert srv.stop() == 0


def test_idle_hears_another_writer(server):
    m = connect(server)
    m.select("INBOX")
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    assert m.readline().startswith(b"+")
    smtp_deliver(server, "while idling")
    line = m.readline()
    assert re.match(rb"\* 2 EXISTS", line), line
    m.send(b"DONE\r\n")
    while True:
        line = m.readline()
        if line.startswith(tag):
            break
    assert b"OK" in line
    # and a flag change made by another session shows on NOOP
    other = connect(server)
    other.select("INBOX")
    other.store("2", "+FLAGS", r"(\Flagged)")
    other.logout()
    typ, data = m.noop()
    assert any(b"\\Flagged" in d for d in m.untagged_responses.get("FETCH", []))
    m.logout()


def test_names_that_leave_the_store(server):
    m = connect(server)
    for bad in ("../evil", "/etc", "a/../../b", ".hidden", "a//b", "INBOX/.."):
        typ, _ = m.create('"%s"' % bad)
        assert typ == "NO", bad
        typ, _ = m.select('"%s"' % bad)
        assert typ == "NO", bad
    typ, data = m.append('"../x"', None, None, make_message())
    assert typ == "NO"
    m.logout()
    parent = os.path.dirname(server.store)
    assert sorted(os.listdir(parent)) == ["password", "store"]


def raw(server, login=False):
    s = socket.create_connection(("127.0.0.1", server.port["imap"]), timeout=10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    if login:
        s.sendall(b"l LOGIN %s \"%s\"\r\n" % (USER.encode(), PASSWORD.encode()))
        assert f.readline().startswith(b"l OK")
    return s, f


def test_bad_input(server):
    s, f = raw(server)
    s.sendall(b"a1 SELECT INBOX\r\n")
    assert f.readline().startswith(b"a1 BAD")
    s.sendall(b"a2 FROB\r\n")
    assert f.readline().startswith(b"a2 BAD")
    s.sendall(b"a3 LOGIN \"unterminated\r\n")
    assert f.readline().startswith(b"* BAD")
    s.sendall(b"(((\r\n")
    assert b"BAD" in f.readline()
    s.sendall(b"a4 NOOP\r\n")
    assert f.readline().startswith(b"a4 OK")
    # a literal bigger than anyone logged out may send: refused before "+"
    s.sendall(b"a5 LOGIN {99999999999}\r\n")
    assert f.readline().startswith(b"a5 NO [TOOBIG]")
    # and one that is not waited for: refused, closed
    s.sendall(b"a5 LOGIN {99999999999+}\r\n")
    assert f.readline().startswith(b"a5 NO [TOOBIG]")
    assert f.readline().startswith(b"* BYE")
    assert f.readline() == b""
    s.close()

    s, f = raw(server, login=True)
    # an absurd literal after login too
    s.sendall(b"a6 APPEND INBOX {18446744073709551615}\r\n")
    assert f.readline().startswith(b"a6 NO [TOOBIG]")
    s.close()

    s, f = raw(server, login=True)
    s.sendall(b"a7 FETCH 1:* (BODY[HEADER.FIELDS (X)]<9999999999999999999999.1>)\r\n")
    assert f.readline().startswith(b"a7 BAD")
    s.sendall(b"a8 SELECT INBOX\r\n")
    while not (line := f.readline()).startswith(b"a8"):
        pass
    s.sendall(b"a9 FETCH 99 FLAGS\r\n")
    assert f.readline().startswith(b"a9 BAD")
    s.sendall(b"b1 SEARCH OR OR OR\r\n")
    assert f.readline().startswith(b"b1 BAD")
    s.sendall(b"b2 UID FETCH 1:* (BODY.PEEK[99.98.97])\r\n")
    line = f.readline()
    assert line.startswith(b"* 1 FETCH") and line.rstrip().endswith(b"{0}")
    # an endless line: the server hangs up rather than keep it
    try:
        for _ in range(10):
            s.sendall(b"b3 NOOP " + b"x" * 16384)
    except OSError:
        pass
    rest = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
    except OSError:
        pass
    assert b"* BYE" in rest
    s.close()


def test_literals_synchronising_and_plus(server):
    s, f = raw(server, login=True)
    msg = make_message(subject="literal plus")
    s.sendall(b"p1 APPEND INBOX (\\Seen) {%d+}\r\n" % len(msg) + msg + b"\r\n")
    assert re.match(rb"p1 OK \[APPENDUID \d+ \d+\]", f.readline())
    msg2 = make_message(subject="synchronising")
    s.sendall(b"p2 APPEND INBOX {%d}\r\n" % len(msg2))
    assert f.readline().startswith(b"+")
    s.sendall(msg2 + b"\r\n")
    assert f.readline().startswith(b"p2 OK")
    s.sendall(b"p3 LOGOUT\r\n")
    assert f.readline().startswith(b"* BYE")
    s.close()
    data = [open(p, "rb").read() for p in inbox_files(server.store)]
    assert msg in data and msg2 in data


def test_starttls_and_imaps(tls_server):
    ctx = ssl.create_default_context(cafile=tls_server.cafile)
    m = imaplib.IMAP4("127.0.0.1", tls_server.port["imap"], timeout=10)
    assert "STARTTLS" in m.capabilities
    m.starttls(ssl_context=ctx)
    m.login(USER, PASSWORD)
    assert m.select("INBOX")[0] == "OK"
    m.logout()
    m = imaplib.IMAP4_SSL("127.0.0.1", tls_server.port["imaps"],
                          ssl_context=ctx, timeout=10)
    m.login(USER, PASSWORD)
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_failed_logins_are_slowed_down(server):
    s = socket.create_connection(("127.0.0.1", server.port["imap"]), timeout=30)
    f = s.makefile("rb")
    f.readline()
    took = []
    for i in range(2):
        t0 = time.monotonic()
        s.sendall(b"f%d LOGIN %s wrong\r\n" % (i, USER.encode()))
        assert f.readline().startswith(b"f%d NO [AUTHENTICATIONFAILED]" % i)
        took.append(time.monotonic() - t0)
    assert took[0] >= 0.4 and took[1] >= 0.9 and took[1] > took[0]
    # the right password still works on the same connection
    s.sendall(b"f9 LOGIN %s \"%s\"\r\n" % (USER.encode(), PASSWORD.encode()))
    assert f.readline().startswith(b"f9 OK")
    s.close()
    assert PASSWORD not in server.log()


def vm_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_big_message_in_and_out_in_pieces(server):
    """A 24 MiB message is appended and read back whole and in ranges, and
    the server's memory does not grow with it: literals go to a file on the
    way in, and the file is copied through on the way out."""
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?\r\n"
    big = make_message(subject="big one", body=(line * (24 * 1024 * 1024 // len(line))).decode())
    m = connect(server)
    m.select("INBOX")
    before = vm_hwm_kb(server.proc.pid)
    resp = m.append("INBOX", None, None, big)
    assert resp[0] == "OK"
    _, uid = appenduid(resp)
    typ, data = m.uid("FETCH", str(uid), "(RFC822.SIZE BODY.PEEK[])")
    assert b"RFC822.SIZE %d" % len(big) in data[0][0]
    assert data[0][1] == big
    typ, data = m.uid("FETCH", str(uid), "(BODY.PEEK[]<20000000.100>)")
    assert data[0][1] == big[20000000:20000100]
    grown = vm_hwm_kb(server.proc.pid) - before
    assert grown < 12 * 1024, "the server grew by %d KiB" % grown
    m.logout()


def test_uid_expunge_close_unselect_examine(server):
    m = connect(server)
    for i in range(4):
        m.append("INBOX", r"(\Deleted)" if i < 3 else None, None,
                 make_message(subject="x %d" % i))
    # EXAMINE is read-only: no flags change, nothing goes
    typ, data = m.select("INBOX", readonly=True)
    assert typ == "OK" and data == [b"5"]
    assert m.store("1", "+FLAGS", r"(\Seen)")[0] == "NO"
    assert m.expunge()[0] == "NO"
    m.select("INBOX")
    uids = m.uid("SEARCH", "DELETED")[1][0].split()
    assert len(uids) == 3
    # UID EXPUNGE takes only the named ones (RFC 4315)
    typ, data = m.uid("EXPUNGE", uids[0].decode())
    assert typ == "OK"
    assert len(m.uid("SEARCH", "DELETED")[1][0].split()) == 2
    # UNSELECT leaves them, CLOSE removes them without a word
    tag = m._command("UNSELECT")
    assert m._command_complete("UNSELECT", tag)[0] == "OK"
    m.select("INBOX")
    assert len(m.uid("SEARCH", "DELETED")[1][0].split()) == 2
    typ, _ = m.close()
    assert typ == "OK"
    m.select("INBOX")
    assert m.uid("SEARCH", "DELETED")[1][0] == b""
    assert len(m.search(None, "ALL")[1][0].split()) == 2
    typ, data = m.lsub()
    assert any(b'"INBOX"' in d for d in data)
    typ, data = m.status("INBOX", "(MESSAGES UNSEEN RECENT)")
    assert b"MESSAGES 2" in data[0]
    m.logout()


def test_store_keeps_letters_imap_has_no_flag_for(server):
    """A message passed on (Maildir P) keeps its P when IMAP replaces its
    flags: IMAP cannot see that letter, so it cannot mean to clear it."""
    name = "1700000003.M4P4.other:2,PS"
    path = os.path.join(server.store, "INBOX", "cur", name)
    with open(path, "wb") as f:
        f.write(make_message(subject="passed on"))
    m = connect(server)
    m.select("INBOX")
    n = m.search(None, "SUBJECT", '"passed on"')[1][0]
    typ, data = m.store(n, "FLAGS", r"(\Flagged)")
    assert typ == "OK" and b"\\Seen" not in data[0]
    m.logout()
    names = [os.path.basename(p) for p in inbox_files(server.store)]
    assert "1700000003.M4P4.other:2,FP" in names, names


def test_internaldate_of_a_file_dated_past_9999(workdir):
    """A message file whose mtime was set to the year 11476 (or before the
    year 1) is still given a four-digit INTERNALDATE, which imaplib and
    every other client can parse.  The store is on tmpfs: ext4 cannot hold
    such times."""
    with tempfile.TemporaryDirectory(prefix="mailfs-serve-", dir="/dev/shm") as shm:
        srv = Server(os.path.join(shm, "store"), workdir)
        try:
            far_dates(srv)
        finally:
            assert srv.stop() == 0, srv.log()


def far_dates(server):
    m = connect(server)
    resp = m.append("INBOX", None, None, make_message(subject="far future"))
    _, uid = appenduid(resp)
    (path,) = [p for p in inbox_files(server.store)
               if b"far future" in open(p, "rb").read()]
    for when, want in ((300000000000, b'"31-Dec-9999 23:59:59 +0000"'),
                       (-70000000000, b'"01-Jan-0001 00:00:00 +0000"')):
        os.utime(path, (when, when))
        assert os.stat(path).st_mtime == when
        # a second session sees the file as it is now
        m2 = connect(server)
        m2.select("INBOX")
        typ, data = m2.uid("FETCH", str(uid), "(INTERNALDATE)")
        assert typ == "OK"
        assert want in data[0], data
        m2.logout()
    m.logout()
