/*
 * mapic-probe.c - drives the MAPI over HTTP client's first layer
 * (protocols/mapi: session, Execute batches) against a server for the
 * tests, and prints what it got: "key value" lines and one JSON object
 * per table row.
 *
 *   mapic-probe [--timeout S] [--pending-max S] [--user-dn DN] [--debug proto]
 *               [--auth basic|ntlm|negotiate|bearer] URL USER PASSWORD
 *               COMMAND [ARGS] [COMMAND [ARGS]...]
 *
 * Commands, run in turn on one session:
 *   logon                 Connect + RopLogon: the display name and the
 *                         special folder ids
 *   hierarchy             the IPM subtree's folders (Depth), one row each
 *   contents FID|inbox    a folder's contents table, one row each
 *   message MID FID       OpenMessage + GetPropertiesSpecific
 *   read-stream MID FID TAG   OpenStream + ReadStream to the end: the
 *                         size and sha256 of the bytes
 *   parallel N            N threads reading the Inbox's contents on
 *                         the one session at once
 *   wait                  print "waiting" and read a line from stdin
 *   close                 Disconnect
 *   fetch FID MID OUTFILE mapic_message_read + mapi_mail_render: the
 *                         MIME into OUTFILE, "size N" and "attachments N"
 *   list FID|inbox        mapic_contents_list: one JSON row per message
 *   fetch-pim FID MID contacts|calendar OUTFILE   mapic_read_rendered in
 *                         a contacts or calendar folder: the .vcf or .ics
 *                         into OUTFILE, "size N"
 * and the changes (write.c, msgops.c, fldops.c), where FID may be
 * "inbox" and MIDS is one MID or several joined by commas:
 *   create FID EMLFILE    a new message from MIME: "mid MID"
 *   flags FID LETTERS MIDS   set exactly these Maildir letters ("-" for
 *                         none): "flags-rc MID RC" for each
 *   remove FID MIDS       remove for good
 *   move FID DEST MIDS    move: "new-mid MID NEW" for each (NEW 0 when
 *   copy FID DEST MIDS    not found); copy likewise
 *   mkfolder PARENT NAME KIND   KIND mail|contacts|calendar: "fid FID"
 *   rmfolder PARENT FID   delete an empty folder
 *   mvfolder PARENT FID DEST NAME   move or rename a folder
 *
 * Exit status 0, or 1 with "error: ..." on stderr (2: bad usage).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mapi/mapic-private.h"
#include "wire/mapi-tags.h"
#include "wire/mapi-prop.h"

static const struct {
	uint32_t tag;
	const char *name;
} names[] = {
	{ MAPI_TAG_FOLDER_ID, "fid" },
	{ MAPI_TAG_DISPLAY_NAME, "name" },
	{ MAPI_TAG_CONTENT_COUNT, "count" },
	{ MAPI_TAG_CONTENT_UNREAD_COUNT, "unread" },
	{ MAPI_TAG_SUBFOLDERS, "subfolders" },
	{ MAPI_TAG_CONTAINER_CLASS, "class" },
	{ MAPI_TAG_PARENT_FOLDER_ID, "parent" },
	{ MAPI_TAG_DEPTH, "depth" },
	{ 0x674A0014U, "mid" },
	{ MAPI_TAG_SUBJECT, "subject" },
	{ MAPI_TAG_MESSAGE_SIZE, "size" },
	{ MAPI_TAG_MESSAGE_FLAGS, "flags" },
	{ MAPI_TAG_MESSAGE_DELIVERY_TIME, "delivered" },
	{ MAPI_TAG_INTERNET_MESSAGE_ID, "message_id" },
	{ MAPI_TAG_LAST_MODIFICATION_TIME, "modified" },
	{ MAPI_TAG_CHANGE_KEY, "change_key" },
	{ MAPI_TAG_MESSAGE_CLASS, "message_class" },
};

/* The recorded column sets (tests/data/mapi-traces 02 and 03). */
static const uint32_t hier_cols[] = {
	MAPI_TAG_FOLDER_ID, MAPI_TAG_DISPLAY_NAME, MAPI_TAG_CONTENT_COUNT,
	MAPI_TAG_CONTENT_UNREAD_COUNT, MAPI_TAG_SUBFOLDERS,
	MAPI_TAG_CONTAINER_CLASS, MAPI_TAG_PARENT_FOLDER_ID, MAPI_TAG_DEPTH,
};
static const uint32_t contents_cols[] = {
	0x674A0014U, MAPI_TAG_SUBJECT, MAPI_TAG_MESSAGE_SIZE,
	MAPI_TAG_MESSAGE_FLAGS, MAPI_TAG_MESSAGE_DELIVERY_TIME,
	MAPI_TAG_INTERNET_MESSAGE_ID, MAPI_TAG_LAST_MODIFICATION_TIME,
	MAPI_TAG_CHANGE_KEY,
};
static const uint32_t message_tags[] = {
	MAPI_TAG_MESSAGE_CLASS, MAPI_TAG_SUBJECT, MAPI_TAG_INTERNET_MESSAGE_ID,
	MAPI_TAG_MESSAGE_FLAGS, MAPI_TAG_MESSAGE_SIZE,
};

#define QUERY_ROWS 100
#define READ_MAX (1024u * 1024)
#define STREAM_MAX (64u * 1024 * 1024)

