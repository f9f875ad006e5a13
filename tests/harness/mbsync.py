"""mbsync (isync 1.4) pulling an IMAP account into a local Maildir: the
reference the benchmarks compare mailfs with.

  write_mbsyncrc()   an mbsyncrc with one channel: Far = the IMAP account,
                     Near = a Maildir tree (SubFolders Verbatim, so
                     Archive/2024 becomes NEAR/Archive/2024 and INBOX
                     NEAR/INBOX), Create Near, Sync Pull (or, given,
                     Create Far, Sync Push to upload), every folder (or
                     the given Patterns)
  run_mbsync()       `mbsync -c RC -a`, returning the CompletedProcess
  mbsync_pull()      both, for a Dovecot from dovecot.py

The password is read by PassCmd from a file, never put on a command line.

What mbsync writes is not the server's bytes: its Maildir store keeps LF
line ends (each CRLF from IMAP becomes LF) and it adds an "X-TUID: ..."
header line to every message it stores. as_server_bytes() undoes both, so
that its files can be compared with what the server (or mailfs) holds.
"""

import re

import os
import shlex
import shutil
import subprocess

from mailfs_mount import write_password_file

MBSYNC = shutil.which("mbsync") or "/usr/bin/mbsync"


def _q(value):
    """A quoted mbsyncrc string value."""
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


def write_mbsyncrc(path, near, host, port, user, password_file,
                   ssl_type="IMAPS", ca_file=None, auth_mechs="LOGIN",
                   pipeline_depth=None, timeout=60, extra_channel=(),
                   sync="Pull", create="Near", patterns="*"):
    """Write an mbsyncrc to path and return path.

    near            the local Maildir root (made if missing)
    ssl_type        IMAPS (implicit TLS), STARTTLS or None
    ca_file         the CA to verify the server with (CertificateFile)
    auth_mechs      LOGIN or PLAIN (LOGIN also allows the password over a
                    connection without TLS, which mbsync otherwise refuses)
    sync, create    the Channel's Sync and Create values ("Push" and "Far"
                    upload a Maildir to the account)
    patterns        the folders it syncs (mbsync's Patterns)
    extra_channel   more lines for the Channel section
    """
    os.makedirs(near, exist_ok=True)
    near = os.path.abspath(near)
    state = os.path.join(os.path.dirname(os.path.abspath(path)),
                         "mbsync-state")
    os.makedirs(state, exist_ok=True)
    lines = [
        "IMAPAccount far",
        "Host %s" % host,
        "Port %d" % port,
        "User %s" % _q(user),
        "PassCmd %s" % _q("cat " + shlex.quote(password_file)),
        "SSLType %s" % ssl_type,
        "AuthMechs %s" % auth_mechs,
        "Timeout %d" % timeout,
    ]
    if ca_file and ssl_type != "None":
        lines.append("CertificateFile %s" % ca_file)
    if pipeline_depth:
        lines.append("PipelineDepth %d" % pipeline_depth)
    lines += [
        "",
        "IMAPStore far",
        "Account far",
        "",
        "MaildirStore near",
        "Path %s/" % near,
        "Inbox %s/INBOX" % near,
        "SubFolders Verbatim",
        "",
        "Channel pull",
        "Far :far:",
        "Near :near:",
        "Patterns %s" % patterns,
        "Create %s" % create,
        "Sync %s" % sync,
        "Expunge None",
        "CopyArrivalDate yes",
        "SyncState %s/" % state,
        *extra_channel,
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def as_server_bytes(data):
    """The bytes the server holds for a message file mbsync wrote: without
    the X-TUID header line it added, LF line ends back to CRLF."""
    head, sep, body = data.partition(b"\n\n")
    head = re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", head + b"\n", count=1)[:-1]
    return (head + sep + body).replace(b"\n", b"\r\n")


def run_mbsync(rc, timeout=600, verbose=False):
    """Run `mbsync -c RC -a`; returns the CompletedProcess (stdout and
    stderr together in .stdout, as text)."""
    args = [MBSYNC, "-c", rc, "-a"]
    if verbose:
        args.insert(1, "-V")
    return subprocess.run(args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, text=True, errors="replace")


def mbsync_pull(dovecot, user, workdir, tls="implicit", **kw):
    """Pull every folder of user on a dovecot.Dovecot into workdir/near with
    mbsync. tls: implicit, starttls or none. Returns (near, result)."""
    os.makedirs(workdir, exist_ok=True)
    pwfile = write_password_file(os.path.join(workdir, "mbsync.password"),
                                 dovecot.users[user])
    ssl_type = {"implicit": "IMAPS", "starttls": "STARTTLS",
                "none": "None"}[tls]
    port = dovecot.imaps_port if tls == "implicit" else dovecot.imap_port
    near = os.path.join(workdir, "near")
    # isync 1.4 matches the certificate against DNS names only, so the host
    # is "localhost" (which /etc/hosts maps to 127.0.0.1) rather than the IP.
    rc = write_mbsyncrc(os.path.join(workdir, "mbsyncrc"), near, "localhost",
                        port, user, pwfile, ssl_type=ssl_type,
                        ca_file=dovecot.ca_file, **kw)
    return near, run_mbsync(rc)
