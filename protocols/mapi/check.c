/*
 * check.c - `mailfs check` of a mapi account: the settings; the
 * server's address, TCP and TLS (over stream.h, with the trust libcurl is
 * given: the system's CAs plus ca_file); Autodiscover when the account
 * needs it ([MS-OXDSCLI]); then what a mount starts with: Connect,
 * RopLogon and the folder list ([MS-OXCMAPIHTTP], [MS-OXCSTOR],
 * [MS-OXCFOLD]).  Nothing on the server changes.
 */
#include "mapic-private.h"

#include <errno.h>
#include <string.h>

#include "check.h"
#include "stream.h"

#define AUTH_HINT "check user = and the password that password_file or " \
	"password_cmd gives (or auth =, as the server wants)"

static const char *auth_name(enum mapic_auth auth)
{
	static const char *const names[] = { "basic", "ntlm", "negotiate",
					     "bearer" };

	return names[auth];
}

/* DNS, TCP and TLS to `url`'s server.  Returns 0 or -errno; the failed
 * step said why. */
static int reach(const struct mapic_conf *c, const char *url,
		 struct mfs_check *ck)
{
	g_autofree char *scheme = NULL, *host = NULL, *why = NULL;
	struct stream *s = NULL;
	int port = -1, rc;

	g_uri_split(url, G_URI_FLAGS_NONE, &scheme, NULL, &host, &port, NULL,
		    NULL, NULL, NULL);
	bool tls = !g_ascii_strcasecmp(scheme, "https");
	g_autofree char *portstr = g_strdup_printf("%d", port > 0 ? port
						   : tls ? 443 : 80);
	if ((rc = mfs_check_resolve(ck, host, portstr)) < 0)
		return rc;
	gint64 started = g_get_monotonic_time();
	int timeout_ms = (int)c->timeout * 1000;
	rc = stream_connect(host, portstr, timeout_ms, &s, &why);
	mfs_check_connected(ck, rc, why, s, host, portstr, NULL, started,
			    timeout_ms);
	if (rc == 0 && tls) {
		g_clear_pointer(&why, g_free);
		rc = stream_start_tls(s, host, c->ca_file, timeout_ms, &why);
		mfs_check_tls(ck, rc, why, s, c->ca_file, "https");
	} else if (rc == 0) {
		mfs_check_say(ck, "tls", true, NULL, "none: http://, plain "
			      "text, as allow_plaintext = true permits");
	}
	stream_close(&s);
	return rc;
}

static void count_folders(GPtrArray *folders, struct mfs_check *ck)
{
	unsigned kinds[MFS_FOLDER_OUTBOX + 1] = { 0 };

	for (guint i = 0; i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		kinds[fi->kind]++;
	}
	mfs_check_say(ck, "folders", true, NULL, "%u folders (%u mail, %u "
		      "contacts, %u calendars)", folders->len,
		      kinds[MFS_FOLDER_MAIL], kinds[MFS_FOLDER_CONTACTS],
		      kinds[MFS_FOLDER_CALENDAR]);
}

int mapic_check(const struct mfs_account *acct, struct mfs_check *ck)
{
	struct mfs_backend *be = NULL;
	struct mapic_session *s = NULL;
	struct mfs_error e = { 0 };
	GPtrArray *folders = NULL;
	GError *err = NULL;
	int rc;

	if ((rc = mapic_backend_new(acct, &be, &err)) < 0) {
		mfs_check_say(ck, "config", false, NULL, "%s", err->message);
		g_error_free(err);
		return rc;
	}
	mfs_check_say(ck, "config", true, NULL, "mapi, user %s %s %s, auth "
		      "= %s%s%s", be->conf.user ? be->conf.user : "(none)",
		      be->conf.url ? "at" : "of",
		      be->conf.url ? be->conf.url : be->email,
		      auth_name(be->conf.auth),
		      be->conf.ca_file ? ", ca_file = " : "",
		      be->conf.ca_file ? be->conf.ca_file : "");
	g_autofree char *first = be->conf.url ? g_strdup(be->conf.url)
		: g_strconcat("https://", strrchr(be->email, '@') + 1, NULL);
	if ((rc = reach(&be->conf, first, ck)) < 0)
		goto out;
	bool discovering = !be->conf.user_dn || !be->conf.url;
	rc = mapic_backend_session(be, &s, &e);
	/* a refused login is the password's fault, not Autodiscover's */
	if (discovering)
		mfs_check_say(ck, "autodiscover", rc == 0, rc == -EACCES
			      ? AUTH_HINT : rc < 0
			      ? "set url = and user_dn = to do without it"
			      : NULL, "%s%s", rc < 0 ? "" : "LegacyDN ",
			      rc < 0 ? e.msg : be->conf.user_dn);
	if (rc < 0)
		goto out;
	rc = mapic_session_open(s, &e);
	mfs_check_say(ck, "auth", rc == 0, rc == -EACCES ? AUTH_HINT : NULL, "%s: %s", auth_name(be->conf.auth),
		      rc < 0 ? e.msg : "logged on to the mailbox");
	if (rc < 0)
		goto out;
	if ((rc = mapic_list_folders(be, &folders, &e)) < 0) {
		mfs_check_say(ck, "folders", false, NULL, "%s", e.msg);
		goto out;
	}
	count_folders(folders, ck);
	g_ptr_array_unref(folders);
out:
	mapic_backend_free(&be);
	return rc;
}
