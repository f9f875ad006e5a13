/*
 * mime-entity.c - message structure for FETCH: RFC 3501 sections 6.4.5
 * (section specifications, part numbering) and 7.4.2 (ENVELOPE, BODY,
 * BODYSTRUCTURE); RFC 2045/2046 (headers, multipart boundaries, the
 * defaults text/plain; charset=us-ascii and, in multipart/digest,
 * message/rfc822); RFC 2183 (Content-Disposition).
 *
 * Byte ranges come from our own reading of the header block (the one of
 * common/mail-header.c) and of boundary lines, so parts are the stored
 * bytes; GMime parses the values of Content-Type, Content-Disposition and
 * address fields.
 */
#include "mime-entity.h"

#include <gmime/gmime.h>
#include <string.h>

#include "mail-header.h"

/* GMime 3.2 declares no cleanup functions of its own */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentType, g_object_unref)

void mime_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

void mime_entity_init(struct mime_entity *e, const char *buf, size_t len,
		      bool is_message)
{
	memset(e, 0, sizeof(*e));
	e->start = buf;
	e->len = len;
	e->is_message = is_message;
	e->header_len = mail_header_length(buf, len);
}

static const char *body_of(const struct mime_entity *e, size_t *len_r)
{
	*len_r = e->len - e->header_len;
	return e->start + e->header_len;
}

/* Whether a field of the header is one IMAP shows: it has a colon and a
 * name before it. */
static bool is_field(const struct mail_header_field *f)
{
	return f->value && f->value != f->start + 1;
}

char *mime_entity_header(const struct mime_entity *e, const char *name)
{
	struct mail_header_iter it;
	struct mail_header_field f;

	mail_header_iter_init(&it, e->start, e->header_len);
	while (mail_header_next(&it, &f)) {
		if (is_field(&f) && mail_header_field_is(&f, name))
			return g_strstrip(mail_header_unfold(f.value,
							     f.value_len,
							     false));
	}
	return NULL;
}

/* Whether `f` is named by one of `names`. */
static bool listed(const struct mail_header_field *f,
		   const char *const *names)
{
	for (int i = 0; names[i]; i++) {
		if (mail_header_field_is(f, names[i]))
			return true;
	}
	return false;
}

void mime_entity_header_fields(const struct mime_entity *e,
			       const char *const *names, bool not,
			       GString *out)
{
	struct mail_header_iter it;
	struct mail_header_field f;

	mail_header_iter_init(&it, e->start, e->header_len);
	while (mail_header_next(&it, &f)) {
		if (!is_field(&f) || listed(&f, names) == not)
			continue;
		g_string_append_len(out, f.start, (gssize)f.len);
		if (f.start[f.len - 1] != '\n')
			g_string_append(out, "\r\n");
	}
	g_string_append(out, "\r\n");
}

/* The content type of an entity; caller unrefs. */
static GMimeContentType *content_type(const struct mime_entity *e)
{
	g_autofree char *v = mime_entity_header(e, "Content-Type");
	GMimeContentType *ct = NULL;

	mime_init();
	if (v)
		ct = g_mime_content_type_parse(NULL, v);
	if (ct && g_mime_content_type_get_media_type(ct) &&
	    g_mime_content_type_get_media_subtype(ct))
		return ct;
	if (ct)
		g_object_unref(ct);
	if (e->in_digest)
		return g_mime_content_type_new("message", "rfc822");
	ct = g_mime_content_type_new("text", "plain");
	g_mime_content_type_set_parameter(ct, "charset", "us-ascii");
	return ct;
}

static bool is_type(GMimeContentType *ct, const char *type, const char *sub)
{
	return !g_ascii_strcasecmp(g_mime_content_type_get_media_type(ct),
				   type) &&
	       (!sub || !g_ascii_strcasecmp(
				g_mime_content_type_get_media_subtype(ct), sub));
}

/* Whether `p` starts a delimiter line "--boundary" (RFC 2046 5.1.1);
 * *close_r says it is the close delimiter. */
