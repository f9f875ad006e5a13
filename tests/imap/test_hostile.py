"""The IMAP client against servers that misbehave: the scripted server of
tests/harness/fakeimap.py (plain TCP, tls = none) says what no good server
says, and a real Dovecot stands in for servers without CONDSTORE/QRESYNC.

What every hostile case must give: the operation concerned fails with an
error (EIO for a read of a body; a failed mount with a clear message when it
happens during the first listing), a log line says why, the daemon neither
crashes nor hangs (it exits with status 0 after unmount; a failed mount ends
with status 1, not a signal), its memory stays bounded, and nothing waits
much past the account's timeout (TIMEOUT seconds here).
"""

import base64
import errno
import os
import re
import threading
import time

import pytest

import fakeimap
from fakeimap import HUGE, FakeIMAP, first_time, greeting, mailbox, session
from dovecot import (DEFAULT_USERS, capabilities_without, make_message,
                     running_dovecot)

TIMEOUT = 3                 # the accounts' timeout, seconds
BOUND = 10.0                # how long a failing operation may take
QUICK = 1.5                 # how long ls/stat may take while a fetch hangs
MAX_HWM_KB = 200 * 1024     # the daemon's peak resident memory
SYNC = 15.0                 # seconds a change may take to cross over

MSG = make_message(1, date=1700000000, msgid="<hostile-1@test.example>")
MSG2 = make_message(2, date=1700003600, msgid="<hostile-2@test.example>")
NAME = "V0000000001U0000000001:2,S"     # MSG in INBOX/cur
NAME2 = "V0000000001U0000000002:2,S"
CHUNK = (b"X" * 78 + b"\r\n") * 820


# ---------------------------------------------------------------------------
# Fixtures and helpers

@pytest.fixture
def fake_factory():
    """make(script, **FakeIMAP options) -> a started FakeIMAP; stopped at
    the end of the test, after the mounts (fixtures end in reverse order:
    ask for this one before imap_mount_factory). A script that broke fails
    the test."""
    made = []

    def make(script, **kw):
        kw.setdefault("send_limit", 64 << 20)
        kw.setdefault("max_seconds", 20.0)
        fake = FakeIMAP(script, **kw).start()
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.stop()
    broken = [e for f in made for e in f.errors
              if not isinstance(e, OSError)]
    assert not broken, "a script of the fake server broke: %r" % broken


def make_fs(fake, imap_mount_factory, tmp_path, debug=False, **keys):
    """An ImapMailFS for an account on the fake server (not yet mounted)."""
    keys.setdefault("timeout", TIMEOUT)
    keys.setdefault("poll_interval", 2)
    conf = fake.mailfs_config(str(tmp_path / ("conf%d" % fake.port)), **keys)
    fs = imap_mount_factory(conf, "fake")
    if debug:
        fs.extra_args = ["-d"]
    return fs


def log_of(fs):
    return fs.log_tail(n=10 ** 8)


def wait_for_log(fs, pattern, timeout=5.0):
    """Wait until the daemon's log matches the regex; returns the match."""
    deadline = time.monotonic() + timeout
    while True:
        m = re.search(pattern, log_of(fs))
        if m or time.monotonic() >= deadline:
            assert m, "no log line matching %r; log:\n%s" % (
                pattern, fs.log_tail(4000))
            return m
        time.sleep(0.05)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def read_fails(path, bound=BOUND, code=errno.EIO):
    """Opening and reading `path` fails with `code` within `bound` seconds.
    Returns the seconds it took."""
    t0 = time.monotonic()
    with pytest.raises(OSError) as exc:
        read(path)
    took = time.monotonic() - t0
    assert exc.value.errno == code, "expected %s, got %s" % (
        errno.errorcode[code], exc.value)
    assert took < bound, "the read took %.1f s" % took
    return took


def assert_memory_bounded(fs):
    hwm = fs.vm_hwm_kb()
    assert hwm < MAX_HWM_KB, "the daemon's VmHWM reached %d KiB" % hwm


def assert_failed_mount(fail, *patterns):
    """A failed mount: a clean exit (status 1, no signal), within BOUND
    seconds, bounded memory, the output matching every regex."""
    assert fail.returncode == 1, "exit status %r; output:\n%s" % (
        fail.returncode, fail.output[-4000:])
    assert fail.seconds < BOUND, "the mount took %.1f s to fail" % fail.seconds
    assert fail.maxrss_kb < MAX_HWM_KB, \
        "the daemon's peak RSS reached %d KiB" % fail.maxrss_kb
    for p in patterns:
        assert re.search(p, fail.output), "%r not in the output:\n%s" % (
            p, fail.output[-4000:])


def no_partial_blobs(fs):
    """No half-written body was left in the cache."""
    for root, _, files in os.walk(fs.cache):
        assert not [f for f in files if f.endswith(".part")], root


# ---------------------------------------------------------------------------
# 1. A literal announced as 9223372036854775807 bytes

HUGE_BODY = [("send", b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % HUGE),
             ("send_forever", CHUNK), ("close",)]


