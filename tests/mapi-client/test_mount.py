"""A type = mapi account mounted for real against tests/harness/fakemapi.py,
which answers with a real server's recorded bytes: Autodiscover gives the
endpoint and the user's LegacyDN, the folder list comes from the IPM
subtree's hierarchy table, INBOX from the recorded ICS download, and every
message read through the mount says what the original .eml said (compared
with Python's email package, not as bytes: the messages are rendered from
MAPI properties)."""

import email
import email.policy
import email.utils
import glob
import hashlib
import importlib.util
import os
import subprocess

import pytest

from conftest import PASSWORD, USER, USER_DN
from fakemapi_wire import (open_rpc_ext, parse_execute, parse_rops,
                           split_payload)
from test_message import taught  # noqa: F401  (a fixture)

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
EML = os.path.join(TESTS, "data", "mapi-traces", "eml")
MAILFS = os.environ.get("MAILFS", os.path.join(
    os.environ.get("MAILFS_BUILD", os.path.join(TESTS, "..", "build")),
    "mailfs"))


def _load(name, *parts):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(TESTS, *parts))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


mount_mod = _load("mailfs_mount_mapic", "harness", "mailfs_mount.py")
mount_factory = mount_mod.imap_mount_factory

# the Inbox as 02/03/08 recorded it: messages 01 to 12
INBOX_EML = sorted(glob.glob(os.path.join(EML, "[01][0-9]-*.eml")))[:12]
TAG_FID = 0x67480014
TAG_CONTAINER_CLASS = 0x3613001F
INBOX_FID = 0x0D00000000000001


def inbox_only(fake):
    """The recordings hold the content of one mail folder, the Inbox (its
    ICS download in 08, its contents table in 03): no other mail folder
    can be listed, and a first mount lists every folder it shows (the
    contacts and calendars too: the recorded client opened none of their
    items).  So the fake's mailbox is trimmed to the folders whose
    content it can give: the Inbox, and the folders of classes the
    backend leaves out (tasks, notes, journal)."""
    st = fake.store
    inbox = INBOX_FID.to_bytes(8, "little")
    for ident, table in list(st.rows.items()):
        count = st.counts.get(ident)
        if ident[0] != "table" or not count or TAG_FID not in \
                table.get(0, {}):
            continue
        rows = [table[i] for i in range(count)]

        def shown(row):
            v = row.get(TAG_CONTAINER_CLASS)
            if not v or v[0] != "v":
                return True
            return v[1].decode("utf-16-le").rstrip("\0").startswith(
                ("IPF.Note", "IPF.Contact", "IPF.Appointment"))
        keep = [r for r in rows if r[TAG_FID][1] == inbox or not shown(r)]
        st.rows[ident] = dict(enumerate(keep))
        st.counts[ident] = len(keep)


def config(base, url, account="mapi", **extra):
    pw = mount_mod.write_password_file(os.path.join(base, "mapi-password"),
                                       PASSWORD)
    keys = {"type": "mapi", "url": url, "allow_plaintext": True,
            "user": USER, "password_file": pw, "poll_interval": 600,
            "timeout": 10}
    keys.update(extra)
    return mount_mod.write_mailfs_config(os.path.join(base, "mapi-config"),
                                         account, keys)


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return None
    return "\n".join(line.rstrip() for line in
                     part.get_content().replace("\r\n", "\n").split("\n")
                     ).strip()


def attachments_of(msg):
    out = {}
    for part in msg.walk():
        if part.is_multipart():
            continue
        disp = part.get_content_disposition()
        name = part.get_filename()
        if disp == "attachment" or (name and disp == "inline"):
            out[name or part.get_content_type()] = \
                part.get_payload(decode=True)
    return out


def addresses(msg, field):
    return sorted(a.lower() for _, a in
                  email.utils.getaddresses(msg.get_all(field, [])))


def names(fs, folder):
    out = []
    for sub in ("cur", "new"):
        d = fs.m(folder, sub)
        if os.path.isdir(d):
            out += [os.path.join(sub, n) for n in os.listdir(d)]
    return sorted(out)


def read_folder(fs, folder):
    """{name: bytes}, each file read with cat; its stat size checked."""
    got = {}
    for n in names(fs, folder):
        path = fs.m(folder, n)
        size = os.stat(path).st_size
        data = subprocess.run(["cat", path], check=True,
                              capture_output=True).stdout
        assert size == len(data), (n, size, len(data))
        got[n] = data
    return got


@pytest.fixture
def mounted(fake, mount_factory, tmp_path):
    inbox_only(fake)
    fs = mount_factory(config(str(tmp_path), fake.url), "mapi")
    fs.mount()
    fs.fake = fake
    return fs


