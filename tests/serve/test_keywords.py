"""IMAP keywords in `mailfs serve`, kept as Dovecot keeps them in a Maildir:
the folder's dovecot-keywords names the letters a-z, and a message's
keywords are those letters in its file name.  Driven by imaplib, and
checked against a real Dovecot pointed at the same store."""

import imaplib
import os
import pwd
import re
import shutil
import subprocess
import threading

import pytest

from conftest import PASSWORD, USER, Server, inbox_files, make_message

DOVECOT_IMAP = "/usr/lib/dovecot/imap"
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"


def connect(server):
    m = imaplib.IMAP4("127.0.0.1", server.port["imap"], timeout=10)
    m.login(USER, PASSWORD)
    return m


def append(m, folder, subject, flags=None):
    typ, data = m.append(folder, flags, None, make_message(subject=subject))
    assert typ == "OK", data
    return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))


def flags_of(m, uid):
    typ, data = m.uid("FETCH", str(uid), "(FLAGS)")
    assert typ == "OK", data
    got = [d for d in data if d and re.search(rb"UID %d\b" % uid, d)]
    assert got, data
    inner = re.search(rb"FLAGS \(([^)]*)\)", got[0]).group(1)
    return set(inner.decode().split())


def keywords_file(store, folder):
    path = os.path.join(store, folder, "dovecot-keywords")
    with open(path) as f:
        return dict((int(i), name) for i, name in
                    (line.rstrip("\n").split(" ", 1) for line in f))


def letters_of(store, folder, subject):
    for path in inbox_files(store, folder):
        with open(path, "rb") as f:
            if b"Subject: %s\r\n" % subject.encode() in f.read():
                name = os.path.basename(path)
                return name.split(":2,", 1)[1] if ":2," in name else ""
    raise AssertionError("no message %r in %s" % (subject, folder))


def untagged(m, what):
    return [d for d in m.untagged_responses.get(what, []) if d]


def test_store_fetch_search(server):
    m = connect(server)
    typ, _ = m.select("INBOX")
    assert typ == "OK"
    perm = m.response("PERMANENTFLAGS")[1][0]
    assert b"\\*" in perm, perm
    uid = append(m, "INBOX", "labelled")
    other = append(m, "INBOX", "plain")
    m.noop()
    typ, data = m.uid("STORE", str(uid), "+FLAGS", "($Label1 project-x)")
    assert typ == "OK", data
    assert {"$Label1", "project-x"} <= flags_of(m, uid)
    # the Maildir: names in dovecot-keywords, letters in the file name
    assert keywords_file(server.store, "INBOX") == {0: "$Label1",
                                                    1: "project-x"}
    assert set("ab") <= set(letters_of(server.store, "INBOX", "labelled"))
    # SEARCH, without regard to case as RFC 3501 has flags
    assert m.uid("SEARCH", "KEYWORD", "$label1")[1][0].split() == \
        [str(uid).encode()]
    assert str(uid).encode() not in \
        m.uid("SEARCH", "UNKEYWORD", "project-x")[1][0].split()
    assert str(other).encode() in \
        m.uid("SEARCH", "UNKEYWORD", "project-x")[1][0].split()
    assert m.uid("SEARCH", "KEYWORD", "never-set")[1][0] == b""
    # -FLAGS and FLAGS
    m.uid("STORE", str(uid), "-FLAGS", "(project-x)")
    assert flags_of(m, uid) & {"$Label1", "project-x"} == {"$Label1"}
    m.uid("STORE", str(uid), "FLAGS", r"(\Seen project-x)")
    assert flags_of(m, uid) >= {"\\Seen", "project-x"}
    assert "$Label1" not in flags_of(m, uid)
    assert letters_of(server.store, "INBOX", "labelled") == "Sb"
    # a new SELECT lists the folder's keywords
    m.select("INBOX")
    listed = m.response("FLAGS")[1][0]
    assert b"$Label1" in listed and b"project-x" in listed, listed
    m.logout()


def test_kept_across_restart(store, workdir):
    srv = Server(store, workdir)
    try:
        m = connect(srv)
        m.select("INBOX")
        uid = append(m, "INBOX", "keep me")
        m.noop()
        m.uid("STORE", str(uid), "+FLAGS", "(Important $Forwarded)")
        m.logout()
    finally:
        assert srv.stop() == 0
    srv = Server(store, workdir)
    try:
        m = connect(srv)
        m.select("INBOX")
        assert {"Important", "$Forwarded"} <= flags_of(m, uid)
        assert b"Important" in m.response("FLAGS")[1][0]
        m.logout()
    finally:
        assert srv.stop() == 0