static void json_str(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			g_string_append_printf(out, "\\%c", c);
		else if (c < 0x20)
			g_string_append_printf(out, "\\u%04x", c);
		else
			g_string_append_c(out, (char)c);
	}
	g_string_append_c(out, '"');
}

static void json_value(GString *out, const struct mapi_value *v)
{
	switch (MAPI_TAG_TYPE(v->tag)) {
	case MAPI_PT_LONG:
		g_string_append_printf(out, "%d", v->v.l);
		break;
	case MAPI_PT_BOOLEAN:
		g_string_append(out, v->v.b ? "true" : "false");
		break;
	case MAPI_PT_I8:
		g_string_append_printf(out, "\"0x%016" G_GINT64_MODIFIER "X\"",
				       (guint64)v->v.i8);
		break;
	case MAPI_PT_SYSTIME:
		g_string_append_printf(out, "%" G_GINT64_FORMAT,
				       (gint64)mapi_ft_to_unix(v->v.ft));
		break;
	case MAPI_PT_UNICODE:
	case MAPI_PT_STRING8:
		json_str(out, v->v.str ? v->v.str : "");
		break;
	case MAPI_PT_BINARY:
		g_string_append_c(out, '"');
		for (uint32_t i = 0; i < v->v.bin.len; i++)
			g_string_append_printf(out, "%02x", v->v.bin.data[i]);
		g_string_append_c(out, '"');
		break;
	case MAPI_PT_ERROR:
		g_string_append_printf(out, "\"error:0x%08X\"", v->v.err);
		break;
	default:
		g_string_append(out, "null");
	}
}

static void print_row(const struct mapi_row *row, const uint32_t *cols,
		      size_t n)
{
	g_autoptr(GString) out = g_string_new("{");

	for (size_t i = 0; i < n; i++) {
		const struct mapi_value *v = mapi_props_get(
			&row->props, MAPI_TAG_ID(cols[i]));
		const char *name = NULL;
		for (size_t k = 0; k < G_N_ELEMENTS(names); k++)
			if (names[k].tag == cols[i])
				name = names[k].name;
		if (i)
			g_string_append(out, ", ");
		if (name)
			json_str(out, name);
		else
			g_string_append_printf(out, "\"0x%08X\"", cols[i]);
		g_string_append(out, ": ");
		if (v)
			json_value(out, v);
		else
			g_string_append(out, "null");
	}
	g_string_append_c(out, '}');
	printf("%s\n", out->str);
}

/* mapic_exec_end, and a "trailer" line for each RopNotify, RopPending
 * or RopBackoff the answer carried after its responses. */
static int end_batch(struct mapic_exec *x, struct mfs_error *e)
{
	size_t n = 0;
	int rc = mapic_exec_end(x, e);
	const struct rop_trailer *t = mapic_exec_trailers(x, &n);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (t[i].rop_id == ROP_PENDING)
			printf("trailer pending %u\n",
			       t[i].u.pending.session_index);
		else
			printf("trailer 0x%02X\n", t[i].rop_id);
	}
	return rc;
}

static int cmd_logon(struct mapic_session *s, struct mfs_error *e)
{
	static const char *const fnames[ROP_LOGON_N_FOLDERS] = {
		"root", "deferred-action", "spooler-queue", "ipm-subtree",
		"inbox", "outbox", "sent", "deleted", "common-views",
		"schedule", "finder", "views", "shortcuts",
	};
	int rc = mapic_session_open(s, e);

	if (rc < 0)
		return rc;
	g_mutex_lock(&s->lock);
	printf("display-name %s\n", s->display_name ? s->display_name : "");
	for (int i = 0; i < ROP_LOGON_N_FOLDERS; i++)
		printf("folder %s 0x%016" G_GINT64_MODIFIER "X\n", fnames[i],
		       (guint64)s->folder_ids[i]);
	g_mutex_unlock(&s->lock);
	return 0;
}

/* QueryRows on `table` until the end: one Execute each. */
static int rows_to_end(struct mapic_exec *x, uint32_t table,
		       const uint32_t *cols, size_t n, struct mfs_error *e)
{
	for (;;) {
		struct rop_query_rows_resp r;
		int rc;

		mapic_exec_begin(x);
		uint8_t in = mapic_exec_in(x, table);
		rop_query_rows_req_write(mapic_exec_buf(x),
					 &(struct rop_query_rows_req){
						 .input_handle_index = in,
						 .forward_read = 1,
						 .row_count = QUERY_ROWS });
		if ((rc = mapic_exec_run(x, e)) < 0)
			return rc;
		rc = rop_query_rows_resp_read(mapic_exec_rd(x), &r, cols, n);
		if (rc < 0)
			return mapic_exec_bad(x, "QueryRows", rc, e);
		if (r.head.rv) {
			uint32_t rv = r.head.rv;
			rop_query_rows_resp_clear(&r);
			return mapic_exec_failed(x, "QueryRows", rv,
						 MFS_ERR_FOLDER, e);
		}
		for (uint16_t i = 0; i < r.row_count; i++)
			print_row(&r.rows[i], cols, n);
		bool done = r.row_count == 0 || r.origin == 2;
		rop_query_rows_resp_clear(&r);
		if ((rc = end_batch(x, e)) < 0)
			return rc;
		if (done)
			return 0;
	}
}

