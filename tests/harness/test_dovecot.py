"""Self-tests of the Dovecot harness: the server, TLS, the PREAUTH tunnel,
the helpers, mbsync and the mailfs config writer."""

import configparser
import hashlib
import imaplib
import os
import poplib
import re
import socket
import ssl
import stat
import subprocess
import time

import pytest

from dovecot import DEFAULT_USERS, Dovecot, make_message
# fixtures: pytest finds them by name in this module
from dovecot import dovecot_module, dovecot_server  # noqa: F401
from dovecot import imap_mount_factory  # noqa: F401
from mbsync import as_server_bytes, mbsync_pull

WANTED_CAPS = {"IMAP4REV1", "CONDSTORE", "QRESYNC", "MOVE", "UIDPLUS", "IDLE",
               "SPECIAL-USE", "LITERAL+", "NAMESPACE", "ENABLE", "LIST-STATUS",
               "ESEARCH", "BINARY"}


def _digests(datas):
    """Sorted digests of message contents: compared instead of the bytes, so
    that a failure report stays short."""
    return sorted(hashlib.sha256(d).hexdigest()[:16] for d in datas)


def _caps(c):
    typ, data = c.capability()
    assert typ == "OK"
    return set(data[0].decode().upper().split())


def _dovecot_pids(config):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    if config.encode() in f.read():
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def test_start_and_stop_quickly(tmp_path):
    dv = Dovecot(users={"carol": "carol-pw"})
    try:
        t0 = time.monotonic()
        dv.start()
        started = time.monotonic() - t0
        ports = {dv.imap_port, dv.imaps_port, dv.pop3_port, dv.pop3s_port}
        assert len(ports) == 4 and not ports & {143, 993, 110, 995}
        with dv.client("carol") as c:
            assert c.select("INBOX")[0] == "OK"
        t0 = time.monotonic()
        rc = dv.stop()
        stopped = time.monotonic() - t0
        assert rc == 0, dv.log_tail()
        assert started < 5 and stopped < 5, (started, stopped)
        assert not os.path.exists(os.path.join(dv.base, "run", "master.pid"))
        # nothing of this instance is left running
        assert _dovecot_pids(dv.config) == []
        with pytest.raises(OSError):
            socket.create_connection((dv.host, dv.imap_port), timeout=1)
        assert dv.log_problems() == [], dv.log_tail()
        # a restart keeps the ports
        port = dv.imap_port
        dv.start()
        assert dv.imap_port == port
        with dv.client("carol") as c:
            assert c.select("INBOX")[0] == "OK"
    finally:
        dv.cleanup()
    assert not os.path.exists(dv.base)


def test_plain_login(dovecot_server):
    dv = dovecot_server
    c = dv.connect()
    assert "STARTTLS" in _caps(c)
    assert {"AUTH=PLAIN", "AUTH=LOGIN"} <= _caps(c)
    c.login("alice", DEFAULT_USERS["alice"])
    assert WANTED_CAPS <= _caps(c)
    c.logout()
    c = dv.connect()
    with pytest.raises(imaplib.IMAP4.error):
        c.login("alice", "wrong password")
    c.logout()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_starttls_verified(dovecot_server, host):
    dv = dovecot_server
    with dv.client("alice", tls="starttls", host=host) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        cert = c.sock.getpeercert()
        assert ("DNS", "localhost") in cert["subjectAltName"]
        assert ("IP Address", "127.0.0.1") in cert["subjectAltName"]
        assert "STARTTLS" not in _caps(c)
        assert c.select("INBOX")[0] == "OK"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_implicit_tls_verified(dovecot_server, host):
    with dovecot_server.client("bob", tls="implicit", host=host) as c:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert c.select("INBOX")[0] == "OK"


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_wrong_ca_refused(dovecot_server, tls):
    dv = dovecot_server
    with pytest.raises(ssl.SSLCertVerificationError):
        dv.connect("alice", tls=tls, ca_file=dv.wrong_ca_file)


