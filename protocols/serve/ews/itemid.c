/*
 * itemid.c - the ItemIds and ChangeKeys of the embedded EWS
 * server's messages.
 *
 * Specs: [MS-OXWSCORE] 2.2.4.25 (ItemIdType: Id and ChangeKey are opaque
 * to clients); [MS-OXWSCDATA] ErrorInvalidIdMalformed.
 *
 * Item ids need no table: base64 of a prefix, the store's id of the
 * message (stable while the message exists, never holding '/') and the
 * folder path, so they survive restarts and a flag change.  A ChangeKey
 * must change whenever the item does; a stored message's bytes never
 * change, only its flags, so a hash of the id and the flag letters is
 * enough.  MFS_FLAG_NEW is left out: a reader moving a message from new/
 * to cur/ changes nothing a client of this server can see.
 */
#include <errno.h>
#include <string.h>

#include "ewsd-private.h"
#include "fnv1a.h"

char *ewsd_item_id(const char *folder, const char *id)
{
	g_autofree char *raw = g_strdup_printf("mfsI:%s/%s", id, folder);

	return g_base64_encode((const guchar *)raw, strlen(raw));
}

int ewsd_item_id_parse(const char *b64, char **id_r, char **folder_r)
{
	gsize len = 0;
	g_autofree guchar *raw = NULL;
	const char *slash;

	if (!b64 || !*b64 || strlen(b64) % 4 ||
	    strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789+/=") != strlen(b64))
		return -EINVAL;
	raw = g_base64_decode(b64, &len);
	if (len < 6 || memchr(raw, 0, len) || memcmp(raw, "mfsI:", 5) != 0)
		return -EINVAL;
	raw = g_realloc(raw, len + 1);
	raw[len] = 0;
	slash = strchr((const char *)raw + 5, '/');
	if (!slash || slash == (const char *)raw + 5 || !slash[1])
		return -EINVAL;
	*id_r = g_strndup((const char *)raw + 5,
			  (gsize)(slash - (const char *)raw - 5));
	*folder_r = g_strdup(slash + 1);
	return 0;
}

char *ewsd_item_change_key(const struct mfs_item *it)
{
	uint64_t letters = it->flags & MFS_FLAG_LETTERS;
	uint64_t h = fnv1a_64(FNV1A_64_INIT, it->id,
			   strlen(it->id) + 1);
	guchar raw[12] = { 'm', 'f', 's', 'K' }, le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (guchar)(letters >> (8 * i));
	h = fnv1a_64(h, le, sizeof(le));
	for (int i = 0; i < 8; i++)
		raw[4 + i] = (guchar)(h >> (8 * i));
	return g_base64_encode(raw, sizeof(raw));
}