/* OpenFolder + Get*Table + SetColumns + the first QueryRows in one
 * Execute, then QueryRows to the end. */
static int table(struct mapic_session *s, uint64_t fid, bool hierarchy,
		 const uint32_t *cols, size_t n, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	struct rop_open_folder_resp of;
	struct rop_get_table_resp gt;
	struct rop_table_status_resp sc;
	int rc;

	mapic_exec_begin(x);
	GByteArray *b = mapic_exec_buf(x);
	uint8_t logon = mapic_exec_logon(x);
	uint8_t folder = mapic_exec_out(x), tbl = mapic_exec_out(x);
	rop_open_folder_req_write(b, &(struct rop_open_folder_req){
		.input_handle_index = logon, .output_handle_index = folder,
		.folder_id = fid });
	struct rop_get_table_req gq = { .input_handle_index = folder,
		.output_handle_index = tbl,
		.table_flags = ROP_TABLE_USE_UNICODE |
			       (hierarchy ? ROP_TABLE_DEPTH : 0) };
	if (hierarchy)
		rop_get_hierarchy_table_req_write(b, &gq);
	else
		rop_get_contents_table_req_write(b, &gq);
	rop_set_columns_req_write(b, &(struct rop_set_columns_req){
		.input_handle_index = tbl, .n_cols = n,
		.cols = (uint32_t *)cols });
	if ((rc = mapic_exec_run(x, e)) < 0)
		goto out;
	struct mapi_rd *rd = mapic_exec_rd(x);
	if ((rc = rop_open_folder_resp_read(rd, &of)) < 0) {
		rc = mapic_exec_bad(x, "OpenFolder", rc, e);
		goto out;
	}
	uint32_t rv = of.head.rv;
	rop_open_folder_resp_clear(&of);
	if (rv) {
		rc = mapic_exec_failed(x, "OpenFolder", rv, MFS_ERR_FOLDER, e);
		goto out;
	}
	rc = hierarchy ? rop_get_hierarchy_table_resp_read(rd, &gt)
		       : rop_get_contents_table_resp_read(rd, &gt);
	if (rc < 0 || gt.head.rv) {
		rc = rc < 0 ? mapic_exec_bad(x, "GetTable", rc, e)
			    : mapic_exec_failed(x, "GetTable", gt.head.rv,
						MFS_ERR_FOLDER, e);
		goto out;
	}
	printf("row-count %u\n", gt.row_count);
	if ((rc = rop_set_columns_resp_read(rd, &sc)) < 0 || sc.head.rv) {
		rc = rc < 0 ? mapic_exec_bad(x, "SetColumns", rc, e)
			    : mapic_exec_failed(x, "SetColumns", sc.head.rv,
						MFS_ERR_FOLDER, e);
		goto out;
	}
	uint32_t th = mapic_exec_handle(x, tbl);
	if ((rc = end_batch(x, e)) < 0)
		goto out;
	rc = rows_to_end(x, th, cols, n, e);
out:
	mapic_exec_free(&x);
	return rc;
}

static int open_message(struct mapic_exec *x, uint64_t mid, uint64_t fid,
			uint8_t *slot_r, struct mfs_error *e)
{
	uint8_t logon = mapic_exec_logon(x);

	*slot_r = mapic_exec_out(x);
	rop_open_message_req_write(mapic_exec_buf(x),
				   &(struct rop_open_message_req){
					   .input_handle_index = logon,
					   .output_handle_index = *slot_r,
					   .code_page = 0x0FFF,
					   .folder_id = fid,
					   .message_id = mid });
	(void)e;
	return 0;
}

static int read_open_message(struct mapic_exec *x, struct mfs_error *e)
{
	struct rop_open_message_resp om;
	int rc = rop_open_message_resp_read(mapic_exec_rd(x), &om);

	if (rc < 0)
		return mapic_exec_bad(x, "OpenMessage", rc, e);
	uint32_t rv = om.head.rv;
	rop_open_message_resp_clear(&om);
	return rv ? mapic_exec_failed(x, "OpenMessage", rv, MFS_ERR_ITEM, e)
		  : 0;
}

static int cmd_message(struct mapic_session *s, uint64_t mid, uint64_t fid,
		       struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	struct rop_get_props_specific_resp gp;
	uint8_t msg;
	int rc;

	mapic_exec_begin(x);
	open_message(x, mid, fid, &msg, e);
	rop_get_props_specific_req_write(
		mapic_exec_buf(x), &(struct rop_get_props_specific_req){
			.input_handle_index = msg, .want_unicode = 1,
			.n_tags = G_N_ELEMENTS(message_tags),
			.tags = (uint32_t *)message_tags });
	if ((rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = read_open_message(x, e)) < 0)
		goto out;
	rc = rop_get_props_specific_resp_read(mapic_exec_rd(x), &gp,
					      message_tags,
					      G_N_ELEMENTS(message_tags));
	if (rc < 0 || gp.head.rv) {
		rc = rc < 0 ? mapic_exec_bad(x, "GetPropertiesSpecific", rc, e)
			    : mapic_exec_failed(x, "GetPropertiesSpecific",
						gp.head.rv, MFS_ERR_ITEM, e);
		goto out;
	}
	print_row(&gp.row, message_tags, G_N_ELEMENTS(message_tags));
	rop_get_props_specific_resp_clear(&gp);
	rc = end_batch(x, e);
out:
	mapic_exec_free(&x);
	return rc;
}

