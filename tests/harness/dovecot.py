"""A real Dovecot (IMAP and POP3) on 127.0.0.1 for the protocol-client tests.

Everything lives in one temporary directory: dovecot.conf, base_dir (run/),
state_dir, the log (dovecot.log), a test CA and the server certificate, a
second unrelated CA, the passwd-file and the mail (mail/USER, Maildir with
LAYOUT=fs, so folders are nested directories and INBOX is mail/USER itself).
Dovecot runs in the foreground (`dovecot -c CONF -F`) as a child of the test
process and is stopped with SIGTERM. The ports are picked free at start; the
system's own Dovecot (if any) and its ports are never used.

Mail belongs to the system user "mail": Dovecot refuses uid 0 for mail
access whatever first_valid_uid says.

In a test module:

    from dovecot import *        # the fixtures and helpers below

    def test_x(dovecot_server):
        user, password = dovecot_server.add_user()
        dovecot_server.append(user, "INBOX", make_message(1))

Fixtures:
  dovecot_module   one Dovecot per test module (users alice and bob)
  dovecot_server   the same Dovecot, per test: prints the log lines written
                   during the test (pytest shows them when the test fails) and
                   fails the test if Dovecot died
  imap_mount_factory  see mailfs_mount.py
  imap_mount       a fresh user on dovecot_server, mounted over implicit TLS

From a test directory other than this one, put this directory on sys.path
first (sys.path.insert(0, ".../tests/harness")).
"""

import base64
import collections
import contextlib
import ctypes
import imaplib
import os
import pwd
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from mailgen import generate_message
from mailfs_mount import (fsconf, imap_account_keys, imap_mount_factory,
                          write_mailfs_config, write_password_file,
                          ImapMailFS)

__all__ = [
    "Dovecot", "running_dovecot", "make_pki", "free_ports", "capabilities_without",
    "DOVECOT_CAPABILITIES", "mutf7_encode", "mutf7_decode",
    "generate_message", "Message", "FilledMessage",
    "write_mailfs_config", "write_password_file", "imap_account_keys",
    "ImapMailFS", "make_message",
    "dovecot_module", "dovecot_server", "imap_mount_factory", "imap_mount",
]

make_message = fsconf.make_message

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
IMAP_BINARY = "/usr/lib/dovecot/imap"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"

MAIL_USER = "mail"          # owner of the mail files and the mail processes
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
SPECIAL_USE = (("Drafts", "\\Drafts"), ("Sent", "\\Sent"),
               ("Trash", "\\Trash"), ("Junk", "\\Junk"))

Message = collections.namedtuple("Message", "uid flags data")
FilledMessage = collections.namedtuple("FilledMessage",
                                       "data flags date message_id name")


# ---------------------------------------------------------------------------
# Modified UTF-7 (RFC 3501 5.1.3), for folder names on the wire and on disk

