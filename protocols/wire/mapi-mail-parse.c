/*
 * mapi-mail-parse.c - an Internet message read into a MAPI message:
 * MS-OXCMAIL 2.2 (MIME to properties), RFC 5322 (fields), RFC 2045 and
 * 2046 (structure, transfer encodings, multipart boundaries), RFC 2047
 * (encoded words), RFC 2183 and 2231 (dispositions, parameters), RFC 2387
 * (multipart/related).
 *
 * The structure is split here, with our own reading of header blocks and
 * boundary lines (that of common/mail-header.c), so that depth and part
 * counts are bounded before anything is built; GMime parses field values
 * (addresses, content types, dispositions, dates, encoded words) and
 * decodes transfer encodings.
 */
#include "mapi-mail.h"

#include <errno.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mail-header.h"
#include "mapi-tags.h"
#include "mime-entity.h"

/* GMime 3.2 declares no cleanup functions of its own */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeContentDisposition, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InternetAddressList, g_object_unref)

static const struct {
	uint32_t cp;
	const char *name;
} charsets[] = {
	{ 65001, "utf-8" }, { 20127, "us-ascii" }, { 28591, "iso-8859-1" },
	{ 28592, "iso-8859-2" }, { 28593, "iso-8859-3" },
	{ 28594, "iso-8859-4" }, { 28595, "iso-8859-5" },
	{ 28596, "iso-8859-6" }, { 28597, "iso-8859-7" },
	{ 28598, "iso-8859-8" }, { 28599, "iso-8859-9" },
	{ 28603, "iso-8859-13" }, { 28605, "iso-8859-15" },
	{ 1250, "windows-1250" }, { 1251, "windows-1251" },
	{ 1252, "windows-1252" }, { 1253, "windows-1253" },
	{ 1254, "windows-1254" }, { 1255, "windows-1255" },
	{ 1256, "windows-1256" }, { 1257, "windows-1257" },
	{ 1258, "windows-1258" }, { 20866, "koi8-r" }, { 21866, "koi8-u" },
	{ 932, "shift_jis" }, { 50220, "iso-2022-jp" }, { 51932, "euc-jp" },
	{ 936, "gb2312" }, { 54936, "gb18030" }, { 950, "big5" },
	{ 949, "ks_c_5601-1987" }, { 51949, "euc-kr" }, { 874, "windows-874" },
	{ 1200, "utf-16le" }, { 1201, "utf-16be" }, { 65000, "utf-7" },
};

/* Other names of the charsets above. */
static const struct {
	const char *alias;
	uint32_t cp;
} aliases[] = {
	{ "ascii", 20127 }, { "utf8", 65001 }, { "latin1", 28591 },
	{ "iso8859-1", 28591 }, { "cp1252", 1252 }, { "gbk", 936 },
	{ "sjis", 932 }, { "x-sjis", 932 }, { "euc-kr", 51949 },
	{ "utf-16", 1200 }, { "iso-8859-8-i", 38598 }, { "cp932", 932 },
};

const char *mapi_mail_cp_charset(uint32_t codepage)
{
	for (size_t i = 0; i < G_N_ELEMENTS(charsets); i++) {
		if (charsets[i].cp == codepage)
			return charsets[i].name;
	}
	if (codepage == 38598)
		return "iso-8859-8-i";
	return NULL;
}

uint32_t mapi_mail_charset_cp(const char *charset)
{
	if (!charset)
		return 0;
	for (size_t i = 0; i < G_N_ELEMENTS(charsets); i++) {
		if (!g_ascii_strcasecmp(charsets[i].name, charset))
			return charsets[i].cp;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++) {
		if (!g_ascii_strcasecmp(aliases[i].alias, charset))
			return aliases[i].cp;
	}
	return 0;
}

