/*
 * submit.c - see submit.h.  RFC 6409 (submission), RFC 5321 (SMTP),
 * RFC 3207 (STARTTLS), RFC 8314 (implicit TLS), RFC 4954 (AUTH), Google's
 * XOAUTH2; the exchange itself is libcurl's.
 */
#include "smtpc-private.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-value.h"
#include "curl-tls.h"
#include "wire/smtp-envelope.h"
#include "log.h"
#include "oauth2/oauth2.h"
#include "printable.h"
#include "stream.h"
#include "wire/smtp-reply.h"

#define DEFAULT_TIMEOUT 30

int smtpc_submitter_open(const struct mfs_account *acct,
			struct smtpc_submitter **s_r, GError **err)
{
	GKeyFile *kf = acct->keys;
	const char *g = acct->group;
	g_autofree char *url = config_value(kf, g, "smtp");
	g_autofree char *auth = NULL;
	g_autofree char *scheme = NULL, *host = NULL;
	unsigned timeout;
	bool plain;
	int port = -1;

	*s_r = NULL;
	if (!url)
		return 0;
	if (!g_uri_split(url, G_URI_FLAGS_NONE, &scheme, NULL, &host, &port,
			 NULL, NULL, NULL, NULL) || !host || !*host ||
	    (g_ascii_strcasecmp(scheme, "smtp") &&
	     g_ascii_strcasecmp(scheme, "smtps")))
		return config_invalid(err, "smtp = %s: expected "
				      "smtp://HOST:PORT or smtps://HOST:PORT",
				      url);
	if (config_bool(kf, g, "allow_plaintext", false, &plain, err) < 0 ||
	    config_uint(kf, g, "timeout", DEFAULT_TIMEOUT, 3600, &timeout,
			err) < 0)
		return -EINVAL;
	auth = config_value(kf, g, "smtp_auth");
	if (auth && g_ascii_strcasecmp(auth, "plain") &&
	    g_ascii_strcasecmp(auth, "login") &&
	    g_ascii_strcasecmp(auth, "xoauth2"))
		return config_invalid(err, "smtp_auth = %s: expected plain, "
				      "login or xoauth2", auth);

	struct smtpc_submitter *s = g_new0(struct smtpc_submitter, 1);
	g_mutex_init(&s->lock);
	s->name = g_strdup(acct->name);
	s->url = g_strdup(url);
	s->plaintext_ok = plain;
	s->timeout = (long)timeout;
	s->ca_file = config_value(kf, g, "ca_file");
	s->user = config_value(kf, g, "smtp_user");
	if (!s->user)
		s->user = config_value(kf, g, "user");
	s->token_cmd = config_value(kf, g, "oauth2_token_cmd");
	struct oauth2_cfg ocfg;
	int orc = oauth2_cfg_load(kf, g, acct->name, acct->type, &ocfg, err);
	if (orc < 0) {
		smtpc_submitter_close(&s);
		return orc;
	}
	if (orc > 0) {
		oauth2_session_open(&ocfg, &s->oauth2);
		oauth2_cfg_clear(&ocfg);
	}
	if (auth) {
		g_autofree char *up = g_ascii_strup(auth, -1);
		s->auth = g_strconcat("AUTH=", up, NULL);
	}
	bool oauth = (s->token_cmd || s->oauth2) &&
		     (!auth || !g_ascii_strcasecmp(auth, "xoauth2"));
	if (s->user && !oauth &&
	    config_secret(kf, g, &s->password, err) < 0) {
		smtpc_submitter_close(&s);
		return -EINVAL;
	}
	mfs_curl_init();
	*s_r = s;
	return 0;
}

void smtpc_submitter_close(struct smtpc_submitter **sp)
{
	struct smtpc_submitter *s = *sp;

	if (!s)
		return;
	g_free(s->name);
	g_free(s->url);
	g_free(s->ca_file);
	g_free(s->user);
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		g_free(s->password);
	}
	g_free(s->token_cmd);
	oauth2_session_close(&s->oauth2);
	smtpc_submitter_idle(s);
	g_free(s->auth);
	g_free(s->last);
	g_mutex_clear(&s->lock);
	g_free(s);
	*sp = NULL;
}

