"""test_requests.py - what a walk over the mount costs in kernel requests.

`.mailfs/status` counts the requests the kernel sent, by kind.  A walk that
opens every message (grep -r) is answered from the listing (readdirplus:
no lookup per file), and a second walk from the kernel's caches: one open
and one release per file, no read, no lookup, no getattr.  What the caches
keep must not go stale: a message renamed for its flags after a warm read
reads the same bytes under the same inode.
"""

import os
import re
import subprocess

from conftest import CTL_DIR, fill_store, read_file

N = 300
# reading .mailfs/status itself costs an open, a release, a few reads and
# at times a getattr; the counts below allow for that much
SLACK = 3


def requests(fs):
    text = read_file(fs.m(CTL_DIR, "status")).decode()
    line = re.search(r"^requests:(.*)$", text, re.M)
    assert line, "no requests line in .mailfs/status:\n" + text
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line.group(1))}


def walk(fs):
    """grep -r over INBOX for a string found nowhere; the requests it cost."""
    before = requests(fs)
    r = subprocess.run(["grep", "-r", "-F", "absent-needle-qwxz",
                        fs.m("INBOX")], capture_output=True, timeout=60)
    assert r.returncode == 1, r.stderr
    after = requests(fs)
    return {k: after[k] - before[k] for k in after}


def test_warm_walk_costs_one_open_per_file(mailfs_factory):
    fs = mailfs_factory()
    written = fill_store(fs.store, "INBOX", N, size=3000)
    fs.mount()
    # the folder's own lookup is not part of the walk
    os.stat(fs.m("INBOX"))

    first = walk(fs)
    assert first["lookup"] == 0, first
    assert N <= first["open"] <= N + SLACK, first
    assert first["read"] >= N, first

    second = walk(fs)
    assert N <= second["open"] <= N + SLACK, second
    assert second["read"] <= SLACK, second
    assert second["lookup"] == 0, second
    assert second["getattr"] <= SLACK, second

    # a flag rename after a warm read: same inode, the same exact bytes
    name = sorted(written)[7]
    old = fs.m("INBOX", "cur", name)
    ino = os.stat(old).st_ino
    assert read_file(old) == written[name]
    new = fs.m("INBOX", "cur", name[:-len(":2,S")] + ":2,FS")
    os.rename(old, new)
    st = os.stat(new)
    assert st.st_ino == ino
    assert st.st_size == len(written[name])
    assert read_file(new) == written[name]
    assert not os.path.exists(old)
