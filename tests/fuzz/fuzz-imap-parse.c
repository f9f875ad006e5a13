/*
 * fuzz-imap-parse.c - the IMAP line parser on arbitrary bytes, as responses
 * and as commands, fed in pieces whose size the first byte chooses; the
 * whole-line parser on the same bytes.  Small limits make the limit paths
 * reachable.
 */
#include <stdint.h>
#include <string.h>

#include "wire/imap-parse.h"

static const struct imap_limits lim = {
	.max_line = 512,
	.max_literal = 4096,
	.max_total = 16384,
	.max_depth = 16,
	.max_literals = 32,
};

static void walk(const struct imap_arg *a, unsigned depth)
{
	/* touch every byte so that a bad length shows under ASan */
	volatile char sink = 0;

	for (size_t i = 0; a->str && i < a->len; i++)
		sink ^= a->str[i];
	for (guint i = 0; a->list && i < a->list->len; i++)
		walk(a->list->pdata[i], depth + 1);
	(void)sink;
}

static void feed(enum imap_parse_mode mode, const uint8_t *data, size_t size,
		 size_t step)
{
	struct imap_parser *p = imap_parser_new(mode, &lim);
	size_t off = 0;

	while (off < size) {
		size_t used = 0, n = step < size - off ? step : size - off;
		enum imap_parse_status st = imap_parser_feed(
			p, (const char *)data + off, n, &used);
		off += used;
		if (st == IMAP_PARSE_ERROR)
			break;
		if (st == IMAP_PARSE_LINE) {
			struct imap_line *l = imap_parser_take(p);
			for (guint i = 0; i < l->args->len; i++)
				walk(l->args->pdata[i], 0);
			imap_line_free(&l);
		} else if (st == IMAP_PARSE_NEED_MORE && used == 0) {
			break;
		}
	}
	imap_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_line *l = NULL;
	char *why = NULL;

	if (size == 0)
		return 0;
	size_t step = (size_t)(data[0] % 17) + 1;
	data++;
	size--;
	feed(IMAP_PARSE_RESPONSES, data, size, step);
	feed(IMAP_PARSE_COMMANDS, data, size, step);
	if (imap_parse_line(IMAP_PARSE_RESPONSES, &lim, (const char *)data,
			    size, &l, &why) == 0)
		imap_line_free(&l);
	g_free(why);
	return 0;
}
