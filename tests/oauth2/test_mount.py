"""Mounts, `mailfs sync` and Outbox/ of an account signed in with `mailfs
login`: Dovecot takes the stored token by XOAUTH2 or OAUTHBEARER and checks
it at the authorization server's introspection endpoint; an expired access
token is refreshed by mailfs itself, a revoked sign-in ends in "run mailfs
login", and no token ever reaches the debug log."""

import concurrent.futures
import os
import subprocess

import pytest

from conftest import (MAILFS, age_access_token, imap_account_keys,
                      oauth2_keys, read_tokens, run_login, token_file,
                      write_mailfs_config)
from dovecot import make_message
from smtpsink import SmtpSink


def oauth_account(dv, factory, tmp_path, account="imap", connections=4,
                  **extra):
    """A fresh Dovecot user with three messages, an account of built-in
    OAuth2 for it (no password anywhere), not yet signed in or mounted.
    Returns the ImapMailFS with .user, .config, .messages."""
    user, _ = dv.add_user()
    messages = [make_message(i) for i in range(3)]
    for m in messages:
        dv.append(user, "INBOX", m)
    keys = imap_account_keys(port=dv.imaps_port, tls="implicit",
                             ca_file=dv.ca_file, user=user,
                             connections=connections)
    keys.update(oauth2_keys(dv.oauth))
    keys.update(extra)
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), account, keys)
    fs = factory(conf, account)
    fs.user, fs.messages = user, messages
    return fs


def login(fs):
    r = run_login(fs_oauth(fs), fs.config, fs.account, fs.env, user=fs.user)
    assert r.returncode == 0, r.stderr
    return r


def fs_oauth(fs):
    return fs._oauth


@pytest.fixture
def account(dovecot, imap_mount_factory, tmp_path):
    def make(**kw):
        fs = oauth_account(dovecot, imap_mount_factory, tmp_path, **kw)
        fs._oauth = dovecot.oauth
        return fs
    return make


def inbox_bodies(fs):
    cur = fs.m("INBOX", "cur")
    names = sorted(os.listdir(cur))
    out = []
    for n in names:
        with open(os.path.join(cur, n), "rb") as f:
            out.append(f.read())
    return out


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def dovecot_logins(dv, mark, user):
    return [line for line in dv.log_since(mark).splitlines()
            if "Login: user=<%s>" % user in line]


def test_mount_lists_and_reads_inbox_with_the_stored_token(dovecot, account):
    fs = account()
    login(fs)
    mark = dovecot._log_size()
    fs.mount()
    got = inbox_bodies(fs)
    assert sorted(crlf(b) for b in got) == sorted(crlf(m) for m in
                                                   fs.messages)
    fs.unmount()
    logins = dovecot_logins(dovecot, mark, fs.user)
    assert logins and all("method=OAUTHBEARER" in line or
                          "method=XOAUTH2" in line for line in logins), logins


def test_xoauth2_when_forced(dovecot, account):
    fs = account(auth="XOAUTH2")
    login(fs)
    mark = dovecot._log_size()
    fs.mount()
    assert len(os.listdir(fs.m("INBOX", "cur"))) == 3
    fs.unmount()
    logins = dovecot_logins(dovecot, mark, fs.user)
    assert logins and all("method=XOAUTH2" in line for line in logins)


