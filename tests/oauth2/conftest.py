"""The OAuth2 tests: `mailfs login` against a real authorization server
(tests/harness/oauthserver.py, python3-oauthlib), then mounts of a Dovecot
account whose XOAUTH2/OAUTHBEARER tokens Dovecot checks at that server's
introspection endpoint, and Outbox/ submission to an aiosmtpd server that
checks them the same way."""

import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "harness"))

from dovecot import (imap_account_keys, imap_mount_factory,  # noqa: E402,F401
                     running_dovecot, write_mailfs_config)
from mailfs_mount import MAILFS, fsconf  # noqa: E402
from oauthserver import OAuthServer  # noqa: E402

CLIENT_ID = "mailfs-test"
LOGIN_TIMEOUT = 60


def oauth2_keys(srv, **extra):
    """The keys of built-in OAuth2 against `srv` (oauth2 = custom)."""
    keys = {"oauth2": "custom", "oauth2_client_id": CLIENT_ID,
            "oauth2_scope": "mail offline_access",
            "oauth2_device_url": srv.device_url,
            "oauth2_token_url": srv.token_url}
    keys.update(extra)
    return keys


def xdg_env(base):
    """The XDG directories of a mailfs run under `base` (as a mount of
    tests/fs/conftest.py has them)."""
    return fsconf._mailfs_env(base)


class Login:
    """The outcome of `mailfs login`: returncode, stderr (str)."""

    def __init__(self, returncode, stderr):
        self.returncode = returncode
        self.stderr = stderr

    @property
    def lines(self):
        return self.stderr.splitlines()


def run_login(srv, config, account, env, action="approve", user="alice",
              on_code=None):
    """Run `mailfs login --config CONFIG ACCOUNT`, read the user code from
    its stderr and approve it for `user` (or deny it, or do nothing) at
    the server's control endpoint, as a person at the verification URI
    would. on_code(user_code) runs first when given."""
    proc = subprocess.Popen([MAILFS, "login", "--config", config, account],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    lines = []
    deadline = time.monotonic() + LOGIN_TIMEOUT
    for line in proc.stderr:
        lines.append(line)
        m = re.search(r"enter the code (\S+)", line)
        if m:
            if on_code:
                on_code(m.group(1))
            if action == "approve":
                srv.approve(m.group(1), user)
            elif action == "deny":
                srv.deny(m.group(1))
        if time.monotonic() > deadline:
            proc.kill()
            break
    proc.wait(timeout=LOGIN_TIMEOUT)
    proc.stdout.close()
    proc.stderr.close()
    return Login(proc.returncode, "".join(lines))


def token_file(env, account):
    return os.path.join(env["XDG_DATA_HOME"], "mailfs", "tokens", account)


def read_tokens(env, account):
    """The token file as a dict (refresh_token, access_token, expires_at)."""
    out = {}
    with open(token_file(env, account)) as f:
        for line in f:
            if "=" in line and not line.startswith("#"):
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


def age_access_token(env, account, seconds_left=-100):
    """Make the stored access token look `seconds_left` from its end (past
    it when negative), as if that much time had gone by."""
    path = token_file(env, account)
    with open(path) as f:
        text = f.read()
    text = re.sub(r"expires_at=\d+",
                  "expires_at=%d" % (int(time.time()) + seconds_left), text)
    with open(path, "w") as f:
        f.write(text)


@pytest.fixture
def oauth():
    with OAuthServer(clients={CLIENT_ID: None}) as srv:
        yield srv


@pytest.fixture(scope="module")
def oauth_module():
    with OAuthServer(clients={CLIENT_ID: None}) as srv:
        yield srv


@pytest.fixture(scope="module")
def dovecot_oauth(oauth_module):
    """A Dovecot that also takes XOAUTH2 and OAUTHBEARER, checking the
    bearer tokens at oauth_module's introspection endpoint."""
    with running_dovecot(
            users={"alice": "alice-secret-1"},
            oauth2_introspection_url=oauth_module.introspection_url) as dv:
        dv.oauth = oauth_module
        yield dv


@pytest.fixture
def dovecot(dovecot_oauth):
    dv = dovecot_oauth
    mark = dv._log_size()
    yield dv
    print("---- Dovecot log during the test ----\n%s"
          % dv.log_since(mark)[-8000:])
    assert dv.running, "Dovecot died during the test"
