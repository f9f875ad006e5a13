"""A scripted, hostile IMAP server for the failure tests of the IMAP client.

FakeIMAP listens on 127.0.0.1 (a free port) and runs a script for every
connection, in a thread of its own. A script is a list of steps:

  ("send", bytes)          send bytes; {tag} becomes the tag of the command
                           the last "expect" or "login" matched, {name} a
                           named group of that regex
  ("expect", regex)        wait for a command whose first line (no CRLF)
                           matches regex (bytes or str, searched); commands
                           that do not match are answered by the fallback and
                           noted in .unexpected
  ("login", ok=True)       wait for LOGIN or AUTHENTICATE (PLAIN, with or
                           without initial response), note the credentials
                           in .credentials, answer OK (or NO when ok is
                           false); written ("login",) or ("login", False)
  ("close",)               close the connection
  ("sleep", seconds)       pause (cut short by stop())
  ("send_forever", chunk)  send chunk again and again until the client hangs
                           up, send_limit bytes went out (default 256 MiB) or
                           max_seconds passed; the count is in .forever_sent
  ("hang",)                never answer again: read and record what comes,
                           until the client hangs up or stop()
  ("fallback", VERB, reply)  from now on answer VERB (LIST, FETCH, ...) with
                           reply instead of the default: bytes (with {tag}),
                           or a function (conn, line, whole) -> bytes, a
                           list of steps to run there and then, or None
                           (answered BAD)
  ("answer",)              answer the command the last "expect" matched as
                           the fallback would
  ("starttls",)            wrap the connection in TLS now (needs tls_context;
                           send the OK first)

When the script ends, the connection goes on with the fallback alone: it
answers CAPABILITY, NOOP, CHECK, ID, ENABLE, IDLE/DONE, LOGOUT (then
closes), LIST/LSUB (INBOX only), SELECT/EXAMINE/STATUS (a folder with one
message, UIDVALIDITY 1) and everything else "{tag} BAD". A synchronizing
literal from the client ({n}) gets "+ OK" unless auto_continue is false.

Everything the client sent is recorded: .received (all bytes, every
connection), .commands (each command's first line), .credentials.

Scripts are built from greeting() (the "* OK [CAPABILITY ...]" line) and
session(*steps) (greeting, LOGIN, then steps); mailbox(messages) gives the
fallbacks of a server that holds messages (SELECT, STATUS, UID FETCH of
flags, sizes and bodies), with a hook for what a body fetch gets instead;
first_time(steps) makes such a hook hostile once per server, always(steps)
every time. Ready-made scripts are the functions at the end: hostile_list(),
huge_literal(), unbalanced_parens(), deep_nesting(), truncated_then_close(),
disconnect_in_literal(), bye_mid_session(), never_answers(),
silent_after_login().
"""

import base64
import os
import re
import socket
import ssl
import threading
import time

from mailfs_mount import (imap_account_keys, write_mailfs_config,
                          write_password_file)

CAPS = (b"IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN ID ENABLE IDLE NAMESPACE "
        b"UIDPLUS MOVE CONDSTORE SPECIAL-USE")
MAX_LINE = 1 << 20          # a longer client line is recorded and dropped

_DEFAULT_REPLIES = {
    "CAPABILITY": b"* CAPABILITY {caps}\r\n{tag} OK CAPABILITY completed\r\n",
    "NOOP": b"{tag} OK NOOP completed\r\n",
    "CHECK": b"{tag} OK CHECK completed\r\n",
    "ID": b"* ID NIL\r\n{tag} OK ID completed\r\n",
    "ENABLE": b"* ENABLED\r\n{tag} OK ENABLE completed\r\n",
    "NAMESPACE": b'* NAMESPACE (("" "/")) NIL NIL\r\n'
                 b"{tag} OK NAMESPACE completed\r\n",
    "LIST": b'* LIST (\\HasNoChildren) "/" INBOX\r\n{tag} OK LIST completed\r\n',
    "LSUB": b'* LSUB () "/" INBOX\r\n{tag} OK LSUB completed\r\n',
    "SELECT": b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
              b"* 1 EXISTS\r\n* 0 RECENT\r\n"
              b"* OK [UIDVALIDITY 1] UIDs valid\r\n"
              b"* OK [UIDNEXT 2] Predicted next UID\r\n"
              b"* OK [HIGHESTMODSEQ 1] Highest\r\n"
              b"{tag} OK [READ-WRITE] SELECT completed\r\n",
    "EXAMINE": b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
               b"* 1 EXISTS\r\n* 0 RECENT\r\n"
               b"* OK [UIDVALIDITY 1] UIDs valid\r\n"
               b"* OK [UIDNEXT 2] Predicted next UID\r\n"
               b"* OK [HIGHESTMODSEQ 1] Highest\r\n"
               b"{tag} OK [READ-ONLY] EXAMINE completed\r\n",
    "STATUS": b"* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 1 UNSEEN 0 "
              b"HIGHESTMODSEQ 1)\r\n{tag} OK STATUS completed\r\n",
    "LOGOUT": b"* BYE fake server logging out\r\n{tag} OK LOGOUT completed\r\n",
}


