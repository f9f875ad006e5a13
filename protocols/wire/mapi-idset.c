/*
 * mapi-idset.c - IDSETs, CNSETs and the GLOBSET encoding.  See
 * mapi-idset.h.  MS-OXCFXICS 2.2.2.4 (IDSET), 2.2.2.5 (GLOBCNT), 2.2.2.6
 * (GLOBSET and its commands), 3.1.5.4 (serialization: the common byte
 * stack, a sixth pushed byte as a single id, the Bitmask's bits).
 */
#include "mapi-idset.h"

#include <errno.h>
#include <string.h>

#include "mapi-buf.h"

#define CMD_END		0x00
#define CMD_PUSH_MAX	0x06
#define CMD_BITMASK	0x42
#define CMD_POP		0x50
#define CMD_RANGE	0x52

uint16_t mapi_idset_id_replid(uint64_t id)
{
	return (uint16_t)id;
}

uint64_t mapi_idset_id_globcnt(uint64_t id)
{
	uint64_t g = 0;
	int i;

	/* wire bytes 2..7 are the counter, most significant first */
	for (i = 2; i < 8; i++)
		g = g << 8 | ((id >> (8 * i)) & 0xFF);
	return g;
}

uint64_t mapi_idset_id_make(uint16_t replid, uint64_t globcnt)
{
	uint64_t id = replid;
	int i;

	for (i = 0; i < 6; i++)
		id |= ((globcnt >> (8 * (5 - i))) & 0xFF) << (8 * (i + 2));
	return id;
}

void mapi_idset_init(struct mapi_idset *s, bool by_guid)
{
	memset(s, 0, sizeof(*s));
	s->by_guid = by_guid;
}

void mapi_idset_clear(struct mapi_idset *s)
{
	size_t i;
	bool by_guid = s->by_guid;

	for (i = 0; i < s->n; i++)
		g_free(s->repl[i].r);
	g_free(s->repl);
	mapi_idset_init(s, by_guid);
}

/* Add lo..hi to a replica's ranges, keeping them ascending and apart
 * (touching ranges become one). */
static void repl_add(struct mapi_idset_repl *r, uint64_t lo, uint64_t hi)
{
	size_t i = 0, j, top = r->n;

	/* the first range that ends at or after lo - 1: sets are mostly
	 * built in order, so look at the last one first */
	if (r->n && r->r[r->n - 1].hi + 1 < lo)
		i = r->n;
	while (i < top) {
		size_t mid = i + (top - i) / 2;

		if (r->r[mid].hi + 1 < lo)
			i = mid + 1;
		else
			top = mid;
	}
	if (i < r->n && r->r[i].lo <= hi + 1) {
		if (lo < r->r[i].lo)
			r->r[i].lo = lo;
		if (hi > r->r[i].hi)
			r->r[i].hi = hi;
		/* swallow the ranges it now reaches */
		j = i + 1;
		while (j < r->n && r->r[j].lo <= r->r[i].hi + 1) {
			if (r->r[j].hi > r->r[i].hi)
				r->r[i].hi = r->r[j].hi;
			j++;
		}
		memmove(&r->r[i + 1], &r->r[j],
			(r->n - j) * sizeof(r->r[0]));
		r->n -= j - i - 1;
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4;
		r->r = g_renew(struct mapi_idset_range, r->r, r->cap);
	}
	memmove(&r->r[i + 1], &r->r[i], (r->n - i) * sizeof(r->r[0]));
	r->r[i].lo = lo;
	r->r[i].hi = hi;
	r->n++;
}

static int key_cmp(const struct mapi_idset *s, const struct mapi_idset_repl *r,
		   uint16_t replid, const uint8_t *guid)
{
	if (s->by_guid)
		return memcmp(r->guid, guid, 16);
	return r->replid < replid ? -1 : r->replid > replid;
}

/* The replica of this key, added in its place when new. */
static struct mapi_idset_repl *repl_get(struct mapi_idset *s, uint16_t replid,
					const uint8_t *guid)
{
	size_t i = 0;
	int c = -1;

	while (i < s->n && (c = key_cmp(s, &s->repl[i], replid, guid)) < 0)
		i++;
	if (i < s->n && c == 0)
		return &s->repl[i];
	s->repl = g_renew(struct mapi_idset_repl, s->repl, s->n + 1);
	memmove(&s->repl[i + 1], &s->repl[i], (s->n - i) * sizeof(s->repl[0]));
	memset(&s->repl[i], 0, sizeof(s->repl[0]));
	s->repl[i].replid = replid;
	if (guid)
		memcpy(s->repl[i].guid, guid, 16);
	s->n++;
	return &s->repl[i];
}

