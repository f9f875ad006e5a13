"""Writes through a type = carddav / caldav mount reach the server through
the write-back journal: a new file is a PUT with If-None-Match: *, an edit
a PUT with If-Match, rm a DELETE with If-Match; a file the server changed
meanwhile keeps both versions: the server's in place, ours in
sync-issues/ with the reason."""

import os

from conftest import FilterProxy, card, event, wait_for


def names(srv, coll):
    return sorted(h.rsplit("/", 1)[1] for h in srv.members(coll))


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_radicale_cards(radicale, dav_mount):
    srv, coll = radicale, radicale.work
    fs = dav_mount(srv, "carddav").mount()
    d = fs.m("Work people")
    # new
    write(os.path.join(d, "new.vcf"), card(200))
    fs.flush()
    assert "new.vcf" in names(srv, coll)
    body = srv.get(coll + "new.vcf")[0]
    assert b"UID:card-200" in body
    # the bytes written stay the file's until the server's size differs
    # (docs/ARCHITECTURE.md, the path of a write): Radicale writes the
    # card again in its own order, at the same size
    got = read(os.path.join(d, "new.vcf"))
    assert got in (body, card(200))
    assert os.stat(os.path.join(d, "new.vcf")).st_size == len(got)
    # edit
    write(os.path.join(d, "new.vcf"), card(200, "NOTE:edited\r\n"))
    fs.flush()
    assert b"NOTE:edited" in srv.get(coll + "new.vcf")[0]
    # rm
    os.unlink(os.path.join(d, "new.vcf"))
    fs.flush()
    assert "new.vcf" not in names(srv, coll)
    fs.unmount()


def test_radicale_conflict(radicale, dav_mount):
    srv, coll = radicale, radicale.calendar
    # the mount learns nothing of the server's change before its own
    # edit goes (no listing answered meanwhile): its edit is of the
    # version it read
    proxy = FilterProxy(srv)
    fs = dav_mount(proxy, "caldav").mount()
    d = fs.m("Work")
    assert read(os.path.join(d, "e1.ics")) == srv.get(coll + "e1.ics")[0]
    # the server's copy changes, then ours
    _, etag = srv.get(coll + "e1.ics")
    proxy.hold_listing = True
    srv.put(coll + "e1.ics", event(1, "Moved by someone else"), etag=etag)
    write(os.path.join(d, "e1.ics"), event(1, "Moved by us"))
    r = fs.flush(check=False)
    proxy.hold_listing = False
    theirs = srv.get(coll + "e1.ics")[0]
    assert b"Moved by someone else" in theirs
    # the bytes and their .reason, which is written after them
    kept = wait_for(lambda: (lambda k: len(k) >= 2 and any(
        p.endswith(".reason") for p in k) and k)(_issues(fs)),
        what="sync-issues")
    assert kept, r
    ours = [read(p) for p in kept if not p.endswith(".reason")]
    assert any(b"Moved by us" in b for b in ours)
    reasons = [read(p) for p in kept if p.endswith(".reason")]
    assert any(b"412" in b for b in reasons), reasons
    # the folder is read again whole, and the server's item is there
    wait_for(lambda: "e1.ics" in os.listdir(d), what="e1.ics again")
    fs.unmount()
    proxy.stop()


def _issues(fs):
    d = os.path.join(fs.cache, "sync-issues")
    if not os.path.isdir(d):
        return []
    return [os.path.join(d, n) for n in os.listdir(d)]
