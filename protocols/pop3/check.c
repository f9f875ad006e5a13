/*
 * check.c - `mailfs check` of a POP3 account: the settings, one session
 * opened by pop3c_conn_open (which says each step: TCP, TLS or STLS,
 * greeting, CAPA, login), then what the mount needs of the maildrop: STAT
 * for the number of messages (RFC 1939 section 5) and UIDL for their
 * names (section 7).  The session ends with QUIT after no DELE, so
 * nothing on the server changes.
 */
#include "pop3c-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *tls_name(enum config_tls tls)
{
	return tls == CONFIG_TLS_IMPLICIT ? "implicit"
	       : tls == CONFIG_TLS_STARTTLS ? "starttls" : "none";
}

/* STAT's "+OK count size".  Returns 0 or -errno; the step said why. */
static int maildrop(struct pop3c_conn *c, struct mfs_check *ck)
{
	struct mfs_error e = { 0 };
	int rc = pop3c_conn_run(c, "STAT", false, &e);
	char *end = NULL;

	if (rc < 0) {
		mfs_check_say(ck, "folders", false, NULL, "STAT failed: %s",
			      e.msg);
		return rc;
	}
	const char *text = pop3_reply_text(pop3c_conn_reply(c));
	unsigned long long n = g_ascii_strtoull(text, &end, 10);
	if (end == text) {
		mfs_check_say(ck, "folders", false, NULL, "STAT: unreadable "
			      "answer: %.100s", text);
		return -EPROTO;
	}
	/* names come from UIDL: a server without it cannot be mounted */
	rc = pop3c_conn_run(c, "UIDL", true, &e);
	if (rc < 0) {
		mfs_check_say(ck, "folders", false, "use another server or "
			      "account type: POP3 mounts need UIDL for file "
			      "names that last", "INBOX: %llu messages, but "
			      "UIDL failed: %s", n, e.msg);
		return rc;
	}
	mfs_check_say(ck, "folders", true, NULL, "1 folder (INBOX): %llu "
		      "messages in the maildrop", n);
	return 0;
}

int pop3c_check(const struct mfs_account *acct, struct mfs_check *ck)
{
	struct pop3c_cfg cfg;
	struct pop3c_conn *c = NULL;
	struct mfs_error e = { 0 };
	GError *err = NULL;
	int rc;

	if ((rc = pop3c_parse_cfg(acct, &cfg, &err)) < 0) {
		mfs_check_say(ck, "config", false, NULL, "%s", err->message);
		g_error_free(err);
		pop3c_cfg_clear(&cfg);
		return rc;
	}
	mfs_check_say(ck, "config", true, NULL, "pop3, user %s at %s:%s, "
		      "tls = %s%s%s", cfg.user ? cfg.user : "(none)", cfg.host,
		      cfg.port, tls_name(cfg.tls),
		      cfg.ca_file ? ", ca_file = " : "",
		      cfg.ca_file ? cfg.ca_file : "");
	if ((rc = mfs_check_resolve(ck, cfg.host, cfg.port)) < 0)
		goto out;
	cfg.check = ck;
	rc = pop3c_conn_open(&cfg, &c, &e);
	if (rc < 0) {
		if (ck->failures == 0)
			mfs_check_say(ck, "session", false, NULL, "%s",
				      e.msg[0] ? e.msg : g_strerror(-rc));
		goto out;
	}
	rc = maildrop(c, ck);
	struct mfs_error ignored = { 0 };
	pop3c_conn_quit(&c, &ignored);
out:
	pop3c_conn_close(&c);
	pop3c_cfg_clear(&cfg);
	return rc;
}