const char *mapi_mail_name_type(const char *name)
{
	static const char *const map[][2] = {
		{ "pdf", "application/pdf" }, { "png", "image/png" },
		{ "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
		{ "gif", "image/gif" }, { "txt", "text/plain" },
		{ "htm", "text/html" }, { "html", "text/html" },
		{ "csv", "text/csv" }, { "xml", "application/xml" },
		{ "zip", "application/zip" }, { "eml", "message/rfc822" },
		{ "ics", "text/calendar" }, { "vcf", "text/vcard" },
		{ "doc", "application/msword" },
		{ "xls", "application/vnd.ms-excel" },
		{ "ppt", "application/vnd.ms-powerpoint" },
		{ "docx", "application/vnd.openxmlformats-officedocument."
			  "wordprocessingml.document" },
		{ "xlsx", "application/vnd.openxmlformats-officedocument."
			  "spreadsheetml.sheet" },
		{ "pptx", "application/vnd.openxmlformats-officedocument."
			  "presentationml.presentation" },
	};
	const char *dot = name ? strrchr(name, '.') : NULL;

	for (size_t i = 0; dot && i < G_N_ELEMENTS(map); i++) {
		if (!g_ascii_strcasecmp(dot + 1, map[i][0]))
			return map[i][1];
	}
	return NULL;
}

/* What a part is to the message around it, which decides whether a text
 * part may be a body and whether an attachment is shown inline. */
enum role {
	ROLE_BODY,		/* the top, a part of mixed or alternative */
	ROLE_RELATED,		/* a part of related other than its root */
	ROLE_ATTACHED,		/* never a body */
};

struct ctx {
	int parts;		/* parts read, all levels */
	int recips;		/* recipients read, all messages */
};

/* One message being read: where its bodies have gone. */
struct msg_state {
	struct mapi_message *m;
	bool have_text, have_html;
	uint32_t text_cp;
};

static int parse_message(struct ctx *c, const char *buf, size_t len,
			 int depth, int embed, struct mapi_message **m_r);

static GMimeParserOptions *popts(void)
{
	return g_mime_parser_options_get_default();
}

/* The first field `name` of the entity, unfolded and trimmed, or NULL.
 * Caller owns the result. */
static char *field(const struct mime_entity *e, const char *name)
{
	return mime_entity_header(e, name);
}

static void set_str_field(struct mapi_props *p, uint32_t tag,
			  const struct mime_entity *e, const char *name)
{
	g_autofree char *v = field(e, name);

	if (v && *v)
		mapi_props_set_str(p, tag, v);
}

/* The decoded text of an unstructured field (RFC 2047), as valid UTF-8.
 * Caller owns the result. */
static char *decode_text(const char *raw)
{
	char *s = g_mime_utils_header_decode_text(popts(), raw);
	char *v;

	if (g_utf8_validate(s, -1, NULL))
		return s;
	v = g_utf8_make_valid(s, -1);
	g_free(s);
	return v;
}

/* The prefix of a subject as MS-OXCMSG 2.2.1.9 finds it: up to three
 * characters, no digit nor space among them, then a colon and a space. */
static size_t subject_prefix_len(const char *s)
{
	size_t i;

	for (i = 0; i < 4 && s[i]; i++) {
		if (s[i] == ':')
			break;
		if (g_ascii_isdigit(s[i]) || g_ascii_isspace(s[i]) ||
		    (guchar)s[i] >= 0x80)
			return 0;
	}
	if (i == 0 || i > 3 || s[i] != ':' || s[i + 1] != ' ')
		return 0;
	return i + 2;
}

static void parse_subject(struct mapi_props *p, const struct mime_entity *e)
{
	g_autofree char *raw = field(e, "Subject");
	g_autofree char *s = NULL;
	size_t n;

	if (!raw)
		return;
	s = decode_text(raw);
	mapi_props_set_str(p, MAPI_TAG_SUBJECT, s);
	n = subject_prefix_len(s);
	if (n) {
		g_autofree char *prefix = g_strndup(s, n);

		mapi_props_set_str(p, MAPI_TAG_SUBJECT_PREFIX, prefix);
	}
	mapi_props_set_str(p, MAPI_TAG_NORMALIZED_SUBJECT, s + n);
}

/* The first mailbox of an address field, or NULL.  Borrowed from `list`. */
static InternetAddressMailbox *first_mailbox(InternetAddressList *list,
					     int depth)
{
	int n = list ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n && i < MAPI_MAIL_MAX_RECIPS; i++) {
		InternetAddress *ia = internet_address_list_get_address(list,
									i);
		InternetAddressMailbox *mb;

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return INTERNET_ADDRESS_MAILBOX(ia);
		if (depth > 0 || !INTERNET_ADDRESS_IS_GROUP(ia))
			continue;
		mb = first_mailbox(internet_address_group_get_members(
				INTERNET_ADDRESS_GROUP(ia)), depth + 1);
		if (mb)
			return mb;
	}
	return NULL;
}

