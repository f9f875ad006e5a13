#!/usr/bin/env bash
# bench-local.sh — how much slower are everyday tools on a mailfs mount of the
# embedded local store than on the store directory itself?
#
# Generates a store of BENCH_MESSAGES (default 10000) messages in several
# folders (mostly 2–20 KB, about 5% with a base64 attachment of 100 KB–1 MB),
# mounts it with mailfs, and times over the mount and over the store:
#
#   find -type f          walk every folder
#   grep -r               read every byte (a string that matches nothing)
#   rsync -a              copy everything to a fresh directory
#
# then prints a table with the ratio mount/store for each. It prints figures;
# it is not a pass/fail test.
#
# Environment:
#   MAILFS            the binary (default: <repo>/build/mailfs)
#   BENCH_MESSAGES    number of messages (default 10000)
#   BENCH_DIR         where to put the work directory (default: $TMPDIR or /tmp)
#   BENCH_TIMEOUT     seconds allowed for each timed command (default 300)
#   BENCH_DROP_CACHES set to 1 to drop the page cache before each timed
#                     command (needs root); default: warm page cache
#   BENCH_KEEP        set to 1 to keep the work directory
#
# Needs: bash, python3, find, grep, rsync, fusermount3, timeout.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
MAILFS=${MAILFS:-$repo/build/mailfs}
MESSAGES=${BENCH_MESSAGES:-10000}
TIMEOUT=${BENCH_TIMEOUT:-300}
DROP=${BENCH_DROP_CACHES:-0}

die() { echo "bench-local: $*" >&2; exit 1; }

[[ -x $MAILFS ]] || die "mailfs binary not found at $MAILFS (build it, or set MAILFS)"
for tool in python3 find grep rsync fusermount3 timeout; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -e /dev/fuse ]] || die "/dev/fuse is missing: cannot mount FUSE file systems here"

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/mailfs-bench.XXXXXX")
store=$work/store
cache=$work/cache
mnt=$work/mnt
log=$work/mailfs.log
daemon=

cleanup() {
	local rc=$?
	set +e
	if mountpoint -q "$mnt" 2>/dev/null; then
		for _ in 1 2 3 4 5; do
			fusermount3 -u "$mnt" 2>/dev/null && break
			sleep 1
		done
		mountpoint -q "$mnt" && fusermount3 -uz "$mnt" 2>/dev/null
	fi
	if [[ -n $daemon ]]; then
		for _ in $(seq 50); do
			kill -0 "$daemon" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$daemon" 2>/dev/null && kill "$daemon"
		wait "$daemon" 2>/dev/null
	fi
	if mountpoint -q "$mnt" 2>/dev/null; then
		echo "bench-local: $mnt is still mounted; leaving $work in place" >&2
	elif [[ ${BENCH_KEEP:-0} == 1 ]]; then
		echo "bench-local: work directory kept: $work" >&2
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$store" "$cache" "$mnt"

# ---------------------------------------------------------------------------
# The store

gen_start=$EPOCHREALTIME
python3 - "$store" "$MESSAGES" <<'EOF'
import base64, os, random, sys, time

store, total = sys.argv[1], int(sys.argv[2])
rng = random.Random(20240601)

# Folder name -> share of the messages.
folders = [("INBOX", 0.40), ("Archive/2023", 0.20), ("Archive/2024", 0.20),
           ("Lists/debian-devel", 0.15), ("Sent", 0.05)]
for name, _ in folders:
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(store, name, sub), exist_ok=True)
for name in ("Contacts", "Calendar"):
    os.makedirs(os.path.join(store, name), exist_ok=True)

words = ("the of and to in is that for it as was with be by on not he this are "
         "or his from at which but have an they you were her she there been one "
         "all we their has would when if so what no out up said about into them "
         "can only other time new some could these two may first then do any "
         "like my now over such our man me even most made after also did many "
         "mailbox server folder message archive backup release patch review "
         "meeting invoice schedule kernel filesystem cache index thread").split()
lines = []
for _ in range(4000):
    n = rng.randint(6, 14)
    lines.append((" ".join(rng.choice(words) for _ in range(n)).capitalize()
                  + ".\r\n").encode())
blob = base64.encodebytes(rng.randbytes(1_100_000)).replace(b"\n", b"\r\n")
people = ["Alice Example <alice@example.org>", "Bob Builder <bob@example.net>",
          "Carol Jones <carol@example.com>", "Dave Smith <dave@lists.example.org>",
          "Erin Brown <erin@example.org>", "Frank Miller <frank@example.net>"]
base_time = 1_672_531_200  # 2023-01-01

