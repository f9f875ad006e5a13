/*
 * mapi-mail-render.c - a MAPI message written as an Internet message:
 * MS-OXCMAIL 2.1 (properties to MIME), RFC 5322 (fields, folding), RFC
 * 2045 and 2046 (structure, transfer encodings), RFC 2047 (encoded
 * words), RFC 2183 and 2231 (dispositions, parameters), RFC 2387
 * (multipart/related); MS-OXRTFEX through mapi-rtf.h for a message whose
 * only body is PidTagRtfCompressed.
 *
 * Deterministic: the message is written twice, the first time with a
 * boundary seed of zeros; the SHA-256 of that first text becomes the seed
 * of the second, which is the result.  Boundaries ("=_mfs_" + seed + a
 * counter) and a generated Message-ID thus follow from what is rendered
 * and nothing else (not from PidTagMessageFlags, change keys or the
 * clock).  Texts holding "=_mfs" are never sent as 7bit, and neither
 * quoted-printable nor base64 can hold it, so no boundary can occur in a
 * body.
 */
#include "mapi-mail.h"

#include <errno.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mail-header.h"
#include "mapi-mail-enc.h"
#include "mapi-rtf.h"
#include "mapi-tags.h"
#include "mime-entity.h"

/* The length we fold header lines to (RFC 5322 2.1.1). */
#define FOLD_AT 78

struct rctx {
	GString *out;
	char seed[65];		/* hex; zeros in the first pass */
	unsigned boundaries;	/* counter, all levels */
};

