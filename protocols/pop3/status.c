/*
 * status.c - a POP3 server's "-ERR" as an errno and a failure class: the
 * client's one table.  RFC 2449 section 8 (extended response codes),
 * RFC 3206 (IN-USE, LOGIN-DELAY, SYS/TEMP, SYS/PERM, AUTH).
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "pop3c-private.h"

struct code_map {
	const char *code;
	int err;
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;
};

/* RFC 3206 and RFC 2449 section 8.1.  The codes speak of the maildrop or
 * the login, so they reach the whole account. */
static const struct code_map codes[] = {
	{ "IN-USE", EBUSY, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "LOGIN-DELAY", EAGAIN, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "SYS/TEMP", EAGAIN, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "SYS/PERM", EIO, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "AUTH", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
};

int pop3c_status_to_errno(const struct pop3_reply *r, struct mfs_error *e)
{
	const char *code = pop3_reply_code(r);
	const char *text = pop3_reply_text(r);
	enum pop3_status status = pop3_reply_status(r);

	if (status == POP3_ST_OK)
		return 0;
	if (status != POP3_ST_ERR)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT,
				     "unexpected reply: %s", text);
	for (size_t i = 0; code && i < G_N_ELEMENTS(codes); i++) {
		/* a code may have sub-codes after a '/' (RFC 2449 8) */
		size_t n = strlen(codes[i].code);
		if (!g_ascii_strncasecmp(code, codes[i].code, n) &&
		    (code[n] == '\0' || code[n] == '/'))
			return mfs_error_set(e, -codes[i].err, codes[i].scope,
					     codes[i].retry, "[%s] %s", code,
					     text);
	}
	return mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL, "%s",
			     text);
}
