/*
 * conn-private.h - the inside of one IMAP connection, shared by the files
 * that make it (conn.c: reading, writing, IDLE; cmd.c: building commands;
 * open.c: connecting and setting up; auth.c: logging in) and by no one
 * else.  The rules of conn.h hold here too.
 */
#ifndef MFS_IMAP_CONN_PRIVATE_H
#define MFS_IMAP_CONN_PRIVATE_H

#include "conn.h"

enum part_kind { PART_TEXT, PART_LITERAL, PART_LITERAL_FD };

struct part {
	enum part_kind kind;
	char *data;		/* owned; TEXT and LITERAL */
	size_t len;
	int fd;			/* borrowed; LITERAL_FD */
	uint64_t size;
	bool secret;		/* not shown in traces */
};

struct imapc_cmd {
	GPtrArray *parts;	/* of struct part *, owned */
	bool secret;		/* parts added from now on are secret */
	char *what;		/* owned; the command name, for messages */
};

struct imapc_conn {
	char *name;			/* owned; for logs */
	struct stream *s;		/* owned */
	struct imap_parser *parser;	/* owned */
	char rbuf[16384];
	size_t rpos, rend;
	GHashTable *caps;		/* owned; upper-case capability set */
	GHashTable *done;		/* owned; tag -> completion line */
	unsigned tagn;
	char *selected;			/* owned; server name */
	uint64_t uidvalidity;		/* of the selected folder */
	int timeout_ms;
	bool broken;
	char delim;
	char *idle_tag;			/* owned; while IDLE runs */
	bool logging_out;		/* the BYE to come is expected */
	char *prefix;			/* owned; personal namespace prefix */
	unsigned caps_gen;		/* counts capability lists seen */
};

/* conn.c: mark `c` broken (logging `fmt` once) and return `rc` with the
 * reason in *e, scoped to the account and transient. */
int imapc_conn_fail(struct imapc_conn *c, int rc, struct mfs_error *e,
		    const char *fmt, ...) G_GNUC_PRINTF(4, 5);
/* conn.c: the next whole line, within `ms` (caller owns *line_r).
 * -ETIMEDOUT with nothing begun is soft (the connection stays usable)
 * only when `soft` is set. */
int imapc_conn_read_line(struct imapc_conn *c, int ms, bool soft,
			 struct imap_line **line_r, struct mfs_error *e);
/* conn.c: `len` bytes as they are; a `secret` shows as "<secret>" in the
 * trace. */
int imapc_conn_send_raw(struct imapc_conn *c, const char *buf, size_t len,
			bool secret, struct mfs_error *e);
/* conn.c: wait for a "+" (returns 0); the completion of `tag` instead
 * (the server refused) returns 1 with it in *done_r (caller owns). */
int imapc_conn_wait_cont(struct imapc_conn *c, const char *tag,
			 imapc_untagged_fn cb, void *data,
			 struct imap_line **done_r, struct mfs_error *e);

/* auth.c: log in as `cfg` says (the mechanism chosen by what the server
 * offers now), telling `mailfs check` how it went.  0 or -errno. */
int imapc_conn_login(struct imapc_conn *c, const struct imapc_cfg *cfg,
		     struct mfs_error *e);

#endif
