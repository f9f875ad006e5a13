"""FindItem's restrictions and sort orders, sent by exchangelib's query
API: each answer is checked against the messages of the store, and a
restriction on a property the server cannot search is refused rather than
answered with every message."""

import datetime

import pytest

from conftest import account, put_message

MSGS = {
    "1000.a": (b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
               b"Subject: Quarterly report\r\nMessage-ID: <a@x>\r\n"
               b"Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\n"
               b"Numbers inside.\r\n", "S"),
    "1001.b": (b"From: Carol <carol@example.org>\r\nTo: alice@example.org\r\n"
               b"Subject: lunch?\r\nMessage-ID: <b@x>\r\n"
               b"Date: Mon, 07 Dec 2026 11:00:00 +0000\r\n\r\n"
               b"Noon at the usual place.\r\n" + b"x" * 4000 + b"\r\n", ""),
    "1002.c": (b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
               b"Subject: report, second draft\r\nMessage-ID: <c@x>\r\n"
               b"Date: Mon, 07 Dec 2026 12:00:00 +0000\r\n\r\n"
               b"Better numbers.\r\n", "FS"),
}


@pytest.fixture
def acc(ews_server):
    for unique, (data, flags) in MSGS.items():
        put_message(ews_server.store, "INBOX", unique, data, flags)
    return account(ews_server)


def subjects(qs):
    return sorted(m.subject for m in qs)


def test_is_read(acc):
    assert subjects(acc.inbox.filter(is_read=False)) == ["lunch?"]
    assert subjects(acc.inbox.filter(is_read=True)) == [
        "Quarterly report", "report, second draft"]


def test_subject_contains_folds_case(acc):
    assert subjects(acc.inbox.filter(subject__icontains="REPORT")) == [
        "Quarterly report", "report, second draft"]
    assert subjects(acc.inbox.filter(subject__startswith="report")) == [
        "report, second draft"]
    assert subjects(acc.inbox.filter(subject__icontains="nothing")) == []


def test_and_or_not(acc):
    from exchangelib import Q
    q = Q(subject__icontains="report") & ~Q(is_read=False)
    assert len(list(acc.inbox.filter(q))) == 2
    q = Q(subject__icontains="lunch") | Q(subject__icontains="draft")
    assert subjects(acc.inbox.filter(q)) == ["lunch?",
                                             "report, second draft"]
    q = ~Q(subject__icontains="report")
    assert subjects(acc.inbox.filter(q)) == ["lunch?"]


def test_size_and_order(acc):
    big = acc.inbox.filter(size__gt=3000)
    assert subjects(big) == ["lunch?"]
    ordered = [m.size for m in acc.inbox.all().order_by("size")]
    assert ordered == sorted(ordered)
    ordered = [m.size for m in acc.inbox.all().order_by("-size")]
    assert ordered == sorted(ordered, reverse=True)


def test_dates(acc):
    # the store's arrival date is the file's time: now
    since = datetime.datetime.now(datetime.timezone.utc) - \
        datetime.timedelta(hours=1)
    from exchangelib import EWSDateTime
    when = EWSDateTime.from_datetime(since)
    assert len(list(acc.inbox.filter(datetime_received__gt=when))) == 3
    assert list(acc.inbox.filter(datetime_received__lt=when)) == []


def test_unsupported_property_is_refused(acc):
    from exchangelib.errors import ErrorUnsupportedPathForQuery
    with pytest.raises(ErrorUnsupportedPathForQuery):
        list(acc.inbox.filter(importance="High"))
