/*
 * cmd.c - building an IMAP command: text, strings as atom, quoted or
 * literal as each needs, literals read from a file, secret parts
 * (RFC 3501 / RFC 9051 section 4.3, RFC 7888).  See conn.h.
 */
#include "conn-private.h"

#include <string.h>

#include "secret.h"

static void part_free(gpointer p)
{
	struct part *pt = p;

	if (pt->data) {
		if (pt->secret)
			secret_wipe(pt->data, pt->len);
		g_free(pt->data);
	}
	g_free(pt);
}

static struct part *add_part(struct imapc_cmd *cmd, enum part_kind kind)
{
	struct part *pt = g_new0(struct part, 1);

	pt->kind = kind;
	pt->secret = cmd->secret;
	pt->fd = -1;
	g_ptr_array_add(cmd->parts, pt);
	return pt;
}

struct imapc_cmd *imapc_cmd_new(const char *fmt, ...)
{
	struct imapc_cmd *cmd = g_new0(struct imapc_cmd, 1);
	va_list ap;

	cmd->parts = g_ptr_array_new_with_free_func(part_free);
	va_start(ap, fmt);
	struct part *pt = add_part(cmd, PART_TEXT);
	pt->data = g_strdup_vprintf(fmt, ap);
	pt->len = strlen(pt->data);
	va_end(ap);
	size_t w = strcspn(pt->data, " ");
	cmd->what = g_strndup(pt->data, w);
	return cmd;
}

void imapc_cmd_add(struct imapc_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	struct part *pt = add_part(cmd, PART_TEXT);

	va_start(ap, fmt);
	pt->data = g_strdup_vprintf(fmt, ap);
	pt->len = strlen(pt->data);
	va_end(ap);
}

static bool atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("(){ %*\"\\]", c);
}

void imapc_cmd_astring(struct imapc_cmd *cmd, const char *s, size_t len)
{
	bool atom = len > 0 && !(len == 3 && !g_ascii_strncasecmp(s, "NIL", 3));
	bool quotable = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		atom = atom && atom_char(c);
		quotable = quotable && c >= 0x20 && c < 0x7f;
	}
	if (atom) {
		struct part *pt = add_part(cmd, PART_TEXT);
		pt->data = g_strndup(s, len);
		pt->len = len;
	} else if (quotable && len < 1024) {
		/* room for the worst case: a password quoted here must not
		 * leave a copy behind in a buffer the string outgrew */
		GString *q = g_string_sized_new(2 * len + 3);
		g_string_append_c(q, '"');
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				g_string_append_c(q, '\\');
			g_string_append_c(q, s[i]);
		}
		g_string_append_c(q, '"');
		struct part *pt = add_part(cmd, PART_TEXT);
		pt->len = q->len;
		pt->data = g_string_free(q, FALSE);
	} else {
		struct part *pt = add_part(cmd, PART_LITERAL);
		pt->data = g_memdup2(s, len);
		pt->len = len;
		pt->size = len;
	}
}

void imapc_cmd_literal_fd(struct imapc_cmd *cmd, int fd, uint64_t size)
{
	struct part *pt = add_part(cmd, PART_LITERAL_FD);

	pt->fd = fd;
	pt->size = size;
}

void imapc_cmd_secret(struct imapc_cmd *cmd)
{
	cmd->secret = true;
}

void imapc_cmd_free(struct imapc_cmd **cmd)
{
	if (!*cmd)
		return;
	g_ptr_array_unref((*cmd)->parts);
	g_free((*cmd)->what);
	g_free(*cmd);
	*cmd = NULL;
}
