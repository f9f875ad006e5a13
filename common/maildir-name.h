/*
 * maildir-name.h - Maildir file names: "<unique>:2,<letters>" in cur/,
 * "<unique>" in new/.  See https://cr.yp.to/proto/maildir.html and Dovecot's
 * Maildir notes for the info suffix and letter order.  The lowercase
 * letters are keywords, named by the folder's "dovecot-keywords" file as
 * Dovecot keeps it (below).
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

/*
 * Keywords, as Dovecot keeps them in a Maildir: the file "dovecot-keywords"
 * in the folder's directory holds one "<index> <name>" line per keyword,
 * index 0 for letter 'a' up to 25 for 'z'; a message has a keyword when its
 * letter is in its info part.  Lines of any other shape are skipped, as
 * Dovecot skips them.  Names compare without regard to ASCII case (RFC
 * 3501 section 2.3.2).  A name that could not be sent as an IMAP atom is
 * skipped too: no client could be told it.
 *
 * The file is only ever replaced whole (a temporary file renamed over it),
 * while holding the folder's "dovecot-uidlist.lock", the lock Dovecot
 * itself takes before it changes dovecot-keywords.  A lock older than
 * MAILDIR_KEYWORDS_STALE_S is taken to be left by a writer that died, as
 * Dovecot takes it.
 */
#define MAILDIR_KEYWORDS_FILE "dovecot-keywords"
#define MAILDIR_KEYWORDS_LOCK "dovecot-uidlist.lock"
#define MAILDIR_KEYWORDS_MAX 26
#define MAILDIR_KEYWORDS_STALE_S 120
/* The bits of the keyword letters 'a'..'z'. */
#define MAILDIR_KEYWORD_BITS (((UINT64_C(1) << 26) - 1) << 26)

struct maildir_keywords {
	char *names[MAILDIR_KEYWORDS_MAX];	/* owned; NULL where unused */
};

/* The flag bit of keyword index `idx` (0 for 'a'). */
uint64_t maildir_keyword_bit(unsigned idx);

/* Read the keywords of the Maildir folder at `dir` into *kw (cleared
 * first); no file means no keywords.  Returns 0 or -errno. */
int maildir_keywords_read(const char *dir, struct maildir_keywords *kw);

void maildir_keywords_clear(struct maildir_keywords *kw);

/* Whether two lists name the same keywords at the same letters. */
gboolean maildir_keywords_equal(const struct maildir_keywords *a,
				const struct maildir_keywords *b);

/* The index of `name` in *kw, or -1. */
int maildir_keywords_find(const struct maildir_keywords *kw, const char *name);

/* How many letters of *kw are free. */
unsigned maildir_keywords_room(const struct maildir_keywords *kw);

/* Whether `name` may be a keyword: an IMAP atom not starting with '\'. */
gboolean maildir_keyword_valid(const char *name);

/*
 * The bits of the keywords `names` (n of them) in the folder at `dir`,
 * adding the names its file lacks under the lock.  *kw is left holding what
 * the file holds afterwards.  Returns 0; -ENOSPC when some name found no
 * free letter (then nothing was added); -EINVAL for a name that is not a
 * valid keyword; -EWOULDBLOCK when another writer held the lock for longer
 * than a few seconds; or another -errno.
 */
int maildir_keywords_add(const char *dir, const char *const *names, size_t n,
			 struct maildir_keywords *kw, uint64_t *bits_r);

/*
 * `flags` of a message of the folder at `src_dir`, with its keyword letters
 * changed to the letters the same names have in the folder at `dst_dir`
 * (added there when missing).  A letter without a name in the source stays
 * as it is.  Returns 0 with *flags_r; -ENOSPC when the destination has no
 * free letter for one of the names; another -errno otherwise.
 */
int maildir_keywords_remap(const char *src_dir, const char *dst_dir,
			   uint64_t flags, uint64_t *flags_r);

#endif