class _Closed(Exception):
    """The client hung up, the script closed, or the server stops."""


class _Conn:
    def __init__(self, server, sock, index):
        self.server = server
        self.sock = sock
        self.index = index
        self.buf = b""
        self.received = bytearray()
        self.vars = {"tag": b"*"}
        self.replies = dict(_DEFAULT_REPLIES)
        self.idle_tag = None
        self.matched = None         # (line, whole) the last "expect" took
        self.selected = None        # the folder a SELECT/EXAMINE named

    # reading -----------------------------------------------------------------
    def _fill(self):
        while True:
            if self.server._stopping.is_set():
                raise _Closed()
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ssl.SSLWantReadError, BlockingIOError):
                continue
            except OSError:
                raise _Closed()
            if not data:
                raise _Closed()
            self.server._record(self, data)
            self.buf += data
            return

    def read_line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                line, self.buf = self.buf, b""
                return line
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def read_bytes(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_command(self):
        """One command: (first line, whole command with literals)."""
        first = line = self.read_line()
        whole = line
        while True:
            m = re.search(rb"\{(\d+)(\+?)\}$", line)
            if not m:
                break
            n = int(m.group(1))
            if n > self.server.max_literal:
                raise _Closed()
            if not m.group(2) and self.server.auto_continue:
                self.send(b"+ OK\r\n")
            literal = self.read_bytes(n)
            line = self.read_line()
            whole += b"\r\n" + literal + line
        with self.server._lock:
            self.server.commands.append(first)
        return first, whole

    # writing -----------------------------------------------------------------
    def subst(self, data):
        if isinstance(data, str):
            data = data.encode()
        for k, v in self.vars.items():
            data = data.replace(b"{%s}" % k.encode(), v)
        return data.replace(b"{caps}", self.server.caps)

    def send(self, data):
        view = memoryview(data)
        while view:
            if self.server._stopping.is_set():
                raise _Closed()
            try:
                n = self.sock.send(view)
            except socket.timeout:
                continue
            except (ssl.SSLWantWriteError, BlockingIOError):
                continue
            except OSError:
                raise _Closed()
            view = view[n:]
            with self.server._lock:
                self.server.sent += n

    # the fallback --------------------------------------------------------------
    def fallback(self, line, whole=None):
        if whole is None:
            whole = line
        if line.upper() == b"DONE" and self.idle_tag is not None:
            tag, self.idle_tag = self.idle_tag, None
            self.send(tag + b" OK IDLE terminated\r\n")
            return
        parts = line.split(b" ", 2)
        tag = parts[0] if parts and parts[0] else b"*"
        verb = parts[1].upper() if len(parts) > 1 else b""
        if verb == b"UID" and len(parts) > 2:
            verb = parts[2].split(b" ", 1)[0].upper()
        self.vars["tag"] = tag
        v = verb.decode("ascii", "replace")
        if v == "IDLE":
            self.idle_tag = tag
            self.send(b"+ idling\r\n")
            return
        reply = self.replies.get(v)
        if callable(reply):
            reply = reply(self, line, whole)
        if reply is None:
            self.send(tag + b" BAD unknown command\r\n")
            return
        if isinstance(reply, list):
            self.run_steps(reply)
            return
        self.send(self.subst(reply))
        if v == "LOGOUT":
            raise _Closed()

    def _match(self, regex, line):
        m = re.search(regex, line)
        if not m:
            return False
        self.vars["tag"] = line.split(b" ", 1)[0]
        for k, v in m.groupdict().items():
            self.vars[k] = v if v is not None else b""
        return True

    def expect(self, regex):
        if isinstance(regex, str):
            regex = regex.encode()
        while True:
            line, whole = self.read_command()
            if self._match(regex, line):
                self.matched = (line, whole)
                return
            with self.server._lock:
                self.server.unexpected.append(line)
            self.fallback(line, whole)

    def login(self, ok=True):
        while True:
            line, whole = self.read_command()
            m = re.match(rb"(\S+) (LOGIN|AUTHENTICATE)\b ?(.*)$", line, re.I)
            if m:
                break
            with self.server._lock:
                self.server.unexpected.append(line)
            self.fallback(line, whole)
        tag, verb, rest = m.groups()
        self.vars["tag"] = tag
        if verb.upper() == b"LOGIN":
            cred = _parse_astrings(whole.split(b" ", 2)[2])
        else:
            mech, _, ir = rest.partition(b" ")
            if not ir:
                self.send(b"+ \r\n")
                ir = self.read_line()
            cred = _parse_plain(ir)
        with self.server._lock:
            self.server.credentials.append(cred)
        if ok:
            self.send(tag + b" OK [CAPABILITY " + self.server.caps +
                      b"] Logged in\r\n")
        else:
            self.send(tag + b" NO [AUTHENTICATIONFAILED] Authentication "
                      b"failed.\r\n")

    def send_forever(self, chunk):
        limit = self.server.send_limit
        deadline = time.monotonic() + self.server.max_seconds
        sent = 0
        self.sock.settimeout(0.2)
        view = memoryview(chunk)
        try:
            while sent < limit and time.monotonic() < deadline:
                if self.server._stopping.is_set():
                    break
                try:
                    n = self.sock.send(view[:min(len(view), limit - sent)])
                except socket.timeout:
                    continue
                except (ssl.SSLWantWriteError, BlockingIOError):
                    continue
                except OSError:
                    break
                sent += n
                view = view[n:] if n < len(view) else memoryview(chunk)
        finally:
            with self.server._lock:
                self.server.forever_sent += sent
                self.server.sent += sent

    def hang(self):
        while True:
            self._fill()

    def run(self, steps):
        self.run_steps(steps)
        while True:
            line, whole = self.read_command()
            self.fallback(line, whole)

    def run_steps(self, steps):
        for step in steps:
            kind = step[0]
            if kind == "send":
                self.send(self.subst(step[1]))
            elif kind == "expect":
                self.expect(step[1])
            elif kind == "login":
                self.login(*step[1:])
            elif kind == "close":
                raise _Closed()
            elif kind == "sleep":
                if self.server._stopping.wait(step[1]):
                    raise _Closed()
            elif kind == "send_forever":
                self.send_forever(step[1])
            elif kind == "hang":
                self.hang()
            elif kind == "fallback":
                self.replies[step[1].upper()] = step[2]
            elif kind == "answer":
                if self.matched is None:
                    raise ValueError('"answer" before any "expect"')
                self.fallback(*self.matched)
            elif kind == "starttls":
                self.sock.settimeout(None)
                self.sock = self.server.tls_context.wrap_socket(
                    self.sock, server_side=True)
                self.sock.settimeout(0.2)
            else:
                raise ValueError("unknown script step %r" % (step,))


def _parse_astrings(args, n=2):
    """The first n astrings (atom, quoted string or literal) of args, the
    arguments of a command as read_command joined them. Missing ones are
    b"". """
    out = []
    i = 0
    while len(out) < n and i < len(args):
        c = args[i:i + 1]
        if c == b" ":
            i += 1
        elif c == b'"':
            j = i + 1
            val = bytearray()
            while j < len(args) and args[j:j + 1] != b'"':
                if args[j:j + 1] == b"\\":
                    j += 1
                val += args[j:j + 1]
                j += 1
            out.append(bytes(val))
            i = j + 1
        elif c == b"{":
            m = re.match(rb"\{(\d+)\+?\}\r\n", args[i:])
            if not m:
                break
            start = i + m.end()
            k = int(m.group(1))
            out.append(args[start:start + k])
            i = start + k
        else:
            j = i
            while j < len(args) and args[j:j + 1] not in (b" ", b"\r", b"\n"):
                j += 1
            out.append(args[i:j])
            i = j
    while len(out) < n:
        out.append(b"")
    return tuple(out)


def _parse_plain(ir):
    try:
        raw = base64.b64decode(ir.strip(), validate=True)
    except ValueError:
        return (b"", ir)
    parts = raw.split(b"\0")
    if len(parts) == 3:
        return (parts[1], parts[2])
    return (b"", raw)


class FakeIMAP:
    """The scripted server. script: a list of steps for every connection, or
    a function (connection index from 0) -> list of steps.

    tls_context: an ssl.SSLContext (server side) to speak implicit TLS from
    the start (or to use with the "starttls" step); server_tls_context()
    makes one from dovecot.make_pki's files."""

    def __init__(self, script, caps=CAPS, tls_context=None, implicit_tls=False,
                 send_limit=256 << 20, max_seconds=60.0, auto_continue=True,
                 max_literal=64 << 20):
        self.script = script
        self.caps = caps
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self.send_limit = send_limit
        self.max_seconds = max_seconds
        self.auto_continue = auto_continue
        self.max_literal = max_literal
        self.host = "127.0.0.1"
        self.port = None
        self.received = bytearray()
        self.commands = []
        self.unexpected = []
        self.credentials = []
        self.errors = []
        self.connections = 0
        self.sent = 0
        self.forever_sent = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = []
        self._socks = []
        self._listener = None
        self._acceptor = None

    # life cycle ----------------------------------------------------------------
    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, 0))
        s.listen(16)
        s.settimeout(0.2)
        self._listener = s
        self.port = s.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop,
                                          name="fakeimap-accept", daemon=True)
        self._acceptor.start()
        return self

    def stop(self, timeout=10):
        """Stop accepting, close every connection, wait for the threads."""
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout)
        with self._lock:
            socks = list(self._socks)
            threads = list(self._threads)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
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

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                index = self.connections
                self.connections += 1
                self._socks.append(sock)
                t = threading.Thread(target=self._serve, args=(sock, index),
                                     name="fakeimap-%d" % index, daemon=True)
                self._threads.append(t)
            t.start()

    def _serve(self, sock, index):
        sock.settimeout(0.2)
        conn = _Conn(self, sock, index)
        try:
            if self.implicit_tls:
                sock.settimeout(10)
                conn.sock = self.tls_context.wrap_socket(sock, server_side=True)
                conn.sock.settimeout(0.2)
            steps = self.script(index) if callable(self.script) else self.script
            conn.run(steps)
        except _Closed:
            pass
        except (ssl.SSLError, OSError) as e:
            with self._lock:
                self.errors.append(e)
        except Exception as e:      # a broken script: keep it for the test
            with self._lock:
                self.errors.append(e)
        finally:
            try:
                conn.sock.close()
            except OSError:
                pass

    def _record(self, conn, data):
        with self._lock:
            conn.received += data
            self.received += data

    # waiting -------------------------------------------------------------------
    def wait_idle(self, timeout=10):
        """Wait until every connection so far has ended. True if so."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(max(0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def wait_for(self, predicate, timeout=10, interval=0.02):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value or time.monotonic() >= deadline:
                return value
            time.sleep(interval)

    # mailfs -------------------------------------------------------------------
    def mailfs_config(self, directory, account="fake", user="fakeuser",
                      password="fake-password-0123", **keys):
        """Write DIRECTORY/mailfs.conf (appending when it exists) with an
        IMAP account on this server: tls = none with allow_plaintext, or
        implicit when the server speaks implicit TLS (give ca_file then).
        password=None writes no password file (for oauth2_token_cmd).
        Returns the config's path."""
        os.makedirs(directory, exist_ok=True)
        pw = None
        if password is not None:
            pw = write_password_file(
                os.path.join(directory, "%s.password" % account), password)
        keys.setdefault("tls", "implicit" if self.implicit_tls else "none")
        kv = imap_account_keys(host=self.host, port=self.port, user=user,
                               password_file=pw, **keys)
        path = os.path.join(directory, "mailfs.conf")
        return write_mailfs_config(path, account, kv,
                                   append=os.path.exists(path))


