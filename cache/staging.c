/*
 * staging.c - see staging.h.
 */
#include "staging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "log.h"

struct staging {
	char *dir;		/* owned; staging/ */
	char *rejected;		/* owned; rejected/ */
};

/* A label made safe as one file name component. */
static char *safe_label(const char *label)
{
	char *s = g_strdup(label);

	for (char *p = s; *p; p++) {
		if (*p == '/' || (unsigned char)*p < 0x20)
			*p = '_';
	}
	if (s[0] == '.')
		s[0] = '_';
	return s;
}

int staging_reject(struct staging *st, const char *path, const char *label,
		   const char *reason, char **kept_r)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	g_autofree char *safe = safe_label(label);

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (int n = 0; n < 1000; n++) {
		g_autofree char *name = n ? g_strdup_printf("%s-%d-%s", stamp,
							    n, safe)
					  : g_strdup_printf("%s-%s", stamp, safe);
		g_autofree char *dst = g_build_filename(st->rejected, name,
							NULL);
		if (renameat2(AT_FDCWD, path, AT_FDCWD, dst,
			      RENAME_NOREPLACE) != 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		g_autofree char *why = g_strconcat(dst, ".reason", NULL);
		g_autofree char *text = g_strdup_printf("%s\n", reason);
		if (!g_file_set_contents(why, text, -1, NULL))
			log_warnx("could not write %s", why);
		file_fsync_dir(st->rejected);
		*kept_r = g_steal_pointer(&dst);
		return 0;
	}
	return -EEXIST;
}

/* What a previous daemon left half-written goes where the user can see it. */
static void rescue_leftovers(struct staging *st)
{
	DIR *d = opendir(st->dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		g_autofree char *path = g_build_filename(st->dir, de->d_name,
							 NULL);
		g_autofree char *kept = NULL;
		if (staging_reject(st, path, "unfinished",
				   "was still being written when mailfs "
				   "stopped", &kept) == 0)
			log_warnx("unfinished write kept as %s", kept);
	}
	closedir(d);
}

int staging_open(const char *cache_dir, struct staging **st_r)
{
	struct staging *st = g_new0(struct staging, 1);
	int rc;

	st->dir = g_build_filename(cache_dir, "staging", NULL);
	st->rejected = g_build_filename(cache_dir, "rejected", NULL);
	if ((rc = file_mkdir_p(cache_dir, 0700)) < 0 ||
	    (rc = file_mkdir_p(st->dir, 0700)) < 0 ||
	    (rc = file_mkdir_p(st->rejected, 0700)) < 0) {
		staging_close(&st);
		return rc;
	}
	chmod(cache_dir, 0700);
	rescue_leftovers(st);
	*st_r = st;
	return 0;
}

void staging_close(struct staging **stp)
{
	struct staging *st = *stp;

	if (!st)
		return;
	g_free(st->dir);
	g_free(st->rejected);
	g_free(st);
	*stp = NULL;
}

int staging_create(struct staging *st, int *fd_r, char **path_r)
{
	char *path = g_build_filename(st->dir, "w.XXXXXX", NULL);
	int fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		int rc = -errno;
		g_free(path);
		return rc;
	}
	*fd_r = fd;
	*path_r = path;
	return 0;
}

const char *staging_rejected_dir(struct staging *st)
{
	return st->rejected;
}
