/*
 * sender.c - see sender.h: the account's sender is its SMTP submitter
 * (RFC 6409, protocols/smtp/submit.h).
 */
#include "sender.h"

#include <errno.h>

#include "log.h"
#include "smtp/submit.h"
#include "stream.h"

struct mfs_sender {
	struct smtpc_submitter *smtp;	/* owned */
	char *trace;			/* owned; the account's type, which
					   names its sends in traces */
};

int mfs_sender_open(const struct mfs_account *acct, struct mfs_sender **s_r,
		    GError **err)
{
	struct smtpc_submitter *smtp = NULL;
	int rc = smtpc_submitter_open(acct, &smtp, err);

	*s_r = NULL;
	if (rc < 0 || !smtp)
		return rc;
	*s_r = g_new0(struct mfs_sender, 1);
	(*s_r)->smtp = smtp;
	(*s_r)->trace = g_strdup(acct->type);
	return 0;
}

void mfs_sender_close(struct mfs_sender **sp)
{
	struct mfs_sender *s = *sp;

	if (!s)
		return;
	smtpc_submitter_close(&s->smtp);
	g_free(s->trace);
	g_free(s);
	*sp = NULL;
}

int mfs_sender_send(struct mfs_sender *s, int fd, bool *maybe_sent_r,
		    struct mfs_error *e)
{
	int rc;

	*maybe_sent_r = false;
	if (!s)
		return mfs_error_set(e, -ENOTSUP, MFS_ERR_ACCOUNT,
				     MFS_ERR_FINAL, "the account has no smtp "
				     "server to send with");
	/* one operation, one deadline (stream.h), for each message of a
	 * batch: a batch of any length is not cut off by the first's */
	stream_op_begin();
	rc = smtpc_submit(s->smtp, fd, maybe_sent_r, e);
	stream_op_end();
	/* the trace the store's calls leave, under the store's name */
	if (log_debug_enabled(LOG_STORE))
		log_debug(LOG_STORE, "%s send - - -> %d", s->trace, rc);
	return rc;
}

void mfs_sender_idle(struct mfs_sender *s)
{
	if (s)
		smtpc_submitter_idle(s->smtp);
}

void mfs_sender_describe(struct mfs_sender *s, GString *out)
{
	if (s)
		smtpc_submitter_describe(s->smtp, out);
}

int mfs_sender_check(struct mfs_sender *s, struct mfs_check *ck)
{
	return s ? smtpc_check(s->smtp, ck) : 0;
}