static InternetAddressList *parse_addresses(const struct mime_entity *e,
					    const char *name)
{
	g_autofree char *v = field(e, name);

	if (!v)
		return NULL;
	return internet_address_list_parse(popts(), v);
}

/* A display name as valid UTF-8 (GMime leaves undeclared 8-bit bytes as
 * they are), or NULL when the mailbox has none.  Caller owns the result. */
static char *name_of(InternetAddress *ia)
{
	const char *n = internet_address_get_name(ia);

	if (!n || !*n)
		return NULL;
	return g_utf8_make_valid(n, -1);
}

/* From and Sender: PidTagSentRepresenting* and PidTagSender*; a message
 * without Sender was sent by its author. */
static void parse_originator(struct mapi_props *p, const struct mime_entity *e)
{
	static const struct {
		const char *field;
		uint32_t name, addrtype, email, smtp;
	} who[] = {
		{ "From", MAPI_TAG_SENT_REPRESENTING_NAME,
		  MAPI_TAG_SENT_REPRESENTING_ADDRTYPE,
		  MAPI_TAG_SENT_REPRESENTING_EMAIL,
		  MAPI_TAG_SENT_REPRESENTING_SMTP },
		{ "Sender", MAPI_TAG_SENDER_NAME, MAPI_TAG_SENDER_ADDRTYPE,
		  MAPI_TAG_SENDER_EMAIL, MAPI_TAG_SENDER_SMTP_ADDRESS },
	};
	InternetAddressMailbox *from_mb = NULL;
	g_autoptr(InternetAddressList) from = parse_addresses(e, "From");
	g_autoptr(InternetAddressList) sender = parse_addresses(e, "Sender");

	for (size_t i = 0; i < G_N_ELEMENTS(who); i++) {
		InternetAddressMailbox *mb;
		g_autofree char *name = NULL;
		const char *addr;

		mb = first_mailbox(i == 0 ? from : sender, 0);
		if (i == 0)
			from_mb = mb;
		else if (!mb)
			mb = from_mb;
		if (!mb)
			continue;
		addr = internet_address_mailbox_get_addr(mb);
		name = name_of(INTERNET_ADDRESS(mb));
		if (!g_utf8_validate(addr, -1, NULL))
			continue;
		mapi_props_set_str(p, who[i].name, name ? name : addr);
		mapi_props_set_str(p, who[i].addrtype, "SMTP");
		mapi_props_set_str(p, who[i].email, addr);
		mapi_props_set_str(p, who[i].smtp, addr);
	}
}

static void add_recip(struct ctx *c, struct mapi_message *m, int type,
		      InternetAddressMailbox *mb, GString *display)
{
	struct mapi_recipient *r;
	g_autofree char *name = name_of(INTERNET_ADDRESS(mb));
	const char *addr = internet_address_mailbox_get_addr(mb);

	if (c->recips >= MAPI_MAIL_MAX_RECIPS || !addr || !*addr ||
	    !g_utf8_validate(addr, -1, NULL))
		return;
	c->recips++;
	r = mapi_message_add_recip(m);
	mapi_props_set_l(&r->props, MAPI_TAG_RECIPIENT_TYPE, type);
	mapi_props_set_str(&r->props, MAPI_TAG_DISPLAY_NAME,
			   name ? name : addr);
	mapi_props_set_str(&r->props, MAPI_TAG_RECIPIENT_DISPLAY_NAME,
			   name ? name : addr);
	mapi_props_set_str(&r->props, MAPI_TAG_ADDRTYPE, "SMTP");
	mapi_props_set_str(&r->props, MAPI_TAG_EMAIL_ADDRESS, addr);
	mapi_props_set_str(&r->props, MAPI_TAG_SMTP_ADDRESS, addr);
	mapi_props_set_l(&r->props, MAPI_TAG_OBJECT_TYPE, 6);	/* MAILUSER */
	mapi_props_set_l(&r->props, MAPI_TAG_DISPLAY_TYPE, 0);
	if (display->len)
		g_string_append(display, "; ");
	g_string_append(display, name ? name : addr);
}

