"""A real Xandikos (CardDAV and CalDAV) on 127.0.0.1 for the DAV client tests.

Xandikos keeps its collections as git repositories in a temporary
directory and has no authentication of its own (it expects a proxy in
front): it is started with `xandikos --defaults -d DIR -l 127.0.0.1 -p
PORT`, run by `python3 -I` so that this module does not stand in for
its package), which makes the principal /user/ with the address book
/user/contacts/addressbook/ and the calendar /user/calendars/calendar/.

    from xandikos import Xandikos
    with Xandikos(tmp_path) as srv:
        srv.put(srv.addressbook + "a.vcf", card_bytes)
"""

import os
import shutil
import subprocess

from radicale import PYTHON, DavPeer, free_port

XANDIKOS = shutil.which("xandikos") or "/usr/bin/xandikos"


class Xandikos(DavPeer):
    addressbook = "/user/contacts/addressbook/"
    calendar = "/user/calendars/calendar/"
    principal = "/user/"

    def __init__(self, tmpdir):
        self.dir = os.path.join(str(tmpdir), "xandikos")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "xandikos.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [PYTHON, "-I", XANDIKOS, "--defaults", "-d",
                 os.path.join(self.dir, "data"), "-l", "127.0.0.1",
                 "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        try:
            self._wait_up()
        except Exception:
            self.stop()
            raise
