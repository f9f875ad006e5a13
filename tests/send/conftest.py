"""The submission tests: an IMAP account on a real Dovecot whose `smtp`
server is an aiosmtpd sink (tests/harness/smtpsink.py) or mailfs serve's
own SMTP receiver."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "harness"))

from dovecot import (dovecot_module, dovecot_server,  # noqa: E402,F401
                     imap_mount_factory)
