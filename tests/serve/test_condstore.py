"""CONDSTORE and QRESYNC (RFC 7162) of `mailfs serve`, in raw lines: no
client library here speaks them."""

import re
import socket

from conftest import PASSWORD, USER, make_message


class Raw:
    def __init__(self, server):
        self.s = socket.create_connection(("127.0.0.1", server.port["imap"]),
                                          timeout=10)
        self.f = self.s.makefile("rb")
        self.n = 0
        assert self.f.readline().startswith(b"* OK")
        self.ok(b'LOGIN %s "%s"' % (USER.encode(), PASSWORD.encode()))

    def cmd(self, line, literal=None):
        """Send one command; returns (untagged lines, tagged line)."""
        self.n += 1
        tag = b"t%d" % self.n
        if literal is None:
            self.s.sendall(tag + b" " + line + b"\r\n")
        else:
            self.s.sendall(tag + b" " + line + b" {%d+}\r\n" % len(literal) +
                           literal + b"\r\n")
        untagged = []
        while True:
            got = self.f.readline()
            assert got, "connection closed"
            if got.startswith(tag + b" "):
                return untagged, got.rstrip(b"\r\n")
            untagged.append(got.rstrip(b"\r\n"))

    def ok(self, line, literal=None):
        untagged, tagged = self.cmd(line, literal)
        assert b" OK" in tagged, tagged
        return untagged, tagged

    def close(self):
        self.cmd(b"LOGOUT")
        self.s.close()


def number(lines, pattern):
    for line in lines:
        m = re.search(pattern, line)
        if m:
            return int(m.group(1))
    raise AssertionError("%r not in %r" % (pattern, lines))


def modseqs(lines):
    """UID -> MODSEQ from FETCH responses."""
    out = {}
    for line in lines:
        m = re.search(rb"UID (\d+).*MODSEQ \((\d+)\)|MODSEQ \((\d+)\).*UID (\d+)",
                      line)
        if m:
            uid = int(m.group(1) or m.group(4))
            out[uid] = int(m.group(2) or m.group(3))
    return out


def test_condstore(server):
    c = Raw(server)
    caps, _ = c.ok(b"CAPABILITY")
    assert b"CONDSTORE" in caps[0] and b"QRESYNC" in caps[0]
    for i in range(2):
        c.ok(b"APPEND INBOX", make_message(subject="cs %d" % i))
    untagged, _ = c.ok(b"SELECT INBOX (CONDSTORE)")
    highest = number(untagged, rb"\[HIGHESTMODSEQ (\d+)\]")
    untagged, _ = c.ok(b"UID FETCH 1:* (MODSEQ)")
    ms = modseqs(untagged)
    assert len(ms) == 3 and max(ms.values()) == highest
    uid = max(ms)
    # a conditional store that holds, then one that comes too late
    untagged, _ = c.ok(b"UID STORE %d (UNCHANGEDSINCE %d) +FLAGS (\\Seen)"
                       % (uid, ms[uid]))
    after = modseqs(untagged)
    assert after[uid] > highest
    untagged, tagged = c.ok(b"UID STORE %d (UNCHANGEDSINCE %d) +FLAGS "
                            b"(\\Flagged)" % (uid, ms[uid]))
    assert b"[MODIFIED %d]" % uid in tagged
    untagged, _ = c.ok(b"UID FETCH %d (FLAGS)" % uid)
    assert b"\\Flagged" not in untagged[0]
    # only what changed since the old HIGHESTMODSEQ, with its MODSEQ
    untagged, _ = c.ok(b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % highest)
    assert list(modseqs(untagged)) == [uid]
    untagged, _ = c.ok(b"SEARCH MODSEQ %d" % (highest + 1))
    assert re.match(rb"\* SEARCH 3 \(MODSEQ %d\)" % after[uid], untagged[0])
    untagged, _ = c.ok(b"STATUS INBOX (HIGHESTMODSEQ MESSAGES)")
    assert number(untagged, rb"HIGHESTMODSEQ (\d+)") == after[uid]
    # .SILENT still tells the new mod-sequence
    untagged, _ = c.ok(b"UID STORE %d +FLAGS.SILENT (\\Answered)" % uid)
    assert re.match(rb"\* 3 FETCH \(UID %d MODSEQ \(\d+\)\)" % uid, untagged[0])
    c.close()


def test_qresync(server):
    c = Raw(server)
    for i in range(3):
        c.ok(b"APPEND INBOX", make_message(subject="qr %d" % i))
    untagged, _ = c.ok(b"ENABLE QRESYNC")
    assert untagged == [b"* ENABLED QRESYNC"]
    untagged, _ = c.ok(b"SELECT INBOX")
    validity = number(untagged, rb"\[UIDVALIDITY (\d+)\]")
    highest = number(untagged, rb"\[HIGHESTMODSEQ (\d+)\]")
    c.close()

    # meanwhile another client removes one message and flags another
    d = Raw(server)
    d.ok(b"SELECT INBOX")
    d.ok(b"UID STORE 2 +FLAGS (\\Deleted)")
    d.ok(b"UID STORE 3 +FLAGS (\\Flagged)")
    untagged, _ = d.ok(b"EXPUNGE")
    assert untagged == [b"* 2 EXPUNGE"]
    d.close()

    c = Raw(server)
    c.ok(b"ENABLE QRESYNC")
    untagged, _ = c.ok(b"SELECT INBOX (QRESYNC (%d %d))" % (validity, highest))
    assert b"* VANISHED (EARLIER) 2" in untagged
    changed = [l for l in untagged if b"FETCH" in l]
    assert len(changed) == 1 and b"UID 3 " in changed[0]
    assert b"\\Flagged" in changed[0] and b"MODSEQ" in changed[0]
    # with a stale UIDVALIDITY nothing is said
    untagged, _ = c.ok(b"SELECT INBOX (QRESYNC (%d %d))" % (validity + 1, 1))
    assert not [l for l in untagged if b"VANISHED" in l or b"FETCH" in l]
    # expunges are told as VANISHED now, and UID FETCH can ask for them
    c.ok(b"UID STORE 4 +FLAGS (\\Deleted)")
    untagged, _ = c.ok(b"EXPUNGE")
    assert untagged == [b"* VANISHED 4"]
    untagged, _ = c.ok(b"UID FETCH 1:10 (FLAGS) (CHANGEDSINCE 1 VANISHED)")
    assert untagged[0] == b"* VANISHED (EARLIER) 2,4"
    c.close()