def check_inbox(fs, n=12):
    """Every message of INBOX (n of them) read and compared with its
    original; all twelve are there unless n says fewer."""
    got = read_folder(fs, "INBOX")
    assert len(got) == n, sorted(got)
    by_subject = {}
    for data in got.values():
        m = parse(data)
        by_subject[str(m["subject"])] = m
    compared = 0
    for path in INBOX_EML:
        with open(path, "rb") as f:
            want = parse(f.read())
        subject = str(want["subject"])
        if n < 12 and subject not in by_subject:
            continue
        compared += 1
        assert subject in by_subject, (path, sorted(by_subject))
        m = by_subject[subject]
        assert addresses(m, "from") == addresses(want, "from"), path
        assert addresses(m, "to") == addresses(want, "to"), path
        assert addresses(m, "cc") == addresses(want, "cc"), path
        assert email.utils.parsedate_to_datetime(m["date"]) == \
            email.utils.parsedate_to_datetime(want["date"]), path
        if want.get_body(preferencelist=("plain",)) is not None:
            assert text_of(m) == text_of(want), path
        wanted = attachments_of(want)
        have = attachments_of(m)
        for name, data in wanted.items():
            if name.endswith(".eml") or name == "message/rfc822":
                continue
            assert name in have, (path, name, sorted(have))
            assert hashlib.sha256(have[name]).hexdigest() == \
                hashlib.sha256(data).hexdigest(), (path, name)
    assert compared == n, (compared, sorted(by_subject))
    return got


def flags(fs, folder):
    return {n.split(":2,", 1)[0].split("/", 1)[1]: n.split(":2,", 1)[1]
            for n in names(fs, folder)}


def only_documented(fake):
    assert not fake.errors, fake.errors
    assert fake.unanswered == []


def test_folders_and_inbox(mounted):
    fs = mounted
    top = sorted(n for n in os.listdir(fs.mnt) if not n.startswith("."))
    # the contacts and calendars are trimmed away (inbox_only), the
    # server's Outbox is not shown (Outbox/ is the mount's own);
    # Directory/ is the address book
    assert top == ["Directory", "INBOX", "Outbox"] or \
        top == ["Directory", "INBOX"], top
    check_inbox(fs)
    # read state and follow-up flag as the server has them
    by_flags = sorted(flags(fs, "INBOX").values())
    assert by_flags.count("S") == 1, by_flags
    assert by_flags.count("F") == 1, by_flags
    status = open(fs.m(".mailfs", "status")).read()
    assert "mapi" in status, status
    only_documented(fs.fake)


def test_second_mount_starts_from_the_state(mounted):
    fs = mounted
    first = read_folder(fs, "INBOX")
    fs.unmount()
    n_before = len(fs.fake.requests)
    fs.mount()
    second = read_folder(fs, "INBOX")
    assert sorted(second.values()) == sorted(first.values())
    assert sorted(second) == sorted(first)
    # the state the first download ended with went up again: the four
    # state properties, CnsetSeen and IdsetGiven not empty
    sizes = state_uploads(fs.fake.requests[n_before:])
    assert sorted(sizes) == sorted([0x40170003, 0x67960102, 0x67DA0102,
                                    0x67D20102]), sizes
    assert sizes[0x40170003] > 0 and sizes[0x67960102] > 0, sizes
    only_documented(fs.fake)


def state_uploads(requests):
    """{state property: size} of the first SynchronizationUploadState-
    StreamBegin of each property among `requests` (a mount may sync
    again before the test looks, uploading the state of the first)."""
    out = {}
    for kind, _, _, body in requests:
        if kind != "Execute":
            continue
        rops, _ = split_payload(open_rpc_ext(parse_execute(body)[1]))
        for rop in parse_rops(rops):
            if rop["id"] == 0x75:
                out.setdefault(rop["prop"], rop["size"])
    return out


def test_first_mount_uploads_an_empty_state(mounted):
    sizes = state_uploads(mounted.fake.requests)
    assert sizes and all(v == 0 for v in sizes.values()), sizes


@pytest.mark.parametrize("kind", ["drop", "truncated", "code"])
def test_hostile_server_fails_clearly(fake, mount_factory, tmp_path, kind):
    """A server that breaks off, cuts its ROP buffer short or answers with
    an X-ResponseCode: the mount fails with a sentence naming the account's
    server, and the next mount, with the server well, has every message."""
    inbox_only(fake)
    fake.hostile["Execute"] = kind
    fs = mount_factory(config(str(tmp_path), fake.url, timeout=5), "mapi")
    r = fs.mount_fails(timeout=120)
    assert r.returncode != 0
    assert "127.0.0.1" in r.output, r.output[-3000:]
    assert "Traceback" not in r.output
    fake.hostile.clear()
    fs.mount()
    check_inbox(fs)


