"""Flags by rename, xattrs, moves between folders, deletion."""

import os

from conftest import (base_of, contents_of, deliver, fill_store, flags_of,
                      mail_tree, make_message, maildir_name, message_files,
                      message_id_of, read_file, tree_diff, wait_until)


def _xattr(path, name):
    return os.getxattr(path, name).decode("utf-8").rstrip("\0")


def _store_has(fs, folder, sub, name):
    return wait_until(lambda: name in os.listdir(fs.s(folder, sub)))


def _store_lacks(fs, folder, sub, name):
    return wait_until(lambda: name not in os.listdir(fs.s(folder, sub)))


def test_flags_by_rename_within_cur(mfs):
    data = make_message(10)
    old = deliver(mfs.m("INBOX"), data, subdir="cur", flags="S")
    name = os.path.basename(old)
    assert _store_has(mfs, "INBOX", "cur", name)
    new_name = base_of(name) + ":2,FS"
    os.rename(old, mfs.m("INBOX", "cur", new_name))

    listing = os.listdir(mfs.m("INBOX", "cur"))
    assert new_name in listing and name not in listing
    assert read_file(mfs.m("INBOX", "cur", new_name)) == data
    assert _xattr(mfs.m("INBOX", "cur", new_name), "user.mail.flags") == "FS"

    assert _store_has(mfs, "INBOX", "cur", new_name), \
        "store file not renamed to %s" % new_name
    assert _store_lacks(mfs, "INBOX", "cur", name)
    assert read_file(mfs.s("INBOX", "cur", new_name)) == data


def test_flags_cleared_by_rename(mfs):
    data = make_message(11)
    old = deliver(mfs.m("INBOX"), data, subdir="cur", flags="FRS")
    name = os.path.basename(old)
    new_name = base_of(name) + ":2,"
    os.rename(old, mfs.m("INBOX", "cur", new_name))
    assert _xattr(mfs.m("INBOX", "cur", new_name), "user.mail.flags") == ""
    assert _store_has(mfs, "INBOX", "cur", new_name)
    assert _store_lacks(mfs, "INBOX", "cur", name)


def test_new_to_cur_sets_seen(mfs):
    data = make_message(12)
    name = maildir_name("mda")
    path = deliver(mfs.m("INBOX"), data, name=name)
    assert _store_has(mfs, "INBOX", "new", name)
    cur_name = name + ":2,S"
    os.rename(path, mfs.m("INBOX", "cur", cur_name))

    assert name not in os.listdir(mfs.m("INBOX", "new"))
    assert cur_name in os.listdir(mfs.m("INBOX", "cur"))
    assert read_file(mfs.m("INBOX", "cur", cur_name)) == data
    assert _xattr(mfs.m("INBOX", "cur", cur_name), "user.mail.flags") == "S"

    assert _store_has(mfs, "INBOX", "cur", cur_name)
    assert _store_lacks(mfs, "INBOX", "new", name)
    assert read_file(mfs.s("INBOX", "cur", cur_name)) == data


def test_xattrs_on_message(mfs):
    data = make_message(13)
    msgid = message_id_of(data)
    path = deliver(mfs.m("INBOX"), data, subdir="cur", flags="RS")
    names = os.listxattr(path)
    for want in ("user.mail.flags", "user.mail.message-id", "user.mail.id"):
        assert want in names, "listxattr lacks %s: %r" % (want, names)
    assert _xattr(path, "user.mail.flags") == "RS"
    assert msgid.strip("<>") in _xattr(path, "user.mail.message-id")
    stable_id = _xattr(path, "user.mail.id")
    assert stable_id

    # The stable id does not change when the flags do.
    renamed = mfs.m("INBOX", "cur", base_of(os.path.basename(path)) + ":2,FRS")
    os.rename(path, renamed)
    assert _xattr(renamed, "user.mail.id") == stable_id
    assert _xattr(renamed, "user.mail.flags") == "FRS"
    assert msgid.strip("<>") in _xattr(renamed, "user.mail.message-id")


def test_move_between_folders(mailfs_factory):
    fs = mailfs_factory()
    fill_store(fs.store, "Archive", 2)
    fill_store(fs.store, "INBOX", 3)
    fs.mount()
    data = make_message(14, size=50000)
    src = deliver(fs.m("INBOX"), data, subdir="cur", flags="S")
    name = os.path.basename(src)
    assert wait_until(lambda: data in contents_of(fs.s("INBOX")))

    os.rename(src, fs.m("Archive", "cur", name))

    assert data not in contents_of(fs.m("INBOX"))
    assert data in contents_of(fs.m("Archive"))
    moved = [n for s, n in message_files(fs.m("Archive"))
             if read_file(fs.m("Archive", s, n)) == data]
    assert len(moved) == 1
    assert flags_of(moved[0]) == "S"

    assert wait_until(lambda: data in contents_of(fs.s("Archive"))), \
        "moved message not in store Archive/"
    assert wait_until(lambda: data not in contents_of(fs.s("INBOX"))), \
        "moved message still in store INBOX/"
    assert len(message_files(fs.s("INBOX"))) == 3
    assert len(message_files(fs.s("Archive"))) == 3
    a, b = mail_tree(fs.mnt), mail_tree(fs.store)
    assert a == b, tree_diff(a, b)


def test_unlink_deletes(mfs):
    data = make_message(15)
    path = deliver(mfs.m("INBOX"), data, subdir="cur", flags="S")
    name = os.path.basename(path)
    assert _store_has(mfs, "INBOX", "cur", name)
    os.unlink(path)
    assert name not in os.listdir(mfs.m("INBOX", "cur"))
    assert not os.path.exists(path)
    assert _store_lacks(mfs, "INBOX", "cur", name), "store file not deleted"
    assert data not in contents_of(mfs.s("INBOX"))
