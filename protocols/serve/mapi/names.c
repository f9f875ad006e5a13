/*
 * names.c - the named properties of the embedded MAPI server: one table
 * for the whole store that gives each name (a property set GUID and a
 * LID or a string) a property id from 0x8000, and the ROPs that ask it,
 * RopGetPropertyIdsFromNames and RopGetNamesFromPropertyIds.
 *
 * Specs: MS-OXCPRPT 2.2.12-13 and 3.2.5.9-10 (the ROPs: PS_MAPI names
 * stand for the ids below 0x8000, an id without a name is Kind 0xFF, a
 * name without an id is 0 and ecWarnWithErrors), MS-OXCROPS 2.2.8.1-2,
 * MS-OXCDATA 2.6.1 (PropertyName), MS-OXPROPS 1.3.2 (PS_MAPI).
 *
 * The ids are the store's, the same for every session and after a
 * restart: the server gives the names of mapi_pim_names_used() their ids
 * the first time it runs on a store, 0x8000 up in the order of that
 * table, and keeps every id given in STORE/.mailfs-serve/mapi-names, a
 * line each ("n ID GUID l LID" or "n ID GUID s NAME", hex, the string
 * g_strescape'd).  A name a later version of the codec uses takes the
 * next free id; a name a client asks for with the Create flag too, up to
 * MAPID_NAMES_MAX names in all.  An id once given never changes nor goes.
 *
 * Threads: one table per process, protected by `lock`.  Entries are
 * never freed, so the names handed out stay valid while the server runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wire/mapi-pim.h"
#include "wire/mapi-tags.h"
#include "wire/rop-names.h"
#include "mapid-private.h"

#define FIRST_ID	0x8000u
#define LAST_ID		0xFFFEu

/* PS_MAPI, {00020328-0000-0000-C000-000000000046}, as the wire has it. */
static const uint8_t ps_mapi[16] = {
	0x28, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
};

static GMutex lock;
static GPtrArray *by_id;	/* id - FIRST_ID -> struct mapi_fx_named *
				   (owned, never freed), NULL: a gap */
static GHashTable *by_key;	/* key() -> id */
static char *table_file;
static unsigned n_names;
static bool warned_full;

/* The key of a name in by_key (caller owns). */
static char *key(const struct mapi_fx_named *n)
{
	GString *s = g_string_sized_new(64);

	for (int i = 0; i < 16; i++)
		g_string_append_printf(s, "%02x", n->guid[i]);
	if (n->kind == MAPI_FX_NAME_LID)
		g_string_append_printf(s, " l %x", n->lid);
	else
		g_string_append_printf(s, " s %s", n->name ? n->name : "");
	return g_string_free(s, FALSE);
}

/* Lock held.  `n` is taken. */
static void remember(uint16_t id, struct mapi_fx_named *n)
{
	guint at = id - FIRST_ID;

	if (by_id->len <= at)
		g_ptr_array_set_size(by_id, at + 1);
	by_id->pdata[at] = n;
	g_hash_table_replace(by_key, key(n), GUINT_TO_POINTER(id));
	n_names++;
}

/* Lock held. */
static void append_line(uint16_t id, const struct mapi_fx_named *n)
{
	g_autofree char *k = NULL;
	g_autofree char *line = NULL;
	int fd;
	size_t len;

	if (n->kind == MAPI_FX_NAME_LID) {
		k = key(n);
	} else {
		g_autofree char *esc = g_strescape(n->name, NULL);
		GString *s = g_string_sized_new(64);
		for (int i = 0; i < 16; i++)
			g_string_append_printf(s, "%02x", n->guid[i]);
		g_string_append_printf(s, " s %s", esc);
		k = g_string_free(s, FALSE);
	}
	line = g_strdup_printf("n %x %s\n", id, k);
	len = strlen(line);
	fd = open(table_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, len) != (ssize_t)len)
		log_warnx("mapi: cannot save named property ids in %s",
			  table_file);
	if (fd >= 0)
		close(fd);
}

static bool hex_guid(const char *s, uint8_t out[16])
{
	for (int i = 0; i < 16; i++) {
		if (!g_ascii_isxdigit(s[2 * i]) ||
		    !g_ascii_isxdigit(s[2 * i + 1]))
			return false;
		out[i] = (uint8_t)(g_ascii_xdigit_value(s[2 * i]) << 4 |
				   g_ascii_xdigit_value(s[2 * i + 1]));
	}
	return true;
}