def test_huge_literal_in_a_body_read(fake_factory, imap_mount_factory,
                                     tmp_path):
    hook = first_time(HUGE_BODY)
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    assert os.stat(path).st_size == len(MSG)
    read_fails(path)
    assert hook.count == 1
    wait_for_log(fs, r"literal of 9223372036854775807 bytes is over the "
                 r"limit")
    wait_for_log(fs, r"reading INBOX/V0000000001U0000000001")
    assert_memory_bounded(fs)
    # the client hung up at once instead of taking in what came
    assert fake.forever_sent < 32 << 20
    # the next read gets a sane answer and works
    assert read(path) == MSG
    no_partial_blobs(fs)
    fs.unmount()


def test_literal_at_the_limit_in_a_body_read(fake_factory,
                                              imap_mount_factory, tmp_path):
    # 1 GiB is what the client takes as a body; a server that announces that
    # much and streams it must not make the daemon hold it all in memory
    sent = 320 << 20
    hook = first_time([("send", b"* 1 FETCH (UID 1 BODY[] {%d}\r\n"
                        % (1 << 30)), ("send_forever", CHUNK), ("close",)])
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)),
                        send_limit=sent)
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    read_fails(path)
    assert fake.forever_sent == sent
    assert_memory_bounded(fs)
    no_partial_blobs(fs)
    assert read(path) == MSG
    fs.unmount()


def test_huge_literal_in_the_first_listing_of_messages(
        fake_factory, imap_mount_factory, tmp_path):
    fake = fake_factory(session(
        *mailbox({1: MSG}),
        ("expect", rb"UID FETCH 1:\*"),
        ("send", b"* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 10 BODY[] {%d}\r\n"
                 % HUGE),
        ("send_forever", CHUNK), ("close",)))
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"literal of 9223372036854775807 bytes",
                        r"listing .*failed")
    assert fake.forever_sent < 32 << 20


def test_huge_literal_in_the_first_listing_of_folders(
        fake_factory, imap_mount_factory, tmp_path):
    def listing(conn, line, whole):
        if b'"*"' not in line:
            return b'* LIST (\\Noselect) "/" ""\r\n{tag} OK LIST done\r\n'
        return [("send", b'* LIST (\\HasNoChildren) "/" {%d}\r\n' % HUGE),
                ("send_forever", CHUNK), ("close",)]
    fake = fake_factory(session(*mailbox({1: MSG}),
                                ("fallback", "LIST", listing)))
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"literal of 9223372036854775807 bytes",
                        r"listing the folders failed")


# ---------------------------------------------------------------------------
# 2. Parentheses that do not balance

UNBALANCED = {
    "missing-close": b"* 1 FETCH (UID 1 BODY[] {%d}\r\n%s\r\n"
                     b"{tag} OK FETCH completed\r\n" % (len(MSG), MSG),
    "extra-close": b"* 1 FETCH (UID 1 BODY[] {%d}\r\n%s)))\r\n"
                   b"{tag} OK FETCH completed\r\n" % (len(MSG), MSG),
    "openers-only": b"* 1 FETCH ((((UID 1 BODY[] {%d}\r\n%s\r\n"
                    b"{tag} OK FETCH completed\r\n" % (len(MSG), MSG),
    "closer-first": b"* 1 FETCH )UID 1 BODY[] {%d}\r\n%s(\r\n"
                    b"{tag} OK FETCH completed\r\n" % (len(MSG), MSG),
}


@pytest.mark.parametrize("kind", sorted(UNBALANCED))
def test_unbalanced_parens_in_a_body_read(fake_factory, imap_mount_factory,
                                          tmp_path, kind):
    hook = first_time([("send", UNBALANCED[kind])])
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    read_fails(path)
    wait_for_log(fs, r"unreadable response: (missing|unbalanced|unexpected)")
    assert read(path) == MSG
    assert_memory_bounded(fs)
    fs.unmount()


def test_unbalanced_parens_in_the_first_listing_of_messages(
        fake_factory, imap_mount_factory, tmp_path):
    fake = fake_factory(session(
        *mailbox({1: MSG}),
        ("expect", rb"UID FETCH 1:\*"),
        ("send", b"* 1 FETCH (UID 1 FLAGS (\\Seen) RFC822.SIZE 10\r\n"
                 b"{tag} OK FETCH completed\r\n")))
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"unreadable response: missing '\)'",
                        r"listing .*failed")


def test_unbalanced_parens_in_the_first_listing_of_folders(
        fake_factory, imap_mount_factory, tmp_path):
    fake = fake_factory(fakeimap.unbalanced_parens())
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"unreadable response",
                        r"listing the folders failed")


# ---------------------------------------------------------------------------
# 3. Lists nested 10,000 deep

DEPTH = 10000
DEEP = b"(" * DEPTH + b'"text" "plain" NIL NIL NIL "7bit" 1 1' + b")" * DEPTH


def test_deep_nesting_in_a_body_read(fake_factory, imap_mount_factory,
                                     tmp_path):
    hook = first_time([("send", b"* 1 FETCH (UID 1 BODYSTRUCTURE " + DEEP +
                        b" BODY[] {%d}\r\n%s)\r\n{tag} OK FETCH completed\r\n"
                        % (len(MSG), MSG))])
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    read_fails(path)
    wait_for_log(fs, r"unreadable response: lists nested deeper than \d+")
    assert read(path) == MSG
    assert_memory_bounded(fs)
    fs.unmount()


