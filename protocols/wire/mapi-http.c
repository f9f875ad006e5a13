/*
 * mapi-http.c - see mapi-http.h: request types, X-ResponseCode, request
 * headers and the meta-tags of response bodies.  MS-OXCMAPIHTTP 2.2.2,
 * 2.2.3, 2.2.7 and 3.2.5; dates as RFC 7231 7.1.1.1 has them.
 */
#include "mapi-http.h"

#include <errno.h>
#include <string.h>

static const char *const req_names[MAPI_REQ_COUNT] = {
	[MAPI_REQ_CONNECT] = "Connect",
	[MAPI_REQ_EXECUTE] = "Execute",
	[MAPI_REQ_DISCONNECT] = "Disconnect",
	[MAPI_REQ_NOTIFICATION_WAIT] = "NotificationWait",
	[MAPI_REQ_PING] = "PING",
	[MAPI_REQ_BIND] = "Bind",
	[MAPI_REQ_UNBIND] = "Unbind",
	[MAPI_REQ_COMPARE_MIDS] = "CompareMIds",
	[MAPI_REQ_DNTOMID] = "DNToMId",
	[MAPI_REQ_GET_MATCHES] = "GetMatches",
	[MAPI_REQ_GET_PROP_LIST] = "GetPropList",
	[MAPI_REQ_GET_PROPS] = "GetProps",
	[MAPI_REQ_GET_SPECIAL_TABLE] = "GetSpecialTable",
	[MAPI_REQ_GET_TEMPLATE_INFO] = "GetTemplateInfo",
	[MAPI_REQ_MOD_LINK_ATT] = "ModLinkAtt",
	[MAPI_REQ_MOD_PROPS] = "ModProps",
	[MAPI_REQ_QUERY_COLUMNS] = "QueryColumns",
	[MAPI_REQ_QUERY_ROWS] = "QueryRows",
	[MAPI_REQ_RESOLVE_NAMES] = "ResolveNames",
	[MAPI_REQ_RESORT_RESTRICTION] = "ResortRestriction",
	[MAPI_REQ_SEEK_ENTRIES] = "SeekEntries",
	[MAPI_REQ_UPDATE_STAT] = "UpdateStat",
	[MAPI_REQ_GET_MAILBOX_URL] = "GetMailboxUrl",
	[MAPI_REQ_GET_ADDRESS_BOOK_URL] = "GetAddressBookUrl",
};

const char *mapi_req_name(enum mapi_req t)
{
	if ((unsigned)t >= MAPI_REQ_COUNT)
		return NULL;
	return req_names[t];
}

enum mapi_req mapi_req_from_name(const char *name)
{
	unsigned i;

	if (!name)
		return MAPI_REQ_UNKNOWN;
	for (i = 1; i < MAPI_REQ_COUNT; i++)
		if (!g_ascii_strcasecmp(req_names[i], name))
			return (enum mapi_req)i;
	return MAPI_REQ_UNKNOWN;
}

bool mapi_req_is_nspi(enum mapi_req t)
{
	return t >= MAPI_REQ_BIND && t < MAPI_REQ_COUNT;
}

static const char *const rc_texts[] = {
	[MAPI_RC_SUCCESS] = "The request was accepted.",
	[MAPI_RC_UNKNOWN_FAILURE] = "The request failed for an unknown "
		"reason.",
	[MAPI_RC_INVALID_VERB] = "The request has an invalid verb.",
	[MAPI_RC_INVALID_PATH] = "The request has an invalid path.",
	[MAPI_RC_INVALID_HEADER] = "The request has an invalid header.",
	[MAPI_RC_INVALID_REQUEST_TYPE] = "The request has an invalid "
		"X-RequestType header.",
	[MAPI_RC_INVALID_CONTEXT_COOKIE] = "The request has an invalid "
		"session context cookie.",
	[MAPI_RC_MISSING_HEADER] = "The request lacks a required header.",
	[MAPI_RC_ANONYMOUS_NOT_ALLOWED] = "The request is anonymous and "
		"anonymous requests are not accepted.",
	[MAPI_RC_TOO_LARGE] = "The request is too large.",
	[MAPI_RC_CONTEXT_NOT_FOUND] = "The session context was not found.",
	[MAPI_RC_NO_PRIVILEGE] = "The client has no privilege on the "
		"session context.",
	[MAPI_RC_INVALID_REQUEST_BODY] = "The request body is invalid.",
	[MAPI_RC_MISSING_COOKIE] = "The request lacks a required cookie.",
	[14] = "Reserved response code.",
	[MAPI_RC_INVALID_SEQUENCE] = "The request broke the rule of one "
		"request at a time per session context.",
	[MAPI_RC_ENDPOINT_DISABLED] = "The endpoint is disabled.",
	[MAPI_RC_INVALID_RESPONSE] = "The server produced an invalid "
		"response.",
	[MAPI_RC_ENDPOINT_SHUTTING_DOWN] = "The endpoint is shutting down.",
};

const char *mapi_rc_text(uint32_t rc)
{
	if (rc < G_N_ELEMENTS(rc_texts) && rc_texts[rc])
		return rc_texts[rc];
	return "The server answered with an unknown response code.";
}

