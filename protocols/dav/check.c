/*
 * check.c - `mailfs check` of a carddav or caldav account: the
 * settings; the server's address, TCP and TLS (over stream.h, with the
 * trust libcurl is given: the system's CAs plus ca_file, the URL's host
 * name); then the discovery a mount starts with (discover.c: PROPFIND of
 * the url, the principal and its home set), whose answers tell whether
 * the login was taken and which collections the mount would show.
 * Nothing on the server changes.
 */
#include "davc-private.h"

#include <errno.h>
#include <string.h>

#include "check.h"
#include "stream.h"

static const char *auth_name(enum davc_auth auth)
{
	return auth == DAVC_AUTH_DIGEST ? "digest"
	       : auth == DAVC_AUTH_BEARER ? "bearer" : "basic";
}

/* DNS, TCP and TLS to the URL's server.  Returns 0 or -errno; the failed
 * step said why. */
static int reach(const struct davc_cfg *cfg, struct mfs_check *ck)
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

int davc_check(const struct mfs_account *acct, struct mfs_check *ck)
{
	struct mfs_backend *be = NULL;
	struct mfs_error e = { 0 };
	GPtrArray *folders = NULL;
	GError *err = NULL;
	int rc;

	if ((rc = davc_backend_new(acct, &be, &err)) < 0) {
		mfs_check_say(ck, "config", false, NULL, "%s", err->message);
		g_error_free(err);
		return rc;
	}
	mfs_check_say(ck, "config", true, NULL, "%s, user %s at %s, auth = "
		      "%s%s%s", acct->type,
		      be->cfg.user ? be->cfg.user : "(none)", be->cfg.url,
		      auth_name(be->cfg.auth),
		      be->cfg.ca_file ? ", ca_file = " : "",
		      be->cfg.ca_file ? be->cfg.ca_file : "");
	if ((rc = reach(&be->cfg, ck)) < 0)
		goto out;
	rc = davc_list_folders(be, &folders, &e);
	if (rc == -EACCES && e.scope == MFS_ERR_ACCOUNT) {
		mfs_check_say(ck, "auth", false, be->cfg.auth ==
			      DAVC_AUTH_BEARER
			      ? "check oauth2_token_cmd: its token was refused"
			      : "check user = and the password that "
				"password_file or password_cmd gives (or auth "
				"= digest / basic, as the server wants)",
			      "%s: %s", auth_name(be->cfg.auth), e.msg);
		goto out;
	}
	if (rc < 0) {
		mfs_check_say(ck, "discovery", false, "check url =: the "
			      "server, the principal or one collection",
			      "%s", e.msg);
		goto out;
	}
	mfs_check_say(ck, "auth", true, NULL, "%s: logged in as %s",
		      auth_name(be->cfg.auth),
		      be->cfg.user ? be->cfg.user : "the token's user");
	GString *names = g_string_new(NULL);
	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		g_string_append_printf(names, "%s\"%s\"", i ? ", " : "",
				       fi->path);
	}
	mfs_check_say(ck, "folders", folders->len > 0, folders->len ? NULL
		      : "make an address book or calendar on the server",
		      "%u %s%s%s%s", folders->len,
		      be->cfg.kind == MFS_FOLDER_CALENDAR ? "calendar"
							  : "address book",
		      folders->len == 1 ? "" : "s",
		      folders->len ? ": " : "", names->str);
	if (!folders->len)
		rc = -ENOENT;
	g_string_free(names, TRUE);
	g_ptr_array_unref(folders);
out:
	davc_backend_free(&be);
	return rc;
}
