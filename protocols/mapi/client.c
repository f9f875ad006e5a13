/*
 * client.c - the MAPI over HTTP backend (`type = mapi`): the account's
 * keys, Autodiscover of the endpoints and of the user's ESSDN, opening
 * and closing, and the vtable.  See mapic-private.h for the design,
 * docs/MAPI.md ("The client backend") for the keys.
 *
 * Specs: [MS-OXDSCLI] 3.1.5 (the POX Autodiscover request, with
 * X-MapiHttpCapability of [MS-OXCMAPIHTTP] 2.2.3.1), [MS-OXCMAPIHTTP]
 * 2.2.1 (the emsmdb endpoint and its MailboxId).
 */
#include "mapic-private.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>

#include "config-value.h"
#include "curl-tls.h"
#include "fileutil.h"
#include "log.h"
#include "stream.h"
#include "wire/mapi-autodiscover.h"

#define DEFAULT_TIMEOUT 30
#define DEFAULT_POLL 60
/* How long one request may be kept alive by PENDING lines. */
#define PENDING_MAX 600

/* `url` is https://HOST[:PORT] (a path is taken away: the endpoints are
 * found below the server's root); http:// only with allow_plaintext. */
static int check_url(struct mfs_backend *be, const char *key, char **url,
		     GError **err)
{
	g_autofree char *scheme = NULL, *host = NULL;
	int port = -1;

	if (!g_uri_split(*url, G_URI_FLAGS_NONE, &scheme, NULL, &host, &port,
			 NULL, NULL, NULL, NULL) || !host || !*host ||
	    (g_ascii_strcasecmp(scheme, "https") &&
	     g_ascii_strcasecmp(scheme, "http")))
		return config_invalid(err, "%s = %s: expected https://HOST "
				      "or https://HOST:PORT", key, *url);
	/* the password would cross the network in clear text */
	if (!g_ascii_strcasecmp(scheme, "http") && !be->plaintext)
		return config_invalid(err, "%s = %s: http:// sends the "
				      "password in clear text; use https:// "
				      "or set allow_plaintext = true", key,
				      *url);
	char *base = port > 0 ? g_strdup_printf("%s://%s:%d", scheme, host,
						port)
			      : g_strdup_printf("%s://%s", scheme, host);
	g_free(*url);
	*url = base;
	return 0;
}

static int parse_auth(struct mfs_backend *be, const char *auth, GError **err)
{
	static const struct {
		const char *name;
		enum mapic_auth auth;
	} names[] = {
		{ "basic", MAPIC_AUTH_BASIC }, { "ntlm", MAPIC_AUTH_NTLM },
		{ "negotiate", MAPIC_AUTH_NEGOTIATE },
		{ "bearer", MAPIC_AUTH_BEARER },
	};

	be->conf.auth = MAPIC_AUTH_BASIC;
	if (!auth)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!strcmp(auth, names[i].name)) {
			be->conf.auth = names[i].auth;
			return 0;
		}
	}
	return config_invalid(err, "auth = %s: expected basic, ntlm, "
			      "negotiate or bearer", auth);
}

/* The password, or with auth = bearer the token: password_file or
 * password_cmd as every account reads them, or oauth2_token_cmd. */
static int parse_secret(struct mfs_backend *be, GKeyFile *kf, const char *g,
			GError **err)
{
	g_autofree char *token_cmd = config_value(kf, g, "oauth2_token_cmd");

	if (be->conf.auth == MAPIC_AUTH_BEARER && token_cmd)
		return config_command_line(token_cmd, &be->conf.password, err);
	if (config_secret(kf, g, &be->conf.password, err) < 0)
		return -EINVAL;
	if (!be->conf.password)
		return config_invalid(err, be->conf.auth == MAPIC_AUTH_BEARER
				      ? "no token: add oauth2_token_cmd = "
					"COMMAND or password_cmd = COMMAND"
				      : "no password: add password_file = "
					"FILE or password_cmd = COMMAND");
	return 0;
}

