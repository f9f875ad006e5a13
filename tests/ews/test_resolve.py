"""ResolveNames on `mailfs serve --ews` through exchangelib: prefixes of
names and addresses of the store's contacts, one, several or no
matches, and the full contact data."""

import os

from conftest import account

CARDS = {
    "alice.vcf": "FN:Alice Archer\r\nN:Archer;Alice;;;\r\n"
                 "EMAIL:alice@example.org\r\nTITLE:Pilot\r\n",
    "alan.vcf": "FN:Alan Smith\r\nN:Smith;Alan;;;\r\n"
                "EMAIL:al@work.example\r\nEMAIL:alan@home.example\r\n",
    "zoe.vcf": "FN:Zo\u00eb \u00c5str\u00f6m\r\nEMAIL:zoe@example.se\r\n",
}


def put_cards(store):
    for name, body in CARDS.items():
        with open(os.path.join(store, "Contacts", name), "w",
                  newline="", encoding="utf-8") as f:
            f.write("BEGIN:VCARD\r\nVERSION:3.0\r\n" + body + "END:VCARD\r\n")


def test_one_match_full_data(ews_server):
    put_cards(ews_server.store)
    acc = account(ews_server)
    res = acc.protocol.resolve_names(["archer"], return_full_contact_data=True)
    assert len(res) == 1
    mailbox, contact = res[0]
    assert mailbox.name == "Alice Archer"
    assert mailbox.email_address == "alice@example.org"
    assert contact.job_title == "Pilot" and contact.given_name == "Alice"
    # by an address, and "smtp:" before it
    res = acc.protocol.resolve_names(["SMTP:alan@home"])
    assert [m.email_address for m in res] == ["al@work.example"]


def test_several_and_none(ews_server):
    put_cards(ews_server.store)
    acc = account(ews_server)
    res = acc.protocol.resolve_names(["al"])
    assert sorted(m.name for m in res) == ["Alan Smith", "Alice Archer"]
    res = acc.protocol.resolve_names(["\u00e5STR"])
    assert [m.name for m in res] == ["Zo\u00eb \u00c5str\u00f6m"]
    from exchangelib.errors import ErrorNameResolutionNoResults
    res = acc.protocol.resolve_names(["nobody"])
    assert len(res) == 1 and isinstance(res[0], ErrorNameResolutionNoResults)


def test_at_most_100(ews_server):
    store = ews_server.store
    for i in range(120):
        with open(os.path.join(store, "Contacts", "p%03d.vcf" % i), "w",
                  newline="") as f:
            f.write("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person %d\r\n"
                    "EMAIL:p%d@example.org\r\nEND:VCARD\r\n" % (i, i))
    acc = account(ews_server)
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = acc.protocol.resolve_names(["person"])
    assert len(res) == 100
    assert any("at most 100" in str(w.message) for w in caught)
