"""A real OAuth 2.0 authorization server on 127.0.0.1 for the OAuth2 tests.

Built on Debian's python3-oauthlib (3.2): its RequestValidator, its Server
(the RFC 6749 token endpoint with the refresh_token grant, rotating refresh
tokens, and the RFC 7662 introspection endpoint) and its BearerToken. oauthlib
3.2 has no server side of RFC 8628, so the device authorization endpoint and
the device_code grant are written here, and issue their tokens through the
same BearerToken and validator as the refresh grant.

Plain HTTP on loopback (oauthlib is told that is fine with
OAUTHLIB_INSECURE_TRANSPORT, for this process only).

Endpoints (POST, application/x-www-form-urlencoded):
  /device       RFC 8628 3.1: client_id, scope -> device_code, user_code ...
  /token        device_code grant (RFC 8628 3.4) and refresh_token grant
  /introspect   RFC 7662: token -> {"active": true, "username": ...} or
                {"active": false}
  /control      test-only: action=approve|deny (user_code, user),
                expire (every access token stops being active),
                revoke (refresh_token, or all), slow_down (count: the next
                polls answered slow_down), refresh_delay (seconds: a
                slow refresh grant), outage (on=1: the refresh grant
                answers 503 temporarily_unavailable), stats (a JSON
                summary)

    with OAuthServer(clients={"mailfs-test": None}) as srv:
        srv.device_url, srv.token_url, srv.introspection_url
        srv.approve(user_code, "alice")
"""

import json
import os
import secrets
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

from oauthlib.common import Request  # noqa: E402
from oauthlib.oauth2 import BearerToken, RequestValidator, Server  # noqa: E402

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"     # RFC 8628 6.1


class _Client:
    def __init__(self, client_id):
        self.client_id = client_id


class _Validator(RequestValidator):
    """Tokens and clients of one OAuthServer, under its lock."""

    def __init__(self, srv):
        self.srv = srv

    # clients: a confidential client has a secret, a public one None
    def client_authentication_required(self, request, *args, **kwargs):
        if request.uri and request.uri.endswith("/introspect"):
            return False
        return self.srv.clients.get(request.client_id) is not None

    def authenticate_client(self, request, *args, **kwargs):
        secret = self.srv.clients.get(request.client_id)
        if secret is None or request.client_secret != secret:
            return False
        request.client = _Client(request.client_id)
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs):
        # the resource servers (Dovecot, the SMTP checker) introspect
        # without a client of their own
        if request.uri and request.uri.endswith("/introspect"):
            return True
        if client_id not in self.srv.clients:
            return False
        request.client = _Client(client_id)
        return True

    def validate_grant_type(self, client_id, grant_type, client, request,
                            *args, **kwargs):
        return grant_type == "refresh_token"

    def validate_refresh_token(self, refresh_token, client, request, *args,
                               **kwargs):
        with self.srv.lock:
            rt = self.srv.refresh_tokens.get(refresh_token)
            if not rt or rt["revoked"] or rt["client_id"] != client.client_id:
                self.srv.refused_refreshes += 1
                return False
            request.user = rt["user"]
            return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        with self.srv.lock:
            return list(self.srv.refresh_tokens[refresh_token]["scopes"])

    def rotate_refresh_token(self, request):
        return self.srv.rotate

    def save_bearer_token(self, token, request, *args, **kwargs):
        now = time.time()
        with self.srv.lock:
            self.srv.access_tokens[token["access_token"]] = {
                "user": request.user, "client_id": request.client_id,
                "scopes": list(request.scopes or ()),
                "expires": now + token["expires_in"]}
            new_rt = token.get("refresh_token")
            old_rt = request.refresh_token
            if request.grant_type == "refresh_token":
                self.srv.refreshes += 1
                # a rotated refresh token replaces the one presented
                if old_rt and new_rt and new_rt != old_rt:
                    self.srv.refresh_tokens[old_rt]["revoked"] = True
            if new_rt and new_rt not in self.srv.refresh_tokens:
                self.srv.refresh_tokens[new_rt] = {
                    "user": request.user, "client_id": request.client_id,
                    "scopes": list(request.scopes or ()), "revoked": False}

    def introspect_token(self, token, token_type_hint, request, *args,
                         **kwargs):
        with self.srv.lock:
            self.srv.introspections += 1
            at = self.srv.access_tokens.get(token)
            if not at or at["expires"] <= time.time():
                return None
            return {"username": at["user"], "client_id": at["client_id"],
                    "scope": " ".join(at["scopes"]),
                    "exp": int(at["expires"])}