def test_deep_nesting_in_the_first_listing_of_messages(
        fake_factory, imap_mount_factory, tmp_path):
    fake = fake_factory(session(
        *mailbox({1: MSG}),
        ("expect", rb"UID FETCH 1:\*"),
        ("send", b"* 1 FETCH (UID 1 FLAGS " + b"(" * DEPTH + b")" * DEPTH +
                 b" RFC822.SIZE 10)\r\n{tag} OK FETCH completed\r\n")))
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"lists nested deeper than \d+",
                        r"listing .*failed")


def test_deep_nesting_in_the_first_listing_of_folders(
        fake_factory, imap_mount_factory, tmp_path):
    fake = fake_factory(fakeimap.deep_nesting(DEPTH))
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"lists nested deeper than \d+",
                        r"listing the folders failed")


# ---------------------------------------------------------------------------
# 4. Folder names that must not be taken as they are

# (wire name after the delimiter, what it is) on top of the harness's list
MORE_NAMES = [
    (b'"Lists"', "an ordinary folder"),
    (b'"Lists/cur"', "a Maildir subdirectory name inside a mail folder"),
    (b'"Lists/new"', "the same"),
    (b'"INBOX/tmp"', "the same, inside INBOX"),
    (b'"Lists/.."', "'..' inside a folder"),
    (b'"Lists/.mailfs"', "the control directory name, not at the top"),
    (b'".Trash"', "a hidden name at the top, where dot-names are local"),
    (b'"&AOQ-rger"', "modified UTF-7: \u00e4rger"),
    (b'"&AOQ-"', "modified UTF-7: \u00e4 alone"),
    (b'{5}\r\n\x00/../', "a NUL and a climb, as a literal"),
]


def _listing_reply():
    names = fakeimap.HOSTILE_LIST_NAMES + MORE_NAMES
    reply = fakeimap.hostile_list_reply(names)
    return reply.replace(
        b"{tag} OK LIST",
        b'* LIST (\\HasNoChildren) "." "a/b"\r\n'
        b'* LIST (\\HasNoChildren) "." "up.."\r\n{tag} OK LIST')


def test_hostile_folder_names(fake_factory, imap_mount_factory, tmp_path):
    reply = _listing_reply()
    fake = fake_factory(session(
        *mailbox({1: MSG}, folders={b"INBOX": {1: MSG, 2: MSG2}}),
        ("fallback", "LIST", reply),
        ("fallback", "LSUB", reply.replace(b"* LIST", b"* LSUB"))))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    outside = sorted(os.listdir(fs.base))
    top = set(os.listdir(fs.mnt))
    # what each hostile name shows as
    for want in ("INBOX", ".mailfs", "%2E", "%2E%2E", "%2Emailfs",
                 "a%2Fb", "Caf\u00e9", "\u65e5\u672c\u8a9e", "&amp",
                 "\u00e4rger", "\u00e4", "&AOk", "&Jjo!-", "&AC8-", "&AAA-",
                 "%2500", "100%2525", "back\\slash", 'quo"te',
                 "raw\u00e9utf8", "cur", "new", "tmp", "dot", "up",
                 "Lists", "%00", "trail", "x", "a", "%2ETrash"):
        assert want in top, "%r is not listed at the top: %r" % (
            want, sorted(top))
    assert ".Trash" not in top
    assert set(os.listdir(fs.m("Lists"))) == {
        "cur", "new", "tmp", "%63ur", "%6Eew", "%2E%2E", ".mailfs"}
    assert "%74mp" in os.listdir(fs.m("INBOX"))
    assert {"cur", "new", "tmp", "etc"} <= set(os.listdir(fs.m("%2E%2E")))
    assert "sep%2Fwith-slash" in os.listdir(fs.m("dot"))
    # "up.." under the delimiter ".": "up" and two empty components
    assert os.listdir(fs.m("up")) == ["%00"]
    assert os.listdir(fs.m("up", "%00", "%00", "cur")) == [NAME]
    assert "%2E%2E" in os.listdir(fs.m("a"))
    assert {"%00"} <= set(os.listdir(fs.m("trail")))
    # a name with a NUL is left out, with a log line
    every = []
    for root, dirs, files in os.walk(fs.mnt):
        assert os.path.realpath(root).startswith(
            os.path.realpath(fs.mnt)), root
        every.extend(dirs + files)
    assert not [n for n in every if n.startswith("nul")], every
    assert not [n for n in every if "\0" in n or n in (".", "..")]
    wait_for_log(fs, r"a folder name with a NUL byte is not shown")
    # nothing appeared beside the mount, in the cache or in the store
    assert sorted(os.listdir(fs.base)) == outside
    for root, dirs, files in os.walk(fs.cache):
        for n in dirs + files:
            assert os.path.realpath(os.path.join(root, n)).startswith(
                os.path.realpath(fs.cache))
    # the rest of the folders work, and each maps back to its server name
    assert sorted(os.listdir(fs.m("INBOX", "cur"))) == [NAME, NAME2]
    assert read(fs.m("INBOX", "cur", NAME2)) == MSG2
    for path, server in [(("%2E%2E",), b".."),
                         (("%2E%2E", "etc"), b"../etc"),
                         (("Lists", "%63ur"), b"Lists/cur"),
                         (("dot", "sep%2Fwith-slash"), b"dot.sep/with-slash"),
                         (("a%2Fb",), b"a/b"),
                         (("%2Emailfs",), b".mailfs"),
                         (("%2ETrash",), b".Trash"),
                         (("%2500",), b"%00"),
                         (("Caf\u00e9",), b"Caf&AOk-"),
                         (("\u00e4rger",), b"&AOQ-rger")]:
        cur = fs.m(*path, "cur")
        assert os.listdir(cur) == [NAME], path
        assert read(os.path.join(cur, NAME)) == MSG, path
        # the exact server name went back to the server
        assert [c for c in fake.commands if re.search(
            rb'^\S+ SELECT "?' + re.escape(server) + rb'"?( |$)', c)], \
            (path, server)
    # the control directory is still the mount's own
    assert "status" in os.listdir(fs.m(".mailfs"))
    fs.unmount()


