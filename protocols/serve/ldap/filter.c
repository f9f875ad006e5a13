/*
 * filter.c - the search filter of the embedded LDAP server: decoded from
 * BER with liblber, evaluated against one entry.
 *
 * Specs: RFC 4511 4.5.1.7 (Filter: and, or, not, equalityMatch,
 * substrings, greaterOrEqual, lessOrEqual, present, approxMatch,
 * extensibleMatch; True, False and Undefined), RFC 4526 (the empty and
 * and or: absolute True and False), RFC 4517 (caseIgnoreMatch,
 * caseIgnoreSubstringsMatch, telephoneNumberMatch: ldap-card.h's
 * ldap_card_value_key).
 *
 * approxMatch is taken as equality; extensibleMatch, which names
 * matching rules this server does not have, is Undefined.
 */
#include "ldapd-private.h"

#include <errno.h>
#include <string.h>

static void filter_free(gpointer p)
{
	struct ldapd_filter *f = p;

	ldapd_filter_free(&f);
}

void ldapd_filter_free(struct ldapd_filter **fp)
{
	struct ldapd_filter *f = *fp;

	if (!f)
		return;
	g_free(f->attr);
	if (f->value)
		g_bytes_unref(f->value);
	if (f->initial)
		g_bytes_unref(f->initial);
	if (f->final)
		g_bytes_unref(f->final);
	if (f->any)
		g_ptr_array_unref(f->any);
	if (f->children)
		g_ptr_array_unref(f->children);
	g_free(f);
	*fp = NULL;
}

static GBytes *bytes_of(const struct berval *bv)
{
	return g_bytes_new(bv->bv_val, bv->bv_len);
}

static char *text_of(const struct berval *bv)
{
	return g_strndup(bv->bv_val, bv->bv_len);
}

struct decoder {
	BerElement *ber;	/* borrowed */
	unsigned nodes;
};

static int decode(struct decoder *d, unsigned depth,
		  struct ldapd_filter **f_r);

/* The filters of an and, an or (a SET OF) or a not (one). */
static int decode_children(struct decoder *d, unsigned depth,
			   struct ldapd_filter *f)
{
	ber_len_t len;
	char *last;
	int rc;

	f->children = g_ptr_array_new_with_free_func(filter_free);
	if (f->kind == LDAPD_F_NOT) {
		struct ldapd_filter *child = NULL;
		if (ber_skip_tag(d->ber, &len) == LBER_ERROR)
			return -EPROTO;
		if ((rc = decode(d, depth + 1, &child)) < 0)
			return rc;
		g_ptr_array_add(f->children, child);
		return 0;
	}
	for (ber_tag_t t = ber_first_element(d->ber, &len, &last);
	     t != LBER_DEFAULT; t = ber_next_element(d->ber, &len, last)) {
		struct ldapd_filter *child = NULL;
		if ((rc = decode(d, depth + 1, &child)) < 0)
			return rc;
		g_ptr_array_add(f->children, child);
	}
	return 0;
}

static int decode_substrings(struct decoder *d, struct ldapd_filter *f)
{
	struct berval attr, v;
	ber_len_t len;
	char *last;

	if (ber_scanf(d->ber, "{m" /*}*/, &attr) == LBER_ERROR)
		return -EPROTO;
	f->attr = text_of(&attr);
	f->any = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_bytes_unref);
	for (ber_tag_t t = ber_first_element(d->ber, &len, &last);
	     t != LBER_DEFAULT; t = ber_next_element(d->ber, &len, last)) {
		if (++d->nodes > LDAPD_FILTER_NODES)
			return -E2BIG;
		if (ber_scanf(d->ber, "m", &v) == LBER_ERROR)
			return -EPROTO;
		if (t == LDAP_SUBSTRING_INITIAL && !f->initial &&
		    !f->any->len && !f->final)
			f->initial = bytes_of(&v);
		else if (t == LDAP_SUBSTRING_ANY && !f->final)
			g_ptr_array_add(f->any, bytes_of(&v));
		else if (t == LDAP_SUBSTRING_FINAL && !f->final)
			f->final = bytes_of(&v);
		else
			return -EPROTO;
	}
	if (!f->initial && !f->any->len && !f->final)
		return -EPROTO;
	if (ber_scanf(d->ber, /*{*/ "}") == LBER_ERROR)
		return -EPROTO;
	return 0;
}

static int decode(struct decoder *d, unsigned depth,
		  struct ldapd_filter **f_r)
{
	struct ldapd_filter *f;
	struct berval attr, value;
	ber_len_t len;
	ber_tag_t tag = ber_peek_tag(d->ber, &len);
	int rc = 0;

