/*
 * nspi-ab.c - the address book the NSPI endpoint shows: the served user
 * and every contact of the store's contacts folders, sorted by display
 * name, with the properties of an address-book mail user.
 *
 * Specs: MS-OXNSPI 2.2.1.8 (Minimal Entry IDs), 2.2.9 (EntryIDs),
 * 3.1.4.1.10 and 3.1.4.7 (ambiguous name resolution); MS-OXOABK 2.2.3
 * (the properties of a mail user), 2.2.3.1 (PidTagAddressBookHomeMessage
 * Database); MS-OXCDATA 2.12 (restrictions); RFC 6350 6.2.1-6.6.4 (the
 * vCard properties taken: FN, N, ORG, TITLE, EMAIL, TEL, ADR, UID).
 *
 * MIds are handed out in display-name order from MAPID_AB_FIRST_MID when
 * the book is built (at Bind): they are the session's own, as MS-OXNSPI
 * lets them be.  A contact's LegacyDN is an ESSDN under the server's
 * organisation whose last RDN is a hash of its vCard UID (of its folder
 * and store id when it has none), so it names the same contact in every
 * session and after a restart.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fnv1a.h"
#include "log.h"
#include "wire/mapi-tags.h"
#include "wire/nspi.h"
#include "wire/vcard.h"
#include "mapid-private.h"

#define OBJECT_TYPE_MAILUSER	6	/* MAPI_MAILUSER */
/* PidTagAddressBookContainerId and PidTagAddressBookIsMaster, the
 * hierarchy-table columns MS-OXNSPI 3.1.4.1.3 names. */
#define TAG_AB_CONTAINER_ID	0xFFFD0003U
#define TAG_AB_IS_MASTER	0xFFFB000BU
/* PidTagContainerFlags of the GAL: AB_RECIPIENTS | AB_UNMODIFIABLE. */
#define GAL_CONTAINER_FLAGS	0x00000009
#define DTE_ACL_CAPABLE		0x40000000	/* PidTagDisplayTypeEx */

static void entry_free(gpointer p)
{
	struct mapid_ab_entry *e = p;

	for (int i = 0; i < MAPID_AB_NFIELDS; i++)
		g_free(e->f[i]);
	g_free(e->dn);
	g_free(e->home_mdb);
	g_free(e->sort_key);
	g_free(e);
}

void mapid_ab_free(struct mapid_ab *ab)
{
	if (!ab)
		return;
	g_ptr_array_unref(ab->entries);
	g_free(ab);
}

/* The value of `p` unescaped; NULL when it is empty. */
static char *text(const struct vcard_prop *p)
{
	char *s = vcard_unescape(p->value);

	g_strstrip(s);
	if (!*s) {
		g_free(s);
		return NULL;
	}
	return s;
}

/* Component `i` of a structured value, NULL when absent or empty. */
static char *component(const struct vcard_prop *p, unsigned i)
{
	g_auto(GStrv) parts = vcard_split(p->value);

	if (g_strv_length(parts) <= i)
		return NULL;
	g_strstrip(parts[i]);
	return *parts[i] ? g_strdup(parts[i]) : NULL;
}

static void set_once(char **slot, char *v)
{
	if (*slot || !v)
		g_free(v);
	else
		*slot = v;
}

