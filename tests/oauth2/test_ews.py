"""An EWS account signed in with `mailfs login`: bearer tokens (RFC 6750)
by default, checked by the recorded-response EWS server of
tests/harness/fakeews.py at the authorization server's introspection
endpoint (`mailfs serve --ews` knows only Basic); a token the server turns
down (401) is refreshed once."""

import os

import fakeews
from conftest import (imap_mount_factory,  # noqa: F401
                      oauth2_keys, read_tokens, run_login,
                      write_mailfs_config)

USER = "alice@example.org"


def message(n):
    return (b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
            b"Subject: ews oauth %d\r\nMessage-ID: <ews-oauth-%d@x>\r\n"
            b"\r\nbody %d\r\n" % (n, n, n))


def ews_account(oauth, srv, factory, tmp_path):
    keys = {"type": "ews", "url": srv.url, "allow_plaintext": True,
            "user": USER, "poll_interval": 1, "timeout": 5}
    keys.update(oauth2_keys(oauth))
    conf = write_mailfs_config(str(tmp_path / "mailfs.conf"), "ews", keys)
    fs = factory(conf, "ews")
    r = run_login(oauth, conf, "ews", fs.env, user=USER)
    assert r.returncode == 0, r.stderr
    return fs


def inbox(fs):
    cur = fs.m("INBOX", "cur")
    return sorted(open(os.path.join(cur, n), "rb").read()
                  for n in os.listdir(cur))


def test_ews_reads_with_bearer_tokens(oauth, imap_mount_factory, tmp_path):
    srv = fakeews.FakeEWS(USER, None, token_check=oauth.check_token)
    try:
        srv.add("inbox", message(1))
        srv.add("inbox", message(2))
        fs = ews_account(oauth, srv, imap_mount_factory, tmp_path)
        fs.extra_args.append("-d")
        fs.mount()
        assert inbox(fs) == [message(1), message(2)]
        fs.unmount()
        tokens = read_tokens(fs.env, "ews")
        with open(fs.log, "rb") as f:
            log = f.read()
        assert tokens["access_token"].encode() not in log
        assert tokens["refresh_token"].encode() not in log
    finally:
        srv.stop()


def test_ews_refreshes_a_token_the_server_refused(oauth, imap_mount_factory,
                                                  tmp_path):
    srv = fakeews.FakeEWS(USER, None, token_check=oauth.check_token)
    try:
        srv.add("inbox", message(3))
        fs = ews_account(oauth, srv, imap_mount_factory, tmp_path)
        before = read_tokens(fs.env, "ews")
        # the server stops taking it long before mailfs expects
        oauth.expire_access_tokens()
        fs.mount()
        assert inbox(fs) == [message(3)]
        fs.unmount()
        assert oauth.stats()["refreshes"] == 1
        after = read_tokens(fs.env, "ews")
        assert after["access_token"] != before["access_token"]
    finally:
        srv.stop()
