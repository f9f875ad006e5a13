#!/usr/bin/python3
"""bench-mapi.py - a first backup over MAPI against EWS and IMAP, one store.

One `mailfs serve --imap --ews --mapi` (plain, on ephemeral ports of
127.0.0.1) serves a generated store of BENCH_MESSAGES messages (default
5,000; 2-50 KB, 5% with a 100 KB-1 MB attachment, as bench-imap.py makes
them) in three folders.  Three accounts of that one store, type = imap,
type = ews and type = mapi, are mounted in turn, each with an empty cache,
and each is backed up with `rsync -a MOUNT/ DIR/`, the mount included in
the time.  It prints the three times, best of BENCH_ROUNDS, and the ratios
MAPI/IMAP and MAPI/EWS.

After every backup the copy is checked: each folder must hold exactly the
store's messages (counted, and by Message-ID), and a sample of them
(BENCH_SAMPLE, default 100, and every tenth one with an attachment) must
say what the store's say, compared with Python's email package: the
addresses of From, To and Cc, Subject, Date, Message-ID, the text body and
every attachment's name and bytes.
Not the bytes of the files: a MAPI account renders each message from its
properties, so its files differ from the store's while meaning the same;
how many of the sample are byte for byte the store's is printed too.  A
backup that fails the check, or a mount that fails, is reported and the
exit status is 1; what a mount daemon or the server logs beyond their
routine lines is printed.

The store's files are read once before the first run, so that they are in
the page cache for every side; the sides take turns at going first from
round to round, and every run starts after the files of the previous one
are deleted and have aged past vm.dirty_expire_centisecs (see
bench-imap.py), so that no side pays for another's warm-up or cleanup.
The first run of each side also pays for whatever the server sets up the
first time a protocol looks at a folder (ids, change numbers), which is
one reason the best run counts.  Every account has poll_interval = 600,
so that no periodic check runs during a backup, and timeout = 120.

It prints figures; it is not a pass/fail test of speed.

Environment: MAILFS (default build/mailfs), BENCH_MESSAGES, BENCH_ROUNDS
(runs per side, default 2, the best counting), BENCH_SAMPLE, BENCH_SETTLE
(seconds to wait after a cleanup; default that window), BENCH_SIDES (a
comma-separated subset of imap,ews,mapi; default all three), BENCH_KEEP=1
keeps the working directory, the daemons' logs and the server's.
"""

import email
import email.policy
import email.utils
import hashlib
import imaplib
import importlib.util
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
TESTS = os.path.join(REPO, "tests")
sys.path.insert(0, os.path.join(TESTS, "harness"))

from mailgen import generate_message  # noqa: E402
from mailfs_mount import (imap_account_keys, write_mailfs_config,  # noqa: E402
                          write_password_file)

MAILFS = os.environ.get("MAILFS", os.path.join(REPO, "build", "mailfs"))
COUNT = int(os.environ.get("BENCH_MESSAGES", "5000"))
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "2")))
SAMPLE = int(os.environ.get("BENCH_SAMPLE", "100"))
SIDES = [s for s in os.environ.get("BENCH_SIDES", "imap,ews,mapi").split(",")
         if s]
# what the server logs on every run
ROUTINE = re.compile(r"listening on|logged in|^mailfs: serving |"
                     r"which the store lacked$|stopping \(SIGTERM\)")
FOLDERS = [("INBOX", 0.5), ("Archive/2024", 0.3), ("Lists", 0.2)]


def _load(name, *parts):
    spec = importlib.util.spec_from_file_location(name,
                                                  os.path.join(TESTS, *parts))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# the serve tests' Server: ephemeral ports read from the server's log
serve = _load("mailfs_serve_conftest_bench", "serve", "conftest.py")


