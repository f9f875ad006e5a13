/*
 * args.c - what the IMAP server makes of command arguments:
 * sequence sets (RFC 3501 section 9, "sequence-set"), mailbox names
 * (section 5.1: modified UTF-7, "/" between levels; a name that would
 * leave the store is refused), system flags and keywords (section 2.3.2).
 * Pure functions: no I/O, no session.
 */
#include "args.h"

#include <errno.h>
#include <string.h>

#include "backend.h"
#include "maildir-name.h"
#include "mutf7.h"

static int range_order(gconstpointer a, gconstpointer b)
{
	const uint32_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static bool set_number(const char *s, size_t len, uint32_t star, uint32_t *n)
{
	uint64_t v = 0;

	if (len == 1 && s[0] == '*') {
		*n = star;
		return true;
	}
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return false;
	*n = (uint32_t)v;
	return true;
}

int imapd_seqset_parse(const char *s, uint32_t star, GArray **ranges_r)
{
	GArray *r = g_array_new(FALSE, FALSE, 2 * sizeof(uint32_t));
	const char *p = s;

	if (!s || !*s)
		goto bad;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		uint32_t pair[2];
		if (colon) {
			if (!set_number(p, (size_t)(colon - p), star, &pair[0]) ||
			    !set_number(colon + 1, len - (size_t)(colon - p) - 1,
					star, &pair[1]))
				goto bad;
		} else {
			if (!set_number(p, len, star, &pair[0]))
				goto bad;
			pair[1] = pair[0];
		}
		if (pair[0] > pair[1]) {
			uint32_t t = pair[0];
			pair[0] = pair[1];
			pair[1] = t;
		}
		g_array_append_val(r, pair);
		p += len;
		if (*p == ',' && !*++p)
			goto bad;
	}
	/* sorted and merged, for a binary search */
	g_array_sort(r, range_order);
	guint out = 0;
	for (guint i = 0; i < r->len; i++) {
		uint32_t *cur = &g_array_index(r, uint32_t, 2 * i);
		uint32_t *last = out ? &g_array_index(r, uint32_t, 2 * (out - 1))
				     : NULL;
		if (last && (uint64_t)cur[0] <= (uint64_t)last[1] + 1) {
			if (cur[1] > last[1])
				last[1] = cur[1];
			continue;
		}
		memmove(&g_array_index(r, uint32_t, 2 * out), cur,
			2 * sizeof(uint32_t));
		out++;
	}
	g_array_set_size(r, out);
	*ranges_r = r;
	return 0;
bad:
	g_array_unref(r);
	return -EINVAL;
}

bool imapd_seqset_has(const GArray *ranges, uint32_t n)
{
	guint lo = 0, hi = ranges->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		const uint32_t *pr = &g_array_index(ranges, uint32_t, 2 * mid);
		if (n < pr[0])
			hi = mid;
		else if (n > pr[1])
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

char *imapd_mailbox_path(const char *name)
{
	g_autofree char *utf8 = NULL;
	size_t len;

	if (!name || !*name)
		return NULL;
	if (!g_ascii_strncasecmp(name, "INBOX", 5) &&
	    (name[5] == '\0' || name[5] == '/')) {
		g_autofree char *rest = NULL;
		if (name[5] == '\0')
			return g_strdup("INBOX");
		if (mutf7_decode(name + 5, &rest) < 0)
			return NULL;
		utf8 = g_strconcat("INBOX", rest, NULL);
	} else if (mutf7_decode(name, &utf8) < 0) {
		return NULL;
	}
	len = strlen(utf8);
	if (len > 0 && utf8[len - 1] == '/')
		utf8[--len] = '\0';
	if (len == 0 || len > 1024 || utf8[0] == '/')
		return NULL;
	g_auto(GStrv) parts = g_strsplit(utf8, "/", -1);
	for (int i = 0; parts[i]; i++) {
		if (!*parts[i] || parts[i][0] == '.' || strlen(parts[i]) > 255)
			return NULL;
		for (const char *p = parts[i]; *p; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return NULL;
		}
	}
	return g_steal_pointer(&utf8);
}

char *imapd_mailbox_name(const char *path)
{
	char *out = NULL;

	if (mutf7_encode(path, &out) < 0)
		return g_strdup(path);
	return out;
}

int imapd_flags_parse(const struct imap_arg *a, uint64_t *flags_r,
		      GPtrArray *keywords)
{
	static const struct {
		const char *name;
		uint64_t bit;
	} names[] = {
		{ "\\Seen", MFS_FLAG_SEEN }, { "\\Answered", MFS_FLAG_REPLIED },
		{ "\\Flagged", MFS_FLAG_FLAGGED },
		{ "\\Deleted", MFS_FLAG_TRASHED }, { "\\Draft", MFS_FLAG_DRAFT },
	};
	GPtrArray *list = imap_arg_list(a);

	if (list) {
		for (guint i = 0; i < list->len; i++) {
			if (imapd_flags_parse(list->pdata[i], flags_r,
					      keywords) < 0)
				return -EINVAL;
		}
		return 0;
	}
	if (!a || a->type != IMAP_ARG_ATOM)
		return -EINVAL;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!g_ascii_strcasecmp(a->str, names[i].name)) {
			*flags_r |= names[i].bit;
			return 0;
		}
	}
	if (!g_ascii_strcasecmp(a->str, "\\Recent"))
		return 0;	/* not stored: the server decides it */
	if (!maildir_keyword_valid(a->str))
		return -EINVAL;
	g_ptr_array_add(keywords, a->str);
	return 0;
}
