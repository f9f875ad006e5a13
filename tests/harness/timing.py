"""Timing of calls on a mount for the deadline tests, and the processes
of a server to stop and continue.

  timed(what, fn, bound)  run fn(); (result or the OSError, seconds),
                          failing the test when it took `bound` s or more
  process_tree(pid)       pid and every process below it
"""

import os
import time


def timed(what, fn, bound):
    t0 = time.monotonic()
    try:
        out = fn()
    except OSError as e:
        out = e
    took = time.monotonic() - t0
    assert took < bound, "%s took %.1f s (bound %.1f s)" % (what, took, bound)
    return out, took


def process_tree(pid):
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out
