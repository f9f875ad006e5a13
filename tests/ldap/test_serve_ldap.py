"""`mailfs serve --ldap` and `--ldaps` driven by ldapsearch (ldap-utils)
and python3-ldap3: binds, the root DSE, every kind of filter, the scopes,
the limits, StartTLS and LDAP over TLS, the inetOrgPerson entries made of
the store's cards, and what a read-only directory answers to changes and
to bytes that are not LDAP."""

import socket
import ssl

import ldap3
import pytest

from conftest import BASE, PASSWORD, PHOTO, USER, ldapsearch

DN = {"bob": "uid=bob-1," + BASE, "boris": "uid=urn:uuid:boris," + BASE,
      "alice": "uid=alice-1," + BASE}


def connect(server, user="uid=%s,%s" % (USER, BASE), password=PASSWORD,
            tls=False):
    if tls:
        t = ldap3.Tls(ca_certs_file=server.ca_file,
                      validate=ssl.CERT_REQUIRED)
        srv = ldap3.Server("127.0.0.1", port=server.port["ldaps"],
                           use_ssl=True, tls=t, get_info=ldap3.NONE)
    else:
        srv = ldap3.Server("127.0.0.1", port=server.port["ldap"],
                           get_info=ldap3.NONE)
    conn = ldap3.Connection(srv, user=user, password=password,
                            raise_exceptions=False, receive_timeout=10)
    conn.bind()
    return conn


@pytest.fixture(scope="module")
def conn(ldap_served):
    c = connect(ldap_served)
    assert c.bound, c.result
    yield c
    c.unbind()


def dns(conn, flt, base=BASE, scope=ldap3.SUBTREE, **kw):
    assert conn.search(base, flt, search_scope=scope, **kw) or \
        conn.result["result"] == 0, conn.result
    return sorted(e["dn"] for e in conn.response
                  if e["type"] == "searchResEntry")


def test_root_dse_is_readable_anonymously(ldap_served):
    rc, out, err = ldapsearch(ldap_served, "-s", "base", "(objectClass=*)",
                              "+", bind=False, base="")
    assert rc == 0, err
    assert "namingContexts: " + BASE in out
    assert "supportedLDAPVersion: 3" in out
    assert "supportedExtension: 1.3.6.1.4.1.1466.20037" in out


def test_anonymous_search_is_refused(ldap_served):
    rc, out, err = ldapsearch(ldap_served, "(cn=*)", bind=False)
    assert rc == 53, (rc, out, err)
    assert "bind first" in err


def test_binds(ldap_served):
    for name in ("uid=%s,%s" % (USER, BASE), USER, "cn=%s,dc=example" % USER):
        c = connect(ldap_served, user=name)
        assert c.bound, (name, c.result)
        c.unbind()
    bad = connect(ldap_served, password="wrong")
    assert not bad.bound and bad.result["result"] == 49, bad.result
    bad.unbind()
    other = connect(ldap_served, user="uid=mallory," + BASE)
    assert not other.bound and other.result["result"] == 49
    other.unbind()
    # a name without a password is an unauthenticated bind (RFC 4513)
    rc, out, err = ldapsearch(ldap_served, "(cn=*)", password="")
    assert rc == 53, (rc, out, err)


def test_entries_carry_the_cards(conn):
    assert conn.search(DN["bob"], "(objectClass=*)",
                       search_scope=ldap3.BASE, attributes=["*"])
    (e,) = conn.response
    a = e["raw_attributes"]
    assert sorted(a["objectClass"]) == [b"inetOrgPerson",
                                        b"organizationalPerson",
                                        b"person", b"top"]
    assert a["cn"] == [b"Bob Builder"] and a["sn"] == [b"Builder"]
    assert a["givenName"] == [b"Bob"]
    assert a["mail"] == [b"bob@example.org", b"robert@home.example"]
    assert a["mobile"] == [b"+1 555 0199"]
    assert a["telephoneNumber"] == [b"+1 555-0100"]
    assert a["o"] == [b"Builders Inc"] and a["ou"] == [b"Sales"]
    assert a["title"] == [b"Chief"]
    assert a["postalAddress"] == [b"1 Main St$Springfield IL 62701$USA"]
    assert a["labeledURI"] == [b"https://bob.example.org"]
    assert a["jpegPhoto"] == [PHOTO]
    assert a["uid"] == [b"bob-1"]


