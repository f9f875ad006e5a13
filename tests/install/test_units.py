"""The systemd user units, run as systemd would run them (no systemd here):
their command lines with %i and %h expanded, NOTIFY_SOCKET set to a socket
the test listens on, ExecStop after readiness."""

import imaplib
import os
import signal
import subprocess
import time

import pytest

import namespaces
from cutproxy import CutProxy
from conftest import (force_unmount, is_mounted, unit_commands,
                      unit_settings, wait_until)
from dovecot import dovecot_module, dovecot_server  # noqa: F401
from mailfs_mount import (imap_account_keys, write_mailfs_config,
                          write_password_file)
from mailgen import generate_message


def _start(argv, env):
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _run(argv, env, timeout=120):
    ignore = argv[0].startswith("-")
    argv = [argv[0].lstrip("-")] + argv[1:]
    r = subprocess.run(argv, env=env, capture_output=True, text=True,
                       timeout=timeout)
    return ignore, r


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read()


def test_mount_unit_is_notify_and_restarts_on_failure(installed):
    s = unit_settings(os.path.join(installed.units, "mailfs@.service"))
    assert s["Type"] == "notify"
    assert s["Restart"] == "on-failure"
    assert "-f" in s["ExecStart"].split()


def test_mount_unit_reports_ready_and_flushes_before_it_unmounts(
        installed, home, notify_socket, dovecot_server):
    user, password = dovecot_server.add_user()
    dovecot_server.append(user, "INBOX", generate_message(1)[0])
    pw = write_password_file(os.path.join(home["HOME"], "pw"), password)
    write_mailfs_config(
        os.path.join(home["XDG_CONFIG_HOME"], "mailfs", "config"), "work",
        imap_account_keys(port=dovecot_server.imaps_port,
                          ca_file=dovecot_server.ca_file, user=user,
                          password_file=pw))
    cmds = unit_commands(installed, "mailfs@.service",
                         "work", home["HOME"])
    env = installed.env(NOTIFY_SOCKET=notify_socket.path, **home)
    mp = os.path.join(home["HOME"], "Mail", "work")
    for argv in cmds["ExecStartPre"]:
        _, r = _run(argv, env)
        assert r.returncode == 0, r.stderr
    (start,) = cmds["ExecStart"]
    proc = _start(start, env)
    try:
        msg = notify_socket.wait_for("READY=1",
                                     alive=lambda: proc.poll() is None)
        # ready means usable: the listing is there at once
        assert is_mounted(mp)
        assert len(os.listdir(os.path.join(mp, "INBOX", "new")) +
                   os.listdir(os.path.join(mp, "INBOX", "cur"))) == 1
        assert "STATUS=" in msg
        # a delivery that only the journal holds until the unit stops
        tmp = os.path.join(mp, "INBOX", "tmp", "unit-stop.1")
        with open(tmp, "wb") as f:
            f.write(generate_message(2)[0])
        os.rename(tmp, os.path.join(mp, "INBOX", "new", "unit-stop.1"))
        for argv in cmds["ExecStop"]:
            ignore, r = _run(argv, env)
            assert r.returncode == 0, r.stdout + r.stderr
        assert proc.wait(30) == 0
        assert not is_mounted(mp)
    finally:
        out = _stop(proc)
        force_unmount(mp)
    assert len(os.listdir(os.path.join(
        dovecot_server.maildir(user), "new"))) + len(os.listdir(
            os.path.join(dovecot_server.maildir(user), "cur"))) == 2, out


def test_mount_unit_stop_keeps_changes_when_the_server_is_away(
        installed, home, notify_socket, dovecot_server):
    # Dovecot serves the connections open when it stops: the link goes
    # through a proxy that cuts them
    with CutProxy("127.0.0.1", dovecot_server.imaps_port) as proxy:
        stop_while_away(installed, home, notify_socket, dovecot_server,
                        proxy)


