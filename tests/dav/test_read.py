"""Mounts of type = carddav and type = caldav accounts against real
Radicale and Xandikos: every collection a folder named by its
displayname, every card and event a file whose bytes are what the
server's GET gives and whose size stat says before any read; a change
made on the server (a new item, an edit of one read already, a
removal) reaches the mount at the next poll."""

import os

import pytest

from conftest import card, event, wait_for


def ls(path):
    return sorted(n for n in os.listdir(path) if not n.startswith("."))


def server_files(srv, coll):
    """name -> bytes of every member of collection `coll`."""
    out = {}
    for href in srv.members(coll):
        out[href.rsplit("/", 1)[1]] = srv.get(href)[0]
    return out


def check_folder(fs, folder, srv, coll):
    want = server_files(srv, coll)
    d = fs.m(folder)
    assert ls(d) == sorted(want)
    for name, body in want.items():
        st = os.stat(os.path.join(d, name))
        with open(os.path.join(d, name), "rb") as f:
            got = f.read()
        assert got == body, name
        assert st.st_size == len(got), name


@pytest.mark.parametrize("kind", ["carddav", "caldav"])
def test_radicale(radicale, dav_mount, kind):
    fs = dav_mount(radicale, kind).mount()
    if kind == "carddav":
        assert ls(fs.mnt) == ["Friends", "Work people"]
        check_folder(fs, "Friends", radicale, radicale.friends)
        check_folder(fs, "Work people", radicale, radicale.work)
        coll, folder, new, body = (radicale.friends, "Friends", "n1.vcf",
                                   card(50))
    else:
        assert ls(fs.mnt) == ["Work"]
        check_folder(fs, "Work", radicale, radicale.calendar)
        coll, folder, new, body = (radicale.calendar, "Work", "n1.ics",
                                   event(50))
    # a change on the server reaches the mount at the next poll
    radicale.put(coll + new, body, create=True)
    wait_for(lambda: os.path.exists(fs.m(folder, new)), what=new)
    check_folder(fs, folder, radicale, coll)
    # so does an edit of an item the mount has read, of the same size
    edited = body.replace(b" 50", b" 51")  # the same UID
    assert edited != body and len(edited) == len(body)
    radicale.put(coll + new, edited)
    want = radicale.get(coll + new)[0]

    def shows_edit():
        with open(fs.m(folder, new), "rb") as f:
            return f.read() == want
    wait_for(shows_edit, what="the edit of " + new)
    check_folder(fs, folder, radicale, coll)
    radicale.delete(coll + new)
    wait_for(lambda: not os.path.exists(fs.m(folder, new)), what="gone")
    fs.unmount()


def test_xandikos(xandikos, dav_mount):
    """Xandikos: no getcontentlength, a supported-report-set of its own
    form, and no authentication (the password is sent and not asked)."""
    srv = xandikos
    fs = dav_mount(srv, "carddav").mount()
    folders = ls(fs.mnt)
    assert len(folders) == 1
    check_folder(fs, folders[0], srv, srv.addressbook)
    srv.put(srv.addressbook + "x1.vcf", card(77), create=True)
    wait_for(lambda: os.path.exists(fs.m(folders[0], "x1.vcf")),
             what="x1.vcf")
    check_folder(fs, folders[0], srv, srv.addressbook)
    fs.unmount()
    fs = dav_mount(srv, "caldav").mount()
    folders = ls(fs.mnt)
    assert len(folders) == 1
    check_folder(fs, folders[0], srv, srv.calendar)
    fs.unmount()