def test_filters(conn):
    assert dns(conn, "(mail=BOB@Example.ORG)") == [DN["bob"]]
    assert dns(conn, "(cn=bo*)") == [DN["bob"], DN["boris"]]
    assert dns(conn, "(cn=*lid*)") == [DN["alice"]]
    assert dns(conn, "(sn=*er)") == sorted([DN["bob"], DN["boris"]])
    assert dns(conn, "(telephoneNumber=+15550100)") == [DN["bob"]]
    assert dns(conn, "(&(objectClass=inetOrgPerson)(title=*))") == \
        sorted([DN["bob"], DN["alice"]])
    assert dns(conn, "(|(givenName=alice)(mail=boris@*))") == \
        sorted([DN["alice"], DN["boris"]])
    assert dns(conn, "(&(mail=*)(!(cn=b*)))", scope=ldap3.LEVEL) == \
        sorted([DN["alice"], "uid=carol.vcf," + BASE])
    # an attribute no entry carries makes a comparison Undefined, and
    # its negation too
    assert dns(conn, "(nosuchattr=x)") == []
    assert dns(conn, "(!(nosuchattr=x))") == []
    assert dns(conn, "(cn>=C)", scope=ldap3.LEVEL) == \
        sorted(["uid=carol.vcf," + BASE])
    # the card without UID is named by the store's id, escaped (RFC 4514)
    assert dns(conn, "(cn=carol, the cook)") == ["uid=carol.vcf," + BASE]


def test_scopes(conn):
    every = sorted([BASE] + list(DN.values()) + ["uid=carol.vcf," + BASE])
    assert dns(conn, "(objectClass=*)") == every
    assert dns(conn, "(objectClass=*)", scope=ldap3.BASE) == [BASE]
    assert dns(conn, "(objectClass=*)", scope=ldap3.LEVEL) == \
        [d for d in every if d != BASE]
    assert dns(conn, "(objectClass=*)", base=DN["alice"],
               scope=ldap3.BASE) == [DN["alice"]]
    assert dns(conn, "(objectClass=*)", base=DN["alice"].upper(),
               scope=ldap3.BASE) == [DN["alice"]]
    assert dns(conn, "(objectClass=*)", base=DN["alice"],
               scope=ldap3.LEVEL) == []
    conn.search("uid=nobody," + BASE, "(objectClass=*)")
    assert conn.result["result"] == 32
    assert conn.result["dn"] == BASE
    conn.search("dc=elsewhere", "(objectClass=*)")
    assert conn.result["result"] == 32


def test_limits_and_attribute_selection(conn):
    conn.search(BASE, "(mail=*)", search_scope=ldap3.LEVEL, size_limit=2)
    assert conn.result["result"] == 4, conn.result
    assert len([e for e in conn.response
                if e["type"] == "searchResEntry"]) == 2
    conn.search(BASE, "(cn=bob*)", attributes=["mail", "CN"])
    (e,) = conn.response
    assert sorted(e["raw_attributes"]) == ["cn", "mail"]
    conn.search(BASE, "(cn=bob*)", attributes=["1.1"])
    (e,) = conn.response
    assert not e["raw_attributes"]
    conn.search(BASE, "(cn=bob*)", attributes=["mail"], types_only=True)
    (e,) = conn.response
    assert list(e["raw_attributes"]) == ["mail"]
    assert not e["raw_attributes"]["mail"]


def test_changes_are_refused(conn):
    conn.modify(DN["bob"], {"title": [(ldap3.MODIFY_REPLACE, ["x"])]})
    assert conn.result["result"] == 53
    conn.delete(DN["bob"])
    assert conn.result["result"] == 53
    conn.add("uid=new," + BASE, "inetOrgPerson", {"cn": "n", "sn": "n"})
    assert conn.result["result"] == 53
    assert conn.compare(DN["bob"], "cn", "Bob Builder") is False
    assert conn.result["result"] == 53
    conn.extend.standard.who_am_i()
    assert conn.result["result"] == 2


