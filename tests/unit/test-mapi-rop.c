/*
 * test-mapi-rop.c - the logon, folder, table and property ROPs of
 * wire/rop.h against the recorded exchanges of tests/data/mapi-traces/:
 * every ROP buffer of an Execute split with rop_frame_read, each ROP of
 * these families read, checked against what the recording shows, written
 * again and compared byte for byte, and every shorter prefix of it
 * refused.  The Execute body around the ROP buffer (MS-OXCMAPIHTTP
 * 2.2.4.2) is stepped over by hand here.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "wire/mapi-buf.h"
#include "wire/mapi-propval.h"
#include "wire/mapi-tags.h"
#include "wire/rop.h"
#include "mapi-trace.h"

/* What the walk over a scenario learnt: the context responses need (the
 * columns of the open table, the tags asked for) and the last response of
 * each kind, for the checks of each scenario. */
struct ctx {
	uint32_t *cols;
	size_t n_cols;
	GPtrArray *gps_tags;		/* of struct rop_get_props_specific_req */
	guint gps_used;
	unsigned n_req[256], n_resp[256];
	struct rop_logon_req logon_req;
	struct rop_logon_resp logon;
	struct rop_create_folder_req create_req;
	struct rop_create_folder_resp create;
	struct rop_query_rows_resp rows;
	struct rop_get_props_specific_resp gps;
	struct rop_set_props_req setp;
	struct rop_problems_resp setp_resp;
	struct rop_delete_folder_req delf;
	struct rop_partial_resp delf_resp;
	struct rop_get_table_resp table;
	struct rop_query_position_resp pos;
	struct rop_open_folder_req openf;
};

typedef int (*rop_fn)(struct mapi_rd *r, GByteArray *out, struct ctx *c,
		      bool keep);

static void gps_req_free(gpointer p)
{
	rop_get_props_specific_req_clear(p);
	g_free(p);
}

static void ctx_init(struct ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->gps_tags = g_ptr_array_new_with_free_func(gps_req_free);
}

static void ctx_clear(struct ctx *c)
{
	g_free(c->cols);
	g_ptr_array_unref(c->gps_tags);
	rop_logon_req_clear(&c->logon_req);
	rop_logon_resp_clear(&c->logon);
	rop_create_folder_req_clear(&c->create_req);
	rop_create_folder_resp_clear(&c->create);
	rop_query_rows_resp_clear(&c->rows);
	rop_get_props_specific_resp_clear(&c->gps);
	rop_set_props_req_clear(&c->setp);
	rop_problems_resp_clear(&c->setp_resp);
}

/*
 * The request handlers: read, write back, and with `keep` remember what
 * later checks and responses need.  A prefix run (keep false) only reads.
 */
static int q_release(struct mapi_rd *r, GByteArray *o, struct ctx *c,
		     bool keep)
{
	struct rop_release_req q;
	int rc = rop_release_req_read(r, &q);

	if (!rc)
		rop_release_req_write(o, &q);
	return rc;
}

static int q_logon(struct mapi_rd *r, GByteArray *o, struct ctx *c, bool keep)
{
	struct rop_logon_req q;
	int rc = rop_logon_req_read(r, &q);

	if (rc)
		return rc;
	rop_logon_req_write(o, &q);
	if (keep) {
		rop_logon_req_clear(&c->logon_req);
		c->logon_req = q;
	} else {
		rop_logon_req_clear(&q);
	}
	return 0;
}

static int q_open_folder(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			 bool keep)
{
	struct rop_open_folder_req q;
	int rc = rop_open_folder_req_read(r, &q);

	if (rc)
		return rc;
	rop_open_folder_req_write(o, &q);
	if (keep)
		c->openf = q;
	return 0;
}

static int q_create_folder(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			   bool keep)
{
	struct rop_create_folder_req q;
	int rc = rop_create_folder_req_read(r, &q);

	if (rc)
		return rc;
	rop_create_folder_req_write(o, &q);
	if (keep) {
		rop_create_folder_req_clear(&c->create_req);
		c->create_req = q;
	} else {
		rop_create_folder_req_clear(&q);
	}
	return 0;
}

static int q_delete_folder(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			   bool keep)
{
	struct rop_delete_folder_req q;
	int rc = rop_delete_folder_req_read(r, &q);

	if (rc)
		return rc;
	rop_delete_folder_req_write(o, &q);
	if (keep)
		c->delf = q;
	return 0;
}

