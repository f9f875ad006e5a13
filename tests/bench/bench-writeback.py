#!/usr/bin/python3
"""bench-writeback.py - the write-back cache: delivering into a mounted
IMAP account, against a local copy and against mbsync pushing the same mail.

BENCH_MESSAGES small messages (default 1,000; 1-4 KB of text, Maildir
names `<unique>:2,<flags>`) are generated into a source Maildir. On a
Dovecot started here (tests/harness/dovecot.py) it prints:

  (a) `cp -r SRC/cur/. MOUNT/INBOX/cur/` on a fresh mount of an empty
      account, until the command returns, against the same cp into a plain
      local directory;
  (b) then `mailfs flush MOUNT`, until it returns, against mbsync pushing
      the same files from a local Maildir to another empty account on the
      same Dovecot (Sync Push).  The flusher works while cp runs, so this
      is what is left at the end; the sum of both is printed too;
  (b') the flush of all of it, on a mount whose flusher waited for the
      flush (the MAILFS_TEST_HOLD_FLUSH hook): how fast the journal itself
      reaches the server, against the same mbsync push.

After each side it checks that the server holds exactly BENCH_MESSAGES
messages, one for each Message-ID of the source (no duplicates, none
missing), each with the source's bytes (for mbsync, once the X-TUID header
line it adds is taken out) and the flags of its file name. It prints
figures; it is not a pass/fail test (but it stops with an error when a
check fails).

Each side runs BENCH_ROUNDS times (default 2), on a fresh account each
time, the sides taking turns at going first; the best time counts.

Environment: MAILFS (default build/mailfs), BENCH_MESSAGES, BENCH_ROUNDS,
BENCH_KEEP=1 (keep the directories).
"""

import collections
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

from dovecot import Dovecot  # noqa: E402
from mailfs_mount import (ImapMailFS, fsconf,  # noqa: E402
                          write_password_file)
from mailgen import generate_message  # noqa: E402
from mbsync import run_mbsync, write_mbsyncrc  # noqa: E402

MAILFS = os.environ.get("MAILFS", os.path.join(REPO, "build", "mailfs"))
COUNT = int(os.environ.get("BENCH_MESSAGES", "1000"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "2")))
FLUSH_TIMEOUT = 1800
FLAGS = {"S": "\\Seen", "F": "\\Flagged", "R": "\\Answered"}


def fail(text):
    sys.exit("bench-writeback: " + text)


def timed(args, **kw):
    t0 = time.monotonic()
    r = subprocess.run(args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        fail("%s exited with %d: %s" % (
            " ".join(args[:2]), r.returncode,
            r.stdout.decode(errors="replace")[-3000:]))
    return dt


def make_source(root, count):
    """count messages in root/cur (with tmp/ and new/ beside it), named as
    a delivery agent would. Returns {Message-ID: (sha256 of the bytes,
    the IMAP flags its name gives)}."""
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub))
    rng = random.Random(4)
    flag_choices = ("S", "S", "S", "", "FS", "RS")
    now = int(time.time())
    ids = {}
    for i in range(count):
        data, msgid = generate_message(i, rng, size=rng.randint(1024, 4096),
                                       date=now - 60 * (count - i))
        letters = rng.choice(flag_choices)
        name = "%d.M%06dP%dQ%d.bench:2,%s" % (now, i, os.getpid(), i + 1,
                                              letters)
        with open(os.path.join(root, "cur", name), "wb") as f:
            f.write(data)
        if msgid in ids:
            fail("generated the Message-ID %s twice" % msgid)
        ids[msgid] = (hashlib.sha256(data).hexdigest(),
                      frozenset(FLAGS[c] for c in letters))
    return ids


