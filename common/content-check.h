/*
 * content-check.h - is this byte string a vCard (RFC 6350, also 2.1/3.0) or
 * an iCalendar object (RFC 5545)?  A structural check of content lines and
 * BEGIN/END nesting, enough to refuse what a server would refuse; not a full
 * parser.  May not call anything of ours outside common/.
 */
#ifndef MFS_CONTENT_CHECK_H
#define MFS_CONTENT_CHECK_H

#include <stddef.h>

/* Return 0 if valid, else -EINVAL and a reason in *why_r (caller owns). */
int content_check_vcard(const char *buf, size_t len, char **why_r);
int content_check_icalendar(const char *buf, size_t len, char **why_r);

#endif
