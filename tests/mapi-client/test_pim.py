"""A type = mapi account's contacts and calendar folders, mounted for
real against `mailfs serve --mapi` on the store of tests/serve-mapi/
(two vCards in Contacts, one iCalendar object in Calendar): the mount
shows each contact as a .vcf and each appointment as an .ics file that
say what the store's files say, sized exactly, the same bytes at every
read; the mail folders are as before.

The files are compared in meaning, not byte for byte: the server turns
the store's files into MAPI properties and the mount renders them back,
each side by the codec of protocols/wire/mapi-pim.h."""

import contextlib
import datetime
import os
import json
import re
import subprocess
import sys
import zoneinfo

import pytest

from conftest import load_module

HERE = os.path.dirname(os.path.abspath(__file__))


_load = load_module


mount_mod = _load("mailfs_mount_mapip", "harness", "mailfs_mount.py")
mount_factory = mount_mod.imap_mount_factory
serve_mapi = _load("mailfs_serve_mapi_conftest_p", "serve-mapi",
                   "conftest.py")

ID_NAME = re.compile(r"^[0-9a-f]{16}\.(vcf|ics)$")


# ---- a small reader of vCard and iCalendar lines (RFC 6350 3.2,
# RFC 5545 3.1), apart from the C code it checks ----

def unfold(data):
    text = data.decode("utf-8")
    text = text.replace("\r\n", "\n")
    return re.sub(r"\n[ \t]", "", text).split("\n")


def unescape(v):
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out.append("\n" if v[i + 1] in "nN" else v[i + 1])
            i += 2
        else:
            out.append(v[i])
            i += 1
    return "".join(out)


