/*
 * secret.h - wiping passwords and tokens before their memory goes back to
 * the allocator, where a later core dump, a swap file or a reader of
 * /proc/PID/mem would still find them.  May not call anything of ours
 * outside common/.
 */
#ifndef MFS_SECRET_H
#define MFS_SECRET_H

#include <glib.h>
#include <stddef.h>

/* Clear `len` bytes at `p` in a way the compiler may not drop. */
void secret_wipe(void *p, size_t len);

/* Clear a NUL-terminated secret up to its NUL, then g_free() it; NULL is
 * fine. */
void secret_free(char *s);

/* secret_free() and set *s to NULL. */
void secret_clear(char **s);

/* Append `len` bytes to the secret `s` and return the string to use from
 * now on: when the buffer must grow, the bytes move to a new string and
 * the old buffer is cleared before it is freed (g_string_append() would
 * leave a copy behind in the freed block). */
GString *secret_string_append(GString *s, const char *p, size_t len);

/* Clear all of a GString's buffer (every byte it ever held, not only the
 * current length), then free it; NULL is fine. */
void secret_string_free(GString *s);

#endif