static int q_hier(struct mapi_rd *r, GByteArray *o, struct ctx *c, bool keep)
{
	struct rop_get_table_req q;
	int rc = rop_get_hierarchy_table_req_read(r, &q);

	if (!rc)
		rop_get_hierarchy_table_req_write(o, &q);
	return rc;
}

static int q_contents(struct mapi_rd *r, GByteArray *o, struct ctx *c,
		      bool keep)
{
	struct rop_get_table_req q;
	int rc = rop_get_contents_table_req_read(r, &q);

	if (!rc)
		rop_get_contents_table_req_write(o, &q);
	return rc;
}

static int q_set_columns(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			 bool keep)
{
	struct rop_set_columns_req q;
	int rc = rop_set_columns_req_read(r, &q);

	if (rc)
		return rc;
	rop_set_columns_req_write(o, &q);
	if (keep) {
		g_free(c->cols);
		c->cols = q.cols;
		c->n_cols = q.n_cols;
	} else {
		rop_set_columns_req_clear(&q);
	}
	return 0;
}

static int q_query_rows(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			bool keep)
{
	struct rop_query_rows_req q;
	int rc = rop_query_rows_req_read(r, &q);

	if (!rc)
		rop_query_rows_req_write(o, &q);
	return rc;
}

static int q_query_position(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			    bool keep)
{
	struct rop_query_position_req q;
	int rc = rop_query_position_req_read(r, &q);

	if (!rc)
		rop_query_position_req_write(o, &q);
	return rc;
}

static int q_gps(struct mapi_rd *r, GByteArray *o, struct ctx *c, bool keep)
{
	struct rop_get_props_specific_req q;
	int rc = rop_get_props_specific_req_read(r, &q);

	if (rc)
		return rc;
	rop_get_props_specific_req_write(o, &q);
	if (keep)
		g_ptr_array_add(c->gps_tags, g_memdup2(&q, sizeof(q)));
	else
		rop_get_props_specific_req_clear(&q);
	return 0;
}

static int q_set_props(struct mapi_rd *r, GByteArray *o, struct ctx *c,
		       bool keep)
{
	struct rop_set_props_req q;
	int rc = rop_set_props_req_read(r, &q);

	if (rc)
		return rc;
	g_assert_cmpint(rop_set_props_req_write(o, &q), ==, 0);
	if (keep) {
		rop_set_props_req_clear(&c->setp);
		c->setp = q;
	} else {
		rop_set_props_req_clear(&q);
	}
	return 0;
}

/* The response handlers, the same way. */
static int s_logon(struct mapi_rd *r, GByteArray *o, struct ctx *c, bool keep)
{
	struct rop_logon_resp s;
	int rc = rop_logon_resp_read(r, &s);

	if (rc)
		return rc;
	rop_logon_resp_write(o, &s);
	if (keep) {
		rop_logon_resp_clear(&c->logon);
		c->logon = s;
	} else {
		rop_logon_resp_clear(&s);
	}
	return 0;
}

static int s_open_folder(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			 bool keep)
{
	struct rop_open_folder_resp s;
	int rc = rop_open_folder_resp_read(r, &s);

	if (rc)
		return rc;
	rop_open_folder_resp_write(o, &s);
	rop_open_folder_resp_clear(&s);
	return 0;
}

static int s_create_folder(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			   bool keep)
{
	struct rop_create_folder_resp s;
	int rc = rop_create_folder_resp_read(r, &s);

	if (rc)
		return rc;
	rop_create_folder_resp_write(o, &s);
	if (keep) {
		rop_create_folder_resp_clear(&c->create);
		c->create = s;
	} else {
		rop_create_folder_resp_clear(&s);
	}
	return 0;
}

static int s_delete_folder(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			   bool keep)
{
	struct rop_partial_resp s;
	int rc = rop_delete_folder_resp_read(r, &s);

	if (rc)
		return rc;
	rop_delete_folder_resp_write(o, &s);
	if (keep)
		c->delf_resp = s;
	return 0;
}

static int s_hier(struct mapi_rd *r, GByteArray *o, struct ctx *c, bool keep)
{
	struct rop_get_table_resp s;
	int rc = rop_get_hierarchy_table_resp_read(r, &s);

	if (rc)
		return rc;
	rop_get_hierarchy_table_resp_write(o, &s);
	if (keep)
		c->table = s;
	return 0;
}