/* ReadStream until the end; the bytes go into `sum`. */
static int read_to_end(struct mapic_exec *x, uint32_t stream, uint32_t size,
		       GChecksum *sum, uint64_t *total_r, struct mfs_error *e)
{
	for (;;) {
		struct rop_read_stream_resp r;
		int rc;

		mapic_exec_begin(x);
		uint8_t in = mapic_exec_in(x, stream);
		rop_read_stream_req_write(mapic_exec_buf(x),
					  &(struct rop_read_stream_req){
						  .input_handle_index = in,
						  .byte_count =
						  ROP_READ_STREAM_USE_MAX,
						  .max_byte_count = READ_MAX });
		if ((rc = mapic_exec_run(x, e)) < 0)
			return rc;
		rc = rop_read_stream_resp_read(mapic_exec_rd(x), &r);
		if (rc < 0)
			return mapic_exec_bad(x, "ReadStream", rc, e);
		if (r.head.rv)
			return mapic_exec_failed(x, "ReadStream", r.head.rv,
						 MFS_ERR_ITEM, e);
		g_checksum_update(sum, r.data, r.len);
		*total_r += r.len;
		if ((rc = end_batch(x, e)) < 0)
			return rc;
		if (*total_r > STREAM_MAX || *total_r > size)
			return mfs_error_set(e, -EPROTO, MFS_ERR_ITEM,
					     MFS_ERR_FINAL, "the stream is "
					     "longer than its size, %u", size);
		if (r.len == 0 || *total_r == size)
			return 0;
	}
}

static int cmd_read_stream(struct mapic_session *s, uint64_t mid,
			   uint64_t fid, uint32_t tag, struct mfs_error *e)
{
	struct mapic_exec *x = mapic_exec_new(s);
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	struct rop_open_stream_resp os;
	uint64_t total = 0;
	uint8_t msg;
	int rc;

	mapic_exec_begin(x);
	open_message(x, mid, fid, &msg, e);
	uint8_t st = mapic_exec_out(x);
	rop_open_stream_req_write(mapic_exec_buf(x),
				  &(struct rop_open_stream_req){
					  .input_handle_index = msg,
					  .output_handle_index = st,
					  .tag = tag,
					  .open_mode = ROP_STREAM_READ_ONLY });
	if ((rc = mapic_exec_run(x, e)) < 0 ||
	    (rc = read_open_message(x, e)) < 0)
		goto out;
	rc = rop_open_stream_resp_read(mapic_exec_rd(x), &os);
	if (rc < 0 || os.head.rv) {
		rc = rc < 0 ? mapic_exec_bad(x, "OpenStream", rc, e)
			    : mapic_exec_failed(x, "OpenStream", os.head.rv,
						MFS_ERR_ITEM, e);
		goto out;
	}
	uint32_t sh = mapic_exec_handle(x, st);
	if ((rc = end_batch(x, e)) < 0)
		goto out;
	printf("stream-size %u\n", os.stream_size);
	rc = read_to_end(x, sh, os.stream_size, sum, &total, e);
	if (rc == 0) {
		printf("read %" G_GUINT64_FORMAT "\n", total);
		printf("sha256 %s\n", g_checksum_get_string(sum));
	}
out:
	mapic_exec_free(&x);
	return rc;
}

struct parallel {
	struct mapic_session *s;
	uint64_t fid;
	int rc;
	struct mfs_error e;
};

static gpointer parallel_table(gpointer p)
{
	struct parallel *q = p;

	q->rc = table(q->s, q->fid, false, contents_cols,
		      G_N_ELEMENTS(contents_cols), &q->e);
	return NULL;
}

/* `n` threads reading the Inbox's contents table on one session. */
static int cmd_parallel(struct mapic_session *s, unsigned n,
			struct mfs_error *e)
{
	struct parallel q[16];
	GThread *t[16];
	int rc = mapic_session_open(s, e);

