/*
 * ids.c - the folder and message ids of the embedded MAPI server.
 *
 * Spec: MS-OXCDATA 2.2.1.1-2 (Folder ID, Message ID: a 2-byte ReplId and
 * a 6-byte global counter, big-endian), MS-OXCFXICS 2.2.1.1 (the counter
 * is never reused), MS-OXCSTOR 2.2.1.1.3 (the special folders of Logon).
 *
 * Every id has ReplId 1.  The special folders have fixed counters (the
 * ones mapid-private.h lists); the store's INBOX and its Sent, Trash and
 * Outbox folders take the counters of Inbox, Sent Items, Deleted Items
 * and Outbox.
 * Every other folder, and every message (by folder path and the store's
 * id of it), gets the next counter from 0x100 on the first time the
 * server sees it; the allocation is appended as a line to
 * STORE/.mailfs-serve/mapi-ids, so that a client sees the same FID and
 * MID after a restart.  A message moved or a folder renamed behind the
 * server's back is a new one, with a new id, which is what MAPI's own
 * servers do on a move too.
 *
 * File format, one record a line: "g HEX32" (the replica GUID),
 * "f HEX path" (a folder), "m HEX folder\tid" (a message), the path and
 * the folder g_strescape'd; "d KEY" forgets a folder or message ("f\tpath"
 * or "m\tfolder\tid", g_strescape'd) that was deleted, moved or renamed
 * through this server.  A folder renamed or moved through this server
 * keeps its counter, and so do the messages in it (mapid_ids_moved()).
 *
 * Threads: one table per process, protected by `lock`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mapid-private.h"

static GMutex lock;
static GHashTable *by_key;	/* "f\tpath" or "m\tfolder\tid" -> counter */
static GHashTable *folder_paths;	/* counter -> path (owned) */
static char *table_file;
static uint64_t next_counter = MAPID_FIRST_DYNAMIC;
static uint8_t guid[16];
static bool have_guid;

uint64_t mapid_id_make(uint64_t c)
{
	uint64_t id = 0x0001;

	for (int i = 0; i < 6; i++)
		id |= ((c >> (8 * (5 - i))) & 0xFF) << (8 * (2 + i));
	return id;
}

uint64_t mapid_id_counter(uint64_t id)
{
	uint64_t c = 0;

	if ((id & 0xFFFF) != 0x0001)
		return 0;
	for (int i = 0; i < 6; i++)
		c = (c << 8) | ((id >> (8 * (2 + i))) & 0xFF);
	return c;
}

/* Lock held. */
static void append_line(const char *line)
{
	int fd = open(table_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		      0600);
	size_t len = strlen(line);

	if (fd < 0 || write(fd, line, len) != (ssize_t)len)
		log_warnx("mapi: cannot save ids in %s", table_file);
	if (fd >= 0)
		close(fd);
}

static void remember(char *key, uint64_t c)
{
	g_hash_table_replace(by_key, key, GSIZE_TO_POINTER((gsize)c));
	if (c >= next_counter)
		next_counter = c + 1;
	if (key[0] == 'f')
		g_hash_table_replace(folder_paths, GSIZE_TO_POINTER((gsize)c),
				     g_strdup(key + 2));
}

/* Drop `key` ("f\t..." or "m\t...") from the table. */
static void forget(const char *key)
{
	gpointer v;

	if (!g_hash_table_lookup_extended(by_key, key, NULL, &v))
		return;
	if (key[0] == 'f') {
		gpointer c = v;
		const char *p = g_hash_table_lookup(folder_paths, c);
		if (p && !strcmp(p, key + 2))
			g_hash_table_remove(folder_paths, c);
	}
	g_hash_table_remove(by_key, key);
}

