#!/usr/bin/python3
"""bench-imap.py - mailfs over IMAP against mbsync, on one generated account.

On a Dovecot started here (tests/harness/dovecot.py) with BENCH_MESSAGES
messages (default 10,000; 2-50 KB, 5% with a 100 KB-1 MB attachment) in
three folders, it prints:

  (a) a first backup: `rsync -a MOUNT/ DIR/` from an empty cache (mount
      included) against `mbsync` pulling the account into a Maildir;
  (b) a second, no-change `rsync -a` over the warm mount against rsync
      between two local Maildirs;
  (c) the time to list every file after a remount;
  (d) the daemon's peak resident memory.

Both sides run after Dovecot has indexed the folders and the mail files are
in the page cache, so neither pays for the other's warm-up, and after the
files of the previous run are deleted and have aged past the window in
which ext4 passes over recently deleted inodes (vm.dirty_expire_centisecs),
so neither pays for the other's cleanup.  It prints figures; it is not a
pass/fail test.

Environment: MAILFS (default build/mailfs), BENCH_MESSAGES, BENCH_ROUNDS
(runs of (a) per side, default 2, the best counting), BENCH_SETTLE
(seconds to wait after a cleanup; default that window), BENCH_KEEP=1,
BENCH_PERF=PATH (a system-wide `perf record` of the last run of each side,
into PATH.mailfs and PATH.mbsync).
"""

import imaplib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))

from dovecot import Dovecot  # noqa: E402
from mbsync import mbsync_pull  # noqa: E402

MAILFS = os.environ.get("MAILFS", os.path.join(REPO, "build", "mailfs"))
COUNT = int(os.environ.get("BENCH_MESSAGES", "10000"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "2")))
USER = "bench"


def timed(args, **kw):
    t0 = time.monotonic()
    r = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       **kw)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("bench-imap: %s failed: %s" % (args[0], r.stderr[-2000:]))
    return dt


def warm(dovecot):
    """Have Dovecot index every folder, and read every mail file once."""
    names = [n for n, attrs in dovecot.list_folders(USER).items()
             if "\\Noselect" not in attrs]
    c = imaplib.IMAP4("127.0.0.1", dovecot.imap_port)
    c.login(USER, dovecot.users[USER])
    for name in names:
        typ, _ = c.select('"%s"' % name, readonly=True)
        if typ == "OK":
            c.uid("FETCH", "1:*", "(RFC822.SIZE FLAGS INTERNALDATE)")
    c.logout()
    subprocess.run(["find", dovecot.user_dir(USER), "-type", "f", "-exec",
                    "cat", "{}", "+"], stdout=subprocess.DEVNULL, check=True)


class Mount:
    def __init__(self, conf, cache, mnt):
        self.args = [MAILFS, "-f", "--config", conf, "-o",
                     "cache_dir=%s" % cache, "bench", mnt]
        self.mnt = mnt
        self.proc = None

    def start(self):
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None:
                sys.exit("bench-imap: mailfs exited: %s"
                         % self.proc.stderr.read().decode(errors="replace"))
            time.sleep(0.01)
        return time.monotonic() - t0

    def peak_rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        subprocess.run(["fusermount3", "-u", self.mnt], check=False)
        self.proc.wait(timeout=60)