def server_tls_context(cert_file, key_file):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


# ---------------------------------------------------------------------------
# A server that holds messages

INTERNALDATE = b'"01-Jan-2024 00:00:00 +0000"'


def _uid_set(text, have):
    """The members of a sequence set ("1:3,7", "2:*") among `have` (sorted
    numbers); '*' is the largest of them."""
    top = have[-1] if have else 0
    out = set()
    for part in text.split(b","):
        a, _, b = part.partition(b":")
        lo = top if a == b"*" else int(a)
        hi = lo if not b else (top if b == b"*" else int(b))
        lo, hi = min(lo, hi), max(lo, hi)
        out.update(n for n in have if lo <= n <= hi)
    return sorted(out)


def fetch_response(seq, uid, data, flags=b"\\Seen", items=b"",
                   body=True):
    """One "* seq FETCH (...)" response: UID, and FLAGS, RFC822.SIZE,
    INTERNALDATE and BODY[] as `items` (the client's request, upper-case)
    asks for them; body=False leaves the body out whatever is asked."""
    parts = [b"UID %d" % uid]
    if b"FLAGS" in items:
        parts.append(b"FLAGS (%s)" % flags)
    if b"RFC822.SIZE" in items:
        parts.append(b"RFC822.SIZE %d" % len(data))
    if b"INTERNALDATE" in items:
        parts.append(b"INTERNALDATE " + INTERNALDATE)
    if body and (b"BODY[]" in items or b"BODY.PEEK[]" in items):
        parts.append(b"BODY[] {%d}\r\n" % len(data) + data)
    return b"* %d FETCH (%s)\r\n" % (seq, b" ".join(parts))


