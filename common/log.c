/*
 * log.c - stderr/syslog logging and the ring of recent errors.
 *
 * Callers make a peer's text printable where they take it in
 * (printable.h); every line is passed through printable_append() here as
 * well, so that a text someone forgot cannot put a control byte on a
 * terminal or split a line in syslog.  A line that is plain ASCII, nearly
 * every one, costs one scan.
 */
#include "log.h"
#include "printable.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#define RECENT_MAX 64

static const char *prog = "mailfs";
static gboolean use_syslog;
static unsigned debug_mask;

static GMutex recent_lock;
static char *recent[RECENT_MAX];	/* protected by recent_lock */
static unsigned recent_next;		/* protected by recent_lock */
static unsigned recent_total;		/* protected by recent_lock */

void log_init(const char *progname)
{
	prog = progname;
}

void log_to_syslog(void)
{
	openlog(prog, LOG_PID, LOG_DAEMON);
	use_syslog = TRUE;
}

void log_set_debug(unsigned categories)
{
	debug_mask = categories;
}

gboolean log_debug_enabled(unsigned category)
{
	return (debug_mask & category) != 0;
}

/* `msg` in its printable form: NULL when it is that already, else a copy
 * (caller owns). */
static char *made_printable(const char *msg)
{
	size_t len = strlen(msg);
	GString *out;

	if (printable_is_plain(msg, len))
		return NULL;
	out = g_string_sized_new(len + 16);
	printable_append(out, msg, (gssize)len, G_MAXSIZE);
	return g_string_free(out, FALSE);
}

static void emit(int prio, const char *msg)
{
	g_autofree char *safe = made_printable(msg);

	if (safe)
		msg = safe;
	if (use_syslog)
		syslog(prio, "%s", msg);
	else
		fprintf(stderr, "%s: %s\n", prog, msg);
}

static void vemit(int prio, const char *suffix, const char *fmt, va_list ap)
{
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);

	if (suffix) {
		g_autofree char *full = g_strconcat(msg, ": ", suffix, NULL);
		emit(prio, full);
	} else {
		emit(prio, msg);
	}
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vemit(LOG_WARNING, g_strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void log_debug(unsigned category, const char *fmt, ...)
{
	va_list ap;

	if (!(debug_mask & category))
		return;
	va_start(ap, fmt);
	vemit(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void log_error_record(const char *fmt, ...)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	char *safe = made_printable(msg);
	if (safe) {
		g_free(msg);
		msg = safe;
	}
	emit(LOG_ERR, msg);

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	g_mutex_lock(&recent_lock);
	g_free(recent[recent_next]);
	recent[recent_next] = g_strdup_printf("%s %s", stamp, msg);
	recent_next = (recent_next + 1) % RECENT_MAX;
	recent_total++;
	g_mutex_unlock(&recent_lock);
}

char *log_recent_dump(void)
{
	GString *out = g_string_new(NULL);

	g_mutex_lock(&recent_lock);
	for (unsigned i = 0; i < RECENT_MAX; i++) {
		const char *line = recent[(recent_next + i) % RECENT_MAX];
		if (line)
			g_string_append_printf(out, "%s\n", line);
	}
	g_mutex_unlock(&recent_lock);
	return g_string_free(out, FALSE);
}

unsigned log_error_count(void)
{
	unsigned n;

	g_mutex_lock(&recent_lock);
	n = recent_total;
	g_mutex_unlock(&recent_lock);
	return n;
}
