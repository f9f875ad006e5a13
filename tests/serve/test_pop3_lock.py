"""The POP3 maildrop of `mailfs serve` against other clients of INBOX: one
POP3 client at a time (RFC 1939 section 8, RFC 2449 [IN-USE]), and a
message an IMAP client moves while a POP3 client holds it is reported,
never lost, doubled or passed over in silence."""

import imaplib
import os
import poplib
import re
import threading

from conftest import PASSWORD, USER, inbox_files, make_message


def pop3_login(server):
    p = poplib.POP3("127.0.0.1", server.port["pop3"], timeout=10)
    p.user(USER)
    p.pass_(PASSWORD)
    return p


def imap_login(server):
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"], timeout=10)
    m.login(USER, PASSWORD)
    return m


def with_subject(store, folder, subject):
    out = []
    for path in inbox_files(store, folder):
        with open(path, "rb") as f:
            if b"Subject: %s\r\n" % subject.encode() in f.read():
                out.append(path)
    return out


def number_of(p, subject):
    for line in p.list()[1]:
        n = int(line.split()[0])
        if b"Subject: " + subject.encode() in p.top(n, 0)[1]:
            return n
    raise AssertionError("no message %r" % subject)


def test_second_pop3_client_is_refused_in_use(server):
    m = imap_login(server)
    m.append("INBOX", None, None, make_message(subject="held"))
    m.logout()
    first = pop3_login(server)
    second = poplib.POP3("127.0.0.1", server.port["pop3"], timeout=10)
    second.user(USER)
    try:
        second.pass_(PASSWORD)
        raise AssertionError("a second POP3 client got the maildrop")
    except poplib.error_proto as e:
        assert b"[IN-USE]" in e.args[0], e
    # once the first is gone, the maildrop is free again
    assert first.quit().startswith(b"+OK")
    second.user(USER)
    second.pass_(PASSWORD)
    assert second.stat()[0] >= 1
    second.quit()


def test_message_moved_by_imap_is_reported(server):
    m = imap_login(server)
    m.create("Archive")
    for s in ("moved away", "deleted by pop3", "read after move"):
        m.append("INBOX", None, None, make_message(subject=s))
    p = pop3_login(server)
    moved, gone, other = (number_of(p, s) for s in
                          ("moved away", "deleted by pop3", "read after move"))
    m.select("INBOX")
    for s in ("moved away", "read after move"):
        uid = m.uid("SEARCH", "SUBJECT", '"%s"' % s)[1][0]
        typ, data = m.uid("MOVE", uid, "Archive")
        assert typ == "OK", data
    m.logout()
    # RETR of a message moved away names it
    try:
        p.retr(other)
        raise AssertionError("RETR of a moved message succeeded")
    except poplib.error_proto as e:
        assert b"another client" in e.args[0], e
    p.dele(moved)
    p.dele(gone)
    try:
        p.quit()
        raise AssertionError("QUIT said +OK though a message was gone")
    except poplib.error_proto as e:
        assert re.search(rb"message %d\b" % moved, e.args[0]), e
        assert b"another client" in e.args[0], e
    finally:
        p.close()
    # nothing lost, nothing doubled
    assert len(with_subject(server.store, "Archive", "moved away")) == 1
    assert with_subject(server.store, "INBOX", "moved away") == []
    assert with_subject(server.store, "INBOX", "deleted by pop3") == []
    assert len(with_subject(server.store, "Archive", "read after move")) == 1


def test_pop3_quit_and_imap_move_race(server):
    """DELE at QUIT and an IMAP MOVE of the same message, at the same
    moment, many times: each time exactly one of them wins, the loser says
    so, and the message is where the winner put it, once."""
    m = imap_login(server)
    m.create("Archive")
    m.logout()
    rounds = 25
    for i in range(rounds):
        subject = "race %d" % i
        m = imap_login(server)
        m.append("INBOX", None, None, make_message(subject=subject))
        m.select("INBOX")
        uid = m.uid("SEARCH", "SUBJECT", '"%s"' % subject)[1][0]
        p = pop3_login(server)
        p.dele(number_of(p, subject))
        result = {}
        go = threading.Barrier(2)

        def pop3_quit():
            go.wait()
            try:
                result["pop3"] = p.quit()
            except poplib.error_proto as e:
                result["pop3"] = e.args[0]

        def imap_move():
            go.wait()
            result["imap"] = m.uid("MOVE", uid, "Archive")

        threads = [threading.Thread(target=pop3_quit),
                   threading.Thread(target=imap_move)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        m.logout()
        pop3_won = result["pop3"].startswith(b"+OK")
        moved = result["imap"][0] == "OK"
        archived = with_subject(server.store, "Archive", subject)
        assert with_subject(server.store, "INBOX", subject) == [], i
        if pop3_won:
            assert archived == [], (i, result)
        else:
            assert b"another client" in result["pop3"], (i, result)
            assert len(archived) == 1, (i, result)
        assert not (pop3_won and moved), (i, result)