def mailbox(messages, uidvalidity=1, flags=b"\\Seen", folders=None,
            on_body=None):
    """Fallback steps (put them in session()) for a server whose folders
    each hold `messages`, {uid: bytes}; `folders` {server name (bytes):
    {uid: bytes}} gives some folders other messages.

    SELECT and EXAMINE report EXISTS, UIDVALIDITY, UIDNEXT and
    HIGHESTMODSEQ; STATUS answers MESSAGES, UIDNEXT, UIDVALIDITY; FETCH
    and UID FETCH answer UID, FLAGS (all `flags`), RFC822.SIZE,
    INTERNALDATE and BODY[] as asked. on_body(conn, line, whole), when
    given, is asked first about every FETCH that wants a body: it returns
    None for the normal answer, or bytes or a list of steps to answer with
    instead (first_time() makes one)."""
    folders = folders or {}

    def held(conn):
        return folders.get(conn.selected, messages)

    def select(conn, line, whole):
        name = _parse_astrings(whole.split(b" ", 2)[2], 1)[0]
        conn.selected = name
        msgs = held(conn)
        verb = line.split(b" ", 2)[1].upper()
        mode = b"READ-ONLY" if verb == b"EXAMINE" else b"READ-WRITE"
        return (b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen "
                b"\\Draft)\r\n"
                b"* %d EXISTS\r\n* 0 RECENT\r\n"
                b"* OK [UIDVALIDITY %d] UIDs valid\r\n"
                b"* OK [UIDNEXT %d] Predicted next UID\r\n"
                b"* OK [HIGHESTMODSEQ 1] Highest\r\n"
                b"{tag} OK [%s] %s completed\r\n"
                % (len(msgs), uidvalidity, max(msgs, default=0) + 1, mode,
                   verb))

    def status(conn, line, whole):
        name = _parse_astrings(whole.split(b" ", 2)[2], 1)[0]
        msgs = folders.get(name, messages)
        return (b'* STATUS "%s" (MESSAGES %d UIDNEXT %d UIDVALIDITY %d)\r\n'
                b"{tag} OK STATUS completed\r\n"
                % (name.replace(b"\\", b"\\\\").replace(b'"', b'\\"'),
                   len(msgs), max(msgs, default=0) + 1, uidvalidity))

    def fetch(conn, line, whole):
        m = re.match(rb"\S+ (UID )?FETCH (\S+) (.*)$", line, re.I)
        if not m:
            return None
        items = m.group(3).upper()
        if on_body is not None and (b"BODY[]" in items or
                                    b"BODY.PEEK[]" in items):
            instead = on_body(conn, line, whole)
            if instead is not None:
                return instead
        msgs = held(conn)
        uids = sorted(msgs)
        if m.group(1):
            chosen = _uid_set(m.group(2), uids)
        else:
            chosen = [uids[i - 1] for i in
                      _uid_set(m.group(2), list(range(1, len(uids) + 1)))]
        out = b"".join(fetch_response(uids.index(u) + 1, u, msgs[u], flags,
                                      items) for u in chosen)
        return out + b"{tag} OK FETCH completed\r\n"

    return [("fallback", "SELECT", select), ("fallback", "EXAMINE", select),
            ("fallback", "STATUS", status), ("fallback", "FETCH", fetch)]


