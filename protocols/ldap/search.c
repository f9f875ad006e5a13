/*
 * search.c - the LDAP directory client's connection and lookups: libldap
 * connects, starts TLS, binds and searches; each entry found becomes a
 * read-only vCard 4.0 through the mapping both sides share
 * (wire/ldap-card.h).
 *
 * Specs: RFC 4511 4.5 (search: sizeLimit, timeLimit), 4.1.10
 * (referrals: not followed here), RFC 4513 3 (StartTLS), 5.1 (simple
 * bind), RFC 4515 3 (escaping in filters), RFC 2696 (simple paged
 * results, used when the root DSE lists the control), RFC 4512 5.1 (the
 * root DSE).
 *
 * Bounds: a lookup asks the server for at most ldap_size_limit entries,
 * takes no more than that whatever the server sends (the rest is
 * abandoned), takes no message over LDAPC_MAX_MESSAGE, and gives up
 * after `timeout` seconds in all, so that a result that never ends
 * costs neither memory nor a hung reader.
 */
#include "ldapc-private.h"

#include <errno.h>
#include <string.h>

#include "wire/ldap-card.h"
#include "log.h"
#include "stream.h"

/* Pages of one lookup at most: each page is at most the size limit. */
#define LDAPC_PAGES_MAX 8
/* The largest message taken from the server (one entry, photo and all). */
#define LDAPC_MAX_MESSAGE (16u * 1024 * 1024)

char *ldapc_filter_expand(const char *filter, const char *value)
{
	struct berval in = { strlen(value), (char *)value }, esc = { 0 };
	GString *out = g_string_new(NULL);

	if (ldap_bv2escaped_filter_value(&in, &esc) != 0)
		esc.bv_val = NULL;
	for (const char *p = filter; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			g_string_append(out, esc.bv_val ? esc.bv_val : "");
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			g_string_append_c(out, '%');
			p++;
		} else {
			g_string_append_c(out, *p);
		}
	}
	ber_memfree(esc.bv_val);
	return g_string_free(out, FALSE);
}

/* Say what `lrc` (an LDAP result code) on `what` means, remember it for
 * describe, and return the errno it maps to. */
static int fail(struct mfs_backend *be, int lrc, const char *what,
		struct mfs_error *e)
{
	char *diag = NULL;
	int rc = -EIO;
	enum mfs_err_scope scope = MFS_ERR_FOLDER;
	enum mfs_err_retry retry = MFS_ERR_BACKOFF;

	if (be->ld)
		ldap_get_option(be->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	switch (lrc) {
	case LDAP_CONNECT_ERROR:
		/* what libldap says when StartTLS's handshake fails */
		rc = -EPROTO;
		scope = MFS_ERR_ACCOUNT;
		retry = MFS_ERR_FINAL;
		break;
	case LDAP_SERVER_DOWN:
		rc = -EHOSTUNREACH;
		scope = MFS_ERR_ACCOUNT;
		retry = MFS_ERR_TRANSIENT;
		break;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		rc = -ETIMEDOUT;
		retry = MFS_ERR_TRANSIENT;
		break;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_CONFIDENTIALITY_REQUIRED:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_INSUFFICIENT_ACCESS:
		rc = -EACCES;
		scope = MFS_ERR_ACCOUNT;
		retry = MFS_ERR_FINAL;
		break;
	case LDAP_FILTER_ERROR:
		rc = -EINVAL;
		retry = MFS_ERR_FINAL;
		break;
	default:
		break;
	}
	mfs_error_set(e, rc, scope, retry, "account %s: %s: %s: %s%s%s%s",
		      be->cfg.name, be->cfg.server, what,
		      ldap_err2string(lrc), diag && *diag ? " (" : "",
		      diag && *diag ? diag : "", diag && *diag ? ")" : "");
	if (e) {
		g_free(be->last_error);
		be->last_error = g_strdup(e->msg);
	}
	ldap_memfree(diag);
	return rc;
}

/*
 * libldap says "Can't contact LDAP server" of an ldaps:// server whose
 * certificate it refused too.  A TLS handshake of our own tells the two
 * apart, so that a wrong certificate is said at once rather than waited
 * out as an outage: 0 when it works (the server is down after all), else
 * -EPROTO with *e saying why.
 */
static int tls_reason(struct mfs_backend *be, struct mfs_error *e)
{
	g_autofree char *port = g_strdup_printf("%d", be->cfg.port);
	g_autofree char *why = NULL;
	struct stream *s = NULL;
	int ms = (int)be->cfg.timeout * 1000;

	if (stream_connect(be->cfg.host, port, ms, &s, &why) < 0)
		return 0;
	int rc = stream_start_tls(s, be->cfg.host, be->cfg.ca_file, ms, &why);
	stream_close(&s);
	if (rc >= 0)
		return 0;
	mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
		      "account %s: %s: TLS: %s", be->cfg.name, be->cfg.server,
		      why ? why : "the handshake failed");
	return -EPROTO;
}

