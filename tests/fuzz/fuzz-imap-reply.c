/*
 * fuzz-imap-reply.c - what the IMAP client makes of a server's responses
 * beyond their syntax (protocols/imap/status.c and items.c): the outcome
 * of a tagged completion and its response code, APPENDUID and COPYUID,
 * the messages of "* n FETCH" lines (UID, size, INTERNALDATE, flags,
 * Message-ID), and every atom taken as a uid-set.  The input is a run of
 * response lines after a first byte that chooses the UIDVALIDITY.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "imap/imapc-private.h"
#include "wire/imap-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct imap_limits lim = {
	.max_line = 4096,
	.max_literal = 16384,
	.max_total = 65536,
	.max_depth = 16,
	.max_literals = 64,
	.max_spills = 0,
};

static void sets(const struct imap_arg *a)
{
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	if (a->type == IMAP_ARG_ATOM &&
	    imapc_uid_set_expand(a->str, 100, uids)) {
		if (uids->len == 0 || uids->len > 100)
			__builtin_trap();
	}
	g_array_unref(uids);
	for (guint i = 0; a->list && i < a->list->len; i++)
		sets(a->list->pdata[i]);
}

static void one_line(struct imap_line *l, struct imapc_sync_ctx *sc)
{
	struct mfs_error e = { 0 };
	uint64_t uv = 0, uid = 0;

	if (!imap_arg_is(imap_line_arg(l, 0), "*") &&
	    !imap_arg_is(imap_line_arg(l, 0), "+")) {
		int rc = imapc_status_to_errno(l, &e);
		if (rc > 0 || (rc < 0 && !e.msg[0]))
			__builtin_trap();
		(void)imapc_uid_code(l, "APPENDUID", &uv, &uid);
		(void)imapc_uid_code(l, "COPYUID", &uv, &uid);
	}
	if (imapc_items_cb(l, sc) < 0)
		__builtin_trap();
	for (guint i = 0; i < l->args->len; i++)
		sets(l->args->pdata[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imapc_sync_ctx sc = { 0 };
	struct imap_parser *p;
	size_t off = 1;

	if (size < 1)
		return 0;
	sc.uidvalidity = (uint64_t)data[0] + 1;
	sc.items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)mfs_item_free);
	p = imap_parser_new(IMAP_PARSE_RESPONSES, &lim);
	while (off < size) {
		size_t used = 0;
		enum imap_parse_status st = imap_parser_feed(
			p, (const char *)data + off, size - off, &used);
		off += used;
		if (st != IMAP_PARSE_LINE)
			break;
		struct imap_line *l = imap_parser_take(p);
		one_line(l, &sc);
		imap_line_free(&l);
	}
	for (guint i = 0; i < sc.items->len; i++) {
		const struct mfs_item *it = sc.items->pdata[i];
		if (!it->id || it->id[0] != 'V')
			__builtin_trap();
	}
	g_ptr_array_unref(sc.items);
	imap_parser_free(&p);
	return 0;
}
