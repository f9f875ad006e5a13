/*
 * directory.c - the address book of a MAPI over HTTP account: NSPI
 * lookups of people by address or name, each answer a vCard, and the
 * ESSDN (LegacyDN) of an address.
 *
 * Specs: [MS-OXCMAPIHTTP] 2.2.5 (Bind, Unbind, ResolveNames, SeekEntries,
 * QueryRows over HTTP), [MS-OXNSPI] 2.2.8 (STAT), 3.1.4.1.10
 * (SeekEntries), 3.1.4.1.17 (ResolveNames); [MS-OXOABK] (the address book
 * properties); RFC 6350 (vCard 4.0).
 *
 * An exact lookup is one ResolveNames of the query, the vCard columns
 * asked at once; a name that is ambiguous or unknown gives nothing.  A
 * prefix lookup positions the GAL on the query by display name
 * (SeekEntries) and reads the rows from there (QueryRows), keeping those
 * whose display name or address starts with the query: gromox answers
 * no prefix restriction of GetMatches (RES_CONTENT always finds nothing),
 * and the GAL is sorted by display name on every server.
 *
 * The cards carry the fields the EWS client's directory gives, written
 * here (the EWS builder reads EWS XML): FN, N, EMAIL (the SMTP address,
 * then the other smtp: proxy addresses, three at most), TEL (business,
 * mobile, home), ORG (company; department), TITLE, and ADR of type work
 * (the office location as the extended address).
 *
 * The NSPI session has its own cookies and its own lock; a session the
 * server forgot is bound again once, transparently, as the EMSMDB side
 * does.
 */
#include "mapic-private.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "printable.h"
#include "wire/mapi-tags.h"
#include "wire/nspi.h"
#include "wire/vcard.h"

/* Address properties of MS-OXOABK not in mapi-tags.h. */
#define TAG_COUNTRY		0x3A26001FU
#define TAG_LOCALITY		0x3A27001FU
#define TAG_STATE		0x3A28001FU
#define TAG_STREET		0x3A29001FU
#define TAG_POSTAL_CODE		0x3A2A001FU

#define STAT_CODE_PAGE		1252
#define STAT_LOCALE		0x0409
/* The most emails a card carries, as the EWS directory's. */
#define CARD_EMAILS		3

/* What an address-book row is asked for, in this order (see enum col). */
static const uint32_t card_cols[] = {
	MAPI_TAG_DISPLAY_NAME, MAPI_TAG_SMTP_ADDRESS, MAPI_TAG_EMAIL_ADDRESS,
	MAPI_TAG_DISPLAY_TYPE, MAPI_TAG_GIVEN_NAME, MAPI_TAG_SURNAME,
	MAPI_TAG_AB_PROXY_ADDRESSES, MAPI_TAG_BUSINESS_TELEPHONE,
	MAPI_TAG_MOBILE_TELEPHONE, MAPI_TAG_HOME_TELEPHONE,
	MAPI_TAG_COMPANY_NAME, MAPI_TAG_DEPARTMENT_NAME, MAPI_TAG_TITLE,
	MAPI_TAG_OFFICE_LOCATION, TAG_STREET, TAG_LOCALITY, TAG_STATE,
	TAG_POSTAL_CODE, TAG_COUNTRY,
};

enum col {
	C_NAME, C_SMTP, C_ESSDN, C_DTYPE, C_GIVEN, C_SURNAME, C_PROXIES,
	C_TEL_WORK, C_TEL_CELL, C_TEL_HOME, C_COMPANY, C_DEPT, C_TITLE,
	C_OFFICE, C_STREET, C_LOCALITY, C_STATE, C_POSTAL, C_COUNTRY, C_N
};

/* The columns of the SeekEntries that positions a prefix lookup: the
 * ones Outlook asks, whose rows are not used. */
