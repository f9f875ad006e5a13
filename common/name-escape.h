/*
 * name-escape.h - one component of a server's folder name as one file name,
 * and back.  May not call anything of ours outside common/.
 *
 * A byte is written "%XX" (two upper-case hex digits) when it is '/', below
 * 0x20, or 0x7F, and for '%' only when two hex digits of either case follow
 * it, so that "50% off" stays as it is while "100%25" becomes "100%2525".
 * Every other byte, UTF-8 or not, is kept.  Whole names that would mean
 * something else in a directory are escaped too:
 *   ""            -> "%00"     (NUL cannot occur in a name, so this is free)
 *   "."           -> "%2E"
 *   ".."          -> "%2E%2E"
 *   ".mailfs"     -> "%2Emailfs"   with NAME_CTX_TOP, as is every name
 *                                starting with '.' there (".Trash" ->
 *                                "%2ETrash"): at the top of the mount
 *                                those are .mailfs/ and the local
 *                                dot-directories (.notmuch), never folders
 *   "cur" "new" "tmp" -> "%63ur" "%6Eew" "%74mp"   with NAME_CTX_IN_MAIL
 * Below the top, names starting with '.' are kept: they are ordinary
 * hidden files.
 *
 * name_escape is injective for each ctx; name_unescape takes exactly its
 * results (the canonical spelling) and nothing else, so a directory made
 * under a name is listed under that same name.
 */
#ifndef MFS_NAME_ESCAPE_H
#define MFS_NAME_ESCAPE_H

/* Where the file name lives; a bit set of these is the `ctx` argument. */
#define NAME_CTX_TOP		(1u << 0)	/* the root of the mount */
#define NAME_CTX_IN_MAIL	(1u << 1)	/* inside a mail folder */

/* The file name that shows `component`.  Caller owns the result. */
char *name_escape(const char *component, unsigned ctx);

/*
 * The component that `filename` shows, for a name a user gives (mkdir,
 * rename).  Returns 0 with *component_r set (caller owns it), or -EINVAL,
 * leaving *component_r untouched, when:
 *   - `filename` is not what name_escape would write for what it decodes to
 *     (lower-case hex, "%41" for "A", a bare "cur" inside a mail folder or
 *     ".mailfs" or any other name starting with '.' at the top);
 *   - it decodes to a component that cannot be created as one folder: one
 *     containing '/', or "", "." or "..".
 * The second rule breaks the round trip for those names on purpose: a folder
 * such a name shows (a server whose delimiter is '.' may have "a/b") is
 * still listed, under its escaped name, and must be found by that name in
 * the listing, but can never be made through the mount.  A reserved name in
 * its escaped form ("%63ur" inside a mail folder) is an ordinary folder on
 * the server and is accepted.
 */
int name_unescape(const char *filename, unsigned ctx, char **component_r);

/*
 * The ctx of the component `depth` levels below the top of a folder path
 * (0: a folder at the root of the mount).  Every deeper folder's directory
 * sits inside a mail folder's, where cur, new and tmp are taken.
 */
unsigned name_ctx_at(int depth);

/*
 * name_escape() of the component at `depth` of a folder path, made to fit
 * a file name (255 bytes): a longer one keeps at most its first 200 bytes,
 * cut at a UTF-8 character boundary, followed by '~' and 16 hex digits of
 * the SHA-256 of the whole escaped name, so that it stays unique.  Such a
 * name does not unescape: the caller's folder map must lead back to the
 * server's name.  Caller owns the result.
 */
char *name_escape_at(const char *component, int depth);

#endif