static const struct mapi_idset_repl *repl_find(const struct mapi_idset *s,
					       uint16_t replid,
					       const uint8_t *guid)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (key_cmp(s, &s->repl[i], replid, guid) == 0)
			return &s->repl[i];
	return NULL;
}

int mapi_idset_add_range(struct mapi_idset *s, uint16_t replid,
			 const uint8_t *guid, uint64_t lo, uint64_t hi)
{
	if (lo > hi || hi > MAPI_IDSET_GLOBCNT_MAX || (s->by_guid && !guid))
		return -EINVAL;
	repl_add(repl_get(s, replid, s->by_guid ? guid : NULL), lo, hi);
	return 0;
}

int mapi_idset_add_id(struct mapi_idset *s, uint64_t id, const uint8_t *guid)
{
	uint64_t g = mapi_idset_id_globcnt(id);

	return mapi_idset_add_range(s, mapi_idset_id_replid(id), guid, g, g);
}

static uint64_t be48(const uint8_t *p)
{
	uint64_t g = 0;
	int i;

	for (i = 0; i < 6; i++)
		g = g << 8 | p[i];
	return g;
}

int mapi_idset_add_gid(struct mapi_idset *s, const uint8_t *gid, size_t len)
{
	uint64_t g;

	if (len != 22 || !s->by_guid)
		return -EINVAL;
	g = be48(gid + 16);
	return mapi_idset_add_range(s, 0, gid, g, g);
}