def profiled(last, side):
    """A system-wide profile of what follows, when BENCH_PERF asks for one;
    returns what stop_profile() takes."""
    if not last or not os.environ.get("BENCH_PERF"):
        return None
    perf = subprocess.Popen(
        ["perf", "record", "-a", "-g", "-F", "499", "-o",
         "%s.%s" % (os.environ["BENCH_PERF"], side)],
        stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return perf


def stop_profile(perf):
    if perf:
        perf.send_signal(2)
        perf.wait()


def main():
    if not os.path.exists(MAILFS):
        sys.exit("bench-imap: no mailfs binary at %s" % MAILFS)
    work = tempfile.mkdtemp(prefix="mailfs-bench-imap-")
    dovecot = Dovecot()
    try:
        dovecot.add_user(USER, "bench-password")
        t0 = time.monotonic()
        shares = [("INBOX", 0.5), ("Archive/2024", 0.3), ("Lists", 0.2)]
        made = 0
        for i, (folder, share) in enumerate(shares):
            n = COUNT - made if i == len(shares) - 1 else int(COUNT * share)
            dovecot.fill(USER, folder, count=n, seed=i + 1,
                         attachment_ratio=0.05)
            made += n
        dovecot.start()
        warm(dovecot)
        size = int(subprocess.run(["du", "-sb", dovecot.user_dir(USER)],
                                  capture_output=True, text=True,
                                  check=True).stdout.split()[0])
        gen = time.monotonic() - t0

        # (a) first backup.  Each side runs BENCH_ROUNDS times, taking
        # turns at going first, and the best time of each counts: what one
        # run leaves behind (page cache, files just deleted, which ext4 is
        # slow to reuse) then weighs on both sides alike.
        conf = dovecot.mailfs_config(work, account="bench", user=USER)
        mnt = os.path.join(work, "mnt")
        os.makedirs(mnt)
        backup = os.path.join(work, "backup")
        cache = os.path.join(work, "cache")
        m = Mount(conf, cache, mnt)
        firsts, mbsyncs, mounts = [], [], []

        def settle():
            """After a round's files are deleted: ext4 passes over inodes
            deleted in the last dirty_expire seconds when it allocates new
            ones, which makes whichever side runs next pay for the other's
            cleanup (mailfs deletes twice as many files: its cache and
            the backup).  Both sides start once those have aged."""
            os.sync()
            with open("/proc/sys/vm/dirty_expire_centisecs") as f:
                wait = int(f.read()) / 100 + 1
            time.sleep(float(os.environ.get("BENCH_SETTLE", wait)))

        def run_mbsync(last):
            shutil.rmtree(os.path.join(work, "mbsync"), ignore_errors=True)
            settle()
            perf = profiled(last, "mbsync")
            t0 = time.monotonic()
            near_dir, r = mbsync_pull(dovecot, USER,
                                      os.path.join(work, "mbsync"))
            mbsyncs.append(time.monotonic() - t0)
            stop_profile(perf)
            if r.returncode != 0:
                sys.exit("bench-imap: mbsync failed:\n" + r.stdout[-3000:])
            return near_dir

        def run_mailfs(last):
            for d in (cache, backup):
                shutil.rmtree(d, ignore_errors=True)
            settle()
            perf = profiled(last, "mailfs")
            t_mount = m.start()
            t_rsync = timed(["rsync", "-a", "--exclude=/.mailfs",
                             mnt + "/", backup + "/"])
            stop_profile(perf)
            mounts.append(t_mount)
            firsts.append(t_mount + t_rsync)
            if not last:
                m.stop()

        for r_ in range(ROUNDS):
            last = r_ == ROUNDS - 1
            if r_ % 2 == 0:
                near = run_mbsync(last)
                run_mailfs(last)
            else:
                run_mailfs(last)
                near = run_mbsync(last)
        t_first, t_mbsync, t_mount = min(firsts), min(mbsyncs), min(mounts)

        # (b) a no-change rsync, mount against two local Maildirs
        t_warm = timed(["rsync", "-a", "--exclude=/.mailfs", mnt + "/",
                        backup + "/"])
        # a full copy again, every body now in the cache: what the mount
        # itself costs, without the server
        t_cached = timed(["rsync", "-a", "--exclude=/.mailfs", mnt + "/",
                          os.path.join(work, "backup2") + "/"])
        local_copy = os.path.join(work, "local-copy")
        t_local_full = timed(["rsync", "-a", near + "/", local_copy + "/"])
        t_local = timed(["rsync", "-a", near + "/", local_copy + "/"])
        rss = m.peak_rss_kib()
        m.stop()

        # (c) listing after a remount
        t_remount = m.start()
        t0 = time.monotonic()
        files = subprocess.run(["find", mnt, "-type", "f"], check=True,
                               capture_output=True).stdout.count(b"\n")
        t_list = time.monotonic() - t0
        rss = max(rss, m.peak_rss_kib())
        m.stop()
        copied = subprocess.run(["find", backup, "-type", "f"], check=True,
                                capture_output=True).stdout.count(b"\n")

        print()
        print("mailfs over IMAP against mbsync")
        print("  account    %d messages in 3 folders, %d MB on the server"
              % (COUNT, size // 1048576))
        print("  setup      %.1f s (generate, index, warm)" % gen)
        print("  backup     %d files copied, %d listed after remount"
              % (copied, files))
        print()
        print("%-34s %9s %9s %7s" % ("", "mailfs", "peer", "ratio"))
        print("%-34s %8.2fs %8.2fs %6.2fx" % (
            "(a) first backup vs mbsync", t_first, t_mbsync,
            t_first / t_mbsync))
        print("%-34s %s | %s" % (
            "    every run (mailfs | mbsync)",
            " ".join("%.2f" % t for t in firsts),
            " ".join("%.2f" % t for t in mbsyncs)))
        print("%-34s %8.2fs %8.2fs %6.2fx" % (
            "(b) no-change rsync vs local", t_warm, t_local,
            t_warm / max(t_local, 0.001)))
        print("%-34s %8.2fs" % ("    of (a): mount until ready", t_mount))
        print("%-34s %8.2fs" % ("    a full copy from the warm cache",
                                t_cached))
        print("%-34s %8.2fs" % ("    rsync of mbsync's copy, locally",
                                t_local_full))
        print("%-34s %8.2fs" % ("(c) remount until ready", t_remount))
        print("%-34s %8.2fs" % ("(c) then list every file", t_list))
        print("%-34s %7.1f MiB" % ("(d) daemon peak RSS", rss / 1024))
    finally:
        dovecot.stop()
        if os.environ.get("BENCH_KEEP") == "1":
            print("kept %s and %s" % (work, dovecot.base))
        else:
            for mp in (os.path.join(work, "mnt"),):
                if os.path.ismount(mp):
                    subprocess.run(["fusermount3", "-uz", mp])
            shutil.rmtree(work, ignore_errors=True)
            dovecot.cleanup()


if __name__ == "__main__":
    main()
