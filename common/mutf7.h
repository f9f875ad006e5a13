/*
 * mutf7.h - IMAP modified UTF-7 (RFC 3501 section 5.1.3), the encoding of
 * mailbox names on the wire, to and from UTF-8.  Modified BASE64 is RFC 2152's
 * alphabet with ',' in place of '/' and no '=' padding.
 *
 * May not call anything of ours outside common/.  On success the functions
 * return 0 and the caller owns *out_r; on failure they return -EINVAL and
 * leave *out_r untouched.
 *
 * The decoder takes only the one encoding RFC 3501 allows for each name, so
 * mutf7_encode(mutf7_decode(x)) == x for every x it accepts, and
 * mutf7_decode(mutf7_encode(y)) == y for every valid UTF-8 y.  A name it
 * refuses is not what the server meant to send; a caller may still show it
 * as it came, escaped like any other name.  Names from a server that has
 * enabled UTF8=ACCEPT (RFC 6855) are UTF-8 already and are not for these
 * functions.
 */
#ifndef MFS_MUTF7_H
#define MFS_MUTF7_H

/*
 * Modified UTF-7 -> UTF-8.  Returns -EINVAL for a byte outside 0x20-0x7E, a
 * "&" shift not closed by "-", a character outside the modified BASE64
 * alphabet, a shift that encodes nothing ("&" followed by fewer bits than one
 * UTF-16 unit; "&-" is the escape for "&" itself), non-zero or surplus
 * padding bits, a shifted NUL or printable ASCII character (each has a
 * shorter spelling), an unpaired surrogate, or a shift that follows another
 * with nothing between ("-&", which RFC 3501 forbids).  Reads `in` only up
 * to its NUL.
 */
int mutf7_decode(const char *in, char **out_r);

/*
 * UTF-8 -> modified UTF-7: "&" becomes "&-", each run of characters outside
 * 0x20-0x7E becomes "&" + modified BASE64 of their UTF-16BE + "-".  Returns
 * -EINVAL if `in` is not valid UTF-8 (overlong forms, surrogates and code
 * points above U+10FFFF are invalid).
 */
int mutf7_encode(const char *in, char **out_r);

#endif