/* ---- one submission ---- */

struct upload {
	const struct smtp_envelope *env;
	int fd;
	size_t head_sent;
	off_t at;		/* next byte of the body to read */
	bool cr;		/* the last byte given was CR */
	bool eof;		/* the whole message was handed over */
	int error;		/* a read that failed, -errno */
	struct smtp_reply reply;
	struct mfs_curl_clock clock;
};

static size_t give(char *buf, size_t size, size_t nitems, void *p)
{
	struct upload *u = p;
	size_t room = size * nitems;

	if (u->head_sent < u->env->head->len) {
		size_t n = MIN(room, u->env->head->len - u->head_sent);
		memcpy(buf, u->env->head->data + u->head_sent, n);
		u->head_sent += n;
		return n;
	}
	/* every byte may become two */
	char in[16384];
	size_t want = MIN(sizeof(in), room / 2);
	ssize_t n = pread(u->fd, in, want, u->at);
	if (n < 0) {
		u->error = -errno;
		return CURL_READFUNC_ABORT;
	}
	if (n == 0) {
		u->eof = true;
		return 0;
	}
	u->at += n;
	return smtp_crlf(in, (size_t)n, buf, &u->cr);
}

/* What the server says goes to the reply reader (and the trace); what we
 * say is not looked at: it holds the credentials. */
static int heard(CURL *h, curl_infotype type, char *data, size_t size,
		 void *p)
{
	struct upload *u = p;

	if (type == CURLINFO_HEADER_IN) {
		smtp_reply_feed(&u->reply, data, size);
		if (log_debug_enabled(LOG_PROTO))
			log_debug(LOG_PROTO, "smtp S: %.*s", (int)MIN(size, 300),
				  data);
	}
	return 0;
}

static char *run_token_cmd(const char *cmd, struct mfs_error *e)
{
	char *out = NULL;

	if (config_command_line(cmd, &out, NULL) < 0) {
		mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF,
			      "oauth2_token_cmd failed");
		return NULL;
	}
	return out;
}

/* The failure of a finished exchange, as an errno and a class. */
static int outcome(CURLcode cc, const struct upload *u, const char *raw,
		   bool *maybe_sent_r, struct mfs_error *e)
{
	const struct smtp_reply *r = &u->reply;
	const char *said = r->fail_text->str;	/* printable already */
	/* libcurl's words may quote the peer */
	g_autofree char *curl_msg = printable(raw, -1);

	*maybe_sent_r = false;
	if (u->error)
		return mfs_error_set(e, u->error, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "reading the message: %s",
				     g_strerror(-u->error));
	/* what is wrong with the account, not with the message */
	switch (cc) {
	case CURLE_LOGIN_DENIED:
		return mfs_error_set(e, -EACCES, MFS_ERR_ACCOUNT,
				     MFS_ERR_BACKOFF, "the SMTP server refused "
				     "the login: %d %s", r->fail_code, said);
	case CURLE_USE_SSL_FAILED:
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_BACKOFF, "the SMTP server offers "
				     "no STARTTLS (allow_plaintext = true "
				     "sends without it)");
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_BACKOFF, "TLS with the SMTP "
				     "server failed: %s", curl_msg);
	default:
		break;
	}
	/* then the server's word on the message */
	if (r->fail_code >= 500)
		return mfs_error_set(e, -EREMOTEIO, MFS_ERR_ITEM,
				     MFS_ERR_FINAL, "refused by the server: "
				     "%d %s", r->fail_code, said);
	if (r->fail_code >= 400)
		return mfs_error_set(e, -EAGAIN, MFS_ERR_ACCOUNT,
				     MFS_ERR_BACKOFF, "deferred by the server: "
				     "%d %s", r->fail_code, said);
	/* the connection went: after the whole message, the server may
	 * have taken it */
	*maybe_sent_r = u->eof;
	return mfs_error_set(e, -EIO, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
			     "submission failed%s: %s",
			     u->eof ? " after the message was handed over"
				    : "", curl_msg);
}