def split_unescaped(v, sep):
    parts, cur, i = [], [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            cur.append(v[i:i + 2])
            i += 2
        elif v[i] == sep:
            parts.append("".join(cur))
            cur = []
            i += 1
        else:
            cur.append(v[i])
            i += 1
    parts.append("".join(cur))
    return parts


def content_lines(data):
    """[(NAME, {PARAM: value}, value)] of the unfolded lines."""
    out = []
    for line in unfold(data):
        if not line:
            continue
        head, _, value = line.partition(":")
        # a quoted parameter value may hold ':'; none of ours does
        name, *params = head.split(";")
        p = {}
        for x in params:
            k, _, v = x.partition("=")
            p[k.upper()] = v
        # a group prefix (item1.EMAIL) is not the property's name
        out.append((name.split(".")[-1].upper(), p, value))
    return out


def cards(data):
    """Each vCard of `data` as {NAME: [(params, value)]}."""
    out, cur = [], None
    for name, p, v in content_lines(data):
        if name == "BEGIN" and v.upper() == "VCARD":
            cur = {}
        elif name == "END" and v.upper() == "VCARD":
            out.append(cur)
            cur = None
        elif cur is not None:
            cur.setdefault(name, []).append((p, v))
    return out


def card_meaning(card):
    """What the test compares of a vCard: FN, the N components, the
    addresses, the telephone numbers (digits and '+'), the ORG's name."""
    def one(name):
        vals = card.get(name, [])
        return vals[0][1] if vals else None

    n = one("N")
    org = one("ORG")
    return {
        "FN": unescape(one("FN") or ""),
        "N": tuple(unescape(x) for x in split_unescaped(n, ";")[:2])
        if n is not None else None,
        "EMAIL": sorted(unescape(v).lower() for _, v in card.get("EMAIL",
                                                                  [])),
        "TEL": sorted(re.sub(r"[^0-9+]", "", unescape(v))
                      for _, v in card.get("TEL", [])),
        "ORG": unescape(split_unescaped(org, ";")[0])
        if org is not None else None,
    }


def instant(params, value):
    """An iCalendar DATE-TIME (UTC, with TZID, or floating taken as UTC)
    or DATE as an aware datetime."""
    if "T" not in value:
        d = datetime.datetime.strptime(value, "%Y%m%d")
        return d.replace(tzinfo=datetime.timezone.utc)
    utc = value.endswith("Z")
    d = datetime.datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    if utc:
        return d.replace(tzinfo=datetime.timezone.utc)
    tz = params.get("TZID")
    return d.replace(tzinfo=zoneinfo.ZoneInfo(tz.strip('"')) if tz
                     else datetime.timezone.utc)


def events(data):
    """The VEVENTs of an iCalendar object as {NAME: (params, value)},
    and the names of the components at its top."""
    lines = content_lines(data)
    assert lines[0][0] == "BEGIN" and lines[0][2].upper() == "VCALENDAR", \
        data[:200]
    assert lines[-1][0] == "END" and lines[-1][2].upper() == "VCALENDAR", \
        data[-200:]
    out, cur, depth = [], None, 0
    for name, p, v in lines:
        if name == "BEGIN":
            depth += 1
            if v.upper() == "VEVENT":
                cur = {}
            continue
        if name == "END":
            depth -= 1
            if v.upper() == "VEVENT":
                out.append(cur)
                cur = None
            continue
        if cur is not None and name not in cur:
            cur[name] = (p, v)
    assert depth == 0
    return out


def event_meaning(ev):
    return {
        "SUMMARY": unescape(ev["SUMMARY"][1]),
        "DTSTART": instant(*ev["DTSTART"]),
        "DTEND": instant(*ev["DTEND"]),
        "LOCATION": unescape(ev["LOCATION"][1]) if "LOCATION" in ev
        else None,
        "UID": unescape(ev["UID"][1]),
    }


# ---- the mount ----

def read(path):
    with open(path, "rb") as f:
        return f.read()


@contextlib.contextmanager
def mounted(tmp_path, mount_factory, **extra):
    store = str(tmp_path / "store")
    serve_mapi.build_store(store)
    server = serve_mapi.Server(store, str(tmp_path), protocols=("mapi",))
    pw = mount_mod.write_password_file(str(tmp_path / "mapi-password"),
                                       serve_mapi.PASSWORD)
    keys = {"type": "mapi",
            "url": "http://127.0.0.1:%d" % server.port["mapi"],
            "allow_plaintext": True, "user": serve_mapi.USER,
            "password_file": pw, "poll_interval": 600, "timeout": 20}
    keys.update(extra)
    cfg = mount_mod.write_mailfs_config(str(tmp_path / "mapi-config"),
                                        "mapi", keys)
    fs = mount_factory(cfg, "mapi")
    fs.mount()
    fs.store = store
    try:
        yield fs
    finally:
        fs.unmount()
        serve_mapi.check_log(server, server.stop())


@pytest.fixture
def live(tmp_path, mount_factory):
    with mounted(tmp_path, mount_factory) as fs:
        yield fs


def files_in(d, suffix):
    return sorted(os.path.join(d, n) for n in os.listdir(d)
                  if n.endswith(suffix))


def store_cards(store):
    out = []
    for p in files_in(os.path.join(store, "Contacts"), ".vcf"):
        out += cards(read(p))
    return sorted((card_meaning(c) for c in out), key=lambda m: m["FN"])


def store_events(store):
    out = []
    for p in files_in(os.path.join(store, "Calendar"), ".ics"):
        out += events(read(p))
    return sorted((event_meaning(e) for e in out), key=lambda m: m["UID"])


def check_sized_and_stable(path):
    """stat's size is the bytes read, and a second read (by another
    program) gives the same bytes."""
    first = read(path)
    assert os.stat(path).st_size == len(first), path
    again = subprocess.run(["cat", path], check=True,
                           capture_output=True).stdout
    assert again == first, path
    return first


def check_contacts(fs):
    d = fs.m("Contacts")
    names = sorted(os.listdir(d))
    assert len(names) == 2, names
    assert all(ID_NAME.match(n) and n.endswith(".vcf") for n in names), \
        names
    got = []
    for n in names:
        data = check_sized_and_stable(os.path.join(d, n))
        cs = cards(data)
        assert len(cs) == 1, data
        assert cs[0]["VERSION"][0][1] in ("3.0", "4.0"), data
        got.append(card_meaning(cs[0]))
    assert sorted(got, key=lambda m: m["FN"]) == store_cards(fs.store)


def check_calendar(fs):
    d = fs.m("Calendar")
    names = sorted(os.listdir(d))
    assert len(names) == 1, names
    assert ID_NAME.match(names[0]) and names[0].endswith(".ics"), names
    data = check_sized_and_stable(os.path.join(d, names[0]))
    evs = events(data)
    assert len(evs) == 1, data
    assert [event_meaning(evs[0])] == store_events(fs.store)


def test_the_store_says_what_the_test_compares(tmp_path):
    """The comparison is not empty: the store's files carry every field
    the mount's are compared on."""
    store = str(tmp_path / "store")
    serve_mapi.build_store(store)
    cs = store_cards(store)
    assert [c["FN"] for c in cs] == ["Bob Sender", "Erin External"]
    assert all(c["N"] and c["EMAIL"] and c["TEL"] and c["ORG"]
               for c in cs), cs
    evs = store_events(store)
    assert len(evs) == 1 and evs[0]["SUMMARY"] == "Team sync"
    assert evs[0]["LOCATION"] == "Room 1"
    assert evs[0]["DTEND"] - evs[0]["DTSTART"] == \
        datetime.timedelta(hours=1)


def test_contacts_are_vcards_as_the_store_holds_them(live):
    check_contacts(live)


def test_appointments_are_icalendar_as_the_store_holds_them(live):
    check_calendar(live)


def test_folders_and_mail_as_before(live):
    top = sorted(n for n in os.listdir(live.mnt) if not n.startswith("."))
    for want in ("Calendar", "Contacts", "Directory", "INBOX"):
        assert want in top, top
    # the contacts and calendar folders hold files, not Maildirs
    for folder in ("Contacts", "Calendar"):
        for sub in ("cur", "new", "tmp"):
            assert not os.path.exists(live.m(folder, sub))
    inbox = [os.path.join(live.m("INBOX", sub), n)
             for sub in ("cur", "new")
             for n in os.listdir(live.m("INBOX", sub))]
    assert len(inbox) == 12
    for p in inbox:
        data = read(p)
        assert os.stat(p).st_size == len(data)
        assert b"\r\n\r\n" in data or b"\n\n" in data
        assert not data.startswith(b"BEGIN:")


def test_read_again_from_the_server(tmp_path, mount_factory):
    """spool_size = 0 keeps nothing of what sync rendered: each read
    downloads the folder again and renders the item anew, to the bytes
    whose size the sync reported."""
    with mounted(tmp_path, mount_factory, spool_size=0) as fs:
        check_contacts(fs)
        check_calendar(fs)


def test_remount_keeps_the_names(tmp_path, mount_factory):
    """A second mount (from the sync state the first one kept) shows the
    same files with the same bytes."""
    with mounted(tmp_path, mount_factory) as fs:
        first = {n: read(os.path.join(fs.m("Contacts"), n))
                 for n in os.listdir(fs.m("Contacts"))}
        first.update({n: read(os.path.join(fs.m("Calendar"), n))
                      for n in os.listdir(fs.m("Calendar"))})
        fs.unmount()
        fs.mount()
        again = {n: read(os.path.join(fs.m("Contacts"), n))
                 for n in os.listdir(fs.m("Contacts"))}
        again.update({n: read(os.path.join(fs.m("Calendar"), n))
                      for n in os.listdir(fs.m("Calendar"))})
        assert again == first


# ---- writing: a .vcf or .ics written on the mount is stored ----

CAROL = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol New\r\n"
         b"N:New;Carol;;;\r\nORG:Fresh GmbH\r\n"
         b"EMAIL;TYPE=INTERNET:carol@fresh.test\r\n"
         b"TEL;TYPE=WORK,VOICE:+49 89 7654321\r\nEND:VCARD\r\n")