def without_tuid(data):
    """The bytes without the X-TUID header line mbsync adds to what it
    uploads (to find the message again)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    head = re.sub(rb"(?m)^X-TUID: [^\r\n]*\r\n", b"", head + b"\r\n",
                  count=1)[:-2]
    return head + sep + body


def server_messages(dovecot, user, normalise):
    """[(Message-ID, (sha256 of normalise(bytes), flags))] of every
    message in INBOX."""
    out = []
    for m in dovecot.list_messages(user, "INBOX"):
        found = re.search(rb"(?im)^Message-ID:\s*(<[^>\r\n]*>)", m.data)
        msgid = found.group(1).decode() if found else None
        out.append((msgid, (hashlib.sha256(normalise(m.data)).hexdigest(),
                            frozenset(m.flags))))
    return out


def check_server(dovecot, user, source, side, normalise=bytes):
    """Exactly one message on the server for every source Message-ID, with
    the source's bytes (once normalise() is applied to the server's) and
    flags."""
    held = server_messages(dovecot, user, normalise)
    seen = collections.Counter(msgid for msgid, _ in held)
    twice = [i for i, n in seen.items() if n > 1]
    missing = set(source) - set(seen)
    strange = set(seen) - set(source)
    problems = []
    if len(held) != len(source):
        problems.append("%d messages on the server, %d expected"
                        % (len(held), len(source)))
    if twice:
        problems.append("%d Message-IDs more than once (e.g. %s)"
                        % (len(twice), twice[0]))
    if missing:
        problems.append("%d missing (e.g. %s)"
                        % (len(missing), sorted(missing)[0]))
    if strange:
        problems.append("%d not from the source (e.g. %s)"
                        % (len(strange), sorted(strange, key=str)[0]))
    if not problems:
        other_bytes = [i for i, (digest, _) in held if source[i][0] != digest]
        other_flags = [(i, sorted(fl)) for i, (_, fl) in held
                       if source[i][1] != fl]
        if other_bytes:
            problems.append("%d with other bytes than the source (e.g. %s)"
                            % (len(other_bytes), other_bytes[0]))
        if other_flags:
            problems.append("%d with other flags than the source's names "
                            "(e.g. %s %s)" % (len(other_flags),
                                              *other_flags[0]))
    if problems:
        fail("%s: the server does not hold the source: %s"
             % (side, "; ".join(problems)))
    return len(held)


def count_files(d):
    return sum(1 for e in os.scandir(d) if e.is_file())


class Bench:
    """The three sides, each run as often as asked, on fresh accounts."""

    def __init__(self, work, dovecot, src, source):
        self.work = work
        self.dovecot = dovecot
        self.src = src
        self.src_cur = os.path.join(src, "cur")
        self.source = source
        self.fs = None              # the mount while one is up
        self.locals, self.cps, self.flushes, self.mbsyncs = [], [], [], []
        self.held = []              # flushes of changes all still queued

    def fresh_user(self, side, r):
        user = "bench-%s-%d" % (side, r)
        self.dovecot.add_user(user, "bench-%s-password-%d" % (side, r))
        # the account was opened once: no side pays for Dovecot creating
        # its index or starting its first processes
        if self.dovecot.status(user, "INBOX")["MESSAGES"] != 0:
            fail("the account %s is not empty" % user)
        return user

    def local(self, r):
        dest = os.path.join(self.work, "local-%d" % r, "cur")
        os.makedirs(dest)
        self.locals.append(timed(["cp", "-r", self.src_cur + "/.",
                                  dest + "/"]))
        if count_files(dest) != COUNT:
            fail("the local copy holds %d files" % count_files(dest))

    def mailfs(self, r, held=False):
        side = "held" if held else "mailfs"
        user = self.fresh_user(side, r)
        d = os.path.join(self.work, "%s-%d" % (side, r))
        conf = self.dovecot.mailfs_config(d, account="bench", user=user)
        self.fs = ImapMailFS(os.path.join(d, "fs"), conf, "bench")
        if held:
            # the test hook that keeps the flusher waiting for a flush:
            # then the flush pushes all of it, which is what mbsync does
            self.fs.env["MAILFS_TEST_HOLD_FLUSH"] = "1"
        self.fs.mount()
        mnt_cur = self.fs.m("INBOX", "cur")
        if not os.path.isdir(mnt_cur):
            fail("no INBOX/cur on the mount")
        # (a) until cp returns
        t_cp = timed(["cp", "-r", self.src_cur + "/.", mnt_cur + "/"])
        # (b) then until `mailfs flush` returns
        t_flush = timed([MAILFS, "flush", self.fs.mnt], env=self.fs.env,
                        timeout=FLUSH_TIMEOUT)
        if held:
            self.held.append(t_flush)
        else:
            self.cps.append(t_cp)
            self.flushes.append(t_flush)
        listed = count_files(mnt_cur)
        if listed != COUNT:
            fail("the mount lists %d files in INBOX/cur after the copy"
                 % listed)
        check_server(self.dovecot, user, self.source, "mailfs")
        unmount(self.fs)
        self.fs = None

    def mbsync(self, r):
        user = self.fresh_user("mbsync", r)
        mb = os.path.join(self.work, "mbsync-%d" % r)
        near = os.path.join(mb, "near")
        shutil.copytree(self.src, os.path.join(near, "INBOX"))
        pwfile = write_password_file(os.path.join(mb, "mbsync.password"),
                                     self.dovecot.users[user])
        # isync 1.4 checks the certificate against DNS names only
        rc = write_mbsyncrc(os.path.join(mb, "mbsyncrc"), near, "localhost",
                            self.dovecot.imaps_port, user, pwfile,
                            ca_file=self.dovecot.ca_file, sync="Push",
                            create="Far", patterns="INBOX")
        t0 = time.monotonic()
        res = run_mbsync(rc, timeout=FLUSH_TIMEOUT)
        self.mbsyncs.append(time.monotonic() - t0)
        if res.returncode != 0:
            fail("mbsync exited with %d:\n%s" % (res.returncode,
                                                  res.stdout[-3000:]))
        check_server(self.dovecot, user, self.source, "mbsync",
                     without_tuid)


def main():
    if not os.path.exists(MAILFS):
        fail("no mailfs binary at %s" % MAILFS)
    if COUNT < 1:
        fail("BENCH_MESSAGES must be at least 1")
    work = tempfile.mkdtemp(prefix="mailfs-bench-writeback-")
    dovecot = Dovecot()
    bench = None
    try:
        t0 = time.monotonic()
        src = os.path.join(work, "source")
        source = make_source(src, COUNT)
        size = sum(os.path.getsize(e.path)
                   for e in os.scandir(os.path.join(src, "cur")))
        gen = time.monotonic() - t0
        dovecot.start()
        bench = Bench(work, dovecot, src, source)

        # Each side runs BENCH_ROUNDS times on fresh accounts, taking turns
        # at going first; the best time of each counts, so that what one
        # run leaves behind weighs on both sides alike.
        for r in range(ROUNDS):
            sides = [bench.local, bench.mailfs, bench.mbsync,
                     lambda r: bench.mailfs(r, held=True)]
            if r % 2:
                sides.reverse()
            for side in sides:
                side(r)
        t_local, t_cp = min(bench.locals), min(bench.cps)
        t_flush, t_mbsync = min(bench.flushes), min(bench.mbsyncs)
        t_total = min(c + f for c, f in zip(bench.cps, bench.flushes))

        print()
        print("mailfs write-back against a local cp and mbsync")
        print("  messages   %d in INBOX/cur, %d KB in all (setup %.1f s)"
              % (COUNT, size // 1024, gen))
        print("  server     after each run: %d messages, every Message-ID "
              "once," % COUNT)
        print("             with the bytes and flags sent")
        print()
        print("%-34s %9s %9s %7s" % ("", "mailfs", "peer", "ratio"))
        print("%-34s %8.2fs %8.2fs %6.2fx" % (
            "(a) cp into INBOX/cur vs local", t_cp, t_local,
            t_cp / max(t_local, 0.001)))
        print("%-34s %8.2fs %8.2fs %6.2fx" % (
            "(b) mailfs flush vs mbsync push", t_flush, t_mbsync,
            t_flush / max(t_mbsync, 0.001)))
        print("%-34s %8.2fs %8.2fs %6.2fx" % (
            "    cp + flush vs mbsync push", t_total, t_mbsync,
            t_total / max(t_mbsync, 0.001)))
        t_held = min(bench.held)
        print("%-34s %8.2fs %8.2fs %6.2fx" % (
            "(b') flush of all, held, vs mbsync", t_held, t_mbsync,
            t_held / max(t_mbsync, 0.001)))
        for label, runs in (("cp to the mount", bench.cps),
                            ("cp to local", bench.locals),
                            ("mailfs flush", bench.flushes),
                            ("flush of all, held", bench.held),
                            ("mbsync push", bench.mbsyncs)):
            print("%-34s %s" % ("    every run: " + label,
                                " ".join("%.3f" % t for t in runs)))
    except BaseException:
        fs = bench.fs if bench is not None else None
        if fs is not None:
            sys.stderr.write("---- end of the mailfs log ----\n%s\n"
                             % fs.log_tail(4000))
        raise
    finally:
        keep = os.environ.get("BENCH_KEEP") == "1"
        fs = bench.fs if bench is not None else None
        if fs is not None:
            unmount(fs)
        dovecot.stop()
        if keep:
            print("kept %s and %s" % (work, dovecot.base))
        else:
            dovecot.cleanup()
            if fs is None or not os.path.ismount(fs.mnt):
                shutil.rmtree(work, ignore_errors=True)
            else:
                print("bench-writeback: %s is still mounted; left %s"
                      % (fs.mnt, work), file=sys.stderr)


def unmount(fs):
    """Unmount (lazily when it stays busy) and wait for the daemon."""
    fsconf.unmount_path(fs.mnt)
    if fs.proc is not None:
        try:
            fs.proc.wait(timeout=fsconf.EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            fs.proc.kill()
            fs.proc.wait()
        fs.proc = None


if __name__ == "__main__":
    main()
