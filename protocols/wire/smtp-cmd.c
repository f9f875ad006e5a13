/*
 * smtp-cmd.c - parsing SMTP command lines: RFC 5321 section 4.1 (commands and
 * their paths), RFC 1870 (SIZE=), RFC 6152 (BODY=8BITMIME), RFC 4954
 * (AUTH), RFC 3207 (STARTTLS).
 *
 * Leniency: a space after "FROM:" / "TO:" is taken, as most servers do.
 * Source routes ("<@a,@b:user@c>") are accepted and their route dropped,
 * as section 4.1.2 asks of receivers.
 */
#include "smtp-cmd.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

static const struct {
	const char *word;
	enum smtp_verb verb;
} verbs[] = {
	{ "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "RSET", SMTP_RSET },
	{ "NOOP", SMTP_NOOP }, { "QUIT", SMTP_QUIT }, { "VRFY", SMTP_VRFY },
	{ "HELP", SMTP_HELP }, { "AUTH", SMTP_AUTH },
	{ "STARTTLS", SMTP_STARTTLS },
};

void smtp_cmd_clear(struct smtp_cmd *cmd)
{
	g_clear_pointer(&cmd->arg, g_free);
	g_clear_pointer(&cmd->path, g_free);
	memset(cmd, 0, sizeof(*cmd));
}

/* "<path>" at the start of `s`: the address, without a source route. */
static int take_path(const char **s, char **path_r)
{
	const char *p = *s, *end;

	if (*p != '<')
		return -EINVAL;
	end = strchr(p, '>');
	if (!end)
		return -EINVAL;
	p++;
	if (*p == '@') {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		if (!colon)
			return -EINVAL;
		p = colon + 1;
	}
	for (const char *q = p; q < end; q++) {
		if ((unsigned char)*q <= ' ' || *q == '<' || *q == 0x7f)
			return -EINVAL;
	}
	*path_r = g_strndup(p, (gsize)(end - p));
	*s = end + 1;
	return 0;
}

static int parse_params(const char *s, struct smtp_cmd *cmd, bool mail,
			const char **why_r)
{
	g_auto(GStrv) words = g_strsplit(s, " ", -1);

	for (int i = 0; words[i]; i++) {
		const char *w = words[i];
		if (!*w)
			continue;
		if (mail && !g_ascii_strncasecmp(w, "SIZE=", 5)) {
			const char *d = w + 5;
			uint64_t n = 0;
			if (!*d || strspn(d, "0123456789") != strlen(d) ||
			    strlen(d) > 19) {
				*why_r = "SIZE= needs a number";
				return -EINVAL;
			}
			for (; *d; d++)
				n = n * 10 + (uint64_t)(*d - '0');
			cmd->size = n;
		} else if (mail && !g_ascii_strncasecmp(w, "BODY=", 5)) {
			if (!g_ascii_strcasecmp(w + 5, "8BITMIME"))
				cmd->eight_bit = true;
			else if (g_ascii_strcasecmp(w + 5, "7BIT")) {
				*why_r = "BODY= takes 7BIT or 8BITMIME";
				return -EINVAL;
			}
		} else if (mail && !g_ascii_strncasecmp(w, "AUTH=", 5)) {
			/* RFC 4954 section 5: we relay nothing, so the
			 * identity it names matters to nobody */
		} else {
			*why_r = "parameter not recognised";
			return -EPROTONOSUPPORT;
		}
	}
	return 0;
}

int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd,
		   const char **why_r)
{
	size_t wlen = 0;
	int rc;

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
			cmd->verb = verbs[i].verb;
	}
	if (cmd->verb == SMTP_UNKNOWN) {
		*why_r = "command not recognised";
		return -ENOSYS;
	}
	g_autofree char *rest = g_strndup(line + wlen, (gsize)(len - wlen));
	cmd->arg = g_strdup(g_strstrip(rest));

	switch (cmd->verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		if (!*cmd->arg) {
			*why_r = "a domain or address literal is needed";
			goto bad;
		}
		return 0;
	case SMTP_MAIL:
	case SMTP_RCPT: {
		const char *kw = cmd->verb == SMTP_MAIL ? "FROM:" : "TO:";
		const char *s = cmd->arg;
		if (g_ascii_strncasecmp(s, kw, strlen(kw))) {
			*why_r = cmd->verb == SMTP_MAIL ? "MAIL FROM:<path>"
							: "RCPT TO:<path>";
			goto bad;
		}
		s += strlen(kw);
		while (*s == ' ')
			s++;
		if (take_path(&s, &cmd->path) < 0) {
			*why_r = "the path must be <address>";
			goto bad;
		}
		if (cmd->verb == SMTP_RCPT && !*cmd->path) {
			*why_r = "a recipient is needed";
			goto bad;
		}
		if (*s && *s != ' ')
			goto bad;
		rc = parse_params(s, cmd, cmd->verb == SMTP_MAIL, why_r);
		if (rc < 0) {
			smtp_cmd_clear(cmd);
			return rc == -EPROTONOSUPPORT ? -EPROTONOSUPPORT
						      : -EINVAL;
		}
		return 0;
	}
	case SMTP_AUTH:
		if (!*cmd->arg) {
			*why_r = "AUTH needs a mechanism";
			goto bad;
		}
		return 0;
	case SMTP_DATA:
	case SMTP_RSET:
	case SMTP_QUIT:
	case SMTP_STARTTLS:
		if (*cmd->arg) {
			*why_r = "no argument is taken";
			goto bad;
		}
		return 0;
	default:
		return 0;
	}
bad:
	smtp_cmd_clear(cmd);
	return -EINVAL;
}
