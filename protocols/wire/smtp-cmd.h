/*
 * smtp-cmd.h - SMTP command lines as a receiver reads them (RFC 5321 section
 * 4.1, with the SIZE parameter of RFC 1870 and BODY of RFC 6152).
 *
 * A pure function of one line: no I/O, no state, bounded by the line.
 * Ownership: strings in struct smtp_cmd are owned by it
 * (smtp_cmd_clear).
 */
#ifndef MFS_SMTP_CMD_H
#define MFS_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum smtp_verb {
	SMTP_UNKNOWN = 0,
	SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_RSET,
	SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_HELP, SMTP_AUTH, SMTP_STARTTLS,
};

struct smtp_cmd {
	enum smtp_verb verb;
	char *arg;		/* owned; what follows the verb, trimmed; ""
				   when nothing */
	char *path;		/* owned; MAIL/RCPT: the address between < >
				   ("" for the null reverse-path) */
	uint64_t size;		/* MAIL SIZE=, 0 when not given */
	bool eight_bit;		/* MAIL BODY=8BITMIME */
};

/*
 * Parse one line (without its CRLF).  Returns 0; -ENOSYS for an unknown
 * verb (reply 500); -EINVAL for bad arguments (reply 501);
 * -EPROTONOSUPPORT for a MAIL/RCPT parameter we do not know (reply 555).  *why_r (borrowed, static)
 * says what was wrong.  On success the caller clears *cmd.
 */
int smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd,
		   const char **why_r);
void smtp_cmd_clear(struct smtp_cmd *cmd);

#endif
