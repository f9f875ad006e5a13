"""Messages queued together in Outbox/ go to the SMTP server over one
connection, each its own transaction, and the folder that takes their
copies is looked up once, not once per message; a server that closes the
connection between messages still gets every message exactly once."""

import os
import time

from test_outbox import (HOLD, crlf, message, outbox_becomes, sink_mount,
                         write)
from test_outbox import sink  # noqa: F401 (a fixture)

COUNT = 20


def queue(fs, first, count=COUNT, **kw):
    """Write `count` messages to Outbox/ while the flusher waits; returns
    their bytes."""
    msgs = [message(first + n, **kw) for n in range(count)]
    for n, data in enumerate(msgs):
        write(fs.m("Outbox", "b%d.eml" % (first + n)), data)
    return msgs


def listings(fs):
    """How many times the mount has listed the server's folders so far
    (the store's trace, logged with -d)."""
    with open(fs.log, errors="replace") as f:
        return sum(1 for line in f if " list_folders - - -> " in line)


def batch_mount(dovecot, factory, tmp_path, sink):
    fs = sink_mount(dovecot, factory, tmp_path, sink, poll_interval=3600)
    fs.env.update(HOLD)
    if "-d" not in fs.extra_args:
        fs.extra_args.append("-d")
    return fs.mount()


def same(got, want):
    return sorted(g.rstrip(b"\r\n") for g in got) == \
        sorted(w.replace(b"\n", b"\r\n").rstrip(b"\r\n") for w in want)


def test_a_batch_goes_over_one_connection(dovecot_server,
                                          imap_mount_factory, tmp_path,
                                          sink):
    fs = batch_mount(dovecot_server, imap_mount_factory, tmp_path, sink)
    msgs = queue(fs, 100)
    before = listings(fs)
    fs.flush()
    assert same([m.data for m in sink.messages], msgs)
    # one transaction each: every message its own envelope
    assert all(m.rcpts == ["bob@example.org"] for m in sink.messages)
    assert sink.connections == 1, sink.connections
    assert outbox_becomes(fs, [])
    assert sorted(crlf(m.data) for m in fs.dovecot.list_messages(
        fs.user, "Sent")) == sorted(crlf(d) for d in msgs)
    # the sent folder was looked up once, not once a message
    assert listings(fs) - before <= 2, listings(fs) - before
    fs.unmount()


def test_a_refused_recipient_costs_only_its_message(dovecot_server,
                                                    imap_mount_factory,
                                                    tmp_path, sink):
    fs = batch_mount(dovecot_server, imap_mount_factory, tmp_path, sink)
    sink.refuse.add("nobody@example.org")
    good = queue(fs, 200, count=5)
    write(fs.m("Outbox", "bad.eml"), message(250, to="nobody@example.org"))
    good += queue(fs, 300, count=5)
    fs.flush(check=False)
    # the others each went once; the refused one stays, with the reply
    assert same([m.data for m in sink.messages], good)
    assert outbox_becomes(fs, ["bad.eml"])
    why = os.getxattr(fs.m("Outbox", "bad.eml"), "user.mail.error").decode()
    assert "550" in why, why
    # a connection for the messages before the refusal, one after
    assert sink.connections <= 3, sink.connections
    fs.unmount()


def test_a_server_closing_between_messages_gets_each_once(
        dovecot_server, imap_mount_factory, tmp_path, sink):
    fs = batch_mount(dovecot_server, imap_mount_factory, tmp_path, sink)
    # every second message finds its connection gone, silently
    sink.drop_after_messages = 2
    msgs = queue(fs, 400)
    fs.flush()      # no failure: a lost idle connection is not one
    assert same([m.data for m in sink.messages], msgs)
    assert outbox_becomes(fs, [])
    # two messages a connection, not one
    assert sink.connections <= COUNT // 2 + 1, sink.connections
    fs.unmount()


def test_the_batch_ends_with_the_queue(dovecot_server, imap_mount_factory,
                                       tmp_path, sink):
    """Once Outbox/ is empty the connection is closed, and a later
    message makes a new one."""
    fs = batch_mount(dovecot_server, imap_mount_factory, tmp_path, sink)
    msgs = queue(fs, 500, count=3)
    fs.flush()
    assert sink.connections == 1
    assert _sessions_open(sink) == 0
    # the flusher is held only until the first flush: these three may go
    # as they are written, each finding the queue empty behind it
    msgs += queue(fs, 600, count=3)
    fs.flush()
    assert same([m.data for m in sink.messages], msgs)
    assert 2 <= sink.connections <= 4, sink.connections
    assert _sessions_open(sink) == 0
    fs.unmount()


def _sessions_open(sink):
    """SMTP sessions still open at the sink, after a moment to settle."""
    end = time.monotonic() + 10
    while time.monotonic() < end and sink.open_sessions():
        time.sleep(0.1)
    return sink.open_sessions()
