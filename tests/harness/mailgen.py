"""Realistic generated mail for the tests and benchmarks: RFC 5322
messages with CRLF line ends, 2-50 KB of text, optionally a base64
attachment, reproducible from a seed (random.Random).

  generate_message(n, rng, size=, attachment=, date=)  -> (bytes, Message-ID)
"""

import base64
import email.utils
import random
import time


_WORDS = ("the of and to in is that for it as was with be by on not he this "
          "are or his from at which but have an they you were her she there "
          "one all we their can has been if more when will would who so no "
          "meeting report budget quarter draft review attached please thanks "
          "regards project deadline schedule invoice customer release server "
          "mailbox folder message archive backup network update agenda notes "
          "Zürich naïve café résumé façade").split()


def _text_lines(rng, count):
    lines = []
    for _ in range(count):
        n = rng.randint(4, 14)
        line = " ".join(rng.choice(_WORDS) for _ in range(n))
        lines.append(line[0].upper() + line[1:] + ".")
    return lines


def generate_message(n, rng=None, size=None, attachment=None,
                     date=None, domain="example.org"):
    """A realistic RFC 5322 message (CRLF line ends) as bytes, and its
    Message-ID.

    size        approximate size of the text part (default 2-50 KB, random)
    attachment  size in bytes of a binary attachment (base64 encoded, so
                about 4/3 of that on the wire), 0 for none; default: none
    date        Unix time of the Date header (default now)
    """
    rng = rng or random.Random(n)
    if size is None:
        size = rng.randint(2 * 1024, 50 * 1024)
    if date is None:
        date = time.time()
    people = ["Alice Example <alice@%s>" % domain,
              "Bob Example <bob@%s>" % domain,
              "Carol Sample <carol@example.net>",
              "Dave Müller <dave@example.com>"]
    sender = rng.choice(people)
    to = rng.choice([p for p in people if p != sender])
    msgid = "<gen.%d.%08x@%s>" % (n, rng.getrandbits(32), domain)
    subject = "%s %d" % (rng.choice(["Re: quarterly report", "Meeting notes",
                                     "Invoice", "Fwd: backup plan",
                                     "Release schedule", "Grüße aus Zürich"]),
                         n)
    if not subject.isascii():
        subject = "=?UTF-8?B?%s?=" % base64.b64encode(subject.encode()).decode()
    hdr = [
        ("Return-Path", "<%s>" % sender.split("<")[1].rstrip(">")),
        ("Received", "from mx.%s (mx.%s [192.0.2.%d]) by imap.%s with ESMTPS "
                     "id %08X; %s" % (domain, domain, n % 250 + 1, domain,
                                      rng.getrandbits(32),
                                      email.utils.formatdate(date))),
        ("From", sender),
        ("To", to),
        ("Subject", subject),
        ("Date", email.utils.formatdate(date)),
        ("Message-ID", msgid),
        ("MIME-Version", "1.0"),
    ]
    lines = _text_lines(rng, 60)
    text = []
    total = 0
    while total < size:
        line = rng.choice(lines)
        text.append(line)
        total += len(line.encode()) + 2
        if rng.random() < 0.15:
            text.append("")
            total += 2
    body_text = "\r\n".join(text) + "\r\n"
    if not attachment:
        hdr.append(("Content-Type", "text/plain; charset=utf-8"))
        hdr.append(("Content-Transfer-Encoding", "8bit"))
        body = body_text
    else:
        boundary = "=_mailfs_%016x" % rng.getrandbits(64)
        hdr.append(("Content-Type",
                    'multipart/mixed; boundary="%s"' % boundary))
        blob = rng.randbytes(attachment)
        b64 = base64.encodebytes(blob).decode().replace("\n", "\r\n")
        fname = "scan-%d.pdf" % n
        body = ("This is a multi-part message in MIME format.\r\n\r\n"
                "--%s\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n"
                "%s\r\n"
                "--%s\r\n"
                "Content-Type: application/pdf; name=\"%s\"\r\n"
                "Content-Disposition: attachment; filename=\"%s\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n"
                "%s"
                "--%s--\r\n" % (boundary, body_text, boundary, fname, fname,
                                b64, boundary))
    head = "".join("%s: %s\r\n" % h for h in hdr)
    return (head + "\r\n" + body).encode("utf-8"), msgid