	if (rc < 0)
		return rc;
	n = MIN(MAX(n, 1u), 16u);
	for (unsigned i = 0; i < n; i++) {
		q[i] = (struct parallel){ .s = s, .fid = mapic_session_folder(
						  s, MAPIC_FID_INBOX) };
		t[i] = g_thread_new("parallel", parallel_table, &q[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		g_thread_join(t[i]);
		if (q[i].rc < 0 && rc == 0) {
			rc = q[i].rc;
			*e = q[i].e;
		}
	}
	return rc;
}

static bool parse_u64(const char *s, uint64_t *v_r)
{
	char *end = NULL;

	if (!s || !*s)
		return false;
	errno = 0;
	*v_r = g_ascii_strtoull(s, &end, 0);
	return errno == 0 && end && *end == '\0';
}

static bool run_message(struct mapic_session *s, const char *cmd,
			char **argv, int argc, int *i, struct mfs_error *e,
			int *rc_r);
static int dir_watch_run(struct mapic_session *s, const char *cmd,
			 char **argv, int argc, int *i, struct mfs_error *e);
/* The commands of changes, at the end of this file; -ENOSYS for a
 * command that is none of them. */
static int run_write(struct mapic_session *s, const char *cmd, char **argv,
		     int argc, int *i, struct mfs_error *e);

/* Run the command at argv[*i]; moves *i past it and its arguments. */
static int run(struct mapic_session *s, char **argv, int argc, int *i,
	       struct mfs_error *e)
{
	const char *cmd = argv[(*i)++];
	uint64_t a = 0, b = 0, c = 0;
	int rc_more = 0;
	int need = !strcmp(cmd, "contents") || !strcmp(cmd, "parallel") ? 1
		   : !strcmp(cmd, "message") ? 2
		   : !strcmp(cmd, "read-stream") ? 3 : 0;

	if (*i + need > argc)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: %d arguments wanted", cmd, need);
	if (need >= 1 && strcmp(argv[*i], "inbox") &&
	    !parse_u64(argv[*i], &a))
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: not a number: %s", cmd, argv[*i]);
	if ((need >= 2 && !parse_u64(argv[*i + 1], &b)) ||
	    (need >= 3 && !parse_u64(argv[*i + 2], &c)))
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: not a number", cmd);
	*i += need;
	if (!strcmp(cmd, "logon"))
		return cmd_logon(s, e);
	if (!strcmp(cmd, "hierarchy")) {
		int rc = mapic_session_open(s, e);
		return rc < 0 ? rc : table(s, mapic_session_folder(s,
					   MAPIC_FID_IPM_SUBTREE), true,
					   hier_cols,
					   G_N_ELEMENTS(hier_cols), e);
	}
	if (!strcmp(cmd, "contents")) {
		int rc = mapic_session_open(s, e);
		if (rc < 0)
			return rc;
		if (a == 0)
			a = mapic_session_folder(s, MAPIC_FID_INBOX);
		return table(s, a, false, contents_cols,
			     G_N_ELEMENTS(contents_cols), e);
	}
	if (!strcmp(cmd, "parallel"))
		return cmd_parallel(s, (unsigned)MIN(a, 16u), e);
	if (!strcmp(cmd, "message"))
		return cmd_message(s, a, b, e);
	if (!strcmp(cmd, "read-stream"))
		return cmd_read_stream(s, a, b, (uint32_t)c, e);
	if (!strcmp(cmd, "wait")) {
		char line[64];
		printf("waiting\n");
		fflush(stdout);
		return fgets(line, sizeof(line), stdin) ? 0 : -EIO;
	}
	if (!strcmp(cmd, "close"))
		return mapic_session_close(s, e);
	if (run_message(s, cmd, argv, argc, i, e, &rc_more))
		return rc_more;
	int wrc = run_write(s, cmd, argv, argc, i, e);
	if (wrc != -ENOSYS)
		return wrc;
	return dir_watch_run(s, cmd, argv, argc, i, e);
}

static int usage(void)
{
	fprintf(stderr, "usage: mapic-probe [--timeout S] [--pending-max S] "
		"[--user-dn DN] [--auth basic|ntlm|negotiate|bearer] URL "
		"USER PASSWORD COMMAND [ARGS]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct mapic_conf conf = { .timeout = 30, .pending_max = 300 };
	struct mfs_error e = { 0 };
	struct mapic_session *s;
	int i = 1, rc = 0;

	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		uint64_t v = 0;
		if (!strcmp(argv[i], "--debug")) {
			/* the protocol trace, on stderr */
			log_init("mapic-probe");
			log_set_debug(LOG_PROTO);
		} else if (!strcmp(argv[i], "--user-dn")) {
			conf.user_dn = g_strdup(argv[i + 1]);
		} else if (!strcmp(argv[i], "--auth")) {
			const char *a = argv[i + 1];
			conf.auth = !strcmp(a, "ntlm") ? MAPIC_AUTH_NTLM
				    : !strcmp(a, "negotiate")
					    ? MAPIC_AUTH_NEGOTIATE
				    : !strcmp(a, "bearer") ? MAPIC_AUTH_BEARER
							   : MAPIC_AUTH_BASIC;
		} else if (parse_u64(argv[i + 1], &v) && v > 0 && v < 3600 &&
			   !strcmp(argv[i], "--timeout")) {
			conf.timeout = (unsigned)v;
		} else if (parse_u64(argv[i + 1], &v) && v > 0 && v < 3600 &&
			   !strcmp(argv[i], "--pending-max")) {
			conf.pending_max = (unsigned)v;
		} else {
			return usage();
		}
	}
	if (argc - i < 4)
		return usage();
	conf.url = g_strdup(argv[i]);
	conf.user = g_strdup(argv[i + 1]);
	conf.password = g_strdup(argv[i + 2]);
	i += 3;
	s = mapic_session_new(&conf);
	while (i < argc && rc == 0) {
		rc = run(s, argv, argc, &i, &e);
		fflush(stdout);
	}
	if (rc < 0)
		fprintf(stderr, "error: %s (%s)\n", e.msg, g_strerror(-rc));
	mapic_session_free(&s);
	mapic_conf_clear(&conf);
	return rc < 0 ? 1 : 0;
}

/* ---- fetch and list: message.c and ctable.c ---- */

#include "wire/mapi-mail.h"

static int cmd_fetch(struct mapic_session *s, uint64_t fid, uint64_t mid,
		     const char *path, struct mfs_error *e)
{
	g_autoptr(GByteArray) out = g_byte_array_new();
	g_autoptr(GError) err = NULL;
	struct mapi_message *m = NULL;
	int rc = mapic_message_read(s, fid, mid, &m, e);

	if (rc < 0)
		return rc;
	rc = mapi_mail_render(m, out);
	printf("attachments %zu\n", m->n_attach);
	printf("recipients %zu\n", m->n_recips);
	mapi_message_free(m);
	if (rc < 0)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "message 0x%016llX not rendered",
				     (unsigned long long)mid);
	if (!g_file_set_contents(path, (const char *)out->data, out->len,
				 &err))
		return mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: %s", path, err->message);
	printf("size %u\n", out->len);
	return 0;
}

static void json_bin(GString *out, const struct mapi_bin *b)
{
	g_string_append_c(out, '"');
	for (uint32_t i = 0; i < b->len; i++)
		g_string_append_printf(out, "%02x", b->data[i]);
	g_string_append_c(out, '"');
}

static int cmd_list(struct mapic_session *s, uint64_t fid,
		    struct mfs_error *e)
{
	g_autoptr(GArray) rows = NULL;
	int rc = mapic_contents_list(s, fid, &rows, e);