static bool delimiter_at(const char *p, const char *end, const char *b,
			 size_t blen, bool *close_r)
{
	if ((size_t)(end - p) < blen + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, blen))
		return false;
	p += 2 + blen;
	*close_r = end - p >= 2 && p[0] == '-' && p[1] == '-';
	return true;
}

/* The body parts of a multipart entity. */
static GArray *split_multipart(const struct mime_entity *e,
			       GMimeContentType *ct)
{
	GArray *parts = g_array_new(FALSE, TRUE, sizeof(struct mime_entity));
	const char *b = g_mime_content_type_get_parameter(ct, "boundary");
	bool digest = is_type(ct, "multipart", "digest");
	size_t blen, len;
	const char *body = body_of(e, &len), *end = body + len;
	const char *part = NULL, *p = body;

	if (!b || !*b)
		return parts;
	blen = strlen(b);
	while (p < end && parts->len < IMAP_MIME_MAX_PARTS) {
		bool close = false;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		if (delimiter_at(p, end, b, blen, &close)) {
			if (part) {
				/* the line end before a delimiter is the
				 * delimiter's */
				const char *pe = p;
				if (pe > part && pe[-1] == '\n')
					pe--;
				if (pe > part && pe[-1] == '\r')
					pe--;
				struct mime_entity child;
				mime_entity_init(&child, part,
						 (size_t)(pe - part), false);
				child.in_digest = digest;
				g_array_append_val(parts, child);
			}
			if (close)
				break;
			part = next;
		}
		p = next;
	}
	return parts;
}

/* The message inside a message/rfc822 part. */
static void encapsulated(const struct mime_entity *e, struct mime_entity *m)
{
	size_t len;
	const char *body = body_of(e, &len);

	mime_entity_init(m, body, len, true);
}

int mime_entity_part(const struct mime_entity *top, const char *path,
		     bool want_encapsulated, struct mime_entity *part_r)
{
	struct mime_entity cur = *top;
	g_auto(GStrv) nums = g_strsplit(path, ".", -1);
	int depth = 0;

	for (int i = 0; nums[i]; i++) {
		char *endp = NULL;
		unsigned long k = strtoul(nums[i], &endp, 10);
		if (!*nums[i] || *endp || k == 0 || ++depth > IMAP_MIME_MAX_DEPTH)
			return -ENOENT;
		g_autoptr(GMimeContentType) ct = content_type(&cur);
		if (!cur.is_message && is_type(ct, "message", "rfc822")) {
			struct mime_entity inner;
			encapsulated(&cur, &inner);
			cur = inner;
			g_object_unref(ct);
			ct = content_type(&cur);
		}
		if (is_type(ct, "multipart", NULL)) {
			g_autoptr(GArray) parts = split_multipart(&cur, ct);
			if (k > parts->len)
				return -ENOENT;
			cur = g_array_index(parts, struct mime_entity, k - 1);
		} else if (cur.is_message && k == 1) {
			/* a message that is not multipart: part 1 is its
			 * body, under the message's own header */
			cur.is_message = false;
		} else {
			return -ENOENT;
		}
	}
	if (want_encapsulated && !cur.is_message) {
		g_autoptr(GMimeContentType) ct = content_type(&cur);
		if (!is_type(ct, "message", "rfc822"))
			return -ENOENT;
		struct mime_entity inner;
		encapsulated(&cur, &inner);
		cur = inner;
	}
	*part_r = cur;
	return 0;
}

void mime_gstring_nstring(GString *out, const char *s, size_t len)
{
	bool quotable = len < 1024;

	if (!s) {
		g_string_append(out, "NIL");
		return;
	}
	for (size_t i = 0; quotable && i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		quotable = ch >= 0x20 && ch < 0x7f;
	}
	if (!quotable) {
		g_string_append_printf(out, "{%zu}\r\n", len);
		g_string_append_len(out, s, (gssize)len);
		return;
	}
	g_string_append_c(out, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			g_string_append_c(out, '\\');
		g_string_append_c(out, s[i]);
	}
	g_string_append_c(out, '"');
}

static void nstr(GString *out, const char *s)
{
	mime_gstring_nstring(out, s, s ? strlen(s) : 0);
}