/* Recipients of one field; a group's members are its recipients. */
static void add_recips(struct ctx *c, struct mapi_message *m, int type,
		       InternetAddressList *list, int depth, GString *display)
{
	int n = list ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n && c->recips < MAPI_MAIL_MAX_RECIPS; i++) {
		InternetAddress *ia = internet_address_list_get_address(list,
									i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			add_recip(c, m, type, INTERNET_ADDRESS_MAILBOX(ia),
				  display);
		else if (depth == 0 && INTERNET_ADDRESS_IS_GROUP(ia))
			add_recips(c, m, type,
				   internet_address_group_get_members(
					   INTERNET_ADDRESS_GROUP(ia)),
				   depth + 1, display);
	}
}

static void parse_recipients(struct ctx *c, struct mapi_message *m,
			     const struct mime_entity *e)
{
	static const struct {
		const char *field;
		int type;
		uint32_t display;
	} kinds[] = {
		{ "To", MAPI_TO, MAPI_TAG_DISPLAY_TO },
		{ "Cc", MAPI_CC, MAPI_TAG_DISPLAY_CC },
		{ "Bcc", MAPI_BCC, MAPI_TAG_DISPLAY_BCC },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		g_autoptr(InternetAddressList) l = parse_addresses(
			e, kinds[i].field);
		g_autoptr(GString) display = g_string_new(NULL);

		add_recips(c, m, kinds[i].type, l, 0, display);
		mapi_props_set_str(&m->props, kinds[i].display, display->str);
	}
}

/* A field's words matched case-insensitively to a value, -1000 when the
 * field is absent or says nothing known. */
static int keyword(const struct mime_entity *e, const char *name,
		   const char *const *words, const int *values, size_t n)
{
	g_autofree char *v = field(e, name);

	if (!v)
		return -1000;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_strncasecmp(v, words[i], strlen(words[i])))
			return values[i];
	}
	return -1000;
}

/* Importance, X-Priority, Priority, Sensitivity and X-Message-Flag:
 * MS-OXCMAIL 2.2.3.2.2 and 2.2.3.2.4. */
static void parse_marks(struct mapi_props *p, const struct mime_entity *e)
{
	static const char *const imp_w[] = { "high", "normal", "low" };
	static const int imp_v[] = { 2, 1, 0 };
	static const char *const xp_w[] = { "1", "2", "3", "4", "5" };
	static const int xp_v[] = { 2, 2, 1, 0, 0 };
	static const char *const pri_w[] = { "urgent", "normal",
					     "non-urgent" };
	static const int pri_v[] = { 1, 0, -1 };
	static const char *const sens_w[] = { "personal", "private",
					      "company-confidential" };
	static const int sens_v[] = { 1, 2, 3 };
	g_autofree char *flag = field(e, "X-Message-Flag");
	int v;

	v = keyword(e, "Importance", imp_w, imp_v, G_N_ELEMENTS(imp_w));
	if (v == -1000)
		v = keyword(e, "X-Priority", xp_w, xp_v, G_N_ELEMENTS(xp_w));
	if (v != -1000)
		mapi_props_set_l(p, MAPI_TAG_IMPORTANCE, v);
	v = keyword(e, "Priority", pri_w, pri_v, G_N_ELEMENTS(pri_w));
	if (v != -1000)
		mapi_props_set_l(p, MAPI_TAG_PRIORITY, v);
	v = keyword(e, "Sensitivity", sens_w, sens_v, G_N_ELEMENTS(sens_w));
	if (v != -1000)
		mapi_props_set_l(p, MAPI_TAG_SENSITIVITY, v);
	if (flag)
		mapi_props_set_l(p, MAPI_TAG_FLAG_STATUS, 2); /* flagged */
}

/* References with its folding white space made single spaces. */
static void parse_references(struct mapi_props *p, const struct mime_entity *e)
{
	g_autofree char *v = field(e, "References");
	g_auto(GStrv) words = NULL;
	g_autofree char *joined = NULL;
	GPtrArray *kept;

	if (!v)
		return;
	words = g_strsplit_set(v, " \t", -1);
	kept = g_ptr_array_new();
	for (size_t i = 0; words[i]; i++) {
		if (*words[i])
			g_ptr_array_add(kept, words[i]);
	}
	g_ptr_array_add(kept, NULL);
	joined = g_strjoinv(" ", (char **)kept->pdata);
	g_ptr_array_free(kept, TRUE);
	if (*joined && g_utf8_validate(joined, -1, NULL))
		mapi_props_set_str(p, MAPI_TAG_INTERNET_REFERENCES, joined);
}

