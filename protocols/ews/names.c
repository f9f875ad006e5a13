/*
 * names.c - the file names of contacts and events: what a person would
 * look for (the card's name, the event's date and summary), unique in
 * their folder and the same on every mount of the same items.
 *
 * Specs: RFC 6350 6.2.1 (FN), 6.2.2 (N), 6.6.4 (ORG); RFC 5545 3.8.2.4
 * (DTSTART), 3.8.1.12 (SUMMARY).
 *
 * A name is a function of the item (its base) and of the other items of
 * the folder sharing that base (their ItemIds decide who gets " (2)"), so
 * a remount or a wiped cache shows the same names, and a contact renamed
 * on the server is renamed on the mount.
 */
#include "event.h"

#include <string.h>

#include "name-escape.h"
#include "wire/vcard.h"

/* `text` as one line of at most EWSC_NAME_MAX bytes fit for a file
 * name; `fallback` when nothing is left of it. */
static char *clean(const char *text, const char *fallback)
{
	g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
	g_autoptr(GString) line = g_string_new(NULL);
	bool space = false;

	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c < 0x20 || c == 0x7f || g_unichar_isspace(c)) {
			space = line->len > 0;
			continue;
		}
		if (space)
			g_string_append_c(line, ' ');
		space = false;
		g_string_append_unichar(line, c);
	}
	if (line->len == 0)
		g_string_assign(line, fallback);
	/* NAME_CTX_TOP: a leading '.' is escaped as well, so that no card
	 * becomes a hidden file */
	g_autofree char *esc = name_escape(line->str, NAME_CTX_TOP);
	size_t keep = 0;
	for (size_t at = 0; esc[at];) {
		size_t step = esc[at] == '%' && g_ascii_isxdigit(esc[at + 1]) &&
			      g_ascii_isxdigit(esc[at + 2])
			? 3 : (size_t)(g_utf8_next_char(esc + at) - (esc + at));
		if (at + step > EWSC_NAME_MAX)
			break;
		at += step;
		keep = at;
	}
	while (keep > 0 && esc[keep - 1] == ' ')
		keep--;
	return g_strndup(esc, keep);
}

char *ewsc_name_of_card(const char *buf, size_t len)
{
	struct vcard *card = NULL;
	const char *want[] = { "FN", "N", "ORG", "EMAIL" };
	g_autofree char *found = NULL;

	if (vcard_parse(buf, len, &card) < 0)
		return clean(NULL, "Contact");
	for (size_t w = 0; w < G_N_ELEMENTS(want) && !found; w++) {
		for (guint i = 0; i < card->props->len && !found; i++) {
			const struct vcard_prop *p = card->props->pdata[i];
			if (strcmp(p->name, want[w]))
				continue;
			g_auto(GStrv) parts = vcard_split(p->value);
			if (w == 1 && parts[1]) {
				/* N: family; given; ... */
				found = g_strjoin(" ", parts[1], parts[0],
						  NULL);
			} else {
				found = g_strdup(parts[0]);
			}
			g_strstrip(found);
			if (!*found)
				g_clear_pointer(&found, g_free);
		}
	}
	vcard_free(&card);
	return clean(found, "Contact");
}

char *ewsc_name_of_event(const char *buf, size_t len)
{
	struct vcard_event ev;
	g_autofree char *date = NULL;
	g_autofree char *text = NULL;

	if (vcard_event_read(buf, len, &ev) < 0)
		return clean(NULL, "Event");
	if (ev.start)
		date = g_date_time_format(ev.start, "%Y-%m-%d");
	if (date && ev.summary && *ev.summary)
		text = g_strconcat(date, " ", ev.summary, NULL);
	else if (date)
		text = g_strconcat(date, " Event", NULL);
	else
		text = g_strdup(ev.summary);
	vcard_event_clear(&ev);
	return clean(text, "Event");
}

static int by_base_then_id(const void *a, const void *b)
{
	const struct ewsc_named *x = *(struct ewsc_named *const *)a;
	const struct ewsc_named *y = *(struct ewsc_named *const *)b;
	int c = strcmp(x->base, y->base);

	return c ? c : strcmp(x->item_id, y->item_id);
}

void ewsc_names_assign(struct ewsc_named *items, size_t n,
		       const char *suffix)
{
	g_autoptr(GHashTable) taken = g_hash_table_new_full(g_str_hash,
							     g_str_equal,
							     g_free, NULL);
	g_autofree struct ewsc_named **order = g_new(struct ewsc_named *,
						     n + 1);

	for (size_t i = 0; i < n; i++)
		order[i] = &items[i];
	qsort(order, n, sizeof(*order), by_base_then_id);
	/* the first of each base has it: no other item's suffix takes it */
	for (size_t i = 0; i < n; i++) {
		order[i]->name = NULL;
		if (i == 0 || strcmp(order[i - 1]->base, order[i]->base)) {
			order[i]->name = g_strconcat(order[i]->base, suffix,
						     NULL);
			g_hash_table_add(taken, g_strdup(order[i]->name));
		}
	}
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 2; !order[i]->name; k++) {
			char *name = g_strdup_printf("%s (%u)%s",
						     order[i]->base, k,
						     suffix);
			if (g_hash_table_contains(taken, name)) {
				g_free(name);
				continue;
			}
			g_hash_table_add(taken, g_strdup(name));
			order[i]->name = name;
		}
	}
}

int ewsc_card_uid(char **card, size_t *len, const char *seed)
{
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							     seed, -1);
	g_autofree char *uid = g_strdup_printf("%.8s-%.4s-%.4s-%.4s-%.12s",
					       sum, sum + 8, sum + 12,
					       sum + 16, sum + 20);
	struct vcard *c = NULL;
	char *out = NULL;
	size_t n = 0;
	int rc = vcard_parse(*card, *len, &c);

	if (rc < 0)
		return rc;
	for (guint i = 0; i < c->props->len; i++) {
		struct vcard_prop *p = c->props->pdata[i];
		if (!strcmp(p->name, "UID"))
			vcard_prop_set_value(p, uid);
	}
	rc = vcard_write(c, &out, &n);
	vcard_free(&c);
	if (rc < 0)
		return rc;
	g_free(*card);
	*card = out;
	*len = n;
	return 0;
}
