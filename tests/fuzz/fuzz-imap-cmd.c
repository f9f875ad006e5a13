/*
 * fuzz-imap-cmd.c - the IMAP server's command side on arbitrary bytes:
 * each line through the command parser, then every argument through what
 * the server makes of arguments (sequence sets, mailbox names, flags).
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "serve/imap/args.h"
#include "maildir-name.h"

static const struct imap_limits lim = {
	.max_line = 4096,
	.max_literal = 4096,
	.max_total = 16384,
	.max_depth = 16,
	.max_literals = 32,
};

static void each_arg(const struct imap_arg *a, unsigned depth)
{
	GArray *set = NULL;
	uint64_t flags = 0;

	if (a->type == IMAP_ARG_ATOM && a->str) {
		if (imapd_seqset_parse(a->str, 7, &set) == 0) {
			for (uint32_t n = 0; n < 10; n++)
				imapd_seqset_has(set, n);
			g_array_unref(set);
		}
	}
	if (imap_arg_is_string(a)) {
		char *path = imapd_mailbox_path(a->str);
		/* no name may leave the store: no absolute path, no part
		 * that is empty or starts with '.' (".." among them) */
		if (path && (path[0] == '/' || path[0] == '.' ||
			     strstr(path, "/.") || strstr(path, "//")))
			__builtin_trap();
		g_free(path);
	}
	GPtrArray *kw = g_ptr_array_new();
	imapd_flags_parse(a, &flags, kw);
	/* a keyword taken is one a dovecot-keywords line can hold */
	for (guint i = 0; i < kw->len; i++) {
		if (!maildir_keyword_valid(kw->pdata[i]))
			__builtin_trap();
	}
	g_ptr_array_unref(kw);
	for (guint i = 0; a->list && i < a->list->len; i++)
		each_arg(a->list->pdata[i], depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		struct imap_line *l = NULL;
		char *why = NULL;

		if (imap_parse_line(IMAP_PARSE_COMMANDS, &lim, p, len, &l,
				    &why) == 0) {
			for (guint i = 0; i < l->args->len; i++)
				each_arg(l->args->pdata[i], 0);
			imap_line_free(&l);
		}
		g_free(why);
		p += len;
	}
	return 0;
}