static int parse_cfg(const struct mfs_account *acct, struct mfs_backend *be,
		     GError **err)
{
	GKeyFile *kf = acct->keys;
	const char *g = acct->group;
	g_autofree char *auth = config_value(kf, g, "auth");
	unsigned timeout;
	int rc;

	be->conf.name = g_strdup(acct->name);
	be->conf.url = config_value(kf, g, "url");
	be->conf.user = config_value(kf, g, "user");
	be->conf.user_dn = config_value(kf, g, "user_dn");
	be->conf.ca_file = config_value(kf, g, "ca_file");
	be->email = config_value(kf, g, "email");
	if (config_bool(kf, g, "allow_plaintext", false, &be->plaintext,
			err) < 0 ||
	    config_uint(kf, g, "timeout", DEFAULT_TIMEOUT, 3600, &timeout,
			err) < 0 ||
	    config_uint(kf, g, "poll_interval", DEFAULT_POLL, 86400,
			&be->poll_interval, err) < 0 ||
	    mfs_spool_size_key(kf, g, &be->spool_max, err) < 0)
		return -EINVAL;
	be->conf.timeout = timeout;
	be->conf.pending_max = PENDING_MAX;
	if (!be->conf.url && !be->email)
		return config_invalid(err, "no url and no email: add url = "
				      "https://HOST, or email = ADDRESS for "
				      "Autodiscover");
	if (be->email) {
		const char *at = strrchr(be->email, '@');
		if (!at || at == be->email || !at[1] || strchr(at, '/'))
			return config_invalid(err, "email = %s: expected "
					      "an address, NAME@DOMAIN",
					      be->email);
	}
	if (be->conf.url &&
	    (rc = check_url(be, "url", &be->conf.url, err)) < 0)
		return rc;
	if ((rc = parse_auth(be, auth, err)) < 0)
		return rc;
	if (!be->conf.user)
		be->conf.user = g_strdup(be->email);
	if (!be->conf.user && be->conf.auth != MAPIC_AUTH_BEARER)
		return config_invalid(err, "no user: add user = NAME");
	return parse_secret(be, kf, g, err);
}

void mapic_folder_free(gpointer p)
{
	struct mapic_folder *f = p;

	g_free(f->path);
	g_free(f->special);
	g_free(f);
}

static void backend_free(struct mfs_backend *be)
{
	/* the watcher uses the session until it stops */
	mapic_watch_stop(&be->watch);
	mapic_dir_free(&be->dir);
	mapic_session_free(&be->session);
	mapic_conf_clear(&be->conf);
	g_free(be->email);
	g_free(be->work_dir);
	mfs_spool_free(&be->spool);
	g_hash_table_unref(be->folders);
	g_hash_table_unref(be->tables);
	g_free(be->last_error);
	g_mutex_clear(&be->lock);
	g_free(be);
}

void mapic_backend_free(struct mfs_backend **bep)
{
	if (*bep)
		backend_free(*bep);
	*bep = NULL;
}

int mapic_backend_new(const struct mfs_account *acct,
		      struct mfs_backend **be_r, GError **err)
{
	struct mfs_backend *be = g_new0(struct mfs_backend, 1);
	g_autofree char *spool_dir = NULL;
	int rc;

	g_mutex_init(&be->lock);
	be->folders = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					    mapic_folder_free);
	be->tables = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   mapic_table_forget);
	be->work_dir = g_strdup(acct->work_dir ? acct->work_dir : ".");
	if ((rc = parse_cfg(acct, be, err)) < 0) {
		backend_free(be);
		return rc;
	}
	spool_dir = g_build_filename(be->work_dir, "mapi-spool", NULL);
	be->spool = mfs_spool_new(be->conf.name, spool_dir, be->spool_max);
	mfs_curl_init();
	*be_r = be;
	return 0;
}

/* ---- Autodiscover ---- */

struct body {
	GByteArray *buf;
	bool over;
};

static size_t on_body(char *data, size_t size, size_t n, void *p)
{
	struct body *b = p;

	if (b->buf->len + size * n > MAPI_AUTODISCOVER_BODY_MAX) {
		b->over = true;
		return 0;
	}
	g_byte_array_append(b->buf, (const guint8 *)data, size * n);
	return size * n;
}

/* POST the POX request for `email` to `url`; the answer's body in *buf_r
 * (caller owns).  Returns 0 or -errno with `e` filled. */