# ---------------------------------------------------------------------------
# 5. A reply cut short, then the connection closed

TRUNCATED = [("send", b'* 1 FETCH (UID 1 FLAGS (\\Se'), ("close",)]


def test_truncated_reply_in_a_body_read(fake_factory, imap_mount_factory,
                                        tmp_path):
    hook = first_time(TRUNCATED)
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    read_fails(path)
    wait_for_log(fs, r"the server closed the connection in the middle of a "
                 r"response")
    assert read(path) == MSG
    no_partial_blobs(fs)
    fs.unmount()


def test_truncated_reply_in_the_first_listing_of_messages(
        fake_factory, imap_mount_factory, tmp_path):
    fake = fake_factory(session(*mailbox({1: MSG}),
                                ("expect", rb"UID FETCH 1:\*"), *TRUNCATED))
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"in the middle of a response",
                        r"listing .*failed")


def test_truncated_reply_in_the_first_listing_of_folders(
        fake_factory, imap_mount_factory, tmp_path):
    fake = fake_factory(fakeimap.truncated_then_close())
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"in the middle of a response",
                        r"listing the folders failed")


# ---------------------------------------------------------------------------
# 6. The connection lost in the middle of a literal

def test_disconnect_in_a_literal(fake_factory, imap_mount_factory, tmp_path):
    half = len(MSG) // 2
    hook = first_time([
        ("send", b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % len(MSG) + MSG[:half]),
        ("close",)])
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    read_fails(path)
    wait_for_log(fs, r"the server closed the connection in the middle of a "
                 r"response")
    no_partial_blobs(fs)
    # the server is good again: the whole message, never the half
    assert read(path) == MSG
    assert os.stat(path).st_size == len(MSG)
    assert hook.count == 2
    fs.unmount()


# ---------------------------------------------------------------------------
# 7. An untagged BYE in the middle

BYE = b"* BYE [UNAVAILABLE] Server shutting down\r\n"


def test_bye_in_a_body_read(fake_factory, imap_mount_factory, tmp_path):
    hook = first_time([("send", BYE), ("close",)])
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    read_fails(path)
    wait_for_log(fs, r"the server closes the connection: Server shutting "
                 r"down")
    assert read(path) == MSG
    fs.unmount()


def test_bye_on_an_idle_connection(fake_factory, imap_mount_factory,
                                   tmp_path):
    # the mount's first connection says BYE once the first listing is done;
    # the next read must not notice beyond a new connection
    def script(index):
        if index == 0:
            return session(*mailbox({1: MSG}),
                           ("expect", rb"UID FETCH 1:\*"), ("answer",),
                           ("send", BYE), ("close",))
        return session(*mailbox({1: MSG}))
    fake = fake_factory(script)
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    wait_for_log(fs, r"the server closes the connection: Server shutting "
                 r"down", timeout=BOUND)
    path = fs.m("INBOX", "cur", NAME)
    assert read(path) == MSG
    fs.unmount()


def test_bye_in_the_first_listing(fake_factory, imap_mount_factory,
                                  tmp_path):
    fake = fake_factory(session(*mailbox({1: MSG}),
                                ("expect", rb"UID FETCH 1:\*"),
                                ("send", BYE), ("close",)))
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"the server closes the connection: Server "
                        r"shutting down", r"listing .*failed")


def test_completion_for_a_tag_never_sent(fake_factory, imap_mount_factory,
                                        tmp_path):
    # a tagged completion nobody waits for, then the real answer
    hook = first_time([("send", b"ZZZ9 OK [ALERT] nobody asked for this\r\n" +
                        fakeimap.fetch_response(1, 1, MSG,
                                                items=b"UID BODY.PEEK[]") +
                        b"{tag} OK FETCH completed\r\n")])
    fake = fake_factory(session(*mailbox({1: MSG}, on_body=hook)))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME)
    try:
        assert read(path) == MSG
    except OSError as e:
        # taking it as a broken connection is fine too
        assert e.errno == errno.EIO
        assert read(path) == MSG
    assert hook.count >= 1
    # the connection that kept the stray line is closed at unmount
    fs.unmount()


# ---------------------------------------------------------------------------
# 8. Servers that stop answering

SILENT = {
    "no-greeting": [("hang",)],
    "greeting-only": [greeting(), ("hang",)],
    "after-login": session(("hang",)),
}


@pytest.mark.parametrize("kind", sorted(SILENT))
def test_silent_server_at_mount(fake_factory, imap_mount_factory, tmp_path,
                                kind):
    fake = fake_factory(SILENT[kind])
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails(timeout=60)
    assert_failed_mount(fail, r"timed out", r"listing the folders failed")
    # the account's timeout was waited for, not just an error made up
    assert fail.seconds >= TIMEOUT - 0.5


