"""The MAPI client's address book (protocols/mapi/directory.c) against
tests/harness/fakemapi.py, whose GAL is the one a real server (gromox)
showed in 09-nspi.json: Alice Test, Bob Sender and Carol Colleague.

The recorded GAL holds names and addresses only.  Before a lookup its
entries get the other fields a fuller directory has (phones, company,
department, title, office, postal address, more proxy addresses) in the
AddressBook forms the server sends, and what an entry lacks is marked
missing as the server's GetProps showed for PidTagTitle; so the vCards
are checked field by field, and rows with missing columns come flagged
as a real server sends them.
"""

import struct

from conftest import USER_DN

NOT_FOUND = 0x8004010F
ALICE, BOB, CAROL = 0x11, 0x12, 0x13
TAGS = {
    "given": 0x3A06001F, "surname": 0x3A11001F, "work": 0x3A08001F,
    "cell": 0x3A1C001F, "home": 0x3A09001F, "company": 0x3A16001F,
    "dept": 0x3A18001F, "title": 0x3A17001F, "office": 0x3A19001F,
    "street": 0x3A29001F, "city": 0x3A27001F, "state": 0x3A28001F,
    "code": 0x3A2A001F, "country": 0x3A26001F, "proxies": 0x800F101F,
}
PEOPLE = {
    ALICE: {"given": "Alice", "surname": "Test"},
    BOB: {"given": "Bob", "surname": "Sender", "work": "+49 221 1234-5",
          "cell": "+49 170 555 0101", "home": "+49 221 987 65",
          "company": "Example Test GmbH", "dept": "Sales; North",
          "title": "Account Manager", "office": "Room 4.12",
          "street": "Domkloster 4", "city": "K\u00f6ln", "state": "NRW",
          "code": "50667", "country": "Germany",
          "proxies": ["SMTP:bob@example.test", "smtp:robert@example.test",
                      "X500:/o=Example/cn=bob"]},
    CAROL: {"given": "Carol", "surname": "Colleague",
            "title": "Engineer"},
}


def _ab_str(s):
    return b"\xff" + s.encode("utf-16-le") + b"\0\0"


def fill_gal(fake):
    for mid, fields in PEOPLE.items():
        have = fake.address_book.entries[mid]
        for name, tag in TAGS.items():
            v = fields.get(name)
            if isinstance(v, list):
                have[tag] = b"\xff" + struct.pack("<I", len(v)) + \
                    b"".join(_ab_str(x) for x in v)
            elif v is not None:
                have[tag] = _ab_str(v)
            elif tag not in have:
                have[("missing", tag >> 16)] = struct.pack("<I", NOT_FOUND)


def card(text):
    """The content lines of a vCard: [(NAME, {params}, value)]."""
    lines = []
    for raw in text.split("\r\n"):
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    out = []
    for line in lines:
        head, _, value = line.partition(":")
        name, *params = head.split(";")
        out.append((name.upper(), params, value))
    return out


def values(c, name):
    return [v for n, p, v in c if n == name]


def _ok(fake, r):
    assert r.returncode == 0, r.stderr
    assert fake.errors == []
    assert fake.unanswered == []


def _entries(r):
    return {row["name"]: card(row["vcard"]) for row in r.rows()}


def test_exact_lookup_by_address_gives_the_full_card(fake, probe):
    fill_gal(fake)
    r = probe(fake, "lookup", "bob@example.test")
    _ok(fake, r)
    entries = _entries(r)
    assert list(entries) == ["bob@example.test.vcf"]
    c = entries["bob@example.test.vcf"]
    assert c[0] == ("BEGIN", [], "VCARD")
    assert ("VERSION", [], "4.0") in c
    assert values(c, "FN") == ["Bob Sender"]
    assert values(c, "N") == ["Sender;Bob"]
    # the primary first, the other SMTP proxy after it, X500 left out
    assert values(c, "EMAIL") == ["bob@example.test",
                                  "robert@example.test"]
    tels = {";".join(p): v for n, p, v in c if n == "TEL"}
    assert tels == {"TYPE=work,voice": "+49 221 1234-5",
                    "TYPE=cell": "+49 170 555 0101",
                    "TYPE=home,voice": "+49 221 987 65"}
    assert values(c, "ORG") == ["Example Test GmbH;Sales\\; North"]
    assert values(c, "TITLE") == ["Account Manager"]
    assert values(c, "ADR") == [";Room 4.12;Domkloster 4;K\u00f6ln;NRW;"
                                "50667;Germany"]
    assert c[-1] == ("END", [], "VCARD")
    kinds = [k for k, path, h, b in fake.requests]
    assert kinds == ["Bind", "ResolveNames", "Unbind"]
    assert all(p.startswith("/mapi/nspi/") for k, p, h, b in fake.requests)


