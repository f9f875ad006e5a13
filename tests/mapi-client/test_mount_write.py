"""A type = mapi account mounted for real and changed through the mount:
against `mailfs serve --mapi` on a store made of the recorded mailbox's
messages (tests/serve-mapi/conftest.py's), the live peer; the changes
(rm, flag renames, mv, cp, mkdir, rmdir, rename of a folder, a new
message) are checked in the server's store, and the mount shows them.
Messages are compared with Python's email package, not byte for byte:
the mount renders them from MAPI properties."""

import contextlib
import email
import email.policy
import email.utils
import os
import shutil
import subprocess
import sys

import pytest

from conftest import load_module

HERE = os.path.dirname(os.path.abspath(__file__))


_load = load_module


mount_mod = _load("mailfs_mount_mapiw", "harness", "mailfs_mount.py")
mount_factory = mount_mod.imap_mount_factory
serve_mapi = _load("mailfs_serve_mapi_conftest_w", "serve-mapi",
                   "conftest.py")
wait_until = serve_mapi.wait_until


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return None
    return "\n".join(line.rstrip() for line in
                     part.get_content().replace("\r\n", "\n").split("\n")
                     ).strip()


def meaning(data):
    """What a message says, as far as a rendering from MAPI keeps it."""
    m = parse(data)
    return (str(m["Subject"]), str(m["Message-ID"]), text_of(m),
            sorted(a.lower() for _, a in
                   email.utils.getaddresses(m.get_all("To", []))))


def files(d):
    """{name: path} of a Maildir folder's messages (cur and new)."""
    out = {}
    for sub in ("cur", "new"):
        for n in os.listdir(os.path.join(d, sub)) \
                if os.path.isdir(os.path.join(d, sub)) else []:
            out[n] = os.path.join(d, sub, n)
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def by_subject(d):
    """{Subject: path}; a file renamed meanwhile (new/ to cur/ when a
    sync says the server's flags) is passed over."""
    out = {}
    for p in files(d).values():
        try:
            out[str(parse(read(p))["Subject"])] = p
        except FileNotFoundError:
            pass
    return out


@contextlib.contextmanager
def mounted(tmp_path, mount_factory, shape=None):
    """The served store (changed by shape(store) first), mounted."""
    store = str(tmp_path / "store")
    serve_mapi.build_store(store)
    if shape:
        shape(store)
    server = serve_mapi.Server(store, str(tmp_path), protocols=("mapi",))
    pw = mount_mod.write_password_file(str(tmp_path / "mapi-password"),
                                       serve_mapi.PASSWORD)
    keys = {"type": "mapi",
            "url": "http://127.0.0.1:%d" % server.port["mapi"],
            "allow_plaintext": True, "user": serve_mapi.USER,
            "password_file": pw, "poll_interval": 600, "timeout": 20}
    cfg = mount_mod.write_mailfs_config(str(tmp_path / "mapi-config"),
                                        "mapi", keys)
    fs = mount_factory(cfg, "mapi")
    fs.mount()
    fs.store = store
    yield fs
    fs.unmount()
    serve_mapi.check_log(server, server.stop())


@pytest.fixture
def live(tmp_path, mount_factory):
    with mounted(tmp_path, mount_factory) as fs:
        yield fs


def test_inbox_reads_back_as_the_store_holds_it(live):
    got = files(live.m("INBOX"))
    assert len(got) == 12
    want = sorted(meaning(read(p)) for p in
                  files(os.path.join(live.store, "INBOX")).values())
    seen = []
    for n, p in got.items():
        data = subprocess.run(["cat", p], check=True,
                              capture_output=True).stdout
        assert os.stat(p).st_size == len(data)
        seen.append(meaning(data))
    assert sorted(seen) == want
    # 11 is the one read message of the store
    read_ones = [n for n in got if ":2," in n and "S" in n.split(":2,")[1]]
    assert len(read_ones) == 1


def test_flags_reach_the_store(live):
    inbox = live.m("INBOX")
    subj = serve_mapi_subject("01-")
    path = by_subject(inbox)[subj]
    name = os.path.basename(path)
    base = name.split(":2,")[0]
    # S only: the server takes RopSetReadFlags; F needs SetProperties on
    # a message, which it does not take yet
    os.rename(path, os.path.join(inbox, "cur", base + ":2,S"))
    live.flush()

    def flags_in_store():
        for n, p in files(os.path.join(live.store, "INBOX")).items():
            if str(parse(read(p))["Subject"]) == subj:
                return n.split(":2,")[1] if ":2," in n else ""
    assert wait_until(lambda: flags_in_store() == "S"), flags_in_store()
    assert by_subject(inbox)[subj].endswith(":2,S")