static int autodiscover_post(struct mfs_backend *be, const char *url,
			     const char *email, GByteArray **buf_r,
			     struct mfs_error *e)
{
	static const long how[] = { CURLAUTH_BASIC, CURLAUTH_NTLM,
				    CURLAUTH_NEGOTIATE, CURLAUTH_BEARER };
	size_t len = 0;
	g_autofree char *req = mapi_autodiscover_request_write(email, &len);
	struct body b = { g_byte_array_new(), false };
	struct mfs_curl_clock clock = { .timeout_ms =
					(int)be->conf.timeout * 1000 };
	struct curl_slist *hdr = NULL;
	char curl_msg[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURL *c = curl_easy_init();
	CURLcode cc;

	hdr = curl_slist_append(hdr, "Content-Type: text/xml");
	hdr = curl_slist_append(hdr, MAPI_AUTODISCOVER_CAP_HEADER ": "
				MAPI_AUTODISCOVER_CAP_VERSION);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mailfs");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, how[be->conf.auth]);
	if (be->conf.auth == MAPIC_AUTH_BEARER)
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, be->conf.password);
	else {
		curl_easy_setopt(c, CURLOPT_USERNAME, be->conf.user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, be->conf.password);
	}
	mfs_curl_verify(c, be->conf.ca_file);
	mfs_curl_deadline(c, &clock);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	int rc = 0;
	if (cc != CURLE_OK && !b.over)
		rc = mfs_error_set(e, clock.expired ? -ETIMEDOUT : -EIO,
				   MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
				   "Autodiscover at %s: %s", url, clock.expired
				   ? "no answer in time" : curl_msg[0]
				   ? curl_msg : curl_easy_strerror(cc));
	else if (b.over)
		rc = mfs_error_set(e, -EMSGSIZE, MFS_ERR_ACCOUNT,
				   MFS_ERR_FINAL, "Autodiscover at %s: an "
				   "answer over %u bytes", url,
				   MAPI_AUTODISCOVER_BODY_MAX);
	else if (status == 401 || status == 403)
		rc = mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				   "Autodiscover at %s: login refused as %s "
				   "(HTTP %ld)", url, be->conf.user
				   ? be->conf.user : "the token's user",
				   status);
	else if (status != 200)
		rc = mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				   MFS_ERR_TRANSIENT, "Autodiscover at %s: "
				   "HTTP %ld", url, status);
	if (rc < 0) {
		g_byte_array_unref(b.buf);
		return rc;
	}
	*buf_r = b.buf;
	return 0;
}

/* Take the server's root and the MailboxId of the emsmdb URL `ms`. */
static int take_mailstore(struct mfs_backend *be, const char *ms,
			  struct mfs_error *e)
{
	const char *at = ms ? strstr(ms, "/mapi/emsmdb") : NULL;
	const char *q = ms ? strstr(ms, "MailboxId=") : NULL;

	if (!at)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "Autodiscover names no MAPI over HTTP "
				     "mail store%s%s", ms ? ": " : "",
				     ms ? ms : "");
	if (!be->conf.url) {
		char *base = g_strndup(ms, (size_t)(at - ms));
		GError *err = NULL;
		if (check_url(be, "Autodiscover's mail store", &base,
			      &err) < 0) {
			mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				      MFS_ERR_FINAL, "%s", err->message);
			g_error_free(err);
			g_free(base);
			return -EPROTO;
		}
		be->conf.url = base;
	}
	if (q && !be->conf.mailbox) {
		q += strlen("MailboxId=");
		size_t n = strcspn(q, "&#");
		be->conf.mailbox = g_uri_unescape_segment(q, q + n, NULL);
	}
	return 0;
}

/*
 * Ask Autodiscover (the url's, else https://DOMAIN of `email`) for the
 * mail store's endpoint and the user's LegacyDN, which Connect and
 * RopLogon name the mailbox by.  Returns 0 or -errno with `e` filled.
 */
static int discover(struct mfs_backend *be, struct mfs_error *e)
{
	const char *who = be->email ? be->email : be->conf.user;
	g_autofree char *url = NULL;
	GByteArray *buf = NULL;
	struct mapi_autodiscover_response ad;
	int rc;

	if (be->conf.url)
		url = g_strconcat(be->conf.url, MAPI_AUTODISCOVER_PATH, NULL);
	else
		url = g_strconcat("https://", strrchr(be->email, '@') + 1,
				  MAPI_AUTODISCOVER_PATH, NULL);
	if ((rc = autodiscover_post(be, url, who, &buf, e)) < 0)
		return rc;
	memset(&ad, 0, sizeof(ad));
	rc = mapi_autodiscover_response_read((const char *)buf->data,
					     buf->len, &ad);
	g_byte_array_unref(buf);
	if (rc < 0) {
		mapi_autodiscover_response_clear(&ad);
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "Autodiscover at %s: "
				     "not an Autodiscover answer", url);
	}
	if (ad.kind == MAPI_AUTODISCOVER_ERROR)
		rc = mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				   "Autodiscover at %s: error %s: %s", url,
				   ad.error_code ? ad.error_code : "?",
				   ad.error_message ? ad.error_message : "");
	else if (ad.kind != MAPI_AUTODISCOVER_SETTINGS)
		rc = mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				   "Autodiscover at %s: redirected to %s, "
				   "which is not followed; set url =", url,
				   ad.redirect ? ad.redirect : "?");
	else if (!ad.legacy_dn && !be->conf.user_dn)
		rc = mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				   "Autodiscover at %s: no LegacyDN for %s; "
				   "set user_dn =", url, who);
	else
		rc = take_mailstore(be, ad.mailstore_internal
				    ? ad.mailstore_internal
				    : ad.mailstore_external, e);
	if (rc == 0 && !be->conf.user_dn)
		be->conf.user_dn = g_strdup(ad.legacy_dn);
	mapi_autodiscover_response_clear(&ad);
	return rc;
}