static const uint32_t seek_cols[] = {
	MAPI_TAG_DISPLAY_NAME, MAPI_TAG_SMTP_ADDRESS, MAPI_TAG_EMAIL_ADDRESS,
	MAPI_TAG_ADDRTYPE, MAPI_TAG_OBJECT_TYPE, MAPI_TAG_DISPLAY_TYPE,
};

struct mapic_dir {
	const struct mapic_conf *conf;	/* borrowed */
	GMutex lock;			/* one NSPI call at a time */
	struct mapic_http http;		/* protected by lock */
	bool bound;			/* protected by lock */
	unsigned rebinds;		/* protected by lock */
};

static struct nspi_stat gal_stat(void)
{
	return (struct nspi_stat){ .sort_type = NSPI_SORT_DISPLAY_NAME,
				   .code_page = STAT_CODE_PAGE,
				   .template_locale = STAT_LOCALE,
				   .sort_locale = STAT_LOCALE };
}

struct mapic_dir *mapic_dir_new(const struct mapic_conf *c)
{
	struct mapic_dir *d = g_new0(struct mapic_dir, 1);

	d->conf = c;
	g_mutex_init(&d->lock);
	mapic_http_init(&d->http, c, true);
	return d;
}

static int nspi_failed(const struct mapic_dir *d, const char *what,
		       uint32_t status, uint32_t code, struct mfs_error *e)
{
	g_autofree char *who = mapic_who(d->conf);
	int err = status ? -EPROTO : mapic_rv_to_errno(code);

	return mfs_error_set(e, err, MFS_ERR_ACCOUNT,
			     err == -EAGAIN ? MFS_ERR_BACKOFF
					    : MFS_ERR_TRANSIENT,
			     "%s: address book: %s failed (%s 0x%08X)", who,
			     what, status ? "status" : "error",
			     status ? status : code);
}

static int malformed(const struct mapic_dir *d, const char *what, int rc,
		     struct mfs_error *e)
{
	g_autofree char *who = mapic_who(d->conf);

	return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT,
			     "%s: address book: malformed %s answer (%s)", who,
			     what, g_strerror(rc < 0 ? -rc : EBADMSG));
}

/* With d->lock held: a new NSPI session. */
static int bind_locked(struct mapic_dir *d, struct mfs_error *e)
{
	struct nspi_bind_req q = { .has_state = NSPI_TRUE,
				   .state = gal_stat() };
	struct nspi_bind_resp r;
	g_autoptr(GByteArray) req = g_byte_array_new();
	GByteArray *body = NULL;
	int rc;

	mapic_http_forget(&d->http);
	d->bound = false;
	nspi_bind_req_write(req, &q);
	rc = mapic_http_post(&d->http, MAPI_REQ_BIND, req, &body, e);
	if (rc < 0)
		return rc;
	rc = nspi_bind_resp_read(body->data, body->len, &r);
	g_byte_array_unref(body);
	if (rc < 0)
		return malformed(d, "Bind", rc, e);
	if (r.head.status || r.head.error) {
		uint32_t status = r.head.status, code = r.head.error;
		nspi_bind_resp_clear(&r);
		rc = nspi_failed(d, "Bind", status, code, e);
		/* a refused logon is for the user to mend */
		if (rc == -EACCES)
			e->retry = MFS_ERR_FINAL;
		return rc;
	}
	nspi_bind_resp_clear(&r);
	d->bound = true;
	return 0;
}

/* One NSPI call, bound first when needed, bound again once when the
 * server forgot the session.  *body_r: the binary answer (caller owns). */
static int call(struct mapic_dir *d, enum mapi_req t, const GByteArray *req,
		GByteArray **body_r, struct mfs_error *e)
{
	int rc = 0;

	g_mutex_lock(&d->lock);
	if (!d->bound)
		rc = bind_locked(d, e);
	if (rc == 0)
		rc = mapic_http_post(&d->http, t, req, body_r, e);
	if (rc == -ESTALE) {
		g_autofree char *who = mapic_who(d->conf);
		log_warnx("mapi: %s: the server forgot the address book "
			  "session; binding again", who);
		d->rebinds++;
		rc = bind_locked(d, e);
		if (rc == 0)
			rc = mapic_http_post(&d->http, t, req, body_r, e);
		if (rc == -ESTALE)
			d->bound = false;
	}
	g_mutex_unlock(&d->lock);
	return rc;
}

