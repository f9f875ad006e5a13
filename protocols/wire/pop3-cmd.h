/*
 * pop3-cmd.h - POP3 command lines as a server reads them (RFC 1939 section 3,
 * with CAPA of RFC 2449, STLS of RFC 2595 and AUTH of RFC 5034).
 *
 * A pure function of one line: no I/O, no state.  Ownership: the strings
 * in struct pop3_cmd are owned by it (pop3_cmd_clear).
 */
#ifndef MFS_POP3_CMD_H
#define MFS_POP3_CMD_H

#include <stddef.h>

enum pop3_verb {
	POP3_UNKNOWN = 0,
	POP3_USER, POP3_PASS, POP3_AUTH, POP3_CAPA, POP3_STLS, POP3_STAT,
	POP3_LIST, POP3_UIDL, POP3_RETR, POP3_TOP, POP3_DELE, POP3_RSET,
	POP3_NOOP, POP3_QUIT,
};

struct pop3_cmd {
	enum pop3_verb verb;
	unsigned nargs;
	char *args[2];		/* owned; PASS keeps the whole rest of the
				   line (a password may hold spaces) */
	unsigned long num[2];	/* args as numbers where the verb takes them */
};

/*
 * Parse one line (without CRLF).  Returns 0; -ENOSYS for an unknown
 * command; -EINVAL for wrong arguments (*why_r, borrowed and static, says
 * which).  On success the caller clears *cmd.
 */
int pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd,
		   const char **why_r);
void pop3_cmd_clear(struct pop3_cmd *cmd);

#endif
