/*
 * ids.c - the mount's item ids and EWS ItemIds.
 *
 * An ItemId is long base64 ([MS-OXWSCORE] 2.2.4.25: opaque, stable while
 * the item stays in its folder), so its '/' cannot be in a file name.  The
 * id is written byte for byte with '+' as '-' and '/' as '_' (base64url's
 * letters); any other byte but [A-Za-z0-9=] and a '.' that is not first
 * is "%XX".  That is a function of the ItemId alone, so a wiped cache
 * names the same item the same way again, and it is undone without a
 * table.  An id longer than EWS_ID_MAX (a file name must keep room for
 * ":2,<flags>") is instead "~" and the SHA-256 of the ItemId, which the
 * folder's item table (table.c) leads back from; '~' is never
 * written by the first form, so the two cannot meet.
 */
#include "ewsc-private.h"

#include <errno.h>
#include <string.h>

#define EWS_ID_MAX 200

static bool kept(unsigned char c, size_t at)
{
	return g_ascii_isalnum(c) || c == '=' || (c == '.' && at > 0);
}

char *ewsc_id_from_item(const char *item_id)
{
	GString *out = g_string_sized_new(strlen(item_id) + 8);

	for (size_t i = 0; item_id[i]; i++) {
		unsigned char c = (unsigned char)item_id[i];
		if (c == '+')
			g_string_append_c(out, '-');
		else if (c == '/')
			g_string_append_c(out, '_');
		else if (kept(c, i))
			g_string_append_c(out, (char)c);
		else
			g_string_append_printf(out, "%%%02X", c);
	}
	if (out->len == 0 || out->len > EWS_ID_MAX) {
		g_autofree char *sum = g_compute_checksum_for_string(
			G_CHECKSUM_SHA256, item_id, -1);
		g_string_free(out, TRUE);
		return g_strconcat("~", sum, NULL);
	}
	return g_string_free(out, FALSE);
}

/* Undo the first form.  Returns 0 or -EINVAL. */
static int decode(const char *id, char **item_id_r)
{
	GString *out = g_string_sized_new(strlen(id));

	for (size_t i = 0; id[i]; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c == '-') {
			g_string_append_c(out, '+');
		} else if (c == '_') {
			g_string_append_c(out, '/');
		} else if (c == '%' && g_ascii_isxdigit(id[i + 1]) &&
			   g_ascii_isxdigit(id[i + 2])) {
			int v = g_ascii_xdigit_value(id[i + 1]) * 16 +
				g_ascii_xdigit_value(id[i + 2]);
			if (v == 0)
				break;
			g_string_append_c(out, (char)v);
			i += 2;
		} else if (kept(c, i)) {
			g_string_append_c(out, (char)c);
		} else {
			break;
		}
		if (!id[i + 1]) {
			*item_id_r = g_string_free(out, FALSE);
			return 0;
		}
	}
	g_string_free(out, TRUE);
	return -EINVAL;
}

int ewsc_item_from_id(struct mfs_backend *be, const char *folder,
		     const char *id, char **item_id_r)
{
	/* a contact's or event's name (pim.h) is known by the table only */
	bool named = g_str_has_suffix(id, ".vcf") ||
		     g_str_has_suffix(id, ".ics");

	if (id[0] != '~' && !named)
		return decode(id, item_id_r) < 0 ? -ENOENT : 0;
	g_mutex_lock(&be->lock);
	struct ewsc_table *t = named ? ewsc_table_get(be, folder, NULL)
				     : g_hash_table_lookup(be->tables, folder);
	struct ewsc_known *k = t ? g_hash_table_lookup(t->items, id) : NULL;
	*item_id_r = k ? g_strdup(k->item_id) : NULL;
	g_mutex_unlock(&be->lock);
	return k ? 0 : -ENOENT;
}
