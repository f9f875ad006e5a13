"""The `mailfs check` tests: the command run against real servers on
127.0.0.1 (Dovecot for IMAP and POP3, aiosmtpd for SMTP, mailfs serve for
EWS), and against nothing at all, reading what it prints."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "harness"))

from dovecot import dovecot_module, dovecot_server  # noqa: E402,F401

MAILFS = os.environ.get("MAILFS") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "mailfs")

class Result:
    """What one `mailfs check` printed: .code, .out, .err, .steps (a list of
    (status, step, text, fix or None)) and lookups by step name."""

    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.steps = []
        for line in self.out.splitlines():
            if line.startswith("      fix: ") and self.steps:
                st, name, text, _ = self.steps[-1]
                self.steps[-1] = (st, name, text, line[len("      fix: "):])
                continue
            m = re.match(r"^(ok|FAIL)\s+(smtp \S+|\S+)\s+(.*)$", line)
            assert m, "not a step line: %r" % line
            self.steps.append((m.group(1), m.group(2), m.group(3), None))

    def names(self):
        return [s[1] for s in self.steps]

    def step(self, name):
        """The last step called name: (status, text, fix)."""
        found = [s for s in self.steps if s[1] == name]
        assert found, "no %s line in:\n%s" % (name, self.out)
        return found[-1][0], found[-1][2], found[-1][3]

    def first(self, name):
        """The first step called name: (status, text, fix)."""
        found = [s for s in self.steps if s[1] == name]
        assert found, "no %s line in:\n%s" % (name, self.out)
        return found[0][0], found[0][2], found[0][3]

    def __repr__(self):
        return str(self)

    def __str__(self):
        return "exit %d\n%s%s" % (self.code, self.out, self.err)


def run_check(config, account, *extra, timeout=60):
    """Run `mailfs check --config CONFIG [extra] ACCOUNT`."""
    proc = subprocess.run([MAILFS, "check", "--config", config, *extra,
                           account], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          timeout=timeout)
    return Result(proc)
