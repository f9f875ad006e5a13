/*
 * mail-header.h - find one field in an RFC 5322 header block.
 *
 * May not call anything of ours outside common/.  Bounded: looks only at the
 * bytes it is given (callers pass at most the first few KiB of a message).
 */
#ifndef MFS_MAIL_HEADER_H
#define MFS_MAIL_HEADER_H

#include <stddef.h>

/*
 * The unfolded, trimmed value of the first `field` (case-insensitive) in the
 * header block at the start of `buf`.  Returns 0, or -ENOENT when the field is
 * absent before the blank line ending the header (or before `len`).  Caller
 * owns *value_r.
 */
int mail_header_get(const char *buf, size_t len, const char *field,
		    char **value_r);

#endif