/* PtypString's UTF-8, or NULL for an absent, empty or other value. */
static const char *str_of(const struct mapi_props *p, uint32_t tag)
{
	const struct mapi_value *v = mapi_props_get_tag(p, tag);

	return v && v->v.str && *v->v.str ? v->v.str : NULL;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++) {
		if ((guchar)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

/* `s` with control characters made spaces (they may not stand in a
 * field).  Caller owns the result. */
static char *one_line(const char *s)
{
	char *c = g_strdup(s);

	for (char *p = c; *p; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return c;
}

/* "Name: value" folded at spaces to lines of FOLD_AT where it can be. */
static void put_field(GString *out, const char *name, const char *value)
{
	g_autofree char *v = one_line(value);
	size_t col = strlen(name) + 1;
	const char *p = v;

	g_string_append(out, name);
	g_string_append_c(out, ':');
	while (*p == ' ')
		p++;
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t wlen = sp ? (size_t)(sp - p) : strlen(p);

		if (col + 1 + wlen > FOLD_AT && col > strlen(name) + 1) {
			g_string_append(out, "\r\n");
			col = 0;
		}
		g_string_append_c(out, ' ');
		g_string_append_len(out, p, (gssize)wlen);
		col += 1 + wlen;
		p += wlen;
		while (*p == ' ')
			p++;
	}
	g_string_append(out, "\r\n");
}

/* An unstructured field, RFC 2047 encoded where it is not ASCII. */
static void put_text_field(GString *out, const char *name, const char *value)
{
	g_autofree char *v = one_line(value);
	g_autofree char *enc = NULL;

	if (!mapi_mail_is_ascii(v, strlen(v)))
		enc = g_mime_utils_header_encode_text(NULL, v, "utf-8");
	put_field(out, name, enc ? enc : v);
}

/* ---- addresses ---- */

struct who {
	const char *name;	/* borrowed, or NULL */
	const char *addr;	/* borrowed SMTP address, or NULL */
};

/* The SMTP address of a person named by these properties: PidTag*Smtp*
 * first, then the e-mail address when its type is SMTP (an EX address is
 * no Internet address). */
static struct who who_of(const struct mapi_props *p, uint32_t name,
			 uint32_t addrtype, uint32_t email, uint32_t smtp)
{
	struct who w = { str_of(p, name), str_of(p, smtp) };
	const char *type = str_of(p, addrtype);
	const char *e = str_of(p, email);

	if (!w.addr && e && (type ? !g_ascii_strcasecmp(type, "SMTP") :
				    strchr(e, '@') != NULL))
		w.addr = e;
	return w;
}

/* One address as RFC 5322 writes it; a person without an SMTP address is
 * an empty group of their name.  Caller owns the result. */
static char *address_text(const struct who *w)
{
	g_autofree char *name = w->name ? one_line(w->name) : NULL;
	g_autofree char *addr = w->addr ? one_line(w->addr) : NULL;
	InternetAddress *ia;
	char *s;

	if (addr)
		ia = internet_address_mailbox_new(name, addr);
	else
		ia = internet_address_group_new(name ? name : "undisclosed");
	s = internet_address_to_string(ia, NULL, TRUE);
	g_object_unref(ia);
	return s;
}

static bool who_empty(const struct who *w)
{
	return !w->name && !w->addr;
}

static char *from_field(const struct mapi_props *p)
{
	struct who w = who_of(p, MAPI_TAG_SENT_REPRESENTING_NAME,
			      MAPI_TAG_SENT_REPRESENTING_ADDRTYPE,
			      MAPI_TAG_SENT_REPRESENTING_EMAIL,
			      MAPI_TAG_SENT_REPRESENTING_SMTP);

	if (who_empty(&w))
		w = who_of(p, MAPI_TAG_SENDER_NAME, MAPI_TAG_SENDER_ADDRTYPE,
			   MAPI_TAG_SENDER_EMAIL, MAPI_TAG_SENDER_SMTP_ADDRESS);
	return who_empty(&w) ? NULL : address_text(&w);
}

/* Sender only when it is another than the author (RFC 5322 3.6.2). */
static char *sender_field(const struct mapi_props *p)
{
	struct who f = who_of(p, MAPI_TAG_SENT_REPRESENTING_NAME,
			      MAPI_TAG_SENT_REPRESENTING_ADDRTYPE,
			      MAPI_TAG_SENT_REPRESENTING_EMAIL,
			      MAPI_TAG_SENT_REPRESENTING_SMTP);
	struct who s = who_of(p, MAPI_TAG_SENDER_NAME, MAPI_TAG_SENDER_ADDRTYPE,
			      MAPI_TAG_SENDER_EMAIL,
			      MAPI_TAG_SENDER_SMTP_ADDRESS);

	if (who_empty(&f) || who_empty(&s) || !s.addr ||
	    (f.addr && !g_ascii_strcasecmp(f.addr, s.addr)))
		return NULL;
	return address_text(&s);
}

/* The recipients of one type, "a, b, c", or NULL when there are none. */
static char *recips_field(const struct mapi_message *m, int type)
{
	GString *s = NULL;

	for (size_t i = 0; i < m->n_recips; i++) {
		const struct mapi_props *p = &m->recips[i].props;
		struct who w;
		g_autofree char *a = NULL;

		if ((mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_RECIPIENT_TYPE), 0) &
		     0xF) != type)
			continue;
		w = who_of(p, MAPI_TAG_DISPLAY_NAME, MAPI_TAG_ADDRTYPE,
			   MAPI_TAG_EMAIL_ADDRESS, MAPI_TAG_SMTP_ADDRESS);
		if (!w.name)
			w.name = str_of(p, MAPI_TAG_RECIPIENT_DISPLAY_NAME);
		if (who_empty(&w))
			continue;
		a = address_text(&w);
		if (!s)
			s = g_string_new(NULL);
		else
			g_string_append(s, ", ");
		g_string_append(s, a);
	}
	return s ? g_string_free(s, FALSE) : NULL;
}

/* ---- the header ---- */

/* Fields rendered from properties; without the property the received
 * field (PidTagTransportMessageHeaders) stays. */
enum { F_FROM, F_SENDER, F_TO, F_CC, F_BCC, F_SUBJECT, F_DATE, F_MSGID,
       F_IRT, F_REFS, F_COUNT };
static const char *const fnames[F_COUNT] = {
	"From", "Sender", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID",
	"In-Reply-To", "References",
};

/* Received fields that are never kept: the properties alone say them
 * (the marks) or the rendering writes them anew (the MIME structure). */
static const char *const dropped[] = {
	"Importance", "Priority", "X-Priority", "Sensitivity",
	"X-Message-Flag", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "Content-Disposition", "Content-ID",
	"Content-Description", "Content-Location", "Content-Length",
	"Content-MD5", "Content-Language",
};