def mutf7_encode(name):
    out = []
    run = []

    def flush():
        if run:
            raw = "".join(run).encode("utf-16-be")
            b64 = base64.b64encode(raw).decode().rstrip("=").replace("/", ",")
            out.append("&" + b64 + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def mutf7_decode(wire):
    if isinstance(wire, bytes):
        wire = wire.decode("ascii")
    out = []
    i = 0
    while i < len(wire):
        ch = wire[i]
        if ch != "&":
            out.append(ch)
            i += 1
            continue
        end = wire.index("-", i)
        chunk = wire[i + 1:end]
        if not chunk:
            out.append("&")
        else:
            b64 = chunk.replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            out.append(base64.b64decode(b64).decode("utf-16-be"))
        i = end + 1
    return "".join(out)


def _quote(name):
    """A folder name (UTF-8 str) as an IMAP quoted string, bytes."""
    wire = mutf7_encode(name)
    return b'"' + wire.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


# ---------------------------------------------------------------------------
# Ports and certificates

def free_ports(n):
    """n distinct TCP ports on 127.0.0.1 that were free a moment ago."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _openssl(*args, cwd):
    r = subprocess.run([OPENSSL, *args], cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s"
                           % (" ".join(args), r.stdout.decode(errors="replace")))


def _make_ca(d, stem, cn):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", stem + ".key", "-out", stem + ".pem", "-days", "3650",
             "-subj", "/O=mailfs tests/CN=" + cn,
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    os.chmod(os.path.join(d, stem + ".key"), 0o600)


def _make_leaf(d, stem, ca, cn, sans, serial):
    ext = os.path.join(d, stem + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\n" % ",".join(sans))
        f.write("basicConstraints=critical,CA:FALSE\n")
        f.write("keyUsage=critical,digitalSignature,keyEncipherment\n")
        f.write("extendedKeyUsage=serverAuth\n")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", stem + ".key", "-out", stem + ".csr",
             "-subj", "/O=mailfs tests/CN=" + cn, cwd=d)
    _openssl("x509", "-req", "-in", stem + ".csr", "-CA", ca + ".pem",
             "-CAkey", ca + ".key", "-set_serial", str(serial),
             "-days", "3650", "-out", stem + ".pem", "-extfile", ext, cwd=d)
    os.chmod(os.path.join(d, stem + ".key"), 0o600)


def make_pki(d):
    """Make, in directory d, with the openssl CLI:
      ca.pem / ca.key                 the test CA
      server.pem / server.key         signed by it, for DNS:localhost and
                                      IP:127.0.0.1 (CN localhost)
      wrong-ca.pem / wrong-ca.key     an unrelated CA that signed nothing
                                      Dovecot uses
    Returns a dict of those paths."""
    os.makedirs(d, exist_ok=True)
    _make_ca(d, "ca", "mailfs test CA")
    _make_leaf(d, "server", "ca", "localhost",
               ["DNS:localhost", "IP:127.0.0.1"], 2)
    _make_ca(d, "wrong-ca", "unrelated test CA")
    return {k: os.path.join(d, v) for k, v in (
        ("ca_file", "ca.pem"), ("ca_key", "ca.key"),
        ("cert_file", "server.pem"), ("key_file", "server.key"),
        ("wrong_ca_file", "wrong-ca.pem"))}


# ---------------------------------------------------------------------------
# Dovecot

_CONF = """\
# Generated for one test run; nothing here is read from /etc/dovecot.
base_dir = {base}/run
state_dir = {base}/state
instance_name = {instance}
log_path = {base}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
shutdown_clients = yes

ssl = yes
ssl_cert = <{cert_file}
ssl_key = <{key_file}
ssl_min_protocol = TLSv1.2

disable_plaintext_auth = no
auth_mechanisms = plain login{oauth2_mechanisms}
auth_verbose = yes
auth_cache_size = 0
# A failed login must not slow down the next test's logins: no delay on a
# failure, and no per-IP penalty (with its socket closed to the auth
# process, Dovecot turns the penalty off).
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd/%u
}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u allow_all_users=yes
}}
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{base}/mail/%u:LAYOUT=fs
mail_plugins =
mailbox_list_index = no

namespace inbox {{
  inbox = yes
  separator = {ns_separator}
  prefix = {ns_prefix}
{mailboxes}
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s_port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
# The PREAUTH tunnel runs imap as the mail user; let it reach the stats
# socket instead of logging an error for every session.
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_max_userip_connections = 200
}}
protocol pop3 {{
  mail_max_userip_connections = 200
}}
"""

# XOAUTH2 and OAUTHBEARER: the bearer token is checked by an RFC 7662
# introspection endpoint (tests/harness/oauthserver.py); the token's
# "username" must be the user logging in.
_OAUTH2_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {args}
}}
"""

_OAUTH2_EXT = """\
introspection_mode = post
introspection_url = {url}
username_attribute = username
active_attribute = active
active_value = true
"""

_MAILBOX = """\
  mailbox {name} {{
    special_use = {use}
    auto = subscribe
  }}"""