static void upper_str(GString *out, const char *s)
{
	g_autofree char *u = s ? g_ascii_strup(s, -1) : NULL;

	nstr(out, u);
}

static void address(GString *out, InternetAddress *ia)
{
	const char *name = internet_address_get_name(ia);
	g_autofree char *enc = NULL;

	if (name && *name && !g_str_is_ascii(name))
		enc = g_mime_utils_header_encode_phrase(NULL, name, "utf-8");
	if (INTERNET_ADDRESS_IS_GROUP(ia)) {
		InternetAddressList *members = internet_address_group_get_members(
			INTERNET_ADDRESS_GROUP(ia));
		g_string_append(out, "(NIL NIL ");
		nstr(out, name ? name : "");
		g_string_append(out, " NIL)");
		for (int i = 0; members &&
				i < internet_address_list_length(members); i++)
			address(out, internet_address_list_get_address(members,
								       i));
		g_string_append(out, "(NIL NIL NIL NIL)");
		return;
	}
	const char *addr = internet_address_mailbox_get_addr(
		INTERNET_ADDRESS_MAILBOX(ia));
	const char *at = addr ? strrchr(addr, '@') : NULL;
	g_autofree char *local = at ? g_strndup(addr, (gsize)(at - addr))
				    : g_strdup(addr ? addr : "");
	g_string_append_c(out, '(');
	nstr(out, enc ? enc : (name && *name ? name : NULL));
	g_string_append(out, " NIL ");
	nstr(out, local);
	g_string_append_c(out, ' ');
	nstr(out, at ? at + 1 : NULL);
	g_string_append_c(out, ')');
}

static void address_list(GString *out, const struct mime_entity *e,
			 const char *field, const char *fallback)
{
	g_autofree char *v = mime_entity_header(e, field);
	InternetAddressList *list = NULL;

	if (!v && fallback)
		v = mime_entity_header(e, fallback);
	if (v && *v) {
		mime_init();
		list = internet_address_list_parse(NULL, v);
	}
	if (!list || internet_address_list_length(list) == 0) {
		g_string_append(out, "NIL");
		if (list)
			g_object_unref(list);
		return;
	}
	g_string_append_c(out, '(');
	for (int i = 0; i < internet_address_list_length(list); i++)
		address(out, internet_address_list_get_address(list, i));
	g_string_append_c(out, ')');
	g_object_unref(list);
}

void mime_entity_envelope(const struct mime_entity *msg, GString *out)
{
	static const char *const plain[] = { "Date", "Subject" };
	g_autofree char *irt = mime_entity_header(msg, "In-Reply-To");
	g_autofree char *mid = mime_entity_header(msg, "Message-ID");

	g_string_append_c(out, '(');
	for (size_t i = 0; i < G_N_ELEMENTS(plain); i++) {
		g_autofree char *v = mime_entity_header(msg, plain[i]);
		nstr(out, v);
		g_string_append_c(out, ' ');
	}
	address_list(out, msg, "From", NULL);
	g_string_append_c(out, ' ');
	address_list(out, msg, "Sender", "From");
	g_string_append_c(out, ' ');
	address_list(out, msg, "Reply-To", "From");
	g_string_append_c(out, ' ');
	address_list(out, msg, "To", NULL);
	g_string_append_c(out, ' ');
	address_list(out, msg, "Cc", NULL);
	g_string_append_c(out, ' ');
	address_list(out, msg, "Bcc", NULL);
	g_string_append_c(out, ' ');
	nstr(out, irt);
	g_string_append_c(out, ' ');
	nstr(out, mid);
	g_string_append_c(out, ')');
}

static void params(GString *out, GMimeParamList *list)
{
	int n = list ? g_mime_param_list_length(list) : 0;

	if (n == 0) {
		g_string_append(out, "NIL");
		return;
	}
	g_string_append_c(out, '(');
	for (int i = 0; i < n; i++) {
		GMimeParam *p = g_mime_param_list_get_parameter_at(list, i);
		if (i)
			g_string_append_c(out, ' ');
		upper_str(out, g_mime_param_get_name(p));
		g_string_append_c(out, ' ');
		nstr(out, g_mime_param_get_value(p));
	}
	g_string_append_c(out, ')');
}