/* The fields of `card` into `e`, its UID into *uid_r. */
static void take_card(struct mapid_ab_entry *e, const struct vcard *card,
		      char **uid_r)
{
	char *pref_mail = NULL;

	for (guint i = 0; i < card->props->len; i++) {
		const struct vcard_prop *p = card->props->pdata[i];
		const char *n = p->name;

		if (!strcmp(n, "FN")) {
			set_once(&e->f[MAPID_AB_DISPLAY_NAME], text(p));
		} else if (!strcmp(n, "N")) {
			set_once(&e->f[MAPID_AB_SURNAME], component(p, 0));
			set_once(&e->f[MAPID_AB_GIVEN_NAME], component(p, 1));
		} else if (!strcmp(n, "ORG")) {
			set_once(&e->f[MAPID_AB_COMPANY], component(p, 0));
			set_once(&e->f[MAPID_AB_DEPARTMENT], component(p, 1));
		} else if (!strcmp(n, "TITLE")) {
			set_once(&e->f[MAPID_AB_TITLE], text(p));
		} else if (!strcmp(n, "EMAIL")) {
			if (vcard_prop_has_type(p, "pref"))
				set_once(&pref_mail, text(p));
			set_once(&e->f[MAPID_AB_SMTP], text(p));
		} else if (!strcmp(n, "TEL")) {
			if (vcard_prop_has_type(p, "fax"))
				continue;
			if (vcard_prop_has_type(p, "cell"))
				set_once(&e->f[MAPID_AB_PHONE_MOBILE], text(p));
			else if (vcard_prop_has_type(p, "home"))
				set_once(&e->f[MAPID_AB_PHONE_HOME], text(p));
			else
				set_once(&e->f[MAPID_AB_PHONE_BUSINESS],
					 text(p));
		} else if (!strcmp(n, "ADR")) {
			/* the extended address of the work address: the
			 * office or suite, RFC 6350 6.3.1 */
			if (vcard_prop_has_type(p, "work"))
				set_once(&e->f[MAPID_AB_OFFICE],
					 component(p, 1));
		} else if (!strcmp(n, "UID")) {
			set_once(uid_r, text(p));
		}
	}
	if (pref_mail) {
		g_free(e->f[MAPID_AB_SMTP]);
		e->f[MAPID_AB_SMTP] = pref_mail;
	}
	if (!e->f[MAPID_AB_DISPLAY_NAME] && (e->f[MAPID_AB_GIVEN_NAME] ||
					     e->f[MAPID_AB_SURNAME]))
		e->f[MAPID_AB_DISPLAY_NAME] = g_strjoin(" ",
			e->f[MAPID_AB_GIVEN_NAME] ? e->f[MAPID_AB_GIVEN_NAME]
						  : "",
			e->f[MAPID_AB_SURNAME] ? e->f[MAPID_AB_SURNAME] : "",
			NULL);
	if (e->f[MAPID_AB_DISPLAY_NAME])
		g_strstrip(e->f[MAPID_AB_DISPLAY_NAME]);
	if ((!e->f[MAPID_AB_DISPLAY_NAME] || !*e->f[MAPID_AB_DISPLAY_NAME]) &&
	    e->f[MAPID_AB_SMTP]) {
		g_free(e->f[MAPID_AB_DISPLAY_NAME]);
		e->f[MAPID_AB_DISPLAY_NAME] = g_strdup(e->f[MAPID_AB_SMTP]);
	}
	if (e->f[MAPID_AB_SMTP])
		e->f[MAPID_AB_ACCOUNT] = g_strdup(e->f[MAPID_AB_SMTP]);
}

/* The bytes of item `id` of `folder`, at most VCARD_MAX; NULL when it
 * cannot be read. */
static GString *load(const struct serve_ctx *ctx, const char *folder,
		     const char *id)
{
	int fd = -1;
	GString *buf;
	char chunk[16384];

	if (mfs_store_fetch(ctx->store, folder, id, &fd, NULL) < 0)
		return NULL;
	buf = g_string_new(NULL);
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
		g_string_append_len(buf, chunk, (gsize)n);
	}
	close(fd);
	return buf;
}

static char *contact_dn(const char *key)
{
	uint64_t h = fnv1a_64(FNV1A_64_INIT, key, strlen(key));
	g_autofree char *cn = g_strdup_printf("c%016" G_GINT64_MODIFIER "x",
					      (guint64)h);

	return mapid_legacy_dn(cn);
}

/* The contact of item `id` of `folder`, or NULL when it is no vCard or
 * names nobody. */
