/*
 * mapi-prop.c - see mapi-prop.h.  MS-OXCDATA 2.11.1 (types), 2.11.1.1
 * (multi-valued), MS-DTYP 2.3.3 (FILETIME).
 */
#include "mapi-prop.h"

#include <string.h>

#include <glib.h>

bool mapi_ptype_known(uint16_t type)
{
	switch (type) {
	case MAPI_PT_UNSPECIFIED: case MAPI_PT_NULL: case MAPI_PT_I2:
	case MAPI_PT_LONG: case MAPI_PT_FLOAT: case MAPI_PT_DOUBLE:
	case MAPI_PT_CURRENCY: case MAPI_PT_APPTIME: case MAPI_PT_ERROR:
	case MAPI_PT_BOOLEAN: case MAPI_PT_OBJECT: case MAPI_PT_I8:
	case MAPI_PT_STRING8: case MAPI_PT_UNICODE: case MAPI_PT_SYSTIME:
	case MAPI_PT_CLSID: case MAPI_PT_SVREID: case MAPI_PT_BINARY:
		return true;
	default:
		return false;
	}
}

static bool is_string(uint16_t type)
{
	return type == MAPI_PT_STRING8 || type == MAPI_PT_UNICODE;
}

static bool is_binary(uint16_t type)
{
	return type == MAPI_PT_BINARY || type == MAPI_PT_SVREID ||
	       type == MAPI_PT_OBJECT;
}

void mapi_value_clear(struct mapi_value *v)
{
	uint16_t type = MAPI_TAG_TYPE(v->tag);
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;
	uint32_t i;

	if (type & MAPI_PT_MV) {
		if (is_string(one))
			for (i = 0; i < v->v.mv.count; i++)
				g_free(v->v.mv.a.str[i]);
		else if (is_binary(one))
			for (i = 0; i < v->v.mv.count; i++)
				g_free(v->v.mv.a.bin[i].data);
		g_free(v->v.mv.a.str);
	} else if (is_string(type)) {
		g_free(v->v.str);
	} else if (is_binary(type)) {
		g_free(v->v.bin.data);
	}
	memset(v, 0, sizeof(*v));
	v->tag = MAPI_TAG(0, MAPI_PT_NULL);
}

/* Size of one element of a multi-valued array of `one`, or 0. */
static size_t mv_elem_size(uint16_t one)
{
	switch (one) {
	case MAPI_PT_I2: return sizeof(int16_t);
	case MAPI_PT_LONG: return sizeof(int32_t);
	case MAPI_PT_FLOAT: return sizeof(float);
	case MAPI_PT_DOUBLE: case MAPI_PT_APPTIME: return sizeof(double);
	case MAPI_PT_CURRENCY: case MAPI_PT_I8: return sizeof(int64_t);
	case MAPI_PT_SYSTIME: return sizeof(uint64_t);
	case MAPI_PT_CLSID: return 16;
	case MAPI_PT_STRING8: case MAPI_PT_UNICODE: return sizeof(char *);
	case MAPI_PT_BINARY: case MAPI_PT_SVREID: case MAPI_PT_OBJECT:
		return sizeof(struct mapi_bin);
	default: return 0;
	}
}

static void bin_copy(struct mapi_bin *dst, const struct mapi_bin *src)
{
	dst->len = src->len;
	dst->data = src->len ? g_memdup2(src->data, src->len) : NULL;
}

void mapi_value_copy(struct mapi_value *dst, const struct mapi_value *src)
{
	uint16_t type = MAPI_TAG_TYPE(src->tag);
	uint16_t one = type & (uint16_t)~MAPI_PT_MV;
	uint32_t i, n;

	*dst = *src;
	if (type & MAPI_PT_MV) {
		n = src->v.mv.count;
		dst->v.mv.a.str = n ? g_memdup2(src->v.mv.a.str,
						(gsize)n * mv_elem_size(one))
				    : NULL;
		if (is_string(one))
			for (i = 0; i < n; i++)
				dst->v.mv.a.str[i] =
					g_strdup(src->v.mv.a.str[i]);
		else if (is_binary(one))
			for (i = 0; i < n; i++)
				bin_copy(&dst->v.mv.a.bin[i],
					 &src->v.mv.a.bin[i]);
	} else if (is_string(type)) {
		dst->v.str = g_strdup(src->v.str);
	} else if (is_binary(type)) {
		bin_copy(&dst->v.bin, &src->v.bin);
	}
}

void mapi_props_clear(struct mapi_props *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		mapi_value_clear(&p->v[i]);
	g_free(p->v);
	memset(p, 0, sizeof(*p));
}

static struct mapi_value *find(const struct mapi_props *p, uint16_t id)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (MAPI_TAG_ID(p->v[i].tag) == id)
			return &p->v[i];
	return NULL;
}

const struct mapi_value *mapi_props_get(const struct mapi_props *p,
					uint16_t id)
{
	return find(p, id);
}

const struct mapi_value *mapi_props_get_tag(const struct mapi_props *p,
					    uint32_t tag)
{
	const struct mapi_value *v = find(p, MAPI_TAG_ID(tag));

	return v && v->tag == tag ? v : NULL;
}

void mapi_props_take(struct mapi_props *p, struct mapi_value *v)
{
	struct mapi_value *at = find(p, MAPI_TAG_ID(v->tag));

	if (at) {
		mapi_value_clear(at);
	} else {
		if (p->n == p->cap) {
			p->cap = p->cap ? 2 * p->cap : 8;
			p->v = g_renew(struct mapi_value, p->v, p->cap);
		}
		at = &p->v[p->n++];
	}
	*at = *v;
	memset(v, 0, sizeof(*v));
	v->tag = MAPI_TAG(0, MAPI_PT_NULL);
}