	if (rc < 0)
		return rc;
	for (guint i = 0; i < rows->len; i++) {
		const struct mapic_content_row *r =
			&g_array_index(rows, struct mapic_content_row, i);
		g_autoptr(GString) out = g_string_new(NULL);
		g_string_append_printf(out, "{\"mid\": \"0x%016llX\", "
			"\"modified\": %llu, \"delivered\": %llu, "
			"\"flags\": %u, \"size\": %u, \"flag_status\": %d, "
			"\"last_verb\": %d, \"change_key\": ",
			(unsigned long long)r->mid,
			(unsigned long long)r->modified,
			(unsigned long long)r->delivered, r->flags, r->size,
			r->flag_status, r->last_verb);
		json_bin(out, &r->change_key);
		g_string_append(out, ", \"message_id\": ");
		if (r->message_id)
			json_str(out, r->message_id);
		else
			g_string_append(out, "null");
		g_string_append(out, "}");
		printf("%s\n", out->str);
	}
	printf("rows %u\n", rows->len);
	return 0;
}

/* fetch-pim FID MID KIND OUTFILE: mapic_read_rendered in a folder of
 * KIND (contacts or calendar), as a sync by the contents table reads an
 * item: "size N". */
static bool run_fetch_pim(struct mapic_session *s, char **argv, int argc,
			  int *i, struct mfs_error *e, int *rc_r)
{
	uint64_t fid = 0, mid = 0;
	GByteArray *out = NULL;
	g_autoptr(GError) err = NULL;

	if (*i + 4 > argc || !parse_u64(argv[*i], &fid) ||
	    !parse_u64(argv[*i + 1], &mid) ||
	    (strcmp(argv[*i + 2], "contacts") &&
	     strcmp(argv[*i + 2], "calendar"))) {
		*rc_r = mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT,
				      MFS_ERR_FINAL, "fetch-pim: FID MID "
				      "contacts|calendar OUTFILE wanted");
		return true;
	}
	enum mfs_folder_kind kind = !strcmp(argv[*i + 2], "contacts")
		? MFS_FOLDER_CONTACTS : MFS_FOLDER_CALENDAR;
	const char *path = argv[*i + 3];
	*i += 4;
	if ((*rc_r = mapic_session_open(s, e)) < 0 ||
	    (*rc_r = mapic_read_rendered(s, fid, mid, kind, NULL, &out, NULL,
					 e)) < 0)
		return true;
	if (!g_file_set_contents(path, (const char *)out->data, out->len,
				 &err))
		*rc_r = mfs_error_set(e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
				      "%s: %s", path, err->message);
	else
		printf("size %u\n", out->len);
	g_byte_array_unref(out);
	return true;
}

/* The commands of this block: *rc_r set and true when `cmd` is one. */
static bool run_message(struct mapic_session *s, const char *cmd,
			char **argv, int argc, int *i, struct mfs_error *e,
			int *rc_r)
{
	uint64_t fid = 0, mid = 0;

	if (!strcmp(cmd, "list")) {
		if (*i + 1 > argc || (strcmp(argv[*i], "inbox") &&
				      !parse_u64(argv[*i], &fid))) {
			*rc_r = mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT,
					      MFS_ERR_FINAL, "list: FID "
					      "wanted");
			return true;
		}
		*i += 1;
		*rc_r = mapic_session_open(s, e);
		if (*rc_r == 0 && fid == 0)
			fid = mapic_session_folder(s, MAPIC_FID_INBOX);
		if (*rc_r == 0)
			*rc_r = cmd_list(s, fid, e);
		return true;
	}
	if (!strcmp(cmd, "fetch-pim"))
		return run_fetch_pim(s, argv, argc, i, e, rc_r);
	if (strcmp(cmd, "fetch"))
		return false;
	if (*i + 3 > argc || (strcmp(argv[*i], "inbox") &&
			      !parse_u64(argv[*i], &fid)) ||
	    !parse_u64(argv[*i + 1], &mid)) {
		*rc_r = mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT,
				      MFS_ERR_FINAL, "%s: FID MID OUTFILE "
				      "wanted", cmd);
		return true;
	}
	*rc_r = mapic_session_open(s, e);
	if (*rc_r < 0)
		return true;
	if (fid == 0)
		fid = mapic_session_folder(s, MAPIC_FID_INBOX);
	*rc_r = cmd_fetch(s, fid, mid, argv[*i + 2], e);
	*i += 3;
	return true;
}