static struct mapid_ab_entry *contact(const struct serve_ctx *ctx,
				      const char *folder, const char *id)
{
	GString *buf = load(ctx, folder, id);
	struct vcard *card = NULL;
	struct mapid_ab_entry *e;
	g_autofree char *uid = NULL, *key = NULL;

	if (!buf)
		return NULL;
	if (vcard_parse(buf->str, buf->len, &card) < 0) {
		g_string_free(buf, TRUE);
		return NULL;
	}
	g_string_free(buf, TRUE);
	e = g_new0(struct mapid_ab_entry, 1);
	take_card(e, card, &uid);
	vcard_free(&card);
	if (!e->f[MAPID_AB_DISPLAY_NAME]) {
		entry_free(e);
		return NULL;
	}
	key = uid ? g_strconcat("uid:", uid, NULL)
		  : g_strconcat("item:", folder, "/", id, NULL);
	e->dn = contact_dn(key);
	return e;
}

static struct mapid_ab_entry *self_entry(const char *user)
{
	struct mapid_ab_entry *e = g_new0(struct mapid_ab_entry, 1);

	e->self = true;
	e->f[MAPID_AB_DISPLAY_NAME] = g_strdup(user);
	e->f[MAPID_AB_SMTP] = g_strdup(user);
	e->f[MAPID_AB_ACCOUNT] = g_strdup(user);
	e->dn = mapid_legacy_dn(user);
	e->home_mdb = g_strdup_printf("/o=mailfs/ou=Exchange Administrative "
				      "Group (FYDIBOHF23SPDLT)/cn=Configuration"
				      "/cn=Servers/cn=%s/cn=Microsoft Private "
				      "MDB", user);
	return e;
}

static int by_name(gconstpointer a, gconstpointer b)
{
	const struct mapid_ab_entry *x = *(struct mapid_ab_entry *const *)a;
	const struct mapid_ab_entry *y = *(struct mapid_ab_entry *const *)b;
	int c = strcmp(x->sort_key, y->sort_key);

	return c ? c : strcmp(x->dn, y->dn);
}

/* Add the contacts of `folder`, up to MAPID_AB_MAX entries in all. */
static void add_folder(const struct serve_ctx *ctx, const char *folder,
		       GPtrArray *entries)
{
	struct mfs_sync_result *res = NULL;

	if (mfs_store_sync(ctx->store, folder, NULL, &res, NULL) < 0) {
		log_info("mapi: address book: cannot read contacts folder %s",
			 folder);
		return;
	}
	for (guint i = 0; i < res->changed->len; i++) {
		const struct mfs_item *it = res->changed->pdata[i];
		struct mapid_ab_entry *e;

		if (entries->len >= MAPID_AB_MAX) {
			log_info("mapi: address book: more than %u contacts, "
				 "the rest of folder %s left out",
				 MAPID_AB_MAX, folder);
			break;
		}
		e = contact(ctx, folder, it->id);
		if (e)
			g_ptr_array_add(entries, e);
	}
	mfs_sync_result_free(&res);
}

int mapid_ab_load(const struct serve_ctx *ctx, const char *user,
		  struct mapid_ab **ab_r)
{
	struct mapid_ab *ab = g_new0(struct mapid_ab, 1);
	GPtrArray *folders = NULL;

	ab->entries = g_ptr_array_new_with_free_func(entry_free);
	g_ptr_array_add(ab->entries, self_entry(user));
	if (mfs_store_list_folders(ctx->store, &folders, NULL) == 0) {
		for (guint i = 0; i < folders->len; i++) {
			const struct mfs_folder_info *fi = folders->pdata[i];
			if (fi->kind == MFS_FOLDER_CONTACTS)
				add_folder(ctx, fi->path, ab->entries);
		}
		g_ptr_array_unref(folders);
	}
	for (guint i = 0; i < ab->entries->len; i++) {
		struct mapid_ab_entry *e = ab->entries->pdata[i];
		g_autofree char *folded =
			g_utf8_casefold(e->f[MAPID_AB_DISPLAY_NAME], -1);
		e->sort_key = g_utf8_collate_key(folded, -1);
	}
	g_ptr_array_sort(ab->entries, by_name);
	for (guint i = 0; i < ab->entries->len; i++)
		((struct mapid_ab_entry *)ab->entries->pdata[i])->mid =
			MAPID_AB_FIRST_MID + i;
	*ab_r = ab;
	return 0;
}

