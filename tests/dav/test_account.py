"""A carddav or caldav account's settings and login against a real
Radicale: `mailfs check` says each step and the collections a mount
would show; a refused password ends the mount, and the check, with a
line that says so, never with the password."""

import subprocess


def test_wrong_password(radicale, dav_mount):
    """A password the server refuses ends the mount with a line that
    says so and names the server, without the password."""
    out = dav_mount(radicale, "carddav",
                    password_file=None,
                    password_cmd="echo not-the-password").mount_fails()
    assert "login refused" in out.output, out.output
    assert radicale.url.rstrip("/") in out.output
    assert "not-the-password" not in out.output


def test_check(radicale, tmp_path):
    """`mailfs check` of a caldav account: each step, the login taken,
    the calendars the mount would show; and the refused login said as
    such."""
    from conftest import account_keys
    from mailfs_mount import MAILFS, write_mailfs_config

    cfg = str(tmp_path / "accounts")
    write_mailfs_config(cfg, "cal", account_keys(radicale, "caldav",
                                                 tmp_path))
    p = subprocess.run([MAILFS, "check", "--config", cfg, "cal"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert '1 calendar: "Work"' in p.stdout, p.stdout
    assert "logged in as alice" in p.stdout, p.stdout
    write_mailfs_config(cfg, "cal", account_keys(
        radicale, "caldav", tmp_path, password_file=None,
        password_cmd="echo wrong"))
    p = subprocess.run([MAILFS, "check", "--config", cfg, "cal"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "login refused" in p.stdout + p.stderr, p.stdout + p.stderr