def test_starttls_and_ldaps(ldap_served):
    rc, out, err = ldapsearch(ldap_served, "(mail=alice@*)", "cn",
                              tls="starttls")
    assert rc == 0, err
    assert "cn: Alice Liddell" in out
    rc, out, err = ldapsearch(ldap_served, "(mail=alice@*)", "cn",
                              tls="ldaps")
    assert rc == 0, err
    assert "cn: Alice Liddell" in out
    c = connect(ldap_served, tls=True)
    assert c.bound
    assert dns(c, "(cn=boris*)") == [DN["boris"]]
    c.unbind()


def test_bytes_that_are_not_ldap(ldap_served):
    port = ldap_served.port["ldap"]
    # a SEQUENCE whose length passes anything a request may be
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01")
        data = s.recv(4096)
        # the notice of disconnection: messageID 0, protocolError (2)
        assert data[:1] == b"\x30" and b"\x0a\x01\x02" in data, data
        assert b"1.3.6.1.4.1.1466.20036" in data
        assert s.recv(4096) == b""
    # an operation RFC 4511 does not know
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"\x30\x05\x02\x01\x07\x5f\x00")
        data = s.recv(4096)
        assert b"\x0a\x01\x02" in data and \
            b"1.3.6.1.4.1.1466.20036" in data, data
    # requests sent together are each read whole, and answered in order
    bind = bytes.fromhex("300c020101600702010304008000")
    abandon = bytes.fromhex("3006020103500101")
    search = bytes.fromhex("3025020102632004000a01000a0100020100020100"
                           "010100870b6f626a656374436c6173733000")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(bind + abandon + search)
        data = b""
        while b"\x65\x07\x0a\x01\x00" not in data:
            more = s.recv(4096)
            assert more, data
            data += more
        assert data.startswith(bytes.fromhex("300c02010161070a010004000400"))
        assert b"namingContexts" in data
    # a filter nested without end is refused, and the session goes on
    c = connect(ldap_served)
    deep = "(cn=x)"
    for _ in range(100):
        deep = "(!" + deep + ")"
    c.search(BASE, deep)
    assert c.result["result"] == 53, c.result
    assert dns(c, "(cn=alice*)") == [DN["alice"]]
    c.unbind()


def test_failed_binds_are_throttled(tmp_path):
    """Failed binds count against the client's address as every login of
    serve does: past the allowance a bind is refused (busy) unchecked,
    even with the right password, and the connection closed."""
    from conftest import check_stopped, make_store, serve_conftest
    server = serve_conftest.Server(make_store(str(tmp_path)), str(tmp_path),
                                   protocols=("ldap",))
    try:
        codes = []
        for _ in range(6):
            c = connect(server, password="wrong")
            codes.append(c.result["result"])
            c.unbind()
        assert codes[:5] == [49] * 5 and codes[5] == 51, codes
        c = connect(server)
        assert not c.bound and c.result["result"] == 51, c.result
        c.unbind()
    finally:
        check_stopped(server)


def test_the_naming_context_is_configurable(tmp_path):
    import subprocess
    from conftest import check_stopped, make_store, serve_conftest
    base = "ou=People,dc=example,dc=org"
    server = serve_conftest.Server(make_store(str(tmp_path)), str(tmp_path),
                                   protocols=("ldap",),
                                   extra_args=("--ldap-base", base))
    try:
        c = connect(server, user="uid=%s,%s" % (USER, base))
        assert c.bound, c.result
        assert dns(c, "(mail=alice@*)", base=base) == \
            ["uid=alice-1," + base]
        c.search(BASE, "(objectClass=*)")
        assert c.result["result"] == 32
        c.search("", "(objectClass=*)", search_scope=ldap3.BASE,
                 attributes=["namingContexts"])
        assert c.response[0]["raw_attributes"]["namingContexts"] == \
            [base.encode()]
        c.unbind()
    finally:
        check_stopped(server)
    r = subprocess.run([serve_conftest.MAILFS, "serve", "--user", USER,
                        "--password-file", server.pwfile, "--ldap-base",
                        "not a dn", "--ldap", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--ldap-base not a dn: not a DN" in \
        r.stderr, r.stderr