def test_silent_server_in_a_body_read(fake_factory, imap_mount_factory,
                                      tmp_path):
    hook = first_time([("hang",)])
    fake = fake_factory(session(*mailbox({1: MSG, 2: MSG2}, on_body=hook)))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    path = fs.m("INBOX", "cur", NAME2)
    result = {}

    def reader():
        t0 = time.monotonic()
        try:
            read(path)
            result["error"] = None
        except OSError as e:
            result["error"] = e.errno
        result["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    assert fake.wait_for(lambda: hook.count >= 1, timeout=5), \
        "the body was never asked for"
    # meanwhile the rest of the mount answers at once
    slow = []
    checks = 0
    while t.is_alive() and checks < 20:
        for what, op in (
                ("ls INBOX/cur", lambda: os.listdir(fs.m("INBOX", "cur"))),
                ("stat the file", lambda: os.stat(path)),
                ("stat the other", lambda: os.stat(fs.m("INBOX", "cur",
                                                        NAME))),
                ("ls the top", lambda: os.listdir(fs.mnt)),
                ("read status", lambda: read(fs.m(".mailfs", "status")))):
            t0 = time.monotonic()
            op()
            took = time.monotonic() - t0
            if took > QUICK:
                slow.append((what, took))
        checks += 1
        time.sleep(0.1)
    assert checks >= 3, "the fetch did not hang long enough to look"
    assert not slow, "while a fetch hung: %r" % slow
    assert sorted(os.listdir(fs.m("INBOX", "cur"))) == [NAME, NAME2]
    t.join(BOUND + 5)
    assert not t.is_alive(), "the read never returned"
    assert result["error"] == errno.EIO, result
    assert TIMEOUT - 0.5 <= result["seconds"] < BOUND, result
    wait_for_log(fs, r"reading: Connection timed out|timed out")
    # the server answers again: so does the mount
    assert read(path) == MSG2
    fs.unmount()


# ---------------------------------------------------------------------------
# 8b. A sync that fails after the mount keeps what is listed

def test_failed_sync_keeps_the_listing(fake_factory, imap_mount_factory,
                                       tmp_path):
    state = {"hostile": False}
    normal = dict(s[1:] for s in mailbox({1: MSG}))["FETCH"]

    def fetch(conn, line, whole):
        if state["hostile"] and re.search(rb"UID FETCH 1:\*", line):
            return [("send", b"* 1 FETCH (UID 1 FLAGS (((\r\n"), ("close",)]
        return normal(conn, line, whole)

    fake = fake_factory(session(*mailbox({1: MSG}),
                                ("fallback", "FETCH", fetch)))
    fs = make_fs(fake, imap_mount_factory, tmp_path, poll_interval=1).mount()
    assert os.listdir(fs.m("INBOX", "cur")) == [NAME]
    state["hostile"] = True
    mark = len(fake.commands)
    # two polls' worth of failed syncs
    assert fake.wait_for(lambda: len([c for c in fake.commands[mark:]
                                      if b"UID FETCH 1:*" in c]) >= 2,
                         timeout=BOUND)
    assert os.listdir(fs.m("INBOX", "cur")) == [NAME]
    wait_for_log(fs, r"syncing INBOX: .*missing '\)'")
    assert read(fs.m("INBOX", "cur", NAME)) == MSG
    fs.unmount()


# ---------------------------------------------------------------------------
# 9. A real server without CONDSTORE and QRESYNC (as Exchange Online)

@pytest.fixture(scope="module")
def plain_dovecot():
    with running_dovecot(users=DEFAULT_USERS,
                         imap_capability=capabilities_without(
                             "CONDSTORE", "QRESYNC")) as dv:
        yield dv


def _names(fs, folder):
    try:
        return sorted(os.listdir(fs.m(folder, "cur")))
    except FileNotFoundError:
        return []


def _wait(pred, timeout=SYNC):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(0.1)


def _flags_by_uid(dv, user, folder):
    letters = {"\\draft": "D", "\\flagged": "F", "$forwarded": "P",
               "\\answered": "R", "\\seen": "S", "\\deleted": "T"}
    return {m.uid: "".join(sorted(letters[f.lower()] for f in m.flags
                                  if f.lower() in letters))
            for m in dv.list_messages(user, folder)}


def _mount_flags(fs, folder):
    out = {}
    for n in _names(fs, folder):
        base, flags = n.split(":2,")
        out[int(base.split("U")[1])] = flags
    return out


def test_server_without_condstore(plain_dovecot, imap_mount_factory,
                                  tmp_path):
    dv = plain_dovecot
    user, _ = dv.add_user()
    dv.fill(user, "INBOX", count=4, seed=21, attachment_ratio=0,
            flags=lambda i: "S" if i % 2 else "")
    dv.fill(user, "Lists", count=2, seed=22, attachment_ratio=0)
    conf = dv.mailfs_config(str(tmp_path), account="imap", user=user,
                            poll_interval=1)
    fs = imap_mount_factory(conf, "imap")
    fs.extra_args = ["-d"]
    fs.mount()
    # the listing: every message with its flags
    assert _mount_flags(fs, "INBOX") == _flags_by_uid(dv, user, "INBOX")
    assert _mount_flags(fs, "Lists") == _flags_by_uid(dv, user, "Lists")
    uids = sorted(_mount_flags(fs, "INBOX"))
    lists = sorted(_mount_flags(fs, "Lists"))
    # mount -> server
    name = next(n for n in _names(fs, "INBOX")
                if int(n.split(":2,")[0].split("U")[1]) == uids[0])
    base = name.split(":2,")[0]
    os.rename(fs.m("INBOX", "cur", name), fs.m("INBOX", "cur", base + ":2,FS"))
    fs.flush()
    assert _flags_by_uid(dv, user, "INBOX")[uids[0]] == "FS"
    # server -> mount: a flag set, a flag cleared (only a full flag fetch
    # sees a flag go without CONDSTORE), in INBOX and in another folder
    dv.set_flags(user, "INBOX", [uids[1]], ["\\Flagged"], mode="+")
    dv.set_flags(user, "INBOX", [uids[0]], ["\\Seen"], mode="-")
    dv.set_flags(user, "Lists", [lists[0]], ["\\Answered"], mode="+")
    dv.set_flags(user, "Lists", [lists[1]], ["\\Seen"], mode="-")
    want_inbox = _flags_by_uid(dv, user, "INBOX")
    want_lists = _flags_by_uid(dv, user, "Lists")
    assert _wait(lambda: _mount_flags(fs, "INBOX") == want_inbox), \
        (_mount_flags(fs, "INBOX"), want_inbox)
    assert _wait(lambda: _mount_flags(fs, "Lists") == want_lists), \
        (_mount_flags(fs, "Lists"), want_lists)
    # expunged on the server: gone from the mount
    dv.expunge(user, "INBOX", uids=[uids[2]])
    dv.expunge(user, "Lists", uids=[lists[0]])
    assert _wait(lambda: uids[2] not in _mount_flags(fs, "INBOX")), \
        _mount_flags(fs, "INBOX")
    assert _wait(lambda: lists[0] not in _mount_flags(fs, "Lists")), \
        _mount_flags(fs, "Lists")
    assert sorted(_mount_flags(fs, "INBOX")) == sorted(
        _flags_by_uid(dv, user, "INBOX"))
    # and new mail shows up
    dv.append(user, "Lists", make_message(23))
    assert _wait(lambda: len(_names(fs, "Lists")) == 2)
    fs.unmount()
    # the client never asked for what the server did not offer
    sent = [l for l in log_of(fs).splitlines() if " C: " in l]
    assert sent, "no protocol trace"
    for word in ("CONDSTORE", "QRESYNC", "CHANGEDSINCE", "MODSEQ",
                 "VANISHED"):
        assert not [l for l in sent if word in l.upper()], word
    assert [l for l in sent if "UID FETCH 1:* (UID FLAGS" in l]


# ---------------------------------------------------------------------------
# 10. OAuth 2: XOAUTH2 and OAUTHBEARER

TOKEN = "TOKEN123"
OAUTH_USER = "oauth.user@example.org"
BASE_CAPS = b"IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE"


def _oauth_fake(fake_factory, mechs, sasl_ir=True, ok=True):
    caps = BASE_CAPS + (b" SASL-IR" if sasl_ir else b"") + b"".join(
        b" AUTH=" + m for m in mechs)
    return fake_factory([greeting(caps), ("login", ok),
                         *mailbox({1: MSG})], caps=caps)


def _oauth_fs(fake, imap_mount_factory, tmp_path, **keys):
    return make_fs(fake, imap_mount_factory, tmp_path, debug=True,
                   user=OAUTH_USER, password=None,
                   oauth2_token_cmd="echo " + TOKEN, **keys)


def _expected(mech, port):
    if mech == b"XOAUTH2":
        return b"user=%s\x01auth=Bearer %s\x01\x01" % (
            OAUTH_USER.encode(), TOKEN.encode())
    return b"n,a=%s,\x01host=127.0.0.1\x01port=%d\x01auth=Bearer %s\x01\x01" \
        % (OAUTH_USER.encode(), port, TOKEN.encode())


def _assert_token_hidden(text, port):
    assert TOKEN not in text
    for mech in (b"XOAUTH2", b"OAUTHBEARER"):
        assert base64.b64encode(_expected(mech, port)).decode() not in text
    assert base64.b64encode(TOKEN.encode()).decode()[:8] not in text


@pytest.mark.parametrize("offered,forced,used,sasl_ir", [
    ((b"XOAUTH2",), None, b"XOAUTH2", True),
    ((b"XOAUTH2", b"OAUTHBEARER"), None, b"OAUTHBEARER", True),
    ((b"OAUTHBEARER",), None, b"OAUTHBEARER", False),
    ((b"XOAUTH2", b"OAUTHBEARER"), "XOAUTH2", b"XOAUTH2", True),
], ids=["xoauth2", "oauthbearer", "oauthbearer-no-sasl-ir", "forced-xoauth2"])
def test_oauth(fake_factory, imap_mount_factory, tmp_path, offered, forced,
               used, sasl_ir):
    fake = _oauth_fake(fake_factory, offered, sasl_ir=sasl_ir)
    fs = _oauth_fs(fake, imap_mount_factory, tmp_path, auth=forced)
    fs.mount()
    assert os.listdir(fs.m("INBOX", "cur")) == [NAME]
    auths = [c for c in fake.commands if b" AUTHENTICATE " in c.upper()]
    assert auths, fake.commands
    assert all(c.split()[2].upper() == used for c in auths), auths
    if not sasl_ir:
        assert all(len(c.split()) == 3 for c in auths), auths
    assert not [c for c in fake.commands if b" LOGIN " in c.upper()]
    expected = _expected(used, fake.port)
    assert fake.credentials and all(cred == (b"", expected)
                                    for cred in fake.credentials), \
        (fake.credentials, expected)
    fs.unmount()
    log = log_of(fs)
    assert "AUTHENTICATE " + used.decode() in log, "no trace of the login"
    _assert_token_hidden(log, fake.port)


def test_oauth_token_refused(fake_factory, imap_mount_factory, tmp_path):
    fake = _oauth_fake(fake_factory, (b"XOAUTH2",), ok=False)
    fs = _oauth_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"AUTHENTICATIONFAILED|[Aa]uthentication "
                        r"failed")
    _assert_token_hidden(fail.output, fake.port)
    # refused is final: the token is not tried again and again
    assert len(fake.credentials) <= 2, fake.credentials


