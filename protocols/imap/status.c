/*
 * status.c - a command's completion as an errno and a failure class.
 * Response codes: RFC 5530 (IMAP response codes), RFC 3501 section 7.1.
 */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "printable.h"

struct code_map {
	const char *code;
	int err;
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;
};

static const struct code_map codes[] = {
	{ "AUTHENTICATIONFAILED", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "AUTHORIZATIONFAILED", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "EXPIRED", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "PRIVACYREQUIRED", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "CONTACTADMIN", EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "NOPERM", EACCES, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "UNAVAILABLE", EAGAIN, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "INUSE", EBUSY, MFS_ERR_FOLDER, MFS_ERR_BACKOFF },
	{ "SERVERBUG", EIO, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "LIMIT", ENOSPC, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "OVERQUOTA", EDQUOT, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "NONEXISTENT", ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "TRYCREATE", ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "ALREADYEXISTS", EEXIST, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "EXPUNGEISSUED", ENOENT, MFS_ERR_ITEM, MFS_ERR_TRANSIENT },
	{ "CANNOT", EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "HASCHILDREN", ENOTEMPTY, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "TOOBIG", EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "BADCHARSET", EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "CORRUPTION", EIO, MFS_ERR_FOLDER, MFS_ERR_BACKOFF },
	{ "UIDNOTSTICKY", EIO, MFS_ERR_FOLDER, MFS_ERR_FINAL },
};

int imapc_status_to_errno(const struct imap_line *done, struct mfs_error *e)
{
	struct imap_arg *status = imap_line_arg(done, 1);
	struct imap_arg *code = imap_line_arg(done, 2);
	struct imap_arg *text = done ? imap_line_arg(done, done->args->len - 1)
				     : NULL;
	/* the server's words go into messages users see: printable only */
	g_autofree char *msg = printable(text && text->type == IMAP_ARG_TEXT
					 ? text->str : "", -1);
	GPtrArray *cl = code && code->type == IMAP_ARG_CODE ? code->list : NULL;
	const char *code_name = cl && cl->len ? imap_arg_string(cl->pdata[0])
					      : NULL;
	g_autofree char *name = printable(code_name, -1);

	if (imap_arg_is(status, "OK"))
		return 0;
	if (imap_arg_is(status, "BAD"))
		return mfs_error_set(e, -EPROTO, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "the server did not understand: %s", msg);
	if (!imap_arg_is(status, "NO"))
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT,
				     "unexpected completion");
	for (size_t i = 0; name && i < G_N_ELEMENTS(codes); i++) {
		if (!g_ascii_strcasecmp(codes[i].code, name))
			return mfs_error_set(e, -codes[i].err, codes[i].scope,
					     codes[i].retry, "[%s] %s", name,
					     msg);
	}
	/* the text is all the user will see of it */
	return mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL, "%s",
			     *msg ? msg : "the server refused without saying "
					  "why");
}
