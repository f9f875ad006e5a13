"""The MAPI client's change notification (protocols/mapi/watch.c) against
tests/harness/fakemapi.py: RopRegisterNotification on the store, the
NotificationWait long poll (fakemapi's .event_pending and .notify_wait),
the RopNotify entries a real server (gromox) sent after a mail reached
the Inbox (07-notifications.json), the fallback to polling when
NotificationWait fails, and how soon the watcher stops.
"""

from conftest import USER

INBOX = "0x0D00000000000001"
EVERYTHING = "0x0000000000000000"


def _changes(r):
    return [tuple(v.split(" ")) for v in r.values("change")]


def _stopped_ms(r):
    return int(r.values("stopped")[-1])


def test_an_event_names_the_inbox(fake, probe):
    fake.event_pending = 1
    fake.notify_wait = 0.5
    r = probe(fake, "watch", "3", "60")
    assert r.returncode == 0, r.stderr
    assert fake.errors == [] and fake.unanswered == []
    changes = _changes(r)
    # every event: the Inbox's contents, and nothing else
    assert changes and set(changes) == {(INBOX, "0")}
    assert _stopped_ms(r) < 1000
    kinds = [k for k, path, h, b in fake.requests]
    assert "NotificationWait" in kinds
    # after each event an Execute fetched its RopNotify entries
    waits = kinds.count("NotificationWait")
    assert kinds.count("Execute") >= 1 + min(waits - 1, 1)
    # the long poll carries the session, not its sequence
    for kind, path, headers, body in fake.requests:
        if kind == "NotificationWait":
            assert path == "/mapi/emsmdb/?MailboxId=" + USER
            assert "sid=" in headers["Cookie"]
            assert "sequence=" not in headers["Cookie"]


def test_registration_covers_the_whole_store(fake, probe):
    fake.notify_wait = 0.2
    r = probe(fake, "watch", "1", "60")
    assert r.returncode == 0, r.stderr
    assert fake.unanswered == []
    execs = [b for k, p, h, b in fake.requests if k == "Execute"]
    # Logon, then RegisterNotification: 0x29, types 0x7E, whole store
    body = execs[1]
    at = body.find(b"\x29\x00")
    assert at > 0 and body[at + 4] == 0x7E and body[at + 6] == 1
    assert _changes(r) == []


def test_failing_notification_wait_falls_back_to_polling(fake, probe):
    fake.hostile["NotificationWait"] = "code"
    fake.hostile_code = 9
    r = probe(fake, "watch", "3", "1")
    assert r.returncode == 0, r.stderr
    changes = _changes(r)
    assert len(changes) >= 2 and set(changes) == {(EVERYTHING, "0")}
    assert r.stderr.count("notifications fail") == 1
    assert "every 1 s" in r.stderr
    assert _stopped_ms(r) < 1000


def test_notifications_come_back_after_a_failure(fake, probe):
    fake.hostile["NotificationWait"] = "503"
    fake.hostile_left["NotificationWait"] = 1
    fake.event_pending = 1
    fake.notify_wait = 0.3
    r = probe(fake, "watch", "4", "1")
    assert r.returncode == 0, r.stderr
    changes = _changes(r)
    assert changes[0] == (EVERYTHING, "0")
    assert (INBOX, "0") in changes


def test_a_forgotten_session_is_registered_again(fake, probe):
    fake.event_pending = 1
    fake.notify_wait = 0.3
    fake.hostile["NotificationWait"] = "code"
    fake.hostile_left["NotificationWait"] = 1
    fake.hostile_code = 2
    r = probe(fake, "watch", "3", "60")
    assert r.returncode == 0, r.stderr
    assert fake.errors == [] and fake.unanswered == []
    # the lost session: fid 0 once, then the Inbox again
    changes = _changes(r)
    assert (INBOX, "0") in changes
    kinds = [k for k, path, h, b in fake.requests]
    assert kinds.count("NotificationWait") >= 2


def test_stopping_wakes_the_long_poll(fake, probe):
    fake.notify_wait = 30
    r = probe(fake, "watch", "1", "60", limit=20)
    assert r.returncode == 0, r.stderr
    assert _stopped_ms(r) < 1000
    assert r.seconds < 10
    assert _changes(r) == []


def test_an_empty_answer_at_once_is_not_a_busy_loop(fake, probe):
    # NotificationWait answered at once with nothing pending
    r = probe(fake, "watch", "3", "60")
    assert r.returncode == 0, r.stderr
    kinds = [k for k, path, h, b in fake.requests]
    assert 2 <= kinds.count("NotificationWait") <= 4
    assert _changes(r) == []
