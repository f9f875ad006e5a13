"""Debian's davmail-server in EWS mode, started for a test against a
`mailfs serve --ews` on 127.0.0.1, with its IMAP, SMTP, CalDAV and LDAP
ports on free ports of 127.0.0.1 and a DEBUG log (davmail.log in its
directory) of every EWS request and answer.

  DAVMAIL            the davmail-server program, or None
  DavMail(url, dir)  a running gateway; .imap .smtp .caldav .ldap ports,
                     .text() its output and log, .stop()
"""

import os
import shutil
import socket
import subprocess
import time

DAVMAIL = shutil.which("davmail-server")
START_TIMEOUT = 90


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class DavMail:
    def __init__(self, ews_url, workdir):
        self.dir = os.path.join(workdir, "davmail")
        os.makedirs(self.dir)
        self.imap, self.smtp, self.caldav, self.ldap = free_ports(4)
        self.log = os.path.join(self.dir, "davmail.log")
        props = os.path.join(self.dir, "davmail.properties")
        with open(props, "w") as f:
            f.write("\n".join([
                "davmail.server=true",
                "davmail.mode=EWS",
                "davmail.url=" + ews_url,
                "davmail.imapPort=%d" % self.imap,
                "davmail.smtpPort=%d" % self.smtp,
                "davmail.caldavPort=%d" % self.caldav,
                "davmail.ldapPort=%d" % self.ldap,
                "davmail.popPort=",
                "davmail.bindAddress=127.0.0.1",
                "davmail.allowRemote=false",
                "davmail.disableUpdateCheck=true",
                "davmail.enableKeepAlive=false",
                "davmail.imapAutoExpunge=false",
                "davmail.logFilePath=" + self.log,
                "log4j.logger.davmail=DEBUG",
                "log4j.rootLogger=WARN",
                ""]))
        self.out = open(os.path.join(self.dir, "stdout"), "wb")
        self.proc = subprocess.Popen(
            [DAVMAIL, props], stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("davmail-server exited:\n" + self.text())
            try:
                socket.create_connection(("127.0.0.1", self.imap),
                                         timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("davmail-server did not listen:\n" + self.text())

    def text(self):
        out = []
        for p in (os.path.join(self.dir, "stdout"), self.log):
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out.append(f.read().decode(errors="replace")[-20000:])
        return "\n".join(out)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
