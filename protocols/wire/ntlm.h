/*
 * ntlm.h - the NTLM messages a server reads and writes over HTTP
 * (NEGOTIATE, CHALLENGE, AUTHENTICATE; MS-NLMP 2.2.1), their AV pairs
 * (MS-NLMP 2.2.2.1), and the NTLMv2 check of an AUTHENTICATE's response
 * (MS-NLMP 3.3.2), with MD4 (RFC 1320) written here, since OpenSSL 3
 * keeps it out of its default provider.
 *
 * Only NTLMv2 is verified: an LM or NTLMv1 response (24 bytes, or none) is
 * told apart and refused by the caller, as Windows does with its "NTLMv2
 * only" policy.  No signing or sealing: HTTP uses NTLM for the login only.
 *
 * Hostile input: every field's offset and length is checked against the
 * message before it is read; strings are converted to UTF-8 or refused.
 *
 * No I/O.  Ownership: the caller's buffers are borrowed for a call;
 * results the caller owns are said so.
 */
#ifndef MFS_WIRE_NTLM_H
#define MFS_WIRE_NTLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#define NTLM_CHALLENGE_LEN 8
#define NTLM_HASH_LEN 16
/* the most bytes of a message we read: a few names and a response */
#define NTLM_MESSAGE_MAX 8192

/* NegotiateFlags bits (MS-NLMP 2.2.2.5) that the server looks at */
#define NTLM_NEGOTIATE_UNICODE 0x00000001u
#define NTLM_NEGOTIATE_OEM 0x00000002u
#define NTLM_REQUEST_TARGET 0x00000004u
#define NTLM_NEGOTIATE_SIGN 0x00000010u
#define NTLM_NEGOTIATE_NTLM 0x00000200u
#define NTLM_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLM_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLM_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLM_NEGOTIATE_128 0x20000000u
#define NTLM_NEGOTIATE_KEY_EXCH 0x40000000u
#define NTLM_NEGOTIATE_56 0x80000000u

/* MD4 of `len` bytes (RFC 1320). */
void ntlm_md4(const void *data, size_t len, uint8_t out[NTLM_HASH_LEN]);

/* NTOWFv1: MD4 of the UTF-16LE password (MS-NLMP 3.3.1).  Returns 0, or
 * -EINVAL when `password` is not UTF-8. */
int ntlm_nt_hash(const char *password, uint8_t out[NTLM_HASH_LEN]);

/* NTOWFv2 from the NT hash: HMAC-MD5 keyed with it over the UTF-16LE of
 * the upper-cased user and the domain as given (MS-NLMP 3.3.2).  Returns 0,
 * or -EINVAL when a name is not UTF-8. */
int ntlm_ntowfv2(const uint8_t nt_hash[NTLM_HASH_LEN], const char *user,
		 const char *domain, uint8_t out[NTLM_HASH_LEN]);

/* The type of an NTLM message (1, 2 or 3), or 0 when `msg` does not start
 * with the NTLMSSP signature and a type. */
unsigned ntlm_message_type(const uint8_t *msg, size_t len);

/* A NEGOTIATE_MESSAGE's flags.  Returns 0, or -EINVAL when `msg` is not
 * one. */
int ntlm_parse_negotiate(const uint8_t *msg, size_t len, uint32_t *flags_r);

/*
 * The CHALLENGE_MESSAGE answering a NEGOTIATE with `client_flags`: the
 * server's 8 bytes, the target `name` (the NetBIOS domain and computer
 * name; ASCII), and target info naming it with the time `filetime`
 * (100 ns since 1601, MsvAvTimestamp), which NTLMv2 clients need.
 * Caller owns the result.
 */
GByteArray *ntlm_build_challenge(uint32_t client_flags,
				 const uint8_t challenge[NTLM_CHALLENGE_LEN],
				 const char *name, uint64_t filetime);

/* What an AUTHENTICATE_MESSAGE carries.  Members owned by the struct. */
struct ntlm_authenticate {
	uint32_t flags;
	char *user, *domain, *workstation;	/* UTF-8 */
	uint8_t *nt;				/* NtChallengeResponse */
	size_t nt_len;
};

/*
 * Parse an AUTHENTICATE_MESSAGE into `a` (cleared first).  Returns 0;
 * -EINVAL when it is malformed (a field outside the message, a name that
 * is not text); -EPROTONOSUPPORT when its response is not NTLMv2 (LM or
 * NTLMv1, or anonymous), which the caller refuses.  On error `a` holds
 * nothing.
 */
int ntlm_parse_authenticate(const uint8_t *msg, size_t len,
			    struct ntlm_authenticate *a);
void ntlm_authenticate_clear(struct ntlm_authenticate *a);

/*
 * Whether the NTLMv2 response `nt` (NTProofStr and the client's
 * challenge, MS-NLMP 2.2.2.8) answers `challenge` under the key
 * `ntowfv2`; compares in constant time.
 */
bool ntlm_v2_verify(const uint8_t ntowfv2[NTLM_HASH_LEN],
		    const uint8_t challenge[NTLM_CHALLENGE_LEN],
		    const uint8_t *nt, size_t nt_len);

#endif
