/*
 * search.c - the embedded LDAP server's SearchRequest: the root DSE, the
 * naming context's own entry, and one inetOrgPerson per card of the
 * store's contacts folders.
 *
 * Specs: RFC 4511 4.5 (SearchRequest: baseObject, scope, sizeLimit,
 * timeLimit, typesOnly, attributes with "*" and "1.1";
 * SearchResultEntry, SearchResultDone), 4.5.1.8 (attribute selection);
 * RFC 4512 5.1 (the root DSE: namingContexts, supportedLDAPVersion,
 * supportedExtension); RFC 4514 (DN strings); RFC 4519 (uid).
 *
 * The tree is flat: the naming context (ou=contacts,dc=mailfs unless
 * serve is told another) holds one entry per card, named
 * uid=<the card's UID>,<context> (the store's id of the card when it has
 * no UID).  Every search reads the cards anew, so that it answers with
 * what the store holds now; the size and time limits the client asks for
 * are honoured up to the server's own (LDAPD_SIZE_CAP, LDAPD_TIME_CAP).
 */
#include "ldapd-private.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "wire/vcard.h"
#include "log.h"

struct search {
	struct ldapd_session *s;	/* borrowed */
	const struct ldapd_req *req;	/* borrowed */
	unsigned sent, limit;
	bool capped;			/* the limit is the server's */
	gint64 deadline;		/* monotonic microseconds */
	const char *uid;		/* borrowed; the one entry asked for,
					   or NULL for every card */
	bool found;			/* that entry exists */
	ber_int_t code;			/* the result so far */
};

/* RFC 4514 2.4: an attribute value as it stands in a DN string. */
static void dn_escape(GString *out, const char *v)
{
	size_t n = strlen(v);

	for (size_t i = 0; i < n; i++) {
		char ch = v[i];
		if (strchr(",+\"\\<>;=", ch) ||
		    (i == 0 && (ch == ' ' || ch == '#')) ||
		    (i == n - 1 && ch == ' '))
			g_string_append_c(out, '\\');
		g_string_append_c(out, ch);
	}
}

static bool ava_equal(const LDAPAVA *a, const LDAPAVA *b)
{
	if (a->la_attr.bv_len != b->la_attr.bv_len ||
	    g_ascii_strncasecmp(a->la_attr.bv_val, b->la_attr.bv_val,
				a->la_attr.bv_len))
		return false;
	g_autofree char *x = g_utf8_make_valid(a->la_value.bv_val,
					       (gssize)a->la_value.bv_len);
	g_autofree char *y = g_utf8_make_valid(b->la_value.bv_val,
					       (gssize)b->la_value.bv_len);
	g_autofree char *fx = g_utf8_casefold(x, -1);
	g_autofree char *fy = g_utf8_casefold(y, -1);
	return !strcmp(fx, fy);
}

static size_t dn_len(LDAPDN dn)
{
	size_t n = 0;

	while (dn && dn[n])
		n++;
	return n;
}

/* Whether RDNs a[from..] are those of b, AVA for AVA in order. */
static bool rdns_equal(LDAPDN a, size_t from, LDAPDN b)
{
	size_t na = dn_len(a), nb = dn_len(b);

	if (na - from != nb)
		return false;
	for (size_t i = 0; i < nb; i++) {
		LDAPRDN x = a[from + i], y = b[i];
		size_t j;
		for (j = 0; x[j] && y[j]; j++)
			if (!ava_equal(x[j], y[j]))
				return false;
		if (x[j] || y[j])
			return false;
	}
	return true;
}