static unsigned count_lines(const char *p, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	/* a last line without its line end still counts */
	if (len && p[len - 1] != '\n')
		n++;
	return n;
}

static void disposition(GString *out, const struct mime_entity *e)
{
	g_autofree char *v = mime_entity_header(e, "Content-Disposition");
	GMimeContentDisposition *d = NULL;

	if (v) {
		mime_init();
		d = g_mime_content_disposition_parse(NULL, v);
	}
	if (!d || !g_mime_content_disposition_get_disposition(d)) {
		g_string_append(out, "NIL");
		if (d)
			g_object_unref(d);
		return;
	}
	g_string_append_c(out, '(');
	upper_str(out, g_mime_content_disposition_get_disposition(d));
	g_string_append_c(out, ' ');
	params(out, g_mime_content_disposition_get_parameters(d));
	g_string_append_c(out, ')');
	g_object_unref(d);
}

static void structure(const struct mime_entity *e, bool ext, int depth,
		      GString *out)
{
	g_autoptr(GMimeContentType) ct = content_type(e);
	size_t blen;
	const char *body = body_of(e, &blen);

	if (is_type(ct, "multipart", NULL) && depth < IMAP_MIME_MAX_DEPTH) {
		g_autoptr(GArray) parts = split_multipart(e, ct);
		if (parts->len > 0) {
			g_string_append_c(out, '(');
			for (guint i = 0; i < parts->len; i++)
				structure(&g_array_index(parts,
							 struct mime_entity, i),
					  ext, depth + 1, out);
			g_string_append_c(out, ' ');
			upper_str(out, g_mime_content_type_get_media_subtype(ct));
			if (ext) {
				g_string_append_c(out, ' ');
				params(out, g_mime_content_type_get_parameters(ct));
				g_string_append_c(out, ' ');
				disposition(out, e);
				g_string_append(out, " NIL NIL");
			}
			g_string_append_c(out, ')');
			return;
		}
		/* no parts found: describe it as one opaque body */
	}
	g_autofree char *id = mime_entity_header(e, "Content-ID");
	g_autofree char *desc = mime_entity_header(e, "Content-Description");
	g_autofree char *enc = mime_entity_header(e,
						  "Content-Transfer-Encoding");
	g_string_append_c(out, '(');
	upper_str(out, g_mime_content_type_get_media_type(ct));
	g_string_append_c(out, ' ');
	upper_str(out, g_mime_content_type_get_media_subtype(ct));
	g_string_append_c(out, ' ');
	params(out, g_mime_content_type_get_parameters(ct));
	g_string_append_c(out, ' ');
	nstr(out, id);
	g_string_append_c(out, ' ');
	nstr(out, desc);
	g_string_append_c(out, ' ');
	upper_str(out, enc && *enc ? enc : "7BIT");
	g_string_append_printf(out, " %zu", blen);
	if (is_type(ct, "message", "rfc822") && depth < IMAP_MIME_MAX_DEPTH) {
		struct mime_entity inner;
		encapsulated(e, &inner);
		g_string_append_c(out, ' ');
		mime_entity_envelope(&inner, out);
		g_string_append_c(out, ' ');
		structure(&inner, ext, depth + 1, out);
		g_string_append_printf(out, " %u", count_lines(body, blen));
	} else if (is_type(ct, "text", NULL)) {
		g_string_append_printf(out, " %u", count_lines(body, blen));
	}
	if (ext) {
		g_autofree char *md5 = mime_entity_header(e, "Content-MD5");
		g_string_append_c(out, ' ');
		nstr(out, md5);
		g_string_append_c(out, ' ');
		disposition(out, e);
		g_string_append(out, " NIL NIL");
	}
	g_string_append_c(out, ')');
}

void mime_entity_bodystructure(const struct mime_entity *msg, bool extended,
			       GString *out)
{
	structure(msg, extended, 0, out);
}