static uint64_t message_time(const struct mapi_props *p)
{
	static const uint32_t tags[] = {
		MAPI_TAG_CLIENT_SUBMIT_TIME, MAPI_TAG_MESSAGE_DELIVERY_TIME,
		MAPI_TAG_CREATION_TIME, MAPI_TAG_LAST_MODIFICATION_TIME,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(tags); i++) {
		const struct mapi_value *v = mapi_props_get_tag(p, tags[i]);

		if (v)
			return v->v.ft;
	}
	return 0;
}

static char *date_text(uint64_t ft)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(mapi_ft_to_unix(ft));
	char *s;

	if (!dt)
		return NULL;
	s = g_mime_utils_header_format_date(dt);
	g_date_time_unref(dt);
	return s;
}

/* A Message-ID from the seed, in the author's domain when there is one. */
static char *generated_msgid(const struct rctx *r, const char *from_addr)
{
	const char *at = from_addr ? strrchr(from_addr, '@') : NULL;
	g_autofree char *dom = at && at[1] ? one_line(at + 1) : NULL;

	if (dom && (strchr(dom, ' ') || strchr(dom, '>')))
		g_clear_pointer(&dom, g_free);
	return g_strdup_printf("<mfs.%.32s@%s>", r->seed,
			       dom ? dom : "mailfs.invalid");
}

/* Each field of F_COUNT as its full text ("Name: value\r\n", folded), or
 * NULL when the properties give none. */
static void render_fields(const struct rctx *r, const struct mapi_message *m,
			  char *f[F_COUNT])
{
	const struct mapi_props *p = &m->props;
	char *v[F_COUNT] = { NULL };
	const char *subj = str_of(p, MAPI_TAG_SUBJECT);
	uint64_t ft = message_time(p);
	struct who author;

	v[F_FROM] = from_field(p);
	v[F_SENDER] = sender_field(p);
	v[F_TO] = recips_field(m, MAPI_TO);
	v[F_CC] = recips_field(m, MAPI_CC);
	v[F_BCC] = recips_field(m, MAPI_BCC);
	if (subj)
		v[F_SUBJECT] = g_strdup(subj);
	else if (str_of(p, MAPI_TAG_NORMALIZED_SUBJECT))
		v[F_SUBJECT] = g_strconcat(
			str_of(p, MAPI_TAG_SUBJECT_PREFIX) ?
			str_of(p, MAPI_TAG_SUBJECT_PREFIX) : "",
			str_of(p, MAPI_TAG_NORMALIZED_SUBJECT), NULL);
	if (ft)
		v[F_DATE] = date_text(ft);
	if (str_of(p, MAPI_TAG_INTERNET_MESSAGE_ID)) {
		v[F_MSGID] = g_strdup(str_of(p, MAPI_TAG_INTERNET_MESSAGE_ID));
	} else {
		author = who_of(p, MAPI_TAG_SENT_REPRESENTING_NAME,
				MAPI_TAG_SENT_REPRESENTING_ADDRTYPE,
				MAPI_TAG_SENT_REPRESENTING_EMAIL,
				MAPI_TAG_SENT_REPRESENTING_SMTP);
		v[F_MSGID] = generated_msgid(r, author.addr);
	}
	if (str_of(p, MAPI_TAG_IN_REPLY_TO_ID))
		v[F_IRT] = g_strdup(str_of(p, MAPI_TAG_IN_REPLY_TO_ID));
	if (str_of(p, MAPI_TAG_INTERNET_REFERENCES))
		v[F_REFS] = g_strdup(str_of(p, MAPI_TAG_INTERNET_REFERENCES));
	for (int i = 0; i < F_COUNT; i++) {
		GString *s;

		f[i] = NULL;
		if (!v[i])
			continue;
		s = g_string_new(NULL);
		if (i == F_SUBJECT)
			put_text_field(s, fnames[i], v[i]);
		else
			put_field(s, fnames[i], v[i]);
		f[i] = g_string_free(s, FALSE);
		g_free(v[i]);
	}
}

/* Importance, Priority, Sensitivity and X-Message-Flag when they say
 * more than the default (MS-OXCMAIL 2.1.3.2.2, 2.1.3.2.4). */