const struct mapid_ab_entry *mapid_ab_by_mid(const struct mapid_ab *ab,
					     uint32_t mid, uint32_t *pos_r)
{
	uint32_t pos;

	if (mid < MAPID_AB_FIRST_MID)
		return NULL;
	pos = mid - MAPID_AB_FIRST_MID;
	if (pos >= ab->entries->len)
		return NULL;
	if (pos_r)
		*pos_r = pos;
	return ab->entries->pdata[pos];
}

const struct mapid_ab_entry *mapid_ab_by_dn(const struct mapid_ab *ab,
					    const char *dn)
{
	for (guint i = 0; i < ab->entries->len; i++) {
		const struct mapid_ab_entry *e = ab->entries->pdata[i];
		if (nspi_dn_equal(e->dn, dn))
			return e;
	}
	return NULL;
}

uint32_t mapid_ab_seek(const struct mapid_ab *ab, const char *name)
{
	g_autofree char *folded = g_utf8_casefold(name, -1);
	g_autofree char *key = g_utf8_collate_key(folded, -1);
	uint32_t i;

	for (i = 0; i < ab->entries->len; i++) {
		const struct mapid_ab_entry *e = ab->entries->pdata[i];
		if (strcmp(e->sort_key, key) >= 0)
			break;
	}
	return i;
}

static void set_mv_str(struct mapi_props *p, uint32_t tag, const char *s)
{
	struct mapi_value v = { .tag = tag };

	v.v.mv.count = 1;
	v.v.mv.a.str = g_new0(char *, 1);
	v.v.mv.a.str[0] = g_strdup(s);
	mapi_props_take(p, &v);
}

void mapid_ab_entryid(const struct mapid_ab_entry *e, bool ephemeral,
		      GByteArray *out)
{
	struct nspi_entryid id = {
		.type = ephemeral ? NSPI_EID_EPHEMERAL : NSPI_EID_PERMANENT,
		.display_type = NSPI_DT_MAILUSER,
		.dn = e->dn,
		.mid = e->mid,
	};

	if (ephemeral)
		mapid_repl_guid(id.provider);
	else
		memcpy(id.provider, nspi_guid_nspi, 16);
	nspi_entryid_write(out, &id);
}

void mapid_ab_props(const struct mapid_ab_entry *e, bool ephemeral,
		    struct mapi_props *p)
{
	static const uint32_t text_tags[MAPID_AB_NFIELDS] = {
		[MAPID_AB_DISPLAY_NAME] = MAPI_TAG_DISPLAY_NAME,
		[MAPID_AB_SMTP] = MAPI_TAG_SMTP_ADDRESS,
		[MAPID_AB_ACCOUNT] = MAPI_TAG_ACCOUNT,
		[MAPID_AB_GIVEN_NAME] = MAPI_TAG_GIVEN_NAME,
		[MAPID_AB_SURNAME] = MAPI_TAG_SURNAME,
		[MAPID_AB_TITLE] = MAPI_TAG_TITLE,
		[MAPID_AB_COMPANY] = MAPI_TAG_COMPANY_NAME,
		[MAPID_AB_DEPARTMENT] = MAPI_TAG_DEPARTMENT_NAME,
		[MAPID_AB_OFFICE] = MAPI_TAG_OFFICE_LOCATION,
		[MAPID_AB_PHONE_BUSINESS] = MAPI_TAG_BUSINESS_TELEPHONE,
		[MAPID_AB_PHONE_HOME] = MAPI_TAG_HOME_TELEPHONE,
		[MAPID_AB_PHONE_MOBILE] = MAPI_TAG_MOBILE_TELEPHONE,
	};
	g_autoptr(GByteArray) eid = g_byte_array_new();
	g_autoptr(GByteArray) perm = g_byte_array_new();
	g_autofree char *upper = g_ascii_strup(e->dn, -1);
	g_autofree char *search = g_strconcat("EX:", upper, NULL);
	uint8_t key[4];