def test_append_copy_move_map_letters(server):
    m = connect(server)
    m.create("Work")
    # Work's letters a and b go to other names first
    append(m, "Work", "work one", r"(\Seen other1 other2)")
    assert keywords_file(server.store, "Work") == {0: "other1", 1: "other2"}
    assert letters_of(server.store, "Work", "work one") == "Sab"
    m.select("INBOX")
    uid = append(m, "INBOX", "to copy", "($Label1 project-x)")
    moving = append(m, "INBOX", "to move", "(project-x)")
    m.noop()
    assert {"$Label1", "project-x"} <= flags_of(m, uid)
    assert keywords_file(server.store, "INBOX") == {0: "$Label1",
                                                    1: "project-x"}
    typ, data = m.uid("COPY", str(uid), "Work")
    assert typ == "OK", data
    typ, data = m.uid("MOVE", str(moving), "Work")
    assert typ == "OK", data
    # in Work the same names, at Work's letters
    assert keywords_file(server.store, "Work") == {
        0: "other1", 1: "other2", 2: "$Label1", 3: "project-x"}
    assert letters_of(server.store, "Work", "to copy") == "cd"
    assert letters_of(server.store, "Work", "to move") == "d"
    m.select("Work")
    by_subject = {}
    for n in m.search(None, "ALL")[1][0].split():
        typ, data = m.fetch(n, "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subject = data[0][1].decode().strip()
        by_subject[subject] = int(re.search(rb"UID (\d+)", data[0][0]).group(1))
    assert {"$Label1", "project-x"} <= flags_of(m, by_subject["Subject: to copy"])
    assert "other2" not in flags_of(m, by_subject["Subject: to copy"])
    assert flags_of(m, by_subject["Subject: to move"]) & \
        {"other1", "other2", "$Label1", "project-x"} == {"project-x"}
    m.logout()


def test_condstore_modseq_moves_with_keywords(server):
    m = connect(server)
    uid = append(m, "INBOX", "modseq")
    m.enable("CONDSTORE")
    m.select("INBOX")

    def modseq():
        typ, data = m.uid("FETCH", str(uid), "(MODSEQ)")
        return int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))

    before = modseq()
    typ, data = m.uid("STORE", str(uid), "+FLAGS", "(tagged)")
    assert typ == "OK", data
    after = modseq()
    assert after > before
    # UNCHANGEDSINCE an older mod-sequence: refused for this message
    typ, data = m.uid("STORE", str(uid), "(UNCHANGEDSINCE %d)" % before,
                      "-FLAGS", "(tagged)")
    assert typ == "OK", data
    assert "tagged" in flags_of(m, uid)
    assert m.uid("SEARCH", "MODSEQ", str(after))[1][0].split()[:1] == \
        [str(uid).encode()]
    m.logout()


def test_27th_keyword_is_refused(server):
    m = connect(server)
    m.select("INBOX")
    uid = append(m, "INBOX", "many")
    m.noop()
    names = ["kw%02d" % i for i in range(26)]
    typ, data = m.uid("STORE", str(uid), "+FLAGS", "(%s)" % " ".join(names))
    assert typ == "OK", data
    m.select("INBOX")
    perm = m.response("PERMANENTFLAGS")[1][0]
    assert b"\\*" not in perm and b"kw25" in perm, perm
    typ, data = m.uid("STORE", str(uid), "+FLAGS", "(one-too-many)")
    assert typ == "NO" and b"[LIMIT]" in data[0], data
    assert "one-too-many" not in flags_of(m, uid)
    assert set(names) <= flags_of(m, uid)
    # a keyword the folder has is still taken
    m.uid("STORE", str(uid), "-FLAGS", "(kw03)")
    assert "kw03" not in flags_of(m, uid)
    typ, data = m.append("INBOX", "(another-new)", None,
                         make_message(subject="refused"))
    assert typ == "NO" and b"LIMIT" in data[0], data
    assert len(keywords_file(server.store, "INBOX")) == 26
    # COPY into a folder whose letters are all taken by other names
    m.create("Full")
    append(m, "Full", "full", "(%s)" % " ".join("f%02d" % i for i in range(26)))
    typ, data = m.uid("COPY", str(uid), "Full")
    assert typ == "NO" and b"[LIMIT]" in data[0], data
    assert len(inbox_files(server.store, "Full")) == 1
    assert len(keywords_file(server.store, "Full")) == 26
    m.logout()