def first_time(steps):
    """An on_body hook for mailbox(): `steps` for the first body fetch the
    server sees (on whichever connection), the normal answer after that.
    The hook's .count says how many body fetches it saw."""
    lock = threading.Lock()

    def hook(conn, line, whole):
        with lock:
            hook.count += 1
            first = hook.count == 1
        return list(steps) if first else None

    hook.count = 0
    return hook


def always(steps):
    """An on_body hook for mailbox(): `steps` for every body fetch."""
    def hook(conn, line, whole):
        hook.count += 1
        return list(steps)

    hook.count = 0
    return hook


# ---------------------------------------------------------------------------
# Ready-made scripts

def greeting(caps=CAPS):
    return ("send", b"* OK [CAPABILITY " + caps + b"] fake IMAP ready\r\n")


def session(*steps, caps=CAPS):
    return [greeting(caps), ("login",), *steps]


# Folder names a hostile server may list, as they go on the wire after the
# delimiter "/", each with what it is meant to test.
HOSTILE_LIST_NAMES = [
    (b'INBOX', "the inbox"),
    (b'".."', "a whole name '..'"),
    (b'"."', "a whole name '.'"),
    (b'"a/.."', "'..' as a component"),
    (b'"../etc"', "a climbing first component"),
    (b'"/abs"', "an empty first component"),
    (b'"x//y"', "an empty middle component"),
    (b'"trail/"', "an empty last component"),
    (b'{7}\r\nnul\x00end', "a NUL byte, sent as a literal"),
    (b'"%00"', "mailfs's own escape for the empty name"),
    (b'"100%25"', "a '%' followed by hex digits"),
    (b'"back\\\\slash"', "a quoted backslash"),
    (b'"quo\\"te"', "a quoted double quote"),
    (b'"Caf&AOk-"', "modified UTF-7: Caf\u00e9"),
    (b'"&ZeVnLIqe-"', "modified UTF-7: \u65e5\u672c\u8a9e"),
    (b'"&-amp"', "modified UTF-7 escape of '&'"),
    (b'"&AOk"', "modified UTF-7 shift never closed"),
    (b'"&Jjo!-"', "modified UTF-7 with a byte outside BASE64"),
    (b'"&AC8-"', "modified UTF-7 hiding a '/'"),
    (b'"&AAA-"', "modified UTF-7 hiding a NUL"),
    (b'"raw\xc3\xa9utf8"', "8-bit bytes in a quoted string"),
    (b'"cur"', "a Maildir subdirectory name"),
    (b'"new"', "a Maildir subdirectory name"),
    (b'"tmp"', "a Maildir subdirectory name"),
    (b'".mailfs"', "mailfs's control directory name"),
    (b'"' + b"L" * 300 + b'"', "a component longer than NAME_MAX"),
]