def test_pop3_and_pop3s(dovecot_server):
    dv = dovecot_server
    user, pw = dv.add_user()
    dv.append(user, "INBOX", make_message(1))
    p = poplib.POP3(dv.host, dv.pop3_port, timeout=10)
    assert "STLS" in p.capa()
    p.user(user)
    p.pass_(pw)
    assert p.stat()[0] == 1
    p.quit()
    p = poplib.POP3_SSL(dv.host, dv.pop3s_port, context=dv.ssl_context(),
                        timeout=10)
    p.user(user)
    p.pass_(pw)
    assert p.stat()[0] == 1
    p.quit()


def test_server_facts(dovecot_server):
    """What the IMAP client can count on from this Dovecot."""
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.create_folder(user, "Archive/2024")
    with dv.client(user) as c:
        typ, data = c.namespace()
        assert data[0] == b'(("" "/")) NIL NIL'
        typ, data = c.list('""', "*")
        lines = b"\n".join(data)
        for name, use in (("Sent", b"\\Sent"), ("Drafts", b"\\Drafts"),
                          ("Trash", b"\\Trash"), ("Junk", b"\\Junk")):
            assert re.search(rb'\(.*%s.*\) "/" %s' % (re.escape(use),
                                                      name.encode()), lines)
        assert re.search(rb'\(\\Noselect \\HasChildren\) "/" Archive\b', lines)
        typ, data = c._simple_command("ENABLE", "QRESYNC")
        assert typ == "OK" and c.untagged_responses.pop("ENABLED") == [b"QRESYNC"]
        typ, data = c.select("INBOX")
        assert typ == "OK"
        assert "HIGHESTMODSEQ" in c.untagged_responses or any(
            b"HIGHESTMODSEQ" in x for x in c.untagged_responses.get("OK", []))
    out = dv.doveadm("mailbox", "status", "-u", user, "messages", "INBOX")
    assert out.strip() == "INBOX messages=0"
    folders = dv.list_folders(user)
    assert folders["Sent"] >= {"\\Sent"}
    assert "\\Noselect" in folders["Archive"]
    assert os.path.isdir(os.path.join(dv.user_dir(user), "Archive", "2024",
                                      "cur"))


def _stream_check(c, user):
    assert c.state == "AUTH"
    assert "CONDSTORE" in _caps(c)
    assert c.select("INBOX")[0] == "OK"
    typ, data = c.list('""', "*")
    assert typ == "OK" and any(b" INBOX" in x for x in data)


def test_preauth_tunnel_pipes(dovecot_server):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.append(user, "INBOX", make_message(7))
    for kw in ({}, {"as_mail_user": False}):
        cmdline = dv.tunnel_command_line(user, **kw)
        c = imaplib.IMAP4_stream(cmdline)
        assert c.welcome.startswith(b"* PREAUTH"), c.welcome
        _stream_check(c, user)
        c.logout()


def test_preauth_tunnel_socketpair(dovecot_server):
    """The tunnel command works on a socketpair too (as mbsync runs its
    Tunnel command), which the bare imap binary refuses as root."""
    dv = dovecot_server
    user, _ = dv.add_user()
    a, b = socket.socketpair()
    p = subprocess.Popen(dv.tunnel_command(user), stdin=b, stdout=b)
    b.close()
    a.settimeout(10)
    f = a.makefile("rb")
    greeting = f.readline()
    assert greeting.startswith(b"* PREAUTH "), greeting
    a.sendall(b"t1 SELECT INBOX\r\nt2 LOGOUT\r\n")
    lines = []
    while not lines or not lines[-1].startswith(b"t2 "):
        lines.append(f.readline())
        assert lines[-1], lines
    assert any(l.startswith(b"t1 OK") for l in lines), lines
    assert p.wait(timeout=10) == 0
    f.close()
    a.close()


