/*
 * check.c - `mailfs check` of an IMAP account: the settings, then one
 * connection made by imapc_conn_open (which says each step: TCP or the
 * tunnel, TLS or STARTTLS, greeting, CAPABILITY, login) and the folder
 * list the mount would show (LIST, RFC 3501 section 6.3.8).  Nothing on
 * the server changes.
 */
#include "imapc-private.h"

#include <errno.h>
#include <string.h>

#include "check.h"

static const char *tls_name(enum config_tls tls)
{
	switch (tls) {
	case CONFIG_TLS_IMPLICIT:
		return "implicit";
	case CONFIG_TLS_STARTTLS:
		return "starttls";
	case CONFIG_TLS_NONE:
		return "none";
	}
	return "?";
}

int imapc_check(const struct mfs_account *acct, struct mfs_check *ck)
{
	struct mfs_backend *be = NULL;
	struct mfs_error e = { 0 };
	GPtrArray *folders = NULL;
	GError *err = NULL;
	int rc;

	if ((rc = imapc_backend_new(acct, &be, &err)) < 0) {
		mfs_check_say(ck, "config", false, NULL, "%s", err->message);
		g_error_free(err);
		return rc;
	}
	const struct imapc_cfg *cfg = &be->cfg;
	if (cfg->tunnel)
		mfs_check_say(ck, "config", true, NULL, "imap, user %s "
			      "through the command '%s'",
			      cfg->user ? cfg->user : "(none)", cfg->tunnel);
	else
		mfs_check_say(ck, "config", true, NULL, "imap, user %s at "
			      "%s:%s, tls = %s%s%s",
			      cfg->user ? cfg->user : "(none)", cfg->host,
			      cfg->port, tls_name(cfg->tls),
			      cfg->ca_file ? ", ca_file = " : "",
			      cfg->ca_file ? cfg->ca_file : "");
	if (!cfg->tunnel &&
	    (rc = mfs_check_resolve(ck, cfg->host, cfg->port)) < 0)
		goto out;
	/* only the first connection is told; the folder list below may
	 * take it from the pool and makes no other */
	be->cfg.check = ck;
	rc = imapc_backend_connect(be, &e);
	be->cfg.check = NULL;
	if (rc < 0) {
		unsigned failed = ck->failures;
		if (failed == 0)
			mfs_check_say(ck, "session", false, NULL, "%s",
				      e.msg[0] ? e.msg : g_strerror(-rc));
		goto out;
	}
	rc = imapc_list_folders(be, &folders, &e);
	if (rc < 0) {
		mfs_check_say(ck, "folders", false, NULL, "LIST failed: %s",
			      e.msg);
		goto out;
	}
	unsigned mail = 0;
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		mail += fi->kind != MFS_FOLDER_NONE;
	}
	mfs_check_say(ck, "folders", true, NULL, "%u folders (%u hold "
		      "mail)", folders->len, mail);
	g_ptr_array_unref(folders);
out:
	imapc_backend_close(&be);
	return rc;
}