	for (int i = 0; i < MAPID_AB_NFIELDS; i++)
		if (e->f[i])
			mapi_props_set_str(p, text_tags[i], e->f[i]);
	mapi_props_set_str(p, MAPI_TAG_EMAIL_ADDRESS, e->dn);
	mapi_props_set_str(p, MAPI_TAG_ADDRTYPE, "EX");
	mapi_props_set_str(p, MAPI_TAG_TRANSMITTABLE_DISPLAY_NAME,
			   e->f[MAPID_AB_DISPLAY_NAME]);
	mapi_props_set_str(p, MAPI_TAG_AB_DISPLAY_NAME_PRINTABLE,
			   e->f[MAPID_AB_DISPLAY_NAME]);
	mapi_props_set_l(p, MAPI_TAG_OBJECT_TYPE, OBJECT_TYPE_MAILUSER);
	mapi_props_set_l(p, MAPI_TAG_DISPLAY_TYPE, NSPI_DT_MAILUSER);
	mapi_props_set_l(p, MAPI_TAG_DISPLAY_TYPE_EX,
			 e->self ? DTE_ACL_CAPABLE : 0);
	mapid_ab_entryid(e, ephemeral, eid);
	mapid_ab_entryid(e, false, perm);
	mapi_props_set_bin(p, MAPI_TAG_ENTRYID, eid->data, eid->len);
	mapi_props_set_bin(p, MAPI_TAG_RECORD_KEY, perm->data, perm->len);
	mapi_props_set_bin(p, MAPI_TAG_TEMPLATEID, perm->data, perm->len);
	mapi_props_set_bin(p, MAPI_TAG_ORIGINAL_ENTRYID, perm->data,
			   perm->len);
	for (int i = 0; i < 4; i++)
		key[i] = (uint8_t)(e->mid >> (8 * i));
	mapi_props_set_bin(p, MAPI_TAG_INSTANCE_KEY, key, 4);
	mapi_props_set_bin(p, MAPI_TAG_MAPPING_SIGNATURE, nspi_guid_nspi, 16);
	/* MS-OXCDATA 2.8.3.2: the address type, a colon, the address, in
	 * upper case, NUL-terminated */
	mapi_props_set_bin(p, MAPI_TAG_SEARCH_KEY, search, strlen(search) + 1);
	if (e->f[MAPID_AB_SMTP]) {
		g_autofree char *proxy = g_strconcat("SMTP:",
						     e->f[MAPID_AB_SMTP], NULL);
		set_mv_str(p, MAPI_TAG_AB_PROXY_ADDRESSES, proxy);
	}
	if (e->home_mdb)
		mapi_props_set_str(p, MAPI_TAG_AB_HOME_MDB, e->home_mdb);
}

/* Whether `text` (may be NULL) begins with `folded` when case-folded. */
static bool folded_prefix(const char *text, const char *folded)
{
	g_autofree char *t = text ? g_utf8_casefold(text, -1) : NULL;

	return t && g_str_has_prefix(t, folded);
}

bool mapid_ab_anr(const struct mapid_ab_entry *e, const char *what)
{
	static const int fields[] = {
		MAPID_AB_DISPLAY_NAME, MAPID_AB_GIVEN_NAME, MAPID_AB_SURNAME,
		MAPID_AB_SMTP, MAPID_AB_ACCOUNT,
	};
	g_autofree char *w = NULL;
	const char *dn = e->f[MAPID_AB_DISPLAY_NAME];

	if (!what)
		return false;
	if (!g_ascii_strncasecmp(what, "smtp:", 5))
		what += 5;
	w = g_utf8_casefold(what, -1);
	g_strstrip(w);
	if (!*w)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (folded_prefix(e->f[fields[i]], w))
			return true;
	for (const char *s = dn ? strchr(dn, ' ') : NULL; s;
	     s = strchr(s + 1, ' '))
		if (folded_prefix(s + 1, w))
			return true;
	return false;
}

