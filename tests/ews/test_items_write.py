"""Changing mail through exchangelib: CreateItem from MIME (stored byte
for byte, with the right Maildir flags), UpdateItem of the properties
that are flags, DeleteItem, MoveItem and CopyItem; each checked in the
store's Maildir and through a sync."""

import base64
import os

import pytest

from conftest import account, inbox_files, make_message, put_message


@pytest.fixture
def props():
    """PR_MESSAGE_FLAGS, PR_FLAG_STATUS and PR_LAST_VERB_EXECUTED as
    exchangelib fields of Message."""
    from exchangelib import Message
    from exchangelib.extended_properties import ExtendedProperty, Flag

    class MessageFlags(ExtendedProperty):
        property_tag = 0x0E07
        property_type = "Integer"

    class LastVerb(ExtendedProperty):
        property_tag = 0x1081
        property_type = "Integer"

    fields = {"message_flags": MessageFlags, "flag_status": Flag,
              "last_verb": LastVerb}
    for name, cls in fields.items():
        Message.register(name, cls)
    yield fields
    for name in fields:
        Message.deregister(name)


def store_files(store, folder):
    return [os.path.basename(p) for p in inbox_files(store, folder)]


def only_file(store, folder):
    files = inbox_files(store, folder)
    assert len(files) == 1, files
    return files[0]


def maildir_flags(path):
    return path.rsplit(":2,", 1)[1]


def test_create_from_mime(ews_server, props):
    from exchangelib import Message
    raw = make_message("imported", body="Body \xe9 text\r\n".encode(
        "latin-1").decode("latin-1"))
    raw = raw + b"\r\n\x00\xff trailing bytes kept\r\n"
    acc = account(ews_server)
    m = Message(account=acc, folder=acc.inbox, mime_content=raw,
                is_read=True, message_flags=1)
    m.save()
    assert m.id and m.changekey
    path = only_file(ews_server.store, "INBOX")
    with open(path, "rb") as f:
        assert f.read() == raw
    assert maildir_flags(path) == "S"
    got = acc.inbox.get(id=m.id)
    assert got.mime_content == raw
    assert got.is_read and not got.is_draft
    assert got.subject == "imported"
    assert got.changekey == m.changekey
    # unread and not a draft: PR_MESSAGE_FLAGS 0
    m2 = Message(account=acc, folder=acc.inbox,
                 mime_content=make_message("unread"), message_flags=0)
    m2.save()
    assert sorted(maildir_flags(p) for p in
                  inbox_files(ews_server.store, "INBOX")) == ["", "S"]


def test_create_without_message_flags_is_a_draft(ews_server):
    from exchangelib import Message
    acc = account(ews_server)
    Message(account=acc, folder=acc.drafts,
            mime_content=make_message("draft")).save()
    assert maildir_flags(only_file(ews_server.store, "Drafts")) == "D"


def test_create_refusals(ews_server):
    from exchangelib import Message
    from exchangelib.errors import ErrorInvalidRecipients
    from exchangelib.items import SEND_AND_SAVE_COPY
    acc = account(ews_server)
    # mailfs serve relays nothing: a recipient other than the served
    # user's own address fails the send, and nothing is stored
    m = Message(account=acc, folder=acc.sent,
                mime_content=make_message("send me"))
    with pytest.raises(ErrorInvalidRecipients, match="alice@example.org"):
        m.send_and_save()
    with pytest.raises(ErrorInvalidRecipients):
        acc.bulk_create(folder=acc.inbox, items=[
            Message(account=acc, mime_content=make_message("ok"))],
            message_disposition=SEND_AND_SAVE_COPY)
    assert store_files(ews_server.store, "INBOX") == []
    assert store_files(ews_server.store, "Sent") == []
    from test_exchangelib import post
    bad = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"'
           b' xmlns:m="http://schemas.microsoft.com/exchange/services/2006/'
           b'messages" xmlns:t="http://schemas.microsoft.com/exchange/'
           b'services/2006/types"><s:Body><m:CreateItem MessageDisposition='
           b'"SaveOnly"><m:Items><t:Message><t:MimeContent>***not base64'
           b'</t:MimeContent></t:Message></m:Items></m:CreateItem></s:Body>'
           b'</s:Envelope>')
    status, body = post(ews_server, bad)
    assert status == 200 and b"ErrorMimeContentInvalid" in body
    assert store_files(ews_server.store, "Drafts") == []


