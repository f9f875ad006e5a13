/*
 * nspi-base.c - the small structures of the address book of MAPI over
 * HTTP: STAT (MS-OXNSPI 2.2.8), arrays of tags, MIds, strings and EntryIDs
 * with 32-bit counts (MS-OXCMAPIHTTP 2.2.5), the permanent and ephemeral
 * EntryIDs (MS-OXNSPI 2.2.9), the parts of DNs, the request type names
 * (MS-OXCMAPIHTTP 2.2.3.1.2), and the head, tail and optional blocks of
 * every body.
 */
#include "nspi-private.h"

#include <errno.h>
#include <string.h>

/* C840A7DC-42C0-1A10-B4B9-08002B2FE182, as it travels. */
const uint8_t nspi_guid_nspi[16] = {
	0xDC, 0xA7, 0x40, 0xC8, 0xC0, 0x42, 0x10, 0x1A,
	0xB4, 0xB9, 0x08, 0x00, 0x2B, 0x2F, 0xE1, 0x82,
};

void nspi_stat_read(struct mapi_rd *r, struct nspi_stat *s)
{
	s->sort_type = mapi_rd_u32(r);
	s->container_id = mapi_rd_u32(r);
	s->cur_rec = mapi_rd_u32(r);
	s->delta = (int32_t)mapi_rd_u32(r);
	s->num_pos = mapi_rd_u32(r);
	s->total_recs = mapi_rd_u32(r);
	s->code_page = mapi_rd_u32(r);
	s->template_locale = mapi_rd_u32(r);
	s->sort_locale = mapi_rd_u32(r);
}

void nspi_stat_write(GByteArray *b, const struct nspi_stat *s)
{
	mapi_wr_u32(b, s->sort_type);
	mapi_wr_u32(b, s->container_id);
	mapi_wr_u32(b, s->cur_rec);
	mapi_wr_u32(b, (uint32_t)s->delta);
	mapi_wr_u32(b, s->num_pos);
	mapi_wr_u32(b, s->total_recs);
	mapi_wr_u32(b, s->code_page);
	mapi_wr_u32(b, s->template_locale);
	mapi_wr_u32(b, s->sort_locale);
}

/* A u32 count of 4-byte items, checked against the bytes left. */
static uint32_t *read_u32s(struct mapi_rd *r, uint32_t max, uint32_t *n_r)
{
	uint32_t n = mapi_rd_u32(r), i, *a;

	*n_r = 0;
	if (mapi_rd_error(r))
		return NULL;
	if (n > mapi_rd_left(r) / 4) {
		mapi_rd_fail(r, -EBADMSG);
		return NULL;
	}
	if (n > max) {
		mapi_rd_fail(r, -EPROTO);
		return NULL;
	}
	a = g_new(uint32_t, n ? n : 1);
	for (i = 0; i < n; i++)
		a[i] = mapi_rd_u32(r);
	*n_r = n;
	return a;
}

int nspi_tags_read(struct mapi_rd *r, struct nspi_tags *t)
{
	t->tags = read_u32s(r, NSPI_MAX_COLUMNS, &t->n);
	return mapi_rd_error(r);
}

void nspi_tags_write(GByteArray *b, const struct nspi_tags *t)
{
	uint32_t i;

	mapi_wr_u32(b, t->n);
	for (i = 0; i < t->n; i++)
		mapi_wr_u32(b, t->tags[i]);
}

void nspi_tags_clear(struct nspi_tags *t)
{
	g_free(t->tags);
	memset(t, 0, sizeof(*t));
}

int nspi_mids_read(struct mapi_rd *r, struct nspi_mids *m)
{
	m->mids = read_u32s(r, UINT32_MAX, &m->n);
	return mapi_rd_error(r);
}

void nspi_mids_write(GByteArray *b, const struct nspi_mids *m)
{
	uint32_t i;

	mapi_wr_u32(b, m->n);
	for (i = 0; i < m->n; i++)
		mapi_wr_u32(b, m->mids[i]);
}