/* One line of the file; one that does not read is skipped.  Lock held. */
static void load_line(const char *line)
{
	struct mapi_fx_named n = { 0 };
	char *end = NULL;
	uint64_t id;

	if (line[0] != 'n' || line[1] != ' ')
		return;
	id = g_ascii_strtoull(line + 2, &end, 16);
	if (!end || *end != ' ' || id < FIRST_ID || id > LAST_ID ||
	    n_names >= MAPID_NAMES_MAX)
		return;
	end++;
	if (strlen(end) < 36 || !hex_guid(end, n.guid) || end[32] != ' ' ||
	    end[34] != ' ')
		return;
	if (end[33] == 'l') {
		char *e2 = NULL;
		uint64_t lid = g_ascii_strtoull(end + 35, &e2, 16);
		if (!e2 || *e2 || lid > UINT32_MAX)
			return;
		n.kind = MAPI_FX_NAME_LID;
		n.lid = (uint32_t)lid;
	} else if (end[33] == 's') {
		n.kind = MAPI_FX_NAME_STRING;
		n.name = g_strcompress(end + 35);
		if (!g_utf8_validate(n.name, -1, NULL)) {
			g_free(n.name);
			return;
		}
	} else {
		return;
	}
	{
		g_autofree char *k = key(&n);
		guint at = (guint)id - FIRST_ID;
		if (g_hash_table_contains(by_key, k) ||
		    (at < by_id->len && by_id->pdata[at])) {
			g_free(n.name);
			return;
		}
	}
	remember((uint16_t)id, g_memdup2(&n, sizeof(n)));
}

/* The lowest id not given.  0 when none is left.  Lock held. */
static uint16_t free_id(void)
{
	guint at;

	if (n_names >= MAPID_NAMES_MAX)
		return 0;
	for (at = 0; at < by_id->len && by_id->pdata[at]; at++)
		;
	return at > LAST_ID - FIRST_ID ? 0 : (uint16_t)(FIRST_ID + at);
}

/* The id of `n`, given now when `create` (0 when it has none).  Lock
 * held. */
static uint16_t id_locked(const struct mapi_fx_named *n, bool create)
{
	g_autofree char *k = NULL;
	gpointer v;
	struct mapi_fx_named *copy;
	uint16_t id;

	if (n->kind != MAPI_FX_NAME_LID &&
	    (n->kind != MAPI_FX_NAME_STRING || !n->name ||
	     !g_utf8_validate(n->name, -1, NULL)))
		return 0;
	k = key(n);
	if (g_hash_table_lookup_extended(by_key, k, NULL, &v))
		return (uint16_t)GPOINTER_TO_UINT(v);
	if (!create)
		return 0;
	id = free_id();
	if (!id) {
		if (!warned_full)
			log_warnx("mapi: the store has %u named properties, "
				  "the most it keeps: no more are made",
				  n_names);
		warned_full = true;
		return 0;
	}
	copy = g_memdup2(n, sizeof(*n));
	copy->name = g_strdup(n->name);
	remember(id, copy);
	append_line(id, copy);
	return id;
}

void mapid_names_init(const char *store_root)
{
	g_autofree char *dir = g_build_filename(store_root, ".mailfs-serve",
						NULL);
	g_autofree char *text = NULL;
	const struct mapi_fx_named *used;
	size_t n_used = 0;

	g_mutex_lock(&lock);
	if (by_id) {
		g_mutex_unlock(&lock);
		return;
	}
	by_id = g_ptr_array_new();
	by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_mkdir_with_parents(dir, 0700);
	table_file = g_build_filename(dir, "mapi-names", NULL);
	if (g_file_get_contents(table_file, &text, NULL, NULL)) {
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
		for (int i = 0; lines[i]; i++)
			load_line(lines[i]);
	}
	/* the codec's names first, in its order: on a new store they are
	 * 0x8000, 0x8001, ... */
	used = mapi_pim_names_used(&n_used);
	for (size_t i = 0; i < n_used; i++)
		(void)id_locked(&used[i], true);
	g_mutex_unlock(&lock);
}

uint16_t mapid_name_id(const struct mapi_fx_named *n, bool create)
{
	uint16_t id = 0;

	g_mutex_lock(&lock);
	if (by_id)
		id = id_locked(n, create);
	g_mutex_unlock(&lock);
	return id;
}

const struct mapi_fx_named *mapid_name_of(uint16_t id)
{
	const struct mapi_fx_named *n = NULL;

	g_mutex_lock(&lock);
	if (by_id && id >= FIRST_ID && id - FIRST_ID < by_id->len)
		n = by_id->pdata[id - FIRST_ID];
	g_mutex_unlock(&lock);
	return n;
}

static uint16_t pim_id_of(void *ctx, const struct mapi_fx_named *name)
{
	(void)ctx;
	return mapid_name_id(name, false);
}

static const struct mapi_fx_named *fx_lookup(void *ctx, uint16_t id)
{
	(void)ctx;
	return mapid_name_of(id);
}

