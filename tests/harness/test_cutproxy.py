"""Self-tests of the connection-cutting TCP proxy, against small servers
run here (an echo server, one that talks first, one that streams)."""

import os
import socket
import threading
import time

import pytest

from cutproxy import CutProxy


class Target:
    """A TCP server on 127.0.0.1 that runs handler(sock) for every
    connection in a thread of its own; what a handler raises is kept in
    .errors."""

    def __init__(self, handler):
        self.handler = handler
        self.errors = []
        self.received = []          # bytes each connection got, in order
        self._threads = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self):
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            got = bytearray()
            self.received.append(got)
            t = threading.Thread(target=self._run, args=(sock, got),
                                 daemon=True)
            self._threads.append(t)
            t.start()

    def _run(self, sock, got):
        sock.settimeout(5)
        try:
            self.handler(sock, got)
        except (ConnectionResetError, BrokenPipeError):
            pass                    # what a cut does to the server side
        except Exception as e:
            self.errors.append(e)
        finally:
            sock.close()

    def stop(self):
        self._stopping.set()
        self._acceptor.join(5)
        for t in self._threads:
            t.join(5)
        self._listener.close()


def echo(sock, got):
    """Echo everything until the client ends its side, then end ours."""
    while True:
        data = sock.recv(65536)
        if not data:
            return
        got += data
        sock.sendall(data)


def chatty(sock, got):
    """Greet, echo until the client ends its side, then say goodbye."""
    sock.sendall(b"* hello\r\n")
    echo(sock, got)
    sock.sendall(b"* bye\r\n")


STREAM = os.urandom(1 << 20) * 8    # 8 MiB, the same bytes every run


def stream(sock, got):
    """Send STREAM in pieces, then close."""
    view = memoryview(STREAM)
    for i in range(0, len(STREAM), 1 << 16):
        sock.sendall(view[i:i + (1 << 16)])


@pytest.fixture
def target_factory():
    made = []

    def make(handler):
        t = Target(handler)
        made.append(t)
        return t

    yield make
    for t in made:
        t.stop()
        assert t.errors == [], t.errors


@pytest.fixture
def proxy_factory():
    made = []

    def make(target, cut_after=None):
        p = CutProxy("127.0.0.1", target.port, cut_after=cut_after).start()
        made.append(p)
        return p

    yield make
    for p in made:
        p.stop()
        assert p.threads == [], "a thread is left"
        assert p.errors == [], p.errors


def connect(proxy):
    return socket.create_connection((proxy.host, proxy.port), timeout=5)


def read_all(sock):
    """Read until the end of the connection: (bytes, "eof" or "reset")."""
    out = bytearray()
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return bytes(out), "reset"
        if not data:
            return bytes(out), "eof"
        out += data


def send_in_background(sock, data):
    """sendall(data) then end our side, in a thread (so that a large echo
    never waits on a reader that is not reading yet)."""
    def run():
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_forwards_both_ways_unchanged(target_factory, proxy_factory):
    target = target_factory(chatty)
    proxy = proxy_factory(target)
    payload = os.urandom(300000) + bytes(range(256)) + b"\r\n\0\xff"
    c = connect(proxy)
    sender = send_in_background(c, payload)
    data, how = read_all(c)
    sender.join(5)
    c.close()
    assert how == "eof"
    assert data == b"* hello\r\n" + payload + b"* bye\r\n"
    assert bytes(target.received[0]) == payload
    assert proxy.wait_for(lambda: proxy.threads == [proxy._acceptor], 5)
    assert proxy.connections == 1 and proxy.cuts == 0
    assert proxy.forwarded == 2 * len(payload) + len(b"* hello\r\n* bye\r\n")