def hostile_list_reply(names=None):
    names = HOSTILE_LIST_NAMES if names is None else names
    out = b"".join(b'* LIST (\\HasNoChildren) "/" %s\r\n' % n
                   for n, _ in names)
    out += b'* LIST (\\HasNoChildren) "." "dot.sep/with-slash"\r\n'
    out += b'* LIST (\\Noselect) NIL ""\r\n'
    return out + b"{tag} OK LIST completed\r\n"


def hostile_list(names=None):
    """Greeting, LOGIN, then every LIST (and LSUB) of any connection is
    answered with the names in HOSTILE_LIST_NAMES: '..', '/', NUL, escapes,
    valid and invalid modified UTF-7, reserved names, an overlong name."""
    reply = hostile_list_reply(names)
    return session(("fallback", "LIST", reply),
                    ("fallback", "LSUB", reply.replace(b"* LIST", b"* LSUB")))


HUGE = 9223372036854775807      # 2^63 - 1


def huge_literal(trigger=rb"FETCH", chunk=None):
    """After LOGIN, the first command matching trigger gets a FETCH reply
    whose literal is announced as {9223372036854775807}; then data flows
    until the client hangs up or send_limit is reached, then the
    connection closes."""
    chunk = chunk or (b"X" * 78 + b"\r\n") * 820
    return session(
        ("expect", trigger),
        ("send", b"* 1 FETCH (UID 1 RFC822.SIZE 100 BODY[] {%d}\r\n" % HUGE),
        ("send_forever", chunk),
        ("close",))