def test_fill_exact_sizes(dovecot_server):
    dv = dovecot_server
    user, _ = dv.add_user()
    t0 = time.monotonic()
    inbox = dv.fill(user, "INBOX", 150, seed=1, attachment_ratio=0.1)
    arch = dv.fill(user, "Archive/2024", 20, seed=2, attachment_ratio=0.2,
                   flags=lambda i: "FS" if i % 2 else "")
    filled = time.monotonic() - t0
    sizes = [len(m.data) for m in inbox]
    assert min(sizes) >= 2 * 1024
    assert max(sizes) > 100 * 1024, "no message with an attachment"
    assert any(m.data.count(b"Content-Transfer-Encoding: base64") for m in inbox)
    for folder, msgs in (("INBOX", inbox), ("Archive/2024", arch)):
        info = dv.message_info(user, folder)
        assert len(info) == len(msgs)
        for uid, m in zip(sorted(info), msgs):
            size, idate, flags = info[uid]
            assert size == len(m.data), (folder, uid)
            assert idate == m.date
            want = {"F": "\\Flagged", "S": "\\Seen"}
            assert set(flags) == {want[x] for x in m.flags}
    got = dv.list_messages(user, "Archive/2024")
    assert [_digests([g.data]) for g in got] == [_digests([m.data]) for m in arch]
    assert filled < 10


def test_imap_helpers(dovecot_server):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.create_folder(user, "Ärger/Größe & Co")
    folders = dv.list_folders(user)
    assert "Ärger/Größe & Co" in folders and "Ärger" in folders
    assert os.path.isdir(dv.maildir(user, "Ärger/Größe & Co"))
    m1, m2 = make_message(1), make_message(2)
    u1 = dv.append(user, "Ärger/Größe & Co", m1, flags=("\\Seen",),
                   date=1700000000)
    u2 = dv.append(user, "Ärger/Größe & Co", m2)
    assert (u1, u2) == (1, 2)
    msgs = dv.list_messages(user, "Ärger/Größe & Co")
    assert [(m.uid, m.flags) for m in msgs] == [(1, ("\\Seen",)), (2, ())]
    assert [m.data == d for m, d in zip(msgs, (m1, m2))] == [True, True]
    assert dv.message_info(user, "Ärger/Größe & Co")[1][1] == 1700000000
    uv = dv.uidvalidity(user, "Ärger/Größe & Co")
    assert uv > 0
    dv.set_flags(user, "Ärger/Größe & Co", [2], ["\\Flagged", "\\Answered"])
    dv.set_flags(user, "Ärger/Größe & Co", 1, ["\\Seen"], mode="-")
    assert [m.flags for m in dv.list_messages(user, "Ärger/Größe & Co")] == [
        (), ("\\Answered", "\\Flagged")]
    dv.move(user, "Ärger/Größe & Co", [1], "INBOX")
    dv.expunge(user, "Ärger/Größe & Co", [2])
    assert dv.list_messages(user, "Ärger/Größe & Co") == []
    assert [m.data == m1 for m in dv.list_messages(user, "INBOX")] == [True]
    st = dv.status(user, "INBOX")
    assert st["MESSAGES"] == 1 and st["HIGHESTMODSEQ"] > 0
    dv.rename_folder(user, "Ärger/Größe & Co", "Renamed")
    dv.delete_folder(user, "Renamed")
    assert "Renamed" not in dv.list_folders(user)
    assert dv.log_problems() == [], dv.log_tail()