def message(i):
    when = base_time + rng.randint(0, 2 * 365 * 86400)
    subject = " ".join(rng.choice(words) for _ in range(rng.randint(3, 8))).capitalize()
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when))
    head = ("Return-Path: <noreply@example.org>\r\n"
            "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n"
            "\tby mail.example.com with ESMTPS id %08x\r\n"
            "\tfor <you@example.com>; %s\r\n"
            "From: %s\r\nTo: You <you@example.com>\r\nSubject: %s\r\n"
            "Date: %s\r\nMessage-ID: <%d.%08x@bench.example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            % (rng.getrandbits(32), date, rng.choice(people), subject, date,
               i, rng.getrandbits(32))).encode()
    # Mostly 2-20 KB of text.
    target = int(min(20_000, max(2_000, rng.lognormvariate(8.8, 0.6))))
    body = []
    size = len(head)
    while size < target:
        ln = lines[rng.randrange(len(lines))]
        body.append(ln)
        size += len(ln)
    text = b"".join(body)
    if rng.random() < 0.05:
        att = rng.randint(100_000, 1_000_000)
        start = rng.randrange(0, len(blob) - (att * 4 // 3) - 2)
        start -= start % 78  # keep whole base64 lines
        enc = blob[start:start + att * 4 // 3 // 78 * 78]
        b = "b%08x" % rng.getrandbits(32)
        data = (head + ("Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
                        "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                        % (b, b)).encode() + text +
                ("\r\n--%s\r\nContent-Type: application/octet-stream\r\n"
                 "Content-Disposition: attachment; filename=\"file%d.bin\"\r\n"
                 "Content-Transfer-Encoding: base64\r\n\r\n" % (b, i)).encode() +
                enc + ("\r\n--%s--\r\n" % b).encode())
    else:
        data = head + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
    return when, data

i = 0
for fi, (folder, share) in enumerate(folders):
    count = total - i if fi == len(folders) - 1 else int(total * share)
    for _ in range(count):
        when, data = message(i)
        flags = rng.choice(["S", "S", "S", "RS", "FS", ""])
        name = "%d.M%dP%dQ%d.bench:2,%s" % (when, rng.getrandbits(20), 4242, i, flags)
        path = os.path.join(store, folder, "cur", name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (when, when))
        i += 1
EOF
gen_end=$EPOCHREALTIME
store_bytes=$(du -sb "$store" | cut -f1)

# ---------------------------------------------------------------------------
# Timing helpers

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

drop_caches() {
	if [[ $DROP == 1 ]]; then
		sync
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null ||
			echo "bench-local: cannot drop caches (not root?)" >&2
	fi
}

# run_timed NAME CMD... : prints seconds, or "timeout"/"failed"
run_timed() {
	local t0 t1 rc
	drop_caches
	t0=$EPOCHREALTIME
	set +e
	timeout "$TIMEOUT" "$@" >/dev/null 2>>"$work/commands.err"
	rc=$?
	set -e
	t1=$EPOCHREALTIME
	if [[ $rc == 124 ]]; then
		echo "timeout"
	elif [[ $rc != 0 && $rc != 1 ]]; then
		echo "failed"
	else
		elapsed "$t0" "$t1"
	fi
}

# ---------------------------------------------------------------------------
# Mount

mount_start=$EPOCHREALTIME
"$MAILFS" -f -o "store=$store,cache_dir=$cache" "$mnt" >"$log" 2>&1 &
daemon=$!
for _ in $(seq 600); do
	mountpoint -q "$mnt" && break
	kill -0 "$daemon" 2>/dev/null || { cat "$log" >&2; die "mailfs exited before the mount was ready"; }
	sleep 0.1
done
mountpoint -q "$mnt" || die "mount not ready after 60 s"
mount_end=$EPOCHREALTIME

# Warm the store's page cache once (not timed), so that the first store
# figure is not a cold-disk figure while later ones are warm.
if [[ $DROP != 1 ]]; then
	find "$store" -type f -exec cat {} + >/dev/null
fi

needle="no-such-string-$$-$RANDOM-xyzzy"

# The first walk of the mount is timed apart: it may include filling the
# mount's index; "find again" is the steady state.
declare -A T
T[find,store]=$(run_timed find "$store" -type f)
T[find,mount]=$(run_timed find "$mnt" -type f)
T[find again,store]=$(run_timed find "$store" -type f)
T[find again,mount]=$(run_timed find "$mnt" -type f)
T[grep,store]=$(run_timed grep -r -F "$needle" "$store")
T[grep,mount]=$(run_timed grep -r -F "$needle" "$mnt")
T[grep again,store]=$(run_timed grep -r -F "$needle" "$store")
T[grep again,mount]=$(run_timed grep -r -F "$needle" "$mnt")
T[rsync,store]=$(run_timed rsync -a "$store/" "$work/copy-store/")
rm -rf "$work/copy-store"
T[rsync,mount]=$(run_timed rsync -a --exclude=/.mailfs "$mnt/" "$work/copy-mount/")
rm -rf "$work/copy-mount"

count_store=$(find "$store" -name '.?*' -prune -o -type f -print | wc -l)
count_mount=$(find "$mnt" -name '.?*' -prune -o -type f -print | wc -l)

ratio() {
	awk -v s="$1" -v m="$2" 'BEGIN {
		if (s !~ /^[0-9.]+$/ || m !~ /^[0-9.]+$/) { print "-"; exit }
		if (s + 0 < 0.005) s = 0.005
		printf "%.1fx", m / s }'
}

echo
echo "mailfs local-store benchmark"
printf '  messages   %d in store, %d files on the mount (%s MB)\n' \
	"$count_store" "$count_mount" "$((store_bytes / 1048576))"
printf '  generate   %s s\n' "$(elapsed "$gen_start" "$gen_end")"
printf '  mount      %s s until ready\n' "$(elapsed "$mount_start" "$mount_end")"
printf '  caches     %s\n' "$([[ $DROP == 1 ]] && echo 'dropped before each command' || echo warm)"
echo
printf '%-12s %10s %10s %8s\n' command store/s mount/s ratio
printf '%-12s %10s %10s %8s\n' ------- ------- ------- -----
for c in find "find again" grep "grep again" rsync; do
	printf '%-12s %10s %10s %8s\n' "$c" "${T[$c,store]}" "${T[$c,mount]}" \
		"$(ratio "${T[$c,store]}" "${T[$c,mount]}")"
done
if [[ -s $work/commands.err ]]; then
	echo
	echo "errors from the timed commands (first lines):"
	head -n 5 "$work/commands.err" | sed 's/^/  /'
fi