def fill(store):
    """The store's folders, as dovecot.py's fill() makes them for
    bench-imap.py.  Returns {Message-ID: (folder, path)}."""
    out = {}
    made = 0
    for k, (folder, share) in enumerate(FOLDERS):
        n = COUNT - made if k == len(FOLDERS) - 1 else int(COUNT * share)
        made += n
        seed = k + 1
        rng = random.Random(seed)
        root = os.path.join(store, folder)
        # a parent folder (Archive) is a Maildir of its own, empty
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(store, *parts[:depth], sub),
                            exist_ok=True)
        for i in range(n):
            date = 1704067200 + 3600 * i
            att = 0
            if rng.random() < 0.05:
                att = rng.randint(100 * 1024, 1024 * 1024)
            data, msgid = generate_message(
                seed * 1000003 + i, rng, size=rng.randint(2 * 1024, 50 * 1024),
                attachment=att, date=date)
            path = os.path.join(root, "cur", "%d.M%06dP1.bench:2,S"
                                % (date, i))
            with open(path, "wb") as f:
                f.write(data)
            os.utime(path, (date, date))
            out[msgid] = (folder, path)
    return out


def warm(server, store):
    """Every mail file read once, and every folder selected over IMAP."""
    subprocess.run(["find", store, "-type", "f", "-exec", "cat", "{}", "+"],
                   stdout=subprocess.DEVNULL, check=True)
    c = imaplib.IMAP4("127.0.0.1", server.port["imap"])
    c.login(serve.USER, serve.PASSWORD)
    for folder, _ in FOLDERS:
        typ, _ = c.select('"%s"' % folder, readonly=True)
        if typ == "OK":
            c.uid("FETCH", "1:*", "(RFC822.SIZE FLAGS INTERNALDATE)")
    c.logout()


def accounts(work, server):
    """One config file with the three accounts of the store."""
    pw = write_password_file(os.path.join(work, "account-password"),
                             serve.PASSWORD)
    common = {"user": serve.USER, "password_file": pw,
              "poll_interval": 600, "timeout": 120}
    conf = os.path.join(work, "mailfs.conf")
    write_mailfs_config(conf, "imap", imap_account_keys(
        port=server.port["imap"], tls="none", **common))
    write_mailfs_config(conf, "ews", dict(
        type="ews", allow_plaintext=True,
        url="http://127.0.0.1:%d/EWS/Exchange.asmx" % server.port["ews"],
        **common), append=True)
    write_mailfs_config(conf, "mapi", dict(
        type="mapi", allow_plaintext=True,
        url="http://127.0.0.1:%d" % server.port["mapi"], **common),
        append=True)
    return conf


class MountFailed(Exception):
    pass


class Mount:
    def __init__(self, conf, account, cache, mnt, log):
        self.args = [MAILFS, "-f", "--config", conf, "-o",
                     "cache_dir=%s" % cache, account, mnt]
        self.account = account
        self.mnt = mnt
        self.log = log
        self.proc = None

    def start(self):
        """Mounts; returns the seconds until the mount point is there."""
        t0 = time.monotonic()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT)
        while not os.path.ismount(self.mnt):
            if self.proc.poll() is not None:
                raise MountFailed(self.output()[-3000:])
            time.sleep(0.01)
        return time.monotonic() - t0

    def output(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def peak_rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if subprocess.run(["fusermount3", "-u", self.mnt]).returncode:
            subprocess.run(["fusermount3", "-uz", self.mnt])
        self.proc.wait(timeout=120)


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.default)


def message_id(path):
    """The Message-ID of a message file, from its header only."""
    with open(path, "rb") as f:
        head = f.read(65536)
    end = head.find(b"\r\n\r\n")
    if end < 0:
        end = head.find(b"\n\n")
    m = email.message_from_bytes(head[:end if end >= 0 else len(head)],
                                 policy=email.policy.compat32)
    v = m.get("Message-ID")
    return v.strip() if v else None


def text_of(msg):
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return None
    return "\n".join(line.rstrip() for line in
                     part.get_content().replace("\r\n", "\n").split("\n")
                     ).strip()


def meaning(data):
    """What a message says, as far as a rendering from MAPI keeps it."""
    m = parse(data)
    date = m["Date"]
    atts = []
    for part in m.walk():
        if part.is_multipart() or part.get_content_disposition() != \
                "attachment":
            continue
        atts.append((part.get_filename(), hashlib.sha256(
            part.get_payload(decode=True) or b"").hexdigest()))
    return {
        "from": addresses(m, "From"), "to": addresses(m, "To"),
        "cc": addresses(m, "Cc"), "subject": str(m["Subject"] or ""),
        "date": email.utils.parsedate_to_datetime(str(date)).timestamp()
        if date else None,
        "message-id": str(m["Message-ID"] or "").strip(),
        "text": text_of(m), "attachments": sorted(atts),
    }