def unbalanced_parens():
    """LIST, SELECT, STATUS and FETCH replies with parentheses that do not
    balance (too many openers, too many closers), then a normal OK."""
    return session(
        ("fallback", "LIST",
         b'* LIST ((\\HasNoChildren "/" INBOX\r\n'
         b'* LIST (\\HasNoChildren)) "/" Other\r\n'
         b"{tag} OK LIST completed\r\n"),
        ("fallback", "STATUS",
         b"* STATUS INBOX (MESSAGES 1 UIDNEXT 2\r\n"
         b"{tag} OK STATUS completed\r\n"),
        ("fallback", "SELECT",
         b"* FLAGS (\\Seen \\Deleted\r\n* 1 EXISTS\r\n"
         b"* OK [UIDVALIDITY 1] x\r\n{tag} OK [READ-WRITE] SELECT\r\n"),
        ("fallback", "EXAMINE",
         b"* FLAGS (\\Seen \\Deleted\r\n* 1 EXISTS\r\n"
         b"* OK [UIDVALIDITY 1] x\r\n{tag} OK [READ-ONLY] EXAMINE\r\n"),
        ("fallback", "FETCH",
         b"* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 10\r\n"
         b"* 1 FETCH UID 1 FLAGS \\Seen))\r\n"
         b"* 1 FETCH (UID 1 FLAGS (\\Seen)))))\r\n"
         b"* 1 FETCH ((((UID 1\r\n"
         b"{tag} OK FETCH completed\r\n"))


def deep_nesting(depth=10000):
    """LIST flags and a FETCH BODYSTRUCTURE nested depth (10,000) levels
    deep, properly closed, then OK."""
    body = (b"(" * depth + b'"text" "plain" NIL NIL NIL "7bit" 1 1' +
            b")" * depth)
    return session(
        ("fallback", "LIST",
         b"* LIST " + b"(" * depth + b")" * depth +
         b' "/" INBOX\r\n{tag} OK LIST completed\r\n'),
        ("fallback", "FETCH",
         b"* 1 FETCH (UID 1 FLAGS () BODYSTRUCTURE " + body + b")\r\n"
         b"{tag} OK FETCH completed\r\n"))


def truncated_then_close(trigger=rb"LIST|FETCH|SELECT|EXAMINE|STATUS"):
    """After LOGIN, the first command matching trigger gets half a line (no
    CRLF) and the connection closes."""
    return session(
        ("expect", trigger),
        ("send", b'* LIST (\\HasNoChildren) "/" "INB'),
        ("close",))


def disconnect_in_literal(trigger=rb"FETCH", announced=1000, sent=400):
    """After LOGIN, the first command matching trigger gets a FETCH whose
    literal announces `announced` bytes; `sent` of them come, then the
    connection closes."""
    return session(
        ("expect", trigger),
        ("send", b"* 1 FETCH (UID 1 RFC822.SIZE %d BODY[] {%d}\r\n"
                 % (announced, announced) + b"Y" * sent),
        ("close",))


def bye_mid_session(trigger=rb"SELECT|EXAMINE|FETCH|IDLE|NOOP", delay=0):
    """After LOGIN, the first command matching trigger is answered by an
    untagged BYE (after `delay` seconds), and the connection closes."""
    steps = [("expect", trigger)]
    if delay:
        steps.append(("sleep", delay))
    steps += [("send", b"* BYE [UNAVAILABLE] Server shutting down\r\n"),
              ("close",)]
    return session(*steps)


def never_answers():
    """Accepts the connection and never sends a byte, not even a greeting."""
    return [("hang",)]


def silent_after_login():
    """Greeting and LOGIN, then no answer to anything."""
    return session(("hang",))
