"""A TCP proxy that cuts connections, for the tests that break the link to
the server in the middle of an exchange (a flush that must survive it).

CutProxy listens on 127.0.0.1 (a free port) and forwards every connection
it accepts to a target host:port. Once cut_after bytes have passed on a
connection, counting both directions together in the order they arrive,
both of its sockets are reset (SO_LINGER 0, so each peer gets an RST, not
an orderly end). The bytes up to the limit are delivered before the cut;
nothing beyond it is. cut_after=None never cuts.

cut_after may be changed while the proxy runs: every connection, the open
ones included, checks the current value each time data passes and at least
every POLL seconds, so a connection that has already carried as much as a
new, lower limit is cut at once, even when neither side sends anything.

    with CutProxy("127.0.0.1", dovecot.imaps_port, cut_after=20000) as p:
        ... connect to p.host, p.port ...
        p.cut_after = None          # let the rest through
        assert p.cuts >= 1

Counters (read them at any time): .connections (accepted), .cuts (resets
made because of the limit), .forwarded (bytes passed, every connection),
.errors (what went wrong inside the proxy, e.g. the target refused; a test
may assert it is empty).

One thread accepts; each connection has one thread of its own that moves
the bytes of both directions (non-blocking sockets and a selector, so a
peer that stops reading never blocks the other direction and stop() is
never kept waiting). stop() closes the listener and every connection and
joins every thread.
"""

import errno
import fcntl
import selectors
import socket
import struct
import termios
import threading
import time

CHUNK = 65536
MAX_BUFFERED = 1 << 20      # stop reading a side while this much waits for
                            # the other
DRAIN_TIMEOUT = 2.0         # seconds a cut waits for the bytes before it to
                            # be acknowledged by the peer
POLL = 0.1                  # seconds between checks of stop()


class _Cut(Exception):
    """The limit is reached: reset both sides."""


class _Reset(Exception):
    """One side reset the connection: reset the other too."""


def _unsent(sock):
    """Bytes written to sock that its peer has not acknowledged yet
    (SIOCOUTQ, which Linux numbers as TIOCOUTQ)."""
    try:
        buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]
    except OSError:
        return 0


