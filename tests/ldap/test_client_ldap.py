"""`type = ldap` accounts: Directory/ of a mount filled by lookups in a
real slapd (tests/harness/slapd.py) over StartTLS and ldaps://, and in
`mailfs serve --ldap` over a store's contacts.  Entries are read-only
vCard 4.0 files of exact size; `ls Directory/Bo*` lists the entries whose
names or addresses begin with "Bo"."""

import base64
import errno
import os
import tempfile

import pytest

import slapd
from conftest import (BASE, PASSWORD, USER, check_stopped, ldap_config,
                      make_store, serve_conftest)


@pytest.fixture(scope="module")
def directory():
    with tempfile.TemporaryDirectory(prefix="mailfs-slapd-") as d:
        s = slapd.Slapd(d)
        yield s
        s.stop()


def mount(mount_factory, config, account="dir"):
    fs = mount_factory(config, account)
    fs.mount()
    return fs


def read(fs, name):
    path = fs.m("Directory", name)
    with open(path, "rb") as f:
        data = f.read()
    assert os.stat(path).st_size == len(data)
    return data.decode()


def test_directory_over_starttls(directory, mount_factory, tmp_path):
    cfg = ldap_config(str(tmp_path), directory.url(),
                      ldap_bind_dn=directory.admin_dn,
                      password=directory.password,
                      ca_file=directory.ca_file)
    fs = mount(mount_factory, cfg)
    assert [n for n in os.listdir(fs.mnt) if n[0] != "."] == ["Directory"]
    assert os.listdir(fs.m("Directory")) == []
    card = read(fs, "bob@example.org.vcf")
    lines = card.split("\r\n")
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:4.0"] and \
        lines[-2:] == ["END:VCARD", ""], card
    for want in ("UID:bob", "FN:Bob Builder", "N:Builder;Bob;;;",
                 "EMAIL:bob@example.org", "EMAIL:robert@example.org",
                 "TEL;VALUE=text;TYPE=voice:+1 555 0100",
                 "TEL;VALUE=text;TYPE=cell:+1 555 0199",
                 "ORG:Builders Inc;Sales", "TITLE:Chief",
                 "ADR:;;1 Main St\\nSpringfield IL 62701\\nUSA;;;;",
                 "URL:https://bob.example.org"):
        assert want in lines, (want, card)
    photo = "".join(lines[lines.index(next(
        x for x in lines if x.startswith("PHOTO:"))):-2]).replace(
            "END:VCARD", "")
    b64 = photo.split(",", 1)[1].replace(" ", "")
    assert base64.b64decode(b64) == slapd.PHOTO
    # the second address finds the same person, under that address
    assert "FN:Bob Builder" in read(fs, "robert@example.org.vcf")
    # by name too
    assert "EMAIL:alice@example.org" in read(fs, "Alice Liddell.vcf")
    found = sorted(os.listdir(fs.m("Directory", "Bo*")))
    assert found == ["bob@example.org.vcf", "boris@example.org.vcf"], found
    assert sorted(os.listdir(fs.m("Directory", "lidd*"))) == \
        ["alice@example.org.vcf"]
    with pytest.raises(FileNotFoundError):
        open(fs.m("Directory", "nobody@example.org.vcf"))
    # what was found stays listed; nothing can be written
    assert "bob@example.org.vcf" in os.listdir(fs.m("Directory"))
    with pytest.raises(OSError) as ex:
        with open(fs.m("Directory", "new@example.org.vcf"), "w") as f:
            f.write("x")
    assert ex.value.errno == errno.EROFS
    with pytest.raises(OSError) as ex:
        os.unlink(fs.m("Directory", "bob@example.org.vcf"))
    assert ex.value.errno == errno.EROFS


def test_ldaps_with_filter_and_size_limit(directory, mount_factory,
                                          tmp_path):
    # anonymous (slapd lets anyone read here), a filter on mail alone,
    # and one entry at most
    cfg = ldap_config(str(tmp_path), directory.url(ldaps=True),
                      ca_file=directory.ca_file,
                      ldap_filter="(mail=%s*)", ldap_size_limit=1)
    fs = mount(mount_factory, cfg)
    assert len(os.listdir(fs.m("Directory", "bo*"))) == 1
    with pytest.raises(FileNotFoundError):
        os.listdir(fs.m("Directory", "lidd*"))
    assert os.listdir(fs.m("Directory", "ali*")) == ["alice@example.org.vcf"]


