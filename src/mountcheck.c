/*
 * mountcheck.c - see mountcheck.h.  Reads /proc/self/mountinfo (proc(5)):
 * field 5 is the mount point with spaces and the like as octal escapes,
 * and the filesystem type follows the " - " separator.
 */
#include "mountcheck.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Undo mountinfo's \ooo escapes.  Caller owns the result. */
static char *unescape(const char *s)
{
	GString *out = g_string_new(NULL);

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			g_string_append_c(out, (char)((s[1] - '0') * 64 +
						      (s[2] - '0') * 8 +
						      (s[3] - '0')));
			s += 3;
		} else {
			g_string_append_c(out, *s);
		}
	}
	return g_string_free(out, FALSE);
}

gboolean mountcheck_is_mounted(const char *path, char **fstype_r)
{
	g_autofree char *text = NULL;
	gboolean found = FALSE;

	if (!g_file_get_contents("/proc/self/mountinfo", &text, NULL, NULL))
		return FALSE;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i] && !found; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);
		if (g_strv_length(f) < 10)
			continue;
		g_autofree char *mp = unescape(f[4]);
		if (strcmp(mp, path))
			continue;
		found = TRUE;
		for (int j = 6; f[j] && fstype_r; j++) {
			if (!strcmp(f[j], "-") && f[j + 1]) {
				*fstype_r = g_strdup(f[j + 1]);
				break;
			}
		}
	}
	return found;
}

int mountcheck(const char *path, GError **err)
{
	struct stat sb;
	g_autofree char *fstype = NULL;

	if (stat(path, &sb) != 0) {
		int e = errno;
		if (e == ENOTCONN)
			g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "mount point %s is a mount whose daemon "
				    "has gone; run: fusermount3 -u %s", path,
				    path);
		else
			g_set_error(err, G_FILE_ERROR,
				    g_file_error_from_errno(e),
				    "mount point %s: %s", path, g_strerror(e));
		return -e;
	}
	if (!S_ISDIR(sb.st_mode)) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOTDIR,
			    "mount point %s is not a directory", path);
		return -ENOTDIR;
	}
	if (mountcheck_is_mounted(path, &fstype)) {
		g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_EXIST,
			    "%s is already mounted (%s); unmount it first",
			    path, fstype ? fstype : "unknown type");
		return -EBUSY;
	}
	return 0;
}
