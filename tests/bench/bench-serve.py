#!/usr/bin/python3
"""bench-serve.py - `mailfs serve` under clients we did not write.

On a store of BENCH_MESSAGES messages (default 5,000; 2-20 KB) in INBOX it
prints:

  (a) mbsync pulling the whole store over IMAP into a Maildir;
  (b) 50 IMAP sessions selecting, fetching headers and appending, with an
      SMTP client delivering, for BENCH_SECONDS (default 30): commands and
      deliveries per second, and that nothing failed or went missing;
  (c) POP3: LIST, UIDL and RETR of every message in one session;
  (d) the server's peak resident memory.

It prints figures; it is not a pass/fail test.
Environment: MAILFS (default build/mailfs), BENCH_MESSAGES, BENCH_SECONDS,
BENCH_KEEP=1 keeps the working directory.
"""

import imaplib
import os
import poplib
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

from mbsync import run_mbsync, write_mbsyncrc  # noqa: E402

MAILFS = os.environ.get("MAILFS", os.path.join(REPO, "build", "mailfs"))
COUNT = int(os.environ.get("BENCH_MESSAGES", "5000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
USER, PASSWORD = "bench", "bench password"


def message(i, rnd):
    body = "".join("line %d of message %d %s\r\n" % (k, i, "x" * rnd.randint(10, 60))
                   for k in range(rnd.randint(40, 300)))
    return ("From: Sender %d <s%d@example.org>\r\nTo: bench@example.org\r\n"
            "Subject: message %d\r\nMessage-ID: <%d@bench.example>\r\n"
            "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\n%s"
            % (i % 97, i % 97, i, i, body)).encode()


def fill(store):
    rnd = random.Random(1)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(store, "INBOX", sub), exist_ok=True)
    for i in range(COUNT):
        name = "%d.M%dP1.bench:2,%s" % (1700000000 + i, i, "S" if i % 3 else "")
        with open(os.path.join(store, "INBOX", "cur", name), "wb") as f:
            f.write(message(i, rnd))


def start(store, pwfile):
    p = subprocess.Popen([MAILFS, "serve", "--store", store, "--user", USER,
                          "--password-file", pwfile, "--imap", "127.0.0.1:0",
                          "--pop3", "127.0.0.1:0", "--smtp", "127.0.0.1:0"],
                         stderr=subprocess.PIPE, text=True)
    ports = {}
    while len(ports) < 3:
        line = p.stderr.readline()
        if not line:
            raise SystemExit("mailfs serve did not start")
        m = re.search(r"(\w+): listening on .*:(\d+)$", line)
        if m:
            ports[m.group(1)] = int(m.group(2))
    threading.Thread(target=lambda: p.stderr.read(), daemon=True).start()
    return p, ports


def peak_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def load(ports):
    end = time.monotonic() + SECONDS
    counts = {"commands": 0, "appends": 0, "deliveries": 0}
    errors = []
    lock = threading.Lock()

    def imap_worker(n):
        try:
            m = imaplib.IMAP4("127.0.0.1", ports["imap"], timeout=120)
            m.login(USER, PASSWORD)
            r = 0
            while time.monotonic() < end:
                m.select("INBOX")
                typ, data = m.fetch("%d:*" % max(1, COUNT - 50),
                                    "(FLAGS BODY.PEEK[HEADER])")
                assert typ == "OK"
                assert m.append("INBOX", None, None,
                                message(COUNT + n * 100000 + r,
                                        random.Random(r)))[0] == "OK"
                r += 1
                with lock:
                    counts["commands"] += 3
                    counts["appends"] += 1
            m.logout()
        except Exception as e:
            errors.append("imap %d: %r" % (n, e))

    def smtp_worker():
        try:
            with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=120) as s:
                s.login(USER, PASSWORD)
                i = 0
                while time.monotonic() < end:
                    s.sendmail("b@example.org", ["bench@example.org"],
                               message(10 ** 7 + i, random.Random(i)))
                    i += 1
                    with lock:
                        counts["deliveries"] += 1
        except Exception as e:
            errors.append("smtp: %r" % e)

    threads = [threading.Thread(target=imap_worker, args=(n,))
               for n in range(50)] + [threading.Thread(target=smtp_worker)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts, errors, time.monotonic() - t0


def main():
    work = tempfile.mkdtemp(prefix="mailfs-bench-serve-")
    store = os.path.join(work, "store")
    pwfile = os.path.join(work, "password")
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, PASSWORD.encode())
    os.close(fd)
    fill(store)
    p, ports = start(store, pwfile)
    try:
        rc = write_mbsyncrc(os.path.join(work, "mbsyncrc"),
                            os.path.join(work, "near"), "127.0.0.1",
                            ports["imap"], USER, pwfile, ssl_type="None",
                            auth_mechs="LOGIN")
        t0 = time.monotonic()
        res = run_mbsync(rc)
        took = time.monotonic() - t0
        print("(a) mbsync pull of %d messages: %.1f s (%s)"
              % (COUNT, took, "ok" if res.returncode == 0 else "FAILED"))

        before = len(os.listdir(os.path.join(store, "INBOX", "cur"))) + \
            len(os.listdir(os.path.join(store, "INBOX", "new")))
        counts, errors, took = load(ports)
        after = len(os.listdir(os.path.join(store, "INBOX", "cur"))) + \
            len(os.listdir(os.path.join(store, "INBOX", "new")))
        lost = before + counts["appends"] + counts["deliveries"] - after
        print("(b) 50 IMAP sessions + SMTP for %.0f s: %.0f IMAP commands/s, "
              "%.1f deliveries/s, %d errors, %d messages missing"
              % (took, counts["commands"] / took, counts["deliveries"] / took,
                 len(errors), lost))
        for e in errors[:5]:
            print("    " + e)

        t0 = time.monotonic()
        pop = poplib.POP3("127.0.0.1", ports["pop3"], timeout=120)
        pop.user(USER)
        pop.pass_(PASSWORD)
        n = len(pop.list()[1])
        pop.uidl()
        size = 0
        for i in range(1, n + 1):
            size += sum(len(l) + 2 for l in pop.retr(i)[1])
        pop.quit()
        took = time.monotonic() - t0
        print("(c) POP3 LIST, UIDL, RETR of %d messages (%.0f MB): %.1f s"
              % (n, size / 1e6, took))
        print("(d) server peak memory: %d MB" % (peak_kb(p.pid) // 1024))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(30)
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("kept %s" % work)


if __name__ == "__main__":
    main()
