"""Contacts: .vcf files in a contacts folder."""

import errno
import os
import subprocess

from conftest import CTL_DIR, read_file, wait_until


def _vcard(uid, fn, email, note=None):
    lines = ["BEGIN:VCARD", "VERSION:4.0", "UID:%s" % uid, "FN:%s" % fn,
             "N:%s;;;;" % fn.split()[-1], "EMAIL;TYPE=work:%s" % email]
    if note:
        lines.append("NOTE:%s" % note)
    lines.append("END:VCARD")
    return ("\r\n".join(lines) + "\r\n").encode()


def _write_replace(path, data):
    """Rewrite a file in place (truncate + write), as editors that keep the
    inode do."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def test_contact_create_read_edit_delete(mfs):
    path = mfs.m("Contacts", "alice.vcf")
    card = _vcard("urn:uuid:3a1f6c2e-0d4b-4bb0-9b1e-alice0000001",
                  "Alice Example", "alice@example.org")
    _write_replace(path, card)
    assert "alice.vcf" in os.listdir(mfs.m("Contacts"))
    assert read_file(path) == card
    assert wait_until(lambda: os.path.exists(mfs.s("Contacts", "alice.vcf")) and
                      read_file(mfs.s("Contacts", "alice.vcf")) == card), \
        "contact not in the store as written"

    edited = _vcard("urn:uuid:3a1f6c2e-0d4b-4bb0-9b1e-alice0000001",
                    "Alice Example-Smith", "alice@example.org",
                    note="Met at the conference")
    _write_replace(path, edited)
    assert read_file(path) == edited
    assert os.stat(path).st_size == len(edited)
    assert wait_until(lambda: read_file(mfs.s("Contacts", "alice.vcf")) == edited), \
        "edit not in the store"

    os.unlink(path)
    assert "alice.vcf" not in os.listdir(mfs.m("Contacts"))
    assert wait_until(lambda: not os.path.exists(mfs.s("Contacts", "alice.vcf"))), \
        "deleted contact still in the store"


def test_malformed_vcard_fails_at_close(mfs):
    errors_before = read_file(mfs.m(CTL_DIR, "errors"))
    path = mfs.m("Contacts", "broken.vcf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    failures = []
    try:
        os.write(fd, b"this is not a vCard at all\r\nBEGIN:NOTHING\r\n")
        try:
            os.fsync(fd)
        except OSError as e:
            failures.append(("fsync", e.errno))
    finally:
        try:
            os.close(fd)
        except OSError as e:
            failures.append(("close", e.errno))
    assert failures, "writing a malformed vCard neither failed at fsync nor at close"
    assert all(code == errno.EINVAL for _, code in failures), \
        "expected EINVAL, got %r" % [(w, errno.errorcode.get(c, c))
                                     for w, c in failures]

    def reported():
        errs = read_file(mfs.m(CTL_DIR, "errors"))
        new = errs[len(errors_before):] if errs.startswith(errors_before) else errs
        return b"broken.vcf" in new or b"broken" in new or b"vcard" in new.lower()
    assert wait_until(reported), ".mailfs/errors does not report the bad vCard: %r" \
        % read_file(mfs.m(CTL_DIR, "errors"))


def test_shell_redirect_then_append(mfs):
    # A shell's `> file` opens, dup2()s and closes the first descriptor before
    # anything is written; that close must not store an empty contact.
    path = mfs.m("Contacts", "bob.vcf")
    first = _vcard("urn:uuid:bob-1", "Bob Example", "bob@example.net")
    second = _vcard("urn:uuid:bob-2", "Bob Second", "bob2@example.net")
    r = subprocess.run(["sh", "-c", 'cat > "$1"', "sh", path], input=first)
    assert r.returncode == 0
    assert wait_until(lambda: os.path.exists(mfs.s("Contacts", "bob.vcf")) and
                      read_file(mfs.s("Contacts", "bob.vcf")) == first)
    # `>>` opens the existing contact for appending: the result is both cards
    r = subprocess.run(["sh", "-c", 'cat >> "$1"', "sh", path], input=second)
    assert r.returncode == 0
    assert read_file(path) == first + second
    assert wait_until(lambda: read_file(mfs.s("Contacts", "bob.vcf")) ==
                      first + second)
    errors = read_file(mfs.m(CTL_DIR, "errors"))
    assert b"bob.vcf" not in errors, errors


def test_appending_junk_keeps_the_contact(mfs):
    path = mfs.m("Contacts", "carol.vcf")
    card = _vcard("urn:uuid:carol", "Carol Example", "carol@example.org")
    _write_replace(path, card)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b"this line is not a content line\r\n")
    try:
        os.close(fd)
        raise AssertionError("close() accepted a broken vCard")
    except OSError as e:
        assert e.errno == errno.EINVAL
    # the stored contact is the one before the broken edit
    assert read_file(mfs.s("Contacts", "carol.vcf")) == card
    assert read_file(path) == card
    assert b"carol.vcf" in read_file(mfs.m(CTL_DIR, "errors"))
