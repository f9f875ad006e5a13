"""A command that carries literal after literal: `mailfs serve` bounds how
many a line may have, how many of them it keeps in files and the line's
size with all of them, and refuses the command with a tagged NO [TOOBIG]
as soon as a literal would break a bound (RFC 7889, RFC 7888 section 4).

Each test sends one command with 300 literals of 300 KB, each big enough
to be kept in a file, and watches the server's open descriptors
(/proc/PID/fd) meanwhile."""

import os
import socket
import threading
import time

from conftest import PASSWORD, USER, wait_until

LITERALS = 300
SIZE = 300 * 1024
# the connection, a file of the first literal, perhaps a second, and slack
# for whatever the server opens of its own meanwhile
FD_SLACK = 8


def count_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class FdWatch:
    """The most descriptors the process had open, sampled every 10 ms."""

    def __init__(self, pid):
        self.pid = pid
        self.most = count_fds(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.most = max(self.most, count_fds(self.pid))
            except OSError:
                return
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return self.most


def login(server):
    s = socket.create_connection(("127.0.0.1", server.port["imap"]),
                                 timeout=30)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    s.sendall(b"l LOGIN %s \"%s\"\r\n" % (USER.encode(), PASSWORD.encode()))
    assert f.readline().startswith(b"l OK")
    s.sendall(b"s SELECT INBOX\r\n")
    while not f.readline().startswith(b"s "):
        pass
    return s, f


def test_many_big_literals_plus(server):
    """LITERAL+: the bytes come unasked; the server answers NO [TOOBIG]
    and BYE and hangs up rather than read 90 MB into 300 files."""
    s, f = login(server)
    base = count_fds(server.proc.pid)
    watch = FdWatch(server.proc.pid)
    body = b"x" * SIZE
    sent = [0]

    def send():
        try:
            s.sendall(b"a1 SEARCH")
            for _ in range(LITERALS):
                s.sendall(b" TEXT {%d+}\r\n" % SIZE)
                s.sendall(body)
                sent[0] += 1
            s.sendall(b"\r\n")
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
        while True:
            line = f.readline()
            if not line:
                break
            answer += line
            if line.startswith(b"a1 ") and b"TOOBIG" not in line:
                break
    except OSError:
        pass
    sender.join(60)
    most = watch.stop()
    s.close()
    assert most <= base + FD_SLACK, \
        "open descriptors went from %d to %d" % (base, most)
    assert b"a1 NO [TOOBIG]" in answer, answer
    assert b"* BYE" in answer, answer
    assert sent[0] < LITERALS, "the server read every literal"
    assert wait_until(lambda: "refused" in server.log()), server.log()


def test_many_big_literals_synchronising(server):
    """Synchronising literals: the one too many is refused instead of "+",
    never sent, and the session goes on."""
    s, f = login(server)
    base = count_fds(server.proc.pid)
    watch = FdWatch(server.proc.pid)
    body = b"y" * SIZE
    s.sendall(b"b1 SEARCH TEXT {%d}\r\n" % SIZE)
    sent = 0
    refusal = None
    for i in range(LITERALS):
        line = f.readline()
        if not line.startswith(b"+"):
            refusal = line
            break
        s.sendall(body)
        sent += 1
        s.sendall(b" TEXT {%d}\r\n" % SIZE if i + 1 < LITERALS else b"\r\n")
    else:
        refusal = f.readline()
    most = watch.stop()
    assert most <= base + FD_SLACK, \
        "open descriptors went from %d to %d" % (base, most)
    assert refusal.startswith(b"b1 NO [TOOBIG]"), refusal
    assert sent < LITERALS
    # nothing of the refused command is kept, and the next one is read
    s.sendall(b"b2 NOOP\r\n")
    while True:
        line = f.readline()
        assert line, "the server hung up"
        if line.startswith(b"b2 "):
            break
    assert line.startswith(b"b2 OK"), line
    s.sendall(b"b3 LOGOUT\r\n")
    s.close()
    time.sleep(0.2)
    assert count_fds(server.proc.pid) <= base


def test_literal_over_the_limit_before_login(server):
    """Before login the limits are small; a synchronising literal over them
    is refused with the command's tag and the session goes on."""
    s = socket.create_connection(("127.0.0.1", server.port["imap"]),
                                 timeout=30)
    f = s.makefile("rb")
    assert f.readline().startswith(b"* OK")
    s.sendall(b"a5 LOGIN {99999999999}\r\n")
    assert f.readline().startswith(b"a5 NO [TOOBIG]")
    s.sendall(b"a6 LOGIN {1}\r\n")
    assert f.readline().startswith(b"+")
    s.sendall(b"x {1}\r\n")
    assert f.readline().startswith(b"+")
    s.sendall(b"y\r\n")
    assert f.readline().startswith(b"a6 NO [AUTHENTICATIONFAILED]")
    s.close()