void mapic_dir_free(struct mapic_dir **dp)
{
	struct mapic_dir *d = *dp;
	struct nspi_unbind_req q = { 0 };
	g_autoptr(GByteArray) req = g_byte_array_new();
	struct mfs_error e = { 0 };
	GByteArray *body = NULL;

	if (!d)
		return;
	if (d->bound) {
		nspi_unbind_req_write(req, &q);
		if (mapic_http_post(&d->http, MAPI_REQ_UNBIND, req, &body,
				    &e) < 0)
			log_warnx("mapi: %s", e.msg);
		if (body)
			g_byte_array_unref(body);
	}
	mapic_http_clear(&d->http);
	g_mutex_clear(&d->lock);
	g_free(d);
	*dp = NULL;
}

unsigned mapic_dir_rebinds(struct mapic_dir *d)
{
	unsigned n;

	g_mutex_lock(&d->lock);
	n = d->rebinds;
	g_mutex_unlock(&d->lock);
	return n;
}

/* ---- rows to cards ---- */

/* The values of one row by enum col; borrowed from the row. */
struct card_row {
	const struct mapi_value *v[C_N];
};

static void row_take(const struct nspi_rowset *rs, const struct nspi_row *row,
		     struct card_row *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < rs->cols.n && i < row->vals.n; i++) {
		const struct nspi_val *v = &row->vals.v[i];
		if (v->state != NSPI_VAL_OK)
			continue;
		for (size_t c = 0; c < C_N; c++)
			if (card_cols[c] == rs->cols.tags[i] &&
			    v->v.tag == card_cols[c])
				out->v[c] = &v->v;
	}
}

static const char *str(const struct card_row *r, enum col c)
{
	const struct mapi_value *v = r->v[c];

	return v && v->v.str && *v->v.str ? v->v.str : NULL;
}

static void line(GString *card, const char *name, const char *text)
{
	g_autoptr(GString) l = g_string_new(name);

	g_string_append_c(l, ':');
	vcard_escape(l, text);
	vcard_append_line(card, l->str);
}

/* A structured property: components escaped one by one, empty ones
 * kept.  Nothing when every component is empty. */
static void structured(GString *card, const char *name,
		       const char *const *parts, size_t n)
{
	g_autoptr(GString) l = g_string_new(name);
	bool any = false;

	g_string_append_c(l, ':');
	for (size_t i = 0; i < n; i++) {
		if (i)
			g_string_append_c(l, ';');
		if (parts[i]) {
			vcard_escape(l, parts[i]);
			any = true;
		}
	}
	if (any)
		vcard_append_line(card, l->str);
}

/* The SMTP addresses of a row, the primary first, each once. */
static GPtrArray *addresses(const struct card_row *r)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	const struct mapi_value *px = r->v[C_PROXIES];
	const char *smtp = str(r, C_SMTP);

	if (smtp)
		g_ptr_array_add(out, g_strdup(smtp));
	for (int pass = 0; px && pass < 2; pass++)
		for (uint32_t i = 0; i < px->v.mv.count; i++) {
			const char *a = px->v.mv.a.str[i];
			bool seen = false;
			/* "SMTP:" is the primary, "smtp:" the others */
			if (!a || g_ascii_strncasecmp(a, "smtp:", 5) || !a[5] ||
			    (pass == 0) != !strncmp(a, "SMTP:", 5))
				continue;
			for (guint k = 0; k < out->len; k++)
				if (!g_ascii_strcasecmp(out->pdata[k], a + 5))
					seen = true;
			if (!seen)
				g_ptr_array_add(out, g_strdup(a + 5));
		}
	return out;
}

