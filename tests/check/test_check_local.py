"""`mailfs check` of local stores (type = local)."""

import os

from conftest import run_check
from dovecot import write_mailfs_config


def maildir(root, *path):
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, *path, sub), exist_ok=True)


def local_config(tmp_path, store):
    return write_mailfs_config(str(tmp_path / "mailfs.conf"), "archive",
                               {"type": "local", "store": store})


def test_local_ok(tmp_path):
    store = str(tmp_path / "store")
    maildir(store, "INBOX")
    maildir(store, "Archive")
    maildir(store, "Archive", "2024")
    before = sorted(os.walk(store))
    r = run_check(local_config(tmp_path, store), "archive")
    assert r.code == 0, r
    assert r.names() == ["config", "store", "folders"], r
    assert store in r.step("config")[1], r
    st, text, _ = r.step("folders")
    assert st == "ok" and text.startswith("3 folders (3 mail"), r
    # a check writes nothing into the store
    assert sorted(os.walk(store)) == before


def test_local_missing_store(tmp_path):
    store = str(tmp_path / "nowhere")
    r = run_check(local_config(tmp_path, store), "archive")
    assert r.code == 1, r
    st, text, fix = r.step("store")
    assert st == "FAIL" and store in text and "No such file" in text, r
    assert "store =" in fix, r
    assert not os.path.exists(store)


def test_local_store_not_a_directory(tmp_path):
    store = str(tmp_path / "file")
    open(store, "w").close()
    r = run_check(local_config(tmp_path, store), "archive")
    assert r.code == 1, r
    st, text, _ = r.step("store")
    assert st == "FAIL" and store in text and "not a directory" in text, r


def test_local_unwritable_store(tmp_path):
    if os.geteuid() == 0:
        # permissions do not stop root; /proc/1 takes no new files
        store = "/proc/1"
    else:
        store = str(tmp_path / "ro")
        os.mkdir(store, 0o555)
    r = run_check(local_config(tmp_path, store), "archive")
    assert r.code == 1, r
    st, text, fix = r.step("store")
    assert st == "FAIL" and store in text and "not writable" in text, r
    assert "store =" in fix, r
