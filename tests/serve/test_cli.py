"""The `mailfs serve` command line: credentials, refusal, clean stop."""

import os
import signal
import socket
import subprocess

from conftest import MAILFS, USER, Server, wait_until, write_password_file


def run_serve(*args, timeout=20):
    return subprocess.run([MAILFS, "serve"] + list(args), capture_output=True,
                          timeout=timeout, text=True)


def test_refuses_without_credentials(store):
    p = run_serve("--store", store, "--imap", "127.0.0.1:0")
    assert p.returncode != 0
    assert "credentials" in p.stderr


def test_refuses_password_file_others_can_read(store, workdir):
    pw = write_password_file(os.path.join(workdir, "pw"), mode=0o644)
    p = run_serve("--store", store, "--user", USER, "--password-file", pw,
                  "--imap", "127.0.0.1:0")
    assert p.returncode != 0
    assert "0600" in p.stderr


def test_refuses_bad_address(store, workdir):
    pw = write_password_file(os.path.join(workdir, "pw"))
    p = run_serve("--store", store, "--user", USER, "--password-file", pw,
                  "--smtp", "no-port-here:")
    assert p.returncode != 0
    assert "address" in p.stderr


def test_tls_listener_needs_certificate(store, workdir):
    pw = write_password_file(os.path.join(workdir, "pw"))
    p = run_serve("--store", store, "--user", USER, "--password-file", pw,
                  "--imaps", "127.0.0.1:0")
    assert p.returncode != 0
    assert "--tls-cert" in p.stderr


def test_binds_loopback_and_stops_on_sigint(store, workdir):
    srv = Server(store, workdir, protocols=("smtp",))
    assert "127.0.0.1:%d" % srv.port["smtp"] in srv.log()
    s = socket.create_connection(("127.0.0.1", srv.port["smtp"]))
    assert s.recv(100).startswith(b"220 ")
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(20) == 0
    # an open client does not hold the stop up, and is told nothing wrong
    s.close()
    assert wait_until(lambda: "stopping" in srv.log()), srv.log()


def test_many_clients_at_once(server):
    socks = [socket.create_connection(("127.0.0.1", server.port["pop3"]))
             for _ in range(40)]
    for s in socks:
        assert s.recv(100).startswith(b"+OK")
    for s in socks:
        s.sendall(b"QUIT\r\n")
        assert s.recv(100).startswith(b"+OK")
        s.close()


def test_client_limit_turns_away(store, workdir):
    srv = Server(store, workdir, protocols=("pop3",),
                 extra_args=("--max-clients", "2"))
    try:
        a = socket.create_connection(("127.0.0.1", srv.port["pop3"]))
        b = socket.create_connection(("127.0.0.1", srv.port["pop3"]))
        assert a.recv(100).startswith(b"+OK")
        assert b.recv(100).startswith(b"+OK")
        c = socket.create_connection(("127.0.0.1", srv.port["pop3"]))
        assert c.recv(100).startswith(b"-ERR")
        for s in (a, b, c):
            s.close()
    finally:
        assert srv.stop() == 0


def test_settings_from_the_config_file(store, workdir, tls_files):
    """The [serve] group of the config file, certificate and key included;
    the command line still wins."""
    import ssl
    import imaplib
    from conftest import PASSWORD
    pw = write_password_file(os.path.join(workdir, "pw"))
    cfg = os.path.join(workdir, "config")
    with open(cfg, "w") as f:
        f.write("[account other]\ntype = local\nstore = /nonexistent\n\n"
                "[serve]\nstore = %s\nuser = %s\npassword_file = %s\n"
                "imap = 127.0.0.1:0     # a free port\n"
                "tls_cert = %s\ntls_key = %s\nmax_clients = 3\n"
                % (store, USER, pw, tls_files[0], tls_files[1]))
    p = subprocess.Popen([MAILFS, "serve", "--config", cfg, "--pop3",
                          "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while len([l for l in lines if "listening on" in l]) < 2:
            lines.append(p.stderr.readline())
            assert lines[-1], "".join(lines)
        # each setting on its own: the config's IMAP, the command line's POP3
        assert "pop3: listening on" in "".join(lines)
        assert "imap: listening on" in "".join(lines)
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
    p = subprocess.Popen([MAILFS, "serve", "--config", cfg],
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        assert "imap: listening on" in line, line
        port = int(line.rsplit(":", 1)[1])
        m = imaplib.IMAP4("127.0.0.1", port)
        assert "STARTTLS" in m.capabilities
        m.starttls(ssl_context=ssl.create_default_context(cafile=tls_files[0]))
        m.login(USER, PASSWORD)
        m.logout()
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(20) == 0
    assert run_serve("--config", os.path.join(workdir, "missing")).returncode != 0


def test_debug_log_never_shows_the_password(store, workdir):
    import base64
    import imaplib
    import poplib
    import smtplib
    from conftest import PASSWORD
    srv = Server(store, workdir, extra_args=("-d",))
    try:
        m = imaplib.IMAP4("127.0.0.1", srv.port["imap"])
        m.login(USER, PASSWORD)
        m.logout()
        m = imaplib.IMAP4("127.0.0.1", srv.port["imap"])
        m.authenticate("PLAIN", lambda _: b"\0%s\0%s" % (USER.encode(),
                                                        PASSWORD.encode()))
        m.logout()
        p = poplib.POP3("127.0.0.1", srv.port["pop3"])
        p.user(USER)
        p.pass_(PASSWORD)
        p.quit()
        with smtplib.SMTP("127.0.0.1", srv.port["smtp"]) as s:
            s.login(USER, PASSWORD)
    finally:
        assert srv.stop() == 0
    log = srv.log()
    assert "LOGIN" in log and "PASS" in log and "AUTH" in log  # it traced
    secret = PASSWORD.encode()
    for form in (secret, base64.b64encode(b"\0" + USER.encode() + b"\0" + secret),
                 base64.b64encode(secret)):
        assert form.decode() not in log


def test_ews_bad_address_is_refused_clearly(store, workdir):
    pw = write_password_file(os.path.join(workdir, "pw"))
    p = run_serve("--store", store, "--user", USER, "--password-file", pw,
                  "--ews", "not an address")
    assert p.returncode != 0
    assert "not an address" in p.stderr
