/*
 * maildir-name.h - Maildir file names: "<unique>:2,<letters>" in cur/,
 * "<unique>" in new/.  See https://cr.yp.to/proto/maildir.html and Dovecot's
 * Maildir notes for the info suffix and letter order.
 *
 * May not call anything of ours outside common/.  Flags use the MFS_FLAG_*
 * bit layout of protocols/backend.h (one bit per letter, A-Z then a-z), which
 * is repeated here as plain arithmetic so common/ stays free of it.
 */
#ifndef MFS_MAILDIR_NAME_H
#define MFS_MAILDIR_NAME_H

#include <glib.h>
#include <stdint.h>

#define MAILDIR_FLAG_NEW (UINT64_C(1) << 63)

/* The bit for one info letter, 0 for anything that is not A-Z or a-z. */
uint64_t maildir_flag_bit(char c);

/* Letters -> bits.  Unknown characters are ignored. */
uint64_t maildir_flags_parse(const char *letters);

/* Bits -> letters in ASCII order.  Caller owns the result. */
char *maildir_flags_format(uint64_t flags);

/*
 * Split a file name into its unique part and flags.  A name without ":2," is
 * all unique part with no flags.  Returns 0, or -EINVAL for a name that can
 * never be a message ("", ".", "..", a dot-file, or an empty unique part).
 * Caller owns *id_r.
 */
int maildir_name_parse(const char *name, char **id_r, uint64_t *flags_r);

/*
 * The name a message has: "<id>" when only MAILDIR_FLAG_NEW is set (it lives
 * in new/ and no letter is set), "<id>:2,<letters>" otherwise.  Caller owns
 * the result.
 */
char *maildir_name_format(const char *id, uint64_t flags);

/*
 * A fresh unique part, "<sec>.M<usec>P<pid>Q<n>.<host>" as Maildir writers
 * make them; '/' and ':' in the host name are replaced.  Caller owns it.
 */
char *maildir_unique_new(void);

#endif
