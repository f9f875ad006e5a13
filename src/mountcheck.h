/*
 * mountcheck.h - is a path fit to mount on?  Said before anything starts, so
 * the user gets one clear sentence instead of a failure from deep inside.
 */
#ifndef MFS_MOUNTCHECK_H
#define MFS_MOUNTCHECK_H

#include <glib.h>

/* 0 if `path` (absolute) is an existing directory with nothing mounted on
 * it; else -errno and the reason in *err. */
int mountcheck(const char *path, GError **err);

/* Whether something is mounted at `path`; *fstype_r (caller owns, may be
 * NULL) gets its type. */
gboolean mountcheck_is_mounted(const char *path, char **fstype_r);

#endif