# What Dovecot 2.3 announces after login, less the extensions named.
DOVECOT_CAPABILITIES = (
    "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY "
    "THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND "
    "URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED "
    "I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN "
    "CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY "
    "PREVIEW STATUS=SIZE SAVEDATE LITERAL+ SPECIAL-USE")


def capabilities_without(*names):
    """DOVECOT_CAPABILITIES without `names` (e.g. "CONDSTORE", "QRESYNC",
    as Exchange Online has neither), for Dovecot(imap_capability=...)."""
    drop = {n.upper() for n in names}
    return " ".join(c for c in DOVECOT_CAPABILITIES.split()
                    if c.upper() not in drop)


class Dovecot:
    """One Dovecot instance in its own temporary directory.

    Attributes once started: imap_port, imaps_port, pop3_port, pop3s_port,
    ca_file, wrong_ca_file, config, log_path, users (name -> password).

    imap_capability: what IMAP announces after login instead of Dovecot's
    own list (capabilities_without() makes one); Dovecot then also acts as
    if the left-out extensions were not there for clients that follow the
    announcement. extra_config: more dovecot.conf lines, appended as given.
    oauth2_introspection_url: also offer XOAUTH2 and OAUTHBEARER, with
    the bearer tokens checked at this RFC 7662 endpoint.
    """

    host = "127.0.0.1"

    def __init__(self, base=None, users=None, imap_capability=None,
                 extra_config="", ns_prefix="", ns_separator="/",
                 oauth2_introspection_url=None):
        self.base = base or tempfile.mkdtemp(prefix="mailfs-dovecot-")
        self.oauth2_introspection_url = oauth2_introspection_url
        self._own_base = base is None
        self.imap_capability = imap_capability
        self.extra_config = extra_config
        # the personal namespace: "INBOX." with "." plays a Courier-style
        # server (the helpers below assume the default "" and "/")
        self.ns_prefix = ns_prefix
        self.ns_separator = ns_separator
        # Dovecot's unprivileged processes (dovenull, dovecot, mail) must be
        # able to walk down to run/ and mail/.
        os.chmod(self.base, 0o755)
        pw = pwd.getpwnam(MAIL_USER)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.pki = make_pki(os.path.join(self.base, "pki"))
        self.ca_file = self.pki["ca_file"]
        self.wrong_ca_file = self.pki["wrong_ca_file"]
        self.config = os.path.join(self.base, "dovecot.conf")
        self.log_path = os.path.join(self.base, "dovecot.log")
        self.mail_root = os.path.join(self.base, "mail")
        self.home_root = os.path.join(self.base, "home")
        for d in (self.mail_root, self.home_root):
            os.makedirs(d, exist_ok=True)
            os.chown(d, self.uid, self.gid)
        self.users = {}
        self._seq = 0
        for name, password in (users or {}).items():
            self.add_user(name, password)
        self.proc = None
        self.imap_port = self.imaps_port = None
        self.pop3_port = self.pop3s_port = None

    # --- users ---------------------------------------------------------------
    def _write_user(self, name):
        # One passwd-file per user: Dovecot opens a new one at once, while a
        # changed file is reread at most once a second.
        d = os.path.join(self.base, "passwd")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%s:{PLAIN}%s\n" % (name, self.users[name]))
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)

    def add_user(self, name=None, password=None):
        """Add a user (a fresh, empty mailbox) that can log in at once.
        Returns (name, password). (Changing the password of an existing
        user takes effect up to a second later.)"""
        if name is None:
            self._seq += 1
            name = "user%d%s" % (self._seq, secrets.token_hex(3))
        if password is None:
            password = "pw-" + secrets.token_hex(8)
        assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*", name), name
        assert ":" not in password and "\n" not in password
        self.users[name] = password
        self._write_user(name)
        for d in (self.user_dir(name), os.path.join(self.home_root, name)):
            os.makedirs(d, exist_ok=True)
            os.chown(d, self.uid, self.gid)
        return name, password

    def user_dir(self, user):
        return os.path.join(self.mail_root, user)

    def maildir(self, user, folder="INBOX"):
        """The Maildir of a folder on disk (INBOX is the user's directory
        itself; other names are mUTF-7 encoded path components)."""
        if folder == "INBOX":
            return self.user_dir(user)
        parts = [mutf7_encode(p) for p in folder.split("/")]
        return os.path.join(self.user_dir(user), *parts)

    # --- life cycle ----------------------------------------------------------
    def _write_config(self):
        boxes = "\n".join(_MAILBOX.format(name=n, use=u) for n, u in SPECIAL_USE)
        oauth2_mechs = oauth2_passdb = ""
        if self.oauth2_introspection_url:
            ext = os.path.join(self.base, "dovecot-oauth2.conf.ext")
            with open(ext, "w") as f:
                f.write(_OAUTH2_EXT.format(url=self.oauth2_introspection_url))
            oauth2_mechs = " xoauth2 oauthbearer"
            oauth2_passdb = _OAUTH2_PASSDB.format(args=ext)
        with open(self.config, "w") as f:
            f.write(_CONF.format(
                base=self.base, instance="mailfs-test-%d-%s" % (
                    os.getpid(), os.path.basename(self.base)),
                cert_file=self.pki["cert_file"], key_file=self.pki["key_file"],
                uid=self.uid, gid=self.gid, mailboxes=boxes,
                imap_port=self.imap_port, imaps_port=self.imaps_port,
                pop3_port=self.pop3_port, pop3s_port=self.pop3s_port,
                ns_prefix=self.ns_prefix, ns_separator=self.ns_separator,
                oauth2_mechanisms=oauth2_mechs, oauth2_passdb=oauth2_passdb))
            if self.imap_capability is not None:
                f.write("protocol imap {\n  imap_capability = %s\n}\n"
                        % self.imap_capability)
            if self.extra_config:
                f.write(self.extra_config.rstrip("\n") + "\n")

    def start(self):
        """Start Dovecot and wait for its greetings. The first start picks
        free ports; a restart keeps them (clients reconnect to the same
        address) unless they were taken meanwhile."""
        assert self.proc is None, "already started"
        last = None
        for attempt in range(3):
            if self.imap_port is None or attempt > 0:
                (self.imap_port, self.imaps_port,
                 self.pop3_port, self.pop3s_port) = free_ports(4)
            self._write_config()
            out = open(os.path.join(self.base, "dovecot.out"), "ab")
            self.proc = subprocess.Popen(
                [DOVECOT, "-c", self.config, "-F"], stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, cwd=self.base,
                preexec_fn=_die_with_parent)
            out.close()
            try:
                self._wait_ready()
                return self
            except RuntimeError as e:
                last = e
                self.stop()
                if "Address already in use" not in self.log_tail():
                    break
        raise RuntimeError("Dovecot did not start: %s\n%s" % (last, self.log_tail()))

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited with status %d"
                                   % self.proc.returncode)
            ok = True
            for port in (self.imap_port, self.pop3_port):
                try:
                    with socket.create_connection((self.host, port),
                                                  timeout=2) as s:
                        if not s.recv(64).startswith((b"* OK", b"+OK")):
                            ok = False
                except OSError:
                    ok = False
            if ok:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("no greeting within %.0f s" % START_TIMEOUT)
            time.sleep(0.05)

    def stop(self):
        """SIGTERM to the master, which ends every Dovecot process it
        started; waits for it. Returns the master's exit status."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise RuntimeError("dovecot did not stop within %.0f s of "
                                   "SIGTERM" % STOP_TIMEOUT)
        return proc.returncode

    def restart(self):
        self.stop()
        return self.start()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        try:
            self.stop()
        finally:
            if self._own_base:
                shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()

    # --- log -----------------------------------------------------------------
    def _log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_tail(self, n=6000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return "(no Dovecot log)"
        return data[-n:].decode("utf-8", "replace")

    def log_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_problems(self, since=0):
        """Log lines at level Error, Fatal or Panic since byte offset."""
        return [l for l in self.log_since(since).splitlines()
                if re.search(r": (Error|Fatal|Panic): ", l)]

    # --- connecting ----------------------------------------------------------
    def ssl_context(self, ca_file=None):
        """A client context that trusts only ca_file (default: the test CA),
        with host-name checking on."""
        return ssl.create_default_context(cafile=ca_file or self.ca_file)

    def connect(self, user=None, tls="none", ca_file=None, host=None,
                timeout=10):
        """An imaplib connection, logged in as user unless user is None.
        tls: none (port imap_port), starttls (imap_port) or implicit
        (imaps_port)."""
        host = host or self.host
        if tls == "implicit":
            c = imaplib.IMAP4_SSL(host, self.imaps_port,
                                  ssl_context=self.ssl_context(ca_file),
                                  timeout=timeout)
        else:
            c = imaplib.IMAP4(host, self.imap_port, timeout=timeout)
            if tls == "starttls":
                c.starttls(self.ssl_context(ca_file))
        if user is not None:
            c.login(user, self.users[user])
        return c

    @contextlib.contextmanager
    def client(self, user, **kw):
        c = self.connect(user, **kw)
        try:
            yield c
        finally:
            try:
                c.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    def tunnel_command(self, user, as_mail_user=True):
        """The command line (a list) of a PREAUTH tunnel to user's mailbox:
        Dovecot's imap binary speaking IMAP on stdin/stdout, already logged
        in. It asks the running Dovecot's auth service for the user.

        As root, Dovecot's imap refuses a socket on stdout (it takes that as
        being started from inetd), so by default the command drops to the
        mail user first, which works over pipes and socketpairs alike.
        as_mail_user=False gives the bare command, fine over pipes only."""
        cmd = [IMAP_BINARY, "-c", self.config, "-u", user]
        if as_mail_user and os.getuid() == 0:
            cmd = [SETPRIV, "--reuid=%d" % self.uid, "--regid=%d" % self.gid,
                   "--clear-groups"] + cmd
        return cmd

    def tunnel_command_line(self, user, **kw):
        return shlex.join(self.tunnel_command(user, **kw))

    def doveadm(self, *args, check=True):
        """Run `doveadm -c CONF ARGS...`; returns stdout as str."""
        r = subprocess.run([DOVEADM, "-c", self.config, *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and r.returncode != 0:
            raise RuntimeError("doveadm %s: status %d: %s" % (
                " ".join(args), r.returncode, r.stderr.decode(errors="replace")))
        return r.stdout.decode(errors="replace")

    # --- IMAP helpers (plain IMAP on 127.0.0.1, one connection per call) ------
    def create_folder(self, user, folder, subscribe=True):
        with self.client(user) as c:
            _ok(c._simple_command("CREATE", _quote(folder)), "CREATE", folder)
            if subscribe:
                _ok(c._simple_command("SUBSCRIBE", _quote(folder)),
                    "SUBSCRIBE", folder)

    def delete_folder(self, user, folder):
        with self.client(user) as c:
            _ok(c._simple_command("DELETE", _quote(folder)), "DELETE", folder)

    def rename_folder(self, user, old, new):
        with self.client(user) as c:
            _ok(c._simple_command("RENAME", _quote(old), _quote(new)),
                "RENAME", old)

    def list_folders(self, user):
        """{name (UTF-8): set of attributes} from LIST "" "*"."""
        with self.client(user) as c:
            typ, data = c.list('""', "*")
            _ok((typ, data), "LIST", "")
        out = {}
        for item in data:
            if item is None:
                continue
            if isinstance(item, tuple):      # name sent as a literal
                head, name = item
                attrs = re.match(rb"\(([^)]*)\)", head).group(1)
            else:
                m = re.match(rb'\(([^)]*)\) (?:"[^"]*"|NIL) (.*)$', item)
                attrs, name = m.group(1), m.group(2)
                if name.startswith(b'"'):
                    name = re.sub(rb'\\(.)', rb'\1', name[1:-1])
            out[mutf7_decode(name)] = set(attrs.decode().split())
        return out

    def append(self, user, folder, message, flags=(), date=None):
        """APPEND one message; returns its UID (from APPENDUID)."""
        with self.client(user) as c:
            return self._append(c, folder, message, flags, date)

    def _append(self, c, folder, message, flags, date):
        fl = "(%s)" % " ".join(flags) if flags else None
        typ, data = c.append(_quote(folder).decode(), fl, date, message)
        _ok((typ, data), "APPEND", folder)
        m = re.search(rb"APPENDUID (\d+) (\d+)", data[0] or b"")
        return int(m.group(2)) if m else None

    def append_many(self, user, folder, messages, flags=()):
        """APPEND several messages over one connection; returns their UIDs."""
        with self.client(user) as c:
            return [self._append(c, folder, m, flags, None) for m in messages]

    def _select(self, c, folder, readonly=True):
        typ, data = c.select(_quote(folder).decode(), readonly=readonly)
        _ok((typ, data), "SELECT", folder)
        return int(data[0])

    def list_messages(self, user, folder="INBOX"):
        """[Message(uid, flags, data)] in UID order; flags a tuple of str
        (\\Recent left out), data the exact bytes (BODY.PEEK[])."""
        with self.client(user) as c:
            if self._select(c, folder) == 0:
                return []
            typ, data = c.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            _ok((typ, data), "FETCH", folder)
        out = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            head, body = item
            uid = int(re.search(rb"UID (\d+)", head).group(1))
            fl = re.search(rb"FLAGS \(([^)]*)\)", head).group(1).decode().split()
            out.append(Message(uid, tuple(f for f in fl if f != "\\Recent"),
                               body))
        out.sort(key=lambda m: m.uid)
        return out

    def message_info(self, user, folder="INBOX"):
        """{uid: (rfc822_size, internaldate as Unix time, flags)}."""
        with self.client(user) as c:
            if self._select(c, folder) == 0:
                return {}
            typ, data = c.uid("FETCH", "1:*",
                              "(UID RFC822.SIZE INTERNALDATE FLAGS)")
            _ok((typ, data), "FETCH", folder)
        out = {}
        for item in data:
            if isinstance(item, tuple):
                item = item[0]
            if not item:
                continue
            uid = int(re.search(rb"UID (\d+)", item).group(1))
            size = int(re.search(rb"RFC822\.SIZE (\d+)", item).group(1))
            idate = time.mktime(imaplib.Internaldate2tuple(item))
            fl = re.search(rb"FLAGS \(([^)]*)\)", item).group(1).decode().split()
            out[uid] = (size, idate, tuple(f for f in fl if f != "\\Recent"))
        return out

    def status(self, user, folder="INBOX",
               items=("MESSAGES", "UIDNEXT", "UIDVALIDITY", "HIGHESTMODSEQ")):
        """STATUS of a folder as {item: int}."""
        with self.client(user) as c:
            typ, data = c.status(_quote(folder).decode(),
                                 "(%s)" % " ".join(items))
            _ok((typ, data), "STATUS", folder)
        inner = re.search(rb"\(([^)]*)\)\s*$", data[0]).group(1).split()
        return {inner[i].decode(): int(inner[i + 1])
                for i in range(0, len(inner), 2)}

    def uidvalidity(self, user, folder="INBOX"):
        return self.status(user, folder, ("UIDVALIDITY",))["UIDVALIDITY"]

    def set_flags(self, user, folder, uids, flags, mode="+"):
        """UID STORE uids mode+FLAGS (flags); mode "+", "-" or "" (replace)."""
        with self.client(user) as c:
            self._select(c, folder, readonly=False)
            typ, data = c.uid("STORE", _uidset(uids), "%sFLAGS.SILENT" % mode,
                              "(%s)" % " ".join(flags))
            _ok((typ, data), "STORE", folder)

    def expunge(self, user, folder, uids=None):
        """Remove messages: with uids, mark those \\Deleted and UID EXPUNGE
        them; without, EXPUNGE whatever is marked \\Deleted."""
        with self.client(user) as c:
            self._select(c, folder, readonly=False)
            if uids is not None:
                s = _uidset(uids)
                _ok(c.uid("STORE", s, "+FLAGS.SILENT", "(\\Deleted)"),
                    "STORE", folder)
                _ok(c.uid("EXPUNGE", s), "UID EXPUNGE", folder)
            else:
                _ok(c.expunge(), "EXPUNGE", folder)

    def move(self, user, folder, uids, dest):
        with self.client(user) as c:
            self._select(c, folder, readonly=False)
            _ok(c.uid("MOVE", _uidset(uids), _quote(dest).decode()),
                "MOVE", folder)

    # --- filling fast, behind Dovecot's back ------------------------------------
    def fill(self, user, folder="INBOX", count=100, seed=0,
             attachment_ratio=0.1, size_range=(2 * 1024, 50 * 1024),
             attachment_range=(100 * 1024, 1024 * 1024), flags="S",
             start_date=1704067200):
        """Write count generated messages straight into the folder's Maildir
        (creating it) as the mail user; Dovecot indexes them the next time
        the folder is opened. Works before start() and while running.

        Messages are 2-50 KB of text; a share attachment_ratio of them has a
        100 KB-1 MB base64 attachment. Dates (and so INTERNALDATE, from the
        file's mtime) start at start_date, one hour apart. The files sort in
        the order generated, so the new messages get increasing UIDs in this
        order. flags: Maildir letters for every message, or a function
        i -> letters. Returns [FilledMessage] in that order."""
        rng = random.Random(seed)
        root = self.maildir(user, folder)
        self._make_maildir(user, folder)
        out = []
        host = "mailfs-fill"
        for i in range(count):
            date = start_date + 3600 * i
            att = 0
            if rng.random() < attachment_ratio:
                att = rng.randint(*attachment_range)
            data, msgid = generate_message(
                seed * 1000003 + i, rng, size=rng.randint(*size_range),
                attachment=att, date=date)
            fl = flags(i) if callable(flags) else flags
            fl = "".join(sorted(fl))
            self._seq += 1
            base = "%d.M%06dP%dQ%d.%s" % (date, i % 1000000, os.getpid(),
                                          self._seq, host)
            name = "%s:2,%s" % (base, fl)
            tmp = os.path.join(root, "tmp", base)
            with open(tmp, "wb") as f:
                f.write(data)
            os.chown(tmp, self.uid, self.gid)
            os.utime(tmp, (date, date))
            os.rename(tmp, os.path.join(root, "cur", name))
            out.append(FilledMessage(data, fl, date, msgid, name))
        return out

    def _make_maildir(self, user, folder):
        path = self.user_dir(user)
        parts = [] if folder == "INBOX" else folder.split("/")
        for p in [None] + parts:
            if p is not None:
                path = os.path.join(path, mutf7_encode(p))
            if not os.path.isdir(path):
                os.mkdir(path)
                os.chown(path, self.uid, self.gid)
        for sub in ("cur", "new", "tmp"):
            d = os.path.join(path, sub)
            if not os.path.isdir(d):
                os.mkdir(d)
                os.chown(d, self.uid, self.gid)

    # --- mailfs -------------------------------------------------------------
    def mailfs_config(self, directory, account="imap", user="alice",
                      tls="implicit", ca_file=None, tunnel=False,
                      password=None, host=None, port=None, **keys):
        """Write DIRECTORY/mailfs.conf (appending when it exists) with
        [account NAME] for user on this Dovecot, and the password file
        (mode 0600) beside it. Returns the config's path.

        tls: implicit, starttls or none (adds allow_plaintext = true);
        tunnel=True: a PREAUTH tunnel instead of host/port/tls.
        keys: more keys (connections, poll_interval, timeout, ...)."""
        os.makedirs(directory, exist_ok=True)
        pwfile = write_password_file(
            os.path.join(directory, "%s.password" % account),
            password if password is not None else self.users[user])
        if port is None:
            port = self.imaps_port if tls == "implicit" else self.imap_port
        kv = imap_account_keys(
            host=host or self.host, port=port, tls=tls,
            ca_file=None if tls == "none" else (ca_file or self.ca_file),
            user=user, password_file=pwfile,
            tunnel=self.tunnel_command_line(user) if tunnel else None, **keys)
        if tunnel:
            kv["password_file"] = None
        path = os.path.join(directory, "mailfs.conf")
        return write_mailfs_config(path, account, kv,
                                   append=os.path.exists(path))


def _die_with_parent():
    """In the child before exec: get SIGTERM when the test process dies, so
    that a killed test run leaves no Dovecot behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)      # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _uidset(uids):
    if isinstance(uids, (str, bytes)):
        return uids
    if isinstance(uids, int):
        return str(uids)
    return ",".join(str(u) for u in uids)


