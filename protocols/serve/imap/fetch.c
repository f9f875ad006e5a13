/*
 * fetch.c - FETCH and UID FETCH (RFC 3501 sections 6.4.5 and
 * 7.4.2), sequence sets (section 9, "sequence-set"), and reading a
 * message's content from the store.
 *
 * Every BODY[...] is the stored bytes: whole, by header or text, by part,
 * by header fields, with <origin.count> partial ranges.  RFC822.SIZE is
 * the stored size, which is exactly what BODY[] sends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wire/mime-entity.h"
#include "imapd-private.h"

#define MAX_FIELDS 100
#define MAX_ATTS 64

enum fa_kind {
	FA_UID, FA_FLAGS, FA_SIZE, FA_DATE, FA_MODSEQ, FA_ENVELOPE, FA_BODY,
	FA_BODYSTRUCTURE, FA_SECTION, FA_RFC822, FA_RFC822_HEADER,
	FA_RFC822_TEXT,
};

enum fa_sec { SEC_ALL, SEC_HEADER, SEC_TEXT, SEC_MIME, SEC_FIELDS,
	      SEC_FIELDS_NOT };

struct fetch_att {
	enum fa_kind kind;
	bool peek;
	char *part;		/* owned; "1.2" or NULL */
	enum fa_sec sec;
	char **fields;		/* owned; for SEC_FIELDS(_NOT) */
	bool partial;
	uint64_t start, count;
	char *label;		/* owned; the name to answer with */
};

static void att_clear(gpointer p)
{
	struct fetch_att *a = p;

	g_free(a->part);
	g_strfreev(a->fields);
	g_free(a->label);
}

bool imapd_set_matches(struct imapd_session *s, const GArray *ranges, bool uid,
		      guint i)
{
	const struct imapd_msg *m = &g_array_index(s->view->msgs,
						  struct imapd_msg, i);

	return imapd_seqset_has(ranges, uid ? m->uid : i + 1);
}

/* ---- content ---- */

int imapd_msg_content(struct imapd_session *s, const struct imapd_msg *m,
		     GBytes **bytes_r)
{
	struct mfs_error e = { 0 };
	GByteArray *buf;
	char chunk[65536];
	ssize_t n;
	int fd, rc;

	rc = mfs_store_fetch(s->ctx->store, s->view->folder, m->id, &fd, &e);
	if (rc < 0)
		return rc;
	buf = g_byte_array_sized_new((guint)MIN(m->size, (uint64_t)1 << 26));
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		g_byte_array_append(buf, (const guint8 *)chunk, (guint)n);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0) {
		g_byte_array_unref(buf);
		return rc;
	}
	*bytes_r = g_byte_array_free_to_bytes(buf);
	return 0;
}

void imapd_send_flags(struct imapd_session *s, const struct imapd_msg *m)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
		{ MFS_FLAG_SEEN, "\\Seen" }, { MFS_FLAG_REPLIED, "\\Answered" },
		{ MFS_FLAG_FLAGGED, "\\Flagged" },
		{ MFS_FLAG_TRASHED, "\\Deleted" }, { MFS_FLAG_DRAFT, "\\Draft" },
	};
	GString *out = g_string_new("(");

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		if (!(m->flags & names[i].bit))
			continue;
		if (out->len > 1)
			g_string_append_c(out, ' ');
		g_string_append(out, names[i].name);
	}
	if (m->recent)
		g_string_append(out, out->len > 1 ? " \\Recent" : "\\Recent");
	/* a letter the folder's keywords do not name is not told */
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		const char *name = s->view->kw.names[i];
		if (!name || !(m->flags & maildir_keyword_bit(i)))
			continue;
		if (out->len > 1)
			g_string_append_c(out, ' ');
		g_string_append(out, name);
	}
	g_string_append_c(out, ')');
	serve_conn_write(s->c, out->str, out->len);
	g_string_free(out, TRUE);
}

/* ---- parsing the attributes ---- */