int mapi_rc_parse(const char *value, uint32_t *rc_r)
{
	uint64_t v = 0;
	const char *p = value;

	*rc_r = 0;
	if (!p)
		return -EBADMSG;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!g_ascii_isdigit(*p))
		return -EBADMSG;
	for (; g_ascii_isdigit(*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -EBADMSG;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		return -EBADMSG;
	*rc_r = (uint32_t)v;
	return 0;
}

/* The text of [from, to) without markup, entities left as they are,
 * blanks collapsed. */
static GString *strip_markup(const char *from, const char *to)
{
	GString *s = g_string_new(NULL);
	bool in_tag = false, blank = false;
	const char *p;

	for (p = from; p < to; p++) {
		if (*p == '<') {
			in_tag = true;
			blank = true;
			continue;
		}
		if (in_tag) {
			in_tag = *p != '>';
			continue;
		}
		if (g_ascii_isspace(*p) || *p == '\0') {
			blank = true;
			continue;
		}
		if (blank && s->len)
			g_string_append_c(s, ' ');
		blank = false;
		g_string_append_c(s, *p);
	}
	return s;
}

/* The last occurrence of `needle` (ASCII, any case) in [from, to). */
static const char *last_ci(const char *from, const char *to,
			   const char *needle)
{
	size_t n = strlen(needle);
	const char *p;

	if ((size_t)(to - from) < n)
		return NULL;
	for (p = to - n; p >= from; p--)
		if (!g_ascii_strncasecmp(p, needle, n))
			return p;
	return NULL;
}

char *mapi_http_diag_text(const void *body, size_t len, size_t max)
{
	const char *from = body, *to = from + len, *p;
	GString *s;
	char *out;

	if (!body)
		return NULL;
	p = last_ci(from, to, "<p>");
	if (p) {
		const char *end = last_ci(p, to, "</p>");

		from = p;
		to = end ? end : to;
	} else if ((p = last_ci(from, to, "<body"))) {
		from = p;
	}
	s = strip_markup(from, to);
	if (s->len > max)
		g_string_truncate(s, max);
	if (!s->len) {
		g_string_free(s, TRUE);
		return NULL;
	}
	out = g_utf8_make_valid(s->str, (gssize)s->len);
	g_string_free(s, TRUE);
	return out;
}

void mapi_http_write_diag_page(GByteArray *b, uint32_t rc)
{
	static const char head[] =
		"<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\r\n"
		"<html><head>\r\n<title>MAPI over HTTP error</title>\r\n"
		"</head><body>\r\n<h1>Diagnostic information</h1>\r\n<p>";
	static const char tail[] = "</p>\r\n</body></html>\r\n";
	const char *text = mapi_rc_text(rc);

	g_byte_array_append(b, (const guint8 *)head, sizeof(head) - 1);
	g_byte_array_append(b, (const guint8 *)text, (guint)strlen(text));
	g_byte_array_append(b, (const guint8 *)tail, sizeof(tail) - 1);
}

static bool clean_value(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return false;
	return true;
}

int mapi_http_request_headers(struct mapi_http_headers *out, enum mapi_req t,
			      const struct mapi_http_client *c, uint64_t seq)
{
	const char *type = mapi_req_name(t);

	memset(out, 0, sizeof(*out));
	if (!type || !c->request_guid || !c->client_info ||
	    !c->application || !g_uuid_string_is_valid(c->request_guid) ||
	    !g_uuid_string_is_valid(c->client_info) ||
	    !clean_value(c->application))
		return -EINVAL;
	out->h[0].name = MAPI_HDR_CONTENT_TYPE;
	out->h[0].value = g_strdup(MAPI_HTTP_CONTENT_TYPE);
	out->h[1].name = MAPI_HDR_REQUEST_TYPE;
	out->h[1].value = g_strdup(type);
	out->h[2].name = MAPI_HDR_REQUEST_ID;
	out->h[2].value = g_strdup_printf("{%s}:%" G_GUINT64_FORMAT,
					  c->request_guid, seq);
	out->h[3].name = MAPI_HDR_CLIENT_INFO;
	out->h[3].value = g_strdup_printf("{%s}", c->client_info);
	out->h[4].name = MAPI_HDR_CLIENT_APPLICATION;
	out->h[4].value = g_strdup(c->application);
	out->n = MAPI_HTTP_REQ_HEADERS;
	return 0;
}

void mapi_http_headers_clear(struct mapi_http_headers *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		g_free(h->h[i].value);
	memset(h, 0, sizeof(*h));
}

/*
 * The meta-tag reader's states: keep-alive lines until DONE, then header
 * lines until the empty one, then the binary part; or failed.
 */
enum {
	META_KEEPALIVE = 0,
	META_HEADERS,
	META_BINARY,
	META_FAILED,
};

void mapi_meta_init(struct mapi_meta_rd *m, size_t max_line,
		    unsigned max_keepalive)
{
	memset(m, 0, sizeof(*m));
	m->max_line = max_line < MAPI_META_LINE_MAX ? max_line
						    : MAPI_META_LINE_MAX;
	m->max_keepalive = max_keepalive;
	m->state = META_KEEPALIVE;
}

static int meta_fail(struct mapi_meta_rd *m, int err)
{
	m->state = META_FAILED;
	return err;
}

/* A header line after DONE: the two the spec names are kept, others
 * skipped. */
static int meta_header(struct mapi_meta_rd *m, const char *line)
{
	const char *colon = strchr(line, ':'), *v;
	size_t n;

	if (!colon || colon == line)
		return meta_fail(m, -EBADMSG);
	if (++m->n_headers > MAPI_META_HEADERS_MAX)
		return meta_fail(m, -EMSGSIZE);
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	n = (size_t)(colon - line);
	if (n == strlen(MAPI_HDR_ELAPSED_TIME) &&
	    !g_ascii_strncasecmp(line, MAPI_HDR_ELAPSED_TIME, n)) {
		if (mapi_rc_parse(v, &m->elapsed) == 0)
			m->have_elapsed = true;
	} else if (n == strlen(MAPI_HDR_START_TIME) &&
		   !g_ascii_strncasecmp(line, MAPI_HDR_START_TIME, n) &&
		   strlen(v) < sizeof(m->start_time)) {
		g_strlcpy(m->start_time, v, sizeof(m->start_time));
	}
	return MAPI_META_MORE;
}

/* A whole line (without its end) in the current state: an event, MORE,
 * or an error. */
static int meta_line(struct mapi_meta_rd *m, const char *line)
{
	if (m->state == META_HEADERS) {
		if (!*line) {
			m->state = META_BINARY;
			return MAPI_META_BINARY;
		}
		return meta_header(m, line);
	}
	if (!strcmp(line, "DONE")) {
		m->state = META_HEADERS;
		return MAPI_META_DONE;
	}
	if (strcmp(line, "PROCESSING") && strcmp(line, "PENDING"))
		return meta_fail(m, -EBADMSG);
	if (++m->n_keepalive > m->max_keepalive)
		return meta_fail(m, -ETIMEDOUT);
	if (line[1] == 'E') {
		m->n_pending++;
		return MAPI_META_PENDING;
	}
	return MAPI_META_PROCESSING;
}

int mapi_meta_feed(struct mapi_meta_rd *m, const void *p_, size_t len,
		   size_t *used_r)
{
	const uint8_t *p = p_;
	size_t i;

	*used_r = 0;
	if (m->state == META_FAILED)
		return -EBADMSG;
	if (m->state == META_BINARY)
		return MAPI_META_BINARY;
	for (i = 0; i < len; i++) {
		int ev;

		if (p[i] != '\n') {
			/* room for a CR that turns out to end the line */
			if (p[i] == '\0' || m->len > m->max_line) {
				*used_r = i + 1;
				return meta_fail(m, p[i] ? -EMSGSIZE
						      : -EBADMSG);
			}
			m->line[m->len++] = (char)p[i];
			continue;
		}
		if (m->len && m->line[m->len - 1] == '\r')
			m->len--;
		if (m->len > m->max_line) {
			*used_r = i + 1;
			return meta_fail(m, -EMSGSIZE);
		}
		m->line[m->len] = '\0';
		m->len = 0;
		ev = meta_line(m, m->line);
		if (ev != MAPI_META_MORE) {
			*used_r = i + 1;
			return ev;
		}
	}
	*used_r = len;
	return MAPI_META_MORE;
}

int mapi_meta_split(const void *body, size_t len, size_t max_line,
		    unsigned max_keepalive, struct mapi_meta_rd *m,
		    size_t *bin_off_r)
{
	struct mapi_meta_rd local;
	const uint8_t *p = body;
	size_t off = 0, used;
	int rc;

	if (!m)
		m = &local;
	*bin_off_r = 0;
	mapi_meta_init(m, max_line, max_keepalive);
	do {
		rc = mapi_meta_feed(m, p + off, len - off, &used);
		off += used;
		if (rc == MAPI_META_BINARY) {
			*bin_off_r = off;
			return 0;
		}
	} while (rc > 0);
	return rc < 0 ? rc : -EBADMSG;
}

static void append_str(GByteArray *b, const char *s)
{
	g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s));
}

void mapi_meta_write_keepalive(GByteArray *b, bool pending)
{
	append_str(b, pending ? "PENDING\r\n" : "PROCESSING\r\n");
}

void mapi_meta_write_done(GByteArray *b, uint32_t elapsed,
			  const char *start_time)
{
	char num[16];

	g_snprintf(num, sizeof(num), "%u", elapsed);
	append_str(b, "DONE\r\n" MAPI_HDR_ELAPSED_TIME ": ");
	append_str(b, num);
	append_str(b, "\r\n");
	if (start_time) {
		append_str(b, MAPI_HDR_START_TIME ": ");
		append_str(b, start_time);
		append_str(b, "\r\n");
	}
	append_str(b, "\r\n");
}

void mapi_http_date(time_t t, char buf[30])
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
					 "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
					    "May", "Jun", "Jul", "Aug",
					    "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	g_snprintf(buf, 30, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		   days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