void nspi_mids_clear(struct nspi_mids *m)
{
	g_free(m->mids);
	memset(m, 0, sizeof(*m));
}

char *nspi_wstr_read(struct mapi_rd *r)
{
	return mapi_rd_utf16z(r, mapi_rd_left(r));
}

void nspi_wstr_write(GByteArray *b, const char *s)
{
	/* a string that is not UTF-8 goes empty: the body stays sound */
	if (!s || mapi_wr_utf16z(b, s) < 0)
		mapi_wr_u16(b, 0);
}

int nspi_strs_read(struct mapi_rd *r, bool unicode, struct nspi_strs *s)
{
	uint32_t n = mapi_rd_u32(r), i;

	memset(s, 0, sizeof(*s));
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	/* each string takes its terminator at least */
	if (n > mapi_rd_left(r) / (unicode ? 2 : 1)) {
		mapi_rd_fail(r, -EBADMSG);
		return -EBADMSG;
	}
	s->s = g_new0(char *, n ? n : 1);
	for (i = 0; i < n; i++) {
		s->s[i] = unicode ? nspi_wstr_read(r)
				  : mapi_rd_str8(r, mapi_rd_left(r));
		if (!s->s[i]) {
			s->n = i;
			nspi_strs_clear(s);
			return mapi_rd_error(r);
		}
		s->n = i + 1;
	}
	return 0;
}

void nspi_strs_write(GByteArray *b, bool unicode, const struct nspi_strs *s)
{
	uint32_t i;

	mapi_wr_u32(b, s->n);
	for (i = 0; i < s->n; i++) {
		if (unicode)
			nspi_wstr_write(b, s->s[i]);
		else
			mapi_wr_str8z(b, s->s[i] ? s->s[i] : "");
	}
}

void nspi_strs_clear(struct nspi_strs *s)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		g_free(s->s[i]);
	g_free(s->s);
	memset(s, 0, sizeof(*s));
}

int nspi_bins_read(struct mapi_rd *r, struct nspi_bins *bins)
{
	uint32_t n = mapi_rd_u32(r), i, len;
	const uint8_t *p;

	memset(bins, 0, sizeof(*bins));
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (n > mapi_rd_left(r) / 4) {
		mapi_rd_fail(r, -EBADMSG);
		return -EBADMSG;
	}
	bins->b = g_new0(struct mapi_bin, n ? n : 1);
	for (i = 0; i < n; i++) {
		len = mapi_rd_u32(r);
		p = mapi_rd_bytes(r, len);
		if (!p) {
			nspi_bins_clear(bins);
			return mapi_rd_error(r);
		}
		bins->b[i].len = len;
		bins->b[i].data = len ? g_memdup2(p, len) : NULL;
		bins->n = i + 1;
	}
	return 0;
}

void nspi_bins_write(GByteArray *b, const struct nspi_bins *bins)
{
	uint32_t i;

	mapi_wr_u32(b, bins->n);
	for (i = 0; i < bins->n; i++) {
		mapi_wr_u32(b, bins->b[i].len);
		if (bins->b[i].len)
			mapi_wr_bytes(b, bins->b[i].data, bins->b[i].len);
	}
}

void nspi_bins_clear(struct nspi_bins *bins)
{
	uint32_t i;

	for (i = 0; i < bins->n; i++)
		g_free(bins->b[i].data);
	g_free(bins->b);
	memset(bins, 0, sizeof(*bins));
}

