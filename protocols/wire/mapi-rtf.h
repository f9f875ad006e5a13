/*
 * mapi-rtf.h - the RTF body of a MAPI message: PidTagRtfCompressed
 * (MS-OXRTFCP: its 16-byte header, LZFu compression with the 4096-byte
 * dictionary and the uncompressed "MELA" form, the CRC-32 the header
 * carries) and what the RTF holds (MS-OXRTFEX: HTML encapsulated with
 * \fromhtml1, plain text with \fromtext, and for any other RTF a
 * rendering of its words as plain text).
 *
 * Every input is untrusted: a header's sizes are checked against the bytes
 * there are, nothing is allocated from a size the header claims beyond
 * what the input can produce, output stops at the caller's limit, and
 * group nesting is bounded.  No I/O.
 *
 * Ownership: results through _r parameters belong to the caller.
 */
#ifndef MFS_MAPI_RTF_H
#define MFS_MAPI_RTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* COMPTYPE, MS-OXRTFCP 2.1.3.1.1: "LZFu" and "MELA" as little-endian. */
#define MAPI_RTF_LZFU		0x75465A4CU
#define MAPI_RTF_MELA		0x414C454DU
#define MAPI_RTF_HEADER_SIZE	16

/* The deepest group nesting the RTF readers follow. */
#define MAPI_RTF_MAX_DEPTH	512

struct mapi_rtf_header {
	uint32_t comp_size;	/* bytes after this field */
	uint32_t raw_size;	/* bytes of RTF the contents stand for */
	uint32_t comp_type;	/* MAPI_RTF_LZFU or MAPI_RTF_MELA */
	uint32_t crc;		/* of the contents; 0 for MELA */
};

/* Accept what a strict reading refuses but a viewer can still show: a CRC
 * that does not match, a RawSize that differs from the output, compressed
 * data that ends without its end marker. */
#define MAPI_RTF_LENIENT	0x1U

/*
 * The CRC-32 of MS-OXRTFCP 3.1.3.2: the reflected polynomial 0xEDB88320,
 * started from `crc` (0 for a whole buffer) with no final inversion.
 */
uint32_t mapi_rtf_crc(uint32_t crc, const void *p, size_t n);

/*
 * The header of a PidTagRtfCompressed value.  Returns 0, -EBADMSG when
 * fewer than 16 bytes are there or CompSize claims more than there is (or
 * less than the header's own 12 bytes), -EPROTO for an unknown COMPTYPE.
 */
int mapi_rtf_header_read(const void *p, size_t len,
			 struct mapi_rtf_header *h_r);

/*
 * The RTF a PidTagRtfCompressed value holds.  At most `limit` bytes come
 * out; more gives -EFBIG.  Returns 0 with *out_r (caller owns,
 * g_byte_array_unref), or: what mapi_rtf_header_read() returns; -EBADMSG
 * for compressed data that ends before its end marker or for a RawSize
 * that is not what came out; -EILSEQ when the CRC does not match.
 * MAPI_RTF_LENIENT in `flags` turns those three into success.  `h_r`, when
 * not NULL, gets the header (also on a failure after the header was read).
 */
int mapi_rtf_decompress(const void *p, size_t len, size_t limit,
			unsigned flags, GByteArray **out_r,
			struct mapi_rtf_header *h_r);

/*
 * Append the PidTagRtfCompressed form of `rtf` to `out`: LZFu when
 * `compress`, else MELA.  Returns 0, or -EFBIG for input of 4 GiB or more
 * (the header's sizes are 32-bit).
 */
int mapi_rtf_compress(const void *rtf, size_t len, bool compress,
		      GByteArray *out);

/* What an RTF document is, MS-OXRTFEX 2.2.3.1. */
enum mapi_rtf_kind {
	MAPI_RTF_PLAIN,		/* neither: its text is a rendering */
	MAPI_RTF_FROMHTML,	/* \fromhtml1: the original HTML */
	MAPI_RTF_FROMTEXT,	/* \fromtext: the original plain text */
};

/*
 * What RTF `rtf` holds, as UTF-8: the HTML it encapsulates (\fromhtml1),
 * the plain text it encapsulates (\fromtext), or for other RTF the text of
 * its body with paragraphs as CRLF and the header and other destinations
 * (\fonttbl, \colortbl, \*\...) left out.  8-bit text and \'xx escapes are
 * read in the code page of the current font (\fcharset, \cpg) or the
 * document's (\ansicpg, default 1252); \uN with \ucN gives Unicode.
 *
 * Returns 0 with *kind_r, *text_r (caller owns, g_free; NUL-terminated)
 * and *len_r (its length without the NUL); -EBADMSG when `rtf` does not
 * begin with "{\rtf"; -EFBIG when the text would exceed `limit` bytes;
 * -ELOOP for groups nested deeper than MAPI_RTF_MAX_DEPTH.
 */
int mapi_rtf_extract(const void *rtf, size_t len, size_t limit,
		     enum mapi_rtf_kind *kind_r, char **text_r, size_t *len_r);

#endif