def test_sync_uses_the_stored_token(dovecot, account):
    fs = account()
    login(fs)
    r = subprocess.run([MAILFS, "sync", "--prefetch", "--config", fs.config,
                        "-o", "cache_dir=%s" % fs.cache, fs.account],
                       capture_output=True, text=True, env=fs.env,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "INBOX: 3" in r.stderr


def test_expired_access_token_is_refreshed_once(dovecot, account):
    oauth = dovecot.oauth
    fs = account(connections=4)
    login(fs)
    before = read_tokens(fs.env, fs.account)
    # time passes: the server no longer takes the access token, and mailfs
    # sees it has run out
    oauth.expire_access_tokens()
    age_access_token(fs.env, fs.account)
    refreshes = oauth.stats()["refreshes"]
    fs.mount()
    # several connections at once: bodies fetched in parallel
    names = sorted(os.listdir(fs.m("INBOX", "cur")))
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        bodies = list(ex.map(
            lambda n: open(fs.m("INBOX", "cur", n), "rb").read(), names))
    assert sorted(crlf(b) for b in bodies) == sorted(crlf(m) for m in
                                                      fs.messages)
    fs.unmount()
    assert oauth.stats()["refreshes"] == refreshes + 1
    after = read_tokens(fs.env, fs.account)
    # the rotated refresh token was kept, the old one is spent
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert oauth.check_token(fs.user, after["access_token"])


def test_concurrent_syncs_refresh_once(dovecot, account):
    """Two processes of one account that find the token expired: one
    refreshes, the other takes its result (a rotated refresh token would
    otherwise be spent twice)."""
    oauth = dovecot.oauth
    fs = account(connections=2)
    login(fs)
    oauth.expire_access_tokens()
    age_access_token(fs.env, fs.account)
    refreshes = oauth.stats()["refreshes"]
    procs = [subprocess.Popen(
        [MAILFS, "sync", "--config", fs.config, "-o",
         "cache_dir=%s-%d" % (fs.cache, i), fs.account],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=fs.env)
        for i in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    assert oauth.stats()["refreshes"] == refreshes + 1


def test_revoked_sign_in_fails_the_mount_with_run_login(dovecot, account):
    oauth = dovecot.oauth
    fs = account()
    login(fs)
    tokens = read_tokens(fs.env, fs.account)
    oauth.revoke(tokens["refresh_token"])
    oauth.expire_access_tokens()
    age_access_token(fs.env, fs.account)
    failure = fs.mount_fails(timeout=30)
    assert failure.returncode != 0
    assert "run `mailfs login %s`" % fs.account in failure.output, \
        failure.output
    # an authentication failure, not a server to wait for
    assert failure.seconds < 15
    assert "working offline" not in failure.output


def test_token_revoked_on_the_server_is_refreshed_at_login(dovecot, account):
    """The server stops taking an access token before its time: the IMAP
    login is refused once, mailfs refreshes and logs in."""
    oauth = dovecot.oauth
    fs = account()
    login(fs)
    oauth.expire_access_tokens()
    refreshes = oauth.stats()["refreshes"]
    fs.mount()
    assert len(os.listdir(fs.m("INBOX", "cur"))) == 3
    fs.unmount()
    assert oauth.stats()["refreshes"] == refreshes + 1


def test_no_token_in_the_debug_log(dovecot, account):
    oauth = dovecot.oauth
    fs = account()
    login(fs)
    first = read_tokens(fs.env, fs.account)
    oauth.expire_access_tokens()
    age_access_token(fs.env, fs.account)
    fs.extra_args.append("-d")
    fs.mount()
    inbox_bodies(fs)
    fs.unmount()
    second = read_tokens(fs.env, fs.account)
    with open(fs.log, "rb") as f:
        log = f.read()
    # the trace is there, with the secret masked
    assert b"AUTHENTICATE" in log
    assert b"<secret>" in log
    for t in (first["access_token"], first["refresh_token"],
              second["access_token"], second["refresh_token"]):
        assert t.encode() not in log
    assert b"access token refreshed" in log
    assert b"oauth2: POST %s: HTTP 200" % oauth.token_url.encode() in log


def test_bad_token_files(dovecot, account):
    fs = account()
    # not signed in yet
    failure = fs.mount_fails(timeout=30)
    assert "account imap: oauth2: not signed in yet; run `mailfs login " \
        "imap`" in failure.output, failure.output
    login(fs)
    path = token_file(fs.env, fs.account)
    # open to others: refused, and the file is named
    os.chmod(path, 0o644)
    failure = fs.mount_fails(timeout=30)
    assert "account imap: oauth2: the token file %s is open to others" \
        % path in failure.output, failure.output
    os.chmod(path, 0o600)
    # not a token file
    with open(path, "w") as f:
        f.write("garbage\n")
    failure = fs.mount_fails(timeout=30)
    assert "account imap: oauth2: %s is not a token file" % path \
        in failure.output, failure.output


def test_config_error_fails_the_mount(dovecot, account):
    fs = account(oauth2_token_cmd="echo x")
    failure = fs.mount_fails(timeout=30)
    lines = [line for line in failure.output.splitlines() if line.strip()]
    assert lines == ["mailfs: config %s: account 'imap': oauth2_token_cmd: "
                     "cannot be used together with oauth2 = custom (keep "
                     "one of the two)" % fs.config], failure.output


def test_outbox_submits_with_the_stored_token(dovecot, account):
    oauth = dovecot.oauth
    pki = dovecot.pki
    sink = SmtpSink(tls=(pki["cert_file"], pki["key_file"]), users={},
                    token_check=oauth.check_token)
    sink.start()
    try:
        fs = account(smtp=sink.url)
        login(fs)
        fs.mount()
        msg = (b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
               b"Subject: oauth outbox\r\nMessage-ID: <oauth-outbox@x>\r\n"
               b"\r\nhello\r\n")
        with open(fs.m("Outbox", "x.eml"), "wb") as f:
            f.write(msg)
        r = fs.flush()
        assert r.returncode == 0
        assert len(sink.messages) == 1
        assert sink.logins[-1] == ("XOAUTH2", fs.user, True)
        fs.unmount()
    finally:
        sink.stop()


def test_connections_back_after_a_kick_refresh_once(dovecot, account):
    """Every connection of the mount is dropped while the access token has
    run out and the token endpoint is slow: the connections that come back
    at once share one refresh."""
    oauth = dovecot.oauth
    fs = account(connections=4)
    login(fs)
    if os.environ.get("SHOWLOG"):
        fs.extra_args.append("-d")
    fs.mount()
    assert len(inbox_bodies(fs)) == 3
    refreshes = oauth.stats()["refreshes"]
    oauth.control(action="refresh_delay", seconds=1)
    try:
        oauth.expire_access_tokens()
        age_access_token(fs.env, fs.account)
        dovecot.doveadm("kick", fs.user)
        more = [make_message(10 + i) for i in range(6)]
        for m in more:
            dovecot.append(fs.user, "INBOX", m)
        cur = fs.m("INBOX", "cur")
        assert wait_for(lambda: len(os.listdir(cur)) == 9), os.listdir(cur)
        names = sorted(os.listdir(cur))
        with concurrent.futures.ThreadPoolExecutor(6) as ex:
            bodies = list(ex.map(
                lambda n: open(os.path.join(cur, n), "rb").read(), names))
        assert sorted(crlf(b) for b in bodies) == sorted(
            crlf(m) for m in fs.messages + more)
    finally:
        oauth.control(action="refresh_delay", seconds=0)
    fs.unmount()
    if os.environ.get("SHOWLOG"):
        print(open(fs.log).read())
    assert oauth.stats()["refreshes"] == refreshes + 1


def wait_for(cond, timeout=30):
    import time
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


def test_pop3_account_refuses_oauth2(dovecot, imap_mount_factory, tmp_path):
    """The POP3 client has no XOAUTH2: the accounts file's check says so
    instead of falling back to a password it does not have."""
    keys = {"type": "pop3", "host": "127.0.0.1", "port": dovecot.pop3s_port,
            "tls": "implicit", "ca_file": dovecot.ca_file, "user": "alice"}
    keys.update(oauth2_keys(dovecot.oauth))
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "pop", keys)
    fs = imap_mount_factory(conf, "pop")
    failure = fs.mount_fails(timeout=30)
    lines = [line for line in failure.output.splitlines() if line.strip()]
    assert lines == ["mailfs: config %s: account 'pop': key 'oauth2' does "
                     "not apply to type pop3; remove it (see "
                     "mailfs.conf(5))" % conf], failure.output


def test_token_endpoint_outage_is_waited_out(dovecot, account):
    """The provider cannot refresh now (503 temporarily_unavailable): a
    mount of a filled cache comes up offline instead of failing, as with a
    server that cannot be reached, and connects once the provider is
    back."""
    oauth = dovecot.oauth
    fs = account()
    login(fs)
    fs.mount()
    assert len(inbox_bodies(fs)) == 3
    fs.unmount()
    oauth.expire_access_tokens()
    age_access_token(fs.env, fs.account)
    oauth.control(action="outage", on="1")
    try:
        fs.mount()
        log = open(fs.log).read()
        assert "temporarily_unavailable; working offline" in log, log
        # what the cache holds is there meanwhile
        assert len(inbox_bodies(fs)) == 3
    finally:
        oauth.control(action="outage", on="0")
    dovecot.append(fs.user, "INBOX", make_message(20))
    cur = fs.m("INBOX", "cur")
    assert wait_for(lambda: len(os.listdir(cur)) == 4, timeout=60), \
        fs.log_tail()
    fs.unmount()
