"""A POP3 account mounted with mailfs against a real Dovecot: names from
UIDL, exact sizes and bytes, local flags, removal at flush, the keep mode
(leave_on_server = false), TLS and the two ways of logging in."""

import os
import shutil
import subprocess
import time

import pytest

from conftest import pop3_config, pop3_messages
from dovecot import make_message

SYNC = 15.0


def wait_until(pred, timeout=SYNC, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def listing(fs):
    """{unique part: file name} of INBOX, cur/ and new/ together."""
    out = {}
    for sub in ("cur", "new"):
        for n in os.listdir(fs.m("INBOX", sub)):
            out[n.split(":2,")[0]] = os.path.join(sub, n)
    return out


def read(fs, rel):
    with open(fs.m("INBOX", rel), "rb") as f:
        return f.read()


def mount(dv, factory, tmp_path, user, **keys):
    conf = pop3_config(dv, str(tmp_path / "conf"), user, **keys)
    fs = factory(conf, "pop3")
    fs.user, fs.dovecot = user, dv
    if os.environ.get("MAILFS_TEST_DEBUG"):
        fs.extra_args.append("-d")
    return fs


def test_listing_sizes_and_bytes(dovecot_server, imap_mount_factory,
                                 tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    filled = dv.fill(user, count=12, seed=5, attachment_ratio=0.2)
    fs = mount(dv, imap_mount_factory, tmp_path, user).mount()
    on_server = pop3_messages(dv, user)
    shown = listing(fs)
    assert sorted(shown) == sorted(on_server)
    assert os.listdir(fs.mnt) == ["INBOX"] or sorted(
        n for n in os.listdir(fs.mnt) if not n.startswith(".")) == ["INBOX"]
    dates = {f.data: f.date for f in filled}
    for uidl, data in on_server.items():
        path = fs.m("INBOX", shown[uidl])
        st = os.stat(path)
        # exact before the body is read: LIST's size
        assert st.st_size == len(data)
        assert read(fs, shown[uidl]) == data
        # the Date: header, since POP3 has no dates
        assert int(st.st_mtime) == dates[data]
    # new messages are in new/ with no flags
    assert all(rel.startswith("new/") for rel in shown.values())


def test_names_stable_remount_and_wiped_cache(dovecot_server,
                                              imap_mount_factory, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.fill(user, count=5, seed=6)
    fs = mount(dv, imap_mount_factory, tmp_path, user).mount()
    first = sorted(listing(fs))
    fs.remount()
    assert sorted(listing(fs)) == first
    fs.unmount()
    shutil.rmtree(fs.cache)
    fs.mount()
    assert sorted(listing(fs)) == first


def test_flags_local_and_kept(dovecot_server, imap_mount_factory, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.fill(user, count=3, seed=7)
    before = pop3_messages(dv, user)
    fs = mount(dv, imap_mount_factory, tmp_path, user).mount()
    shown = listing(fs)
    uidl = sorted(shown)[0]
    os.rename(fs.m("INBOX", shown[uidl]),
              fs.m("INBOX", "cur", uidl + ":2,FS"))
    fs.flush()
    fs.remount()
    assert listing(fs)[uidl] == "cur/%s:2,FS" % uidl
    # never sent to the server: its messages are as they were
    assert pop3_messages(dv, user) == before
    imap = {m.uid: m.flags for m in dv.list_messages(user)}
    assert not any("\\Flagged" in f for f in imap.values())


def test_rm_deletes_on_server_at_flush(dovecot_server, imap_mount_factory,
                                       tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.fill(user, count=4, seed=8)
    fs = mount(dv, imap_mount_factory, tmp_path, user).mount()
    shown = listing(fs)
    gone = sorted(shown)[:2]
    for uidl in gone:
        os.unlink(fs.m("INBOX", shown[uidl]))
    fs.flush()
    left = pop3_messages(dv, user)
    assert sorted(left) == sorted(set(shown) - set(gone))
    fs.remount()
    assert sorted(listing(fs)) == sorted(left)


def test_new_mail_appears(dovecot_server, imap_mount_factory, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.fill(user, count=2, seed=9)
    fs = mount(dv, imap_mount_factory, tmp_path, user).mount()
    assert len(listing(fs)) == 2
    msg = make_message(1, subject="arrived later")
    dv.append(user, "INBOX", msg)
    assert wait_until(lambda: len(listing(fs)) == 3)
    new = [rel for rel in listing(fs).values()
           if read(fs, rel).replace(b"\r\n", b"\n") == msg.replace(
               b"\r\n", b"\n")]
    assert new, "the new message's bytes are not on the mount"


def test_rsync_equals_server(dovecot_server, imap_mount_factory, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.fill(user, count=30, seed=10, attachment_ratio=0.1)
    fs = mount(dv, imap_mount_factory, tmp_path, user).mount()
    dest = tmp_path / "backup"
    subprocess.run(["rsync", "-a", fs.mnt + "/", str(dest) + "/"],
                   check=True, timeout=120)
    got = {}
    for sub in ("cur", "new"):
        for n in os.listdir(dest / "INBOX" / sub):
            got[n.split(":2,")[0]] = (dest / "INBOX" / sub / n).read_bytes()
    assert got == pop3_messages(dv, user)


def test_leave_on_server_false(dovecot_server, imap_mount_factory, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.fill(user, count=5, seed=11)
    before = pop3_messages(dv, user)
    kept = str(tmp_path / "kept")
    fs = mount(dv, imap_mount_factory, tmp_path, user,
               leave_on_server=False, store=kept).mount()
    # downloaded and then gone from the server
    assert wait_until(lambda: not pop3_messages(dv, user))
    shown = listing(fs)
    assert sorted(shown) == sorted(before)
    for uidl, data in before.items():
        assert read(fs, shown[uidl]) == data
    uidl = sorted(shown)[0]
    os.rename(fs.m("INBOX", shown[uidl]),
              fs.m("INBOX", "cur", uidl + ":2,S"))
    victim = sorted(shown)[1]
    os.unlink(fs.m("INBOX", shown[victim]))
    fs.flush()
    # more mail comes, and is kept too
    dv.append(dv_user := user, "INBOX", make_message(2, subject="later"))
    assert wait_until(lambda: len(listing(fs)) == 5)
    assert wait_until(lambda: not pop3_messages(dv, dv_user))
    fs.remount()
    after = listing(fs)
    assert after[uidl] == "cur/%s:2,S" % uidl
    assert victim not in after
    assert len(after) == 5
    with open(fs.m(".mailfs", "status")) as f:
        status = f.read()
    assert "leave on server: no" in status
    # the mail is in `store`, not in the cache: a wiped cache loses none
    assert len(os.listdir(os.path.join(kept, "INBOX", "cur"))) + \
        len(os.listdir(os.path.join(kept, "INBOX", "new"))) == 5
    fs.unmount()
    shutil.rmtree(fs.cache)
    fs.mount()
    assert listing(fs) == after


def test_pop3s_needs_the_ca(dovecot_server, imap_mount_factory, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    dv.fill(user, count=1, seed=12)
    fs = mount(dv, imap_mount_factory, tmp_path / "a", user, ca_file=None)
    fail = fs.mount_fails()
    assert fail.returncode != 0
    assert "certificate" in fail.output.lower()
    fs = mount(dv, imap_mount_factory, tmp_path / "b", user,
               ca_file=dv.wrong_ca_file)
    assert fs.mount_fails().returncode != 0
    fs = mount(dv, imap_mount_factory, tmp_path / "c", user).mount()
    assert len(listing(fs)) == 1
    with open(fs.m(".mailfs", "status")) as f:
        assert "implicit TLS" in f.read()


@pytest.mark.parametrize("auth,sent", [("user", "PASS <secret>"),
                                       ("plain", "AUTH PLAIN <secret>"),
                                       (None, "AUTH PLAIN <secret>")])
def test_stls_and_login_kinds(dovecot_server, imap_mount_factory, tmp_path,
                              auth, sent):
    dv = dovecot_server
    user, password = dv.add_user()
    dv.fill(user, count=2, seed=13)
    fs = mount(dv, imap_mount_factory, tmp_path, user, tls="starttls",
               auth=auth)
    fs.extra_args.append("-d")
    fs.mount()
    assert len(listing(fs)) == 2
    fs.unmount()
    with open(fs.log, errors="replace") as f:
        log = f.read()
    assert "C: STLS" in log
    assert sent in log
    assert password not in log


def test_plain_text_needs_allow(dovecot_server, imap_mount_factory,
                                tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    conf = pop3_config(dv, str(tmp_path), user, tls="none",
                       allow_plaintext=None)
    fs = imap_mount_factory(conf, "pop3")
    fail = fs.mount_fails()
    assert "allow_plaintext" in fail.output


def test_wrong_password(dovecot_server, imap_mount_factory, tmp_path):
    dv = dovecot_server
    user, _ = dv.add_user()
    fs = mount(dv, imap_mount_factory, tmp_path, user,
               password="not-the-password-42")
    fail = fs.mount_fails()
    assert fail.returncode != 0
    assert "refused the login" in fail.output
    assert "not-the-password-42" not in fail.output