/* Whether `v` (a string) relates to `want` as `relop` says, comparing
 * case-folded text. */
static bool str_relop(const char *v, const char *want, uint8_t relop)
{
	g_autofree char *a = g_utf8_casefold(v, -1);
	g_autofree char *b = g_utf8_casefold(want, -1);
	int c = g_utf8_collate(a, b);

	switch (relop) {
	case MAPI_RELOP_LT: return c < 0;
	case MAPI_RELOP_LE: return c <= 0;
	case MAPI_RELOP_GT: return c > 0;
	case MAPI_RELOP_GE: return c >= 0;
	case MAPI_RELOP_EQ: return c == 0;
	case MAPI_RELOP_NE: return c != 0;
	default: return false;
	}
}

static bool is_str(const struct mapi_value *v)
{
	uint16_t t = v ? MAPI_TAG_TYPE(v->tag) : 0;

	return (t == MAPI_PT_UNICODE || t == MAPI_PT_STRING8) && v->v.str;
}

static bool match_prop(const struct mapid_ab_entry *e,
		       const struct mapi_props *p, const struct mapi_res *r)
{
	const struct mapi_value *want = r->u.prop.val;
	const struct mapi_value *have;

	if (MAPI_TAG_ID(r->u.prop.tag) == MAPI_TAG_ID(MAPI_TAG_ANR))
		return is_str(want) && mapid_ab_anr(e, want->v.str);
	have = mapi_props_get(p, MAPI_TAG_ID(r->u.prop.tag));
	if (!have || !want)
		return false;
	if (is_str(have) && is_str(want))
		return str_relop(have->v.str, want->v.str, r->u.prop.relop);
	if (MAPI_TAG_TYPE(have->tag) == MAPI_PT_LONG &&
	    MAPI_TAG_TYPE(want->tag) == MAPI_PT_LONG) {
		int32_t a = have->v.l, b = want->v.l;
		switch (r->u.prop.relop) {
		case MAPI_RELOP_LT: return a < b;
		case MAPI_RELOP_LE: return a <= b;
		case MAPI_RELOP_GT: return a > b;
		case MAPI_RELOP_GE: return a >= b;
		case MAPI_RELOP_EQ: return a == b;
		case MAPI_RELOP_NE: return a != b;
		default: return false;
		}
	}
	return false;
}

static bool match_content(const struct mapid_ab_entry *e,
			  const struct mapi_props *p,
			  const struct mapi_res *r)
{
	const struct mapi_value *want = r->u.content.val;
	const struct mapi_value *have;
	g_autofree char *a = NULL, *b = NULL;
	bool icase = r->u.content.fuzzy_high &
		     (MAPI_FL_IGNORECASE | MAPI_FL_LOOSE);

	if (!is_str(want))
		return false;
	if (MAPI_TAG_ID(r->u.content.tag) == MAPI_TAG_ID(MAPI_TAG_ANR))
		return mapid_ab_anr(e, want->v.str);
	have = mapi_props_get(p, MAPI_TAG_ID(r->u.content.tag));
	if (!is_str(have))
		return false;
	a = icase ? g_utf8_casefold(have->v.str, -1) : g_strdup(have->v.str);
	b = icase ? g_utf8_casefold(want->v.str, -1) : g_strdup(want->v.str);
	switch (r->u.content.fuzzy_low & 0x3) {
	case MAPI_FL_SUBSTRING: return strstr(a, b) != NULL;
	case MAPI_FL_PREFIX: return g_str_has_prefix(a, b);
	default: return !strcmp(a, b);
	}
}