def test_rm_removes_from_the_store(live):
    inbox = live.m("INBOX")
    subj = serve_mapi_subject("02-")
    os.unlink(by_subject(inbox)[subj])
    live.flush()
    assert wait_until(lambda: subj not in by_subject(
        os.path.join(live.store, "INBOX")))
    assert subj not in by_subject(inbox)
    assert len(files(inbox)) == 11


def test_mv_into_another_folder(live):
    inbox = live.m("INBOX")
    projects = live.m("INBOX", "Projects")
    moved = serve_mapi_subject("03-")
    src = by_subject(inbox)[moved]
    want = meaning(read(src))
    shutil.move(src, os.path.join(projects, "cur"))
    live.flush()
    store_inbox = os.path.join(live.store, "INBOX")
    store_projects = os.path.join(live.store, "INBOX", "Projects")
    assert wait_until(lambda: moved in by_subject(store_projects))
    assert moved not in by_subject(store_inbox)
    assert moved not in by_subject(inbox)
    shown = by_subject(projects)[moved]
    data = read(shown)
    assert os.stat(shown).st_size == len(data)
    assert meaning(data) == want


def flush_or_skip_creation(fs):
    """`mailfs flush`; skips the test while the server does not take
    RopCreateMessage (answered MAPI_E_NO_SUPPORT, 0x80040102)."""
    r = fs.flush(check=False)
    if r.returncode != 0 and "CreateMessage failed (error 0x80040102)" \
            in r.stderr:
        pytest.skip("mailfs serve --mapi does not take RopCreateMessage")
    assert r.returncode == 0, r.stderr


def test_new_and_copied_messages_are_stored_and_sized_as_read(live):
    """A message written into a folder and one copied there (`cp`) are
    stored by the server; what the mount then shows is the server's
    rendering, its stat size that of the bytes read."""
    inbox = live.m("INBOX")
    projects = live.m("INBOX", "Projects")
    src = serve_mapi.eml_file("05-")
    new = meaning(read(src))
    shutil.copyfile(src, os.path.join(projects, "new", "1.fresh.test"))
    copied = serve_mapi_subject("04-")
    path = by_subject(inbox)[copied]
    want_copied = meaning(read(path))
    shutil.copy(path, os.path.join(projects, "cur"))
    flush_or_skip_creation(live)
    store_projects = os.path.join(live.store, "INBOX", "Projects")
    assert wait_until(lambda: new[0] in by_subject(store_projects) and
                      copied in by_subject(store_projects))
    assert meaning(read(by_subject(store_projects)[new[0]])) == new
    assert copied in by_subject(os.path.join(live.store, "INBOX"))
    # the server's messages are all in cur/ once the folder is synced
    assert wait_until(lambda: all(
        "/cur/" in by_subject(projects).get(x, "")
        for x in (new[0], copied)))
    shown = by_subject(projects)
    for subj, want in ((new[0], new), (copied, want_copied)):
        data = subprocess.run(["cat", shown[subj]], check=True,
                              capture_output=True).stdout
        assert os.stat(shown[subj]).st_size == len(data)
        assert meaning(data) == want


def test_folders_made_renamed_and_removed(live):
    os.mkdir(live.m("Archive"))
    live.flush()
    assert wait_until(lambda: os.path.isdir(
        os.path.join(live.store, "Archive")))
    os.rename(live.m("Archive"), live.m("Old"))
    live.flush()
    assert wait_until(lambda: os.path.isdir(os.path.join(live.store, "Old"))
                      and not os.path.exists(
                          os.path.join(live.store, "Archive")))
    assert os.path.isdir(live.m("Old"))
    os.rmdir(live.m("Old"))
    live.flush()
    assert wait_until(lambda: not os.path.exists(
        os.path.join(live.store, "Old")))
    assert not os.path.exists(live.m("Old"))


def serve_mapi_subject(prefix):
    return str(parse(read(serve_mapi.eml_file(prefix)))["Subject"])