static int s_contents(struct mapi_rd *r, GByteArray *o, struct ctx *c,
		      bool keep)
{
	struct rop_get_table_resp s;
	int rc = rop_get_contents_table_resp_read(r, &s);

	if (rc)
		return rc;
	rop_get_contents_table_resp_write(o, &s);
	if (keep)
		c->table = s;
	return 0;
}

static int s_set_columns(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			 bool keep)
{
	struct rop_table_status_resp s;
	int rc = rop_set_columns_resp_read(r, &s);

	if (!rc)
		rop_set_columns_resp_write(o, &s);
	return rc;
}

static int s_query_rows(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			bool keep)
{
	struct rop_query_rows_resp s;
	int rc = rop_query_rows_resp_read(r, &s, c->cols, c->n_cols);

	if (rc)
		return rc;
	g_assert_cmpint(rop_query_rows_resp_write(o, &s, c->cols, c->n_cols),
			==, 0);
	if (keep) {
		rop_query_rows_resp_clear(&c->rows);
		c->rows = s;
	} else {
		rop_query_rows_resp_clear(&s);
	}
	return 0;
}

static int s_query_position(struct mapi_rd *r, GByteArray *o, struct ctx *c,
			    bool keep)
{
	struct rop_query_position_resp s;
	int rc = rop_query_position_resp_read(r, &s);

	if (rc)
		return rc;
	rop_query_position_resp_write(o, &s);
	if (keep)
		c->pos = s;
	return 0;
}

static int s_gps(struct mapi_rd *r, GByteArray *o, struct ctx *c, bool keep)
{
	const struct rop_get_props_specific_req *q;
	struct rop_get_props_specific_resp s;
	guint idx;
	int rc;

	/* the prefix runs come after the whole ROP was read */
	idx = keep ? c->gps_used : c->gps_used - 1;
	g_assert_cmpuint(idx, <, c->gps_tags->len);
	q = g_ptr_array_index(c->gps_tags, idx);
	rc = rop_get_props_specific_resp_read(r, &s, q->tags, q->n_tags);
	if (rc)
		return rc;
	g_assert_cmpint(rop_get_props_specific_resp_write(o, &s, q->tags,
							  q->n_tags), ==, 0);
	if (keep) {
		c->gps_used++;
		rop_get_props_specific_resp_clear(&c->gps);
		c->gps = s;
	} else {
		rop_get_props_specific_resp_clear(&s);
	}
	return 0;
}

static int s_set_props(struct mapi_rd *r, GByteArray *o, struct ctx *c,
		       bool keep)
{
	struct rop_problems_resp s;
	int rc = rop_set_props_resp_read(r, &s);

	if (rc)
		return rc;
	rop_set_props_resp_write(o, &s);
	if (keep) {
		rop_problems_resp_clear(&c->setp_resp);
		c->setp_resp = s;
	} else {
		rop_problems_resp_clear(&s);
	}
	return 0;
}

static rop_fn req_fn(uint8_t id)
{
	switch (id) {
	case ROP_RELEASE: return q_release;
	case ROP_LOGON: return q_logon;
	case ROP_OPEN_FOLDER: return q_open_folder;
	case ROP_CREATE_FOLDER: return q_create_folder;
	case ROP_DELETE_FOLDER: return q_delete_folder;
	case ROP_GET_HIERARCHY_TABLE: return q_hier;
	case ROP_GET_CONTENTS_TABLE: return q_contents;
	case ROP_SET_COLUMNS: return q_set_columns;
	case ROP_QUERY_ROWS: return q_query_rows;
	case ROP_QUERY_POSITION: return q_query_position;
	case ROP_GET_PROPERTIES_SPECIFIC: return q_gps;
	case ROP_SET_PROPERTIES: return q_set_props;
	default: return NULL;
	}
}