static bool match(const struct mapid_ab_entry *e, const struct mapi_props *p,
		  const struct mapi_res *r)
{
	switch (r->type) {
	case MAPI_RES_AND:
		for (uint32_t i = 0; i < r->u.list.n; i++)
			if (!match(e, p, &r->u.list.a[i]))
				return false;
		return true;
	case MAPI_RES_OR:
		for (uint32_t i = 0; i < r->u.list.n; i++)
			if (match(e, p, &r->u.list.a[i]))
				return true;
		return false;
	case MAPI_RES_NOT:
		return !match(e, p, r->u.sub);
	case MAPI_RES_CONTENT:
		return match_content(e, p, r);
	case MAPI_RES_PROPERTY:
		return match_prop(e, p, r);
	case MAPI_RES_EXIST:
		return mapi_props_get(p, MAPI_TAG_ID(r->u.exist.tag)) != NULL;
	default:
		return false;
	}
}

bool mapid_ab_match(const struct mapid_ab_entry *e, const struct mapi_res *r)
{
	struct mapi_props p = { 0 };
	bool yes;

	mapid_ab_props(e, false, &p);
	yes = match(e, &p, r);
	mapi_props_clear(&p);
	return yes;
}

static bool folded_equal(const char *a, const char *folded)
{
	g_autofree char *t = a ? g_utf8_casefold(a, -1) : NULL;

	return t && !strcmp(t, folded);
}

uint32_t mapid_ab_resolve(const struct mapid_ab *ab, const char *name,
			  const struct mapid_ab_entry **e_r)
{
	g_autofree char *w = NULL;
	const struct mapid_ab_entry *exact = NULL, *anr = NULL;
	unsigned n_exact = 0, n_anr = 0;

	*e_r = NULL;
	if (!g_ascii_strncasecmp(name, "smtp:", 5))
		name += 5;
	w = g_utf8_casefold(name, -1);
	g_strstrip(w);
	if (!*w)
		return NSPI_MID_UNRESOLVED;
	for (guint i = 0; i < ab->entries->len; i++) {
		const struct mapid_ab_entry *e = ab->entries->pdata[i];
		if (folded_equal(e->f[MAPID_AB_SMTP], w) ||
		    folded_equal(e->f[MAPID_AB_ACCOUNT], w) ||
		    folded_equal(e->f[MAPID_AB_DISPLAY_NAME], w) ||
		    nspi_dn_equal(e->dn, name)) {
			exact = e;
			n_exact++;
		} else if (mapid_ab_anr(e, name)) {
			anr = e;
			n_anr++;
		}
	}
	/* an exact match wins over prefixes: "bob@example.test" is Bob
	 * even when "bob@example.test.other" exists */
	if (n_exact == 1 || (!n_exact && n_anr == 1)) {
		*e_r = n_exact ? exact : anr;
		return NSPI_MID_RESOLVED;
	}
	return n_exact || n_anr ? NSPI_MID_AMBIGUOUS : NSPI_MID_UNRESOLVED;
}

/* ---- rows, positions and columns for nspi.c ---- */

/* The columns of QueryRows when the client names none: those the
 * recorded client asked for. */
const uint32_t mapid_ab_default_cols[MAPID_AB_DEFAULT_NCOLS] = {
	MAPI_TAG_ENTRYID, MAPI_TAG_DISPLAY_NAME, MAPI_TAG_SMTP_ADDRESS,
	MAPI_TAG_EMAIL_ADDRESS, MAPI_TAG_ADDRTYPE, MAPI_TAG_OBJECT_TYPE,
	MAPI_TAG_DISPLAY_TYPE, MAPI_TAG_ACCOUNT, MAPI_TAG_INSTANCE_KEY,
};

/* Append the row of `e` under `cols` to `rs`. */
void mapid_ab_add_row(struct nspi_rowset *rs,
		      const struct mapid_ab_entry *e, bool ephemeral)
{
	struct mapi_props p = { 0 };

	mapid_ab_props(e, ephemeral, &p);
	rs->rows = g_renew(struct nspi_row, rs->rows, rs->n + 1);
	nspi_row_from_props(&rs->rows[rs->n], &rs->cols, &p);
	rs->n++;
	mapi_props_clear(&p);
}

/* The position a STAT stands at: CurrentRec (a MId, or the beginning or
 * end of the table) moved by Delta, within the table. */
