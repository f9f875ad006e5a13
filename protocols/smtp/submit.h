/*
 * submit.h - message submission (RFC 6409) over SMTP with libcurl: the
 * account's `smtp = smtp://host:port` (STARTTLS, RFC 3207, required unless
 * allow_plaintext = true) or `smtps://host:port` (implicit TLS, RFC 8314),
 * AUTH PLAIN, LOGIN or XOAUTH2 (RFC 4954) with the account's credentials.
 * The envelope comes from the message itself (envelope.h); what is sent
 * has no Bcc: field.
 *
 * Certificates are verified against the system's CAs plus the account's
 * ca_file, and the host name with them; there is no switch to turn that
 * off.  Secrets never reach a log or an error text.
 *
 * Functions return 0 or -errno; failures are described in struct mfs_error
 * (protocols/backend.h).  A submitter is used by one thread at a time.
 */
#ifndef MFS_SMTP_SUBMIT_H
#define MFS_SMTP_SUBMIT_H

#include <glib.h>
#include <stdbool.h>

#include "backend.h"

struct smtpc_submitter;		/* opaque */

/* The account's submission settings.  *s_r (caller owns, close with
 * smtpc_submitter_close) is NULL when the account has no `smtp` key.
 * -EINVAL with the reason in *err for settings that cannot work. */
int smtpc_submitter_open(const struct mfs_account *acct,
			struct smtpc_submitter **s_r, GError **err);
void smtpc_submitter_close(struct smtpc_submitter **s);

/*
 * Submit the message in `fd` (read from offset 0 to its end), in its own
 * transaction, over the connection the last one left open if the server
 * kept it.  On failure
 * *maybe_sent_r tells whether the server may have taken it all the same
 * (the connection went after the whole message was handed over and before
 * its answer came): such a message must not be sent again blindly.  A
 * message the server refused (5xx) or that cannot be sent (envelope.h)
 * fails with MFS_ERR_FINAL and the reason, in the server's words where it
 * gave some, in e->msg.
 */
int smtpc_submit(struct smtpc_submitter *s, int fd, bool *maybe_sent_r,
		struct mfs_error *e);

/* A message submitted leaves its connection open for the next (RFC 5321
 * allows any number of transactions on one); this ends it with QUIT, for
 * when no message waits.  A connection the server closed meanwhile is
 * replaced when the next message finds it so, before any of it is sent. */
void smtpc_submitter_idle(struct smtpc_submitter *s);

/* check.c, for `mailfs check`: connect, TLS or STARTTLS, EHLO and AUTH
 * as a submission would, then QUIT without sending anything; each step
 * said through `ck` with the step names prefixed "smtp ".  Returns 0 when
 * every step worked, else -errno. */
struct mfs_check;
int smtpc_check(struct smtpc_submitter *s, struct mfs_check *ck);

/* "smtp: URL" and the last outcome, for .mailfs/status. */
void smtpc_submitter_describe(struct smtpc_submitter *s, GString *out);

#endif
