"""A type = ews account mounted against `mailfs serve --ews`: what the
mount shows is byte for byte what the store holds, and changes made on
either side show on the other.  Operations the embedded server does not
carry yet are skipped (conftest.need_ops), never faked."""

import email.utils
import errno
import os
import shutil
import subprocess
import time

import pytest

from conftest import PASSWORD, ews_config, mount_on, need_ops, url_of

SYNC = 15.0


def wait_until(pred, timeout=SYNC, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def message(n, body=None):
    body = body or ("Message number %d.\r\n" % n) * (n + 1)
    return ("From: Bob <bob@example.org>\r\nTo: alice@example.org\r\n"
            "Subject: test %d\r\nDate: %s\r\nMessage-ID: <ewsc-%d@example."
            "org>\r\n\r\n%s" % (n, email.utils.formatdate(1700000000 + n),
                                n, body)).encode()


def put(store, folder, unique, data, flags="S"):
    path = os.path.join(store, folder, "cur", "%s:2,%s" % (unique, flags))
    with open(path, "wb") as f:
        f.write(data)
    return path


def store_files(store, folder):
    """{unique: (flags, bytes)} of a store folder's cur/ and new/."""
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(store, folder, sub)
        for name in os.listdir(d):
            unique, _, flags = name.partition(":2,")
            with open(os.path.join(d, name), "rb") as f:
                out[unique] = (flags, f.read())
    return out


def names(fs, folder, sub="cur"):
    try:
        return sorted(os.listdir(fs.m(folder, sub)))
    except FileNotFoundError:
        return []


def flags_of(name):
    return name.split(":2,", 1)[1]


def base_of(name):
    return name.split(":2,", 1)[0]


def contents(fs, folder):
    out = {}
    for n in names(fs, folder):
        with open(fs.m(folder, "cur", n), "rb") as f:
            out[n] = f.read()
    return out


@pytest.fixture
def mounted(ews_served, ews_store, mount_factory, tmp_path):
    for i in range(3):
        put(ews_store, "INBOX", "1700000%03d.M%dP1.host" % (i, i), message(i),
            "S" if i else "")
    put(ews_store, "Archive/2024", "1700000100.M9P1.host", message(9), "FR")
    conf = ews_config(str(tmp_path), url_of(ews_served))
    fs = mount_factory(conf, "ews")
    mount_on(fs, ews_served)
    fs.store = ews_store
    fs.server = ews_served
    return fs


def test_listing_is_byte_identical(mounted):
    fs = mounted
    top = sorted(os.listdir(fs.mnt))
    for folder in ("INBOX", "Sent", "Trash", "Drafts", "Archive"):
        assert folder in top, top
        assert os.path.isdir(fs.m(folder, "cur"))
    assert os.path.isdir(fs.m("Archive", "2024", "cur"))
    on_store = store_files(fs.store, "INBOX")
    listed = names(fs, "INBOX")
    assert len(listed) == len(on_store) == 3
    want = sorted(v[1] for v in on_store.values())
    got = []
    for n in listed:
        assert "/" not in base_of(n) and len(n) < 255
        path = fs.m("INBOX", "cur", n)
        size = os.stat(path).st_size
        with open(path, "rb") as f:
            data = f.read()
        # st_size is exact before and after the read
        assert size == len(data)
        got.append(data)
    assert sorted(got) == want
    flags = sorted(flags_of(n) for n in listed)
    assert flags == ["", "S", "S"]
    (arch,) = names(fs, "Archive/2024")
    assert flags_of(arch) == "FR"
    # what cp and rsync read is whole
    out = os.path.join(fs.base, "copy")
    shutil.copyfile(fs.m("Archive/2024", "cur", arch), out)
    with open(out, "rb") as f:
        assert f.read() == message(9)
    r = subprocess.run(["wc", "-c", fs.m("Archive/2024", "cur", arch)],
                       capture_output=True, text=True)
    assert int(r.stdout.split()[0]) == len(message(9))
    status = open(fs.m(".mailfs", "status")).read()
    assert "ews" in status, status


def test_names_survive_a_wiped_cache(mounted):
    fs = mounted
    before = names(fs, "INBOX")
    fs.unmount()
    shutil.rmtree(fs.cache)
    mount_on(fs, fs.server)
    assert wait_until(lambda: names(fs, "INBOX") == before), \
        (names(fs, "INBOX"), before)


def test_store_changes_appear(mounted):
    fs = mounted
    put(fs.store, "INBOX", "1700000500.M50P1.host", message(50), "")
    assert wait_until(lambda: len(names(fs, "INBOX")) == 4), names(fs, "INBOX")
    new = [n for n in names(fs, "INBOX")
           if open(fs.m("INBOX", "cur", n), "rb").read() == message(50)]
    assert len(new) == 1
    # a flag set in the store shows as the mount's flag
    path = os.path.join(fs.store, "INBOX", "cur", "1700000500.M50P1.host:2,")
    os.rename(path, path + "FS")
    assert wait_until(lambda: base_of(new[0]) + ":2,FS" in names(fs, "INBOX")), \
        names(fs, "INBOX")
    # and a removal
    os.unlink(path + "FS")
    assert wait_until(lambda: len(names(fs, "INBOX")) == 3)


def test_flags_both_ways(mounted):
    fs = mounted
    need_ops(fs.server, "UpdateItem")
    unread = [n for n in names(fs, "INBOX") if flags_of(n) == ""][0]
    os.rename(fs.m("INBOX", "cur", unread),
              fs.m("INBOX", "cur", base_of(unread) + ":2,FS"))
    fs.flush()
    assert wait_until(lambda: sorted(
        f for f, _ in store_files(fs.store, "INBOX").values())
        == ["FS", "S", "S"]), store_files(fs.store, "INBOX")
    os.rename(fs.m("INBOX", "cur", base_of(unread) + ":2,FS"),
              fs.m("INBOX", "cur", base_of(unread) + ":2,"))
    fs.flush()
    assert wait_until(lambda: sorted(
        f for f, _ in store_files(fs.store, "INBOX").values())
        == ["", "S", "S"])


def test_append_by_cp(mounted):
    fs = mounted
    need_ops(fs.server, "CreateItem")
    src = os.path.join(fs.base, "new-message")
    with open(src, "wb") as f:
        f.write(message(77))
    shutil.copy(src, fs.m("Archive", "cur", "1700009999.new.host:2,S"))
    fs.flush()
    got = store_files(fs.store, "Archive")
    assert [v[1] for v in got.values()] == [message(77)]
    # imported as read and not as a draft
    assert [v[0] for v in got.values()] == ["S"]
    (n,) = names(fs, "Archive")
    assert open(fs.m("Archive", "cur", n), "rb").read() == message(77)


def test_delete(mounted):
    fs = mounted
    need_ops(fs.server, "DeleteItem")
    victim = names(fs, "INBOX")[0]
    data = open(fs.m("INBOX", "cur", victim), "rb").read()
    os.unlink(fs.m("INBOX", "cur", victim))
    fs.flush()
    left = [v[1] for v in store_files(fs.store, "INBOX").values()]
    assert data not in left and len(left) == 2


def test_move_between_folders(mounted):
    fs = mounted
    need_ops(fs.server, "MoveItem")
    (n,) = names(fs, "Archive/2024")
    os.rename(fs.m("Archive/2024", "cur", n), fs.m("Sent", "cur", n))
    fs.flush()
    assert store_files(fs.store, "Archive/2024") == {}
    assert [v[1] for v in store_files(fs.store, "Sent").values()] == \
        [message(9)]
    assert wait_until(lambda: len(names(fs, "Sent")) == 1)
    (m,) = names(fs, "Sent")
    assert open(fs.m("Sent", "cur", m), "rb").read() == message(9)


def test_folder_operations(mounted):
    fs = mounted
    need_ops(fs.server, "CreateFolder", "UpdateFolder", "DeleteFolder")
    os.mkdir(fs.m("Projects"))
    fs.flush()
    assert os.path.isdir(os.path.join(fs.store, "Projects"))
    os.rename(fs.m("Projects"), fs.m("Done"))
    fs.flush()
    assert os.path.isdir(os.path.join(fs.store, "Done"))
    assert not os.path.exists(os.path.join(fs.store, "Projects"))
    with pytest.raises(OSError) as ei:
        os.rmdir(fs.m("INBOX"))
    assert ei.value.errno in (errno.ENOTEMPTY, errno.EPERM, errno.EBUSY,
                              errno.EACCES)
    os.rmdir(fs.m("Done"))
    fs.flush()
    assert not os.path.exists(os.path.join(fs.store, "Done"))


def test_wrong_password(ews_served, mount_factory, tmp_path):
    conf = ews_config(str(tmp_path), url_of(ews_served),
                      password=PASSWORD + "x")
    fs = mount_factory(conf, "ews")
    fail = fs.mount_fails()
    assert fail.returncode != 0
    assert "401" in fail.output or "refused" in fail.output, fail.output
    assert PASSWORD not in fail.output


def test_plaintext_needs_consent(ews_served, mount_factory, tmp_path):
    conf = ews_config(str(tmp_path), url_of(ews_served),
                      allow_plaintext=None)
    fs = mount_factory(conf, "ews")
    fail = fs.mount_fails()
    assert fail.returncode != 0
    assert "allow_plaintext" in fail.output, fail.output
