"""Outbox/: a message file written there is submitted over SMTP, its copy
goes to the Sent folder, and it leaves Outbox/; what cannot be sent stays
there with the reason."""

import os
import subprocess
import time

import pytest

from dovecot import letters, make_pki
from mailfs_mount import MAILFS
from smtpsink import SmtpSink

HOLD = {"MAILFS_TEST_HOLD_FLUSH": "1"}


def message(n, to="bob@example.org", cc=None, bcc=None, extra=b"",
            crlf=False):
    head = ["From: Alice Example <alice@example.com>",
            "To: %s" % to,
            "Subject: outbox %d" % n,
            "Message-ID: <outbox-%d-%d@example.com>" % (n, os.getpid()),
            "Date: Sat, 21 Nov 2026 10:00:00 +0000"]
    if cc:
        head.append("Cc: %s" % cc)
    if bcc:
        head.append("Bcc: %s" % bcc)
    text = "\n".join(head) + "\n\nbody of message %d\n.leading dot\n" % n
    data = text.encode() + extra
    return data.replace(b"\n", b"\r\n") if crlf else data


def crlf(data):
    """The bytes as an IMAP server gives them back: CRLF line ends."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def status(fs):
    return subprocess.run([MAILFS, "status", fs.mnt], capture_output=True,
                          text=True, timeout=30).stdout


def wait_until(cond, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def outbox_becomes(fs, names):
    """Outbox/ lists `names`: a message sent leaves it as the flusher
    tells the mount, a moment after `mailfs flush` returns."""
    return wait_until(lambda: sorted(os.listdir(fs.m("Outbox"))) == names)


@pytest.fixture
def sink(dovecot_server):
    pki = dovecot_server.pki
    s = SmtpSink(tls=(pki["cert_file"], pki["key_file"]), users={})
    s.start()
    yield s
    s.stop()


def sink_mount(dovecot, factory, tmp_path, sink, **kw):
    """A mount whose Outbox sends to `sink` with STARTTLS and AUTH as
    `sender` (the IMAP password file holds the sink's password: the
    account has one secret)."""
    user, password = dovecot.add_user()
    sink.users[user] = password
    conf = dovecot.mailfs_config(str(tmp_path), account="imap", user=user,
                                 smtp=sink.url, **kw)
    fs = factory(conf, "imap")
    fs.user, fs.dovecot = user, dovecot
    if os.environ.get("MAILFS_TEST_DEBUG"):
        fs.extra_args.append("-d")
    return fs


def test_sent_without_bcc_and_copied_to_sent(dovecot_server,
                                            imap_mount_factory, tmp_path,
                                            sink):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path,
                    sink).mount()
    assert os.path.isdir(fs.m("Outbox"))
    assert os.listdir(fs.m("Outbox")) == []
    data = message(1, to="Bob <bob@example.org>, carol@example.org",
                   cc="Dave <dave@example.net>",
                   bcc="Eve <eve@example.net>, bob@example.org")
    write(fs.m("Outbox", "hello.eml"), data)
    fs.flush()
    assert len(sink.messages) == 1
    got = sink.messages[0]
    assert got.sender == "alice@example.com"
    assert sorted(got.rcpts) == ["bob@example.org", "carol@example.org",
                                 "dave@example.net", "eve@example.net"]
    assert got.login == fs.user
    assert b"Bcc:" not in got.data and b"eve@example.net" not in got.data
    # the rest is the message, with CRLF line ends
    want = b"".join(line + b"\r\n" for line in data.split(b"\n")
                    if not line.startswith(b"Bcc:"))[:-2]
    assert got.data.rstrip(b"\r\n") == want.rstrip(b"\r\n")
    # out of the Outbox, into Sent (Bcc kept there), seen
    assert outbox_becomes(fs, [])
    sent = fs.dovecot.list_messages(fs.user, "Sent")
    assert [crlf(m.data) for m in sent] == [crlf(data)]
    assert letters(sent[0].flags) == "S"
    assert wait_until(lambda: len(os.listdir(fs.m("Sent", "cur"))) == 1)
    assert "last submission: " in status(fs)
    fs.unmount()


def test_many_messages_and_crlf_files(dovecot_server, imap_mount_factory,
                                      tmp_path, sink):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path,
                    sink).mount()
    msgs = [message(10 + n, crlf=n % 2 == 0) for n in range(6)]
    for n, data in enumerate(msgs):
        write(fs.m("Outbox", "m%d.eml" % n), data)
    fs.flush()
    assert len(sink.messages) == 6
    got = sorted(m.data for m in sink.messages)
    want = sorted(d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                  for d in msgs)
    assert [g.rstrip(b"\r\n") for g in got] == [w.rstrip(b"\r\n")
                                                 for w in want]
    assert sorted(crlf(m.data) for m in fs.dovecot.list_messages(
        fs.user, "Sent")) == sorted(crlf(d) for d in msgs)
    fs.unmount()


def test_refused_message_stays_with_the_reply(dovecot_server,
                                              imap_mount_factory, tmp_path,
                                              sink):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path,
                    sink).mount()
    sink.refuse.add("nobody@example.org")
    data = message(20, to="nobody@example.org")
    path = fs.m("Outbox", "refused.eml")
    write(path, data)
    fs.flush()
    assert sink.messages == []
    assert os.listdir(fs.m("Outbox")) == ["refused.eml"]
    with open(path, "rb") as f:
        assert f.read() == data
    why = os.getxattr(path, "user.mail.error").decode()
    assert "550" in why and "no such mailbox" in why, why
    assert "user.mail.error" in os.listxattr(path)
    text = status(fs)
    assert "held: Outbox/refused.eml: " in text and "550" in text
    assert "pending: 0" in text
    # not tried again: another message goes, this one stays
    write(fs.m("Outbox", "fine.eml"), message(21))
    fs.flush()
    assert len(sink.messages) == 1
    assert outbox_becomes(fs, ["refused.eml"])
    # the user takes it back
    os.unlink(path)
    assert os.listdir(fs.m("Outbox")) == []
    fs.unmount()
    fs.mount()
    assert os.listdir(fs.m("Outbox")) == []
    assert "held:" not in status(fs)
    fs.unmount()


@pytest.mark.parametrize("kind", ["no-recipients", "not-a-message",
                                  "two-froms"])
def test_malformed_file_is_not_sent(dovecot_server, imap_mount_factory,
                                    tmp_path, sink, kind):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path,
                    sink).mount()
    data, reason = {
        "no-recipients": (b"From: a@example.com\nSubject: x\n\nbody\n",
                          "no recipients"),
        "not-a-message": (b"\x89PNG\r\n\x1a\n\x00\x00binary junk",
                          "not a message"),
        "two-froms": (b"From: a@example.com\nFrom: b@example.com\n"
                      b"To: c@example.com\n\nx\n", "From: fields"),
    }[kind]
    path = fs.m("Outbox", "bad.eml")
    write(path, data)
    fs.flush()
    assert sink.messages == []
    assert os.listdir(fs.m("Outbox")) == ["bad.eml"]
    why = os.getxattr(path, "user.mail.error").decode()
    assert reason in why, why
    assert fs.dovecot.list_messages(fs.user, "Sent") == []
    fs.unmount()


def test_starttls_is_required(dovecot_server, imap_mount_factory, tmp_path):
    plain = SmtpSink(users={})          # offers no STARTTLS
    plain.start()
    try:
        fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path,
                        plain).mount()
        write(fs.m("Outbox", "x.eml"), message(30))
        r = fs.flush(check=False, timeout=120)
        assert r.returncode != 0
        assert "STARTTLS" in r.stderr, r.stderr
        assert plain.messages == []
        assert os.listdir(fs.m("Outbox")) == ["x.eml"]
        assert "STARTTLS" in status(fs)
        fs.unmount()
    finally:
        plain.stop()


def test_plaintext_when_allowed(dovecot_server, imap_mount_factory,
                                tmp_path):
    plain = SmtpSink(users={})
    plain.start()
    try:
        fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path, plain,
                        allow_plaintext=True).mount()
        write(fs.m("Outbox", "x.eml"), message(31))
        fs.flush()
        assert len(plain.messages) == 1
        fs.unmount()
    finally:
        plain.stop()


def test_a_certificate_from_another_ca_is_refused(dovecot_server,
                                                  imap_mount_factory,
                                                  tmp_path):
    other = make_pki(str(tmp_path / "other-pki"))
    s = SmtpSink(tls=(other["cert_file"], other["key_file"]))
    s.start()
    try:
        fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path,
                        s).mount()
        write(fs.m("Outbox", "x.eml"), message(32))
        r = fs.flush(check=False)
        assert r.returncode != 0 and "TLS" in r.stderr, r.stderr
        assert s.messages == []
        assert os.listdir(fs.m("Outbox")) == ["x.eml"]
        fs.unmount()
    finally:
        s.stop()


@pytest.mark.parametrize("mech", ["plain", "login"])
def test_auth_mechanisms(dovecot_server, imap_mount_factory, tmp_path, sink,
                         mech):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path, sink,
                    smtp_auth=mech).mount()
    write(fs.m("Outbox", "x.eml"), message(40))
    fs.flush()
    assert len(sink.messages) == 1
    assert sink.logins[-1] == (mech.upper(), fs.user, True)
    fs.unmount()


def test_xoauth2_with_a_token_from_a_command(dovecot_server,
                                             imap_mount_factory, tmp_path,
                                             sink):
    user, _ = dovecot_server.add_user()
    sink.tokens[user] = "tok-" + os.urandom(6).hex()
    # the IMAP side logs in by tunnel (PREAUTH): the token is SMTP's
    conf = dovecot_server.mailfs_config(
        str(tmp_path), account="imap", user=user, tunnel=True,
        smtp=sink.url, smtp_user=user, smtp_auth="xoauth2",
        oauth2_token_cmd="echo %s" % sink.tokens[user])
    with open(conf, "a") as f:      # a tunnel has no ca_file of its own
        f.write("ca_file = %s\n" % dovecot_server.ca_file)
    fs = imap_mount_factory(conf, "imap")
    fs.extra_args.append("-d")
    fs.mount()
    write(fs.m("Outbox", "x.eml"), message(44))
    fs.flush()
    assert len(sink.messages) == 1
    assert sink.logins[-1] == ("XOAUTH2", user, True)
    fs.unmount()
    # the token never reaches the log
    with open(fs.log, "rb") as f:
        assert sink.tokens[user].encode() not in f.read()


def test_wrong_password_keeps_the_message_queued(dovecot_server,
                                                 imap_mount_factory,
                                                 tmp_path, sink):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path, sink)
    sink.users[fs.user] = "another password"
    fs.mount()
    write(fs.m("Outbox", "x.eml"), message(41))
    r = fs.flush(check=False)
    assert r.returncode != 0 and "login" in r.stderr, r.stderr
    assert os.listdir(fs.m("Outbox")) == ["x.eml"]
    assert sink.messages == []
    fs.unmount()


def test_deferred_then_sent_once(dovecot_server, imap_mount_factory,
                                 tmp_path, sink):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path,
                    sink).mount()
    sink.defer.add("later@example.org")
    write(fs.m("Outbox", "x.eml"), message(42, to="later@example.org"))
    # the rest of the journal is not held up by it
    write(fs.m("INBOX", "cur", "local-1:2,S"), message(43))
    r = fs.flush(check=False)
    assert r.returncode != 0 and "451" in r.stderr, r.stderr
    assert [m.data for m in fs.dovecot.list_messages(fs.user, "INBOX")] \
        == [crlf(message(43))]
    sink.defer.clear()
    fs.flush()
    assert len(sink.messages) == 1
    assert outbox_becomes(fs, [])
    fs.unmount()


@pytest.mark.parametrize("crash_after,sent,held", [(1, 0, True),
                                                   (2, 1, True),
                                                   (3, 1, False)])
def test_nothing_is_sent_twice_after_a_crash(dovecot_server,
                                             imap_mount_factory, tmp_path,
                                             sink, crash_after, sent, held):
    """Stop the daemon hard after each step of a submission: claimed,
    answered, committed.  The remount sends nothing a second time; a
    message whose fate is unknown stays in Outbox/, held with the reason;
    one known to be sent has its copy in Sent."""
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path, sink)
    # the flusher waits for `mailfs flush`: were it to take the message at
    # once, the crash could come before close() had its answer
    fs.env.update({"MAILFS_TEST_CRASH_AFTER": str(crash_after),
                   "MAILFS_TEST_HOLD_FLUSH": "1"})
    fs.mount()
    data = message(50)
    write(fs.m("Outbox", "crash.eml"), data)
    subprocess.run([MAILFS, "flush", fs.mnt], capture_output=True,
                   timeout=60)
    fs.proc.wait(timeout=30)
    from mailfs_mount import fsconf
    fsconf.unmount_path(fs.mnt)
    fs.proc = None
    fs.env.pop("MAILFS_TEST_CRASH_AFTER")
    fs.env.pop("MAILFS_TEST_HOLD_FLUSH")
    fs.mount()
    fs.flush()
    assert len(sink.messages) == sent
    if held:
        assert os.listdir(fs.m("Outbox")) == ["crash.eml"]
        why = os.getxattr(fs.m("Outbox", "crash.eml"),
                          "user.mail.error").decode()
        assert "not sent again" in why
    else:
        assert outbox_becomes(fs, [])
    copies = [crlf(m.data) for m in fs.dovecot.list_messages(fs.user,
                                                               "Sent")]
    assert copies == ([crlf(data)] if not held else [])
    fs.unmount()


def test_connection_lost_after_the_message_is_held(dovecot_server,
                                                    imap_mount_factory,
                                                    tmp_path, sink):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path,
                    sink).mount()
    sink.drop_after_data = True
    path = fs.m("Outbox", "lost.eml")
    write(path, message(60))
    fs.flush(check=False)
    assert len(sink.messages) == 1
    assert os.listdir(fs.m("Outbox")) == ["lost.eml"]
    why = os.getxattr(path, "user.mail.error").decode()
    assert "may have taken it" in why, why
    sink.drop_after_data = False
    fs.flush()
    assert len(sink.messages) == 1      # never again by itself
    fs.unmount()


def test_outbox_is_not_a_folder_to_change(dovecot_server,
                                          imap_mount_factory, tmp_path,
                                          sink):
    fs = sink_mount(dovecot_server, imap_mount_factory, tmp_path, sink)
    fs.extra_args += ["-o", "writeback=off"]
    fs.mount()
    for bad in (lambda: os.mkdir(fs.m("Outbox", "sub")),
                lambda: os.rmdir(fs.m("Outbox")),
                lambda: os.rename(fs.m("Outbox"), fs.m("Other"))):
        with pytest.raises(OSError):
            bad()
    # a message is copied in, not moved (mv does that on EXDEV)
    dovecot_server.append(fs.user, "INBOX", message(70))
    fs.unmount()
    fs.mount()
    def inbox():
        return [fs.m("INBOX", sub, n) for sub in ("cur", "new")
                for n in os.listdir(fs.m("INBOX", sub))]
    # a remount lists from the cache at once and syncs after
    assert wait_until(lambda: len(inbox()) == 1)
    (path,) = inbox()
    with pytest.raises(OSError) as err:
        os.rename(path, fs.m("Outbox", "moved.eml"))
    assert err.value.errno == 18      # EXDEV
    subprocess.run(["mv", path, fs.m("Outbox", "moved.eml")], check=True)
    fs.flush()
    assert len(sink.messages) == 1
    assert outbox_becomes(fs, [])
    fs.unmount()


def test_a_pop3_account_sends_without_a_copy(dovecot_server,
                                             imap_mount_factory, tmp_path,
                                             sink):
    """POP3 has no folders: the message is sent and leaves Outbox/; there
    is nowhere for a copy (the mount still shows INBOX only)."""
    from mailfs_mount import write_mailfs_config, write_password_file
    user, password = dovecot_server.add_user()
    sink.users[user] = password
    pw = write_password_file(str(tmp_path / "pop3.password"), password)
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "pop3", {
        "type": "pop3", "host": "127.0.0.1",
        "port": dovecot_server.pop3s_port, "tls": "implicit",
        "ca_file": dovecot_server.ca_file, "user": user,
        "password_file": pw, "smtp": sink.url, "timeout": 10})
    fs = imap_mount_factory(conf, "pop3").mount()
    assert sorted(os.listdir(fs.mnt)) == [".mailfs", "INBOX", "Outbox"]
    write(fs.m("Outbox", "p.eml"), message(80))
    fs.flush()
    assert len(sink.messages) == 1
    assert outbox_becomes(fs, [])
    assert sorted(os.listdir(fs.mnt)) == [".mailfs", "INBOX", "Outbox"]
    fs.unmount()
