"""The installed bash completion: subcommands, accounts from the accounts
file (the default one, or the one --config names), options, -o lists."""

import os
import subprocess


def complete(installed, env, *words):
    """COMPREPLY for the command line `words`, the last being completed."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); '
              'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _mailfs; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "x",
                        installed.completion, *words],
                       env=env, capture_output=True, text=True, cwd=env["HOME"])
    assert r.returncode == 0, r.stderr
    return set(l for l in r.stdout.split("\n") if l)


def _config(home, text):
    path = os.path.join(home["XDG_CONFIG_HOME"], "mailfs", "config")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_subcommands_and_accounts(installed, home):
    _config(home, "[account work]\ntype = imap\nhost = h\n\n"
                  "[account  home ]\ntype = pop3\n\n[serve]\nuser = me\n")
    env = dict(os.environ, **home)
    got = complete(installed, env, "mailfs", "")
    assert {"status", "flush", "sync", "check", "login", "serve",
            "work"} <= got
    assert "serve]" not in got
    assert complete(installed, env, "mailfs", "wo") == {"work"}
    assert complete(installed, env, "mailfs", "sync", "") >= {"work"}
    assert "status" not in complete(installed, env, "mailfs", "check", "")
    assert complete(installed, env, "mailfs", "login", "w") == {"work"}


def test_config_named_on_the_line_is_read(installed, home, tmp_path):
    other = tmp_path / "other.conf"
    other.write_text("[account elsewhere]\ntype = local\n")
    env = dict(os.environ, **home)
    assert complete(installed, env, "mailfs", "check", "--config",
                    str(other), "") == {"elsewhere"}
    assert "elsewhere" in complete(installed, env, "mailfs", "-o",
                                   "config=%s,ro" % other, "")


def test_options(installed, home):
    env = dict(os.environ, **home)
    assert complete(installed, env, "mailfs", "serve", "--im") == {
        "--imap", "--imaps"}
    assert complete(installed, env, "mailfs", "flush", "--") == {"--unmount"}
    assert complete(installed, env, "mailfs", "sync", "--p") == {
        "--prefetch"}
    assert complete(installed, env, "mailfs", "-o", "ro,cache_") == {
        "ro,cache_dir=", "ro,cache_size="}
    assert "--foreground" in complete(installed, env, "mailfs", "--f")
