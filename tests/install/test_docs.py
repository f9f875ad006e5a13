"""The man pages cover what the code accepts: every key the accounts file
may hold (the table the code checks keys against, and every key the code
reads) is in mailfs.conf(5); every option and subcommand is in mailfs(1)
and in `mailfs --help`."""

import glob
import os
import re
import subprocess

from conftest import MAILFS, REPO

MAN1 = os.path.join(REPO, "docs", "man", "mailfs.1")
MAN5 = os.path.join(REPO, "docs", "man", "mailfs.conf.5")


def _read(path):
    with open(path) as f:
        return f.read()


def _sources():
    for path in glob.glob(os.path.join(REPO, "**", "*.c"), recursive=True):
        rel = os.path.relpath(path, REPO)
        if rel.startswith(("tests", "build")):
            continue
        yield rel, _read(path)


def table_keys():
    """The keys of src/config-keys.c's table (key -> types)."""
    text = _read(os.path.join(REPO, "src", "config-keys.c"))
    body = text[text.index("} keys[] = {"):]
    body = body[:body.index("};")]
    return dict(re.findall(r'\{ "([a-z0-9_]+)", ([^}]+) \}', body))


def keys_read_by_code():
    """Every key name given as a literal to the config readers, with
    where it was read."""
    found = {}
    reader = re.compile(r'config_(?:value|uint|bool)\([^;]*?"([a-z0-9_]+)"',
                        re.S)
    for rel, text in _sources():
        for key in reader.findall(text):
            found.setdefault(key, rel)
        if rel == os.path.join("src", "serve-cmd.c"):
            for key in re.findall(r'KEY\("([a-z0-9_]+)"', text):
                found.setdefault(key, rel)
    found.pop("serve", None)    # the group name, not a key
    return found


def documented_keys():
    """The keys mailfs.conf(5) describes: `.BI key " = ..."` items."""
    return set(re.findall(r'^\.BI ([a-z0-9_]+) " = ', _read(MAN5), re.M))


def test_every_key_the_code_reads_is_in_the_table():
    table = table_keys()
    missing = {k: where for k, where in keys_read_by_code().items()
               if k not in table}
    assert not missing, "keys read but refused as unknown: %s" % missing


def test_every_key_of_the_table_is_documented():
    missing = set(table_keys()) - documented_keys()
    assert not missing, "not in mailfs.conf(5): %s" % sorted(missing)


def test_nothing_documented_that_the_code_refuses():
    extra = documented_keys() - set(table_keys())
    assert not extra, "documented but refused: %s" % sorted(extra)


def _mount_options():
    text = _read(os.path.join(REPO, "src", "cli.c"))
    longs = set(re.findall(r'strcmp\(a, "(--?[a-z-]+)"\)', text))
    o_keys = set(re.findall(r'KEY\("([a-z_]+)"\)', text))
    return longs, o_keys


def _serve_options():
    text = _read(os.path.join(REPO, "src", "serve-cmd.c"))
    entries = re.findall(r'\{ "([a-z0-9-]+)", \'?(\w|0)\'?, 0, G_OPTION_ARG',
                         text)
    return {"--" + name for name, _ in entries}


def _subcommands():
    text = _read(os.path.join(REPO, "src", "main.c"))
    return set(re.findall(r'!strcmp\(argv\[1\], "([a-z]+)"\)', text))


def _man1_words():
    # roff escapes a hyphen as \- ; compare plain text
    return _read(MAN1).replace("\\-", "-")


def test_every_option_is_in_mailfs_1():
    man = _man1_words()
    longs, o_keys = _mount_options()
    for opt in longs - {"--"}:
        assert re.search(r'(^|[\s"])%s\b' % re.escape(opt), man, re.M), opt
    for key in o_keys:
        assert re.search(r'\b%s\b' % re.escape(key), man), "-o " + key
    for opt in _serve_options():
        assert re.search(r'(^|[\s"])%s\b' % re.escape(opt), man, re.M), opt


def test_every_subcommand_is_in_mailfs_1_and_in_help():
    subs = _subcommands()
    assert {"status", "flush", "sync", "serve"} <= subs
    man = _man1_words()
    r = subprocess.run([MAILFS, "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for sub in subs:
        assert re.search(r'^\.B mailfs %s\b' % sub, man, re.M), sub
        assert "mailfs %s" % sub in r.stdout, sub