static bool repl_contains(const struct mapi_idset_repl *r, uint64_t g)
{
	size_t lo = 0, hi = r ? r->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g < r->r[mid].lo)
			hi = mid;
		else if (g > r->r[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool mapi_idset_contains(const struct mapi_idset *s, uint64_t id,
			 const uint8_t *guid)
{
	if (s->by_guid && !guid)
		return false;
	return repl_contains(repl_find(s, mapi_idset_id_replid(id), guid),
			     mapi_idset_id_globcnt(id));
}

bool mapi_idset_contains_gid(const struct mapi_idset *s, const uint8_t *gid,
			     size_t len)
{
	if (len != 22 || !s->by_guid)
		return false;
	return repl_contains(repl_find(s, 0, gid), be48(gid + 16));
}

int mapi_idset_union(struct mapi_idset *dst, const struct mapi_idset *src)
{
	size_t i, j;

	if (dst->by_guid != src->by_guid)
		return -EINVAL;
	for (i = 0; i < src->n; i++) {
		const struct mapi_idset_repl *r = &src->repl[i];
		struct mapi_idset_repl *d = repl_get(dst, r->replid,
						     src->by_guid ? r->guid
								  : NULL);

		for (j = 0; j < r->n; j++)
			repl_add(d, r->r[j].lo, r->r[j].hi);
	}
	return 0;
}

uint64_t mapi_idset_count(const struct mapi_idset *s)
{
	uint64_t n = 0;
	size_t i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->repl[i].n; j++)
			n += s->repl[i].r[j].hi - s->repl[i].r[j].lo + 1;
	return n;
}

/* The common byte stack of a GLOBSET decoder: the bytes, and the size of
 * each push so that Pop removes a whole one. */
struct globset_stack {
	uint8_t bytes[6];
	size_t depth;
	uint8_t push[6];
	size_t n_push;
};

/* The stack's bytes followed by `k` bytes of `p`: a GLOBCNT. */
static uint64_t stack_value(const struct globset_stack *st, const uint8_t *p)
{
	uint8_t full[6];

	memcpy(full, st->bytes, st->depth);
	memcpy(full + st->depth, p, 6 - st->depth);
	return be48(full);
}

/* Bitmask (2.2.2.6.3): the starting value is in the set, and bit i of the
 * mask stands for starting value + i + 1; runs of them are ranges. */
static int bitmask(struct mapi_idset_repl *out, const struct globset_stack *st,
		   uint8_t start, uint8_t mask)
{
	uint8_t zero = 0;
	uint64_t high;
	unsigned v = start, run = start, i;

	if (st->depth != 5)
		return -EBADMSG;
	high = stack_value(st, &zero);
	for (i = 0; i < 8; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (start + i + 1 > 0xFF)
			return -EBADMSG;
		if (start + i + 1 != v + 1) {
			repl_add(out, high | run, high | v);
			run = start + i + 1;
		}
		v = start + i + 1;
	}
	repl_add(out, high | run, high | v);
	return 0;
}

int mapi_idset_globset_decode(struct mapi_idset_repl *out,
			      const uint8_t *p, size_t len, size_t *used_r)
{
	struct globset_stack st = { .depth = 0 };
	struct mapi_rd rd;
	const uint8_t *a, *b;
	uint8_t cmd;
	uint64_t lo, hi;
	int rc;

	mapi_rd_init(&rd, p, len);
	for (;;) {
		cmd = mapi_rd_u8(&rd);
		if (mapi_rd_error(&rd))
			return -EBADMSG;
		if (cmd == CMD_END)
			break;
		if (cmd >= 1 && cmd <= CMD_PUSH_MAX) {
			a = mapi_rd_bytes(&rd, cmd);
			if (!a || st.depth + cmd > 6)
				return -EBADMSG;
			if (st.depth + cmd == 6) {
				/* a sixth byte: a single id, popped at once */
				memcpy(st.bytes + st.depth, a, cmd);
				lo = be48(st.bytes);
				repl_add(out, lo, lo);
				continue;
			}
			memcpy(st.bytes + st.depth, a, cmd);
			st.depth += cmd;
			st.push[st.n_push++] = cmd;
		} else if (cmd == CMD_POP) {
			if (!st.n_push)
				return -EBADMSG;
			st.depth -= st.push[--st.n_push];
		} else if (cmd == CMD_BITMASK) {
			a = mapi_rd_bytes(&rd, 2);
			if (!a)
				return -EBADMSG;
			rc = bitmask(out, &st, a[0], a[1]);
			if (rc)
				return rc;
		} else if (cmd == CMD_RANGE) {
			a = mapi_rd_bytes(&rd, 6 - st.depth);
			b = mapi_rd_bytes(&rd, 6 - st.depth);
			if (!a || !b)
				return -EBADMSG;
			lo = stack_value(&st, a);
			hi = stack_value(&st, b);
			if (hi < lo)
				return -EBADMSG;
			repl_add(out, lo, hi);
		} else {
			return -EBADMSG;
		}
	}
	*used_r = rd.off;
	return 0;
}

static void put_be(GByteArray *b, uint64_t v, unsigned from, unsigned to)
{
	unsigned i;

	for (i = from; i < to; i++)
		mapi_wr_u8(b, (uint8_t)(v >> (8 * (5 - i))));
}

/* High-order bytes lo and hi share, 0 to 6. */
static unsigned common_bytes(uint64_t lo, uint64_t hi)
{
	unsigned k = 0;

	while (k < 6 && ((lo >> (8 * (5 - k))) & 0xFF) ==
			((hi >> (8 * (5 - k))) & 0xFF))
		k++;
	return k;
}

void mapi_idset_globset_encode(const struct mapi_idset_repl *r,
			       enum mapi_idset_style style, GByteArray *b)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		uint64_t lo = r->r[i].lo, hi = r->r[i].hi;
		unsigned k = style == MAPI_IDSET_COMPACT ?
			     common_bytes(lo, hi) : (lo == hi ? 6 : 0);

		if (k == 6) {
			mapi_wr_u8(b, 6);
			put_be(b, lo, 0, 6);
			continue;
		}
		if (k) {
			mapi_wr_u8(b, (uint8_t)k);
			put_be(b, lo, 0, k);
		}
		mapi_wr_u8(b, CMD_RANGE);
		put_be(b, lo, k, 6);
		put_be(b, hi, k, 6);
		if (k)
			mapi_wr_u8(b, CMD_POP);
	}
	mapi_wr_u8(b, CMD_END);
}

int mapi_idset_decode(struct mapi_idset *s, const void *p, size_t len,
		      bool by_guid)
{
	const uint8_t *at = p;
	struct mapi_idset_repl *r;
	size_t key = by_guid ? 16 : 2, used;
	uint16_t replid;
	int rc;

	mapi_idset_clear(s);
	s->by_guid = by_guid;
	while (len) {
		if (len < key + 1) {
			rc = -EBADMSG;
			goto fail;
		}
		replid = (uint16_t)(at[0] | at[1] << 8);
		r = repl_get(s, replid, by_guid ? at : NULL);
		rc = mapi_idset_globset_decode(r, at + key, len - key, &used);
		if (rc)
			goto fail;
		at += key + used;
		len -= key + used;
	}
	return 0;
fail:
	mapi_idset_clear(s);
	return rc;
}

void mapi_idset_encode(const struct mapi_idset *s,
		       enum mapi_idset_style style, GByteArray *b)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->by_guid)
			mapi_wr_guid(b, s->repl[i].guid);
		else
			mapi_wr_u16(b, s->repl[i].replid);
		mapi_idset_globset_encode(&s->repl[i], style, b);
	}
}
