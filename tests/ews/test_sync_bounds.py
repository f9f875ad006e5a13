"""The snapshots behind SyncStates stay bounded on disk: a folder keeps
its last few, the whole store a limited number, and what start finds
beyond the bounds (or left by an older layout or an interrupted write)
goes.  A client that presents a state that went gets
ErrorInvalidSyncStateData, and a sync from scratch gives the folder as it
is, nothing lost or doubled."""

import os
import shutil

import pytest

from conftest import (MAIL_FOLDERS, Server, account, make_maildir,
                      make_message, put_message, serve_conftest)

PER_FOLDER = 8


def snapshots(store):
    """Every snapshot file under the server's sync directory."""
    top = os.path.join(store, ".mailfs-serve", "ews-sync")
    found = []
    for d, _, files in os.walk(top):
        found += [os.path.join(d, f) for f in files]
    return found


def sync(folder, **kw):
    return list(folder.sync_items(only_fields=["subject"], **kw))


@pytest.fixture
def serve_on(workdir):
    """serve_on(store): `mailfs serve --ews` on `store`; stopped, and
    checked for a clean exit, at the end."""
    started = []

    def start(store):
        s = Server(store, workdir, protocols=("ews",))
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            stop_clean(s)


def stop_clean(server):
    rc = server.stop()
    log = server.log()
    assert rc == 0, log
    for marker in serve_conftest.SANITIZER_MARKERS:
        assert marker not in log, log


def new_store(workdir, name="store"):
    store = os.path.join(workdir, name)
    for folder in MAIL_FOLDERS:
        make_maildir(store, folder)
    return store


def test_a_folder_keeps_its_last_states(workdir, serve_on):
    store = new_store(workdir)
    put_message(store, "INBOX", "1700000000.M0P1.h", make_message("m0"))
    acc = account(serve_on(store))
    assert len(sync(acc.inbox)) == 1
    states = [acc.inbox.item_sync_state]
    for n in range(1, 25):
        put_message(store, "INBOX", "17000000%02d.M%dP1.h" % (n, n),
                    make_message("m%d" % n))
        got = sync(acc.inbox, sync_state=states[-1])
        assert [i.subject for _, i in got] == ["m%d" % n]
        states.append(acc.inbox.item_sync_state)
    assert len(snapshots(store)) <= PER_FOLDER
    # the last state and the one before still answer as they did
    assert sync(acc.inbox, sync_state=states[-1]) == []
    again = sync(acc.inbox, sync_state=states[-2])
    assert [i.subject for _, i in again] == ["m24"]


def test_a_dropped_state_is_refused_and_a_full_sync_mends(workdir,
                                                          serve_on):
    from exchangelib.errors import ErrorInvalidSyncStateData
    store = new_store(workdir)
    for n in range(3):
        put_message(store, "INBOX", "17000000%02d.M%dP1.h" % (n, n),
                    make_message("m%d" % n))
    acc = account(serve_on(store))
    sync(acc.inbox)
    first = acc.inbox.item_sync_state
    state = first
    for n in range(3, 3 + PER_FOLDER + 2):
        put_message(store, "INBOX", "17000000%02d.M%dP1.h" % (n, n),
                    make_message("m%d" % n))
        sync(acc.inbox, sync_state=state)
        state = acc.inbox.item_sync_state
    os.unlink(os.path.join(store, "INBOX", "cur", "1700000001.M1P1.h:2,S"))
    with pytest.raises(ErrorInvalidSyncStateData):
        sync(acc.inbox, sync_state=first)
    # exchangelib goes on from the state it holds unless told to forget it
    acc.inbox.item_sync_state = None
    full = sync(acc.inbox)
    subjects = [i.subject for kind, i in full if kind == "create"]
    assert len(full) == len(subjects)
    want = ["m%d" % n for n in range(3 + PER_FOLDER + 2) if n != 1]
    assert sorted(subjects) == sorted(want)
    # and from the new state on, as usual
    assert sync(acc.inbox, sync_state=acc.inbox.item_sync_state) == []


def test_the_store_keeps_a_bounded_number(workdir, serve_on, monkeypatch):
    monkeypatch.setenv("MAILFS_TEST_EWS_SYNC_STATES_MAX", "10")
    store = new_store(workdir)
    for folder in MAIL_FOLDERS:
        put_message(store, folder, "1700000000.M0P1.h",
                    make_message("in " + folder))
    acc = account(serve_on(store))
    folders = [acc.inbox] + [acc.msg_folder_root / f for f in
                             ("Sent", "Trash", "Drafts", "Archive")]
    for _ in range(4):
        for f in folders:
            f.item_sync_state = None  # from scratch: a new state each time
            assert len(sync(f)) == 1
            assert len(snapshots(store)) <= 10
    # the states given last still work
    assert sync(folders[-1], sync_state=folders[-1].item_sync_state) == []


def test_start_cleans_up(workdir, serve_on):
    store = new_store(workdir)
    put_message(store, "INBOX", "1700000000.M0P1.h", make_message("m0"))
    server = serve_on(store)
    acc = account(server)
    sync(acc.inbox)
    state = acc.inbox.item_sync_state
    stop_clean(server)
    (real,) = snapshots(store)
    scope_dir = os.path.dirname(real)
    top = os.path.dirname(scope_dir)
    # what an older layout and an interrupted write left
    junk = [os.path.join(top, "s-" + "ab" * 16),
            os.path.join(top, ".tmp-s-" + "cd" * 16),
            os.path.join(scope_dir, ".tmp-s-" + "ef" * 16)]
    for path in junk:
        shutil.copy(real, path)
    # more of the folder's snapshots than are kept, all older than `real`
    old = os.stat(real).st_mtime - 100
    for n in range(2 * PER_FOLDER):
        path = os.path.join(scope_dir, "s-%032x" % n)
        shutil.copy(real, path)
        os.utime(path, (old - n, old - n))
    acc = account(serve_on(store))
    assert not [p for p in junk if os.path.exists(p)]
    assert len(snapshots(store)) == PER_FOLDER
    assert os.path.exists(real)
    assert sync(acc.inbox, sync_state=state) == []
