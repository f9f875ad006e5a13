"""exchangelib against `mailfs serve --ews`: start-up with a guessed
version, the distinguished folders, folder browsing, a wrong password,
and hostile requests that must get an error without harming the
server."""

import base64
import os
import socket
import urllib.error
import urllib.request

import pytest

from conftest import PASSWORD, USER, account, endpoint


def post(server, body, auth=(USER, PASSWORD), timeout=20):
    req = urllib.request.Request(endpoint(server), data=body, method="POST")
    req.add_header("Content-Type", "text/xml; charset=utf-8")
    if auth:
        token = base64.b64encode(("%s:%s" % auth).encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_version_guessed(ews_server):
    acc = account(ews_server)
    build = acc.version.build
    assert (build.major_version, build.minor_version) == (15, 1)
    assert build.major_build == 2507


def test_root_and_inbox(ews_server):
    acc = account(ews_server)
    assert acc.root.id
    assert acc.inbox.name == "INBOX"
    assert acc.inbox.parent.id == acc.msg_folder_root.id
    assert acc.sent.name == "Sent"
    assert acc.trash.name == "Trash"
    assert acc.drafts.name == "Drafts"
    assert acc.contacts.name == "Contacts"
    assert acc.calendar.name == "Calendar"
    assert acc.contacts.folder_class == "IPF.Contact"
    assert acc.inbox.total_count == 0


def test_folder_tree(ews_server):
    acc = account(ews_server)
    top = sorted(f.name for f in acc.msg_folder_root.children)
    # distinguished folders an Exchange mailbox always has and the store
    # lacks are made when a client asks for them (exchangelib looks for
    # each), as Maildirs in the store
    made = set(top) - {"INBOX", "Sent", "Trash", "Drafts", "Archive",
                       "Contacts", "Calendar"}
    assert made <= {"Junk", "Outbox", "Tasks"}
    for name in made - {"Tasks"}:
        assert os.path.isdir(os.path.join(ews_server.store, name, "cur"))
    # tasks are kept as a calendar folder: a directory of .ics files
    if "Tasks" in made:
        assert not os.path.exists(os.path.join(ews_server.store, "Tasks",
                                               "cur"))
    assert {"INBOX", "Sent", "Trash", "Drafts", "Archive", "Contacts",
            "Calendar"} <= set(top)
    archive = acc.msg_folder_root / "Archive"
    assert [f.name for f in archive.children] == ["2024"]
    names = sorted(f.name for f in acc.msg_folder_root.walk())
    assert "2024" in names


def test_ids_stable(ews_server):
    first = account(ews_server).inbox.id
    assert account(ews_server).inbox.id == first


def test_find_folder_paging(ews_server):
    from exchangelib.folders import FolderCollection
    acc = account(ews_server)
    coll = FolderCollection(account=acc, folders=[acc.msg_folder_root])
    deep = list(coll.find_folders(depth="Deep", page_size=3))
    assert len(deep) == 8
    assert len({f.id for f in deep}) == 8
    shallow = list(coll.find_folders(depth="Shallow", page_size=2))
    assert sorted(f.name for f in shallow) == sorted(
        ["INBOX", "Sent", "Trash", "Drafts", "Archive", "Contacts",
         "Calendar"])
    assert len(list(coll.find_folders(depth="Deep", offset=6))) == 2


def test_wrong_password(ews_server):
    from exchangelib.errors import UnauthorizedError
    with pytest.raises(UnauthorizedError):
        account(ews_server, password="wrong").inbox


def test_hostile_requests(ews_server):
    doctype = (b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM '
               b'"file:///etc/passwd">]><s:Envelope xmlns:s="http://'
               b'schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetFolder '
               b'xmlns:m="urn:x">&x;</m:GetFolder></s:Body></s:Envelope>')
    status, body = post(ews_server, doctype)
    assert status == 500 and b"ErrorInvalidRequest" in body
    assert b"root:" not in body
    status, body = post(ews_server, b"\x00garbage<<<" * 100)
    assert status == 500 and b"ErrorInvalidRequest" in body
    status, body = post(ews_server, b"<" * (17 * 1024 * 1024))
    assert status == 413
    unknown = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/'
               b'envelope/"><s:Body><m:Frobnicate xmlns:m="http://schemas.'
               b'microsoft.com/exchange/services/2006/messages"/></s:Body>'
               b'</s:Envelope>')
    status, body = post(ews_server, unknown)
    assert status == 500 and b"ErrorInvalidOperation" in body
    status, body = post(ews_server, unknown, auth=None)
    assert status == 401
    # a request cut short, then a still healthy server
    with socket.create_connection(("127.0.0.1", ews_server.port["ews"])) as s:
        s.sendall(b"POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 1000\r\n\r\n<s:Env")
    assert account(ews_server).inbox.name == "INBOX"


def test_items_and_mime_content(ews_server):
    from conftest import make_message, put_message
    store = ews_server.store
    raw1 = make_message(subject="=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=",
                        body="Line one.\r\nLine two.\r\n")
    raw2 = make_message(subject="second <one> & more", body="x\r\n")
    path1 = put_message(store, "INBOX", "1700000000.M1P1.host", raw1)
    put_message(store, "INBOX", "1700000001.M2P1.host", raw2, flags="")
    acc = account(ews_server)
    items = list(acc.inbox.all().only("subject", "is_read", "size"))
    assert sorted(i.subject for i in items) == ["Grüße",
                                                "second <one> & more"]
    first = [i for i in items if i.subject == "Grüße"][0]
    assert first.is_read and first.size == len(raw1)
    again = [i.id for i in acc.inbox.all().only("subject")]
    assert sorted(again) == sorted(i.id for i in items)
    got = acc.inbox.get(id=first.id, changekey=first.changekey)
    with open(path1, "rb") as f:
        assert got.mime_content == f.read()
    assert acc.inbox.all().count() == 2
    assert [i.subject for i in acc.inbox.all().only("subject")[:1]]
