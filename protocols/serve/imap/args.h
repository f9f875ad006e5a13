/*
 * args.h - the IMAP server's reading of command arguments, apart
 * from any session so that tests and fuzz targets can reach it.
 * Functions return 0 or -EINVAL where they can fail; results are owned by
 * the caller where a function says so.
 */
#ifndef MFS_IMAP_SERVER_ARGS_H
#define MFS_IMAP_SERVER_ARGS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "wire/imap-parse.h"

/* Sequence sets: ranges of numbers where `star` stands for '*', sorted
 * and merged.  Returns 0 or -EINVAL; caller owns *ranges_r (of uint32_t
 * pairs). */
int imapd_seqset_parse(const char *s, uint32_t star, GArray **ranges_r);
bool imapd_seqset_has(const GArray *ranges, uint32_t n);

/* The store path for a mailbox name from the client, NULL when the name
 * is not acceptable (leaves the store, empty part, a part starting with
 * '.', not modified UTF-7).  Caller owns the result. */
char *imapd_mailbox_path(const char *name);
/* The wire name of a store path.  Caller owns the result. */
char *imapd_mailbox_name(const char *path);

/* The store's flag letters that IMAP system flags stand for. */
#define IMAP_SYSTEM_FLAGS (MFS_FLAG_SEEN | MFS_FLAG_REPLIED | \
			   MFS_FLAG_FLAGGED | MFS_FLAG_TRASHED | MFS_FLAG_DRAFT)

/* System flags of a parenthesised list or one flag into *flags_r
 * (MFS_FLAG_* letters), keywords into `keywords` (of const char *,
 * borrowed from `a`; the letters they get depend on the folder);
 * -EINVAL for an unknown system flag or a keyword no Maildir can keep.
 * \Recent is taken and dropped. */
int imapd_flags_parse(const struct imap_arg *a, uint64_t *flags_r,
		      GPtrArray *keywords);

#endif