LUNCH = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
         b"BEGIN:VEVENT\r\nUID:lunch-0002@example.test\r\n"
         b"DTSTAMP:20261207T000000Z\r\nDTSTART:20261211T120000Z\r\n"
         b"DTEND:20261211T130000Z\r\nSUMMARY:Lunch\r\n"
         b"LOCATION:Canteen\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def mount_cards(fs):
    d = fs.m("Contacts")
    out = []
    for n in sorted(os.listdir(d)):
        if n.endswith(".vcf"):
            data = read(os.path.join(d, n))
            size = os.stat(os.path.join(d, n)).st_size
            out += [dict(card_meaning(c), size=size == len(data))
                    for c in cards(data)]
    return sorted(out, key=lambda m: m["FN"])


def mount_events(fs):
    d = fs.m("Calendar")
    out = []
    for n in sorted(os.listdir(d)):
        if n.endswith(".ics"):
            data = read(os.path.join(d, n))
            size = os.stat(os.path.join(d, n)).st_size
            out += [dict(event_meaning(e), size=size == len(data))
                    for e in events(data)]
    return sorted(out, key=lambda m: m["UID"])


def sized(items):
    """What mount_cards and mount_events give for `items` when every
    file's stat size is the bytes read."""
    return [dict(x, size=True) for x in items]


def settles(fn, want, timeout=30):
    """Whether fn() comes to equal `want`.  Until the sync after a write
    reached the mount, a written file may show with the size of the bytes
    written and the server's rendering cut to it (the cache keeps the
    written size until then), which does not parse: not settled yet.  The
    last value is asserted equal by the caller."""
    def now():
        try:
            return fn()
        except (AssertionError, KeyError, ValueError,
                UnicodeDecodeError):
            return None
    return serve_mapi.wait_until(lambda: now() == want, timeout=timeout)