class OAuthServer:
    """One authorization server on a free port of 127.0.0.1.

    clients: client_id -> secret (None: a public client).
    interval: the polling interval the device endpoint asks for (seconds).
    device_lifetime: expires_in of a device code (seconds).
    access_lifetime: expires_in of an access token (seconds).
    rotate: whether the refresh grant issues a new refresh token.
    refresh_delay: seconds the token endpoint takes to answer a refresh
    (a slow provider, so that concurrent callers overlap).
    """

    host = "127.0.0.1"

    def __init__(self, clients=None, interval=1, device_lifetime=60,
                 access_lifetime=3600, rotate=True, refresh_delay=0):
        self.clients = dict(clients or {"mailfs-test": None})
        self.interval = interval
        self.device_lifetime = device_lifetime
        self.access_lifetime = access_lifetime
        self.rotate = rotate
        self.refresh_delay = refresh_delay
        self.lock = threading.RLock()
        self.devices = {}           # device_code -> state
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.refreshes = 0
        self.refused_refreshes = 0
        self.introspections = 0
        self.force_slow_down = 0
        self.outage = False         # the token endpoint answers 503
        self.validator = _Validator(self)
        self.bearer = BearerToken(self.validator,
                                  expires_in=lambda r: self.access_lifetime)
        self.server = Server(self.validator,
                             token_expires_in=lambda r: self.access_lifetime)
        self.httpd = None
        self.thread = None

    # --- life cycle ---------------------------------------------------------
    def start(self):
        handler = type("Handler", (_Handler,), {"srv": self})
        self.httpd = ThreadingHTTPServer((self.host, 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def device_url(self):
        return self.base_url + "/device"

    @property
    def token_url(self):
        return self.base_url + "/token"

    @property
    def introspection_url(self):
        return self.base_url + "/introspect"

    # --- the test's side, through the control endpoint ----------------------
    def control(self, **fields):
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(self.base_url + "/control", data,
                                    timeout=10) as r:
            return json.loads(r.read())

    def approve(self, user_code, user):
        return self.control(action="approve", user_code=user_code, user=user)

    def deny(self, user_code):
        return self.control(action="deny", user_code=user_code)

    def expire_access_tokens(self):
        return self.control(action="expire")

    def revoke(self, refresh_token=None):
        if refresh_token is None:
            return self.control(action="revoke")
        return self.control(action="revoke", refresh_token=refresh_token)

    def slow_down(self, count=1):
        return self.control(action="slow_down", count=count)

    def stats(self):
        return self.control(action="stats")

    def check_token(self, user, token):
        """What a resource server does: ask the introspection endpoint
        whether `token` is active and belongs to `user`."""
        data = urllib.parse.urlencode({"token": token}).encode()
        with urllib.request.urlopen(self.introspection_url, data,
                                    timeout=10) as r:
            claims = json.loads(r.read())
        return claims.get("active") is True and claims.get("username") == user

    # --- endpoints ----------------------------------------------------------
    def device_authorization(self, form):
        client_id = form.get("client_id")
        if client_id not in self.clients:
            return 401, {"error": "invalid_client"}
        secret = self.clients[client_id]
        if secret is not None and form.get("client_secret") != secret:
            return 401, {"error": "invalid_client"}
        device_code = secrets.token_urlsafe(32)
        user_code = "-".join(
            "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(4))
            for _ in range(2))
        with self.lock:
            self.devices[device_code] = {
                "user_code": user_code, "client_id": client_id,
                "scopes": (form.get("scope") or "").split(),
                "expires": time.time() + self.device_lifetime,
                "interval": self.interval, "state": "pending",
                "user": None, "polls": []}
        verify = self.base_url + "/verify"
        return 200, {
            "device_code": device_code, "user_code": user_code,
            "verification_uri": verify,
            "verification_uri_complete": verify + "?user_code=" + user_code,
            "expires_in": self.device_lifetime, "interval": self.interval}

    def device_token(self, form):
        now = time.time()
        with self.lock:
            d = self.devices.get(form.get("device_code", ""))
            if d is None or d["client_id"] != form.get("client_id"):
                return 400, {"error": "invalid_grant"}
            secret = self.clients.get(d["client_id"])
            if secret is not None and form.get("client_secret") != secret:
                return 401, {"error": "invalid_client"}
            last = d["polls"][-1] if d["polls"] else None
            d["polls"].append(now)
            if d["state"] == "used":
                return 400, {"error": "invalid_grant"}
            if now >= d["expires"]:
                return 400, {"error": "expired_token"}
            # RFC 8628 3.5: polling faster than asked is slowed down
            too_fast = last is not None and now - last < d["interval"] - 0.3
            if self.force_slow_down > 0 or too_fast:
                self.force_slow_down = max(0, self.force_slow_down - 1)
                d["interval"] += 5
                return 400, {"error": "slow_down"}
            if d["state"] == "denied":
                return 400, {"error": "access_denied"}
            if d["state"] == "pending":
                return 400, {"error": "authorization_pending"}
            d["state"] = "used"
            user, scopes = d["user"], d["scopes"]
        request = Request(self.token_url, http_method="POST")
        request.client_id = form.get("client_id")
        request.client = _Client(request.client_id)
        request.grant_type = DEVICE_GRANT
        request.user = user
        request.scopes = scopes
        token = self.bearer.create_token(request, refresh_token=True)
        self.validator.save_token(token, request)
        return 200, dict(token)

    def control_action(self, form):
        action = form.get("action")
        with self.lock:
            if action in ("approve", "deny"):
                for d in self.devices.values():
                    if d["user_code"] == form.get("user_code") \
                            and d["state"] == "pending":
                        d["state"] = "approved" if action == "approve" \
                            else "denied"
                        d["user"] = form.get("user")
                        return 200, {"ok": True}
                return 404, {"error": "no such pending user code"}
            if action == "expire":
                for at in self.access_tokens.values():
                    at["expires"] = 0
                return 200, {"ok": True}
            if action == "revoke":
                rt = form.get("refresh_token")
                for token, state in self.refresh_tokens.items():
                    if rt is None or token == rt:
                        state["revoked"] = True
                return 200, {"ok": True}
            if action == "outage":
                self.outage = form.get("on") == "1"
                return 200, {"ok": True}
            if action == "refresh_delay":
                self.refresh_delay = float(form.get("seconds", "0"))
                return 200, {"ok": True}
            if action == "slow_down":
                self.force_slow_down = int(form.get("count", "1"))
                return 200, {"ok": True}
            if action == "stats":
                return 200, {
                    "refreshes": self.refreshes,
                    "refused_refreshes": self.refused_refreshes,
                    "introspections": self.introspections,
                    "active_access_tokens": sum(
                        1 for a in self.access_tokens.values()
                        if a["expires"] > time.time()),
                    "polls": [d["polls"] for d in self.devices.values()],
                    "users": sorted({a["user"] for a in
                                     self.access_tokens.values()})}
        return 400, {"error": "unknown action"}


class _Handler(BaseHTTPRequestHandler):
    srv = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        hdrs = {"Content-Type": "application/json",
                "Cache-Control": "no-store"}
        hdrs.update(headers or {})
        for k, v in hdrs.items():
            if k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        path = urllib.parse.urlsplit(self.path).path
        srv = self.srv
        uri = srv.base_url + path
        headers = {k: v for k, v in self.headers.items()}
        if path == "/device":
            return self._reply(*srv.device_authorization(form))
        if path == "/token" and form.get("grant_type") == DEVICE_GRANT:
            return self._reply(*srv.device_token(form))
        if path == "/token" and srv.outage:
            return self._reply(503, {"error": "temporarily_unavailable"})
        if path == "/token":
            time.sleep(srv.refresh_delay)
            h, body, status = srv.server.create_token_response(
                uri, "POST", raw, headers)
            return self._reply(status, body.encode(), h)
        if path == "/introspect":
            h, body, status = srv.server.create_introspect_response(
                uri, "POST", raw, headers)
            if status == 200 and not body:
                body = json.dumps({"active": False})
            return self._reply(status, (body or "{}").encode(), h)
        if path == "/control":
            return self._reply(*srv.control_action(form))
        return self._reply(404, {"error": "not found"})


if __name__ == "__main__":
    import sys
    with OAuthServer() as s:
        print(s.base_url, flush=True)
        try:
            sys.stdin.read()
        except KeyboardInterrupt:
            pass
