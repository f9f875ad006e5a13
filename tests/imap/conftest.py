"""The IMAP mount tests: a real Dovecot (tests/harness/dovecot.py) and the
mailfs binary, talking over 127.0.0.1."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "harness"))

from dovecot import (dovecot_module, dovecot_server,  # noqa: E402,F401
                     imap_mount, imap_mount_factory)
