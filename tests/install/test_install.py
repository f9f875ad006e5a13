"""meson install: the program, the man pages, the units and the completion,
under the prefix and DESTDIR; then the README's fstab line and
`mount -t fuse.mailfs` work with the installed program."""

import os
import stat
import subprocess
import textwrap

import namespaces
from conftest import is_mounted, force_unmount


def test_install_puts_each_file_in_place(installed):
    for path in (installed.mailfs, installed.man1, installed.man5,
                 os.path.join(installed.units, "mailfs@.service"),
                 os.path.join(installed.units, "mailfs-serve.service"),
                 installed.completion):
        assert os.path.isfile(path), path
    assert os.stat(installed.mailfs).st_mode & stat.S_IXOTH
    r = subprocess.run([installed.mailfs, "--version"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout.startswith("mailfs ")
    # the units run the installed program, by its installed path
    prefix_in_unit = installed.bindir[len(installed.root):]
    for unit in ("mailfs@.service", "mailfs-serve.service"):
        with open(os.path.join(installed.units, unit)) as f:
            text = f.read()
        assert "@BINDIR@" not in text
        assert "ExecStart=%s/mailfs " % prefix_in_unit in text


def test_man_finds_both_pages_and_they_render_cleanly(installed):
    env = installed.env()
    for page in (["1", "mailfs"], ["5", "mailfs.conf"]):
        where = subprocess.run(["man", "-w", *page], env=env,
                               capture_output=True, text=True)
        assert where.returncode == 0, where.stderr
        assert where.stdout.strip().startswith(installed.prefix)
        r = subprocess.run(["man", "--warnings", *page], env=dict(
            env, MANWIDTH="80", MAN_KEEP_FORMATTING="0"),
            capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert r.stderr == "", "groff warnings:\n" + r.stderr
        assert "mailfs" in r.stdout


def _welcome_shows(mp):
    return any(os.listdir(os.path.join(mp, "INBOX", d))
               for d in ("new", "cur"))


def _in_namespace(installed, script, env, timeout=60):
    """Run a shell script in a private mount namespace, so that no mount
    leaks out of the test, with the installed program at the path it was
    installed for: mount(8) clears PATH before it runs mount.fuse3, whose
    shell then finds `mailfs` only on the default path (/usr/local/bin,
    /usr/bin, ...), as after a real `meson install`."""
    target = installed.bindir[len(installed.root):]
    setup = "mount --bind %s %s\n" % (installed.bindir, target)
    return subprocess.run(namespaces.script(
                              ["unshare", "--mount", "--propagation",
                               "private"], setup + script), env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_the_readme_fstab_line_mounts(installed, home, tmp_path):
    mp = tmp_path / "Mail"
    mp.mkdir()
    store = os.path.join(home["XDG_DATA_HOME"], "mailfs", "store")
    fstab = tmp_path / "fstab"
    # the README's line, with this test's paths
    fstab.write_text("local  %s  fuse.mailfs  noauto,user,store=%s  0 0\n"
                     % (mp, store))
    script = textwrap.dedent("""\
        set -e
        mount -T {fstab} {mp}
        grep -q ' {mp} fuse.mailfs ' /proc/self/mounts
        ls {mp}/INBOX/new {mp}/INBOX/cur
        cat {mp}/.mailfs/status
        umount {mp}
        """).format(fstab=fstab, mp=mp)
    r = _in_namespace(installed, script, installed.env(**home))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "local" in r.stdout
    # the welcome message was seeded into the store it named
    assert os.path.isdir(os.path.join(store, "INBOX", "cur"))
    assert not is_mounted(str(mp))


def test_mount_t_fuse_mailfs_mounts_a_named_account(installed, home,
                                                    tmp_path):
    mp = tmp_path / "archive"
    mp.mkdir()
    store = tmp_path / "archive-store"
    cfg = tmp_path / "accounts"
    cfg.write_text("[account archive]\ntype = local\nstore = %s\n" % store)
    script = textwrap.dedent("""\
        set -e
        mount -t fuse.mailfs archive {mp} -o config={cfg}
        test -d {mp}/INBOX/cur
        mkdir {mp}/Projects
        umount {mp}
        """).format(mp=mp, cfg=cfg)
    try:
        r = _in_namespace(installed, script, installed.env(**home))
    finally:
        force_unmount(str(mp))
    assert r.returncode == 0, r.stdout + r.stderr
    assert (store / "Projects" / "cur").is_dir()


def test_mount_t_fuse_mailfs_reports_a_bad_account(installed, home,
                                                   tmp_path):
    mp = tmp_path / "nothing"
    mp.mkdir()
    cfg = tmp_path / "accounts"
    cfg.write_text("[account work]\ntype = imap\nhots = mail.example\n")
    r = _in_namespace(installed, "mount -t fuse.mailfs work %s -o config=%s"
                      % (mp, cfg), installed.env(**home))
    assert r.returncode != 0
    assert "unknown key 'hots'" in r.stderr, r.stderr
    assert "did you mean 'host'" in r.stderr
    assert not is_mounted(str(mp))