static void remember(struct smtpc_submitter *s, const char *what)
{
	GDateTime *now = g_date_time_new_now_utc();
	g_autofree char *when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");

	g_date_time_unref(now);
	g_mutex_lock(&s->lock);
	g_free(s->last);
	s->last = g_strdup_printf("%s %s", when, what);
	g_mutex_unlock(&s->lock);
}

/* The envelope from the message's own header (at most SMTP_HEADER_MAX
 * bytes of it are read); a message that has none is remembered as the
 * last submission.  Returns 0, or -errno with *e filled. */
static int read_envelope(struct smtpc_submitter *s, int fd,
			 struct smtp_envelope *env, struct mfs_error *e)
{
	g_autofree char *why = NULL;
	g_autofree char *head = NULL;
	struct stat sb;
	ssize_t n;

	if (fstat(fd, &sb) != 0)
		return mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s", g_strerror(errno));
	size_t want = (size_t)MIN((uint64_t)sb.st_size,
				  (uint64_t)SMTP_HEADER_MAX + 2);
	head = g_malloc(want + 1);
	n = pread(fd, head, want, 0);
	if (n < 0)
		return mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "reading the message: %s",
				     g_strerror(errno));
	if (smtp_envelope_parse(head, (size_t)n, (uint64_t)n ==
				(uint64_t)sb.st_size, env, &why) < 0) {
		mfs_error_set(e, -EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL,
			      "not sent: %s", why);
		remember(s, e->msg);
		return -EINVAL;
	}
	return 0;
}

/* The submission's settings on a handle just reset (its connection cache
 * kept); the strings and lists are borrowed and must outlive the
 * transfer. */
static void set_up(CURL *h, struct smtpc_submitter *s, struct upload *u,
		   const char *from, struct curl_slist *rcpts,
		   const char *token, char *curl_msg)
{
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_USE_SSL, s->plaintext_ok ? CURLUSESSL_TRY
							     : CURLUSESSL_ALL);
	mfs_curl_verify(h, s->ca_file);
	/* the whole submission ends by the operation's deadline; a message
	 * that keeps moving is given more (stream.h) */
	mfs_curl_deadline(h, &u->clock);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, s->timeout);
	if (s->user) {
		curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
		if (token)
			curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, token);
		else if (s->password)
			curl_easy_setopt(h, CURLOPT_PASSWORD, s->password);
		if (s->auth)
			curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, s->auth);
	}
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, give);
	curl_easy_setopt(h, CURLOPT_READDATA, u);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, heard);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, u);
}

/*
 * Whether a failed transfer lost a connection kept from an earlier message
 * before any of this one reached the server: the server closed it while
 * it waited (an idle timeout, a restart), which is no failure of the
 * message.  The server said nothing against it and did not get all of it,
 * so it cannot have taken it.
 */
static bool went_stale(CURL *h, CURLcode cc, const struct upload *u)
{
	long made = -1;

	if (cc == CURLE_OK || u->eof || u->error || u->clock.expired ||
	    u->reply.fail_code)
		return false;
	if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &made) != CURLE_OK)
		return false;
	return made == 0;
}

/*
 * One message's transaction (MAIL, RCPT, DATA) on the submitter's handle:
 * over the connection an earlier message left open when the server kept
 * it, else a new one.  A kept connection found closed is replaced once by
 * a fresh one, in the same operation (stream.h).  The handle keeps the
 * connection and nothing of this call (its callbacks point into `u`).
 */
