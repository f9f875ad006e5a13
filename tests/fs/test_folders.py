"""Folders: mkdir, nested mkdir, rename, rmdir."""

import errno
import os
import subprocess

import pytest

from conftest import (assert_errno, contents_of, deliver, make_message,
                      message_files, read_file, wait_until)


def _is_maildir(root):
    return all(os.path.isdir(os.path.join(root, s)) for s in ("cur", "new", "tmp"))


def test_mkdir_makes_maildir(mfs):
    os.mkdir(mfs.m("Work"))
    assert _is_maildir(mfs.m("Work")), os.listdir(mfs.m("Work"))
    assert "Work" in os.listdir(mfs.mnt)
    assert wait_until(lambda: _is_maildir(mfs.s("Work"))), \
        "store has no Work/{cur,new,tmp}"


def test_mkdir_nested(mfs):
    os.makedirs(mfs.m("Archive", "2024"))
    assert _is_maildir(mfs.m("Archive", "2024"))
    assert "2024" in os.listdir(mfs.m("Archive"))
    assert wait_until(lambda: _is_maildir(mfs.s("Archive", "2024")))
    # A message delivered into the sub-folder lands in the store's sub-folder.
    data = make_message(20)
    deliver(mfs.m("Archive", "2024"), data)
    assert wait_until(lambda: data in contents_of(mfs.s("Archive", "2024")))


def test_rename_folder_with_messages(mfs):
    os.mkdir(mfs.m("Work"))
    msgs = [make_message(i, size=3000) for i in range(5)]
    for data in msgs:
        deliver(mfs.m("Work"), data, subdir="cur", flags="S")
    assert wait_until(lambda: len(message_files(mfs.s("Work"))) == 5)

    os.rename(mfs.m("Work"), mfs.m("Projects"))

    top = os.listdir(mfs.mnt)
    assert "Projects" in top and "Work" not in top
    assert contents_of(mfs.m("Projects")) == set(msgs)
    assert wait_until(lambda: contents_of(mfs.s("Projects")) == set(msgs)), \
        "store Projects/ lacks the messages"
    assert wait_until(lambda: not os.path.exists(mfs.s("Work"))), \
        "store still has Work/"


def test_rename_folder_into_subfolder(mfs):
    os.mkdir(mfs.m("Old"))
    os.mkdir(mfs.m("Archive"))
    data = make_message(21)
    deliver(mfs.m("Old"), data)
    os.rename(mfs.m("Old"), mfs.m("Archive", "Old"))
    assert data in contents_of(mfs.m("Archive", "Old"))
    assert wait_until(lambda: data in contents_of(mfs.s("Archive", "Old")))
    assert wait_until(lambda: not os.path.exists(mfs.s("Old")))


def test_rmdir_empty_folder(mfs):
    os.mkdir(mfs.m("Scratch"))
    assert wait_until(lambda: _is_maildir(mfs.s("Scratch")))
    os.rmdir(mfs.m("Scratch"))
    assert "Scratch" not in os.listdir(mfs.mnt)
    assert wait_until(lambda: not os.path.exists(mfs.s("Scratch"))), \
        "store still has Scratch/"


def test_rmdir_nonempty_folder_fails(mfs):
    os.mkdir(mfs.m("Keep"))
    data = make_message(22)
    deliver(mfs.m("Keep"), data, subdir="cur", flags="S")
    with pytest.raises(OSError) as exc:
        os.rmdir(mfs.m("Keep"))
    assert_errno(exc, errno.ENOTEMPTY)
    assert data in contents_of(mfs.m("Keep"))
    assert wait_until(lambda: data in contents_of(mfs.s("Keep")))


def test_mkdir_cur_inside_inbox_fails_harmlessly(mfs):
    # INBOX/cur already exists as the Maildir's cur/, so a folder named "cur"
    # inside INBOX cannot be made: mkdir fails with EEXIST and the existing
    # cur/ keeps its messages, on the mount and in the store.
    before_mount = message_files(mfs.m("INBOX"))
    before_store = message_files(mfs.s("INBOX"))
    data = make_message(23)
    deliver(mfs.m("INBOX"), data, subdir="cur", flags="S")
    assert wait_until(lambda: data in contents_of(mfs.s("INBOX")))

    with pytest.raises(OSError) as exc:
        os.mkdir(mfs.m("INBOX", "cur"))
    assert_errno(exc, errno.EEXIST)

    assert data in contents_of(mfs.m("INBOX"))
    assert len(message_files(mfs.m("INBOX"))) == len(before_mount) + 1
    assert data in contents_of(mfs.s("INBOX"))
    assert len(message_files(mfs.s("INBOX"))) == len(before_store) + 1
    for sub, name in message_files(mfs.m("INBOX")):
        assert read_file(mfs.m("INBOX", sub, name)) == \
            read_file(mfs.s("INBOX", sub, name))
    assert not os.path.exists(mfs.s("INBOX", "cur", "cur"))


def test_rm_r_removes_folder_with_messages_and_subfolders(mfs):
    os.makedirs(mfs.m("Old", "Sub"))
    deliver(mfs.m("Old"), make_message(40), subdir="cur", flags="S")
    deliver(mfs.m("Old", "Sub"), make_message(41))
    r = subprocess.run(["rm", "-r", mfs.m("Old")], capture_output=True)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(mfs.m("Old"))
    assert wait_until(lambda: not os.path.exists(mfs.s("Old")))


def test_rmdir_of_cur_with_messages_fails(mfs):
    data = make_message(42)
    deliver(mfs.m("INBOX"), data, subdir="cur", flags="S")
    with pytest.raises(OSError) as exc:
        os.rmdir(mfs.m("INBOX", "cur"))
    assert_errno(exc, errno.ENOTEMPTY)
    assert data in contents_of(mfs.m("INBOX"))