int mapic_backend_session(struct mfs_backend *be, struct mapic_session **s_r,
			  struct mfs_error *e)
{
	int rc = 0;

	g_mutex_lock(&be->lock);
	if (!be->session && (!be->conf.user_dn || !be->conf.url))
		rc = discover(be, e);
	if (rc == 0 && !be->session)
		be->session = mapic_session_new(&be->conf);
	*s_r = be->session;
	g_mutex_unlock(&be->lock);
	return rc;
}

/* ---- the members ---- */

static int mapic_open(const struct mfs_account *acct,
		      struct mfs_backend **be_r, GError **err)
{
	struct mfs_backend *be = NULL;
	struct mfs_error e = { 0 };
	int rc;

	if ((rc = mapic_backend_new(acct, &be, err)) < 0)
		return rc;
	if ((rc = file_mkdir_p(be->work_dir, 0700)) < 0) {
		g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
			    "%s: %s", be->work_dir, g_strerror(-rc));
		goto fail;
	}
	/* what an earlier run spooled is not counted, and may be stale */
	mfs_spool_clean(be->spool);
	/* one listing now, so that a wrong password or address is said at
	 * mount time */
	rc = mapic_list_folders(be, NULL, &e);
	if ((rc = mfs_open_outcome(rc, &e, err)) < 0)
		goto fail;
	*be_r = be;
	return 0;
fail:
	backend_free(be);
	return rc;
}

static void mapic_close(struct mfs_backend **bep)
{
	mapic_backend_free(bep);
}

void mapic_note_sync(struct mfs_backend *be, int rc,
		     const struct mfs_error *e)
{
	g_mutex_lock(&be->lock);
	if (rc == 0)
		be->last_sync = g_get_real_time();
	g_clear_pointer(&be->last_error, g_free);
	if (rc < 0)
		be->last_error = g_strdup(e && e->msg[0] ? e->msg
					  : g_strerror(-rc));
	g_mutex_unlock(&be->lock);
}

static void mapic_describe(struct mfs_backend *be, GString *out)
{
	static const char *const auth[] = { "basic", "ntlm", "negotiate",
					     "bearer" };

	g_mutex_lock(&be->lock);
	g_string_append_printf(out, "server: mapi %s (%s)\n",
			       be->conf.url ? be->conf.url : "not yet found",
			       auth[be->conf.auth]);
	g_string_append_printf(out, "mailbox: %s\n", be->conf.user_dn
			       ? be->conf.user_dn : "not yet known");
	if (be->last_sync) {
		GDateTime *dt = g_date_time_new_from_unix_utc(
			be->last_sync / G_USEC_PER_SEC);
		g_autofree char *when = g_date_time_format(
			dt, "%Y-%m-%dT%H:%M:%SZ");
		g_date_time_unref(dt);
		g_string_append_printf(out, "last sync: %s\n", when);
	} else {
		g_string_append(out, "last sync: none since the mount\n");
	}
	g_string_append_printf(out, "last sync error: %s\n",
			       be->last_error ? be->last_error : "none");
	g_mutex_unlock(&be->lock);
}

/* Contacts and calendars are not shown yet (docs/MAPI.md). */
const struct mfs_backend_ops mapic_backend_ops = {
	.name = "mapi",
	.caps = MFS_CAP_FOLDERS | MFS_CAP_WATCH | MFS_CAP_COPY,
	.open = mapic_open,
	.close = mapic_close,
	.list_folders = mapic_list_all,
	.sync = mapic_sync_any,
	.fetch = mapic_fetch,
	.append = mapic_append,
	.set_flags = mapic_set_flags,
	.remove = mapic_remove,
	.move = mapic_move,
	.create_folder = mapic_create_folder,
	.rename_folder = mapic_rename_folder,
	.delete_folder = mapic_delete_folder,
	.watch = mapic_watch,
	.lookup = mapic_lookup,
	.describe = mapic_describe,
	.check = mapic_check,
};
