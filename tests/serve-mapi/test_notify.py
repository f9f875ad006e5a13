"""`mailfs serve --mapi`: notifications.  RopRegisterNotification on the
Inbox, a NotificationWait (on a connection of its own, as a client sends
it) that ends when a file is delivered into the Maildir, the RopNotify
entries the next Execute carries (the events 07-notifications.json
records a real server sending), a wait that times out, other events,
a registration released, and the server stopping during a wait."""

import os
import shutil
import threading
import time

import ics_client as ic
from conftest import Client, check_log, eml_file

NEW_MAIL, CREATED, DELETED, MODIFIED = 0x02, 0x04, 0x08, 0x10
ALL = 0x7E
TAG_FLAGS = 0x0E070003


def nwait(server, cookies, out):
    """A NotificationWait on its own connection; out gets (reply or
    the exception, seconds it took)."""
    c = Client(server)
    start = time.monotonic()
    try:
        reply = c.post(ic.PATH, ic.headers("NotificationWait"),
                       ic.fw.u32(0) + ic.fw.u32(0), cookies=dict(cookies))
        out.append((reply, time.monotonic() - start))
    except OSError as e:
        out.append((e, time.monotonic() - start))
    finally:
        c.close()


def pending(reply):
    assert reply.header("X-ResponseCode") == "0"
    rd = ic.fw.Rd(reply.binary())
    status, error, flag, aux = rd.u32(), rd.u32(), rd.u32(), rd.u32()
    assert (status, error, aux, rd.left()) == (0, 0, 0, 0)
    return flag


def registered(server, types=ALL):
    sess = ic.Session(server)
    res, handles = sess.execute(ic.register(types),
                                [sess.logon, ic.NO_HANDLE])
    assert res[0]["rv"] == 0
    return sess, handles[1]


def deliver(store, name="1800000000.m15.test"):
    tmp = os.path.join(store, "INBOX", "tmp", name)
    shutil.copyfile(eml_file("15-"), tmp)
    os.rename(tmp, os.path.join(store, "INBOX", "new", name))


def test_wait_ends_on_delivery(mapi_server):
    sess, h = registered(mapi_server)
    out = []
    t = threading.Thread(target=nwait, args=(mapi_server, sess.c.cookies,
                                             out))
    t.start()
    time.sleep(1.0)
    assert not out        # still waiting: nothing happened yet
    deliver(mapi_server.store)
    t.join(10)
    reply, took = out[0]
    assert pending(reply) == 1
    assert 0.9 < took < 4.5
    # the next Execute, with no ROP, carries the events
    res, _ = sess.execute(b"", [sess.logon])
    kinds = [(r["handle"], r["flags"]) for r in res]
    assert kinds == [(h, 0x8004), (h, 0x3010), (h, 0x8002)]
    created, folder, new = res
    assert created["fid"] == folder["fid"] == new["fid"] == ic.INBOX
    assert created["mid"] == new["mid"] and created["tags"] == []
    assert (folder["total"], folder["unread"]) == (13, 12)
    assert new["class"] == "IPM.Note" and new["unicode"] == 0
    assert new["message_flags"] & 0x1 == 0
    # told once: the Execute after has none
    res, _ = sess.execute(b"", [sess.logon])
    assert res == []
    # the new message's id is the one a contents download gives it
    stream, _ = ic.download(sess)
    changes = ic.contents_sync(stream)[0]
    assert ic.counter(changes[0]["header"][0x674A0014]) == \
        ic.counter(created["mid"])
    sess.close()


def test_wait_times_out(mapi_server):
    sess, _ = registered(mapi_server)
    out = []
    nwait(mapi_server, sess.c.cookies, out)
    reply, took = out[0]
    assert pending(reply) == 0
    assert 4.5 < took < 9
    res, _ = sess.execute(b"", [sess.logon])
    assert res == []
    sess.close()


def test_flags_and_removal(mapi_server):
    store = mapi_server.store
    sess, h = registered(mapi_server, DELETED | MODIFIED)
    cur = os.path.join(store, "INBOX", "cur")
    names = sorted(os.listdir(cur))
    os.rename(os.path.join(cur, names[0]), os.path.join(cur, names[0] + "S"))
    os.unlink(os.path.join(cur, names[1]))
    out = []
    nwait(mapi_server, sess.c.cookies, out)
    assert pending(out[0][0]) == 1 and out[0][1] < 2
    res, _ = sess.execute(b"", [sess.logon])
    flags = sorted(r["flags"] for r in res)
    assert flags == [0x3010, 0x8008, 0x8010]
    by = {r["flags"]: r for r in res}
    assert by[0x8010]["tags"] == [TAG_FLAGS]
    assert by[0x8010]["mid"] != by[0x8008]["mid"]
    assert (by[0x3010]["total"], by[0x3010]["unread"]) == (11, 9)
    # NewMail and ObjectCreated were not asked for
    deliver(store)
    res, _ = sess.execute(b"", [sess.logon])
    assert [r["flags"] for r in res] == [0x3010]
    # released: nothing more
    sess.execute(ic.release(0), [h])
    deliver(store, "1800000001.m16.test")
    res, _ = sess.execute(b"", [sess.logon])
    assert res == []
    sess.close()


def test_whole_store(mapi_server):
    sess = ic.Session(mapi_server)
    res, handles = sess.execute(ic.register(NEW_MAIL, whole=True),
                                [sess.logon, ic.NO_HANDLE])
    assert res[0]["rv"] == 0
    proj = os.path.join(mapi_server.store, "INBOX", "Projects", "new")
    shutil.copyfile(eml_file("15-"), os.path.join(proj, "1800000002.x"))
    res, _ = sess.execute(b"", [sess.logon])
    assert len(res) == 1 and res[0]["flags"] == 0x8002
    assert res[0]["fid"] != ic.INBOX
    sess.close()


def test_stop_during_wait(mapi_server):
    sess, _ = registered(mapi_server)
    out = []
    t = threading.Thread(target=nwait, args=(mapi_server, sess.c.cookies,
                                             out))
    t.start()
    time.sleep(0.5)
    start = time.monotonic()
    rc = mapi_server.stop()
    assert time.monotonic() - start < 2.5
    t.join(5)
    assert out and out[0][1] < 3
    sess.close()
    check_log(mapi_server, rc)