# What Gmail and Outlook do with a token they refuse: an error challenge
# (base64 JSON) that the client answers with an empty response (XOAUTH2) or
# a single 0x01 (OAUTHBEARER, RFC 7628 section 3.2.3), then the NO.
ERROR_CHALLENGE = base64.b64encode(
    b'{"status":"401","schemes":"bearer","scope":"https://mail.example/"}')


def _refusing_authenticate(conn, line, whole):
    """AUTHENTICATE answered the way Gmail refuses a token: the initial
    response (asked for with "+ " when the command came without one), then
    the error challenge, the client's answer to it, then NO."""
    conn.vars["authtag"] = line.split(b" ", 1)[0]
    steps = []
    if len(line.split()) < 4:
        steps += [("send", b"+ \r\n"), ("expect", rb"^[A-Za-z0-9+/=]+$")]
    return steps + [
        ("send", b"+ " + ERROR_CHALLENGE + b"\r\n"),
        ("expect", rb"^(|AQ==)$"),
        ("send", b"{authtag} NO [AUTHENTICATIONFAILED] Invalid credentials "
                 b"(Failure)\r\n")]


@pytest.mark.parametrize("mech", [b"XOAUTH2", b"OAUTHBEARER"])
def test_oauth_error_challenge(fake_factory, imap_mount_factory, tmp_path,
                               mech):
    caps = BASE_CAPS + b" SASL-IR AUTH=" + mech
    fake = fake_factory([greeting(caps),
                         ("fallback", "AUTHENTICATE", _refusing_authenticate)],
                        caps=caps)
    fs = _oauth_fs(fake, imap_mount_factory, tmp_path)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"AUTHENTICATIONFAILED|Invalid credentials")
    # answered at once, not after the account's timeout
    assert fail.seconds < TIMEOUT, "the mount took %.1f s" % fail.seconds
    _assert_token_hidden(fail.output, fake.port)
    # the challenge got an empty answer, never the token again
    assert fake.unexpected == [], fake.unexpected