bool ldapd_dn_equal(const char *a, const char *b)
{
	LDAPDN x = NULL, y = NULL;
	bool eq = false;

	if (ldap_str2dn(a, &x, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
	    ldap_str2dn(b, &y, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS)
		eq = rdns_equal(x, 0, y);
	ldap_dnfree(x);
	ldap_dnfree(y);
	return eq;
}

/* What a base DN names. */
enum target { T_NONE, T_CONTEXT, T_ENTRY };

/* Classify `dn` under `base`; for an entry, its uid in *uid_r (caller
 * owns).  *under_r tells whether a DN that names nothing is below the
 * context (for matchedDN). */
static enum target classify(const char *dn, const char *base, char **uid_r,
			    bool *under_r)
{
	LDAPDN x = NULL, y = NULL;
	enum target t = T_NONE;

	*under_r = false;
	if (ldap_str2dn(dn, &x, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    ldap_str2dn(base, &y, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		goto out;
	size_t nx = dn_len(x), ny = dn_len(y);
	if (nx == ny && rdns_equal(x, 0, y)) {
		t = T_CONTEXT;
	} else if (nx > ny && rdns_equal(x, nx - ny, y)) {
		*under_r = true;
		const LDAPAVA *ava = x[0][0];
		if (nx == ny + 1 && !x[0][1] && ava->la_attr.bv_len == 3 &&
		    !g_ascii_strncasecmp(ava->la_attr.bv_val, "uid", 3)) {
			*uid_r = g_strndup(ava->la_value.bv_val,
					   ava->la_value.bv_len);
			t = T_ENTRY;
		}
	}
out:
	ldap_dnfree(x);
	ldap_dnfree(y);
	return t;
}

/* Whether the request's attribute list asks for `name`; `user` tells
 * whether "*" (or an empty list) covers it. */
static bool wanted(const struct ldapd_req *req, const char *name, bool user)
{
	bool all = !req->attrs->len;

	for (guint i = 0; i < req->attrs->len; i++) {
		const char *a = req->attrs->pdata[i];
		const char *canon = ldap_card_attr_name(a);
		if (!strcmp(a, "*") || !strcmp(a, "+"))
			all = all || (user || a[0] == '+');
		else if ((canon && !strcmp(canon, name)) ||
			 !g_ascii_strcasecmp(a, name))
			return true;
	}
	return all;
}

static int send_entry(struct search *q, const char *dn,
		      const struct ldap_card *card, bool user)
{
	BerElement *ber = ber_alloc_t(LBER_USE_DER);
	int rc = ber_printf(ber, "{it{s{" /*}}}*/, q->req->msgid,
			    LDAP_RES_SEARCH_ENTRY, dn);

	for (guint i = 0; rc >= 0 && i < card->attrs->len; i++) {
		const struct ldap_card_attr *a = card->attrs->pdata[i];
		if (!wanted(q->req, a->name, user))
			continue;
		rc = ber_printf(ber, "{s[" /*]}*/, a->name);
		for (guint j = 0; rc >= 0 && !q->req->types_only &&
		     j < a->values->len; j++) {
			gsize n;
			const char *v = g_bytes_get_data(a->values->pdata[j],
							 &n);
			rc = ber_printf(ber, "o", v, (ber_len_t)n);
		}
		if (rc >= 0)
			rc = ber_printf(ber, /*{[*/ "]}");
	}
	if (rc >= 0)
		rc = ber_printf(ber, /*{{{*/ "}}}");
	if (rc < 0) {
		ber_free(ber, 1);
		return -ENOMEM;
	}
	return ldapd_send(q->s, ber);
}

/* An attribute of the server's own entries, which the mapping does not
 * carry (the root DSE's). */
static void own_attr(struct ldap_card *card, const char *name,
		     const char *const *values)
{
	struct ldap_card_attr *a = g_new0(struct ldap_card_attr, 1);

	a->name = name;
	a->values = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_bytes_unref);
	for (size_t i = 0; values[i]; i++)
		g_ptr_array_add(a->values, g_bytes_new(values[i],
						       strlen(values[i])));
	g_ptr_array_add(card->attrs, a);
}

/* Whether the search may send one more entry: false, with the result
 * code set, past a limit. */
static bool room(struct search *q)
{
	if (q->sent >= q->limit) {
		q->code = q->capped ? LDAP_ADMINLIMIT_EXCEEDED
				    : LDAP_SIZELIMIT_EXCEEDED;
		return false;
	}
	if (g_get_monotonic_time() > q->deadline) {
		q->code = LDAP_TIMELIMIT_EXCEEDED;
		return false;
	}
	return true;
}

/* Send `card` as `dn` when the filter holds; false once the search must
 * stop (a limit, or the client gone). */
static bool offer(struct search *q, const char *dn,
		  const struct ldap_card *card, bool user)
{
	if (ldapd_filter_eval(q->req->filter, card) != LDAPD_TRUE)
		return true;
	if (!room(q))
		return false;
	if (send_entry(q, dn, card, user) < 0) {
		q->code = -1;
		return false;
	}
	q->sent++;
	return true;
}

static void root_dse(struct search *q)
{
	const char *const classes[] = { "top", NULL };
	const char *const contexts[] = { q->s->base, NULL };
	const char *const versions[] = { "3", NULL };
	const char *const exts[] = { LDAP_EXOP_START_TLS, NULL };
	const char *const vendor[] = { "mailfs", NULL };
	struct ldap_card *dse = ldap_card_new();

	own_attr(dse, "objectClass", classes);
	own_attr(dse, "namingContexts", contexts);
	own_attr(dse, "supportedLDAPVersion", versions);
	if (q->s->ctx->tls)
		own_attr(dse, "supportedExtension", exts);
	own_attr(dse, "vendorName", vendor);
	/* the root DSE's attributes are operational: "*" shows them too,
	 * which is what clients that probe it expect */
	offer(q, "", dse, true);
	ldap_card_free(&dse);
}

/* The naming context's own entry. */
static bool context_entry(struct search *q)
{
	const char *const classes[] = { "top", "organizationalUnit", NULL };
	struct ldap_card *ou = ldap_card_new();
	LDAPDN dn = NULL;
	bool go_on;

	own_attr(ou, "objectClass", classes);
	if (ldap_str2dn(q->s->base, &dn, LDAP_DN_FORMAT_LDAPV3) ==
	    LDAP_SUCCESS && dn && dn[0]) {
		g_autofree char *attr = g_strndup(dn[0][0]->la_attr.bv_val,
						  dn[0][0]->la_attr.bv_len);
		ldap_card_add(ou, attr, dn[0][0]->la_value.bv_val,
			      dn[0][0]->la_value.bv_len);
	}
	ldap_dnfree(dn);
	go_on = offer(q, q->s->base, ou, true);
	ldap_card_free(&ou);
	return go_on;
}

/* The bytes of one card, at most VCARD_MAX.  Caller owns the result. */
static GString *load(struct ldapd_session *s, const char *folder,
		     const char *id)
{
	int fd = -1;
	char chunk[65536];
	GString *buf;

	if (mfs_store_fetch(s->ctx->store, folder, id, &fd, NULL) < 0)
		return NULL;
	buf = g_string_sized_new(4096);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf->len + (size_t)n > VCARD_MAX) {
			g_string_free(buf, TRUE);
			buf = NULL;
			break;
		}
		if (n == 0)
			break;
		g_string_append_len(buf, chunk, n);
	}
	close(fd);
	return buf;
}

/* One card of `folder`; false once the search must stop. */
static bool card_entry(struct search *q, const char *folder,
		       const struct mfs_item *it)
{
	g_autoptr(GString) dn = g_string_new("uid=");
	struct ldap_card *card = NULL;
	GString *buf = load(q->s, folder, it->id);
	bool go_on = true;

	if (!buf)
		return true;
	if (ldap_card_from_vcard(buf->str, buf->len, &card) < 0) {
		g_string_free(buf, TRUE);
		return true;
	}
	g_string_free(buf, TRUE);
	if (!ldap_card_get(card, "uid"))
		ldap_card_add(card, "uid", it->id, strlen(it->id));
	g_autofree char *uid = ldap_card_first(card, "uid");
	if (!uid)
		uid = g_strdup(it->id);
	if (q->uid) {
		g_autofree char *a = g_utf8_casefold(uid, -1);
		g_autofree char *b = g_utf8_casefold(q->uid, -1);
		if (strcmp(a, b)) {
			ldap_card_free(&card);
			return true;
		}
		q->found = true;
	}
	dn_escape(dn, uid);
	g_string_append_printf(dn, ",%s", q->s->base);
	go_on = offer(q, dn->str, card, true);
	ldap_card_free(&card);
	return go_on;
}

/* Every card of every contacts folder, until one stops the search. */
static void walk(struct search *q)
{
	GPtrArray *folders = NULL;
	bool go_on = true;

	if (mfs_store_list_folders(q->s->ctx->store, &folders, NULL) < 0) {
		q->code = LDAP_OTHER;
		return;
	}
	for (guint i = 0; go_on && i < folders->len; i++) {
		const struct mfs_folder_info *fi = folders->pdata[i];
		struct mfs_sync_result *res = NULL;
		if (fi->kind != MFS_FOLDER_CONTACTS ||
		    mfs_store_sync(q->s->ctx->store, fi->path, NULL, &res,
				   NULL) < 0)
			continue;
		for (guint j = 0; go_on && j < res->changed->len; j++) {
			if (g_get_monotonic_time() > q->deadline) {
				q->code = LDAP_TIMELIMIT_EXCEEDED;
				go_on = false;
			} else {
				go_on = card_entry(q, fi->path,
						   res->changed->pdata[j]);
			}
		}
		mfs_sync_result_free(&res);
	}
	g_ptr_array_unref(folders);
}

bool ldapd_search(struct ldapd_session *s, const struct ldapd_req *req)
{
	struct search q = { .s = s, .req = req, .code = LDAP_SUCCESS };
	g_autofree char *uid = NULL;
	const char *matched = NULL, *diag = NULL;
	bool under = false;
	unsigned tl = req->time_limit > 0 ? (unsigned)req->time_limit : 0;

	q.limit = LDAPD_SIZE_CAP;
	q.capped = true;
	if (req->size_limit > 0 && req->size_limit <= LDAPD_SIZE_CAP) {
		q.limit = (unsigned)req->size_limit;
		q.capped = false;
	}
	q.deadline = g_get_monotonic_time() +
		(gint64)(tl && tl < LDAPD_TIME_CAP ? tl : LDAPD_TIME_CAP) *
		G_USEC_PER_SEC;
	if (!*req->dn && req->scope == LDAP_SCOPE_BASE) {
		root_dse(&q);
	} else if (!s->bound) {
		q.code = LDAP_UNWILLING_TO_PERFORM;
		diag = "authentication required: bind first";
	} else {
		switch (classify(req->dn, s->base, &uid, &under)) {
		case T_CONTEXT:
			if (req->scope != LDAP_SCOPE_ONE && !context_entry(&q))
				break;
			if (req->scope != LDAP_SCOPE_BASE)
				walk(&q);
			break;
		case T_ENTRY:
			q.uid = uid;
			if (req->scope != LDAP_SCOPE_ONE)
				walk(&q);
			if (!q.found && q.code == LDAP_SUCCESS &&
			    req->scope == LDAP_SCOPE_ONE) {
				/* a leaf has no children: whether it exists
				 * is all there is to say */
				struct ldapd_filter none = {
					.kind = LDAPD_F_OR,
					.children = g_ptr_array_new(),
				};
				struct ldapd_req probe = *req;
				probe.filter = &none;
				q.req = &probe;
				walk(&q);
				q.req = req;
				g_ptr_array_unref(none.children);
			}
			if (!q.found && q.code == LDAP_SUCCESS) {
				q.code = LDAP_NO_SUCH_OBJECT;
				matched = s->base;
			}
			break;
		case T_NONE:
			q.code = LDAP_NO_SUCH_OBJECT;
			matched = under ? s->base : NULL;
			break;
		}
	}
	if (q.code < 0)
		return false;
	return ldapd_send_result(s, req->msgid, LDAP_RES_SEARCH_RESULT, q.code,
				 matched, diag) == 0;
}
