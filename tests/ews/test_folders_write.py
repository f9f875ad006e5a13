"""Folder management through exchangelib: CreateFolder, UpdateFolder
(rename, ids kept), MoveFolder, DeleteFolder (a whole subtree) and
EmptyFolder, checked in the store's directories."""

import os

import pytest

from conftest import account, make_message, put_message


def isdir(store, *parts):
    return os.path.isdir(os.path.join(store, *parts))


def test_create_rename_move_delete(ews_server):
    from exchangelib import Folder
    from exchangelib.errors import ErrorFolderExists
    store = ews_server.store
    acc = account(ews_server)
    f = Folder(parent=acc.inbox, name="Projects")
    f.save()
    assert isdir(store, "INBOX", "Projects", "cur")
    fid = f.id
    sub = Folder(parent=f, name="Alpha")
    sub.save()
    assert isdir(store, "INBOX", "Projects", "Alpha", "cur")
    with pytest.raises(ErrorFolderExists):
        Folder(parent=acc.inbox, name="Projects").save()
    # rename: same id, new directory, sub-folders along
    f.name = "Work"
    f.save(update_fields=["name"])
    assert f.id == fid
    assert isdir(store, "INBOX", "Work", "Alpha", "cur")
    assert not isdir(store, "INBOX", "Projects")
    acc2 = account(ews_server)
    again = acc2.inbox / "Work"
    assert again.id == fid
    assert (again / "Alpha").id == sub.id
    # a plain save() of every field renames as well
    f.name = "Work2"
    f.save()
    assert isdir(store, "INBOX", "Work2")
    # move under Archive: same id
    archive = acc.msg_folder_root / "Archive"
    f.move(archive)
    assert f.id == fid
    assert isdir(store, "Archive", "Work2", "Alpha", "cur")
    # a folder made where the first one was born gets an id of its own
    born = Folder(parent=acc.inbox, name="Projects")
    born.save()
    assert born.id != fid
    # delete of a non-empty folder: the subtree goes
    put_message(store, "Archive/Work2/Alpha", "1700000000.M1P1.h",
                make_message("x"), "S")
    put_message(store, "Archive/Work2", "1700000001.M1P1.h",
                make_message("y"), "S")
    f.delete()
    assert not isdir(store, "Archive", "Work2")
    assert [c.name for c in account(ews_server).msg_folder_root.children
            if c.name == "Work2"] == []


def test_folder_refusals(ews_server):
    from exchangelib import Folder
    from exchangelib.errors import (ErrorDeleteDistinguishedFolder,
                                    ErrorFolderNotFound,
                                    ErrorInvalidRequest,
                                    ErrorMoveDistinguishedFolder)
    acc = account(ews_server)
    with pytest.raises(ErrorDeleteDistinguishedFolder):
        acc.inbox.delete()
    with pytest.raises(ErrorMoveDistinguishedFolder):
        acc.inbox.move(acc.msg_folder_root / "Archive")
    assert isdir(ews_server.store, "INBOX", "cur")
    for bad in ("a/b", ".hidden"):
        with pytest.raises(ErrorInvalidRequest):
            Folder(parent=acc.inbox, name=bad).save()
    archive = acc.msg_folder_root / "Archive"
    child = archive / "2024"
    with pytest.raises(Exception):
        archive.move(child)      # into its own subtree
    assert isdir(ews_server.store, "Archive", "2024", "cur")
    gone = Folder(parent=acc.inbox, name="Gone")
    gone.save()
    gone_id = gone.id
    gone.delete()
    from exchangelib.properties import FolderId
    from exchangelib.services import DeleteFolder
    with pytest.raises(ErrorFolderNotFound):
        DeleteFolder(account=acc).get(folders=[FolderId(id=gone_id)],
                                      delete_type="HardDelete")


def test_empty_folder(ews_server):
    from exchangelib import Folder
    store = ews_server.store
    for n in range(3):
        put_message(store, "Archive", "170000000%d.M%dP1.h" % (n, n),
                    make_message("m%d" % n), "S")
    acc = account(ews_server)
    archive = acc.msg_folder_root / "Archive"
    archive.empty()
    assert os.listdir(os.path.join(store, "Archive", "cur")) == []
    assert isdir(store, "Archive", "2024")
    archive.empty(delete_sub_folders=True)
    assert not isdir(store, "Archive", "2024")
    assert isdir(store, "Archive", "cur")
    del Folder


def test_hierarchy_sync_sees_rename_as_update(ews_server):
    from exchangelib import Folder
    acc = account(ews_server)
    f = Folder(parent=acc.msg_folder_root, name="Old")
    f.save()
    list(acc.root.sync_hierarchy())
    state = acc.root.folder_sync_state
    f.name = "New"
    f.save(update_fields=["name"])
    changes = list(acc.root.sync_hierarchy(sync_state=state))
    assert [(k, c.name, c.id) for k, c in changes] == [
        ("update", "New", f.id)]