def _ok(result, what, folder):
    typ, data = result
    if typ != "OK":
        raise AssertionError("%s %r failed: %s %r" % (what, folder, typ, data))
    return data


# ---------------------------------------------------------------------------
# Fixtures

DEFAULT_USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}


@contextlib.contextmanager
def running_dovecot(**kw):
    """A started Dovecot (Dovecot(**kw)), stopped and removed afterwards,
    also when it fails to start."""
    dv = Dovecot(**kw)
    try:
        dv.start()
        yield dv
    finally:
        dv.cleanup()


# The Maildir letters of the IMAP system flags (and Dovecot's keyword for
# P), as mailfs maps them.
IMAP_FLAG = {"D": "\\Draft", "F": "\\Flagged", "P": "$Forwarded",
             "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


def letters(server_flags):
    """The Maildir flag letters, in order, of a server's flag list."""
    inv = {v.lower(): k for k, v in IMAP_FLAG.items()}
    return "".join(sorted(inv[f.lower()] for f in server_flags
                          if f.lower() in inv))


@pytest.fixture(scope="module")
def dovecot_module():
    """One Dovecot for the test module, with users alice and bob."""
    with running_dovecot(users=DEFAULT_USERS) as dv:
        yield dv


@pytest.fixture
def dovecot_server(dovecot_module):
    """The module's Dovecot, for one test: the log lines written meanwhile
    are printed at the end (and so shown when the test failed)."""
    dv = dovecot_module
    if not dv.running:
        dv.stop()
        dv.start()
    mark = dv._log_size()
    yield dv
    print("---- Dovecot log during the test (%s) ----\n%s"
          % (dv.log_path, dv.log_since(mark)[-8000:]))
    if dv.proc is None:
        # stopped by the test on purpose (a server-down test): start it
        # again for the next test
        dv.start()
    assert dv.running, "Dovecot died during the test"


@pytest.fixture
def imap_mount(dovecot_server, imap_mount_factory, tmp_path):
    """A fresh user on the module's Dovecot, mounted with mailfs over
    implicit TLS (account "imap"). The mount has .user, .password and
    .dovecot besides MailFS's attributes."""
    user, password = dovecot_server.add_user()
    conf = dovecot_server.mailfs_config(str(tmp_path), account="imap",
                                        user=user)
    fs = imap_mount_factory(conf, "imap")
    fs.user, fs.password, fs.dovecot = user, password, dovecot_server
    if os.environ.get("MAILFS_TEST_DEBUG"):
        fs.extra_args.append("-d")
    return fs.mount()