static rop_fn resp_fn(uint8_t id)
{
	switch (id) {
	case ROP_LOGON: return s_logon;
	case ROP_OPEN_FOLDER: return s_open_folder;
	case ROP_CREATE_FOLDER: return s_create_folder;
	case ROP_DELETE_FOLDER: return s_delete_folder;
	case ROP_GET_HIERARCHY_TABLE: return s_hier;
	case ROP_GET_CONTENTS_TABLE: return s_contents;
	case ROP_SET_COLUMNS: return s_set_columns;
	case ROP_QUERY_ROWS: return s_query_rows;
	case ROP_QUERY_POSITION: return s_query_position;
	case ROP_GET_PROPERTIES_SPECIFIC: return s_gps;
	case ROP_SET_PROPERTIES: return s_set_props;
	default: return NULL;
	}
}

/*
 * Walk the ROPs of one ROP buffer: each known one read, written back the
 * same, and every prefix of it refused; stop at the first ROP of another
 * family.  Returns how many were walked; *all_r says whether that was all.
 */
static unsigned walk(const uint8_t *p, size_t len, bool response,
		     struct ctx *c, bool *all_r)
{
	struct mapi_rd r, cut;
	GByteArray *o = g_byte_array_new();
	unsigned n = 0;
	size_t start, k;

	mapi_rd_init(&r, p, len);
	*all_r = true;
	while (mapi_rd_left(&r)) {
		uint8_t id = (uint8_t)rop_peek_id(&r);
		rop_fn fn = response ? resp_fn(id) : req_fn(id);

		if (!fn) {
			*all_r = false;
			break;
		}
		start = r.off;
		g_byte_array_set_size(o, 0);
		g_assert_cmpint(fn(&r, o, c, true), ==, 0);
		g_assert_cmpmem(o->data, o->len, p + start, r.off - start);
		for (k = 0; k < r.off - start; k++) {
			mapi_rd_init(&cut, p + start, k);
			g_byte_array_set_size(o, 0);
			g_assert_cmpint(fn(&cut, o, c, false), !=, 0);
		}
		if (response)
			c->n_resp[id]++;
		else
			c->n_req[id]++;
		n++;
	}
	g_byte_array_unref(o);
	return n;
}

/* The payload of the one RPC_HEADER_EXT of a ROP buffer of `size` bytes
 * (MS-OXCRPC 3.1.4.1.1): neither compressed nor obfuscated here. */
static void rpc_payload(struct mapi_rd *r, uint32_t size,
			const uint8_t **p_r, size_t *n_r)
{
	uint16_t flags, sz, actual;

	mapi_rd_u16(r);			/* Version */
	flags = mapi_rd_u16(r);
	sz = mapi_rd_u16(r);
	actual = mapi_rd_u16(r);
	g_assert_cmpuint(flags & 0x0003, ==, 0);
	g_assert_true(flags & 0x0004);	/* Last */
	g_assert_cmpuint(sz, ==, actual);
	g_assert_cmpuint(size, ==, 8u + sz);
	*p_r = mapi_rd_bytes(r, sz);
	*n_r = sz;
	g_assert_nonnull(*p_r);
}

/* Split both ROP buffers of an Execute exchange, check the frames and
 * walk them.  Returns the number of ROPs of these families walked. */
static unsigned walk_execute(const struct mapi_trace_exchange *x,
			     struct ctx *c, bool *all_r)
{
	struct mapi_rd r;
	struct rop_frame f;
	const uint8_t *p;
	size_t n;
	unsigned walked;
	bool all_q, all_s;
	GByteArray *b;
	size_t at;

	mapi_rd_init(&r, x->req, x->req_len);
	mapi_rd_u32(&r);			/* Flags */
	rpc_payload(&r, mapi_rd_u32(&r), &p, &n);
	g_assert_cmpint(rop_frame_read(p, n, &f), ==, 0);
	/* the frame written again is the same */
	b = g_byte_array_new();
	at = rop_frame_begin(b);
	mapi_wr_bytes(b, f.rops, f.rops_len);
	rop_frame_end(b, at, f.handles, f.n_handles);
	g_assert_cmpmem(b->data, b->len, p, n);
	walked = walk(f.rops, f.rops_len, false, c, &all_q);
	rop_frame_clear(&f);