void ldapc_disconnect(struct mfs_backend *be)
{
	if (be->ld)
		ldap_unbind_ext_s(be->ld, NULL, NULL);
	be->ld = NULL;
}

static void set_options(struct mfs_backend *be)
{
	struct timeval tv = { (time_t)be->cfg.timeout, 0 };
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;

	ldap_set_option(be->ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(be->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	ldap_set_option(be->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(be->ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(be->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
	if (be->cfg.ca_file)
		ldap_set_option(be->ld, LDAP_OPT_X_TLS_CACERTFILE,
				be->cfg.ca_file);
	/* the options above reach TLS only through a context of this
	 * handle's own */
	ldap_set_option(be->ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	/* a message claiming more than this is refused before it is read */
	Sockbuf *sb = NULL;
	ber_len_t max = LDAPC_MAX_MESSAGE;
	if (ldap_get_option(be->ld, LDAP_OPT_SOCKBUF, &sb) ==
	    LDAP_OPT_SUCCESS && sb)
		ber_sockbuf_ctrl(sb, LBER_SB_OPT_SET_MAX_INCOMING, &max);
}

/* Whether the root DSE lists the paged results control. */
static bool offers_paging(struct mfs_backend *be)
{
	char *attrs[] = { "supportedControl", NULL };
	struct timeval tv = { (time_t)be->cfg.timeout, 0 };
	LDAPMessage *res = NULL;
	bool paged = false;

	if (ldap_search_ext_s(be->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)",
			      attrs, 0, NULL, NULL, &tv, 1, &res) ==
	    LDAP_SUCCESS) {
		LDAPMessage *m = ldap_first_entry(be->ld, res);
		struct berval **v = m ? ldap_get_values_len(
			be->ld, m, "supportedControl") : NULL;
		for (size_t i = 0; v && v[i]; i++)
			if (v[i]->bv_len == strlen(LDAP_CONTROL_PAGEDRESULTS) &&
			    !memcmp(v[i]->bv_val, LDAP_CONTROL_PAGEDRESULTS,
				    v[i]->bv_len))
				paged = true;
		ldap_value_free_len(v);
	}
	ldap_msgfree(res);
	return paged;
}

int ldapc_connect(struct mfs_backend *be, struct mfs_error *e)
{
	int lrc;

	if (be->ld)
		return 0;
	if ((lrc = ldap_initialize(&be->ld, be->cfg.server)) != LDAP_SUCCESS) {
		be->ld = NULL;
		return fail(be, lrc, "connecting", e);
	}
	set_options(be);
	if (!be->cfg.ldaps && !be->cfg.plaintext &&
	    (lrc = ldap_start_tls_s(be->ld, NULL, NULL)) != LDAP_SUCCESS) {
		int rc = fail(be, lrc, "StartTLS (ldaps:// starts TLS at "
			      "once; allow_plaintext = true goes without)", e);
		ldapc_disconnect(be);
		return rc;
	}
	/* anonymous too: the bind is the first exchange, which says
	 * whether the server can be reached at all */
	struct berval cred = { 0, "" };
	if (be->cfg.bind_dn) {
		cred.bv_len = strlen(be->cfg.password);
		cred.bv_val = be->cfg.password;
	}
	lrc = ldap_sasl_bind_s(be->ld, be->cfg.bind_dn ? be->cfg.bind_dn : "",
			       LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (lrc != LDAP_SUCCESS) {
		g_autofree char *what = g_strdup_printf(
			"bind as %s", be->cfg.bind_dn ? be->cfg.bind_dn
						      : "anonymous");
		int rc = fail(be, lrc, what, e);
		ldapc_disconnect(be);
		if (lrc == LDAP_SERVER_DOWN && be->cfg.ldaps &&
		    tls_reason(be, e) < 0)
			rc = -EPROTO;
		return rc;
	}
	be->paged = offers_paging(be);
	g_free(be->last_error);
	be->last_error = NULL;
	log_debug(LOG_PROTO, "ldap: %s: connected to %s%s", be->cfg.name,
		  be->cfg.server, be->paged ? " (paged results)" : "");
	return 0;
}

/* One entry of the result as a card: its attributes the mapping
 * carries, and its DN as the UID when it has no uid. */
static struct ldap_card *card_of(struct mfs_backend *be, LDAPMessage *m)
{
	struct ldap_card *card = ldap_card_new();
	BerElement *ber = NULL;

	for (char *a = ldap_first_attribute(be->ld, m, &ber); a;
	     a = ldap_next_attribute(be->ld, m, ber)) {
		struct berval **v = ldap_get_values_len(be->ld, m, a);
		for (size_t i = 0; v && v[i]; i++)
			ldap_card_add(card, a, v[i]->bv_val, v[i]->bv_len);
		ldap_value_free_len(v);
		ldap_memfree(a);
	}
	ber_free(ber, 0);
	if (!ldap_card_get(card, "uid")) {
		char *dn = ldap_get_dn(be->ld, m);
		if (dn)
			ldap_card_add(card, "uid", dn, strlen(dn));
		ldap_memfree(dn);
	}
	return card;
}

struct lookup {
	struct mfs_backend *be;		/* borrowed */
	const char *filter;		/* borrowed */
	GPtrArray *cards;		/* borrowed; of struct ldap_card * */
	struct berval cookie;		/* owned (ber_memfree) */
	gint64 deadline;		/* monotonic microseconds */
};

/* Send one page's search; its message id in *msgid_r.  LDAP result. */
static int start_page(struct lookup *l, int *msgid_r)
{
	struct mfs_backend *be = l->be;
	char *attrs[32];
	size_t n = 0;
	const char *const *names = ldap_card_attr_names();
	LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
	struct timeval tv = { (time_t)be->cfg.timeout, 0 };
	int lrc;

	for (size_t i = 0; names[i] && n < G_N_ELEMENTS(attrs) - 1; i++)
		if (strcmp(names[i], "objectClass"))
			attrs[n++] = (char *)names[i];
	attrs[n] = NULL;
	if (be->paged &&
	    ldap_create_page_control(be->ld, (ber_int_t)be->cfg.size_limit,
				     &l->cookie, 0, &page) == LDAP_SUCCESS)
		ctrls[0] = page;
	lrc = ldap_search_ext(be->ld, be->cfg.base, LDAP_SCOPE_SUBTREE,
			      l->filter, attrs, 0, page ? ctrls : NULL, NULL,
			      &tv, (int)be->cfg.size_limit, msgid_r);
	if (page)
		ldap_control_free(page);
	return lrc;
}

/* The end of a page: its result code, and the cookie for the next. */
static int end_page(struct lookup *l, LDAPMessage *msg)
{
	LDAPControl **ctrls = NULL;
	int code = LDAP_OTHER;
	int lrc = ldap_parse_result(l->be->ld, msg, &code, NULL, NULL, NULL,
				    &ctrls, 0);

	ber_memfree(l->cookie.bv_val);
	l->cookie.bv_val = NULL;
	l->cookie.bv_len = 0;
	if (lrc != LDAP_SUCCESS)
		return lrc;
	LDAPControl *pc = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, ctrls,
					    NULL);
	ber_int_t count;
	if (pc)
		ldap_parse_pageresponse_control(l->be->ld, pc, &count,
						&l->cookie);
	ldap_controls_free(ctrls);
	return code == LDAP_SIZELIMIT_EXCEEDED ? LDAP_SUCCESS : code;
}

/* One page: entries into l->cards until the result, the size limit or
 * the deadline.  Returns an LDAP result code; *more_r whether to ask
 * for the next page. */
static int one_page(struct lookup *l, bool *more_r)
{
	struct mfs_backend *be = l->be;
	int msgid, lrc = start_page(l, &msgid);

	*more_r = false;
	if (lrc != LDAP_SUCCESS)
		return lrc;
	for (;;) {
		gint64 left = l->deadline - g_get_monotonic_time();
		struct timeval tv = { (time_t)(left / G_USEC_PER_SEC),
				      (suseconds_t)(left % G_USEC_PER_SEC) };
		LDAPMessage *msg = NULL;
		int type = left > 0 ? ldap_result(be->ld, msgid, LDAP_MSG_ONE,
						  &tv, &msg) : 0;
		if (type <= 0) {
			ldap_msgfree(msg);
			ldap_abandon_ext(be->ld, msgid, NULL, NULL);
			if (type == 0)
				return LDAP_TIMEOUT;
			int err = LDAP_SERVER_DOWN;
			ldap_get_option(be->ld, LDAP_OPT_RESULT_CODE, &err);
			return err;
		}
		if (type == LDAP_RES_SEARCH_ENTRY) {
			g_ptr_array_add(l->cards, card_of(be, msg));
		} else if (type == LDAP_RES_SEARCH_RESULT) {
			lrc = end_page(l, msg);
			ldap_msgfree(msg);
			*more_r = lrc == LDAP_SUCCESS && l->cookie.bv_len > 0 &&
				  l->cards->len < be->cfg.size_limit;
			return lrc;
		}
		ldap_msgfree(msg);
		if (l->cards->len >= be->cfg.size_limit) {
			/* enough, whatever the server meant to send */
			ldap_abandon_ext(be->ld, msgid, NULL, NULL);
			return LDAP_SUCCESS;
		}
	}
}

/* Search with `filter` into `cards`.  Returns 0 or -errno. */
static int search(struct mfs_backend *be, const char *filter,
		  GPtrArray *cards, struct mfs_error *e)
{
	struct lookup l = {
		.be = be, .filter = filter, .cards = cards,
		.deadline = g_get_monotonic_time() +
			    (gint64)be->cfg.timeout * G_USEC_PER_SEC,
	};
	bool more = true;
	int lrc = LDAP_SUCCESS;

	for (unsigned page = 0; more && page < LDAPC_PAGES_MAX; page++)
		lrc = one_page(&l, &more);
	ber_memfree(l.cookie.bv_val);
	if (lrc != LDAP_SUCCESS) {
		g_autofree char *what = g_strdup_printf("searching %s for %s",
							be->cfg.base, filter);
		return fail(be, lrc, what, e);
	}
	return 0;
}

/* The value of `desc` equal to `query` without regard to case, or
 * NULL.  Caller owns the result. */
static char *value_equal(const struct ldap_card *card, const char *desc,
			 const char *query)
{
	const struct ldap_card_attr *a = ldap_card_get(card, desc);

	for (guint i = 0; a && i < a->values->len; i++) {
		gsize n;
		const char *v = g_bytes_get_data(a->values->pdata[i], &n);
		if (!ldap_card_value_cmp(a->name, v, n, query, strlen(query)))
			return g_strndup(v, n);
	}
	return NULL;
}

/* The entry of `card` as Directory/ shows it, or NULL when it is not
 * what an exact lookup of `query` asked for, or cannot be named. */
static struct mfs_dir_entry *entry_of(const struct ldap_card *card,
				      const char *query, bool prefix)
{
	g_autofree char *name = NULL;
	char *out = NULL;
	size_t len = 0;

	if (!prefix) {
		/* the address asked for, or failing that the name */
		name = value_equal(card, "mail", query);
		if (!name)
			name = value_equal(card, "cn", query);
		if (!name)
			return NULL;
	} else {
		name = ldap_card_first(card, "mail");
		if (!name)
			name = ldap_card_first(card, "cn");
	}
	if (!name || !*name || strchr(name, '/') || name[0] == '.' ||
	    ldap_card_to_vcard(card, &out, &len) < 0)
		return NULL;
	g_autofree char *file = g_strconcat(name, ".vcf", NULL);
	GBytes *vcard = g_bytes_new_take(out, len);
	struct mfs_dir_entry *entry = mfs_dir_entry_new(file, vcard);
	g_bytes_unref(vcard);
	return entry;
}

static void card_free(gpointer p)
{
	struct ldap_card *card = p;

	ldap_card_free(&card);
}

int ldapc_lookup(struct mfs_backend *be, const char *folder,
		 const char *query, bool prefix, GPtrArray **entries_r,
		 struct mfs_error *e)
{
	g_autofree char *filter = NULL;
	g_autoptr(GPtrArray) cards = g_ptr_array_new_with_free_func(card_free);
	GPtrArray *out;
	int rc = 0;

	if (strcmp(folder, LDAPC_DIRECTORY))
		return mfs_error_set(e, -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL,
				     "%s is not a directory", folder);
	filter = ldapc_filter_expand(prefix ? be->cfg.filter
					    : LDAPC_FILTER_EXACT, query);
	g_mutex_lock(&be->lock);
	/* a connection the server dropped while idle is made again once */
	for (int attempt = 0; attempt < 2; attempt++) {
		g_ptr_array_set_size(cards, 0);
		if ((rc = ldapc_connect(be, e)) < 0)
			break;
		rc = search(be, filter, cards, e);
		if (rc != -EHOSTUNREACH)
			break;
		ldapc_disconnect(be);
	}
	g_mutex_unlock(&be->lock);
	if (rc < 0)
		return rc;
	out = g_ptr_array_new_with_free_func(mfs_dir_entry_free);
	for (guint i = 0; i < cards->len && out->len < MFS_DIR_MAX; i++) {
		struct mfs_dir_entry *entry = entry_of(cards->pdata[i], query,
						       prefix);
		if (entry)
			g_ptr_array_add(out, entry);
	}
	*entries_r = out;
	return 0;
}