static void parse_date(struct mapi_props *p, const struct mime_entity *e)
{
	g_autofree char *v = field(e, "Date");
	GDateTime *dt;

	if (!v)
		return;
	dt = g_mime_utils_header_decode_date(v);
	if (!dt)
		return;
	mapi_props_set_ft(p, MAPI_TAG_CLIENT_SUBMIT_TIME,
			  mapi_ft_from_unix(g_date_time_to_unix(dt)));
	g_date_time_unref(dt);
}

static void set_valid_str(struct mapi_props *p, uint32_t tag,
			  const char *s, size_t len)
{
	g_autofree char *v = g_utf8_make_valid(s, (gssize)len);

	mapi_props_set_str(p, tag, v);
}

/* The envelope of a message (its top header block) as properties. */
static void parse_envelope(struct ctx *c, struct mapi_message *m,
			   const struct mime_entity *e)
{
	struct mapi_props *p = &m->props;

	mapi_props_set_str(p, MAPI_TAG_MESSAGE_CLASS, "IPM.Note");
	parse_subject(p, e);
	parse_originator(p, e);
	parse_recipients(c, m, e);
	parse_date(p, e);
	set_str_field(p, MAPI_TAG_INTERNET_MESSAGE_ID, e, "Message-ID");
	set_str_field(p, MAPI_TAG_IN_REPLY_TO_ID, e, "In-Reply-To");
	parse_references(p, e);
	parse_marks(p, e);
	set_valid_str(p, MAPI_TAG_TRANSPORT_MESSAGE_HEADERS, e->start,
		      e->header_len);
}

/* The content of a part with its transfer encoding undone.  Caller owns
 * the result. */
static GByteArray *decode_body(const struct mime_entity *e)
{
	g_autofree char *cte = field(e, "Content-Transfer-Encoding");
	const char *body = e->start + e->header_len;
	size_t len = e->len - e->header_len;
	GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_DEFAULT;
	GByteArray *out = g_byte_array_new();
	GMimeEncoding st;
	size_t n;

	if (cte)
		enc = g_mime_content_encoding_from_string(g_strstrip(cte));
	if (enc != GMIME_CONTENT_ENCODING_BASE64 &&
	    enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
	    enc != GMIME_CONTENT_ENCODING_UUENCODE) {
		g_byte_array_append(out, (const guint8 *)body, (guint)len);
		return out;
	}
	g_mime_encoding_init_decode(&st, enc);
	g_byte_array_set_size(out, (guint)g_mime_encoding_outlen(&st, len));
	n = g_mime_encoding_flush(&st, body, len, (char *)out->data);
	g_byte_array_set_size(out, (guint)n);
	return out;
}

/* Text in `charset` as UTF-8: converted when iconv knows the charset and
 * the bytes are valid in it, else made valid as it stands.  Caller owns
 * the result. */
static char *to_utf8(const GByteArray *b, const char *charset)
{
	const char *cs = charset ? g_mime_charset_iconv_name(charset) :
				   "us-ascii";
	char *s = NULL;

	if (!b->len)
		return g_strdup("");
	if (g_ascii_strcasecmp(cs, "utf-8") && g_ascii_strcasecmp(cs, "utf8"))
		s = g_convert((const char *)b->data, b->len, "UTF-8", cs,
			      NULL, NULL, NULL);
	if (!s)
		s = g_utf8_make_valid((const char *)b->data, b->len);
	return s;
}

static char *ct_string(GMimeContentType *ct)
{
	g_autofree char *t = g_mime_content_type_get_mime_type(ct);

	return g_ascii_strdown(t, -1);
}

/* The file name a part gives, disposition first (RFC 2183, 2231), as
 * valid UTF-8; NULL when it gives none.  Caller owns the result. */
static char *part_filename(GMimeContentType *ct, GMimeContentDisposition *cd)
{
	const char *n = NULL;

	if (cd)
		n = g_mime_content_disposition_get_parameter(cd, "filename");
	if (!n || !*n)
		n = g_mime_content_type_get_parameter(ct, "name");
	if (!n || !*n)
		return NULL;
	if (g_utf8_validate(n, -1, NULL))
		return decode_text(n);
	return g_utf8_make_valid(n, -1);
}