	mapi_rd_init(&r, x->resp + x->resp_bin_off,
		     x->resp_len - x->resp_bin_off);
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);	/* StatusCode */
	g_assert_cmpuint(mapi_rd_u32(&r), ==, 0);	/* ErrorCode */
	mapi_rd_u32(&r);				/* Flags */
	rpc_payload(&r, mapi_rd_u32(&r), &p, &n);
	g_assert_cmpint(rop_frame_read(p, n, &f), ==, 0);
	g_byte_array_set_size(b, 0);
	at = rop_frame_begin(b);
	mapi_wr_bytes(b, f.rops, f.rops_len);
	rop_frame_end(b, at, f.handles, f.n_handles);
	g_assert_cmpmem(b->data, b->len, p, n);
	walked += walk(f.rops, f.rops_len, true, c, &all_s);
	rop_frame_clear(&f);
	g_byte_array_unref(b);
	*all_r = all_q && all_s;
	return walked;
}

static bool is_execute(const struct mapi_trace_exchange *x)
{
	const char *t = mapi_trace_req_header(x, "X-RequestType");

	return t && strcmp(t, "Execute") == 0 && x->status == 200;
}

/* Walk every Execute of a scenario; with `whole`, every ROP in them must
 * be of these families (or RopRelease). */
static void walk_trace(const char *name, bool whole, struct ctx *c)
{
	struct mapi_trace *t = mapi_trace_load(name);
	size_t i;
	unsigned walked = 0;
	bool all;

	for (i = 0; i < mapi_trace_count(t); i++) {
		const struct mapi_trace_exchange *x = mapi_trace_at(t, i);

		if (!is_execute(x))
			continue;
		walked += walk_execute(x, c, &all);
		if (whole)
			g_assert_true(all);
	}
	g_assert_cmpuint(walked, >, 0);
	mapi_trace_free(t);
}

static uint64_t fid(unsigned n)
{
	return (uint64_t)n << 56 | 1;
}

static void test_logon(void)
{
	static const uint64_t want[ROP_LOGON_N_FOLDERS] = {
		0x0100000000000001, 0x0200000000000001, 0x0300000000000001,
		0x0900000000000001, 0x0D00000000000001, 0x0C00000000000001,
		0x0A00000000000001, 0x0B00000000000001, 0x0700000000000001,
		0x0800000000000001, 0x0500000000000001, 0x0600000000000001,
		0x0400000000000001,
	};
	struct ctx c;
	size_t i;

	ctx_init(&c);
	walk_trace("01-connect-logon", true, &c);
	g_assert_cmpuint(c.n_req[ROP_LOGON], ==, 1);
	g_assert_cmpuint(c.logon_req.logon_flags, ==, ROP_LOGON_PRIVATE);
	g_assert_cmpuint(c.logon_req.open_flags, ==, 0x01000000);
	g_assert_nonnull(c.logon_req.essdn);
	g_assert_true(g_str_has_suffix(c.logon_req.essdn, "-alice"));
	g_assert_cmpuint(c.logon.head.rv, ==, 0);
	for (i = 0; i < ROP_LOGON_N_FOLDERS; i++)
		g_assert_cmpuint(c.logon.folder_ids[i], ==, want[i]);
	g_assert_cmpuint(c.logon.response_flags, ==, 0x07);
	g_assert_cmpuint(c.logon.repl_id, ==, 5);
	g_assert_cmpuint(c.logon.store_state, ==, 0);
	g_assert_cmpuint(c.logon.mailbox_guid[0], ==, 0x94);
	g_assert_cmpuint(c.logon.repl_guid[0], ==, 0xC1);
	g_assert_cmpuint(c.logon.logon_time.year, ==, 2026);
	g_assert_cmpuint(c.logon.logon_time.month, ==, 12);
	g_assert_cmpuint(c.logon.logon_time.day, ==, 7);
	g_assert_cmpuint(c.logon.logon_time.min, ==, 56);
	g_assert_cmpint(mapi_ft_to_unix(c.logon.gwart_time), ==, 1796608611);
	ctx_clear(&c);
}

/* The other two forms of a RopLogon response, which no recording shows:
 * written, read back, and written the same again. */