static bool parse_fields(const char *s, struct fetch_att *a)
{
	const char *open = strchr(s, '('), *close = strrchr(s, ')');
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	if (!open || !close || close < open || close[1])
		return false;
	g_autofree char *inner = g_strndup(open + 1, (gsize)(close - open - 1));
	g_auto(GStrv) words = g_strsplit(inner, " ", -1);
	for (int i = 0; words[i]; i++) {
		char *w = words[i];
		size_t len = strlen(w);
		if (!len)
			continue;
		if (len >= 2 && w[0] == '"' && w[len - 1] == '"') {
			w[len - 1] = '\0';
			w++;
		}
		if (!*w || strpbrk(w, "\"\\") || names->len >= MAX_FIELDS)
			return false;
		g_ptr_array_add(names, g_strdup(w));
	}
	if (names->len == 0)
		return false;
	g_ptr_array_add(names, NULL);
	a->fields = (char **)g_ptr_array_free(g_steal_pointer(&names), FALSE);
	return true;
}

/* "BODY[...]<a.b>" or "BODY.PEEK[...]<a.b>" */
static bool parse_section(const char *atom, struct fetch_att *a)
{
	const char *open = strchr(atom, '['), *close = strrchr(atom, ']');
	g_autofree char *prefix = NULL, *sec = NULL;

	if (!open || !close || close < open)
		return false;
	prefix = g_strndup(atom, (gsize)(open - atom));
	if (!g_ascii_strcasecmp(prefix, "BODY.PEEK"))
		a->peek = true;
	else if (g_ascii_strcasecmp(prefix, "BODY"))
		return false;
	a->kind = FA_SECTION;
	sec = g_strndup(open + 1, (gsize)(close - open - 1));
	if (close[1] == '<') {
		const char *p = close + 2;
		char *end = NULL;
		if (!g_ascii_isdigit(*p))
			return false;
		a->start = g_ascii_strtoull(p, &end, 10);
		if (*end != '.' || !g_ascii_isdigit(end[1]))
			return false;
		a->count = g_ascii_strtoull(end + 1, &end, 10);
		if (strcmp(end, ">") || a->count == 0)
			return false;
		a->partial = true;
	} else if (close[1]) {
		return false;
	}
	const char *p = sec;
	const char *text = p;
	/* part numbers: digits and dots while a number follows */
	while (g_ascii_isdigit(*p)) {
		while (g_ascii_isdigit(*p))
			p++;
		text = p;
		if (*p == '.')
			p++;
		else
			break;
	}
	if (text > sec) {
		a->part = g_strndup(sec, (gsize)(text - sec));
		if (*text == '.')
			text++;
		else if (*text)
			return false;
	}
	if (!*text)
		a->sec = SEC_ALL;
	else if (!g_ascii_strcasecmp(text, "HEADER"))
		a->sec = SEC_HEADER;
	else if (!g_ascii_strcasecmp(text, "TEXT"))
		a->sec = SEC_TEXT;
	else if (!g_ascii_strcasecmp(text, "MIME") && a->part)
		a->sec = SEC_MIME;
	else if (!g_ascii_strncasecmp(text, "HEADER.FIELDS.NOT ", 18) ||
		 !g_ascii_strncasecmp(text, "HEADER.FIELDS.NOT(", 18)) {
		a->sec = SEC_FIELDS_NOT;
		if (!parse_fields(text + 17, a))
			return false;
	} else if (!g_ascii_strncasecmp(text, "HEADER.FIELDS ", 14) ||
		   !g_ascii_strncasecmp(text, "HEADER.FIELDS(", 14)) {
		a->sec = SEC_FIELDS;
		if (!parse_fields(text + 13, a))
			return false;
	} else {
		return false;
	}
	a->label = g_strdup_printf("BODY[%s]", sec);
	if (a->partial) {
		char *l = g_strdup_printf("%s<%" G_GUINT64_FORMAT ">", a->label,
					  a->start);
		g_free(a->label);
		a->label = l;
	}
	return true;
}

