/*
 * check.h - the steps of `mailfs check`: how a backend says, one line per
 * step, what worked on the way to its server and what to change in the
 * account when something did not.  The lines are printed by the command
 * (src/check-cmd.c); nothing here prints.
 *
 * The step helpers below are shared by the line protocols (IMAP, POP3,
 * SMTP) that connect with stream.h.  They do nothing when `ck` is NULL, so
 * a connection's code calls them whether or not a check runs.
 *
 * A step's text never holds a password or a token: callers pass only what
 * the server said and what the account names.
 */
#ifndef MFS_CHECK_H
#define MFS_CHECK_H

#include <glib.h>
#include <stdbool.h>

struct stream;

/* Receives one step: its name ("tcp", "tls", "auth"...), whether it
 * worked, what happened, and what to change (NULL when nothing).  All
 * strings borrowed for the call. */
typedef void (*mfs_check_fn)(const char *step, bool ok, const char *text,
			     const char *fix, void *data);

struct mfs_check {
	mfs_check_fn fn;
	void *data;			/* borrowed */
	const char *prefix;		/* borrowed; put before step names
					   ("smtp "), or NULL */
	unsigned failures;		/* steps that failed so far */
	bool config_bad;		/* a "config" step failed */
};

/* Report one step.  `fix` may be NULL.  A failed "config" step sets
 * ck->config_bad: then nothing may be sent. */
void mfs_check_say(struct mfs_check *ck, const char *step, bool ok,
		   const char *fix, const char *fmt, ...) G_GNUC_PRINTF(5, 6);

/* The dns step: whether `host` resolves, and to what.  Returns 0, or
 * -EHOSTUNREACH (the step said why). */
int mfs_check_resolve(struct mfs_check *ck, const char *host,
		      const char *port);

/* The tcp (or tunnel) step, after stream_connect or stream_spawn returned
 * `rc` (0 with stream `s`, or -errno with `why`); `started` is
 * g_get_monotonic_time() before the call, `timeout_ms` the account's. */
void mfs_check_connected(struct mfs_check *ck, int rc, const char *why,
			 struct stream *s, const char *host, const char *port,
			 const char *tunnel, gint64 started, int timeout_ms);

/* The tls step, after stream_start_tls returned `rc` (`why` on failure):
 * version, cipher, certificate, and whether it was verified.  `how` says
 * how TLS began ("implicit TLS", "STARTTLS offered and done"). */
void mfs_check_tls(struct mfs_check *ck, int rc, const char *why,
		   struct stream *s, const char *ca_file, const char *how);

#endif