/* The vCard of one row.  Caller owns the result. */
static GBytes *card_of(const struct card_row *r, const char *name,
		       GPtrArray *addrs)
{
	GString *c = g_string_new(NULL);
	const struct mapi_value *dt = r->v[C_DTYPE];
	static const struct {
		enum col col;
		const char *name;
	} tels[] = {
		{ C_TEL_WORK, "TEL;TYPE=work,voice" },
		{ C_TEL_CELL, "TEL;TYPE=cell" },
		{ C_TEL_HOME, "TEL;TYPE=home,voice" },
	};

	vcard_append_line(c, "BEGIN:VCARD");
	vcard_append_line(c, "VERSION:4.0");
	if (dt && (dt->v.l == NSPI_DT_DISTLIST ||
		   dt->v.l == NSPI_DT_PRIVATE_DISTLIST))
		vcard_append_line(c, "KIND:group");
	line(c, "FN", name);
	{
		const char *n[] = { str(r, C_SURNAME), str(r, C_GIVEN) };
		structured(c, "N", n, 2);
	}
	{
		const char *org[] = { str(r, C_COMPANY), str(r, C_DEPT) };
		structured(c, "ORG", org, 2);
	}
	if (str(r, C_TITLE))
		line(c, "TITLE", str(r, C_TITLE));
	for (guint i = 0; i < addrs->len && i < CARD_EMAILS; i++)
		line(c, i == 0 ? "EMAIL;TYPE=work;PREF=1" : "EMAIL;TYPE=work",
		     addrs->pdata[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(tels); i++)
		if (str(r, tels[i].col))
			line(c, tels[i].name, str(r, tels[i].col));
	{
		const char *adr[] = { NULL, str(r, C_OFFICE),
				      str(r, C_STREET), str(r, C_LOCALITY),
				      str(r, C_STATE), str(r, C_POSTAL),
				      str(r, C_COUNTRY) };
		structured(c, "ADR;TYPE=work", adr, G_N_ELEMENTS(adr));
	}
	vcard_append_line(c, "END:VCARD");
	return g_string_free_to_bytes(c);
}

static bool has_prefix_fold(const char *s, const char *prefix)
{
	g_autofree char *a = s ? g_utf8_casefold(s, -1) : NULL;
	g_autofree char *b = g_utf8_casefold(prefix, -1);

	return a && g_str_has_prefix(a, b);
}

/* Whether a row is what the query asked: with `prefix`, a display name
 * or an address starting with it; else an address that is the query, or
 * failing that a display name that is. */
static bool wanted(const char *query, bool prefix, const char *name,
		   GPtrArray *addrs)
{
	for (guint i = 0; i < addrs->len; i++)
		if (prefix ? has_prefix_fold(addrs->pdata[i], query)
			   : !g_ascii_strcasecmp(addrs->pdata[i], query))
			return true;
	if (!name)
		return false;
	return prefix ? has_prefix_fold(name, query)
		      : !g_utf8_collate(name, query);
}

/* A file name from what a server sent: one path component. */
static bool file_ok(const char *s)
{
	return s && *s && *s != '.' && !strchr(s, '/') && strlen(s) < 250 &&
	       g_utf8_validate(s, -1, NULL);
}

/* Add the entry of one row to `out` when the query wants it.  Returns
 * false only for a row the query does not want (one it wants but that
 * cannot be listed, or is listed already, is skipped). */
static bool add_row(const struct nspi_rowset *rs, const struct nspi_row *row,
		    const char *query, bool prefix, GPtrArray *out)
{
	struct card_row r;
	g_autoptr(GPtrArray) addrs = NULL;
	g_autofree char *file = NULL;
	const char *name;
	GBytes *card;

	row_take(rs, row, &r);
	addrs = addresses(&r);
	name = str(&r, C_NAME);
	if (!wanted(query, prefix, name, addrs))
		return false;
	if (out->len >= MFS_DIR_MAX)
		return true;
	if (addrs->len && file_ok(addrs->pdata[0]))
		file = g_strconcat(addrs->pdata[0], ".vcf", NULL);
	else if (file_ok(name))
		file = g_strconcat(name, ".vcf", NULL);
	else
		return true;
	for (guint i = 0; i < out->len; i++)
		if (!strcmp(((struct mfs_dir_entry *)out->pdata[i])->name,
			    file))
			return true;
	card = card_of(&r, name ? name : addrs->pdata[0], addrs);
	g_ptr_array_add(out, mfs_dir_entry_new(file, card));
	g_bytes_unref(card);
	return true;
}

/* ---- the calls ---- */

static void cols_of(struct nspi_tags *t, const uint32_t *tags, size_t n)
{
	t->n = (uint32_t)n;
	t->tags = g_memdup2(tags, n * sizeof(*tags));
}

/* ResolveNames of one name with the card columns.  *r_r is filled
 * (nspi_resolve_names_resp_clear) on success. */
static int resolve(struct mapic_dir *d, const char *name,
		   struct nspi_resolve_names_resp *r_r, struct mfs_error *e)
{
	char *names[] = { (char *)name };
	struct nspi_resolve_names_req q = {
		.has_state = NSPI_TRUE, .state = gal_stat(),
		.has_tags = NSPI_TRUE, .has_names = NSPI_TRUE,
		.names = { 1, names },
	};
	g_autoptr(GByteArray) req = g_byte_array_new();
	GByteArray *body = NULL;
	int rc;

	cols_of(&q.tags, card_cols, G_N_ELEMENTS(card_cols));
	nspi_resolve_names_req_write(req, &q);
	nspi_tags_clear(&q.tags);
	rc = call(d, MAPI_REQ_RESOLVE_NAMES, req, &body, e);
	if (rc < 0)
		return rc;
	rc = nspi_resolve_names_resp_read(body->data, body->len, r_r);
	g_byte_array_unref(body);
	if (rc < 0)
		return malformed(d, "ResolveNames", rc, e);
	if (r_r->head.status || r_r->head.error) {
		uint32_t status = r_r->head.status, code = r_r->head.error;
		nspi_resolve_names_resp_clear(r_r);
		return nspi_failed(d, "ResolveNames", status, code, e);
	}
	return 0;
}

static int lookup_exact(struct mapic_dir *d, const char *query,
			GPtrArray *out, struct mfs_error *e)
{
	struct nspi_resolve_names_resp r;
	int rc = resolve(d, query, &r, e);

	if (rc < 0)
		return rc;
	/* rows come only for names that resolved: an ambiguous name (or
	 * an unknown one, which gromox calls ambiguous too) gives none */
	if (r.has_rows)
		for (uint32_t i = 0; i < r.rows.n; i++)
			add_row(&r.rows, &r.rows.rows[i], query, false, out);
	nspi_resolve_names_resp_clear(&r);
	return 0;
}

/* SeekEntries to the first display name at or after `query`; its STAT
 * in *stat_r.  Returns 1 when positioned, 0 past the end, or -errno. */
static int seek(struct mapic_dir *d, const char *query,
		struct nspi_stat *stat_r, struct mfs_error *e)
{
	struct nspi_seek_entries_req q = {
		.has_state = NSPI_TRUE, .state = gal_stat(),
		.has_target = NSPI_TRUE,
		.target = { .v = { .tag = MAPI_TAG_DISPLAY_NAME,
				   .v.str = g_strdup(query) } },
		.has_columns = NSPI_TRUE,
	};
	struct nspi_seek_entries_resp r;
	g_autoptr(GByteArray) req = g_byte_array_new();
	GByteArray *body = NULL;
	int rc;

	cols_of(&q.columns, seek_cols, G_N_ELEMENTS(seek_cols));
	nspi_seek_entries_req_write(req, &q);
	nspi_seek_entries_req_clear(&q);
	rc = call(d, MAPI_REQ_SEEK_ENTRIES, req, &body, e);
	if (rc < 0)
		return rc;
	rc = nspi_seek_entries_resp_read(body->data, body->len, &r);
	g_byte_array_unref(body);
	if (rc < 0)
		return malformed(d, "SeekEntries", rc, e);
	rc = 1;
	if (r.head.status ||
	    (r.head.error && r.head.error != MAPI_E_NOT_FOUND))
		rc = nspi_failed(d, "SeekEntries", r.head.status, r.head.error,
				 e);
	else if (r.head.error == MAPI_E_NOT_FOUND || !r.has_state ||
		 r.state.cur_rec == NSPI_MID_END_OF_TABLE)
		rc = 0;
	else
		*stat_r = r.state;
	nspi_seek_entries_resp_clear(&r);
	return rc;
}

static int lookup_prefix(struct mapic_dir *d, const char *query,
			 GPtrArray *out, struct mfs_error *e)
{
	struct nspi_query_rows_req q = { .has_columns = NSPI_TRUE,
					 .has_state = NSPI_TRUE,
					 .row_count = MFS_DIR_MAX };
	struct nspi_query_rows_resp r;
	g_autoptr(GByteArray) req = g_byte_array_new();
	GByteArray *body = NULL;
	int rc = seek(d, query, &q.state, e);

	if (rc <= 0)
		return rc;
	cols_of(&q.columns, card_cols, G_N_ELEMENTS(card_cols));
	nspi_query_rows_req_write(req, &q);
	nspi_tags_clear(&q.columns);
	rc = call(d, MAPI_REQ_QUERY_ROWS, req, &body, e);
	if (rc < 0)
		return rc;
	rc = nspi_query_rows_resp_read(body->data, body->len, &r);
	g_byte_array_unref(body);
	if (rc < 0)
		return malformed(d, "QueryRows", rc, e);
	if (r.head.status || r.head.error) {
		rc = nspi_failed(d, "QueryRows", r.head.status, r.head.error,
				 e);
		nspi_query_rows_resp_clear(&r);
		return rc;
	}
	/* sorted by display name: the matches are the first rows */
	for (uint32_t i = 0; r.has_rows && i < r.rows.n; i++)
		if (!add_row(&r.rows, &r.rows.rows[i], query, true, out))
			break;
	nspi_query_rows_resp_clear(&r);
	return 0;
}

int mapic_dir_lookup(struct mapic_dir *d, const char *query, bool prefix,
		     GPtrArray **entries_r, struct mfs_error *e)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(mfs_dir_entry_free);
	int rc = 0;

	*entries_r = NULL;
	if (query && *query)
		rc = prefix ? lookup_prefix(d, query, out, e)
			    : lookup_exact(d, query, out, e);
	if (rc < 0) {
		g_ptr_array_unref(out);
		return rc;
	}
	*entries_r = out;
	return 0;
}

int mapic_dir_user_dn(struct mapic_dir *d, const char *address, char **dn_r,
		      struct mfs_error *e)
{
	struct nspi_resolve_names_resp r;
	int rc;

	*dn_r = NULL;
	rc = resolve(d, address, &r, e);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; r.has_rows && i < r.rows.n && !*dn_r; i++) {
		struct card_row row;
		g_autoptr(GPtrArray) addrs = NULL;
		row_take(&r.rows, &r.rows.rows[i], &row);
		addrs = addresses(&row);
		if (str(&row, C_ESSDN) && wanted(address, false, NULL, addrs))
			*dn_r = g_strdup(str(&row, C_ESSDN));
	}
	nspi_resolve_names_resp_clear(&r);
	if (!*dn_r) {
		g_autofree char *who = mapic_who(d->conf);
		g_autofree char *what = printable(address, -1);
		return mfs_error_set(e, -ENOENT, MFS_ERR_ACCOUNT,
				     MFS_ERR_FINAL, "%s: the address book "
				     "does not know %s", who, what);
	}
	return 0;
}