static void load_line(const char *line)
{
	char *end = NULL;
	uint64_t c;

	if (line[0] == 'g' && line[1] == ' ' && strlen(line) == 34) {
		for (int i = 0; i < 16; i++) {
			char hex[3] = { line[2 + 2 * i], line[3 + 2 * i], 0 };
			guid[i] = (uint8_t)g_ascii_strtoull(hex, NULL, 16);
		}
		have_guid = true;
		return;
	}
	if (line[0] == 'd' && line[1] == ' ') {
		g_autofree char *key = g_strcompress(line + 2);
		forget(key);
		return;
	}
	if ((line[0] != 'f' && line[0] != 'm') || line[1] != ' ')
		return;
	c = g_ascii_strtoull(line + 2, &end, 16);
	if (!end || *end != ' ' || c < MAPID_FIRST_DYNAMIC ||
	    c > UINT64_C(0xFFFFFFFFFFFF))
		return;
	{
		g_autofree char *val = g_strcompress(end + 1);
		remember(g_strdup_printf("%c\t%s", line[0], val), c);
	}
}

void mapid_ids_init(const char *store_root)
{
	g_autofree char *dir = g_build_filename(store_root, ".mailfs-serve",
						NULL);
	g_autofree char *text = NULL;

	g_mutex_lock(&lock);
	if (by_key) {
		g_mutex_unlock(&lock);
		return;
	}
	by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	folder_paths = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					     NULL, g_free);
	g_mkdir_with_parents(dir, 0700);
	table_file = g_build_filename(dir, "mapi-ids", NULL);
	if (g_file_get_contents(table_file, &text, NULL, NULL)) {
		g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
		for (int i = 0; lines[i]; i++)
			load_line(lines[i]);
	}
	if (!have_guid) {
		GString *l = g_string_new("g ");
		for (int i = 0; i < 16; i++) {
			guid[i] = (uint8_t)g_random_int_range(0, 256);
			g_string_append_printf(l, "%02x", guid[i]);
		}
		g_string_append_c(l, '\n');
		append_line(l->str);
		g_string_free(l, TRUE);
		have_guid = true;
	}
	g_mutex_unlock(&lock);
}

void mapid_repl_guid(uint8_t out[16])
{
	g_mutex_lock(&lock);
	memcpy(out, guid, 16);
	g_mutex_unlock(&lock);
}

/* The counter of `key` ("f\t..." or "m\t..."), allocated when new. */
static uint64_t counter_of(const char *key)
{
	gpointer v;
	uint64_t c;

	g_mutex_lock(&lock);
	if (!by_key) {
		g_mutex_unlock(&lock);
		return 0;
	}
	if (g_hash_table_lookup_extended(by_key, key, NULL, &v)) {
		g_mutex_unlock(&lock);
		return (uint64_t)GPOINTER_TO_SIZE(v);
	}
	c = next_counter;
	remember(g_strdup(key), c);
	{
		g_autofree char *esc = g_strescape(key + 2, NULL);
		g_autofree char *line = g_strdup_printf(
			"%c %" G_GINT64_MODIFIER "x %s\n", key[0], c, esc);
		append_line(line);
	}
	g_mutex_unlock(&lock);
	return c;
}

/* The special folder a top-level folder is, by its use as the store
 * names it (RFC 6154) or, when the store says nothing, by its name. */
static uint64_t special_by_use(const char *path, const char *special)
{
	static const char *const sent[] = { "Sent", "Sent Items",
					    "Sent Messages", NULL };
	static const char *const trash[] = { "Trash", "Deleted Items",
					     "Deleted Messages", NULL };

	if (special)
		return !g_ascii_strcasecmp(special, "\\Sent") ? MAPID_SENT
		       : !g_ascii_strcasecmp(special, "\\Trash")
		       ? MAPID_DELETED : 0;
	for (int i = 0; sent[i]; i++)
		if (!g_ascii_strcasecmp(path, sent[i]))
			return MAPID_SENT;
	for (int i = 0; trash[i]; i++)
		if (!g_ascii_strcasecmp(path, trash[i]))
			return MAPID_DELETED;
	if (!g_ascii_strcasecmp(path, "Outbox"))
		return MAPID_OUTBOX;
	return 0;
}