/* ---- the address book and change notification (directory.c, watch.c):
 *   lookup QUERY [prefix]   one JSON line per entry: its name and vCard
 *   userdn ADDRESS          "userdn DN"
 *   watch SECONDS [POLL]    "change FID HIERARCHY" per callback, then
 *                           "stopped MS", how long stopping took ---- */

static void print_entries(GPtrArray *entries)
{
	for (guint k = 0; k < entries->len; k++) {
		const struct mfs_dir_entry *en = entries->pdata[k];
		g_autofree char *card = g_strndup(
			g_bytes_get_data(en->vcard, NULL),
			g_bytes_get_size(en->vcard));
		g_autoptr(GString) out = g_string_new("{\"name\": ");
		json_str(out, en->name);
		g_string_append(out, ", \"vcard\": ");
		json_str(out, card);
		g_string_append(out, "}");
		printf("%s\n", out->str);
	}
	printf("entries %u\n", entries->len);
}

static int cmd_lookup(struct mapic_session *s, const char *query,
		      bool prefix, struct mfs_error *e)
{
	struct mapic_dir *d = mapic_dir_new(s->conf);
	GPtrArray *entries = NULL;
	int rc = mapic_dir_lookup(d, query, prefix, &entries, e);

	if (rc == 0) {
		print_entries(entries);
		g_ptr_array_unref(entries);
	}
	printf("rebinds %u\n", mapic_dir_rebinds(d));
	mapic_dir_free(&d);
	return rc;
}

static int cmd_userdn(struct mapic_session *s, const char *address,
		      struct mfs_error *e)
{
	struct mapic_dir *d = mapic_dir_new(s->conf);
	char *dn = NULL;
	int rc = mapic_dir_user_dn(d, address, &dn, e);

	if (rc == 0)
		printf("userdn %s\n", dn);
	g_free(dn);
	mapic_dir_free(&d);
	return rc;
}

static void on_change(uint64_t fid, bool hierarchy, void *data)
{
	(void)data;
	printf("change 0x%016" G_GINT64_MODIFIER "X %d\n", fid, hierarchy);
	fflush(stdout);
}

static int cmd_watch(struct mapic_session *s, unsigned seconds,
		     unsigned poll, struct mfs_error *e)
{
	struct mapic_watch *w;
	gint64 t;
	int rc = mapic_session_open(s, e);

	if (rc < 0)
		return rc;
	w = mapic_watch_start(s, on_change, NULL, poll);
	g_usleep((gulong)seconds * G_USEC_PER_SEC);
	t = g_get_monotonic_time();
	mapic_watch_stop(&w);
	printf("stopped %" G_GINT64_FORMAT "\n",
	       (g_get_monotonic_time() - t) / 1000);
	return 0;
}

static int dir_watch_run(struct mapic_session *s, const char *cmd,
			 char **argv, int argc, int *i, struct mfs_error *e)
{
	uint64_t a = 0, b = 30;

	if (!strcmp(cmd, "lookup") && *i < argc) {
		const char *q = argv[(*i)++];
		bool prefix = *i < argc && !strcmp(argv[*i], "prefix");
		if (prefix)
			(*i)++;
		return cmd_lookup(s, q, prefix, e);
	}
	if (!strcmp(cmd, "userdn") && *i < argc)
		return cmd_userdn(s, argv[(*i)++], e);
	if (!strcmp(cmd, "watch") && *i < argc && parse_u64(argv[*i], &a)) {
		(*i)++;
		if (*i < argc && parse_u64(argv[*i], &b))
			(*i)++;
		return cmd_watch(s, (unsigned)MIN(a, 3600u),
				 (unsigned)MIN(MAX(b, 1u), 3600u), e);
	}
	return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
			     "unknown command %s", cmd);
}

/* ---- the commands of changes (protocols/mapi write.c, msgops.c,
 * fldops.c) ---- */

static int write_fid(struct mapic_session *s, const char *arg, uint64_t *v_r,
		     struct mfs_error *e)
{
	if (!strcmp(arg, "inbox")) {
		*v_r = mapic_session_folder(s, MAPIC_FID_INBOX);
		return 0;
	}
	if (!parse_u64(arg, v_r))
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "not a folder id: %s", arg);
	return 0;
}

/* "MID[,MID...]" into *mids_r (caller owns it). */
static int write_mids(const char *arg, GArray **mids_r, struct mfs_error *e)
{
	g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
	GArray *a = g_array_new(FALSE, FALSE, sizeof(uint64_t));

	for (int k = 0; parts[k]; k++) {
		uint64_t v;
		if (!parse_u64(parts[k], &v)) {
			g_array_unref(a);
			return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT,
					     MFS_ERR_FINAL, "not a message "
					     "id: %s", parts[k]);
		}
		g_array_append_val(a, v);
	}
	*mids_r = a;
	return 0;
}

