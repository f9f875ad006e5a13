/*
 * printable.h - text from a peer made safe to log and to show.
 *
 * May not call anything of ours outside common/.  What a server says (a
 * greeting, a refusal, a SOAP fault, an OAuth2 error description) ends up
 * on a terminal, in syslog and in .mailfs/errors; written there as it came,
 * an escape sequence could retitle the window, clear the screen or fake a
 * log line.  Every such text goes through these functions first.
 *
 * The printable form of a text keeps printable ASCII and valid UTF-8, and
 * writes as "\xHH" (two lower-case hex digits) each byte that is
 *   - below 0x20 (tab, newline and escape included) or 0x7F;
 *   - not part of valid UTF-8 (a stray byte, a cut, overlong or surrogate
 *     sequence);
 *   - part of a C1 control character (U+0080-U+009F, which some terminals
 *     obey as ESC-sequences), a line or paragraph separator (U+2028,
 *     U+2029) or a bidirectional embedding, override or isolate (U+202A-
 *     U+202E, U+2066-U+2069), which reorder what a reader sees.
 * A backslash is kept as it is: the form is for reading, not for decoding.
 */
#ifndef MFS_PRINTABLE_H
#define MFS_PRINTABLE_H

#include <glib.h>
#include <stdbool.h>

/* How many bytes of output printable() gives at most before its "...". */
#define PRINTABLE_MAX 512

/*
 * The printable form of `s` (`len` bytes, or up to its NUL when `len` is
 * negative), cut after PRINTABLE_MAX bytes of output at a whole character
 * or escape, with "..." added when cut.  NULL for NULL.  Caller owns the
 * result.
 */
char *printable(const char *s, gssize len);

/*
 * Append the printable form of `s` (`len` bytes, or up to its NUL when
 * `len` is negative) to `out`, stopping before a character or escape that
 * would take out->len past `max`.  Returns false when it stopped there,
 * true when all of `s` went in.
 */
bool printable_append(GString *out, const char *s, gssize len, size_t max);

/*
 * Whether `s` (`len` bytes) is its own printable form, so that a caller can
 * skip the copy: no byte below 0x20 or 0x7F, nothing above 0x7F (text with
 * UTF-8 in it is not checked here; printable_append decides).
 */
bool printable_is_plain(const char *s, size_t len);

#endif
