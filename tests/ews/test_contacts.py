"""Contacts folders of `mailfs serve --ews` through exchangelib: listing
the .vcf files as contacts, creating one whose fields land in a .vcf,
changing one field without losing the card's other lines, deleting."""

import os

from conftest import account


def vcf_files(store):
    d = os.path.join(store, "Contacts")
    return sorted(n for n in os.listdir(d) if n.endswith(".vcf"))


def read_store(store, name):
    with open(os.path.join(store, "Contacts", name), "rb") as f:
        return f.read().decode()


def test_list_and_read(ews_server):
    acc = account(ews_server)
    items = list(acc.contacts.all())
    assert len(items) == 1
    bob = items[0]
    assert bob.display_name == "Bob"
    assert [e.email for e in bob.email_addresses] == ["bob@example.org"]
    again = acc.contacts.get(id=bob.id)
    assert again.id == bob.id and again.display_name == "Bob"
    assert [c.id for c in acc.contacts.all()] == [bob.id]
    assert acc.contacts.total_count == 1


def test_create_fields_in_store(ews_server):
    from exchangelib import Contact
    from exchangelib.indexed_properties import (EmailAddress, PhoneNumber,
                                                PhysicalAddress)
    import datetime
    acc = account(ews_server)
    c = Contact(folder=acc.contacts, display_name="Jane Q. Public",
                given_name="Jane", middle_name="Q.", surname="Public",
                company_name="Acme, Inc.", department="R&D",
                job_title="Engineer", nickname="JQ",
                body="Line one\nLine two; with semicolon",
                birthday=datetime.date(1980, 5, 17),
                business_homepage="https://acme.example/jane",
                email_addresses=[
                    EmailAddress(label="EmailAddress1", email="jane@acme.example"),
                    EmailAddress(label="EmailAddress2", email="jq@home.example")],
                phone_numbers=[
                    PhoneNumber(label="MobilePhone", phone_number="+1 555 0101"),
                    PhoneNumber(label="BusinessPhone", phone_number="+1 555 0100"),
                    PhoneNumber(label="HomeFax", phone_number="+1 555 0102")],
                physical_addresses=[PhysicalAddress(
                    label="Business", street="1 Road", city="Springfield",
                    state="IL", country="USA", zipcode="62701")])
    c.save()
    assert c.id
    names = vcf_files(ews_server.store)
    assert len(names) == 2
    new = [n for n in names if n != "bob.vcf"][0]
    card = read_store(ews_server.store, new)
    for line in ("BEGIN:VCARD", "VERSION:3.0", "FN:Jane Q. Public",
                 "N:Public;Jane;Q.;;", "ORG:Acme\\, Inc.;R&D",
                 "TITLE:Engineer", "NICKNAME:JQ",
                 "NOTE:Line one\\nLine two\\; with semicolon",
                 "BDAY:1980-05-17", "URL:https://acme.example/jane",
                 "EMAIL;TYPE=internet:jane@acme.example",
                 "EMAIL;TYPE=internet:jq@home.example",
                 "TEL;TYPE=cell:+1 555 0101",
                 "TEL;TYPE=work,voice:+1 555 0100",
                 "TEL;TYPE=home,fax:+1 555 0102",
                 "ADR;TYPE=work:;;1 Road;Springfield;IL;62701;USA",
                 "END:VCARD"):
        assert line + "\r\n" in card, (line, card)
    got = acc.contacts.get(id=c.id)
    assert got.given_name == "Jane" and got.surname == "Public"
    assert got.birthday == datetime.date(1980, 5, 17)
    assert {p.label: p.phone_number for p in got.phone_numbers} == {
        "MobilePhone": "+1 555 0101", "BusinessPhone": "+1 555 0100",
        "HomeFax": "+1 555 0102"}
    addr = got.physical_addresses[0]
    assert (addr.label, addr.street, addr.city, addr.zipcode) == (
        "Business", "1 Road", "Springfield", "62701")
    assert got.body == "Line one\nLine two; with semicolon"


def test_update_keeps_other_lines(ews_server):
    store = ews_server.store
    card = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:carol-1\r\nFN:Carol\r\n"
            "N:Example;Carol;;;\r\nTITLE:Boss\r\nEMAIL:carol@example.com\r\n"
            "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMC\r\n"
            " AgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUV\r\n"
            "X-SKYPE:carol.q\r\nCATEGORIES:friends,work\r\nEND:VCARD\r\n")
    with open(os.path.join(store, "Contacts", "carol.vcf"), "w",
              newline="") as f:
        f.write(card)
    acc = account(ews_server)
    carol = [c for c in acc.contacts.all() if c.display_name == "Carol"][0]
    carol.job_title = "Chief"
    carol.save(update_fields=["job_title"])
    after = read_store(store, "carol.vcf")
    assert "TITLE:Chief\r\n" in after and "Boss" not in after
    for kept in card.split("\r\n"):
        if kept and not kept.startswith("TITLE"):
            assert kept + "\r\n" in after, (kept, after)
    carol = acc.contacts.get(id=carol.id)
    assert carol.job_title == "Chief"
    carol.job_title = None
    carol.save(update_fields=["job_title"])
    assert "TITLE" not in read_store(store, "carol.vcf")
    assert "X-SKYPE:carol.q\r\n" in read_store(store, "carol.vcf")


def test_delete(ews_server):
    # the marker keeps the folder a contacts folder once it is empty (the
    # fixture's store has none: its kind is guessed from the files)
    with open(os.path.join(ews_server.store, "Contacts", ".mailfs-folder"),
              "w") as f:
        f.write("contacts\n")
    acc = account(ews_server)
    bob = list(acc.contacts.all())[0]
    bob.delete()
    assert vcf_files(ews_server.store) == []
    assert list(acc.contacts.all()) == []


def test_hostile_card(ews_server):
    store = ews_server.store
    with open(os.path.join(store, "Contacts", "junk.vcf"), "wb") as f:
        f.write(b"\x00\xff garbage BEGIN:VCARD" * 1000)
    with open(os.path.join(store, "Contacts", "long.vcf"), "wb") as f:
        f.write(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:L\r\n" +
                b"X-A:" + b"x" * 300000 + b"\r\n" + b"END:VCARD\r\n")
    acc = account(ews_server)
    names = sorted(c.display_name for c in acc.contacts.all())
    assert names == ["Bob", "L", "junk.vcf"]
