"""The write-back tests: an IMAP account on a real Dovecot
(tests/harness/dovecot.py) mounted with mailfs, changed on the mount while
the daemon is killed, the server is stopped or the link is cut."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "harness"))

from dovecot import (dovecot_module, dovecot_server,  # noqa: E402,F401
                     imap_mount_factory)