int nspi_entryid_parse(const void *p, size_t len, struct nspi_entryid *e)
{
	struct mapi_rd r;
	uint8_t reserved[3];
	uint32_t r4;
	int rc;

	memset(e, 0, sizeof(*e));
	mapi_rd_init(&r, p, len);
	e->type = mapi_rd_u8(&r);
	reserved[0] = mapi_rd_u8(&r);
	reserved[1] = mapi_rd_u8(&r);
	reserved[2] = mapi_rd_u8(&r);
	mapi_rd_guid(&r, e->provider);
	r4 = mapi_rd_u32(&r);
	e->display_type = mapi_rd_u32(&r);
	if (mapi_rd_error(&r))
		return mapi_rd_error(&r);
	/* R4 is the version, 1 (MS-OXNSPI 2.2.9.1-2) */
	if (reserved[0] || reserved[1] || reserved[2] || r4 != 1)
		return -EPROTO;
	if (e->type == NSPI_EID_EPHEMERAL)
		e->mid = mapi_rd_u32(&r);
	else if (e->type == NSPI_EID_PERMANENT)
		e->dn = mapi_rd_str8(&r, len);
	else
		return -EPROTO;
	rc = mapi_rd_error(&r);
	if (rc == 0 && mapi_rd_left(&r))
		rc = -EPROTO;
	if (rc < 0)
		nspi_entryid_clear(e);
	return rc;
}

void nspi_entryid_write(GByteArray *b, const struct nspi_entryid *e)
{
	mapi_wr_u8(b, e->type);
	mapi_wr_u8(b, 0);
	mapi_wr_u8(b, 0);
	mapi_wr_u8(b, 0);
	mapi_wr_guid(b, e->provider);
	mapi_wr_u32(b, 1);
	mapi_wr_u32(b, e->display_type);
	if (e->type == NSPI_EID_EPHEMERAL)
		mapi_wr_u32(b, e->mid);
	else
		mapi_wr_str8z(b, e->dn ? e->dn : "");
}

void nspi_entryid_clear(struct nspi_entryid *e)
{
	g_free(e->dn);
	memset(e, 0, sizeof(*e));
}

char *nspi_dn_rdn(const char *dn, unsigned from_end)
{
	const char *end, *start, *eq;

	if (!dn)
		return NULL;
	end = dn + strlen(dn);
	for (;;) {
		start = end;
		while (start > dn && start[-1] != '/')
			start--;
		if (start == dn)
			return NULL;	/* a DN starts with '/' */
		if (from_end-- == 0)
			break;
		end = start - 1;
	}
	eq = memchr(start, '=', (size_t)(end - start));
	if (!eq)
		return NULL;
	return g_strndup(eq + 1, (size_t)(end - eq - 1));
}

bool nspi_dn_equal(const char *a, const char *b)
{
	return a && b && g_ascii_strcasecmp(a, b) == 0;
}

static const char *const op_names[NSPI_OP_COUNT] = {
	[NSPI_OP_BIND] = "Bind",
	[NSPI_OP_UNBIND] = "Unbind",
	[NSPI_OP_COMPARE_MIDS] = "CompareMIds",
	[NSPI_OP_DN_TO_MID] = "DNToMId",
	[NSPI_OP_GET_MATCHES] = "GetMatches",
	[NSPI_OP_GET_PROP_LIST] = "GetPropList",
	[NSPI_OP_GET_PROPS] = "GetProps",
	[NSPI_OP_GET_SPECIAL_TABLE] = "GetSpecialTable",
	[NSPI_OP_GET_TEMPLATE_INFO] = "GetTemplateInfo",
	[NSPI_OP_MOD_LINK_ATT] = "ModLinkAtt",
	[NSPI_OP_MOD_PROPS] = "ModProps",
	[NSPI_OP_QUERY_COLUMNS] = "QueryColumns",
	[NSPI_OP_QUERY_ROWS] = "QueryRows",
	[NSPI_OP_RESOLVE_NAMES] = "ResolveNames",
	[NSPI_OP_RESORT_RESTRICTION] = "ResortRestriction",
	[NSPI_OP_SEEK_ENTRIES] = "SeekEntries",
	[NSPI_OP_UPDATE_STAT] = "UpdateStat",
	[NSPI_OP_GET_MAILBOX_URL] = "GetMailboxUrl",
	[NSPI_OP_GET_ADDRESS_BOOK_URL] = "GetAddressBookUrl",
};

int nspi_op_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < NSPI_OP_COUNT; i++)
		if (strcmp(op_names[i], name) == 0)
			return i;
	return -1;
}