static struct mapi_attachment *new_attach(struct mapi_message *m,
					  const char *filename,
					  const char *mime_type)
{
	struct mapi_attachment *a = mapi_message_add_attach(m);
	const char *dot;

	mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_NUMBER,
			 (int32_t)(m->n_attach - 1));
	mapi_props_set_l(&a->props, MAPI_TAG_RENDERING_POSITION, -1);
	mapi_props_set_str(&a->props, MAPI_TAG_ATTACH_MIME_TAG, mime_type);
	if (!filename)
		return a;
	mapi_props_set_str(&a->props, MAPI_TAG_ATTACH_LONG_FILENAME, filename);
	mapi_props_set_str(&a->props, MAPI_TAG_ATTACH_FILENAME, filename);
	mapi_props_set_str(&a->props, MAPI_TAG_DISPLAY_NAME, filename);
	dot = strrchr(filename, '.');
	if (dot && dot[1] && !strchr(dot, '/'))
		mapi_props_set_str(&a->props, MAPI_TAG_ATTACH_EXTENSION, dot);
	return a;
}

/* A part that is no body: an attachment by value, or an attached message
 * when it is one and the depth allows. */
static void add_attachment(struct ctx *c, struct msg_state *st,
			   const struct mime_entity *e, GMimeContentType *ct,
			   GMimeContentDisposition *cd, enum role role,
			   int depth, int embed)
{
	g_autofree char *filename = part_filename(ct, cd);
	g_autofree char *type = ct_string(ct);
	g_autofree char *cid = field(e, "Content-ID");
	g_autoptr(GByteArray) data = decode_body(e);
	struct mapi_attachment *a;
	struct mapi_message *inner = NULL;

	if (g_mime_content_type_is_type(ct, "message", "rfc822") &&
	    embed < MAPI_MAIL_MAX_EMBED && depth < MAPI_MAIL_MAX_DEPTH &&
	    parse_message(c, (const char *)data->data, data->len, depth + 1,
			  embed + 1, &inner) == 0) {
		a = new_attach(st->m, filename, type);
		mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_METHOD,
				 MAPI_ATTACH_EMBEDDED_MSG);
		if (!filename && mapi_props_str(&inner->props, MAPI_TAG_ID(
				MAPI_TAG_SUBJECT)))
			mapi_props_set_str(&a->props, MAPI_TAG_DISPLAY_NAME,
					   mapi_props_str(&inner->props,
							  MAPI_TAG_ID(
							  MAPI_TAG_SUBJECT)));
		a->embedded = inner;
	} else {
		a = new_attach(st->m, filename, type);
		mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_METHOD,
				 MAPI_ATTACH_BY_VALUE);
		mapi_props_set_bin(&a->props, MAPI_TAG_ATTACH_DATA_BINARY,
				   data->data, data->len);
	}
	mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_SIZE, (int32_t)data->len);
	if (cid) {
		g_autofree char *id = g_mime_utils_decode_message_id(cid);

		if (id && *id && g_utf8_validate(id, -1, NULL))
			mapi_props_set_str(&a->props,
					   MAPI_TAG_ATTACH_CONTENT_ID, id);
	}
	set_str_field(&a->props, MAPI_TAG_ATTACH_CONTENT_LOCATION, e,
		      "Content-Location");
	if (role == ROLE_RELATED) {
		/* attRenderedInBody: the HTML shows it (MS-OXCMSG 2.2.2.18) */
		mapi_props_set_l(&a->props, MAPI_TAG_ATTACH_FLAGS, 4);
		mapi_props_set_b(&a->props, MAPI_TAG_ATTACHMENT_HIDDEN, true);
	}
}

/* A text part as PidTagBody or PidTagHtml when it may be one; false when
 * it is to be an attachment. */
static bool take_body(struct msg_state *st, const struct mime_entity *e,
		      GMimeContentType *ct, GMimeContentDisposition *cd,
		      enum role role)
{
	const char *charset = g_mime_content_type_get_parameter(ct,
								"charset");
	bool html = g_mime_content_type_is_type(ct, "text", "html");
	g_autoptr(GByteArray) data = NULL;
	g_autofree char *name = part_filename(ct, cd);
	uint32_t cp;

