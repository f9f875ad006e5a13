"""`mailfs login ACCOUNT`: the RFC 8628 device authorization grant against
a real authorization server, the token file it leaves, and the one-line
errors of a wrong configuration."""

import os
import stat
import subprocess

import pytest

from conftest import (MAILFS, oauth2_keys, read_tokens, run_login, xdg_env,
                      token_file, write_mailfs_config)


def config(tmp_path, srv, account="work", **keys):
    kv = {"type": "imap", "host": "127.0.0.1", "user": "alice"}
    kv.update(oauth2_keys(srv) if srv else {})
    kv.update(keys)
    return write_mailfs_config(str(tmp_path / "mailfs.conf"), account, kv)


def test_login_keeps_the_tokens_private(tmp_path, oauth):
    env = xdg_env(str(tmp_path))
    conf = config(tmp_path, oauth)
    r = run_login(oauth, conf, "work", env)
    assert r.returncode == 0, r.stderr
    # the user is told where to go and what to enter, then one success line
    assert any(oauth.device_url.rsplit("/", 1)[0] + "/verify" in line
               for line in r.lines), r.stderr
    assert r.lines[-1].startswith("mailfs: account work signed in"), r.stderr
    path = token_file(env, "work")
    st = os.stat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    tokens = read_tokens(env, "work")
    # what is kept is what the server issued: a live access token of alice
    assert oauth.check_token("alice", tokens["access_token"])
    assert tokens["refresh_token"]
    assert int(tokens["expires_at"]) > 0
    # and no token is shown
    assert tokens["access_token"] not in r.stderr
    assert tokens["refresh_token"] not in r.stderr
    assert not [f for f in os.listdir(os.path.dirname(path))
                if f.endswith(".tmp")]


def test_login_again_replaces_the_tokens(tmp_path, oauth):
    env = xdg_env(str(tmp_path))
    conf = config(tmp_path, oauth)
    assert run_login(oauth, conf, "work", env).returncode == 0
    first = read_tokens(env, "work")
    assert run_login(oauth, conf, "work", env).returncode == 0
    second = read_tokens(env, "work")
    assert second["refresh_token"] != first["refresh_token"]
    assert stat.S_IMODE(os.stat(token_file(env, "work")).st_mode) == 0o600


def test_denied_login(tmp_path, oauth):
    env = xdg_env(str(tmp_path))
    r = run_login(oauth, config(tmp_path, oauth), "work", env,
                  action="deny")
    assert r.returncode == 1
    assert r.lines[-1] == "mailfs: account work: the sign-in was denied"
    assert not os.path.exists(token_file(env, "work"))


def test_expired_device_code(tmp_path):
    from oauthserver import OAuthServer
    with OAuthServer(device_lifetime=3, interval=1) as srv:
        env = xdg_env(str(tmp_path))
        r = run_login(srv, config(tmp_path, srv), "work", env,
                      action=None)
    assert r.returncode == 1
    assert "the code expired before the sign-in was approved" \
        in r.lines[-1], r.stderr
    assert "mailfs login work" in r.lines[-1]
    assert not os.path.exists(token_file(env, "work"))


def test_slow_down_adds_five_seconds(tmp_path, oauth):
    env = xdg_env(str(tmp_path))
    oauth.slow_down(1)
    r = run_login(oauth, config(tmp_path, oauth), "work", env)
    assert r.returncode == 0, r.stderr
    (polls,) = oauth.stats()["polls"]
    # the first poll was answered slow_down; the next came 1 + 5 s later
    assert len(polls) == 2, polls
    assert polls[1] - polls[0] >= 5.5, polls


def test_polls_at_the_interval_while_pending(tmp_path, oauth):
    import threading
    env = xdg_env(str(tmp_path))

    def approve_later(code):
        threading.Timer(3.5, oauth.approve, (code, "alice")).start()

    r = run_login(oauth, config(tmp_path, oauth), "work", env, action=None,
                  on_code=approve_later)
    assert r.returncode == 0, r.stderr
    (polls,) = oauth.stats()["polls"]
    # authorization_pending answered each poll until the approval; never
    # faster than the interval of 1 s (the server answers slow_down then)
    assert 3 <= len(polls) <= 6, polls
    assert all(b - a >= 0.7 for a, b in zip(polls, polls[1:])), polls


@pytest.mark.parametrize("keys,key,words", [
    ({"oauth2_token_cmd": "echo x"}, "oauth2_token_cmd",
     "cannot be used together with oauth2"),
    ({"oauth2_device_url": None}, "oauth2_device_url",
     "required with oauth2 = custom"),
    ({"oauth2_token_url": None}, "oauth2_token_url",
     "required with oauth2 = custom"),
    ({"oauth2_scope": None}, "oauth2_scope", "required with oauth2 = custom"),
    ({"oauth2_client_id": None}, "oauth2_client_id", "required"),
    ({"oauth2": "facebook"}, "oauth2", "expected microsoft, google or custom"),
    ({"oauth2_token_url": "http://mail.example.com/token"},
     "oauth2_token_url", "http://"),
    ({"oauth2": "google", "oauth2_device_url": None,
      "oauth2_token_url": None, "oauth2_tenant": "x"}, "oauth2_tenant",
     "only for oauth2 = microsoft"),
    ({"oauth2": "microsoft", "oauth2_token_url": None}, "oauth2_device_url",
     "only for oauth2 = custom"),
], ids=["token_cmd", "no_device_url", "no_token_url", "no_scope",
        "no_client_id", "unknown_provider", "http_elsewhere",
        "tenant_not_microsoft", "endpoint_not_custom"])
def test_config_errors_name_file_account_and_key(tmp_path, oauth, keys, key,
                                                 words):
    env = xdg_env(str(tmp_path))
    conf = config(tmp_path, oauth, **keys)
    r = subprocess.run([MAILFS, "login", "--config", conf, "work"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("mailfs: config %s: account 'work': %s: "
                               % (conf, key)), lines
    assert words in lines[0]
    assert oauth.stats()["polls"] == []


def test_http_endpoint_allowed_with_allow_plaintext(tmp_path, oauth):
    """A plain http:// endpoint on another host is refused (above) unless
    allow_plaintext = true; loopback ones are fine anyway."""
    env = xdg_env(str(tmp_path))
    conf = config(tmp_path, oauth, oauth2_token_url="http://localhost:%d"
                  "/token" % oauth.port, allow_plaintext=False)
    assert run_login(oauth, conf, "work", env).returncode == 0


def test_login_without_oauth2_and_usage(tmp_path):
    env = xdg_env(str(tmp_path))
    conf = config(tmp_path, None, password_file="/nonexistent")
    r = subprocess.run([MAILFS, "login", "--config", conf, "work"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        "mailfs: config %s: account 'work': oauth2: not set (add oauth2 = "
        "microsoft, google or custom)" % conf]
    r = subprocess.run([MAILFS, "login"], capture_output=True, text=True,
                       env=env, timeout=30)
    assert r.returncode == 2
    r = subprocess.run([MAILFS, "login", "--config", conf, "nosuch"],
                       capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 1
    assert "no account 'nosuch'" in r.stderr