static void test_logon_forms(void)
{
	struct rop_logon_resp s = { .head = { .rv = ROP_E_WRONG_SERVER },
				    .logon_flags = ROP_LOGON_PRIVATE }, back;
	struct rop_logon_resp pub = { .logon_flags = 0, .repl_id = 3 };
	GByteArray *b = g_byte_array_new(), *b2 = g_byte_array_new();
	struct mapi_rd r;

	s.server_name = g_strdup("mbx2.example.test");
	rop_logon_resp_write(b, &s);
	g_assert_cmpuint(b->len, ==, 6 + 2 + 18);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_logon_resp_read(&r, &back), ==, 0);
	g_assert_cmpstr(back.server_name, ==, "mbx2.example.test");
	rop_logon_resp_write(b2, &back);
	g_assert_cmpmem(b->data, b->len, b2->data, b2->len);
	rop_logon_resp_clear(&back);
	rop_logon_resp_clear(&s);
	/* a count that takes the string past its NUL */
	b->data[7] = 17;
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_logon_resp_read(&r, &back), !=, 0);

	g_byte_array_set_size(b, 0);
	pub.folder_ids[0] = fid(1);
	pub.per_user_guid[15] = 0xEE;
	rop_logon_resp_write(b, &pub);
	g_assert_cmpuint(b->len, ==, 6 + 1 + 104 + 2 + 32);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_logon_resp_read(&r, &back), ==, 0);
	g_assert_cmpuint(back.per_user_guid[15], ==, 0xEE);
	g_assert_cmpuint(back.repl_id, ==, 3);
	g_assert_cmpuint(mapi_rd_left(&r), ==, 0);

	/* any other failure is the head alone */
	g_byte_array_set_size(b, 0);
	pub.head.rv = MAPI_E_LOGON_FAILED;
	rop_logon_resp_write(b, &pub);
	g_assert_cmpuint(b->len, ==, 6);
	mapi_rd_init(&r, b->data, b->len);
	g_assert_cmpint(rop_logon_resp_read(&r, &back), ==, 0);
	g_assert_cmpuint(back.head.rv, ==, MAPI_E_LOGON_FAILED);
	g_byte_array_unref(b);
	g_byte_array_unref(b2);
}

static void test_hierarchy(void)
{
	struct ctx c;
	const struct mapi_row *row;
	unsigned i, flagged = 0;
	bool saw_projects = false;

	ctx_init(&c);
	walk_trace("02-hierarchy", true, &c);
	g_assert_cmpuint(c.n_req[ROP_RELEASE], ==, 4);
	g_assert_cmpuint(c.n_resp[ROP_QUERY_ROWS], ==, 2);
	/* the last: the IPM subtree with Depth, 20 rows */
	g_assert_cmpuint(c.n_cols, ==, 8);
	g_assert_cmpuint(c.table.row_count, ==, 20);
	g_assert_cmpuint(c.rows.row_count, ==, 20);
	for (i = 0; i < c.rows.row_count; i++) {
		row = &c.rows.rows[i];
		flagged += row->flagged;
		if (mapi_props_str(&row->props, 0x3001) &&
		    strcmp(mapi_props_str(&row->props, 0x3001), "Projects") ==
		    0) {
			saw_projects = true;
			g_assert_cmpint(mapi_props_l(&row->props, 0x3602, -1),
					==, 2);
			g_assert_cmpuint(mapi_props_get(&row->props, 0x6748)
					 ->v.i8, ==, 0x00001D0000000001);
			g_assert_cmpuint(mapi_props_get(&row->props, 0x6749)
					 ->v.i8, ==, fid(0x0D));
			g_assert_cmpint(mapi_props_l(&row->props, 0x3005, -1),
					==, 2);
		}
		if (mapi_props_str(&row->props, 0x3001) &&
		    strcmp(mapi_props_str(&row->props, 0x3001), "Inbox") == 0) {
			g_assert_cmpint(mapi_props_l(&row->props, 0x3602, -1),
					==, 12);
			g_assert_cmpint(mapi_props_l(&row->props, 0x3603, -1),
					==, 11);
			g_assert_true(mapi_props_b(&row->props, 0x360A, false));
		}
	}
	g_assert_true(saw_projects);
	/* every IPM folder has a container class: all standard rows */
	g_assert_cmpuint(flagged, ==, 0);
	g_assert_cmpstr(mapi_props_str(&c.rows.rows[19].props, 0x3613), ==,
			"IPF.Configuration");
	ctx_clear(&c);
}

