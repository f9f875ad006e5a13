/*
 * smtp-envelope.h - what a message file says about its own submission: the
 * envelope sender (From:), the recipients (To:, Cc:, Bcc:), and the bytes to
 * transmit (Bcc: taken out, lines ended with CRLF).  RFC 5322 (header
 * fields, address lists), RFC 2047 (encoded display names), RFC 5321
 * (the envelope and the DATA line ends), RFC 6409 section 8 (a submission
 * agent removes Bcc:).
 *
 * May call GLib, GMime and common/ only (the header block is read by
 * common/mail-header.h).  Functions return 0 or -errno; the reason a file
 * cannot be sent is a sentence for the user in *why_r (caller owns).
 */
#ifndef MFS_SMTP_ENVELOPE_H
#define MFS_SMTP_ENVELOPE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The header block is read whole; larger than this is not a message. */
#define SMTP_HEADER_MAX (1024 * 1024)
/* Recipients of one message at most. */
#define SMTP_RCPT_MAX 1000

struct smtp_envelope {
	char *sender;		/* owned; the address of From: */
	GPtrArray *rcpts;	/* owned; of char *, owned: addresses, each
				   once, in the order of the header fields */
	GByteArray *head;	/* owned; the header block to transmit
				   (without Bcc:, CRLF line ends, the empty
				   line included when the file had one) */
	off_t body_at;		/* where the body starts in the file */
};

/*
 * Read the header block of the message in `buf` (`len` bytes: the file's
 * start, at most SMTP_HEADER_MAX + 2 bytes of it, `whole` when that is the
 * whole file) and fill *env.  -EINVAL with *why_r when the file is not a
 * message, has no usable From: address or no recipient.
 */
int smtp_envelope_parse(const char *buf, size_t len, bool whole,
			struct smtp_envelope *env, char **why_r);
void smtp_envelope_clear(struct smtp_envelope *env);

/*
 * Line ends of the body for transmission: every LF not preceded by CR gets
 * one.  Converts `len` bytes of `in` into `out` (at least 2 * len bytes),
 * `*cr` carrying whether the previous chunk ended in CR.  Returns the
 * bytes written.
 */
size_t smtp_crlf(const char *in, size_t len, char *out, bool *cr);

#endif
