/*
 * pop3-cmd.c - parsing POP3 command lines: RFC 1939 section 3 (keywords of 3-4
 * characters, arguments separated by single spaces, each up to 40
 * characters), RFC 2449 (CAPA), RFC 2595 (STLS), RFC 5034 (AUTH).
 */
#include "pop3-cmd.h"

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#define MAX_ARG 255		/* a SASL initial response may be long */

/* How many arguments each verb takes, and which must be numbers. */
static const struct {
	const char *word;
	enum pop3_verb verb;
	unsigned min, max;
	bool numeric;
} verbs[] = {
	{ "USER", POP3_USER, 1, 1, false },
	{ "PASS", POP3_PASS, 1, 1, false },
	{ "AUTH", POP3_AUTH, 0, 2, false },
	{ "CAPA", POP3_CAPA, 0, 0, false },
	{ "STLS", POP3_STLS, 0, 0, false },
	{ "STAT", POP3_STAT, 0, 0, false },
	{ "LIST", POP3_LIST, 0, 1, true },
	{ "UIDL", POP3_UIDL, 0, 1, true },
	{ "RETR", POP3_RETR, 1, 1, true },
	{ "TOP", POP3_TOP, 2, 2, true },
	{ "DELE", POP3_DELE, 1, 1, true },
	{ "RSET", POP3_RSET, 0, 0, false },
	{ "NOOP", POP3_NOOP, 0, 0, false },
	{ "QUIT", POP3_QUIT, 0, 0, false },
};

void pop3_cmd_clear(struct pop3_cmd *cmd)
{
	for (unsigned i = 0; i < G_N_ELEMENTS(cmd->args); i++)
		g_free(cmd->args[i]);
	memset(cmd, 0, sizeof(*cmd));
}

static bool number(const char *s, unsigned long *n_r)
{
	unsigned long n = 0;

	if (!*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
		return false;
	for (; *s; s++)
		n = n * 10 + (unsigned long)(*s - '0');
	*n_r = n;
	return true;
}

int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd,
		   const char **why_r)
{
	size_t wlen = 0;
	int v = -1;

	memset(cmd, 0, sizeof(*cmd));
	*why_r = "syntax error";
	if (memchr(line, '\0', len)) {
		*why_r = "NUL in a command";
		return -EINVAL;
	}
	while (wlen < len && line[wlen] != ' ')
		wlen++;
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
		if (wlen == strlen(verbs[i].word) &&
		    !g_ascii_strncasecmp(line, verbs[i].word, wlen))
			v = (int)i;
	}
	if (v < 0) {
		*why_r = "unknown command";
		return -ENOSYS;
	}
	cmd->verb = verbs[v].verb;
	const char *p = line + wlen, *end = line + len;
	if (p < end)
		p++;	/* the one space */
	if (cmd->verb == POP3_PASS) {
		/* RFC 1939 lets a password hold spaces: the rest counts */
		if (p >= end || end - p > MAX_ARG) {
			*why_r = "PASS needs a password";
			return -EINVAL;
		}
		cmd->args[0] = g_strndup(p, (gsize)(end - p));
		cmd->nargs = 1;
		return 0;
	}
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *e = sp ? sp : end;
		if (e == p || e - p > MAX_ARG ||
		    cmd->nargs >= verbs[v].max) {
			pop3_cmd_clear(cmd);
			*why_r = "wrong arguments";
			return -EINVAL;
		}
		cmd->args[cmd->nargs] = g_strndup(p, (gsize)(e - p));
		if (verbs[v].numeric &&
		    !number(cmd->args[cmd->nargs], &cmd->num[cmd->nargs])) {
			pop3_cmd_clear(cmd);
			*why_r = "a message number is needed";
			return -EINVAL;
		}
		cmd->nargs++;
		p = sp ? sp + 1 : end;
	}
	if (cmd->nargs < verbs[v].min) {
		pop3_cmd_clear(cmd);
		*why_r = "missing argument";
		return -EINVAL;
	}
	return 0;
}