static CURLcode perform(struct smtpc_submitter *s, struct upload *u,
			const char *from, struct curl_slist *rcpts,
			const char *token, char *curl_msg)
{
	CURLcode cc;

	stream_op_begin();
	for (int fresh = 0;; fresh++) {
		set_up(s->h, s, u, from, rcpts, token, curl_msg);
		if (fresh)
			curl_easy_setopt(s->h, CURLOPT_FRESH_CONNECT, 1L);
		cc = curl_easy_perform(s->h);
		if (fresh || !went_stale(s->h, cc, u))
			break;
		log_debug(LOG_PROTO, "smtp: the connection kept for %s was "
			  "closed (%s); again on a new one", s->name,
			  curl_msg[0] ? curl_msg : curl_easy_strerror(cc));
		u->head_sent = 0;
		u->at = u->env->body_at;
		u->cr = false;
		u->clock.moved = 0;
		smtp_reply_clear(&u->reply);
		smtp_reply_init(&u->reply);
		curl_msg[0] = '\0';
	}
	stream_op_end();
	/* settings, not the connection: nothing left pointing at `u` */
	curl_easy_reset(s->h);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_SERVER_RESPONSE_TIMEOUT, s->timeout);
	return cc;
}

int smtpc_submit(struct smtpc_submitter *s, int fd, bool *maybe_sent_r,
		struct mfs_error *e)
{
	struct smtp_envelope env;
	struct upload u = { .env = &env, .fd = fd,
			    .clock.timeout_ms = (int)s->timeout * 1000 };
	struct curl_slist *rcpts = NULL;
	g_autofree char *token = NULL;
	g_autofree char *from = NULL;
	char curl_msg[CURL_ERROR_SIZE] = "";
	int rc;

	*maybe_sent_r = false;
	if ((rc = read_envelope(s, fd, &env, e)) < 0)
		return rc;
	u.at = env.body_at;
	if (s->token_cmd && (!s->auth || !strcmp(s->auth, "AUTH=XOAUTH2")) &&
	    !(token = run_token_cmd(s->token_cmd, e))) {
		smtp_envelope_clear(&env);
		return -EACCES;
	}
	if (s->oauth2 && (!s->auth || !strcmp(s->auth, "AUTH=XOAUTH2")) &&
	    (rc = oauth2_access_token(s->oauth2, NULL, &token, e)) < 0) {
		remember(s, e->msg);
		smtp_envelope_clear(&env);
		return rc;
	}

	if (!s->h && !(s->h = curl_easy_init())) {
		smtp_envelope_clear(&env);
		return mfs_error_set(e, -ENOMEM, MFS_ERR_ACCOUNT,
				     MFS_ERR_BACKOFF, "cannot start libcurl");
	}
	smtp_reply_init(&u.reply);
	from = g_strdup_printf("<%s>", env.sender);
	for (guint i = 0; i < env.rcpts->len; i++) {
		g_autofree char *to = g_strdup_printf(
			"<%s>", (char *)env.rcpts->pdata[i]);
		rcpts = curl_slist_append(rcpts, to);
	}

	CURLcode cc = perform(s, &u, from, rcpts, token, curl_msg);
	if (u.clock.expired)
		g_snprintf(curl_msg, CURL_ERROR_SIZE, "no answer within %ld s",
			   s->timeout);
	else if (!curl_msg[0])
		g_strlcpy(curl_msg, curl_easy_strerror(cc), sizeof(curl_msg));
	if (cc == CURLE_OK) {
		rc = 0;
		g_autofree char *ok = g_strdup_printf(
			"sent to %u recipients: %d %s", env.rcpts->len,
			u.reply.code, u.reply.text->str);
		remember(s, ok);
		log_info("%s: message sent to %u recipients", s->name,
			 env.rcpts->len);
	} else {
		rc = outcome(cc, &u, curl_msg, maybe_sent_r, e);
		remember(s, e->msg);
	}
	curl_slist_free_all(rcpts);
	smtp_reply_clear(&u.reply);
	smtp_envelope_clear(&env);
	if (token)
		explicit_bzero(token, strlen(token));
	return rc;
}

void smtpc_submitter_idle(struct smtpc_submitter *s)
{
	/* says QUIT on the kept connection, if any */
	if (s->h)
		curl_easy_cleanup(s->h);
	s->h = NULL;
}

void smtpc_submitter_describe(struct smtpc_submitter *s, GString *out)
{
	g_string_append_printf(out, "smtp: %s\n", s->url);
	g_mutex_lock(&s->lock);
	if (s->last)
		g_string_append_printf(out, "last submission: %s\n", s->last);
	g_mutex_unlock(&s->lock);
}