	if (tag == LBER_ERROR)
		return -EPROTO;
	if (depth > LDAPD_FILTER_DEPTH || ++d->nodes > LDAPD_FILTER_NODES)
		return -E2BIG;
	f = g_new0(struct ldapd_filter, 1);
	switch (tag) {
	case LDAP_FILTER_AND:
	case LDAP_FILTER_OR:
	case LDAP_FILTER_NOT:
		f->kind = tag == LDAP_FILTER_AND ? LDAPD_F_AND
			: tag == LDAP_FILTER_OR ? LDAPD_F_OR : LDAPD_F_NOT;
		rc = decode_children(d, depth, f);
		break;
	case LDAP_FILTER_EQUALITY:
	case LDAP_FILTER_GE:
	case LDAP_FILTER_LE:
	case LDAP_FILTER_APPROX:
		f->kind = tag == LDAP_FILTER_EQUALITY ? LDAPD_F_EQ
			: tag == LDAP_FILTER_GE ? LDAPD_F_GE
			: tag == LDAP_FILTER_LE ? LDAPD_F_LE : LDAPD_F_APPROX;
		if (ber_scanf(d->ber, "{mm}", &attr, &value) == LBER_ERROR) {
			rc = -EPROTO;
			break;
		}
		f->attr = text_of(&attr);
		f->value = bytes_of(&value);
		break;
	case LDAP_FILTER_SUBSTRINGS:
		f->kind = LDAPD_F_SUB;
		rc = decode_substrings(d, f);
		break;
	case LDAP_FILTER_PRESENT:
		f->kind = LDAPD_F_PRESENT;
		if (ber_scanf(d->ber, "m", &attr) == LBER_ERROR) {
			rc = -EPROTO;
			break;
		}
		f->attr = text_of(&attr);
		break;
	case LDAP_FILTER_EXT:
		f->kind = LDAPD_F_EXT;
		if (ber_skip_element(d->ber, &value) == LBER_ERROR)
			rc = -EPROTO;
		break;
	default:
		rc = -EPROTO;
	}
	if (rc < 0) {
		ldapd_filter_free(&f);
		return rc;
	}
	*f_r = f;
	return 0;
}

int ldapd_filter_decode(BerElement *ber, struct ldapd_filter **filter_r)
{
	struct decoder d = { .ber = ber };

	return decode(&d, 0, filter_r);
}

/* The key of an assertion's value under `name`'s matching rule. */
static char *key_of(const char *name, GBytes *b, size_t *len_r)
{
	gsize n;
	const void *v = g_bytes_get_data(b, &n);

	return ldap_card_value_key(name, v, n, len_r);
}

static bool substrings_match(const struct ldapd_filter *f, const char *name,
			     const char *key, size_t klen)
{
	const char *p = key, *end = key + klen;
	size_t n;

	if (f->initial) {
		g_autofree char *k = key_of(name, f->initial, &n);
		if (n > klen || memcmp(p, k, n))
			return false;
		p += n;
	}
	for (guint i = 0; i < f->any->len; i++) {
		g_autofree char *k = key_of(name, f->any->pdata[i], &n);
		const char *at = n ? memmem(p, (size_t)(end - p), k, n) : p;
		if (!at)
			return false;
		p = at + n;
	}
	if (f->final) {
		g_autofree char *k = key_of(name, f->final, &n);
		if (n > (size_t)(end - p) || memcmp(end - n, k, n))
			return false;
	}
	return true;
}

/* One value of the entry against a comparison filter. */
static bool value_matches(const struct ldapd_filter *f, const char *name,
			  GBytes *value)
{
	gsize n;
	const void *v = g_bytes_get_data(value, &n);
	size_t klen;
	g_autofree char *key = ldap_card_value_key(name, v, n, &klen);

	if (f->kind == LDAPD_F_SUB)
		return substrings_match(f, name, key, klen);
	size_t alen;
	g_autofree char *akey = key_of(name, f->value, &alen);
	int cmp = memcmp(key, akey, MIN(klen, alen));
	if (!cmp)
		cmp = klen < alen ? -1 : klen > alen;
	switch (f->kind) {
	case LDAPD_F_GE:
		return cmp >= 0;
	case LDAPD_F_LE:
		return cmp <= 0;
	default:
		return cmp == 0;
	}
}

static enum ldapd_tri eval_leaf(const struct ldapd_filter *f,
				const struct ldap_card *card)
{
	const char *name = ldap_card_attr_name(f->attr);
	const struct ldap_card_attr *a;

	if (!name)
		return LDAPD_UNDEFINED;
	a = ldap_card_get(card, f->attr);
	if (f->kind == LDAPD_F_PRESENT)
		return a ? LDAPD_TRUE : LDAPD_FALSE;
	/* jpegPhoto has equality only (octetStringMatch) */
	if (ldap_card_attr_binary(name) && f->kind != LDAPD_F_EQ)
		return LDAPD_UNDEFINED;
	for (guint i = 0; a && i < a->values->len; i++)
		if (value_matches(f, name, a->values->pdata[i]))
			return LDAPD_TRUE;
	return LDAPD_FALSE;
}

enum ldapd_tri ldapd_filter_eval(const struct ldapd_filter *f,
				 const struct ldap_card *card)
{
	enum ldapd_tri r;
	bool undefined = false;

	switch (f->kind) {
	case LDAPD_F_AND:
	case LDAPD_F_OR:
		for (guint i = 0; i < f->children->len; i++) {
			r = ldapd_filter_eval(f->children->pdata[i], card);
			if (r == LDAPD_UNDEFINED)
				undefined = true;
			else if ((r == LDAPD_TRUE) == (f->kind == LDAPD_F_OR))
				return r;
		}
		if (undefined)
			return LDAPD_UNDEFINED;
		return f->kind == LDAPD_F_AND ? LDAPD_TRUE : LDAPD_FALSE;
	case LDAPD_F_NOT:
		r = ldapd_filter_eval(f->children->pdata[0], card);
		return r == LDAPD_UNDEFINED ? r
			: r == LDAPD_TRUE ? LDAPD_FALSE : LDAPD_TRUE;
	case LDAPD_F_EXT:
		return LDAPD_UNDEFINED;
	default:
		return eval_leaf(f, card);
	}
}