def test_a_new_contact_and_event_are_stored(live):
    with open(os.path.join(live.m("Contacts"), "carol.vcf"), "wb") as f:
        f.write(CAROL)
    with open(os.path.join(live.m("Calendar"), "lunch.ics"), "wb") as f:
        f.write(LUNCH)
    live.flush()
    cs = store_cards(live.store)
    assert [c["FN"] for c in cs] == ["Bob Sender", "Carol New",
                                     "Erin External"]
    assert [c for c in cs if c["FN"] == "Carol New"] == \
        [card_meaning(cards(CAROL)[0])]
    evs = store_events(live.store)
    assert [e["UID"] for e in evs] == ["appt-0001@example.test",
                                       "lunch-0002@example.test"]
    assert evs[1] == event_meaning(events(LUNCH)[0])
    # the mount shows what the server has, each file sized as read
    settles(lambda: mount_cards(live), sized(cs))
    assert mount_cards(live) == sized(cs)
    settles(lambda: mount_events(live), sized(evs))
    assert mount_events(live) == sized(evs)


def test_a_contact_written_over_is_replaced(live):
    d = live.m("Contacts")
    bob = [n for n in os.listdir(d)
           if card_meaning(cards(read(os.path.join(d, n)))[0])["FN"] ==
           "Bob Sender"]
    assert len(bob) == 1
    data = read(os.path.join(d, bob[0]))
    assert b"+49 30 1234567" in data
    with open(os.path.join(d, bob[0]), "wb") as f:
        f.write(data.replace(b"+49 30 1234567", b"+49 30 7777777"))
    live.flush()
    cs = store_cards(live.store)
    assert [c["FN"] for c in cs] == ["Bob Sender", "Erin External"], cs
    assert cs[0]["TEL"] == ["+49307777777"]
    settles(lambda: mount_cards(live), sized(cs))
    assert mount_cards(live) == sized(cs)


def test_not_a_vcard_is_refused(live):
    path = os.path.join(live.m("Contacts"), "junk.vcf")
    with pytest.raises(OSError):
        with open(path, "wb") as f:
            f.write(b"this is no vCard\r\n")
    assert [c["FN"] for c in store_cards(live.store)] == \
        ["Bob Sender", "Erin External"]


# ---- the contents table's way: each item read by OpenMessage ----

def probe(server, *commands):
    sys.path.insert(0, HERE)
    from conftest import probe_path
    url = "http://127.0.0.1:%d" % server.port["mapi"]
    p = subprocess.run([probe_path(), url, serve_mapi.USER,
                        serve_mapi.PASSWORD] + list(commands),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


def rows(lines):
    return [json.loads(x) for x in lines if x.startswith("{")]


@pytest.fixture
def served(tmp_path):
    store = str(tmp_path / "store")
    serve_mapi.build_store(store)
    server = serve_mapi.Server(store, str(tmp_path), protocols=("mapi",))
    server.store = store
    yield server
    serve_mapi.check_log(server, server.stop())


@pytest.mark.parametrize("kind", ["contacts", "calendar"])
def test_items_read_by_openmessage(served, tmp_path, kind):
    """Where a server refuses ICS, a sync lists the folder by its
    contents table and reads each item by OpenMessage with
    RopGetPropertiesAll and the ids of RopGetPropertyIdsFromNames: the
    same meaning as the store's files, the same bytes at each read."""
    folder = "Contacts" if kind == "contacts" else "Calendar"
    tree = {r["name"]: r for r in rows(probe(served, "hierarchy"))}
    fid = str(tree[folder]["fid"])
    mids = [r["mid"] for r in rows(probe(served, "list", fid))]
    assert len(mids) == (2 if kind == "contacts" else 1), mids
    got = []
    for mid in mids:
        outs = [str(tmp_path / ("%s-%d" % (mid, k))) for k in (1, 2)]
        lines = probe(served, "fetch-pim", fid, mid, kind, outs[0],
                      "fetch-pim", fid, mid, kind, outs[1])
        data = read(outs[0])
        assert read(outs[1]) == data
        assert "size %d" % len(data) in lines
        if kind == "contacts":
            got += [card_meaning(c) for c in cards(data)]
        else:
            got += [event_meaning(e) for e in events(data)]
    if kind == "contacts":
        assert sorted(got, key=lambda m: m["FN"]) == \
            store_cards(served.store)
    else:
        assert got == store_events(served.store)