static bool parse_att(const struct imap_arg *arg, GArray *atts)
{
	static const struct {
		const char *name;
		enum fa_kind kind;
	} simple[] = {
		{ "UID", FA_UID }, { "FLAGS", FA_FLAGS },
		{ "RFC822.SIZE", FA_SIZE }, { "INTERNALDATE", FA_DATE },
		{ "MODSEQ", FA_MODSEQ },
		{ "ENVELOPE", FA_ENVELOPE }, { "BODY", FA_BODY },
		{ "BODYSTRUCTURE", FA_BODYSTRUCTURE }, { "RFC822", FA_RFC822 },
		{ "RFC822.HEADER", FA_RFC822_HEADER },
		{ "RFC822.TEXT", FA_RFC822_TEXT },
	};
	struct fetch_att a = { 0 };

	if (!arg || arg->type != IMAP_ARG_ATOM || atts->len >= MAX_ATTS)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(simple); i++) {
		if (!g_ascii_strcasecmp(arg->str, simple[i].name)) {
			a.kind = simple[i].kind;
			a.label = g_ascii_strup(arg->str, -1);
			g_array_append_val(atts, a);
			return true;
		}
	}
	if (!parse_section(arg->str, &a)) {
		att_clear(&a);
		return false;
	}
	g_array_append_val(atts, a);
	return true;
}

/* The attributes of a FETCH: a macro, one attribute or a list. */
static bool parse_atts(const struct imap_arg *arg, GArray *atts)
{
	static const struct {
		const char *macro;
		const char *const items[5];
	} macros[] = {
		{ "ALL", { "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE" } },
		{ "FAST", { "FLAGS", "INTERNALDATE", "RFC822.SIZE" } },
		{ "FULL", { "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE",
			    "BODY" } },
	};
	GPtrArray *list = imap_arg_list(arg);

	if (list) {
		for (guint i = 0; i < list->len; i++) {
			if (!parse_att(list->pdata[i], atts))
				return false;
		}
		return list->len > 0;
	}
	for (size_t i = 0; arg && arg->type == IMAP_ARG_ATOM &&
			   i < G_N_ELEMENTS(macros); i++) {
		if (g_ascii_strcasecmp(arg->str, macros[i].macro))
			continue;
		for (int j = 0; macros[i].items[j]; j++) {
			struct imap_arg fake = { .type = IMAP_ARG_ATOM,
						 .str = (char *)macros[i].items[j],
						 .fd = -1 };
			parse_att(&fake, atts);
		}
		return true;
	}
	return parse_att(arg, atts);
}

/* ---- answering ---- */

static void send_literal(struct imapd_session *s, const char *p, size_t len)
{
	serve_conn_printf(s->c, "{%zu}\r\n", len);
	serve_conn_write(s->c, p, len);
}

/* The bytes an attribute names, into `out` (or borrowed from `all`). */
static int section_bytes(const struct fetch_att *a, GBytes *all,
			 GString *out, const char **p_r, size_t *len_r)
{
	gsize n;
	const char *data = g_bytes_get_data(all, &n);
	struct mime_entity top, e;

	mime_entity_init(&top, data, n, true);
	e = top;
	if (a->part) {
		bool encaps = a->sec == SEC_HEADER || a->sec == SEC_TEXT ||
			      a->sec == SEC_FIELDS || a->sec == SEC_FIELDS_NOT;
		if (mime_entity_part(&top, a->part, encaps, &e) < 0) {
			/* a part that is not there is empty (as Dovecot) */
			*p_r = "";
			*len_r = 0;
			return 0;
		}
	}
	switch (a->sec) {
	case SEC_ALL:
		if (a->part) {
			*p_r = e.start + e.header_len;
			*len_r = e.len - e.header_len;
		} else {
			*p_r = data;
			*len_r = n;
		}
		return 0;
	case SEC_HEADER:
	case SEC_MIME:
		*p_r = e.start;
		*len_r = e.header_len;
		return 0;
	case SEC_TEXT:
		*p_r = e.start + e.header_len;
		*len_r = e.len - e.header_len;
		return 0;
	case SEC_FIELDS:
	case SEC_FIELDS_NOT:
		mime_entity_header_fields(&e, (const char *const *)a->fields,
					  a->sec == SEC_FIELDS_NOT, out);
		*p_r = out->str;
		*len_r = out->len;
		return 0;
	}
	return -EINVAL;
}

/*
 * date-year is four digits (RFC 3501 section 9), but a message's date is
 * its file's mtime, which `touch` sets to any year: held to 0001..9999,
 * in UTC where the local zone would carry it past either end.
 */
#define DATE_MIN INT64_C(-62135596800)	/* 0001-01-01T00:00:00Z */
#define DATE_MAX INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */

