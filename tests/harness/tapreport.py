"""A pytest plugin that reports in TAP (the Test Anything Protocol) and
nothing else, so that meson runs a whole test file in one pytest process
and still sees, counts and names every case.

One pytest start per file instead of per case: the start (interpreter,
pytest, the harness modules) costs about half a second of CPU, which over
several hundred cases and two builds was a third of the suite's time.

Each case gives one line on standard output when its teardown is over:
"ok N - NODEID", "ok N - NODEID # SKIP reason" or "not ok N - NODEID" with
the failure's one-line cause after it as a "# " line.  pytest's own report
(progress, tracebacks, captured output, the summary) goes to standard
error, where meson keeps it for the log.  Load it with `-p tapreport` and
tests/harness on PYTHONPATH."""

import sys

import pytest

_out = sys.__stdout__
_state = {"n": 0}
_pending = {}


def _emit(line):
    _out.write(line + "\n")
    _out.flush()


def _diag(text):
    for line in str(text).splitlines():
        _emit("# " + line)


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    # pytest's reporter writes to standard error; standard output is TAP's
    from _pytest.terminal import TerminalReporter
    old = config.pluginmanager.getplugin("terminalreporter")
    if old is None:
        return
    config.pluginmanager.unregister(old)
    config.pluginmanager.register(TerminalReporter(config, sys.stderr),
                                  "terminalreporter")


def pytest_collection_finish(session):
    _emit("1..%d" % len(session.items))


def pytest_collectreport(report):
    # a file that cannot be imported has no cases: say why, and fail
    if report.failed:
        _emit("not ok - collecting %s" % report.nodeid)


def pytest_runtest_logreport(report):
    case = _pending.setdefault(report.nodeid, {"failed": False,
                                               "skip": None, "text": []})
    if report.failed:
        case["failed"] = True
        crash = getattr(report.longrepr, "reprcrash", None)
        case["text"].append("%s failed: %s" % (
            report.when, crash.message if crash else
            report.longreprtext.strip().splitlines()[-1:]))
    elif report.skipped and report.when in ("setup", "call"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) \
            else str(report.longrepr)
        case["skip"] = reason.replace("Skipped: ", "", 1)
    if report.when != "teardown":
        return
    _pending.pop(report.nodeid)
    _state["n"] += 1
    n = _state["n"]
    if case["failed"]:
        _emit("not ok %d - %s" % (n, report.nodeid))
        _diag("\n".join(case["text"]))
    elif case["skip"] is not None:
        _emit("ok %d - %s # SKIP %s" % (n, report.nodeid,
                                         case["skip"].replace("\n", " ")))
    else:
        _emit("ok %d - %s" % (n, report.nodeid))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # a case that never reached its teardown (an interrupt) still fails
    for nodeid in list(_pending):
        _state["n"] += 1
        _emit("not ok %d - %s" % (_state["n"], nodeid))
        _pending.pop(nodeid)
