/*
 * check.c - `mailfs check` of an EWS account: the settings; the
 * server's address, TCP and TLS (over stream.h, with the same trust as
 * libcurl is given: the system's CAs plus ca_file, the URL's host name);
 * then the requests a mount starts with (GetFolder of the distinguished
 * folders and SyncFolderHierarchy, [MS-OXWSFOLD], [MS-OXWSSYNC]) through
 * http.c, whose HTTP status and ServerVersionInfo tell whether the
 * login was taken.  Nothing on the server changes.
 */
#include "pim.h"

#include <errno.h>
#include <string.h>

#include "check.h"
#include "stream.h"

static const char *auth_name(enum ewsc_auth auth)
{
	return auth == EWS_AUTH_NTLM ? "ntlm"
	       : auth == EWS_AUTH_BEARER ? "bearer" : "basic";
}

/* DNS, TCP and TLS to the URL's server.  Returns 0 or -errno; the failed
 * step said why. */
static int reach(const struct ewsc_cfg *cfg, struct mfs_check *ck)
{
	g_autofree char *scheme = NULL, *host = NULL, *why = NULL;
	struct stream *s = NULL;
	int port = -1, rc;

	g_uri_split(cfg->url, G_URI_FLAGS_NONE, &scheme, NULL, &host, &port,
		    NULL, NULL, NULL, NULL);
	bool tls = !g_ascii_strcasecmp(scheme, "https");
	g_autofree char *portstr = g_strdup_printf("%d", port > 0 ? port
						   : tls ? 443 : 80);
	if ((rc = mfs_check_resolve(ck, host, portstr)) < 0)
		return rc;
	gint64 started = g_get_monotonic_time();
	int timeout_ms = (int)cfg->timeout * 1000;
	rc = stream_connect(host, portstr, timeout_ms, &s, &why);
	mfs_check_connected(ck, rc, why, s, host, portstr, NULL, started,
			    timeout_ms);
	if (rc == 0 && tls) {
		g_clear_pointer(&why, g_free);
		rc = stream_start_tls(s, host, cfg->ca_file, timeout_ms, &why);
		mfs_check_tls(ck, rc, why, s, cfg->ca_file, "https");
	} else if (rc == 0) {
		mfs_check_say(ck, "tls", true, NULL, "none: http://, plain "
			      "text, as allow_plaintext = true permits");
	}
	stream_close(&s);
	return rc;
}

/* The http and auth steps from the outcome `rc` of the first requests. */
static void say_http(struct mfs_backend *be, int rc,
		     const struct mfs_error *e, struct mfs_check *ck)
{
	const struct ewsc_cfg *cfg = &be->cfg;
	const char *why = cfg->auth_set ? "forced by auth ="
						  : "the default";

	g_mutex_lock(&be->lock);
	long status = be->last_status;
	g_autofree char *version = g_strdup(be->server_version);
	g_mutex_unlock(&be->lock);
	if (status == 0) {
		/* no answer at all: libcurl's reason */
		mfs_check_say(ck, "http", false, NULL, "%s", e->msg);
		return;
	}
	bool answered = status == 200 || status == 401 || status == 403 ||
			(status == 500 && rc == 0);
	mfs_check_say(ck, "http", answered, status == 404
		      ? "check url =; it is usually "
			"https://HOST/EWS/Exchange.asmx" : NULL,
		      "POST %s: HTTP %ld%s%s", cfg->url, status,
		      version ? ", server version " : "",
		      version ? version : "");
	if (!answered)
		return;
	if (status == 401 || status == 403)
		mfs_check_say(ck, "auth", false, cfg->auth == EWS_AUTH_BEARER
			      ? "check oauth2_token_cmd: its token was refused"
			      : "check user = and the password that "
				"password_file or password_cmd gives (or auth "
				"= ntlm / basic, as the server wants)",
			      "%s (%s): %s", auth_name(cfg->auth), why, e->msg);
	else
		mfs_check_say(ck, "auth", true, NULL, "%s (%s): logged in as "
			      "%s", auth_name(cfg->auth), why,
			      cfg->user ? cfg->user : "the token's user");
}

int ewsc_check(const struct mfs_account *acct, struct mfs_check *ck)
{
	struct mfs_backend *be = NULL;
	struct mfs_error e = { 0 };
	GPtrArray *folders = NULL;
	GError *err = NULL;
	int rc;

	if ((rc = ewsc_backend_new(acct, &be, &err)) < 0) {
		mfs_check_say(ck, "config", false, NULL, "%s", err->message);
		g_error_free(err);
		return rc;
	}
	mfs_check_say(ck, "config", true, NULL, "ews, user %s at %s, auth = "
		      "%s%s%s", be->cfg.user ? be->cfg.user : "(none)",
		      be->cfg.url, auth_name(be->cfg.auth),
		      be->cfg.ca_file ? ", ca_file = " : "",
		      be->cfg.ca_file ? be->cfg.ca_file : "");
	if ((rc = reach(&be->cfg, ck)) < 0)
		goto out;
	rc = ewsc_list_folders(be, &folders, &e);
	say_http(be, rc, &e, ck);
	if (rc < 0) {
		if (ck->failures == 0)
			mfs_check_say(ck, "folders", false, NULL, "%s", e.msg);
		goto out;
	}
	unsigned kinds[MFS_FOLDER_OUTBOX + 1] = { 0 };
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		kinds[fi->kind]++;
	}
	mfs_check_say(ck, "folders", true, NULL, "%u folders (%u mail, %u "
		      "contacts, %u calendars)", folders->len,
		      kinds[MFS_FOLDER_MAIL], kinds[MFS_FOLDER_CONTACTS],
		      kinds[MFS_FOLDER_CALENDAR]);
	g_ptr_array_unref(folders);
out:
	ewsc_backend_free(&be);
	return rc;
}
