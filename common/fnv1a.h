/*
 * fnv1a.h - FNV-1a, 64 bits: a hash whose values are the same in every
 * build and every run (unlike g_str_hash, which promises nothing about its
 * values), for ids and keys that are kept on disk or shown to clients.
 * Not for anything an adversary must not steer.
 */
#ifndef MFS_FNV1A_H
#define MFS_FNV1A_H

#include <stddef.h>
#include <stdint.h>

/* The offset basis: where a hash starts. */
#define FNV1A_64_INIT UINT64_C(0xcbf29ce484222325)

/* `h` (FNV1A_64_INIT, or a hash so far) with `len` bytes of `data`. */
static inline uint64_t fnv1a_64(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

#endif