def addresses(m, field):
    return sorted(a.lower() for _, a in
                  email.utils.getaddresses([str(v) for v in
                                            m.get_all(field, [])]))


def choose_sample(store_ids):
    ids = sorted(store_ids)
    rnd = random.Random(7)
    pick = set(rnd.sample(ids, min(SAMPLE, len(ids))))
    with_att = [i for i in ids if os.path.getsize(store_ids[i][1]) > 100000]
    pick.update(with_att[::10])
    return sorted(pick)


def check(backup, store_ids, sample):
    """Problems found in a backup (empty when none), and how many of the
    sample are byte for byte the store's."""
    problems = []
    found = {}
    for dirpath, dirnames, filenames in os.walk(backup):
        dirnames.sort()
        if os.path.basename(dirpath) not in ("cur", "new"):
            continue
        folder = os.path.relpath(os.path.dirname(dirpath), backup)
        for n in filenames:
            path = os.path.join(dirpath, n)
            mid = message_id(path)
            if mid in found:
                problems.append("%s twice: %s and %s"
                                % (mid, found[mid][1], path))
            found[mid] = (folder, path)
    want = {}
    for mid, (folder, _) in store_ids.items():
        want.setdefault(folder, set()).add(mid)
    got = {}
    for mid, (folder, _) in found.items():
        got.setdefault(folder, set()).add(mid)
    for folder in sorted(set(want) | set(got)):
        w, g = want.get(folder, set()), got.get(folder, set())
        if w != g:
            problems.append("%s: %d files, %d messages in the store; "
                            "%d missing, %d not in the store's folder"
                            % (folder, len(g), len(w), len(w - g),
                               len(g - w)))
    same_bytes = 0
    for mid in sample:
        if mid not in found:
            continue
        with open(store_ids[mid][1], "rb") as f:
            original = f.read()
        with open(found[mid][1], "rb") as f:
            copy = f.read()
        same_bytes += original == copy
        a, b = meaning(original), meaning(copy)
        if a != b:
            diff = ", ".join(k for k in a if a[k] != b[k])
            problems.append("%s (%s) differs from the store's in: %s"
                            % (mid, found[mid][1], diff))
    return problems, same_bytes


def settle():
    """As in bench-imap.py: the files of the previous run deleted, wait
    until ext4 no longer passes over their inodes."""
    os.sync()
    with open("/proc/sys/vm/dirty_expire_centisecs") as f:
        wait = int(f.read()) / 100 + 1
    time.sleep(float(os.environ.get("BENCH_SETTLE", wait)))


def files_in(d):
    return sum(len(f) for p, _, f in os.walk(d)
               if os.path.basename(p) in ("cur", "new"))