def test_update_flags(ews_server, props):
    store = ews_server.store
    put_message(store, "INBOX", "1700000000.M1P1.h", make_message("u"), "")
    acc = account(ews_server)
    sync_state = None
    list(acc.inbox.sync_items(only_fields=["subject"]))
    sync_state = acc.inbox.item_sync_state
    item = acc.inbox.all()[0]
    old_ck = item.changekey
    item.is_read = True
    item.save(update_fields=["is_read"])
    assert maildir_flags(only_file(store, "INBOX")) == "S"
    assert item.changekey != old_ck
    item.flag_status = 2
    item.save(update_fields=["flag_status"])
    assert maildir_flags(only_file(store, "INBOX")) == "FS"
    item.last_verb = 102
    item.save(update_fields=["last_verb"])
    item.last_verb = 104
    item.save(update_fields=["last_verb"])
    assert maildir_flags(only_file(store, "INBOX")) == "FPRS"
    got = acc.inbox.get(id=item.id)
    assert got.flag_status == 2 and got.is_read
    assert got.message_flags == 1 and got.last_verb == 102
    item.flag_status = 1   # complete: no Maildir flag for it
    item.is_read = False
    item.save(update_fields=["flag_status", "is_read"])
    assert maildir_flags(only_file(store, "INBOX")) == "PR"
    item.message_flags = 9
    item.save(update_fields=["message_flags"])
    assert maildir_flags(only_file(store, "INBOX")) == "DPRS"
    item.flag_status = None   # DeleteItemField
    item.last_verb = None
    item.save(update_fields=["flag_status", "last_verb"])
    assert maildir_flags(only_file(store, "INBOX")) == "DS"
    got = acc.inbox.get(id=item.id)
    assert got.is_draft and got.flag_status is None
    # a sync after changes made through EWS
    changes = list(acc.inbox.sync_items(sync_state=sync_state,
                                        only_fields=["subject"]))
    assert [k for k, _ in changes] == ["update"]
    assert changes[0][1].changekey == got.changekey


def test_update_refusals(ews_server, props):
    from exchangelib.errors import (ErrorInvalidPropertySet,
                                    ErrorIrresolvableConflict,
                                    ErrorItemNotFound)
    from exchangelib.items import NEVER_OVERWRITE
    store = ews_server.store
    put_message(store, "INBOX", "1700000000.M1P1.h", make_message("u"), "")
    acc = account(ews_server)
    item = acc.inbox.all()[0]
    stale = acc.inbox.all()[0]
    item.is_read = True
    item.save(update_fields=["is_read"])
    stale.is_read = False
    with pytest.raises(ErrorIrresolvableConflict):
        stale.save(update_fields=["is_read"],
                   conflict_resolution=NEVER_OVERWRITE)
    assert maildir_flags(only_file(store, "INBOX")) == "S"
    item.subject = "new subject"
    with pytest.raises(ErrorInvalidPropertySet):
        item.save(update_fields=["subject", "is_read"])
    assert maildir_flags(only_file(store, "INBOX")) == "S"
    os.unlink(only_file(store, "INBOX"))
    with pytest.raises(ErrorItemNotFound):
        item.save(update_fields=["is_read"])


def test_delete_move_copy(ews_server):
    from exchangelib.errors import ErrorItemNotFound
    store = ews_server.store
    for n in range(4):
        put_message(store, "INBOX", "170000000%d.M%dP1.h" % (n, n),
                    make_message("m%d" % n), "S")
    acc = account(ews_server)
    items = {i.subject: i for i in acc.inbox.all().only("subject")}
    archive = acc.msg_folder_root / "Archive"
    # move: gone from INBOX, in Archive, under a new id
    old_id = items["m0"].id
    items["m0"].move(archive)
    assert items["m0"].id != old_id
    assert [i.subject for i in archive.all().only("subject")] == ["m0"]
    assert len(store_files(store, "Archive")) == 1
    assert isinstance(acc.inbox.get(id=old_id), ErrorItemNotFound)
    # copy: in both
    copy = items["m1"].copy(archive)
    assert copy[0] != items["m1"].id
    assert sorted(i.subject for i in archive.all().only("subject")) == [
        "m0", "m1"]
    # to trash, then hard delete from there
    items["m2"].move_to_trash()
    assert [i.subject for i in acc.trash.all().only("subject")] == ["m2"]
    # soft delete of what is in the trash already: gone for good
    # (exchangelib's soft_delete() wants a recoverable items folder)
    from exchangelib.items import SOFT_DELETE
    trashed = acc.trash.all()[0]
    assert acc.bulk_delete(ids=[trashed], delete_type=SOFT_DELETE) == [True]
    assert store_files(store, "Trash") == []
    items["m3"].delete()
    assert sorted(i.subject for i in acc.inbox.all().only("subject")) == [
        "m1"]
    # ids of gone and of malformed items
    res = acc.bulk_delete(ids=[(old_id, None), ("bm90IG91cnM=", None)])
    assert [type(r).__name__ for r in res] == [
        "ErrorItemNotFound", "ErrorInvalidIdMalformed"]


def test_trash_made_when_missing(ews_server):
    import shutil
    store = ews_server.store
    shutil.rmtree(os.path.join(store, "Trash"))
    put_message(store, "INBOX", "1700000000.M1P1.h", make_message("t"), "S")
    acc = account(ews_server)
    acc.inbox.all()[0].move_to_trash()
    assert len(store_files(store, "Trash")) == 1
    assert store_files(store, "INBOX") == []


def test_mime_of_created_round_trips(ews_server, props):
    from exchangelib import Message
    acc = account(ews_server)
    raw = base64.b64decode(base64.b64encode(make_message("rt") * 3))
    m = Message(account=acc, folder=acc.inbox, mime_content=raw,
                message_flags=1)
    m.save()
    m.copy(acc.msg_folder_root / "Archive")
    with open(only_file(ews_server.store, "Archive"), "rb") as f:
        assert f.read() == raw
