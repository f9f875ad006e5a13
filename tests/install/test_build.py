"""A build never needs the test tools: with pytest out of reach, the project
configures, saying in one line that the integration tests are not defined,
and defines the tests that need only GLib.  (What is compiled does not
depend on the test tools: the build of the test command compiles it.)"""

import os
import shutil
import subprocess
import textwrap

import pytest

import namespaces

from conftest import REPO

DIST = "/usr/lib/python3/dist-packages"
PYTEST_NAMES = ("pytest", "_pytest", "py.py", "py")


def hide_pytest_script(tmp_path):
    """Shell lines that, inside a private mount namespace, replace Debian's
    dist-packages by a view of it without pytest: an empty directory in its
    place would still import, as a namespace package."""
    real = tmp_path / "real-dist-packages"
    view = tmp_path / "dist-packages-without-pytest"
    real.mkdir()
    view.mkdir()
    for name in os.listdir(DIST):
        if name in PYTEST_NAMES or name.startswith("pytest-"):
            continue
        os.symlink(os.path.join(real, name), view / name)
    return "mount --bind %s %s\nmount --bind %s %s\n" % (DIST, real, view,
                                                          DIST)


@pytest.mark.skipif(os.environ.get("MAILFS_SANITIZE", "none") != "none",
                    reason="a configure of its own, the same in every build: "
                    "the build without sanitizers runs it")
def test_configures_where_pytest_cannot_be_imported(tmp_path):
    assert shutil.which("unshare"), "util-linux's unshare is needed"
    build = tmp_path / "build"
    assert os.path.isdir(os.path.join(DIST, "pytest")), \
        "pytest is not where Debian puts it"
    hide = hide_pytest_script(tmp_path)
    # a private mount namespace: pytest vanishes for this script only
    script = textwrap.dedent("""\
        set -e
        %s
        if /usr/bin/python3 -c 'import pytest' 2>/dev/null; then
            echo "pytest still importable" >&2; exit 3
        fi
        meson setup %s %s
        """) % (hide, REPO, build)
    r = subprocess.run(namespaces.script(
                           ["unshare", "--mount", "--propagation",
                            "private"], script),
                       capture_output=True, text=True, timeout=280)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    notes = [l for l in out.splitlines()
             if "integration tests not defined" in l]
    assert len(notes) == 1, out[-4000:]
    assert "pytest" in notes[0]
    # the unit tests are still defined: they need only GLib
    tests = subprocess.run(["meson", "test", "-C", str(build), "--list",
                            "--no-rebuild"],
                           capture_output=True, text=True, timeout=60)
    suites = {l.split(" / ")[0] for l in tests.stdout.split("\n")
              if " / " in l}
    assert "mailfs:unit" in suites and "mailfs:fuzz" in suites, suites
    assert not suites & {"mailfs:fs", "mailfs:imap", "mailfs:install"}, \
        suites