static void put_marks(GString *out, const struct mapi_props *p)
{
	static const char *const imp[] = { "Low", NULL, "High" };
	static const char *const pri[] = { "non-urgent", NULL, "urgent" };
	static const char *const sens[] = { NULL, "Personal", "Private",
					    "Company-Confidential" };
	int32_t v;

	v = mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_IMPORTANCE), 1);
	if (v >= 0 && v <= 2 && imp[v])
		put_field(out, "Importance", imp[v]);
	v = mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_PRIORITY), 0);
	if (v >= -1 && v <= 1 && pri[v + 1])
		put_field(out, "Priority", pri[v + 1]);
	v = mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_SENSITIVITY), 0);
	if (v >= 0 && v <= 3 && sens[v])
		put_field(out, "Sensitivity", sens[v]);
	if (mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_FLAG_STATUS), 0) == 2)
		put_field(out, "X-Message-Flag", "Follow up");
}

/* A received field copied with its line ends made CRLF. */
static void copy_field(GString *out, const struct mail_header_field *f)
{
	const char *p = f->start, *end = f->start + f->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		while (e > p && e[-1] == '\r')
			e--;
		g_string_append_len(out, p, e - p);
		g_string_append(out, "\r\n");
		p = nl ? nl + 1 : end;
	}
}

static bool name_in(const struct mail_header_field *f,
		    const char *const *names, size_t n, size_t *i_r)
{
	for (size_t i = 0; i < n; i++) {
		if (mail_header_field_is(f, names[i])) {
			if (i_r)
				*i_r = i;
			return true;
		}
	}
	return false;
}

/* The received header block with our fields in the place of theirs. */
static void put_received(GString *out, const char *hdrs, char *f[F_COUNT],
			 bool done[F_COUNT])
{
	struct mail_header_iter it;
	struct mail_header_field fl;
	size_t i;

	mail_header_iter_init(&it, hdrs, strlen(hdrs));
	while (mail_header_next(&it, &fl)) {
		if (!fl.value || !fl.name_len || fl.start[0] == ' ' ||
		    fl.start[0] == '\t')
			continue;	/* not a field: it cannot be kept */
		if (name_in(&fl, dropped, G_N_ELEMENTS(dropped), NULL))
			continue;
		if (!name_in(&fl, fnames, F_COUNT, &i)) {
			copy_field(out, &fl);
			continue;
		}
		if (!f[i]) {
			copy_field(out, &fl);
		} else if (!done[i]) {
			g_string_append(out, f[i]);
			done[i] = true;
		}
	}
}

static void put_header(struct rctx *r, const struct mapi_message *m)
{
	const char *hdrs = str_of(&m->props, MAPI_TAG_TRANSPORT_MESSAGE_HEADERS);
	char *f[F_COUNT];
	bool done[F_COUNT] = { false };

	render_fields(r, m, f);
	if (hdrs)
		put_received(r->out, hdrs, f, done);
	for (int i = 0; i < F_COUNT; i++) {
		if (f[i] && !done[i])
			g_string_append(r->out, f[i]);
		g_free(f[i]);
	}
	put_marks(r->out, &m->props);
	g_string_append(r->out, "MIME-Version: 1.0\r\n");
}

/* ---- bodies and transfer encodings ---- */

/* A text leaf: its Content-Type, encoding, empty line and body.  With
 * `whole` the text is the message's only part and gets the line end that
 * ends a message (which mapi-mail-parse.c takes off again). */
static void put_text_part(GString *out, const char *subtype,
			  const char *charset, const guint8 *d, size_t len,
			  bool whole)
{
	g_autoptr(GByteArray) b = NULL;
	bool wide = !g_ascii_strncasecmp(charset, "utf-16", 6);
	enum mapi_mail_cte cte;

	b = wide ? g_byte_array_new() : mapi_mail_crlf_text(d, len);
	if (wide)
		g_byte_array_append(b, d, (guint)len);
	else if (whole)
		g_byte_array_append(b, (const guint8 *)"\r\n", 2);
	cte = wide ? MAPI_MAIL_CTE_BASE64 : mapi_mail_choose_cte(b->data, b->len, true);
	g_string_append_printf(out, "Content-Type: text/%s; charset=%s\r\n"
			       "Content-Transfer-Encoding: %s\r\n\r\n",
			       subtype, charset, mapi_mail_cte_names[cte]);
	mapi_mail_put_encoded(out, cte, b->data, b->len);
}

