/*
 * log.h - logging for the daemon and the tools.
 *
 * May not call anything of ours outside common/.  Messages go to stderr until
 * log_to_syslog() is called (the daemon does once it runs in the background).
 * log_warn() appends strerror(errno) like warn(3); log_warnx() does not.
 * Debug output is enabled per category bit (log_set_debug()).
 * Never pass a password or token to any of these.
 */
#ifndef MFS_LOG_H
#define MFS_LOG_H

#include <glib.h>

enum log_category {
	LOG_FUSE = 1u << 0,	/* every FUSE request */
	LOG_STORE = 1u << 1,	/* backend calls */
	LOG_WATCH = 1u << 2,	/* outside-change notifications */
	LOG_PROTO = 1u << 3,	/* protocol lines, secrets replaced */
	LOG_CACHE = 1u << 4,	/* the cache's syncs and fetches */
	LOG_ALL = ~0u,
};

void log_init(const char *progname);
void log_to_syslog(void);
void log_set_debug(unsigned categories);
gboolean log_debug_enabled(unsigned category);

void log_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_info(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void log_debug(unsigned category, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/*
 * A bounded ring of recent error lines, shown in .mailfs/errors.  Thread-safe.
 * log_recent_dump() returns a newly allocated string (caller owns).
 */
void log_error_record(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
char *log_recent_dump(void);
unsigned log_error_count(void);

#endif