def main():
    if not os.path.exists(MAILFS):
        sys.exit("bench-mapi: no mailfs binary at %s" % MAILFS)
    for s in SIDES:
        if s not in ("imap", "ews", "mapi"):
            sys.exit("bench-mapi: BENCH_SIDES: no side %r" % s)
    work = tempfile.mkdtemp(prefix="mailfs-bench-mapi-")
    store = os.path.join(work, "store")
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt)
    server = None
    failed = False
    try:
        t0 = time.monotonic()
        store_ids = fill(store)
        if len(store_ids) != COUNT:
            sys.exit("bench-mapi: %d Message-IDs for %d messages"
                     % (len(store_ids), COUNT))
        size = sum(os.path.getsize(p) for _, p in store_ids.values())
        server = serve.Server(store, work, protocols=("imap", "ews", "mapi"))
        warm(server, store)
        gen = time.monotonic() - t0
        sample = choose_sample(store_ids)
        conf = accounts(work, server)

        runs = {s: 0 for s in SIDES}
        times = {s: [] for s in SIDES}
        mounts = {s: [] for s in SIDES}
        rss = {s: 0 for s in SIDES}
        same = {s: 0 for s in SIDES}
        checked = {s: [] for s in SIDES}
        backup = os.path.join(work, "backup")
        cache = os.path.join(work, "cache")

        def run(side):
            for d in (cache, backup):
                shutil.rmtree(d, ignore_errors=True)
            settle()
            runs[side] += 1
            n = runs[side]
            m = Mount(conf, side, cache, mnt,
                      os.path.join(logs, "%s-%d.log" % (side, n)))
            try:
                t_mount = m.start()
            except MountFailed as e:
                checked[side].append(["the mount failed"])
                print("bench-mapi: the %s mount %d failed:\n%s"
                      % (side, n, e), file=sys.stderr)
                return
            t0 = time.monotonic()
            try:
                r = subprocess.run(["rsync", "-a", "--exclude=/.mailfs",
                                    mnt + "/", backup + "/"],
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True,
                                   timeout=3600)
            except subprocess.TimeoutExpired:
                r = subprocess.CompletedProcess([], -1, "", "an hour went by")
            took = time.monotonic() - t0
            rss[side] = max(rss[side], m.peak_rss_kib())
            m.stop()
            said = m.output().strip()
            if said:
                print("bench-mapi: the %s daemon, run %d, said:\n  %s"
                      % (side, n, "\n  ".join(said.splitlines()[:10])),
                      file=sys.stderr)
            if r.returncode != 0:
                checked[side].append(["rsync failed (%d): %s"
                                      % (r.returncode, r.stderr[-2000:])])
            problems, same[side] = check(backup, store_ids, sample)
            if problems:
                checked[side].append(problems)
                print("bench-mapi: %s backup %d: %d problems, the first:\n  %s"
                      "\n  the daemon's log: %s"
                      % (side, n, len(problems),
                         "\n  ".join(problems[:10]), m.log),
                      file=sys.stderr)
            mounts[side].append(t_mount)
            times[side].append(t_mount + took)
            print("bench-mapi: %s run %d: %.2f s (mount %.2f s), %d files"
                  % (side, n, t_mount + took, t_mount,
                     files_in(backup)), file=sys.stderr)

        for r_ in range(ROUNDS):
            order = SIDES[r_ % len(SIDES):] + SIDES[:r_ % len(SIDES)]
            for side in order:
                run(side)
        failed = any(checked[s] for s in SIDES)
        server_rss = serve_peak(server)

        print()
        print("mailfs first backup over MAPI, EWS and IMAP, one store")
        print("  store      %d messages in %d folders, %d MB"
              % (COUNT, len(FOLDERS), size // 1048576))
        print("  setup      %.1f s (generate, start the server, warm)" % gen)
        print("  checked    every file by Message-ID; %d sampled messages "
              "compared with the store's" % len(sample))
        print()
        print("%-22s %9s %9s %10s %10s  %s" % (
            "", "backup", "of it,", "daemon", "same bytes", "every run"))
        print("%-22s %9s %9s %10s %10s" % (
            "", "", "mount", "peak RSS", "in sample"))
        for s in SIDES:
            if not times[s]:
                print("%-22s %9s" % ("(%s) rsync -a" % s, "FAILED"))
                continue
            print("%-22s %8.2fs %8.2fs %6.1f MiB %10s  %s%s" % (
                "(%s) rsync -a" % s, min(times[s]), min(mounts[s]),
                rss[s] / 1024, "%d/%d" % (same[s], len(sample)),
                " ".join("%.2f" % t for t in times[s]),
                "  CHECK FAILED" if checked[s] else ""))
        best = {s: min(times[s]) for s in SIDES if times[s]}
        if "mapi" in best:
            for other in ("imap", "ews"):
                if other in best:
                    print("%-22s %8.2fx" % ("MAPI / %s" % other.upper(),
                                            best["mapi"] / best[other]))
        print("%-22s %6.1f MiB" % ("server peak RSS", server_rss / 1024))
    finally:
        if os.path.ismount(mnt):
            subprocess.run(["fusermount3", "-uz", mnt])
        if server is not None:
            server.stop(timeout=120)
            with open(os.path.join(logs, "serve.log"), "w") as f:
                f.write(server.log())
            said = [line for line in server.log().splitlines()
                    if not ROUTINE.search(line)]
            if said:
                print("bench-mapi: the server said:\n  %s"
                      % "\n  ".join(said[:20]), file=sys.stderr)
        if os.environ.get("BENCH_KEEP") == "1":
            print("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failed:
        sys.exit(1)


def serve_peak(server):
    with open("/proc/%d/status" % server.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