/* The charset of PidTagInternetCodepage, or NULL. */
static const char *message_charset(const struct mapi_props *p)
{
	int32_t cp = mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_INTERNET_CODEPAGE),
				  0);

	if (!cp)
		cp = mapi_props_l(p, MAPI_TAG_ID(MAPI_TAG_MESSAGE_CODEPAGE), 0);
	return cp ? mapi_mail_cp_charset((uint32_t)cp) : NULL;
}

/* Whether ASCII text is the same bytes in `cs`. */
static bool ascii_compatible(const char *cs)
{
	return g_ascii_strncasecmp(cs, "utf-16", 6) &&
	       g_ascii_strcasecmp(cs, "utf-7");
}

/* PidTagBody: in the message's charset when that holds it all (so that
 * the code page comes back), else UTF-8, or us-ascii for ASCII without a
 * code page; PtypString8 bytes in the code page. */
static void put_plain(GString *out, const struct mapi_props *p, bool whole)
{
	const struct mapi_value *v = mapi_props_get(p,
						    MAPI_TAG_ID(MAPI_TAG_BODY));
	const char *cs = message_charset(p);
	const char *s = v->v.str ? v->v.str : "";
	size_t len = strlen(s);
	bool ascii = mapi_mail_is_ascii(s, len);
	g_autofree char *conv = NULL;
	gsize n = 0;

	if (cs && !ascii_compatible(cs))
		cs = NULL;
	if (MAPI_TAG_TYPE(v->tag) == MAPI_PT_STRING8 || (cs && ascii)) {
		put_text_part(out, "plain", cs ? cs : ascii ? "us-ascii" :
			      "windows-1252", (const guint8 *)s, len, whole);
		return;
	}
	if (cs && g_ascii_strcasecmp(cs, "utf-8"))
		conv = g_convert(s, (gssize)len, g_mime_charset_iconv_name(cs),
				 "UTF-8", NULL, &n, NULL);
	if (conv)
		put_text_part(out, "plain", cs, (const guint8 *)conv, n,
			      whole);
	else
		put_text_part(out, "plain", ascii ? "us-ascii" : "utf-8",
			      (const guint8 *)s, len, whole);
}

/* PidTagHtml in the charset of PidTagInternetCodepage; PidTagBodyHtml
 * (UTF-8) when there is no binary one. */
static void put_html(GString *out, const struct mapi_props *p, bool whole)
{
	const struct mapi_value *v = mapi_props_get_tag(p, MAPI_TAG_HTML);
	const char *cs = message_charset(p);
	const guint8 *d;
	size_t len;

	if (v) {
		d = v->v.bin.data;
		len = v->v.bin.len;
	} else {
		v = mapi_props_get_tag(p, MAPI_TAG_BODY_HTML);
		d = (const guint8 *)v->v.str;
		len = strlen(v->v.str);
		cs = "utf-8";
	}
	if (!cs && mapi_mail_is_ascii((const char *)d, len))
		cs = "us-ascii";
	else if (!cs)
		cs = g_utf8_validate((const char *)d, (gssize)len, NULL) ?
		     "utf-8" : "windows-1252";
	put_text_part(out, "html", cs, d, len, whole);
}

/* ---- attachments ---- */

/* A parameter, quoted when ASCII and short, else RFC 2231 encoded in
 * continuations. */
static void put_param(GString *out, const char *name, const char *value)
{
	g_autofree char *v = one_line(value);
	GString *enc;
	int part = 0;

	if (mapi_mail_is_ascii(v, strlen(v)) && strlen(v) <= 60 && !strchr(v, '"') &&
	    !strchr(v, '\\')) {
		g_string_append_printf(out, ";\r\n\t%s=\"%s\"", name, v);
		return;
	}
	enc = g_string_new("utf-8''");
	for (const guchar *p = (const guchar *)v; *p; p++) {
		if (g_ascii_isalnum(*p) || strchr("!#$&+-.^_`|~", *p))
			g_string_append_c(enc, (char)*p);
		else
			g_string_append_printf(enc, "%%%02X", *p);
	}
	for (size_t i = 0; i < enc->len; part++) {
		size_t n = MIN((size_t)60, enc->len - i);

		/* a %XX escape stays whole */
		if (i + n < enc->len && n >= 2 && enc->str[i + n - 1] == '%')
			n -= 1;
		else if (i + n < enc->len && n >= 2 &&
			 enc->str[i + n - 2] == '%')
			n -= 2;
		g_string_append_printf(out, ";\r\n\t%s*%d*=", name, part);
		g_string_append_len(out, enc->str + i, (gssize)n);
		i += n;
	}
	g_string_free(enc, TRUE);
}