	if (role != ROLE_BODY || name || (!html &&
	    !g_mime_content_type_is_type(ct, "text", "plain")))
		return false;
	if (cd && !g_ascii_strcasecmp(
		    g_mime_content_disposition_get_disposition(cd),
		    "attachment"))
		return false;
	if (html ? st->have_html : st->have_text)
		return false;
	data = decode_body(e);
	/* a message that is this one text: its last line end is the end of
	 * the message, not text (as the recorded server reads it) */
	if (e->is_message && data->len && data->data[data->len - 1] == '\n')
		g_byte_array_set_size(data, data->len - (data->len > 1 &&
			data->data[data->len - 2] == '\r' ? 2 : 1));
	cp = mapi_mail_charset_cp(charset ? charset : "us-ascii");
	if (html) {
		st->have_html = true;
		if (!cp) {
			g_autofree char *u = to_utf8(data, charset);

			g_byte_array_set_size(data, 0);
			g_byte_array_append(data, (guint8 *)u,
					    (guint)strlen(u));
			cp = 65001;
		}
		mapi_props_set_bin(&st->m->props, MAPI_TAG_HTML, data->data,
				   data->len);
		mapi_props_set_l(&st->m->props, MAPI_TAG_INTERNET_CODEPAGE,
				 (int32_t)cp);
		mapi_props_set_l(&st->m->props, MAPI_TAG_NATIVE_BODY, 3);
	} else {
		g_autofree char *u = to_utf8(data, charset);

		st->have_text = true;
		st->text_cp = cp ? cp : 65001;
		mapi_props_set_str(&st->m->props, MAPI_TAG_BODY, u);
	}
	return true;
}

struct span {
	const char *p;
	size_t len;
};

/* Whether the line [p, eol) is a delimiter of `b`; *close_r when it is
 * the closing one (RFC 2046 5.1.1: trailing white space allowed). */
static bool is_delimiter(const char *p, const char *eol, const char *b,
			 size_t blen, bool *close_r)
{
	if ((size_t)(eol - p) < blen + 2 || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, blen))
		return false;
	p += 2 + blen;
	*close_r = eol - p >= 2 && p[0] == '-' && p[1] == '-';
	if (*close_r)
		p += 2;
	while (p < eol && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p == eol;
}

/* The body parts of a multipart body, at most `max`; the line end before a
 * delimiter belongs to the delimiter.  Caller owns the result. */
static GArray *split_multipart(const char *body, size_t len, const char *b,
			       int max)
{
	GArray *parts = g_array_new(FALSE, FALSE, sizeof(struct span));
	const char *end = body + len, *p = body, *start = NULL;
	size_t blen = strlen(b);

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		bool close = false;

		if (is_delimiter(p, eol, b, blen, &close)) {
			if (start) {
				const char *e = p;
				struct span s;

				if (e > start && e[-1] == '\n')
					e--;
				if (e > start && e[-1] == '\r')
					e--;
				s.p = start;
				s.len = (size_t)(e - start);
				g_array_append_val(parts, s);
				if ((int)parts->len >= max)
					return parts;
			}
			if (close)
				return parts;
			start = nl ? nl + 1 : end;
		}
		p = nl ? nl + 1 : end;
	}
	if (start && start < end) {
		struct span s = { start, (size_t)(end - start) };

		g_array_append_val(parts, s);
	}
	return parts;
}

static void walk(struct ctx *c, struct msg_state *st,
		 const struct mime_entity *e, enum role role, bool in_digest,
		 int depth, int embed);

static void walk_multipart(struct ctx *c, struct msg_state *st,
			   const struct mime_entity *e, GMimeContentType *ct,
			   enum role role, int depth, int embed)
{
	const char *b = g_mime_content_type_get_parameter(ct, "boundary");
	const char *start = g_mime_content_type_get_parameter(ct, "start");
	bool related = g_mime_content_type_is_type(ct, "multipart",
						   "related");
	bool digest = g_mime_content_type_is_type(ct, "multipart", "digest");
	g_autoptr(GArray) parts = NULL;
	guint root = 0;