void mapi_props_remove(struct mapi_props *p, uint16_t id)
{
	struct mapi_value *at = find(p, id);

	if (!at)
		return;
	mapi_value_clear(at);
	*at = p->v[--p->n];
}

void mapi_props_set_l(struct mapi_props *p, uint32_t tag, int32_t l)
{
	struct mapi_value v = { .tag = MAPI_TAG_RETYPE(tag, MAPI_PT_LONG) };

	v.v.l = l;
	mapi_props_take(p, &v);
}

void mapi_props_set_b(struct mapi_props *p, uint32_t tag, bool b)
{
	struct mapi_value v = { .tag = MAPI_TAG_RETYPE(tag, MAPI_PT_BOOLEAN) };

	v.v.b = b;
	mapi_props_take(p, &v);
}

void mapi_props_set_i8(struct mapi_props *p, uint32_t tag, int64_t i8)
{
	struct mapi_value v = { .tag = MAPI_TAG_RETYPE(tag, MAPI_PT_I8) };

	v.v.i8 = i8;
	mapi_props_take(p, &v);
}

void mapi_props_set_ft(struct mapi_props *p, uint32_t tag, uint64_t ft)
{
	struct mapi_value v = { .tag = MAPI_TAG_RETYPE(tag, MAPI_PT_SYSTIME) };

	v.v.ft = ft;
	mapi_props_take(p, &v);
}

void mapi_props_set_str(struct mapi_props *p, uint32_t tag, const char *s)
{
	struct mapi_value v = { .tag = MAPI_TAG_RETYPE(tag, MAPI_PT_UNICODE) };

	v.v.str = g_strdup(s);
	mapi_props_take(p, &v);
}

void mapi_props_set_bin(struct mapi_props *p, uint32_t tag, const void *data,
			size_t len)
{
	struct mapi_value v = { .tag = tag };

	if (!is_binary(MAPI_TAG_TYPE(tag)))
		v.tag = MAPI_TAG_RETYPE(tag, MAPI_PT_BINARY);
	v.v.bin.len = (uint32_t)len;
	v.v.bin.data = len ? g_memdup2(data, len) : NULL;
	mapi_props_take(p, &v);
}

int32_t mapi_props_l(const struct mapi_props *p, uint16_t id, int32_t dflt)
{
	const struct mapi_value *v = find(p, id);

	return v && MAPI_TAG_TYPE(v->tag) == MAPI_PT_LONG ? v->v.l : dflt;
}

bool mapi_props_b(const struct mapi_props *p, uint16_t id, bool dflt)
{
	const struct mapi_value *v = find(p, id);

	return v && MAPI_TAG_TYPE(v->tag) == MAPI_PT_BOOLEAN ? v->v.b : dflt;
}

const char *mapi_props_str(const struct mapi_props *p, uint16_t id)
{
	const struct mapi_value *v = find(p, id);

	return v && MAPI_TAG_TYPE(v->tag) == MAPI_PT_UNICODE ? v->v.str : NULL;
}

/* Seconds from 1601-01-01 to 1970-01-01, MS-DTYP 2.3.3. */
#define FT_EPOCH_DIFF INT64_C(11644473600)
#define FT_PER_SEC 10000000

uint64_t mapi_ft_from_unix(int64_t secs)
{
	if (secs <= -FT_EPOCH_DIFF)
		return 0;
	if (secs > (int64_t)(UINT64_MAX / FT_PER_SEC) - FT_EPOCH_DIFF)
		return UINT64_MAX;
	return (uint64_t)(secs + FT_EPOCH_DIFF) * FT_PER_SEC;
}

int64_t mapi_ft_to_unix(uint64_t ft)
{
	return (int64_t)(ft / FT_PER_SEC) - FT_EPOCH_DIFF;
}

struct mapi_message *mapi_message_new(void)
{
	return g_new0(struct mapi_message, 1);
}

void mapi_message_free(struct mapi_message *m)
{
	size_t i;

	if (!m)
		return;
	mapi_props_clear(&m->props);
	for (i = 0; i < m->n_recips; i++)
		mapi_props_clear(&m->recips[i].props);
	g_free(m->recips);
	for (i = 0; i < m->n_attach; i++) {
		mapi_props_clear(&m->attach[i].props);
		mapi_message_free(m->attach[i].embedded);
	}
	g_free(m->attach);
	g_free(m);
}

/* Room for one more of n, doubling: a stream with thousands of
 * recipients costs no more than linear copying. */
static size_t grown(size_t n, size_t cap)
{
	return n < cap ? cap : cap ? 2 * cap : 4;
}

struct mapi_recipient *mapi_message_add_recip(struct mapi_message *m)
{
	size_t cap = grown(m->n_recips, m->cap_recips);

	if (cap != m->cap_recips) {
		m->recips = g_renew(struct mapi_recipient, m->recips, cap);
		m->cap_recips = cap;
	}
	memset(&m->recips[m->n_recips], 0, sizeof(m->recips[0]));
	return &m->recips[m->n_recips++];
}

struct mapi_attachment *mapi_message_add_attach(struct mapi_message *m)
{
	size_t cap = grown(m->n_attach, m->cap_attach);

	if (cap != m->cap_attach) {
		m->attach = g_renew(struct mapi_attachment, m->attach, cap);
		m->cap_attach = cap;
	}
	memset(&m->attach[m->n_attach], 0, sizeof(m->attach[0]));
	return &m->attach[m->n_attach++];
}
