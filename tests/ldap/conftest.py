"""Fixtures for the LDAP tests: `mailfs serve --ldap` driven by clients we
did not write (ldapsearch of ldap-utils, python3-ldap3), and `type = ldap`
accounts mounted against a real slapd (tests/harness/slapd.py) and against
`mailfs serve --ldap`.

The embedded server comes from tests/serve/conftest.py and the mounts from
tests/harness/mailfs_mount.py, each loaded under a name of its own.

  CARDS              the store's contacts (file name -> vCard text)
  make_store(d)      a store holding CARDS in Contacts/
  pki                a test CA and a certificate for 127.0.0.1 (module)
  ldap_served        `mailfs serve --ldap --ldaps` on such a store (module)
  ldapsearch(...)    run ldapsearch against it; (returncode, stdout, stderr)
  mount_factory      make(config, account) -> a mount (not yet mounted)
  ldap_config(...)   the config file of a `type = ldap` account
"""

import importlib.util
import os
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "harness"))


def _load(name, *parts):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(TESTS, *parts))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


serve_conftest = _load("mailfs_serve_conftest_ldap", "serve", "conftest.py")
mount_mod = _load("mailfs_mount_ldap", "harness", "mailfs_mount.py")

import dovecot  # noqa: E402  (for make_pki, after the path is set)

USER = serve_conftest.USER
PASSWORD = serve_conftest.PASSWORD
SANITIZER_MARKERS = serve_conftest.SANITIZER_MARKERS
mount_factory = mount_mod.imap_mount_factory
write_mailfs_config = mount_mod.write_mailfs_config
write_password_file = mount_mod.write_password_file

BASE = "ou=contacts,dc=mailfs"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\xff\xd9"

CARDS = {
    "bob.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bob-1\r\n"
               "FN:Bob Builder\r\nN:Builder;Bob;;;\r\n"
               "EMAIL;TYPE=work:bob@example.org\r\n"
               "EMAIL:robert@home.example\r\n"
               "TEL;TYPE=cell:+1 555 0199\r\nTEL;TYPE=work:+1 555-0100\r\n"
               "ORG:Builders Inc;Sales\r\nTITLE:Chief\r\n"
               "ADR;TYPE=work:;;1 Main St;Springfield;IL;62701;USA\r\n"
               "URL:https://bob.example.org\r\n"
               "PHOTO;ENCODING=b;TYPE=JPEG:%s\r\n"
               "END:VCARD\r\n" % __import__("base64").b64encode(PHOTO)
               .decode(),
    "boris.vcf": "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:boris\r\n"
                 "FN:Boris Becker\r\nN:Becker;Boris;;;\r\n"
                 "EMAIL:boris@example.org\r\nEND:VCARD\r\n",
    "alice.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:alice-1\r\n"
                 "FN:Alice Liddell\r\nN:Liddell;Alice;;;\r\n"
                 "EMAIL:alice@example.org\r\nTITLE:Explorer\r\n"
                 "END:VCARD\r\n",
    # no UID: named by the store's id of the card; a comma in its name
    "carol.vcf": "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol\\, the Cook\r\n"
                 "EMAIL:carol@example.org\r\nEND:VCARD\r\n",
}


def make_store(d):
    store = os.path.join(d, "store")
    os.makedirs(os.path.join(store, "Contacts"))
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(store, "INBOX", sub))
    for name, text in CARDS.items():
        with open(os.path.join(store, "Contacts", name), "w",
                  newline="") as f:
            f.write(text)
    return store


@pytest.fixture(scope="module")
def pki():
    with tempfile.TemporaryDirectory(prefix="mailfs-ldap-pki-") as d:
        yield dovecot.make_pki(d)


def check_stopped(server):
    rc = server.stop()
    log = server.log()
    for marker in SANITIZER_MARKERS:
        assert marker not in log, log
    assert rc == 0, "exit status %r\n%s" % (rc, log)


@pytest.fixture(scope="module")
def ldap_served(pki):
    with tempfile.TemporaryDirectory(prefix="mailfs-ldap-") as d:
        store = make_store(d)
        server = serve_conftest.Server(
            store, d, protocols=("ldap", "ldaps"),
            tls=(pki["cert_file"], pki["key_file"]))
        server.ca_file = pki["ca_file"]
        yield server
        check_stopped(server)


def ldapsearch(server, *args, bind=True, password=PASSWORD, tls=None,
               base=BASE):
    """ldapsearch -x against `server` (StartTLS with tls="starttls",
    ldaps:// with tls="ldaps"); bind as uid=USER,BASE unless bind is
    False or a DN of its own."""
    if tls == "ldaps":
        uri = "ldaps://127.0.0.1:%d" % server.port["ldaps"]
    else:
        uri = "ldap://127.0.0.1:%d" % server.port["ldap"]
    cmd = ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", uri,
           "-b", base]
    if tls == "starttls":
        cmd.append("-ZZ")
    if bind:
        cmd += ["-D", bind if isinstance(bind, str) else
                "uid=%s,%s" % (USER, BASE), "-w", password]
    env = dict(os.environ, LDAPTLS_CACERT=server.ca_file,
               LDAPTLS_REQCERT="demand")
    r = subprocess.run(cmd + list(args), capture_output=True, text=True,
                       env=env, timeout=30)
    return r.returncode, r.stdout, r.stderr


def ldap_config(base, url, account="dir", password=None, **extra):
    keys = {"type": "ldap", "url": url, "timeout": 10}
    if password is not None:
        keys["password_file"] = write_password_file(
            os.path.join(base, account + "-password"), password)
    keys.update(extra)
    return write_mailfs_config(os.path.join(base, account + "-config"),
                               account, keys)