def test_check(fake, tmp_path):
    inbox_only(fake)
    conf = config(str(tmp_path), fake.url)
    r = subprocess.run([MAILFS, "check", "--config", conf, "mapi"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert USER_DN in r.stdout, r.stdout
    assert "folders" in r.stdout, r.stdout
    conf = config(str(tmp_path), fake.url)
    bad = mount_mod.write_password_file(os.path.join(str(tmp_path), "bad"),
                                        "wrongpw")
    conf = config(str(tmp_path), fake.url, password_file=bad)
    r = subprocess.run([MAILFS, "check", "--config", conf, "mapi"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0, r.stdout
    assert "refused" in (r.stdout + r.stderr).lower(), r.stdout + r.stderr


def test_fetch_without_the_spool(fake, mount_factory, tmp_path):
    """spool_size = 0 keeps nothing of what sync rendered: every read goes
    back to the server, and still gives the bytes whose size sync said."""
    inbox_only(fake)
    fs = mount_factory(config(str(tmp_path), fake.url, spool_size=0),
                       "mapi")
    fs.mount()
    check_inbox(fs)
    only_documented(fake)


def test_a_broken_server_loses_nothing(mounted):
    """After a first mount, a server that breaks off every answer: what
    the mount showed is still there, byte for byte."""
    fs = mounted
    first = read_folder(fs, "INBOX")
    fs.unmount()
    fs.fake.hostile["Execute"] = "drop"
    fs.mount()
    assert read_folder(fs, "INBOX") == first
    fs.fake.hostile.clear()


@pytest.mark.parametrize("key,value,says", [
    ("auth", "kerberos", "auth = kerberos: expected basic, ntlm, "
                         "negotiate or bearer"),
    ("url", "ftp://127.0.0.1", "url = ftp://127.0.0.1: expected"),
    ("allow_plaintext", "false", "http:// sends the password in clear"),
    ("email", "nobody", "email = nobody: expected an address"),
    ("timeout", "0", "timeout"),
])
def test_bad_values_name_the_account_and_key(tmp_path, key, value, says):
    extra = {key: value}
    url = extra.pop("url", "http://127.0.0.1:9")
    conf = config(str(tmp_path), url, **extra)
    r = subprocess.run([MAILFS, "check", "--config", conf, "mapi"],
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    assert says in out, out
    assert "mapi" in out, out


def test_no_url_and_no_email(tmp_path):
    conf = config(str(tmp_path), None)
    r = subprocess.run([MAILFS, "check", "--config", conf, "mapi"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "no url and no email" in r.stdout + r.stderr, r.stdout + r.stderr


@pytest.mark.parametrize("where", ["configure", "first-buffer"])
def test_without_ics_the_contents_table(taught, mount_factory, tmp_path,
                                        where):
    """A server that refuses ICS on a folder, when the download is
    configured or at its first buffer: its messages are listed by the
    contents table and read by OpenMessage (what the recorded server
    gave for them, its ICS stream included, taught to the fake by
    test_message.py's fixture), and still say what their originals
    said, with stat sizes equal to the bytes read."""
    fake = taught
    inbox_only(fake)
    # the recorded download forgotten: SynchronizationConfigure is then
    # answered MAPI_E_NO_SUPPORT, as a server without ICS does; or it is
    # taken and every FastTransferSourceGetBuffer fails
    forget = (0x70, 0x4E) if where == "configure" else (0x4E,)
    for key in [k for k in fake.store.recorded if k[0] in forget]:
        del fake.store.recorded[key]
    if where == "configure":
        fake.store.fx.clear()
    else:
        fake.store.refuse_buffers = True
    # and the Inbox's contents table holds the messages the recorded
    # client opened, the only ones the fake can open again
    st = fake.store
    ident = ("table", 5, ("folder", INBOX_FID), 0)
    rows = [st.rows[ident][i] for i in range(st.counts[ident])]
    rows = [r for r in rows if ("msg", int.from_bytes(
        r[0x674A0014][1], "little")) in st.opened]
    st.rows[ident] = dict(enumerate(rows))
    st.counts[ident] = len(rows)
    assert len(rows) >= 7, len(rows)
    fs = mount_factory(config(str(tmp_path), fake.url, spool_size=0),
                       "mapi")
    fs.mount()
    check_inbox(fs, len(rows))
    flagged = sorted(flags(fs, "INBOX").values())
    assert flagged.count("F") == 1, flagged
    assert not fake.errors, fake.errors
    opened = [r for r in fake.requests if r[0] == "Execute" and any(
        rop["id"] == 0x03 for rop in parse_rops(split_payload(
            open_rpc_ext(parse_execute(r[3])[1]))[0]))]
    assert len(opened) >= len(rows), len(opened)
    if where == "configure":
        # the refused download is the only question left unanswered
        assert fake.unanswered and all("synchronization" in u
                                       for u in fake.unanswered), \
            fake.unanswered
    else:
        assert not fake.unanswered, fake.unanswered


def test_user_dn_spares_autodiscover(fake, mount_factory, tmp_path):
    """With url and user_dn set, Autodiscover is not asked; without
    user_dn (the other tests) it is, once."""
    inbox_only(fake)
    fs = mount_factory(config(str(tmp_path), fake.url, user_dn=USER_DN),
                       "mapi")
    fs.mount()
    assert len(read_folder(fs, "INBOX")) == 12
    kinds = [r[0] for r in fake.requests]
    assert "Autodiscover" not in kinds, kinds
    assert "Connect" in kinds, kinds


def test_autodiscover_is_asked_once(mounted):
    kinds = [r[0] for r in mounted.fake.requests]
    assert kinds.count("Autodiscover") == 1, kinds