def test_refusals_are_said(directory, mount_factory, tmp_path):
    cfg = ldap_config(str(tmp_path), directory.url(),
                      ldap_bind_dn=directory.admin_dn, password="wrong",
                      ca_file=directory.ca_file)
    out = mount_factory(cfg, "dir").mount_fails()
    assert out.returncode != 0
    assert "dir" in out.output and "Invalid credentials" in out.output, \
        out.output
    cfg = ldap_config(str(tmp_path), directory.url(ldaps=True),
                      account="badca", ca_file=directory.wrong_ca_file)
    out = mount_factory(cfg, "badca").mount_fails()
    assert out.returncode != 0 and "badca" in out.output, out.output
    assert "TLS" in out.output and "certificate" in out.output, out.output


def test_the_store_through_mailfs_serve(mount_factory, pki, tmp_path):
    d = str(tmp_path)
    server = serve_conftest.Server(make_store(d), d, protocols=("ldap",),
                                   tls=(pki["cert_file"], pki["key_file"]))
    try:
        url = "ldap://127.0.0.1:%d/%s" % (server.port["ldap"], BASE)
        cfg = ldap_config(d, url, ldap_bind_dn="uid=%s,%s" % (USER, BASE),
                          password=PASSWORD, ca_file=pki["ca_file"])
        fs = mount(mount_factory, cfg)
        card = read(fs, "bob@example.org.vcf")
        for want in ("UID:bob-1", "FN:Bob Builder", "N:Builder;Bob;;;",
                     "EMAIL:robert@home.example", "TITLE:Chief",
                     "TEL;VALUE=text;TYPE=cell:+1 555 0199"):
            assert want in card.split("\r\n"), (want, card)
        assert sorted(os.listdir(fs.m("Directory", "Bo*"))) == \
            ["bob@example.org.vcf", "boris@example.org.vcf"]
        assert "FN:Carol\\, the Cook" in read(fs, "carol@example.org.vcf")
        fs.unmount()
        # without TLS on offer, ldap:// is refused unless allowed
        plain = serve_conftest.Server(make_store(os.path.join(d, "p")), d,
                                      protocols=("ldap",))
        try:
            url = "ldap://127.0.0.1:%d/%s" % (plain.port["ldap"], BASE)
            cfg = ldap_config(d, url, account="plain",
                              ldap_bind_dn=USER, password=PASSWORD)
            out = mount_factory(cfg, "plain").mount_fails()
            assert "StartTLS" in out.output, out.output
            cfg = ldap_config(d, url, account="plain2", ldap_bind_dn=USER,
                              password=PASSWORD, allow_plaintext=True)
            fs = mount(mount_factory, cfg, "plain2")
            assert os.listdir(fs.m("Directory", "ali*")) == \
                ["alice@example.org.vcf"]
        finally:
            check_stopped(plain)
    finally:
        check_stopped(server)


class HostileServer:
    """Answers a bind with success and every other request with the head
    of a message claiming a gigabyte, then holds the connection."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        import threading
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._client, args=(c,),
                             daemon=True).start()

    def _client(self, c):
        try:
            while True:
                head = c.recv(2)
                if len(head) < 2:
                    return
                n = head[1]
                if n & 0x80:
                    n = int.from_bytes(c.recv(n & 0x7f), "big")
                body = b""
                while len(body) < n:
                    more = c.recv(n - len(body))
                    if not more:
                        return
                    body += more
                msgid = body[2]
                if body[3] == 0x60:     # bind: success
                    c.sendall(bytes([0x30, 0x0c, 0x02, 0x01, msgid, 0x61,
                                     0x07, 0x0a, 0x01, 0x00, 0x04, 0x00,
                                     0x04, 0x00]))
                else:
                    c.sendall(b"\x30\x84\x40\x00\x00\x00\x02\x01" +
                              bytes([msgid]) + b"\x64" * 4096)
        except OSError:
            return

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_hostile_server_costs_bounded_memory(mount_factory, tmp_path):
    import time
    hostile = HostileServer()
    try:
        cfg = ldap_config(str(tmp_path), "ldap://127.0.0.1:%d/dc=x"
                          % hostile.port, allow_plaintext=True, timeout=5)
        fs = mount(mount_factory, cfg)
        t0 = time.monotonic()
        with pytest.raises(OSError):
            open(fs.m("Directory", "bob@example.org.vcf"))
        assert time.monotonic() - t0 < 5
        assert fs.vm_hwm_kb() < 200 * 1024
    finally:
        hostile.stop()