struct mapi_pim_names mapid_pim_names(void)
{
	return (struct mapi_pim_names){ .id_of = pim_id_of };
}

struct mapi_fx_names mapid_fx_names(void)
{
	return (struct mapi_fx_names){ .lookup = fx_lookup };
}

/* Whether ROPs on object `o` may ask for names: any object of a
 * mailbox does (MS-OXCPRPT 3.2.5.9). */
static bool names_object(const struct mapid_obj *o)
{
	return o->kind == MAPID_OBJ_LOGON || o->kind == MAPID_OBJ_FOLDER ||
	       o->kind == MAPID_OBJ_MESSAGE || o->kind == MAPID_OBJ_ATTACH;
}

/* The id of one PropertyName of a request (0: none). */
static uint16_t id_of_name(const struct rop_prop_name *pn, bool create)
{
	struct mapi_fx_named n = { 0 };

	memcpy(n.guid, pn->guid, 16);
	if (!memcmp(pn->guid, ps_mapi, 16))
		/* PS_MAPI names the ids below 0x8000 by their LIDs */
		return pn->kind == ROP_NAME_LID && pn->lid &&
		       pn->lid < FIRST_ID ? (uint16_t)pn->lid : 0;
	if (pn->kind == ROP_NAME_LID) {
		n.kind = MAPI_FX_NAME_LID;
		n.lid = pn->lid;
	} else if (pn->kind == ROP_NAME_STRING) {
		n.kind = MAPI_FX_NAME_STRING;
		n.name = pn->name;
	} else {
		return 0;
	}
	return mapid_name_id(&n, create);
}

int mapid_rop_get_prop_ids(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			   GByteArray *out)
{
	struct rop_get_prop_ids_req q;
	struct rop_get_prop_ids_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_get_prop_ids_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_GET_PROPERTY_IDS_FROM_NAMES;
	s.head.handle_index = q.input_handle_index;
	o = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (o && !names_object(o))
		s.head.rv = MAPI_E_NO_SUPPORT;
	if (o && !s.head.rv && q.n_names == 0) {
		/* no name asked: every id the store has given */
		g_mutex_lock(&lock);
		s.ids = g_new(uint16_t, by_id->len + 1);
		for (guint i = 0; i < by_id->len; i++)
			if (by_id->pdata[i])
				s.ids[s.n_ids++] = (uint16_t)(FIRST_ID + i);
		g_mutex_unlock(&lock);
	} else if (o && !s.head.rv) {
		s.ids = g_new(uint16_t, q.n_names);
		s.n_ids = q.n_names;
		for (size_t i = 0; i < q.n_names; i++) {
			s.ids[i] = id_of_name(&q.names[i],
					      (q.flags & ROP_NAMES_CREATE) != 0);
			if (!s.ids[i])
				s.head.rv = ROP_W_ERRORS_RETURNED;
		}
	}
	rop_get_prop_ids_resp_write(out, &s);
	rop_get_prop_ids_resp_clear(&s);
	rop_get_prop_ids_req_clear(&q);
	return 0;
}

int mapid_rop_get_names(struct mapid_rop_ctx *rc, struct mapi_rd *r,
			GByteArray *out)
{
	struct rop_get_names_req q;
	struct rop_get_names_resp s = { 0 };
	struct mapid_obj *o;
	int err = rop_get_names_req_read(r, &q);

	if (err < 0)
		return err;
	s.head.rop_id = ROP_GET_NAMES_FROM_PROPERTY_IDS;
	s.head.handle_index = q.input_handle_index;
	o = mapid_obj_at(rc, q.input_handle_index, &s.head.rv);
	if (o && !names_object(o))
		s.head.rv = MAPI_E_NO_SUPPORT;
	if (o && !s.head.rv) {
		s.names = g_new0(struct rop_prop_name, q.n_ids + 1);
		s.n_names = q.n_ids;
		for (size_t i = 0; i < q.n_ids; i++) {
			struct rop_prop_name *pn = &s.names[i];
			const struct mapi_fx_named *n;

			if (q.ids[i] < FIRST_ID) {
				pn->kind = ROP_NAME_LID;
				memcpy(pn->guid, ps_mapi, 16);
				pn->lid = q.ids[i];
				continue;
			}
			n = mapid_name_of(q.ids[i]);
			if (!n) {
				pn->kind = ROP_NAME_NONE;
				continue;
			}
			memcpy(pn->guid, n->guid, 16);
			pn->kind = n->kind == MAPI_FX_NAME_LID
				   ? ROP_NAME_LID : ROP_NAME_STRING;
			pn->lid = n->lid;
			pn->name = g_strdup(n->name);
		}
	}
	rop_get_names_resp_write(out, &s);
	rop_get_names_resp_clear(&s);
	rop_get_names_req_clear(&q);
	return 0;
}