static void test_root_hierarchy(void)
{
	struct mapi_trace *t = mapi_trace_load("02-hierarchy");
	struct ctx c;
	const struct mapi_value *v;
	bool all;

	ctx_init(&c);
	g_assert_cmpuint(walk_execute(mapi_trace_at(t, 2), &c, &all), ==, 8);
	g_assert_true(all);
	g_assert_cmpuint(c.openf.folder_id, ==, fid(1));
	g_assert_cmpuint(c.table.row_count, ==, 9);
	g_assert_cmpuint(c.rows.origin, ==, 2);
	g_assert_cmpuint(c.rows.row_count, ==, 9);
	g_assert_cmpstr(mapi_props_str(&c.rows.rows[7].props, 0x3001), ==,
			"Top of Information Store");
	g_assert_cmpuint(mapi_props_get(&c.rows.rows[8].props, 0x6748)->v.i8,
			 ==, fid(0x18));
	/* most root folders have no container class */
	g_assert_cmpuint(c.rows.rows[0].flagged, ==, 1);
	v = mapi_props_get(&c.rows.rows[0].props, 0x3613);
	g_assert_cmpuint(MAPI_TAG_TYPE(v->tag), ==, MAPI_PT_ERROR);
	g_assert_cmpuint(v->v.err, ==, MAPI_E_NOT_FOUND);
	ctx_clear(&c);
	mapi_trace_free(t);
}

static void test_contents(void)
{
	struct mapi_trace *t = mapi_trace_load("03-contents");
	struct ctx c;
	const struct mapi_row *row;
	const struct mapi_value *v;
	bool all;
	unsigned i;

	ctx_init(&c);
	walk_execute(mapi_trace_at(t, 2), &c, &all);
	g_assert_true(all);
	g_assert_cmpuint(c.table.row_count, ==, 12);
	g_assert_cmpuint(c.n_cols, ==, 8);
	g_assert_cmpuint(c.rows.origin, ==, 1);
	g_assert_cmpuint(c.rows.row_count, ==, 7);
	for (i = 0; i < 7; i++) {
		row = &c.rows.rows[i];
		g_assert_cmpuint(row->flagged, ==, 0);
		g_assert_cmpuint(mapi_props_get(&row->props, 0x674A)->v.i8, ==,
				 (uint64_t)i << 56 | 0x030000000001);
		v = mapi_props_get(&row->props, 0x65E2);
		g_assert_cmpuint(v->v.bin.len, ==, 22);
	}
	g_assert_cmpstr(mapi_props_str(&c.rows.rows[0].props, 0x0037), ==,
			"Plain ASCII message");
	g_assert_cmpstr(mapi_props_str(&c.rows.rows[1].props, 0x0037), ==,
			"Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x93 "
			"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x83\x86"
			"\xe3\x82\xb9\xe3\x83\x88 \xe2\x9c\x93");
	g_assert_cmpint(mapi_props_l(&c.rows.rows[4].props, 0x0E07, 0), ==,
			0x12);

	walk_execute(mapi_trace_at(t, 3), &c, &all);
	g_assert_true(all);
	g_assert_cmpuint(c.pos.numerator, ==, 7);
	g_assert_cmpuint(c.pos.denominator, ==, 12);
	g_assert_cmpuint(c.rows.origin, ==, 2);
	g_assert_cmpuint(c.rows.row_count, ==, 5);
	g_assert_cmpint(mapi_props_l(&c.rows.rows[3].props, 0x0E07, 0), ==,
			0x403);
	g_assert_cmpstr(mapi_props_str(&c.rows.rows[0].props, 0x1035), ==,
			"<m08.large@example.test>");
	g_assert_cmpint(mapi_props_l(&c.rows.rows[0].props, 0x0E08, 0), ==,
			617027);

	walk_execute(mapi_trace_at(t, 4), &c, &all);
	g_assert_true(all);
	g_assert_cmpuint(c.rows.origin, ==, 2);
	g_assert_cmpuint(c.rows.row_count, ==, 0);
	ctx_clear(&c);
	/* and the scenario whole: nothing in it is of another family */
	ctx_init(&c);
	walk_trace("03-contents", true, &c);
	ctx_clear(&c);
	mapi_trace_free(t);
}

