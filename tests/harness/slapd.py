"""A real OpenLDAP slapd for the tests of the LDAP directory client, on
127.0.0.1, with everything (configuration, database, certificates) in a
temporary directory; nothing under /etc/ldap is read but the schema files.

  Slapd(d, people)   a running server: .port (ldap://, StartTLS offered),
                     .ldaps_port, .suffix, .admin_dn, .password, .ca_file,
                     .url(ldaps=False), .stop()
  PEOPLE             a few inetOrgPerson entries (dicts of attribute ->
                     list of values), loaded with slapadd before start

slapd runs in the foreground (-d 0) as a child of the test, with the mdb
backend under a suffix of its own; the entries are loaded with slapadd
from LDIF written here.  TLS uses a test CA made with the openssl CLI
(dovecot.make_pki), the server's certificate naming 127.0.0.1.
"""

import base64
import os
import shutil
import socket
import subprocess
import time

import dovecot

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA = "/etc/ldap/schema"
START_TIMEOUT = 15.0

SUFFIX = "dc=example,dc=org"
PEOPLE_OU = "ou=people," + SUFFIX
ADMIN_DN = "cn=admin," + SUFFIX
PASSWORD = "ldap s3cret"

# a tiny JPEG-looking blob: jpegPhoto is bytes, never text
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\xff\xd9"

PEOPLE = [
    {"uid": ["bob"], "cn": ["Bob Builder"], "sn": ["Builder"],
     "givenName": ["Bob"],
     "mail": ["bob@example.org", "robert@example.org"],
     "telephoneNumber": ["+1 555 0100"], "mobile": ["+1 555 0199"],
     "o": ["Builders Inc"], "ou": ["Sales"], "title": ["Chief"],
     "postalAddress": ["1 Main St$Springfield IL 62701$USA"],
     "labeledURI": ["https://bob.example.org Bob's page"],
     "jpegPhoto": [PHOTO]},
    {"uid": ["boris"], "cn": ["Boris Becker"], "sn": ["Becker"],
     "givenName": ["Boris"], "mail": ["boris@example.org"]},
    {"uid": ["alice"], "cn": ["Alice Liddell"], "sn": ["Liddell"],
     "givenName": ["Alice"], "mail": ["alice@example.org"]},
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ldif_value(name, v):
    if isinstance(v, bytes) or v.startswith((" ", ":", "<")) or \
            any(ord(c) > 126 or ord(c) < 32 for c in v):
        raw = v if isinstance(v, bytes) else v.encode()
        return "%s:: %s" % (name, base64.b64encode(raw).decode())
    return "%s: %s" % (name, v)


def person_ldif(p):
    dn = "uid=%s,%s" % (p["uid"][0], PEOPLE_OU)
    lines = ["dn: " + dn, "objectClass: inetOrgPerson"]
    for k, vals in p.items():
        lines.extend(ldif_value(k, v) for v in vals)
    return "\n".join(lines) + "\n"


_CONF = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
pidfile {d}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw "{password}"
directory {d}/db
access to * by * read
"""


class Slapd:
    def __init__(self, d, people=PEOPLE):
        self.dir = d
        self.suffix = SUFFIX
        self.base = PEOPLE_OU
        self.admin_dn = ADMIN_DN
        self.password = PASSWORD
        pki = dovecot.make_pki(os.path.join(d, "pki"))
        self.ca_file = pki["ca_file"]
        self.wrong_ca_file = pki["wrong_ca_file"]
        os.makedirs(os.path.join(d, "db"))
        self.conf = os.path.join(d, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write(_CONF.format(schema=SCHEMA, d=d, ca=pki["ca_file"],
                                 cert=pki["cert_file"], key=pki["key_file"],
                                 suffix=SUFFIX, admin=ADMIN_DN,
                                 password=PASSWORD))
        ldif = ["dn: %s\nobjectClass: dcObject\nobjectClass: organization\n"
                "o: Example\ndc: example\n" % SUFFIX,
                "dn: %s\nobjectClass: organizationalUnit\nou: people\n"
                % PEOPLE_OU]
        ldif.extend(person_ldif(p) for p in people)
        data = os.path.join(d, "data.ldif")
        with open(data, "w") as f:
            f.write("\n".join(ldif))
        r = subprocess.run([SLAPADD, "-q", "-f", self.conf, "-l", data],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("slapadd failed:\n" + r.stdout + r.stderr)
        self.port = free_port()
        self.ldaps_port = free_port()
        self.log_path = os.path.join(d, "slapd.log")
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", self.conf, "-h",
             "ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/"
             % (self.port, self.ldaps_port)],
            stdin=subprocess.DEVNULL, stdout=self.log_file,
            stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self):
        end = time.monotonic() + START_TIMEOUT
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited:\n" + self.log())
            try:
                with socket.create_connection(("127.0.0.1", self.ldaps_port),
                                              timeout=1):
                    pass
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start:\n" + self.log())

    def url(self, ldaps=False, base=None):
        return "%s://127.0.0.1:%d/%s" % (
            "ldaps" if ldaps else "ldap",
            self.ldaps_port if ldaps else self.port, base or self.base)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