uint32_t mapid_ab_stat_pos(const struct mapid_ab *ab,
			   const struct nspi_stat *st)
{
	int64_t n = ab->entries->len, pos;
	uint32_t at = 0;

	if (st->cur_rec == NSPI_MID_END_OF_TABLE)
		pos = n;
	else if (mapid_ab_by_mid(ab, st->cur_rec, &at))
		pos = at;
	else
		pos = 0;
	pos += st->delta;
	return (uint32_t)(pos < 0 ? 0 : pos > n ? n : pos);
}

/* Stand the STAT at position `pos`. */
void mapid_ab_stat_set(const struct mapid_ab *ab, struct nspi_stat *st,
		       uint32_t pos)
{
	const struct mapid_ab_entry *e = pos < ab->entries->len
		? ab->entries->pdata[pos] : NULL;

	st->cur_rec = e ? e->mid : NSPI_MID_END_OF_TABLE;
	st->delta = 0;
	st->num_pos = pos;
	st->total_recs = ab->entries->len;
}

/* The tags `p` has, strings as PtypString when `unicode`, else as
 * PtypString8 (MS-OXNSPI 3.1.4.1.6). */
void mapid_ab_tags(const struct mapi_props *p, bool unicode,
		   struct nspi_tags *t)
{
	t->n = (uint32_t)p->n;
	t->tags = g_new0(uint32_t, p->n ? p->n : 1);
	for (size_t i = 0; i < p->n; i++) {
		uint32_t tag = p->v[i].tag;
		uint16_t type = MAPI_TAG_TYPE(tag);
		uint16_t base = type & ~MAPI_PT_MV;

		if (base == MAPI_PT_UNICODE || base == MAPI_PT_STRING8)
			tag = MAPI_TAG_RETYPE(tag, (type & MAPI_PT_MV) |
					      (unicode ? MAPI_PT_UNICODE
						       : MAPI_PT_STRING8));
		t->tags[i] = tag;
	}
}

/* The one container: the GAL, as the recorded server describes it. */
void mapid_ab_gal_row(struct nspi_vals *row, bool unicode)
{
	struct nspi_entryid id = {
		.type = NSPI_EID_PERMANENT,
		.display_type = NSPI_DT_CONTAINER,
		.dn = (char *)"/",
	};
	g_autoptr(GByteArray) eid = g_byte_array_new();
	struct nspi_val *v;

	memcpy(id.provider, nspi_guid_nspi, 16);
	nspi_entryid_write(eid, &id);
	row->n = 6;
	row->v = v = g_new0(struct nspi_val, 6);
	v[0].v.tag = MAPI_TAG_ENTRYID;
	v[0].v.v.bin.len = eid->len;
	v[0].v.v.bin.data = g_memdup2(eid->data, eid->len);
	v[1].v.tag = MAPI_TAG_CONTAINER_FLAGS;
	v[1].v.v.l = GAL_CONTAINER_FLAGS;
	v[2].v.tag = MAPI_TAG_DEPTH;
	v[3].v.tag = TAG_AB_CONTAINER_ID;
	/* the GAL has no name of its own: clients show theirs */
	v[4].v.tag = MAPI_TAG_RETYPE(MAPI_TAG_DISPLAY_NAME,
				     unicode ? MAPI_PT_UNICODE
					     : MAPI_PT_STRING8);
	v[4].state = NSPI_VAL_NULL;
	v[5].v.tag = TAG_AB_IS_MASTER;
}

/* The columns of an entry that has every field. */
void mapid_ab_columns(bool unicode, struct nspi_tags *t)
{
	struct mapid_ab_entry every = { .mid = MAPID_AB_FIRST_MID,
					.dn = (char *)"/",
					.home_mdb = (char *)"/" };
	struct mapi_props p = { 0 };

	for (int i = 0; i < MAPID_AB_NFIELDS; i++)
		every.f[i] = (char *)"-";
	mapid_ab_props(&every, false, &p);
	mapid_ab_tags(&p, unicode, t);
	mapi_props_clear(&p);
}