/* A MIME type that may stand in Content-Type: "type/subtype" of token
 * characters, not a multipart.  Caller owns the result. */
static char *safe_type(const char *t)
{
	const char *slash;

	if (!t || !(slash = strchr(t, '/')) || slash == t || !slash[1] ||
	    strchr(slash + 1, '/') || !g_ascii_strncasecmp(t, "multipart/", 10))
		return g_strdup("application/octet-stream");
	for (const char *p = t; *p; p++) {
		if (!g_ascii_isalnum(*p) && !strchr("!#$&+-.^_`|~/", *p))
			return g_strdup("application/octet-stream");
	}
	return g_ascii_strdown(t, -1);
}

static const char *attach_name(const struct mapi_props *p)
{
	const char *n = str_of(p, MAPI_TAG_ATTACH_LONG_FILENAME);

	return n ? n : str_of(p, MAPI_TAG_ATTACH_FILENAME);
}

/* The headers an attachment shares whatever its content. */
static void put_attach_head(GString *out, const struct mapi_props *p,
			    const char *type, bool inline_, size_t size)
{
	const char *name = attach_name(p);
	const char *cid = str_of(p, MAPI_TAG_ATTACH_CONTENT_ID);
	const char *loc = str_of(p, MAPI_TAG_ATTACH_CONTENT_LOCATION);

	g_string_append_printf(out, "Content-Type: %s", type);
	if (name)
		put_param(out, "name", name);
	g_string_append_printf(out, "\r\nContent-Disposition: %s",
			       inline_ ? "inline" : "attachment");
	if (name)
		put_param(out, "filename", name);
	g_string_append_printf(out, ";\r\n\tsize=%zu\r\n", size);
	if (cid && !has_ctl(cid)) {
		bool br = cid[0] == '<';

		g_string_append_printf(out, "Content-ID: %s%s%s\r\n",
				       br ? "" : "<", cid, br ? "" : ">");
	}
	if (loc && !has_ctl(loc))
		put_field(out, "Content-Location", loc);
}

static bool is_inline(const struct mapi_attachment *a)
{
	return (mapi_props_l(&a->props, MAPI_TAG_ID(MAPI_TAG_ATTACH_FLAGS), 0) &
		4) != 0;
}

static void put_entity_message(struct rctx *r, const struct mapi_message *m,
			       int embed);

static void put_attachment(struct rctx *r, const struct mapi_attachment *a,
			   bool inline_, int embed)
{
	const struct mapi_props *p = &a->props;
	const struct mapi_value *d = mapi_props_get_tag(
		p, MAPI_TAG_ATTACH_DATA_BINARY);
	g_autofree char *type = NULL;
	enum mapi_mail_cte cte;

	if (a->embedded) {
		GString *saved = r->out;
		GString *inner = g_string_new(NULL);

		r->out = inner;
		put_entity_message(r, a->embedded, embed + 1);
		r->out = saved;
		cte = mapi_mail_plain_ok((guint8 *)inner->str, inner->len, false) ?
		      MAPI_MAIL_CTE_7BIT : MAPI_MAIL_CTE_8BIT;
		put_attach_head(r->out, p, "message/rfc822", false,
				inner->len);
		g_string_append_printf(r->out,
				       "Content-Transfer-Encoding: %s\r\n\r\n",
				       mapi_mail_cte_names[cte]);
		g_string_append_len(r->out, inner->str, (gssize)inner->len);
		g_string_free(inner, TRUE);
		return;
	}
	type = safe_type(str_of(p, MAPI_TAG_ATTACH_MIME_TAG) ?
			 str_of(p, MAPI_TAG_ATTACH_MIME_TAG) :
			 mapi_mail_name_type(attach_name(p)));
	if (!g_ascii_strncasecmp(type, "message/", 8)) {
		/* a message kept as bytes: only 7bit or 8bit may carry it */
		if (mapi_mail_plain_ok(d->v.bin.data, d->v.bin.len, true))
			cte = mapi_mail_is_ascii((char *)d->v.bin.data, d->v.bin.len) ?
			      MAPI_MAIL_CTE_7BIT : MAPI_MAIL_CTE_8BIT;
		else
			cte = MAPI_MAIL_CTE_BASE64;
		if (cte == MAPI_MAIL_CTE_BASE64) {
			g_free(type);
			type = g_strdup("application/octet-stream");
		}
	} else {
		cte = mapi_mail_choose_cte(d->v.bin.data, d->v.bin.len,
				 !g_ascii_strncasecmp(type, "text/", 5));
	}
	put_attach_head(r->out, p, type, inline_, d->v.bin.len);
	g_string_append_printf(r->out, "Content-Transfer-Encoding: %s\r\n\r\n",
			       mapi_mail_cte_names[cte]);
	mapi_mail_put_encoded(r->out, cte, d->v.bin.data, d->v.bin.len);
}