def test_other_client_hears_new_keyword(server):
    a = connect(server)
    b = connect(server)
    a.select("INBOX")
    uid = append(a, "INBOX", "shared")
    a.noop()
    b.select("INBOX")
    b.uid("STORE", str(uid), "+FLAGS.SILENT", "(from-b)")
    a.noop()
    assert any(b"from-b" in d for d in untagged(a, "FLAGS")), \
        a.untagged_responses
    assert "from-b" in flags_of(a, uid)
    a.logout()
    b.logout()


# ---- the same store under Dovecot --------------------------------------

def dovecot_session(workdir, store, script):
    """Run Dovecot's imap on `store` (as the mail user: Dovecot refuses root)
    with the commands of `script` (tagged lines); returns its output."""
    conf = os.path.join(workdir, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("mail_location = maildir:%s:LAYOUT=fs:INBOX=%s/INBOX\n"
                "log_path = %s/dovecot.log\nssl = no\n"
                "namespace inbox {\n  inbox = yes\n  separator = /\n}\n"
                % (store, store, workdir))
    pw = pwd.getpwnam("mail")
    os.chmod(workdir, 0o755)
    os.chmod(conf, 0o644)
    subprocess.run(["chown", "-R", "%d:%d" % (pw.pw_uid, pw.pw_gid), store],
                   check=True)
    cmd = [SETPRIV, "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
           "--clear-groups", "env", "USER=mail", "HOME=" + workdir,
           DOVECOT_IMAP, "-c", conf]
    r = subprocess.run(cmd, input=script.encode(), capture_output=True,
                       timeout=30)
    return r.stdout.decode(errors="replace")


@pytest.mark.skipif(not os.path.exists(DOVECOT_IMAP), reason="no Dovecot")
def test_dovecot_reads_and_writes_the_same_keywords(store, workdir):
    srv = Server(store, workdir)
    try:
        m = connect(srv)
        m.create("Work")
        m.select("INBOX")
        uid = append(m, "INBOX", "for dovecot")
        m.noop()
        m.uid("STORE", str(uid), "+FLAGS", r"(\Flagged $Label1 project-x)")
        append(m, "Work", "work", "(other1 project-x)")
        m.logout()
    finally:
        assert srv.stop() == 0
    out = dovecot_session(workdir, store,
                          "a SELECT INBOX\r\n"
                          "b FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n"
                          "c STORE 1:* +FLAGS (from-dovecot)\r\n"
                          "d SELECT Work\r\n"
                          "e FETCH 1:* (FLAGS)\r\n"
                          "f LOGOUT\r\n")
    fetched = [l for l in out.splitlines()
               if "FETCH" in l and "FLAGS" in l and "from-dovecot" not in l]
    assert any("$Label1" in l and "project-x" in l and "\\Flagged" in l
               for l in fetched), out
    assert any("other1" in l and "project-x" in l for l in fetched), out
    assert "c OK" in out, out
    # what Dovecot stored, mailfs serve tells
    srv = Server(store, workdir)
    try:
        m = connect(srv)
        m.select("INBOX")
        assert {"$Label1", "project-x", "from-dovecot", "\\Flagged"} <= \
            flags_of(m, uid)
        assert b"from-dovecot" in m.response("FLAGS")[1][0]
        m.logout()
    finally:
        assert srv.stop() == 0


def test_two_clients_adding_at_once(server):
    """Two clients adding new keywords at the same moment, many times: every
    name gets a letter of its own, none is lost from dovecot-keywords."""
    import threading
    setup = connect(server)
    uids = [append(setup, "INBOX", "racer %d" % i) for i in range(2)]
    setup.logout()
    errors = []
    go = threading.Barrier(2)

    def add(who, uid):
        try:
            m = connect(server)
            m.select("INBOX")
            go.wait()
            for i in range(12):
                typ, data = m.uid("STORE", str(uid), "+FLAGS.SILENT",
                                  "(%s-%d)" % (who, i))
                if typ != "OK":
                    errors.append(data)
            m.logout()
        except Exception as e:          # reported below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(w, u))
               for w, u in zip(("left", "right"), uids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    names = keywords_file(server.store, "INBOX")
    want = {"%s-%d" % (w, i) for w in ("left", "right") for i in range(12)}
    assert set(names.values()) == want
    m = connect(server)
    m.select("INBOX")
    assert flags_of(m, uids[0]) & want == {"left-%d" % i for i in range(12)}
    assert flags_of(m, uids[1]) & want == {"right-%d" % i for i in range(12)}
    m.logout()
