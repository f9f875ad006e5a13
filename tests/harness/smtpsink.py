"""An SMTP server for the submission tests: Debian's python3-aiosmtpd on
127.0.0.1 with a free port, keeping what it receives in memory.

    sink = SmtpSink(tls=(cert, key), users={"alice": "pw"})
    sink.start()
    ... sink.messages  (list of Received: sender, rcpts, data, login)
    sink.stop()

It offers STARTTLS when given a certificate (and then requires it before
AUTH, as a submission server does), AUTH PLAIN and LOGIN when given users,
and can refuse recipients (550), defer them (451), or drop the connection
when the message's end arrives (the outcome then unknown to the client).
It counts the connections it accepted (.connections) and those open now
(.open_sessions()), and can hang up
without a word on the next command once a connection has carried
.drop_after_messages messages, as a server closing an idle session
does."""

import base64
import collections
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword

from dovecot import free_ports

Received = collections.namedtuple("Received", "sender rcpts data login")


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        """A connection that has carried drop_after_messages messages
        is closed without a reply to the next transaction's MAIL."""
        limit = self.sink.drop_after_messages
        if limit and getattr(session, "sink_carried", 0) >= limit:
            server.transport.abort()
            return "421 4.4.2 closing"      # never heard: gone first
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if address in self.sink.refuse:
            return "550 5.1.1 <%s>: no such mailbox here" % address
        if address in self.sink.defer:
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def auth_XOAUTH2(self, server, args):
        """Google's XOAUTH2: "user=U^Aauth=Bearer T^A^A", checked against
        the sink's tokens (login -> token)."""
        if len(args) > 2:
            try:
                raw = base64.b64decode(args[2], validate=True)
            except ValueError:
                return AuthResult(success=False, handled=False)
        else:
            raw = await server.challenge_auth("")
            if raw is MISSING:
                return AuthResult(success=False, handled=False)
        fields = dict(f.split(b"=", 1) for f in raw.split(b"\x01")
                      if b"=" in f)
        login = fields.get(b"user", b"").decode()
        token = fields.get(b"auth", b"").decode()
        if self.sink.token_check is not None:
            ok = token.startswith("Bearer ") and self.sink.token_check(
                login, token[len("Bearer "):])
        else:
            ok = token == "Bearer %s" % self.sink.tokens.get(login,
                                                             object())
        with self.sink.lock:
            self.sink.logins.append(("XOAUTH2", login, ok))
        if ok:
            server.session.sink_login = login
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope):
        with self.sink.lock:
            self.sink.messages.append(Received(
                envelope.mail_from, list(envelope.rcpt_tos),
                bytes(envelope.original_content or envelope.content),
                getattr(session, "sink_login", None)))
            drop = self.sink.drop_after_data
        session.sink_carried = getattr(session, "sink_carried", 0) + 1
        if drop:
            # taken, but the client never hears it
            server.transport.abort()
            return "250 2.0.0 taken"
        return "250 2.0.0 Ok: queued as %d" % len(self.sink.messages)


class _CountingSMTP(SMTP):
    """aiosmtpd's SMTP session, counting the connections it serves."""

    def __init__(self, handler, sink, **kw):
        super().__init__(handler, **kw)
        self.sink = sink

    def connection_made(self, transport):
        # called again with the TLS transport after STARTTLS: a
        # connection is its client's address and port
        self.sink_peer = transport.get_extra_info("peername")
        with self.sink.lock:
            self.sink.peers.add(self.sink_peer)
            self.sink.open_peers.add(self.sink_peer)
        super().connection_made(transport)

    def connection_lost(self, error):
        with self.sink.lock:
            self.sink.open_peers.discard(getattr(self, "sink_peer", None))
        super().connection_lost(error)


class _Controller(Controller):
    def __init__(self, handler, sink, **kw):
        super().__init__(handler, **kw)
        self.sink = sink

    def factory(self):
        return _CountingSMTP(self.handler, self.sink, **self.SMTP_kwargs)


class SmtpSink:
    host = "127.0.0.1"

    def __init__(self, tls=None, users=None, require_tls=True,
                 token_check=None):
        """tls: (certificate, key) files to offer STARTTLS with; users:
        login -> password, required before MAIL when given; token_check:
        check(login, token) -> bool for XOAUTH2 instead of .tokens (e.g.
        OAuthServer.check_token, which asks its introspection endpoint)."""
        self.token_check = token_check
        self.tls = tls
        # None: no AUTH at all; a dict (which may grow): AUTH required
        self.auth = users is not None
        self.users = dict(users or {})
        self.tokens = {}            # login -> OAuth 2 token (XOAUTH2)
        self.require_tls = require_tls and tls is not None
        self.refuse = set()
        self.defer = set()
        self.drop_after_data = False
        self.drop_after_messages = 0    # 0: never
        self.peers = set()          # connections accepted so far
        self.open_peers = set()     # those open now
        self.messages = []
        self.logins = []
        self.lock = threading.Lock()
        self.port = None
        self.controller = None

    def _authenticate(self, server, session, envelope, mechanism, data):
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = data.login.decode()
        ok = self.users.get(login) == data.password.decode()
        with self.lock:
            self.logins.append((mechanism, login, ok))
        if ok:
            session.sink_login = login
        return AuthResult(success=ok, handled=False)

    def start(self):
        (self.port,) = free_ports(1)
        kw = {}
        if self.tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*self.tls)
            kw["tls_context"] = ctx
            kw["require_starttls"] = self.require_tls
            kw["auth_require_tls"] = True
        else:
            kw["auth_require_tls"] = False
        if self.auth:
            kw["authenticator"] = self._authenticate
            kw["auth_required"] = True
        self.controller = _Controller(_Handler(self), self,
                                      hostname=self.host,
                                      port=self.port, server_hostname=
                                      "localhost", **kw)
        self.controller.start()
        with self.lock:
            self.peers.clear()      # the controller's own probe
        return self

    @property
    def connections(self):
        """How many connections it has accepted (its own probe at start
        not counted)."""
        with self.lock:
            return len(self.peers)

    def open_sessions(self):
        """The connections open now."""
        with self.lock:
            return len(self.open_peers)

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def url(self):
        return "smtp://%s:%d" % (self.host, self.port)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