/* Whether an attachment is rendered: by value with its bytes, or an
 * attached message within the depth. */
static bool rendered(const struct mapi_attachment *a, int embed)
{
	if (a->embedded)
		return embed + 1 <= MAPI_MAIL_MAX_EMBED;
	return mapi_props_get_tag(&a->props, MAPI_TAG_ATTACH_DATA_BINARY) !=
	       NULL;
}

/* ---- structure ---- */

/* The nodes of a message's tree: which leaf or which multipart. */
enum node { N_PLAIN, N_HTML, N_RELATED, N_ALT, N_MIXED, N_EMPTY };

struct shape {
	const struct mapi_message *m;
	bool text, html;
	size_t n_inline, n_other;
	int embed;
	bool whole;		/* the top is a text leaf */
	char *rtf;		/* owned; the text or HTML of an RTF-only
				   message, UTF-8 */
	size_t rtf_len;
};

static void put_node(struct rctx *r, const struct shape *s, enum node n);

/* A multipart of `kids`, and for mixed and related the attachments. */
static void put_multipart(struct rctx *r, const struct shape *s,
			  const char *subtype, const enum node *kids,
			  size_t n_kids, int attach_kind)
{
	char b[96];
	const struct mapi_message *m = s->m;

	g_snprintf(b, sizeof(b), MAPI_MAIL_BOUNDARY_MARK "_%.24s_%u", r->seed,
		   r->boundaries++);
	g_string_append_printf(r->out,
			       "Content-Type: multipart/%s;\r\n"
			       "\tboundary=\"%s\"%s\r\n\r\n", subtype, b,
			       attach_kind == 1 ? ";\r\n\ttype=\"text/html\"" :
			       "");
	for (size_t i = 0; i < n_kids; i++) {
		g_string_append_printf(r->out, "--%s\r\n", b);
		put_node(r, s, kids[i]);
		g_string_append(r->out, "\r\n");
	}
	for (size_t i = 0; attach_kind && i < m->n_attach; i++) {
		const struct mapi_attachment *a = &m->attach[i];
		bool inl = s->html && !a->embedded && is_inline(a);

		if (!rendered(a, s->embed) || inl != (attach_kind == 1))
			continue;
		g_string_append_printf(r->out, "--%s\r\n", b);
		put_attachment(r, a, inl || is_inline(a), s->embed);
		g_string_append(r->out, "\r\n");
	}
	g_string_append_printf(r->out, "--%s--\r\n", b);
}

static void put_node(struct rctx *r, const struct shape *s, enum node n)
{
	enum node kids[2];

	switch (n) {
	case N_PLAIN:
	case N_HTML:
		if (s->rtf)
			put_text_part(r->out, n == N_HTML ? "html" : "plain",
				      mapi_mail_is_ascii(s->rtf, s->rtf_len) ?
				      "us-ascii" : "utf-8",
				      (const guint8 *)s->rtf, s->rtf_len,
				      s->whole);
		else if (n == N_PLAIN)
			put_plain(r->out, &s->m->props, s->whole);
		else
			put_html(r->out, &s->m->props, s->whole);
		break;
	case N_EMPTY:
		put_text_part(r->out, "plain", "us-ascii", NULL, 0, true);
		break;
	case N_RELATED:
		kids[0] = N_HTML;
		put_multipart(r, s, "related", kids, 1, 1);
		break;
	case N_ALT:
		kids[0] = N_PLAIN;
		kids[1] = s->n_inline ? N_RELATED : N_HTML;
		put_multipart(r, s, "alternative", kids, 2, 0);
		break;
	case N_MIXED:
		if (s->text && s->html)
			kids[0] = N_ALT;
		else if (s->html)
			kids[0] = s->n_inline ? N_RELATED : N_HTML;
		else
			kids[0] = N_PLAIN;
		put_multipart(r, s, "mixed", kids, s->text || s->html ? 1 : 0,
			      2);
		break;
	}
}