def test_oauth_token_command_fails(fake_factory, imap_mount_factory,
                                   tmp_path):
    fake = _oauth_fake(fake_factory, (b"XOAUTH2",))
    fs = make_fs(fake, imap_mount_factory, tmp_path, user=OAUTH_USER,
                 password=None, oauth2_token_cmd="exit 3")
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"oauth2_token_cmd")
    assert not [c for c in fake.commands if b"AUTHENTICATE" in c.upper()]


# ---------------------------------------------------------------------------
# 11. STARTTLS required but not had

PLAIN_CAPS = b"IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN AUTH=LOGIN ID IDLE"
TLS_CAPS = PLAIN_CAPS + b" STARTTLS"
PASSWORD = "fake-password-0123"

STARTTLS = {
    # the server does not offer it
    "not-offered": ([greeting(PLAIN_CAPS), ("login",)], PLAIN_CAPS,
                    r"does not offer STARTTLS"),
    # offered, then refused
    "refused": ([greeting(TLS_CAPS), ("expect", rb"STARTTLS"),
                 ("send", b"{tag} NO [UNAVAILABLE] not today\r\n"),
                 ("login",)], TLS_CAPS, r"not today|STARTTLS"),
    # accepted, then the server goes on in plain text
    "no-handshake": ([greeting(TLS_CAPS), ("expect", rb"STARTTLS"),
                      ("send", b"{tag} OK Begin TLS negotiation now\r\n"),
                      ("login",)], TLS_CAPS, r"TLS"),
    # plain text slipped in behind the OK, to be taken as if secured
    "injected": ([greeting(TLS_CAPS), ("expect", rb"STARTTLS"),
                  ("send", b"{tag} OK Begin TLS negotiation now\r\n"
                           b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] "
                           b"injected\r\n"),
                  ("login",)], TLS_CAPS, r"after STARTTLS|TLS"),
}


