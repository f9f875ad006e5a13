"""SyncFolderItems and SyncFolderHierarchy through exchangelib: a sync
from scratch, then incremental syncs after changes made in the store's
Maildir behind the server's back, paging, and states the server must
refuse."""

import os

import pytest

from conftest import account, make_maildir, make_message, put_message


def flag_rename(store, folder, unique, old, new):
    d = os.path.join(store, folder, "cur")
    os.rename(os.path.join(d, "%s:2,%s" % (unique, old)),
              os.path.join(d, "%s:2,%s" % (unique, new)))


def sync(folder, **kw):
    return list(folder.sync_items(**kw))


def test_sync_from_scratch_then_incremental(ews_server):
    store = ews_server.store
    put_message(store, "INBOX", "1700000000.M1P1.h", make_message("one"), "")
    put_message(store, "INBOX", "1700000001.M2P1.h", make_message("two"), "S")
    put_message(store, "INBOX", "1700000002.M3P1.h", make_message("three"),
                "S")
    acc = account(ews_server)
    first = sync(acc.inbox, only_fields=["subject", "is_read"])
    assert sorted((t, i.subject, i.is_read) for t, i in first) == [
        ("create", "one", False), ("create", "three", True),
        ("create", "two", True)]
    state = acc.inbox.item_sync_state
    assert state
    # nothing changed: nothing to tell, and the same state back
    assert sync(acc.inbox, sync_state=state) == []
    assert acc.inbox.item_sync_state == state
    ids = {i.subject: i.id for _, i in first}
    # behind the server's back: a new message, a read flag, a flag, a delete
    put_message(store, "INBOX", "1700000003.M4P1.h", make_message("four"), "")
    flag_rename(store, "INBOX", "1700000000.M1P1.h", "", "S")
    flag_rename(store, "INBOX", "1700000001.M2P1.h", "S", "FS")
    os.unlink(os.path.join(store, "INBOX", "cur", "1700000002.M3P1.h:2,S"))
    changes = sync(acc.inbox, sync_state=state,
                   only_fields=["subject", "is_read"])
    kinds = {}
    for kind, obj in changes:
        kinds.setdefault(kind, []).append(obj)
    assert sorted(kinds) == ["create", "delete", "read_flag_change", "update"]
    assert [i.subject for i in kinds["create"]] == ["four"]
    assert [i.id for i in kinds["delete"]] == [ids["three"]]
    (rid, is_read), = kinds["read_flag_change"]
    assert rid.id == ids["one"] and is_read is True
    assert [i.id for i in kinds["update"]] == [ids["two"]]
    # the old state still gives the same answer; the new one nothing
    again = sync(acc.inbox, sync_state=state,
                 only_fields=["subject", "is_read"])
    assert len(again) == len(changes)
    assert sync(acc.inbox, sync_state=acc.inbox.item_sync_state) == []


def test_change_keys_follow_flags(ews_server):
    store = ews_server.store
    put_message(store, "INBOX", "1700000000.M1P1.h", make_message("one"), "")
    acc = account(ews_server)
    (_, before), = sync(acc.inbox, only_fields=["subject"])
    flag_rename(store, "INBOX", "1700000000.M1P1.h", "", "F")
    (_, after), = sync(acc.inbox, sync_state=acc.inbox.item_sync_state,
                       only_fields=["subject"])
    assert after.id == before.id
    assert after.changekey != before.changekey
    got = acc.inbox.get(id=after.id)
    assert got.changekey == after.changekey


def test_paging(ews_server):
    store = ews_server.store
    for n in range(7):
        put_message(store, "INBOX", "17000000%02d.M%dP1.h" % (n, n),
                    make_message("m%d" % n), "S")
    acc = account(ews_server)
    from exchangelib.services import SyncFolderItems
    svc = SyncFolderItems(account=acc)
    state, seen, pages = None, [], 0
    while True:
        page = list(svc.call(folder=acc.inbox, shape="IdOnly",
                             additional_fields=[], sync_state=state,
                             ignore=None, max_changes_returned=3,
                             sync_scope=None))
        pages += 1
        assert len(page) <= 3
        seen += [i.id for _, i in page]
        assert svc.sync_state != state
        state = svc.sync_state
        if svc.includes_last_item_in_range:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    # exchangelib's own loop over the pages gets the same
    assert len(sync(acc.inbox, max_changes_returned=2,
                    only_fields=["subject"])) == 7


def test_invalid_states(ews_server):
    from exchangelib.errors import ErrorInvalidSyncStateData
    put_message(ews_server.store, "INBOX", "1700000000.M1P1.h",
                make_message("one"), "")
    acc = account(ews_server)
    sync(acc.inbox)
    inbox_state = acc.inbox.item_sync_state
    for bad in ("garbage", "bWZzUw==", "A" * 28, "bWZzU" + "A" * 23,
                "\u00e9" * 40, "x" * 100000):
        with pytest.raises(ErrorInvalidSyncStateData):
            sync(acc.inbox, sync_state=bad)
    # another folder's state
    with pytest.raises(ErrorInvalidSyncStateData):
        sync(acc.sent, sync_state=inbox_state)
    # a snapshot the server no longer has
    for d, _, files in os.walk(os.path.join(ews_server.store,
                                            ".mailfs-serve", "ews-sync")):
        for name in files:
            os.unlink(os.path.join(d, name))
    with pytest.raises(ErrorInvalidSyncStateData):
        sync(acc.inbox, sync_state=inbox_state)
    # and the server is still well
    assert len(sync(account(ews_server).inbox)) == 1


def test_max_changes_bounds(ews_server):
    from exchangelib.errors import ErrorInvalidRequest
    acc = account(ews_server)
    with pytest.raises(ErrorInvalidRequest):
        sync(acc.inbox, max_changes_returned=513)
    assert sync(acc.inbox, max_changes_returned=512) == []


def test_sync_hierarchy(ews_server):
    store = ews_server.store
    acc = account(ews_server)
    first = list(acc.root.sync_hierarchy())
    names = sorted(f.name for kind, f in first)
    assert all(kind == "create" for kind, _ in first)
    assert names == sorted(["INBOX", "Sent", "Trash", "Drafts", "Archive",
                            "2024", "Contacts", "Calendar"])
    state = acc.root.folder_sync_state
    assert list(acc.root.sync_hierarchy(sync_state=state)) == []
    make_maildir(store, "Projects")
    os.rename(os.path.join(store, "Archive", "2024"),
              os.path.join(store, "Archive", "2023"))
    put_message(store, "Sent", "1700000000.M1P1.h", make_message("s"), "S")
    changes = list(acc.root.sync_hierarchy(sync_state=state))
    created = sorted(f.name for k, f in changes if k == "create")
    deleted = [f for k, f in changes if k == "delete"]
    updated = [f.name for k, f in changes if k == "update"]
    assert created == ["2023", "Projects"]
    assert len(deleted) == 1
    assert updated == ["Sent"]
    with pytest.raises(Exception):
        list(acc.root.sync_hierarchy(sync_state="not a state"))
