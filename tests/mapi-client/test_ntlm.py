"""A type = mapi account with auth = ntlm against `mailfs serve --mapi`:
libcurl's NTLM against the server's NTLMv2 (MS-NLMP), both ours, neither
written against the other.  The mount reads the Inbox as the store holds
it; a wrong password is refused with an error that names the account."""

import email
import email.policy
import os
import subprocess

from conftest import load_module

mount_mod = load_module("mailfs_mount_mapintlm", "harness", "mailfs_mount.py")
mount_factory = mount_mod.imap_mount_factory
serve_mapi = load_module("mailfs_serve_mapi_conftest_ntlm", "serve-mapi",
                         "conftest.py")
MAILFS = mount_mod.MAILFS


def subject(data):
    return str(email.message_from_bytes(
        data, policy=email.policy.default)["Subject"])


def folder_subjects(d):
    out = []
    for sub in ("cur", "new"):
        for n in os.listdir(os.path.join(d, sub)):
            with open(os.path.join(d, sub, n), "rb") as f:
                out.append(subject(f.read()))
    return sorted(out)


def config(tmp_path, server, password, name):
    pw = mount_mod.write_password_file(str(tmp_path / (name + "-pw")),
                                       password)
    keys = {"type": "mapi",
            "url": "http://127.0.0.1:%d" % server.port["mapi"],
            "allow_plaintext": True, "user": serve_mapi.USER,
            "password_file": pw, "auth": "ntlm", "poll_interval": 600,
            "timeout": 20}
    return mount_mod.write_mailfs_config(str(tmp_path / (name + "-config")),
                                         "ntlmbox", keys)


def test_ntlm_mount_and_a_wrong_password(tmp_path, mount_factory):
    store = str(tmp_path / "store")
    serve_mapi.build_store(store)
    server = serve_mapi.Server(store, str(tmp_path), protocols=("mapi",))
    try:
        bad = config(tmp_path, server, "not the password", "bad")
        r = subprocess.run([MAILFS, "check", "--config", bad, "ntlmbox"],
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        assert r.returncode != 0, out
        assert "login refused as alice (HTTP 401)" in out, out
        assert "check user = and the password" in out, out
        assert "not the password" not in out

        fs = mount_factory(config(tmp_path, server, serve_mapi.PASSWORD,
                                  "good"), "ntlmbox")
        fs.mount()
        inbox = fs.m("INBOX")
        assert folder_subjects(inbox) == \
            folder_subjects(os.path.join(store, "INBOX"))
        assert len(folder_subjects(inbox)) == 12
        fs.unmount()
    finally:
        rc = server.stop()
    log = server.log()
    assert "failed login (NTLM)" in log, log
    serve_mapi.check_log(server, rc)