def test_exact_lookup_by_name_and_missing_fields(fake, probe):
    fill_gal(fake)
    r = probe(fake, "lookup", "Carol Colleague")
    _ok(fake, r)
    entries = _entries(r)
    assert list(entries) == ["carol@example.test.vcf"]
    c = entries["carol@example.test.vcf"]
    assert values(c, "FN") == ["Carol Colleague"]
    assert values(c, "EMAIL") == ["carol@example.test"]
    assert values(c, "TITLE") == ["Engineer"]
    # what the directory lacks is not made up
    assert values(c, "TEL") == [] and values(c, "ORG") == []
    assert values(c, "ADR") == []


def test_exact_lookup_wants_the_whole_name_or_address(fake, probe):
    fill_gal(fake)
    # "carol" resolves on the server, but is neither her address nor
    # her name; "nobody-here" and "example" do not resolve at all
    for query in ("carol", "nobody-here", "example"):
        r = probe(fake, "lookup", query)
        _ok(fake, r)
        assert r.rows() == [] and r.values("entries") == ["0"], query


def test_prefix_lookup_by_display_name(fake, probe):
    fill_gal(fake)
    for query, want in (("B", ["bob@example.test.vcf"]),
                        ("al", ["alice@example.test.vcf"]),
                        ("Carol C", ["carol@example.test.vcf"]),
                        ("Zed", []), ("Bobby", [])):
        r = probe(fake, "lookup", query, "prefix")
        _ok(fake, r)
        assert list(_entries(r)) == want, query
    c = _entries(probe(fake, "lookup", "b", "prefix"))[
        "bob@example.test.vcf"]
    assert values(c, "FN") == ["Bob Sender"]
    assert "+49 170 555 0101" in values(c, "TEL")
    kinds = [k for k, path, h, b in fake.requests]
    assert "SeekEntries" in kinds and "QueryRows" in kinds


def test_user_dn_of_an_address(fake, probe):
    fill_gal(fake)
    r = probe(fake, "userdn", "alice@example.test")
    _ok(fake, r)
    assert r.values("userdn") == [USER_DN]
    r = probe(fake, "userdn", "carol@example.test")
    _ok(fake, r)
    assert r.values("userdn") == [USER_DN.replace(
        "0100000001000000-alice", "0100000003000000-carol")]
    r = probe(fake, "userdn", "nobody@example.test")
    assert r.returncode == 1
    assert "the address book does not know nobody@example.test" in r.stderr


def test_a_forgotten_session_is_bound_again(fake, probe):
    fill_gal(fake)
    fake.hostile["ResolveNames"] = "code"
    fake.hostile_left["ResolveNames"] = 1
    fake.hostile_code = 2
    r = probe(fake, "lookup", "bob@example.test")
    _ok(fake, r)
    assert list(_entries(r)) == ["bob@example.test.vcf"]
    assert r.values("rebinds") == ["1"]
    kinds = [k for k, path, h, b in fake.requests]
    assert kinds == ["Bind", "ResolveNames", "Bind", "ResolveNames",
                     "Unbind"]


def test_nspi_failures_are_clear_errors(fake, probe):
    fill_gal(fake)
    fake.hostile["ResolveNames"] = "code"
    fake.hostile_code = 9
    r = probe(fake, "lookup", "bob@example.test")
    assert r.returncode == 1
    assert "ResolveNames refused (X-ResponseCode 9)" in r.stderr
    assert "alice@example.test on http://127.0.0.1" in r.stderr

    fake.hostile.clear()
    fake.hostile["Bind"] = "503"
    r = probe(fake, "lookup", "bob@example.test")
    assert r.returncode == 1 and "server busy (HTTP 503)" in r.stderr

    fake.hostile.clear()
    fake.hostile["QueryRows"] = "drop"
    r = probe(fake, "lookup", "B", "prefix")
    assert r.returncode == 1 and "the answer broke off" in r.stderr


def test_an_nspi_error_code_is_named(fake, probe):
    # without the fuller GAL the fake cannot answer the card columns and
    # says MAPI_E_NO_SUPPORT, as a server does for what it cannot do
    r = probe(fake, "lookup", "bob@example.test")
    assert r.returncode == 1
    assert "address book: ResolveNames failed (error 0x80040102)" \
        in r.stderr
    fake.unanswered.clear()