static void test_folders(void)
{
	struct mapi_trace *t = mapi_trace_load("06-folders");
	struct ctx c;
	const struct mapi_row *row;
	bool all;

	ctx_init(&c);
	walk_trace("06-folders", true, &c);
	ctx_clear(&c);

	ctx_init(&c);
	walk_execute(mapi_trace_at(t, 4), &c, &all);
	g_assert_cmpstr(c.create_req.display_name, ==, "Temp");
	g_assert_cmpstr(c.create_req.comment, ==, "temporary folder");
	g_assert_cmpuint(c.create_req.folder_type, ==, 1);
	g_assert_cmpuint(c.create_req.use_unicode, ==, 1);
	g_assert_cmpuint(c.create.folder_id, ==, 0x00001E0000000001);
	g_assert_cmpuint(c.create.is_existing, ==, 0);
	row = &c.gps.row;
	g_assert_cmpuint(row->flagged, ==, 1);
	g_assert_cmpstr(mapi_props_str(&row->props, 0x3001), ==, "Temp");
	g_assert_cmpuint(mapi_props_get(&row->props, 0x6749)->v.i8, ==,
			 fid(0x0D));
	g_assert_cmpuint(mapi_props_get(&row->props, 0x3613)->v.err, ==,
			 MAPI_E_NOT_FOUND);
	g_assert_cmpint(mapi_props_l(&row->props, 0x3601, 0), ==, 1);

	/* the duplicate name: only the head comes back */
	walk_execute(mapi_trace_at(t, 7), &c, &all);
	g_assert_cmpstr(c.create_req.display_name, ==, "Projects");
	g_assert_cmpstr(c.create_req.comment, ==, "");
	g_assert_cmpuint(c.create.head.rv, ==, MAPI_E_COLLISION);
	walk_execute(mapi_trace_at(t, 8), &c, &all);
	g_assert_cmpuint(c.create_req.open_existing, ==, 1);
	g_assert_cmpuint(c.create.head.rv, ==, 0);
	g_assert_cmpuint(c.create.folder_id, ==, 0x00001D0000000001);
	walk_execute(mapi_trace_at(t, 9), &c, &all);
	g_assert_cmpuint(c.delf.flags, ==, 0x15);
	g_assert_cmpuint(c.delf.folder_id, ==, 0x00001E0000000001);
	g_assert_cmpuint(c.delf_resp.head.rv, ==, 0);
	g_assert_cmpuint(c.delf_resp.partial_completion, ==, 0);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* 00-setup: the folder creation and its container class, the contents
 * table; the message ROPs of #5 are another family's. */
static void test_setup(void)
{
	struct mapi_trace *t = mapi_trace_load("00-setup");
	struct ctx c;
	bool all;

	ctx_init(&c);
	walk_execute(mapi_trace_at(t, 2), &c, &all);
	g_assert_true(all);
	g_assert_cmpstr(c.create_req.display_name, ==, "Projects");
	g_assert_cmpstr(c.create_req.comment, ==, "Project mail");
	g_assert_cmpuint(c.create.folder_id, ==, 0x00001D0000000001);
	g_assert_cmpstr(mapi_props_str(&c.setp.props, 0x3613), ==,
			"IPF.Note");
	g_assert_cmpuint(c.setp_resp.n_problems, ==, 0);
	walk_execute(mapi_trace_at(t, 3), &c, &all);
	g_assert_true(all);
	g_assert_cmpuint(c.rows.row_count, ==, 12);
	ctx_clear(&c);
	ctx_init(&c);
	walk_trace("00-setup", false, &c);
	ctx_clear(&c);
	mapi_trace_free(t);
}

/* 04 and 05: what of them is of these families (a ROP of another family
 * ends the walk of its buffer). */
static void test_partial_scenarios(void)
{
	struct ctx c;

	ctx_init(&c);
	walk_trace("04-read-message", false, &c);
	g_assert_cmpuint(c.n_resp[ROP_QUERY_ROWS], >, 0);
	ctx_clear(&c);
	ctx_init(&c);
	walk_trace("05-write", false, &c);
	g_assert_cmpuint(c.n_resp[ROP_OPEN_FOLDER], >, 0);
	ctx_clear(&c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rop/logon", test_logon);
	g_test_add_func("/rop/logon-forms", test_logon_forms);
	g_test_add_func("/rop/root-hierarchy", test_root_hierarchy);
	g_test_add_func("/rop/hierarchy", test_hierarchy);
	g_test_add_func("/rop/contents", test_contents);
	g_test_add_func("/rop/folders", test_folders);
	g_test_add_func("/rop/setup", test_setup);
	g_test_add_func("/rop/partial-scenarios", test_partial_scenarios);
	return g_test_run();
}