def test_login_disabled_is_respected(fake_factory, imap_mount_factory,
                                     tmp_path):
    # RFC 3501 6.2.3: no LOGIN once the server announces LOGINDISABLED, and
    # no mechanism it does not offer
    caps = b"IMAP4rev1 LITERAL+ LOGINDISABLED ID IDLE"
    fake = fake_factory([greeting(caps), ("login",)], caps=caps)
    fs = make_fs(fake, imap_mount_factory, tmp_path, password=PASSWORD)
    fail = fs.mount_fails()
    assert_failed_mount(fail, r"refuses LOGIN|LOGINDISABLED|mechanism")
    fake.stop()
    assert fake.credentials == []
    assert PASSWORD.encode() not in bytes(fake.received)
    assert base64.b64encode(b"\0fakeuser\0" + PASSWORD.encode()) \
        not in bytes(fake.received)


@pytest.mark.parametrize("kind", sorted(STARTTLS))
def test_starttls_not_had(fake_factory, imap_mount_factory, tmp_path, kind):
    script, caps, message = STARTTLS[kind]
    fake = fake_factory(script, caps=caps)
    fs = make_fs(fake, imap_mount_factory, tmp_path, tls="starttls",
                 password=PASSWORD)
    fail = fs.mount_fails()
    assert_failed_mount(fail, message)
    fake.stop()
    received = bytes(fake.received)
    assert fake.credentials == []
    assert not re.search(rb"(?im)^\S+ (LOGIN|AUTHENTICATE)\b", received), \
        fake.commands
    assert PASSWORD.encode() not in received
    assert base64.b64encode(b"\0fakeuser\0" + PASSWORD.encode()) \
        not in received
    assert PASSWORD not in fail.output


def test_folder_name_longer_than_a_file_name(fake_factory, imap_mount_factory,
                                             tmp_path):
    # 300 bytes cannot be one file name (NAME_MAX is 255): the mount shows
    # a shortened, unique name, and the folder still works under it.
    long_name = ("L" * 150 + "\u00e9" * 75).encode()     # 300 bytes of UTF-8
    other = ("L" * 150 + "\u00e9" * 74 + "x").encode()
    reply = (b'* LIST (\\HasNoChildren) "/" "INBOX"\r\n'
             b'* LIST (\\HasNoChildren) "/" "%s"\r\n'
             b'* LIST (\\HasNoChildren) "/" "%s"\r\n'
             b"{tag} OK LIST\r\n" % (fakeimap_mutf7(long_name),
                                 fakeimap_mutf7(other)))
    fake = fake_factory(session(
        *mailbox({1: MSG}, folders={b"INBOX": {1: MSG}}),
        ("fallback", "LIST", reply),
        ("fallback", "LSUB", reply.replace(b"* LIST", b"* LSUB"))))
    fs = make_fs(fake, imap_mount_factory, tmp_path).mount()
    top = [n for n in os.listdir(fs.mnt) if n.startswith("L")]
    assert len(top) == 2, top
    assert all(len(n.encode()) <= 255 for n in top), top
    assert top[0] != top[1]
    for n in top:
        assert sorted(os.listdir(fs.m(n))) == ["cur", "new", "tmp"]
    fs.unmount()


def fakeimap_mutf7(raw):
    """A UTF-8 folder name in modified UTF-7, as a server sends it."""
    from dovecot import mutf7_encode
    out = mutf7_encode(raw.decode())
    return out if isinstance(out, bytes) else out.encode()


def test_silent_server_during_a_flag_change(fake_factory, imap_mount_factory,
                                            tmp_path):
    # Without write-back a change waits for the server, without holding
    # up the rest of the mount: listing, stat and reading go on while a
    # STORE hangs.
    def store(conn, line, whole):
        return [("hang",)]

    fake = fake_factory(session(*mailbox({1: MSG, 2: MSG2}),
                                ("fallback", "STORE", store)))
    fs = make_fs(fake, imap_mount_factory, tmp_path)
    fs.extra_args = ["-o", "writeback=off"]
    fs.mount()
    base = NAME.split(":2,")[0]
    os.stat(fs.m("INBOX", "cur", NAME2))
    result = {}

    def rename():
        t0 = time.monotonic()
        try:
            os.rename(fs.m("INBOX", "cur", NAME),
                      fs.m("INBOX", "cur", base + ":2,FS"))
            result["error"] = None
        except OSError as e:
            result["error"] = e.errno
        result["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=rename, daemon=True)
    t.start()
    time.sleep(0.5)
    slow = []
    checks = 0
    while t.is_alive() and checks < 10:
        # (not INBOX/cur itself: the kernel locks a directory while a
        # rename in it runs, on any filesystem)
        for what, op in (
                ("stat", lambda: os.stat(fs.m("INBOX", "cur", NAME2))),
                ("read", lambda: read(fs.m("INBOX", "cur", NAME2))),
                ("ls the top", lambda: os.listdir(fs.mnt)),
                ("read status", lambda: read(fs.m(".mailfs", "status")))):
            t0 = time.monotonic()
            op()
            took = time.monotonic() - t0
            if took > QUICK:
                slow.append((what, took))
        checks += 1
        time.sleep(0.1)
    assert checks >= 3, "the change did not hang long enough to look"
    assert not slow, "while a STORE hung: %r" % slow
    t.join(BOUND + 5)
    assert not t.is_alive(), "the rename never returned"
    assert result["error"] == errno.EIO, result
    # the message keeps its old name: nothing changed
    assert NAME in os.listdir(fs.m("INBOX", "cur"))
    fs.unmount()