def stop_while_away(installed, home, notify_socket, dovecot_server, proxy):
    user, password = dovecot_server.add_user()
    pw = write_password_file(os.path.join(home["HOME"], "pw"), password)
    write_mailfs_config(
        os.path.join(home["XDG_CONFIG_HOME"], "mailfs", "config"), "work",
        imap_account_keys(port=proxy.port,
                          ca_file=dovecot_server.ca_file, user=user,
                          password_file=pw, timeout=3))
    cmds = unit_commands(installed, "mailfs@.service",
                         "work", home["HOME"])
    env = installed.env(NOTIFY_SOCKET=notify_socket.path, **home)
    mp = os.path.join(home["HOME"], "Mail", "work")
    for argv in cmds["ExecStartPre"]:
        _run(argv, env)
    proc = _start(cmds["ExecStart"][0], env)
    try:
        notify_socket.wait_for("READY=1", alive=lambda: proc.poll() is None)
        proxy.cut_after = 0
        dovecot_server.stop()
        os.mkdir(os.path.join(mp, "Kept"))
        for argv in cmds["ExecStop"]:
            ignore, r = _run(argv, env)
            # the flush cannot finish: its failure is ignored by the unit
            assert ignore and r.returncode != 0
            assert "not flushed" in r.stderr, r.stderr
        # then systemd's SIGTERM ends the mount
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert not is_mounted(mp)
    finally:
        _stop(proc)
        force_unmount(mp)
    # the change is still journaled: the next start sends it
    dovecot_server.start()
    proxy.cut_after = None
    for argv in cmds["ExecStartPre"]:
        _run(argv, env)
    proc = _start(cmds["ExecStart"][0], env)
    try:
        notify_socket.messages.clear()
        notify_socket.wait_for("READY=1", alive=lambda: proc.poll() is None)
        for argv in cmds["ExecStop"]:
            ignore, r = _run(argv, env)
            assert r.returncode == 0, r.stderr
        assert proc.wait(30) == 0
    finally:
        _stop(proc)
        force_unmount(mp)
    assert "Kept" in dovecot_server.list_folders(user)


def test_serve_unit_reports_ready_and_stops_on_sigterm(
        installed, home, notify_socket, tmp_path):
    from dovecot import free_ports
    (port,) = free_ports(1)
    pw = tmp_path / "serve-pw"
    pw.write_text("s3cret\n")
    os.chmod(pw, 0o600)
    cfg = os.path.join(home["XDG_CONFIG_HOME"], "mailfs", "config")
    with open(cfg, "w") as f:
        f.write("[serve]\nuser = me\npassword_file = %s\nimap = "
                "127.0.0.1:%d\nstore = %s\n" % (pw, port, tmp_path / "st"))
    cmds = unit_commands(installed, "mailfs-serve.service",
                         "", home["HOME"])
    s = unit_settings(os.path.join(installed.units, "mailfs-serve.service"))
    assert s["Type"] == "notify"
    env = installed.env(NOTIFY_SOCKET=notify_socket.path, **home)
    proc = _start(cmds["ExecStart"][0], env)
    try:
        notify_socket.wait_for("READY=1", alive=lambda: proc.poll() is None)
        # ready means listening: a client gets in at once
        imap = imaplib.IMAP4("127.0.0.1", port)
        imap.login("me", "s3cret")
        typ, _ = imap.select("INBOX")
        assert typ == "OK"
        imap.logout()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        notify_socket.wait_for("STOPPING=1", timeout=5)
    finally:
        _stop(proc)


def test_systemd_accepts_both_units(installed, tmp_path):
    """systemd's own parser reads the units without a word, with the
    program at the path the units name (bound there in a private mount
    namespace, as the install would put it)."""
    final_bindir = installed.bindir[len(installed.root):]
    units = tmp_path / "units"
    units.mkdir()
    # an instance of the template, as `systemctl --user start
    # mailfs@work` makes it
    for src, dst in (("mailfs@.service", "mailfs@work.service"),
                     ("mailfs-serve.service", "mailfs-serve.service")):
        with open(os.path.join(installed.units, src)) as f:
            (units / dst).write_text(f.read())
    script = ("mount --bind %s %s && systemd-analyze verify --man=no "
              "%s/mailfs@work.service %s/mailfs-serve.service"
              % (installed.bindir, final_bindir, units, units))
    r = subprocess.run(namespaces.script(
                           ["unshare", "--mount", "--propagation",
                            "private"], script), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), \
        r.stdout + r.stderr