def _reset(sock):
    """Close sock so that the peer gets an RST."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class _Link:
    """One proxied connection: client <-> target, run in its own thread."""

    def __init__(self, proxy, client, upstream, index):
        self.proxy = proxy
        self.index = index
        self.socks = (client, upstream)
        # pending[i]: bytes read from the other side, waiting to go to
        # socks[i]; eof[i]: socks[i] has sent its last byte
        self.pending = [bytearray(), bytearray()]
        self.eof = [False, False]
        self.shut = [False, False]      # write side of socks[i] shut down
        self.passed = 0
        self.armed = set()              # sockets in the selector

    def run(self):
        for s in self.socks:
            s.setblocking(False)
        sel = selectors.DefaultSelector()
        how = "closed"
        try:
            while not self.proxy._stopping.is_set():
                if self._finished():
                    break
                self._arm(sel)
                for key, events in sel.select(POLL):
                    i = self.socks.index(key.fileobj)
                    if events & selectors.EVENT_WRITE:
                        self._write(i)
                    if events & selectors.EVENT_READ:
                        self._read(i)
                self._propagate_eof()
            else:
                how = "stopped"
        except _Cut:
            how = "cut"
        except _Reset:
            how = "reset"
        except OSError as e:
            how = "reset"
            if e.errno not in (errno.ECONNRESET, errno.EPIPE):
                self.proxy._error("connection %d: %s" % (self.index, e))
        finally:
            sel.close()
            if how == "cut":
                self._drain()
            for s in self.socks:
                if how == "closed":
                    s.close()
                else:
                    _reset(s)
            if how == "cut":
                with self.proxy._lock:
                    self.proxy.cuts += 1

    def _finished(self):
        return all(self.eof) and not any(self.pending)

    def _arm(self, sel):
        for i, s in enumerate(self.socks):
            events = 0
            if not self.eof[i] and len(self.pending[1 - i]) < MAX_BUFFERED:
                events |= selectors.EVENT_READ
            if self.pending[i]:
                events |= selectors.EVENT_WRITE
            registered = s in self.armed
            if events and registered:
                sel.modify(s, events)
            elif events:
                sel.register(s, events)
                self.armed.add(s)
            elif registered:
                sel.unregister(s)
                self.armed.discard(s)

    def _read(self, i):
        try:
            data = self.socks[i].recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except ConnectionResetError:
            raise _Reset()
        if not data:
            self.eof[i] = True
            return
        limit = self.proxy.cut_after
        if limit is not None and self.passed + len(data) >= limit:
            keep = max(0, limit - self.passed)
            self._account(keep)
            self.pending[1 - i] += data[:keep]
            raise _Cut()
        self._account(len(data))
        self.pending[1 - i] += data

    def _account(self, n):
        self.passed += n
        with self.proxy._lock:
            self.proxy.forwarded += n

    def _write(self, i):
        buf = self.pending[i]
        try:
            n = self.socks[i].send(buf)
        except (BlockingIOError, InterruptedError):
            return
        except (ConnectionResetError, BrokenPipeError):
            raise _Reset()
        del buf[:n]

    def _propagate_eof(self):
        # a side that ended: once what it sent is delivered, end the other
        # side's writing too (a half-close, as the peer did)
        for i in (0, 1):
            other = 1 - i
            if self.eof[i] and not self.pending[other] and not self.shut[other]:
                self.shut[other] = True
                try:
                    self.socks[other].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        # a limit lowered to what already passed cuts without more data
        limit = self.proxy.cut_after
        if limit is not None and self.passed >= limit:
            raise _Cut()

    def _drain(self):
        """Deliver the bytes before the cut: send what is pending, then wait
        (boundedly) until the peers acknowledged them."""
        deadline = time.monotonic() + DRAIN_TIMEOUT
        for i, s in enumerate(self.socks):
            buf = self.pending[i]
            while buf and time.monotonic() < deadline \
                    and not self.proxy._stopping.is_set():
                try:
                    n = s.send(buf)
                    del buf[:n]
                except (BlockingIOError, InterruptedError):
                    time.sleep(0.005)
                except OSError:
                    break
        for s in self.socks:
            while _unsent(s) > 0 and time.monotonic() < deadline \
                    and not self.proxy._stopping.is_set():
                time.sleep(0.005)


class CutProxy:
    """A TCP proxy on 127.0.0.1 to target_host:target_port that resets a
    connection once cut_after bytes (both directions together) passed on
    it; None never cuts. See the module's comment."""

    def __init__(self, target_host, target_port, cut_after=None,
                 connect_timeout=5.0):
        self.target = (target_host, target_port)
        self._cut_after = cut_after
        self.connect_timeout = connect_timeout
        self.host = "127.0.0.1"
        self.port = None
        self.connections = 0
        self.cuts = 0
        self.forwarded = 0
        self.errors = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = []
        self._socks = []
        self._listener = None
        self._acceptor = None

    # the limit ---------------------------------------------------------------
    @property
    def cut_after(self):
        """Bytes a connection may carry before it is cut (None: never).
        Assigning takes effect at once, open connections included."""
        with self._lock:
            return self._cut_after

    @cut_after.setter
    def cut_after(self, value):
        if value is not None and value < 0:
            raise ValueError("cut_after must be >= 0 or None: %r" % value)
        with self._lock:
            self._cut_after = value

    # life cycle --------------------------------------------------------------
    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, 0))
        s.listen(64)
        s.settimeout(POLL)
        self._listener = s
        self.port = s.getsockname()[1]
        self._stopping.clear()
        self._acceptor = threading.Thread(target=self._accept_loop,
                                          name="cutproxy-accept", daemon=True)
        self._acceptor.start()
        return self

    def stop(self, timeout=10):
        """Stop accepting, reset every open connection, join the threads."""
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout)
            self._acceptor = None
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def threads(self):
        """The proxy's threads that are still alive."""
        with self._lock:
            threads = list(self._threads)
        if self._acceptor is not None:
            threads.append(self._acceptor)
        return [t for t in threads if t.is_alive()]

    def wait_for(self, predicate, timeout=10, interval=0.01):
        """Wait until predicate() is true; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() >= deadline:
                return value
            time.sleep(interval)

    # inside ------------------------------------------------------------------
    def _error(self, text):
        with self._lock:
            self.errors.append(text)

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                index = self.connections
                self.connections += 1
                # threads of connections that ended are dropped
                self._threads = [t for t in self._threads if t.is_alive()]
                t = threading.Thread(target=self._serve, args=(client, index),
                                     name="cutproxy-%d" % index, daemon=True)
                self._threads.append(t)
            t.start()

    def _serve(self, client, index):
        try:
            upstream = socket.create_connection(self.target,
                                                timeout=self.connect_timeout)
        except OSError as e:
            self._error("connection %d: cannot reach %s:%d: %s"
                        % (index, self.target[0], self.target[1], e))
            _reset(client)
            return
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _Link(self, client, upstream, index).run()
