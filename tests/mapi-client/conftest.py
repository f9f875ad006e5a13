"""Fixtures for the MAPI over HTTP client's first layer: the fake server of
tests/harness/fakemapi.py (a real server's recorded answers) and the probe
(tests/mapi-client/mapic-probe.c) that drives protocols/mapi against it.

  fake              a FakeMAPI on 127.0.0.1, stopped after the test
  probe(fake, *commands, password=, options=, between=)
                    run the probe; `between` (called while the probe
                    waits at a `wait` command) changes the fake mid-session.
                    Returns a Result: returncode, stdout lines, stderr,
                    seconds, maxrss (KiB; 0 when unknown)
  load_module(name, *parts)
                    the module of tests/PARTS under `name` (the test
                    directories' conftest modules share a name)
"""

import importlib.util
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "harness"))

from fakemapi import FakeMAPI  # noqa: E402

USER = "alice@example.test"
PASSWORD = "alicepw"
USER_DN = ("/o=Gromox default/ou=Exchange Administrative Group "
           "(FYDIBOHF23SPDLT)/cn=Recipients/cn=0100000001000000-alice")
SANITIZED = bool(os.environ.get("MAILFS_SANITIZE", "none")
                 not in ("", "none"))


def load_module(name, *parts):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(TESTS, *parts))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def probe_path():
    if os.environ.get("MAPIC_PROBE"):
        return os.environ["MAPIC_PROBE"]
    build = os.environ.get("MAILFS_BUILD", os.path.join(TESTS, "..",
                                                        "build"))
    return os.path.join(build, "tests", "mapic-probe")


class Result:
    def __init__(self, returncode, out, err, seconds, maxrss):
        self.returncode = returncode
        self.lines = out.splitlines()
        self.stdout = out
        self.stderr = err
        self.seconds = seconds
        self.maxrss = maxrss

    def values(self, key):
        """The values of the "key value" lines."""
        return [line.split(" ", 1)[1] for line in self.lines
                if line.startswith(key + " ")]

    def rows(self):
        import json
        return [json.loads(line) for line in self.lines
                if line.startswith("{")]


@pytest.fixture
def fake():
    f = FakeMAPI(user=USER, password=PASSWORD)
    yield f
    f.stop()


def _run(fake, commands, password, options, between, limit, tmp):
    rss_file = os.path.join(tmp, "maxrss")
    # the probe's own peak memory: time(1) forks it from a small process,
    # where a child of this one would count the interpreter's pages
    args = ["/usr/bin/time", "-f", "%M", "-o", rss_file] \
        if os.path.exists("/usr/bin/time") else []
    args.append(probe_path())
    args += list(options) + ["--user-dn", USER_DN, fake.url, USER, password]
    args += list(commands)
    start = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out = []
    if "wait" in commands:
        for line in p.stdout:
            out.append(line)
            if line.strip() == "waiting":
                break
        if between:
            between(fake)
    try:
        rest, err = p.communicate(input="\n", timeout=limit)
    except subprocess.TimeoutExpired:
        p.kill()
        rest, err = p.communicate()
        pytest.fail("the probe did not end within %d s: %s" % (limit, err))
    lines = []
    if os.path.exists(rss_file):
        with open(rss_file) as f:
            lines = f.read().split()
    maxrss = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return Result(p.returncode, "".join(out) + rest, err,
                  time.monotonic() - start, maxrss)


@pytest.fixture
def probe(tmp_path):
    def run(fake, *commands, password=PASSWORD, options=(), between=None,
            limit=120):
        return _run(fake, commands, password, options, between, limit,
                    str(tmp_path))
    return run