def test_cuts_after_n_bytes_both_directions_counted(target_factory,
                                                    proxy_factory):
    target = target_factory(echo)
    proxy = proxy_factory(target, cut_after=150)
    payload = os.urandom(100)
    c = connect(proxy)
    c.sendall(payload)
    # 100 bytes up, then 50 of the echo down: 150 in all, and the cut
    data, how = read_all(c)
    c.close()
    assert (data, how) == (payload[:50], "reset")
    assert proxy.wait_for(lambda: proxy.cuts == 1, 5)
    assert bytes(target.received[0]) == payload
    assert proxy.forwarded == 150
    # every connection has its own count
    c = connect(proxy)
    c.sendall(b"x" * 60)
    got = b""
    while len(got) < 60:                # 120 bytes: under the limit
        got += c.recv(100)
    assert got == b"x" * 60
    c.sendall(b"y" * 60)                # 180: cut after 30 of these
    data, how = read_all(c)
    c.close()
    assert how == "reset" and data == b""
    assert proxy.wait_for(lambda: proxy.cuts == 2, 5)
    assert proxy.wait_for(
        lambda: bytes(target.received[1]) == b"x" * 60 + b"y" * 30, 5)
    assert proxy.connections == 2


def test_cut_mid_stream(target_factory, proxy_factory):
    target = target_factory(stream)
    limit = 1000003
    proxy = proxy_factory(target, cut_after=limit)
    c = connect(proxy)
    data, how = read_all(c)
    c.close()
    assert how == "reset"
    assert len(data) == limit < len(STREAM)
    assert data == STREAM[:limit]
    assert proxy.wait_for(lambda: proxy.cuts == 1, 5)
    # the proxy itself keeps going: the next connection is cut too
    c = connect(proxy)
    data, how = read_all(c)
    c.close()
    assert (len(data), how) == (limit, "reset")
    assert proxy.wait_for(lambda: proxy.cuts == 2, 5)


def test_limit_changes_while_running(target_factory, proxy_factory):
    target = target_factory(echo)
    proxy = proxy_factory(target)           # never cuts
    c = connect(proxy)
    c.sendall(b"a" * 1000)
    got = b""
    while len(got) < 1000:
        got += c.recv(65536)
    # 2000 bytes passed; a lower limit cuts the open connection, even
    # without another byte
    t0 = time.monotonic()
    proxy.cut_after = 1500
    data, how = read_all(c)
    c.close()
    assert (data, how) == (b"", "reset")
    assert time.monotonic() - t0 < 2
    assert proxy.wait_for(lambda: proxy.cuts == 1, 5)
    # raised again, a new connection goes through
    proxy.cut_after = None
    c = connect(proxy)
    sender = send_in_background(c, b"b" * 5000)
    data, how = read_all(c)
    sender.join(5)
    c.close()
    assert (data, how) == (b"b" * 5000, "eof")
    assert proxy.cuts == 1 and proxy.connections == 2
    with pytest.raises(ValueError):
        proxy.cut_after = -1


def test_stop_leaves_no_threads(target_factory):
    target = target_factory(stream)
    proxy = CutProxy("127.0.0.1", target.port)
    with proxy:
        idle = connect(proxy)               # open, nothing read yet
        busy = connect(proxy)
        assert len(busy.recv(65536)) > 0    # a transfer under way
        assert proxy.wait_for(lambda: len(proxy.threads) == 3, 5)
        port = proxy.port
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 2
    assert proxy.threads == []
    assert not [t for t in threading.enumerate()
                if t.name.startswith("cutproxy")]
    # the open connections end (reset), the port no longer answers
    for s in (idle, busy):
        s.settimeout(5)
        _, how = read_all(s)
        s.close()
        assert how in ("reset", "eof")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    assert proxy.errors == []


def test_target_down_resets_the_client():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                               # nothing listens there now
    proxy = CutProxy("127.0.0.1", port).start()
    try:
        try:
            c = connect(proxy)
        except ConnectionResetError:
            # the proxy accepts and resets at once: on a busy machine the
            # reset arrives before connect() has returned
            data, how = b"", "reset"
        else:
            data, how = read_all(c)
            c.close()
        assert (data, how) == (b"", "reset")
        assert proxy.wait_for(lambda: proxy.errors, 5)
        assert "cannot reach" in proxy.errors[0]
        assert proxy.connections == 1 and proxy.cuts == 0
    finally:
        proxy.stop()
    assert proxy.threads == []