uint64_t mapid_folder_counter(const char *path, const char *special)
{
	g_autofree char *key = NULL;
	uint64_t c = 0;

	if (!g_ascii_strcasecmp(path, "INBOX"))
		c = MAPID_INBOX;
	else if (!strchr(path, '/'))
		c = special_by_use(path, special);
	if (c) {
		g_mutex_lock(&lock);
		if (folder_paths &&
		    !g_hash_table_contains(folder_paths,
					   GSIZE_TO_POINTER((gsize)c)))
			g_hash_table_replace(folder_paths,
					     GSIZE_TO_POINTER((gsize)c),
					     g_strdup(path));
		else if (folder_paths &&
			 strcmp(g_hash_table_lookup(
				folder_paths, GSIZE_TO_POINTER((gsize)c)),
				path))
			c = 0;	/* a second Sent: an ordinary folder */
		g_mutex_unlock(&lock);
		if (c)
			return c;
	}
	key = g_strdup_printf("f\t%s", path);
	return counter_of(key);
}

char *mapid_folder_path(uint64_t c)
{
	char *p;

	g_mutex_lock(&lock);
	p = folder_paths ? g_strdup(g_hash_table_lookup(
		folder_paths, GSIZE_TO_POINTER((gsize)c))) : NULL;
	g_mutex_unlock(&lock);
	return p;
}

uint64_t mapid_counter_new(void)
{
	uint64_t c;

	g_mutex_lock(&lock);
	c = next_counter++;
	g_mutex_unlock(&lock);
	return c;
}

void mapid_message_bind(const char *folder, const char *id, uint64_t c)
{
	g_autofree char *key = g_strdup_printf("m\t%s\t%s", folder, id);
	g_autofree char *esc = g_strescape(key + 2, NULL);
	g_autofree char *line = g_strdup_printf(
		"m %" G_GINT64_MODIFIER "x %s\n", c, esc);

	g_mutex_lock(&lock);
	if (by_key) {
		remember(g_steal_pointer(&key), c);
		append_line(line);
	}
	g_mutex_unlock(&lock);
}

uint64_t mapid_message_counter(const char *folder, const char *id)
{
	g_autofree char *key = g_strdup_printf("m\t%s\t%s", folder, id);

	return counter_of(key);
}

/* Lock held.  Forget `key` and say so in the file. */
static void forget_saved(const char *key)
{
	g_autofree char *esc = g_strescape(key, NULL);
	g_autofree char *line = g_strdup_printf("d %s\n", esc);

	forget(key);
	append_line(line);
}

/* Whether the folder or message of key body `p` ("path" or
 * "folder\tid") is `top`, lies below it or is in it. */
static bool under(const char *p, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(p, top, n) &&
	       (p[n] == 0 || p[n] == '/' || p[n] == '\t');
}

void mapid_ids_moved(const char *from, const char *to)
{
	GHashTableIter it;
	gpointer k, v;
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	GArray *counters = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	g_mutex_lock(&lock);
	if (!by_key)
		goto out;
	g_hash_table_iter_init(&it, by_key);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const char *key = k;
		uint64_t c = (uint64_t)GPOINTER_TO_SIZE(v);
		if ((key[0] == 'f' || key[0] == 'm') && under(key + 2, from)) {
			g_ptr_array_add(keys, g_strdup(key));
			g_array_append_val(counters, c);
		}
	}
	for (guint i = 0; i < keys->len; i++) {
		const char *old = keys->pdata[i];
		uint64_t c = g_array_index(counters, uint64_t, i);
		g_autofree char *nkey = NULL, *esc = NULL, *line = NULL;

		forget_saved(old);
		if (!to || c < MAPID_FIRST_DYNAMIC)
			continue;
		nkey = g_strdup_printf("%c\t%s%s", old[0], to,
				       old + 2 + strlen(from));
		esc = g_strescape(nkey + 2, NULL);
		line = g_strdup_printf("%c %" G_GINT64_MODIFIER "x %s\n",
				       nkey[0], c, esc);
		remember(g_steal_pointer(&nkey), c);
		append_line(line);
	}
out:
	g_mutex_unlock(&lock);
	g_ptr_array_unref(keys);
	g_array_unref(counters);
}

void mapid_message_forget(const char *folder, const char *id)
{
	g_autofree char *key = g_strdup_printf("m\t%s\t%s", folder, id);

	g_mutex_lock(&lock);
	if (by_key && g_hash_table_contains(by_key, key))
		forget_saved(key);
	g_mutex_unlock(&lock);
}