def test_mbsync_pulls_everything(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    inbox = dv.fill(user, "INBOX", 40, seed=3, attachment_ratio=0.1)
    arch = dv.fill(user, "Archive/2024", 10, seed=4, attachment_ratio=0)
    dv.append(user, "Sent", make_message(99), flags=("\\Seen",))
    near, r = mbsync_pull(dv, user, str(tmp_path / "mbsync"))
    assert r.returncode == 0, r.stdout
    for folder, want in (("INBOX", inbox), ("Archive/2024", arch)):
        d = os.path.join(near, folder)
        got = []
        for sub in ("cur", "new"):
            for n in os.listdir(os.path.join(d, sub)):
                with open(os.path.join(d, sub, n), "rb") as f:
                    data = f.read()
                assert b"\r\n" not in data and b"\nX-TUID: " in data
                got.append(as_server_bytes(data))
        assert _digests(got) == _digests(m.data for m in want), folder
    assert len(os.listdir(os.path.join(near, "Sent", "cur"))) == 1
    # CopyArrivalDate: the file dates are the internal dates
    one = os.listdir(os.path.join(near, "Archive", "2024", "cur"))[0]
    mtime = os.stat(os.path.join(near, "Archive", "2024", "cur", one)).st_mtime
    assert mtime in {m.date for m in arch}
    # a second run finds nothing new
    near2, r = mbsync_pull(dv, user, str(tmp_path / "mbsync"))
    assert r.returncode == 0, r.stdout


def test_mbsync_starttls(dovecot_server, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.fill(user, "INBOX", 5, seed=5, attachment_ratio=0)
    near, r = mbsync_pull(dv, user, str(tmp_path / "m"), tls="starttls")
    assert r.returncode == 0, r.stdout
    assert len(os.listdir(os.path.join(near, "INBOX", "cur"))) == 5


def test_mailfs_config(dovecot_server, tmp_path):
    dv = dovecot_server
    conf = dv.mailfs_config(str(tmp_path), account="tls", user="alice")
    dv.mailfs_config(str(tmp_path), account="plain", user="bob", tls="none",
                     connections=2)
    dv.mailfs_config(str(tmp_path), account="tun", user="alice", tunnel=True)
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(conf)
    a = cp["account tls"]
    assert (a["type"], a["host"], a["port"], a["tls"], a["ca_file"],
            a["user"]) == ("imap", "127.0.0.1", str(dv.imaps_port),
                           "implicit", dv.ca_file, "alice")
    assert (a["connections"], a["poll_interval"], a["timeout"]) == (
        "4", "2", "10")
    pw = a["password_file"]
    assert stat.S_IMODE(os.stat(pw).st_mode) == 0o600
    assert open(pw).read() == DEFAULT_USERS["alice"]
    b = cp["account plain"]
    assert (b["tls"], b["allow_plaintext"], b["port"], b["connections"]) == (
        "none", "true", str(dv.imap_port), "2")
    assert "ca_file" not in b
    t = cp["account tun"]
    assert "host" not in t and "tls" not in t and "password_file" not in t
    c = imaplib.IMAP4_stream(t["tunnel"])
    assert c.welcome.startswith(b"* PREAUTH")
    c.logout()


def test_imap_mount_fixture(dovecot_server, imap_mount_factory, tmp_path):
    """The mount fixture runs mailfs on an IMAP account; skipped while this
    build of mailfs has no IMAP client."""
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.append(user, "INBOX", make_message(1))
    conf = dv.mailfs_config(str(tmp_path), account="imap", user=user)
    fs = imap_mount_factory(conf, "imap")
    if not os.path.exists(fs.command()[0]):
        pytest.skip("no mailfs binary at %s" % fs.command()[0])
    try:
        fs.mount()
    except pytest.fail.Exception:
        if "is not available in this version" in fs.log_tail():
            pytest.skip("this build of mailfs has no IMAP client yet")
        raise
    assert os.path.isdir(fs.m("INBOX", "cur"))


def test_capability_override(dovecot_server, tmp_path):
    from dovecot import DOVECOT_CAPABILITIES, capabilities_without
    # the list the override starts from is what this Dovecot announces
    with dovecot_server.client("alice") as c:
        assert _caps(c) == set(DOVECOT_CAPABILITIES.upper().split())
    dv = Dovecot(users={"dave": "dave-pw"},
                 imap_capability=capabilities_without("CONDSTORE", "QRESYNC"),
                 extra_config="# an extra line\n")
    try:
        dv.start()
        with dv.client("dave") as c:
            caps = _caps(c)
        assert "CONDSTORE" not in caps and "QRESYNC" not in caps
        assert {"IDLE", "UIDPLUS", "MOVE", "ENABLE"} <= caps
        assert "# an extra line" in open(dv.config).read()
    finally:
        dv.stop()
        dv.cleanup()