const char *nspi_op_name(enum nspi_op op)
{
	return (unsigned)op < NSPI_OP_COUNT ? op_names[op] : NULL;
}

void nspi_aux_read(struct mapi_rd *r, struct mapi_bin *aux)
{
	uint32_t n = mapi_rd_u32(r);
	const uint8_t *p = mapi_rd_bytes(r, n);

	memset(aux, 0, sizeof(*aux));
	if (p && n) {
		aux->len = n;
		aux->data = g_memdup2(p, n);
	}
}

void nspi_aux_write(GByteArray *b, const struct mapi_bin *aux)
{
	mapi_wr_u32(b, aux->len);
	if (aux->len)
		mapi_wr_bytes(b, aux->data, aux->len);
}

int nspi_head_read(struct mapi_rd *r, struct nspi_resp_head *h,
		   struct mapi_bin *aux)
{
	h->status = mapi_rd_u32(r);
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	if (h->status != 0) {
		h->error = 0;
		nspi_aux_read(r, aux);
		return mapi_rd_error(r) ? mapi_rd_error(r) : 1;
	}
	h->error = mapi_rd_u32(r);
	return mapi_rd_error(r);
}

bool nspi_head_write(GByteArray *b, const struct nspi_resp_head *h,
		     const struct mapi_bin *aux)
{
	mapi_wr_u32(b, h->status);
	if (h->status != 0) {
		nspi_aux_write(b, aux);
		return true;
	}
	mapi_wr_u32(b, h->error);
	return false;
}

int nspi_body_end(struct mapi_rd *r)
{
	if (mapi_rd_error(r))
		return mapi_rd_error(r);
	return mapi_rd_left(r) ? -EPROTO : 0;
}

void nspi_opt_stat_read(struct mapi_rd *r, uint8_t *has,
			struct nspi_stat *s)
{
	*has = mapi_rd_u8(r);
	if (*has && !mapi_rd_error(r))
		nspi_stat_read(r, s);
}

void nspi_opt_stat_write(GByteArray *b, uint8_t has,
			 const struct nspi_stat *s)
{
	mapi_wr_u8(b, has);
	if (has)
		nspi_stat_write(b, s);
}

void nspi_opt_tags_read(struct mapi_rd *r, uint8_t *has,
			struct nspi_tags *t)
{
	*has = mapi_rd_u8(r);
	if (*has && !mapi_rd_error(r))
		nspi_tags_read(r, t);
}

void nspi_opt_tags_write(GByteArray *b, uint8_t has,
			 const struct nspi_tags *t)
{
	mapi_wr_u8(b, has);
	if (has)
		nspi_tags_write(b, t);
}

void nspi_opt_mids_read(struct mapi_rd *r, uint8_t *has,
			struct nspi_mids *m)
{
	*has = mapi_rd_u8(r);
	if (*has && !mapi_rd_error(r))
		nspi_mids_read(r, m);
}

void nspi_opt_mids_write(GByteArray *b, uint8_t has,
			 const struct nspi_mids *m)
{
	mapi_wr_u8(b, has);
	if (has)
		nspi_mids_write(b, m);
}

void nspi_opt_rowset_read(struct mapi_rd *r, uint8_t *has,
			  struct nspi_rowset *rs)
{
	*has = mapi_rd_u8(r);
	if (*has && !mapi_rd_error(r))
		nspi_rowset_read(r, rs);
}

void nspi_opt_rowset_write(GByteArray *b, uint8_t has,
			   const struct nspi_rowset *rs)
{
	mapi_wr_u8(b, has);
	if (has)
		nspi_rowset_write(b, rs);
}

void nspi_opt_vals_read(struct mapi_rd *r, uint8_t *has,
			struct nspi_vals *l)
{
	*has = mapi_rd_u8(r);
	if (*has && !mapi_rd_error(r))
		nspi_vals_read(r, l);
}

void nspi_opt_vals_write(GByteArray *b, uint8_t has,
			 const struct nspi_vals *l)
{
	mapi_wr_u8(b, has);
	if (has)
		nspi_vals_write(b, l);
}