def test_directory_lookups(live):
    """Directory/ is the server's address book (NSPI): nothing listed,
    a name found by its address, and names by a prefix."""
    assert "Directory" in os.listdir(live.mnt)
    assert os.listdir(live.m("Directory")) == []
    card = read(live.m("Directory", "bob@example.test.vcf")).decode()
    assert "BEGIN:VCARD" in card and "Bob Sender" in card
    assert "bob@example.test" in card
    assert sorted(os.listdir(live.m("Directory", "Bo*"))) == \
        ["bob@example.test.vcf"]
    with pytest.raises(FileNotFoundError):
        read(live.m("Directory", "nobody@example.test.vcf"))
    with pytest.raises(OSError):
        os.mkdir(live.m("Directory", "sub"))


def test_a_change_in_the_store_shows_without_a_remount(live):
    """The server's notification (a file put into its store's Inbox)
    reaches the watcher, which makes the mount look again."""
    inbox = live.m("INBOX")
    assert len(files(inbox)) == 12
    src = serve_mapi.eml_file("05-")
    subj = str(parse(read(src))["Subject"])
    os.unlink(by_subject(inbox)[subj])
    live.flush()
    assert len(files(inbox)) == 11
    tmp = os.path.join(live.store, "INBOX", "tmp", "outside.test")
    shutil.copyfile(src, tmp)
    os.rename(tmp, os.path.join(live.store, "INBOX", "new", "outside.test"))
    # poll_interval is 600 s: only a notification can bring it this soon
    assert wait_until(lambda: subj in by_subject(inbox), timeout=30)


# ---- against the recordings' server (fakemapi.py with fakewrite.py) ----

PLAIN = 0x0000030000000001          # 01 Plain ASCII message, unread
HTML_ONLY = 0x0200030000000001      # 03 HTML only message
TAG_FLAG_STATUS = 0x10900003
TAG_MSG_FLAGS = 0x0E070003


def _folder_of_folders(store):
    """Lists/ holds only Lists/debian: a directory with no Maildir of its
    own, as IMAP's \\Noselect folders are kept."""
    src = files(os.path.join(store, "INBOX"))
    name = sorted(src)[0]
    deb = os.path.join(store, "Lists", "debian")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(deb, sub))
    shutil.copyfile(src[name], os.path.join(deb, "cur", name))


def test_a_folder_holding_only_folders(tmp_path, mount_factory):
    with mounted(tmp_path, mount_factory, _folder_of_folders) as fs:
        assert len(files(fs.m("INBOX"))) == 12
        assert os.path.isdir(fs.m("Lists"))
        assert files(fs.m("Lists")) == {}
        got = files(fs.m("Lists", "debian"))
        assert len(got) == 1
        want = files(os.path.join(fs.store, "Lists", "debian"))
        assert [meaning(read(p)) for p in got.values()] == \
            [meaning(read(p)) for p in want.values()]


@pytest.fixture
def recorded(tmp_path, mount_factory):
    sys.path.insert(0, HERE)
    import fakewrite
    from conftest import PASSWORD, USER
    from test_mount import config, inbox_only
    f = fakewrite.FakeWriteMAPI(user=USER, password=PASSWORD)
    inbox_only(f)
    fs = mount_factory(config(str(tmp_path), f.url), "mapi")
    fs.mount()
    fs.fake = f
    yield fs
    fs.unmount()
    f.stop()


def _file_of(fs, mid):
    for n, p in files(fs.m("INBOX")).items():
        if n.startswith("%016x" % mid):
            return p
    raise KeyError(hex(mid))


def test_flags_and_rm_reach_the_recorded_server(recorded):
    fs = recorded
    path = _file_of(fs, PLAIN)
    base = os.path.basename(path).split(":2,")[0]
    os.rename(path, os.path.join(fs.m("INBOX"), "cur", base + ":2,FS"))
    os.unlink(_file_of(fs, HTML_ONLY))
    fs.flush()
    w = fs.fake.store.w
    assert HTML_ONLY not in w.msgs
    props = w.msgs[PLAIN].props
    assert int.from_bytes(props[TAG_FLAG_STATUS], "little") == 2
    shown = {n.split(":2,")[0]: n.split(":2,")[1] if ":2," in n else ""
             for n in files(fs.m("INBOX"))}
    assert "%016x" % HTML_ONLY not in shown
    assert shown["%016x" % PLAIN] == "FS", shown
    assert fs.fake.errors == []
    assert fs.fake.unanswered == []