static bool has_value(const struct mapi_props *p, uint32_t tag)
{
	const struct mapi_value *v = mapi_props_get_tag(p, tag);

	return v && (MAPI_TAG_TYPE(tag) != MAPI_PT_UNICODE || v->v.str);
}

/*
 * The body of a message that has only PidTagRtfCompressed: the HTML or
 * the text the RTF encapsulates, or the words of other RTF as text
 * (MS-OXRTFEX).  RTF that cannot be read leaves the message without a
 * body; its attachments are not placed by \objattph.
 */
static void rtf_body(struct shape *s)
{
	const struct mapi_value *v = mapi_props_get_tag(&s->m->props,
						       MAPI_TAG_RTF_COMPRESSED);
	g_autoptr(GByteArray) rtf = NULL;
	enum mapi_rtf_kind kind;

	if (!v || mapi_rtf_decompress(v->v.bin.data, v->v.bin.len,
				      MAPI_MAIL_MAX_RTF, MAPI_RTF_LENIENT,
				      &rtf, NULL) != 0 ||
	    mapi_rtf_extract(rtf->data, rtf->len, MAPI_MAIL_MAX_RTF, &kind,
			     &s->rtf, &s->rtf_len) != 0)
		return;
	if (kind == MAPI_RTF_FROMHTML)
		s->html = true;
	else
		s->text = true;
}

/*
 * A whole message: header and body.  Which bodies: PidTagBody (also as
 * PtypString8), PidTagHtml or PidTagBodyHtml; PidTagRtfCompressed when
 * there is none of them.
 */
static void put_entity_message(struct rctx *r, const struct mapi_message *m,
			       int embed)
{
	struct shape s = { .m = m, .embed = embed };
	const struct mapi_value *body = mapi_props_get(
		&m->props, MAPI_TAG_ID(MAPI_TAG_BODY));
	enum node top;

	s.text = body && (MAPI_TAG_TYPE(body->tag) == MAPI_PT_UNICODE ||
			  MAPI_TAG_TYPE(body->tag) == MAPI_PT_STRING8);
	s.html = has_value(&m->props, MAPI_TAG_HTML) ||
		 has_value(&m->props, MAPI_TAG_BODY_HTML);
	if (!s.text && !s.html)
		rtf_body(&s);
	for (size_t i = 0; i < m->n_attach; i++) {
		if (!rendered(&m->attach[i], embed))
			continue;
		if (s.html && !m->attach[i].embedded &&
		    is_inline(&m->attach[i]))
			s.n_inline++;
		else
			s.n_other++;
	}
	put_header(r, m);
	if (s.n_other)
		top = N_MIXED;
	else if (s.text && s.html)
		top = N_ALT;
	else if (s.html)
		top = s.n_inline ? N_RELATED : N_HTML;
	else
		top = s.text ? N_PLAIN : N_EMPTY;
	s.whole = top == N_PLAIN || top == N_HTML || top == N_EMPTY;
	put_node(r, &s, top);
	g_free(s.rtf);
}

int mapi_mail_render(const struct mapi_message *m, GByteArray *out)
{
	struct rctx r = { 0 };
	g_autofree char *digest = NULL;

	if (!m || !out)
		return -EINVAL;
	mime_init();
	memset(r.seed, '0', 64);
	r.out = g_string_new(NULL);
	put_entity_message(&r, m, 0);
	digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
					     (const guchar *)r.out->str,
					     r.out->len);
	memcpy(r.seed, digest, 64);
	g_string_truncate(r.out, 0);
	r.boundaries = 0;
	put_entity_message(&r, m, 0);
	g_byte_array_append(out, (const guint8 *)r.out->str, r.out->len);
	g_string_free(r.out, TRUE);
	return 0;
}