static void send_date(struct imapd_session *s, int64_t date)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)CLAMP(date, DATE_MIN, DATE_MAX);
	struct tm tm;
	char buf[64];

	if (!localtime_r(&t, &tm) || tm.tm_year + 1900 < 1 ||
	    tm.tm_year + 1900 > 9999)
		gmtime_r(&t, &tm);
	/* strftime's %Y does not pad years before 1000 to four digits */
	long off = tm.tm_gmtoff / 60;
	g_snprintf(buf, sizeof(buf), "\"%02d-%s-%04d %02d:%02d:%02d %c%02ld%02ld\"",
		   tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
		   tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', labs(off) / 60,
		   labs(off) % 60);
	serve_conn_write(s->c, buf, strlen(buf));
}

/* The whole message, as it is sent without reading it into memory. */
static bool whole_message(const struct fetch_att *a)
{
	return a->kind == FA_RFC822 ||
	       (a->kind == FA_SECTION && !a->part && a->sec == SEC_ALL);
}

/*
 * A literal of the message's bytes from `fd`, or of its <start.count>
 * range: copied through in pieces, so that a big message never sits in
 * memory.  A file that ends early is padded, to keep the literal's
 * announced length.  Returns 0 or -errno.
 */
static int send_file_literal(struct imapd_session *s, int fd,
			     const struct fetch_att *a)
{
	char buf[65536];
	struct stat sb;
	uint64_t start = 0, len;
	int rc = 0;

	if (fstat(fd, &sb) != 0)
		return -errno;
	len = (uint64_t)sb.st_size;
	if (a->partial && a->kind == FA_SECTION) {
		start = MIN(a->start, len);
		len = MIN(len - start, a->count);
	}
	serve_conn_printf(s->c, "{%" G_GUINT64_FORMAT "}\r\n", len);
	while (len > 0) {
		size_t want = (size_t)MIN(len, (uint64_t)sizeof(buf));
		ssize_t n = rc ? -1 : pread(fd, buf, want, (off_t)start);
		if (n <= 0) {
			if (!rc)
				rc = n < 0 ? -errno : -EIO;
			memset(buf, ' ', want);
			n = (ssize_t)want;
		}
		serve_conn_write(s->c, buf, (size_t)n);
		start += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return rc;
}

/* What a message's attributes need: its content in memory (`need`), its
 * file to copy from (`stream`), \Seen set (`seen`), FLAGS asked for. */
struct fetch_needs {
	bool need, stream, seen, flags_asked;
};

static struct fetch_needs fetch_needs(const GArray *atts)
{
	struct fetch_needs n = { 0 };

	for (guint k = 0; k < atts->len; k++) {
		const struct fetch_att *a = &g_array_index(atts,
							   struct fetch_att, k);
		if (whole_message(a))
			n.stream = true;
		else
			n.need |= a->kind >= FA_ENVELOPE;
		n.seen |= !a->peek && (a->kind == FA_SECTION ||
				       a->kind == FA_RFC822 ||
				       a->kind == FA_RFC822_TEXT);
		n.flags_asked |= a->kind == FA_FLAGS;
	}
	return n;
}

/* ENVELOPE, BODY or BODYSTRUCTURE of `content`. */
static void send_structure(struct imapd_session *s, const struct fetch_att *a,
			   GBytes *content)
{
	g_autoptr(GString) tmp = g_string_new(NULL);
	struct mime_entity top;
	gsize n;
	const char *d = g_bytes_get_data(content, &n);

	mime_entity_init(&top, d, n, true);
	if (a->kind == FA_ENVELOPE)
		mime_entity_envelope(&top, tmp);
	else
		mime_entity_bodystructure(&top, a->kind == FA_BODYSTRUCTURE,
					  tmp);
	serve_conn_write(s->c, tmp->str, tmp->len);
}

/* A section (or RFC822, .HEADER, .TEXT) from `content`, or, when nothing
 * else needed the content in memory, copied from `fd`.  Returns 0 or
 * -EIO. */
static int send_section(struct imapd_session *s, const struct fetch_att *a,
			GBytes *content, int fd)
{
	g_autoptr(GString) tmp = g_string_new(NULL);
	struct fetch_att whole = *a;
	const char *p = NULL;
	size_t len = 0;

	if (!content)
		return send_file_literal(s, fd, a) < 0 ? -EIO : 0;
	if (a->kind != FA_SECTION) {
		whole.part = NULL;
		whole.partial = false;
		whole.sec = a->kind == FA_RFC822 ? SEC_ALL
			: a->kind == FA_RFC822_HEADER ? SEC_HEADER : SEC_TEXT;
	}
	section_bytes(&whole, content, tmp, &p, &len);
	if (whole.partial) {
		uint64_t st = MIN(whole.start, (uint64_t)len);
		p += st;
		len = (size_t)MIN((uint64_t)len - st, whole.count);
	}
	send_literal(s, p, len);
	return 0;
}

/* One attribute's value.  Returns 0 or -EIO. */
static int send_att(struct imapd_session *s, const struct imapd_msg *m,
		    const struct fetch_att *a, GBytes *content, int fd)
{
	switch (a->kind) {
	case FA_UID:
		serve_conn_printf(s->c, "%u", m->uid);
		break;
	case FA_FLAGS:
		imapd_send_flags(s, m);
		break;
	case FA_SIZE:
		serve_conn_printf(s->c, "%" G_GUINT64_FORMAT, m->size);
		break;
	case FA_DATE:
		send_date(s, m->date);
		break;
	case FA_MODSEQ:
		serve_conn_printf(s->c, "(%" G_GUINT64_FORMAT ")", m->modseq);
		break;
	case FA_ENVELOPE:
	case FA_BODY:
	case FA_BODYSTRUCTURE:
		send_structure(s, a, content);
		break;
	case FA_RFC822:
	case FA_RFC822_HEADER:
	case FA_RFC822_TEXT:
	case FA_SECTION:
		return send_section(s, a, content, fd);
	}
	return 0;
}

/* One message's FETCH response.  Returns 0 or -errno (message gone). */
static int fetch_one(struct imapd_session *s, guint i, GArray *atts,
		     bool uid)
{
	struct imapd_msg *m = &g_array_index(s->view->msgs, struct imapd_msg, i);
	struct fetch_needs n = fetch_needs(atts);
	g_autoptr(GBytes) content = NULL;
	bool first = true;
	int fd = -1, rc = 0;

	if (n.need) {
		if (imapd_msg_content(s, m, &content) < 0)
			return -ENOENT;
	} else if (n.stream) {
		struct mfs_error e = { 0 };
		rc = mfs_store_fetch(s->ctx->store, s->view->folder, m->id,
				     &fd, &e);
		if (rc < 0)
			return -ENOENT;
	}
	if (n.seen && !s->view->readonly && !(m->flags & MFS_FLAG_SEEN)) {
		if (mfs_store_set_flags(s->ctx->store, s->view->folder, m->id,
					m->flags | MFS_FLAG_SEEN, NULL) == 0)
			m->flags |= MFS_FLAG_SEEN;
	} else {
		n.seen = false;
	}
	serve_conn_printf(s->c, "* %u FETCH (", i + 1);
	if (uid) {
		serve_conn_printf(s->c, "UID %u", m->uid);
		first = false;
	}
	for (guint k = 0; k < atts->len; k++) {
		const struct fetch_att *a = &g_array_index(atts,
							   struct fetch_att, k);
		if (a->kind == FA_UID && uid)
			continue;
		if (!first)
			serve_conn_write(s->c, " ", 1);
		first = false;
		serve_conn_printf(s->c, "%s ", a->label);
		if (send_att(s, m, a, content, fd) < 0)
			rc = -EIO;
	}
	if (n.seen && !n.flags_asked) {
		serve_conn_write(s->c, " FLAGS ", 7);
		imapd_send_flags(s, m);
	}
	serve_conn_write(s->c, ")\r\n", 3);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The modifiers of RFC 7162: (CHANGEDSINCE n [VANISHED]). */
static bool parse_modifiers(struct imapd_session *s, const struct imapd_cmd *cmd,
			    uint64_t *since_r, bool *vanished_r)
{
	GPtrArray *mods = imap_arg_list(cmd->args[2]);

	if (!mods)
		return false;
	for (guint i = 0; i < mods->len; i++) {
		const struct imap_arg *a = mods->pdata[i];
		if (imap_arg_is(a, "CHANGEDSINCE") && i + 1 < mods->len &&
		    imap_arg_number(mods->pdata[i + 1], since_r)) {
			i++;
		} else if (imap_arg_is(a, "VANISHED") && cmd->uid &&
			   s->qresync) {
			*vanished_r = true;
		} else {
			return false;
		}
	}
	/* VANISHED goes only with CHANGEDSINCE */
	return *since_r > 0 || !*vanished_r;
}

/* VANISHED (EARLIER) for the UIDs of `set` below UIDNEXT that are not
 * here (RFC 7162 section 3.2.6). */
static void send_vanished(struct imapd_session *s, const GArray *set)
{
	GArray *msgs = s->view->msgs;
	g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	guint at = 0;

	for (guint r = 0; r < set->len; r++) {
		uint32_t lo = g_array_index(set, uint32_t, 2 * r);
		uint32_t hi = MIN(g_array_index(set, uint32_t, 2 * r + 1),
				  s->view->uidnext - 1);
		for (uint64_t u = lo; u <= hi; u++) {
			while (at < msgs->len &&
			       g_array_index(msgs, struct imapd_msg, at).uid < u)
				at++;
			if (at < msgs->len &&
			    g_array_index(msgs, struct imapd_msg, at).uid == u)
				continue;
			uint32_t v = (uint32_t)u;
			g_array_append_val(gone, v);
		}
	}
	if (gone->len) {
		g_autofree char *list = imapd_uid_set_string(gone);
		imapd_untagged(s, "VANISHED (EARLIER) %s", list);
	}
}

void imapd_cmd_fetch(struct imapd_session *s, const struct imapd_cmd *cmd)
{
	g_autoptr(GArray) atts = g_array_new(FALSE, TRUE,
					     sizeof(struct fetch_att));
	g_autoptr(GArray) set = NULL;
	GArray *msgs = s->view->msgs;
	uint64_t since = 0;
	bool gone = false, vanished = false, modseq = false;
	uint32_t star;

	g_array_set_clear_func(atts, att_clear);
	star = msgs->len == 0 ? 0 : cmd->uid
		? g_array_index(msgs, struct imapd_msg, msgs->len - 1).uid
		: msgs->len;
	if (cmd->nargs < 2 || cmd->nargs > 3 ||
	    cmd->args[0]->type != IMAP_ARG_ATOM ||
	    imapd_seqset_parse(cmd->args[0]->str, star, &set) < 0) {
		imapd_reply(s, cmd, "BAD", "FETCH sequence-set attributes");
		return;
	}
	if (cmd->nargs == 3 && !parse_modifiers(s, cmd, &since, &vanished)) {
		imapd_reply(s, cmd, "BAD", "FETCH takes (CHANGEDSINCE n "
			   "[VANISHED])");
		return;
	}
	if (!parse_atts(cmd->args[1], atts)) {
		imapd_reply(s, cmd, "BAD", "unknown FETCH attribute");
		return;
	}
	for (guint k = 0; k < atts->len; k++)
		modseq |= g_array_index(atts, struct fetch_att, k).kind ==
			  FA_MODSEQ;
	if (since && !modseq) {
		struct fetch_att a = { .kind = FA_MODSEQ,
				       .label = g_strdup("MODSEQ") };
		g_array_append_val(atts, a);
		modseq = true;
	}
	if (modseq)
		s->condstore = true;
	if (!cmd->uid && set->len &&
	    g_array_index(set, uint32_t, 2 * (set->len - 1) + 1) > msgs->len) {
		imapd_reply(s, cmd, "BAD", "no such message");
		return;
	}
	if (vanished)
		send_vanished(s, set);
	for (guint i = 0; i < msgs->len; i++) {
		if (!imapd_set_matches(s, set, cmd->uid, i))
			continue;
		if (since &&
		    g_array_index(msgs, struct imapd_msg, i).modseq <= since)
			continue;
		if (fetch_one(s, i, atts, cmd->uid) < 0)
			gone = true;
	}
	if (gone)
		imapd_reply(s, cmd, "NO", "some messages were expunged "
			   "meanwhile");
	else
		imapd_reply(s, cmd, "OK", "FETCH completed");
}