	if (!b || !*b)
		return;
	parts = split_multipart(e->start + e->header_len,
				e->len - e->header_len, b,
				MAPI_MAIL_MAX_PARTS - c->parts + 1);
	for (guint i = 0; related && start && i < parts->len; i++) {
		struct span *s = &g_array_index(parts, struct span, i);
		struct mime_entity pe;
		g_autofree char *id = NULL;

		mime_entity_init(&pe, s->p, s->len, false);
		id = field(&pe, "Content-ID");
		if (id && !strcmp(id, start)) {
			root = i;
			break;
		}
	}
	for (guint i = 0; i < parts->len; i++) {
		struct span *s = &g_array_index(parts, struct span, i);
		struct mime_entity pe;
		enum role r = role;

		if (related && i != root)
			r = ROLE_RELATED;
		mime_entity_init(&pe, s->p, s->len, false);
		walk(c, st, &pe, r, digest, depth + 1, embed);
	}
}

static void walk(struct ctx *c, struct msg_state *st,
		 const struct mime_entity *e, enum role role, bool in_digest,
		 int depth, int embed)
{
	g_autofree char *ctv = field(e, "Content-Type");
	g_autofree char *cdv = field(e, "Content-Disposition");
	g_autoptr(GMimeContentType) ct = NULL;
	g_autoptr(GMimeContentDisposition) cd = NULL;

	if (depth > MAPI_MAIL_MAX_DEPTH || ++c->parts > MAPI_MAIL_MAX_PARTS)
		return;
	if (ctv)
		ct = g_mime_content_type_parse(popts(), ctv);
	if (!ct || !g_mime_content_type_get_media_type(ct) ||
	    !g_mime_content_type_get_media_subtype(ct)) {
		g_clear_object(&ct);
		ct = g_mime_content_type_parse(popts(), in_digest ?
					       "message/rfc822" :
					       "text/plain; charset=us-ascii");
	}
	if (cdv)
		cd = g_mime_content_disposition_parse(popts(), cdv);
	if (g_mime_content_type_is_type(ct, "multipart", "*")) {
		walk_multipart(c, st, e, ct, role, depth, embed);
		return;
	}
	if (take_body(st, e, ct, cd, role))
		return;
	add_attachment(c, st, e, ct, cd, role, depth, embed);
}

/* Properties that follow from the whole: attachments, code page, size. */
static void finish(struct msg_state *st, size_t len)
{
	struct mapi_props *p = &st->m->props;
	uint32_t flags = 0;

	if (st->m->n_attach)
		flags |= MAPI_MSGFLAG_HASATTACH;
	mapi_props_set_l(p, MAPI_TAG_MESSAGE_FLAGS, (int32_t)flags);
	mapi_props_set_b(p, MAPI_TAG_HAS_ATTACHMENTS, st->m->n_attach > 0);
	mapi_props_set_l(p, MAPI_TAG_MESSAGE_SIZE,
			 len > G_MAXINT32 ? G_MAXINT32 : (int32_t)len);
	if (!st->have_html && st->have_text) {
		mapi_props_set_l(p, MAPI_TAG_INTERNET_CODEPAGE,
				 (int32_t)st->text_cp);
		mapi_props_set_l(p, MAPI_TAG_NATIVE_BODY, 1);
	}
}

static int parse_message(struct ctx *c, const char *buf, size_t len,
			 int depth, int embed, struct mapi_message **m_r)
{
	struct mime_entity e;
	struct mail_header_iter it;
	struct mail_header_field f;
	struct msg_state st = { 0 };
	bool any = false;

	if (!buf || !len)
		return -EINVAL;
	mail_header_iter_init(&it, buf, len);
	while (!any && mail_header_next(&it, &f))
		any = f.value && f.name_len;
	if (!any)
		return -EINVAL;
	mime_entity_init(&e, buf, len, true);
	st.m = mapi_message_new();
	parse_envelope(c, st.m, &e);
	walk(c, &st, &e, ROLE_BODY, false, depth, embed);
	finish(&st, len);
	*m_r = st.m;
	return 0;
}

int mapi_mail_parse(const void *buf, size_t len, struct mapi_message **m_r)
{
	struct ctx c = { 0 };

	mime_init();
	*m_r = NULL;
	if (!buf)
		return -EINVAL;
	return parse_message(&c, buf, len, 0, 0, m_r);
}
