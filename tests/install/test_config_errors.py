"""A wrong accounts file is one line naming the file, the account and the
key, and what to do; nothing is mounted, written or sent."""

import os
import subprocess

from conftest import MAILFS


def _mount(cfg, account, mp, env):
    return subprocess.run([MAILFS, "-f", "--config", str(cfg), account,
                           str(mp)], capture_output=True, text=True,
                          timeout=30, env=env)


def _one_line(r):
    lines = [l for l in r.stderr.split("\n") if l]
    assert r.returncode != 0
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_key_errors(tmp_path, home):
    env = dict(os.environ, **home)
    mp = tmp_path / "mnt"
    mp.mkdir()
    cfg = tmp_path / "accounts"
    cases = {
        "pasword_file = /x": ["'pasword_file'", "did you mean "
                              "'password_file'"],
        "url = https://x/EWS/Exchange.asmx": ["'url'", "does not apply to "
                                              "type imap"],
        "carddav = https://dav.example/": ["'carddav'", "not available in "
                                           "this version"],
        "colour = blue": ["unknown key 'colour'", "mailfs.conf(5)"],
    }
    for line, words in cases.items():
        cfg.write_text("[account other]\ntype = imap\nbogus = 1\n\n"
                       "[account work]\ntype = imap\nhost = 127.0.0.1\n"
                       "%s\n" % line)
        msg = _one_line(_mount(cfg, "work", mp, env))
        assert str(cfg) in msg and "account 'work'" in msg, msg
        for w in words:
            assert w in msg, msg
        assert os.listdir(mp) == []
        # nothing was made for the account
        assert not os.path.exists(os.path.join(home["XDG_CACHE_HOME"],
                                               "mailfs", "work"))


def test_the_same_errors_for_sync_and_serve(tmp_path, home):
    env = dict(os.environ, **home)
    cfg = tmp_path / "accounts"
    cfg.write_text("[account work]\ntype = pop3\nhots = x\n\n"
                   "[serve]\nuser = me\nimap_port = 1143\n")
    r = subprocess.run([MAILFS, "sync", "--config", str(cfg), "work"],
                       capture_output=True, text=True, env=env, timeout=30)
    msg = _one_line(r)
    assert "'hots'" in msg and "'host'" in msg and str(cfg) in msg
    r = subprocess.run([MAILFS, "serve", "--config", str(cfg)],
                       capture_output=True, text=True, env=env, timeout=30)
    msg = _one_line(r)
    assert "[serve]" in msg and "'imap_port'" in msg and str(cfg) in msg


def test_bad_values_name_the_file_and_the_account(tmp_path, home):
    env = dict(os.environ, **home)
    mp = tmp_path / "mnt"
    mp.mkdir()
    cfg = tmp_path / "accounts"
    loose = tmp_path / "loose-pw"
    loose.write_text("secret\n")
    os.chmod(loose, 0o644)
    cases = {
        "type = imap\nhost = h\ntimeout = soon\n": "timeout = soon",
        "type = imap\nhost = h\ntls = sometimes\n": "tls",
        "type = imap\nuser = u\n": "no host",
        "type = pop3\nhost = h\nuser = u\npassword_file = %s\n" % loose:
            "chmod 600",
        "type = imap\nhost = h\nuser = u\npassword_file = /nonexistent\n":
            "password_file /nonexistent",
        "type = ews\nurl = https://h/EWS/Exchange.asmx\nuser = u\n":
            "no password",
        "type = imap\nhost = h\nuser = u\npassword_cmd = exit 3\n":
            "password_cmd",
        "type = imap\nhost = h\nuser = u\npassword_cmd = echo x\n"
        "smtp = gopher://h\n": "smtp = gopher://h",
    }
    for body, says in cases.items():
        cfg.write_text("[account work]\n" + body)
        msg = _one_line(_mount(cfg, "work", mp, env))
        assert msg.startswith("mailfs: config %s: account 'work': " % cfg), \
            msg
        assert says in msg, msg
        assert "secret" not in msg
        assert os.listdir(mp) == []