static int cmd_create(struct mapic_session *s, uint64_t fid,
		      const char *path, struct mfs_error *e)
{
	struct mapi_message *m = NULL;
	uint64_t mid = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return mfs_error_set(e, -errno, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "%s: %s", path, g_strerror(errno));
	rc = mapic_message_parse_fd(fd, MAPIC_MIME_MAX, &m, e);
	close(fd);
	if (rc == 0)
		rc = mapic_message_create(s, fid, m, &mid, e);
	mapi_message_free(m);
	if (rc == 0)
		printf("mid 0x%016" G_GINT64_MODIFIER "X\n", (guint64)mid);
	return rc;
}

static int cmd_flags(struct mapic_session *s, uint64_t fid,
		     const char *letters, GArray *mids, struct mfs_error *e)
{
	uint64_t want = 0;
	g_autofree uint64_t *flags = g_new0(uint64_t, mids->len);
	g_autofree int *rcs = g_new0(int, mids->len);
	int rc;

	for (const char *c = letters; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			want |= MFS_FLAG_LETTER(*c);
	for (guint k = 0; k < mids->len; k++)
		flags[k] = want;
	rc = mapic_flags_set(s, fid, (uint64_t *)(void *)mids->data, flags,
			     mids->len, rcs, e);
	for (guint k = 0; (rc == 0 || mids->len == 1) && k < mids->len; k++)
		printf("flags-rc 0x%016" G_GINT64_MODIFIER "X %d\n",
		       (guint64)g_array_index(mids, uint64_t, k), rcs[k]);
	return rc;
}

static int cmd_move(struct mapic_session *s, uint64_t fid, uint64_t dest,
		    GArray *mids, bool copy, struct mfs_error *e)
{
	g_autofree uint64_t *out = g_new0(uint64_t, mids->len);
	int rc = mapic_messages_move(s, fid, (uint64_t *)(void *)mids->data,
				     mids->len, dest, copy, out, e);

	for (guint k = 0; rc == 0 && k < mids->len; k++)
		printf("new-mid 0x%016" G_GINT64_MODIFIER "X 0x%016"
		       G_GINT64_MODIFIER "X\n",
		       (guint64)g_array_index(mids, uint64_t, k),
		       (guint64)out[k]);
	return rc;
}

static enum mfs_folder_kind write_kind(const char *k)
{
	return !strcmp(k, "contacts") ? MFS_FOLDER_CONTACTS
	       : !strcmp(k, "calendar") ? MFS_FOLDER_CALENDAR
	       : !strcmp(k, "directory") ? MFS_FOLDER_DIRECTORY
					 : MFS_FOLDER_MAIL;
}

/* The command `cmd`, its arguments from argv[*i]. */
static int run_write(struct mapic_session *s, const char *cmd, char **argv,
		     int argc, int *i, struct mfs_error *e)
{
	static const struct {
		const char *name;
		int args;
	} cmds[] = {
		{ "create", 2 }, { "flags", 3 }, { "remove", 2 },
		{ "move", 3 }, { "copy", 3 }, { "mkfolder", 3 },
		{ "rmfolder", 2 }, { "mvfolder", 4 },
	};
	g_autoptr(GArray) mids = NULL;
	uint64_t a = 0, b = 0;
	int need = -1, rc;

	for (size_t k = 0; k < G_N_ELEMENTS(cmds); k++)
		if (!strcmp(cmd, cmds[k].name))
			need = cmds[k].args;
	if (need < 0)
		return -ENOSYS;
	if (*i + need > argc)
		return mfs_error_set(e, -EINVAL, MFS_ERR_ACCOUNT, MFS_ERR_FINAL,
				     "%s: %d arguments wanted", cmd, need);
	char **arg = argv + *i;
	*i += need;
	if ((rc = mapic_session_open(s, e)) < 0 ||
	    (rc = write_fid(s, arg[0], &a, e)) < 0)
		return rc;
	if (!strcmp(cmd, "create"))
		return cmd_create(s, a, arg[1], e);
	if (!strcmp(cmd, "flags"))
		return write_mids(arg[2], &mids, e) < 0 ? -EINVAL
		       : cmd_flags(s, a, arg[1], mids, e);
	if (!strcmp(cmd, "remove"))
		return write_mids(arg[1], &mids, e) < 0 ? -EINVAL
		       : mapic_messages_remove(s, a,
					       (uint64_t *)(void *)mids->data,
					       mids->len, e);
	if (!strcmp(cmd, "move") || !strcmp(cmd, "copy"))
		return write_fid(s, arg[1], &b, e) < 0 ||
		       write_mids(arg[2], &mids, e) < 0
		       ? -EINVAL : cmd_move(s, a, b, mids,
					    !strcmp(cmd, "copy"), e);
	if (!strcmp(cmd, "mkfolder")) {
		rc = mapic_folder_create(s, a, arg[1], write_kind(arg[2]), &b,
					 e);
		if (rc == 0)
			printf("fid 0x%016" G_GINT64_MODIFIER "X\n",
			       (guint64)b);
		return rc;
	}
	if (write_fid(s, arg[1], &b, e) < 0)
		return -EINVAL;
	if (!strcmp(cmd, "rmfolder"))
		return mapic_folder_delete(s, a, b, e);
	uint64_t c = 0;
	if (write_fid(s, arg[2], &c, e) < 0)
		return -EINVAL;
	return mapic_folder_move(s, a, b, c, arg[3], e);
}
