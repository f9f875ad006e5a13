/*
 * smtp-envelope.c - see smtp-envelope.h.  The header block is read by
 * common/mail-header.c; this file says what its fields mean for sending.
 */
#include "smtp-envelope.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>

#include "mail-header.h"

static gpointer init_gmime(gpointer unused)
{
	g_mime_init();
	return NULL;
}

static int refuse(char **why_r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int refuse(char **why_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*why_r = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Bytes an address may carry into an SMTP command: nothing that ends,
 * splits or brackets the command's argument. */
static bool address_ok(const char *a)
{
	size_t n = strlen(a);

	if (n < 3 || n > 320 || !strchr(a, '@') || a[0] == '@' ||
	    a[n - 1] == '@')
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	}
	return true;
}

/* Each mailbox of an address list (groups opened), in order, into `out`. */
static void mailboxes(InternetAddressList *list, GPtrArray *out)
{
	int n = list ? internet_address_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			mailboxes(internet_address_group_get_members(
					  INTERNET_ADDRESS_GROUP(ia)), out);
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a = internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(ia));
			g_ptr_array_add(out, g_strdup(a ? a : ""));
		}
	}
}

/* The addresses of one field's value; -EINVAL when it does not parse or an
 * address could not go into an SMTP command. */
static int field_addresses(const char *name, const char *v, size_t len,
			   GPtrArray *out, char **why_r)
{
	g_autofree char *text = mail_header_unfold(v, len, false);
	InternetAddressList *list = internet_address_list_parse(NULL, text);
	guint before = out->len;

	mailboxes(list, out);
	if (list)
		g_object_unref(list);
	for (guint i = before; i < out->len; i++) {
		if (!address_ok(out->pdata[i]))
			return refuse(why_r, "%s: has an address that cannot "
				      "be used: \"%s\"", name,
				      (char *)out->pdata[i]);
	}
	if (!list && *g_strstrip(text))
		return refuse(why_r, "%s: is not an address list", name);
	return 0;
}

/* Append `len` bytes of a header line to `head`, ended with CRLF. */
static void put_line(GByteArray *head, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	g_byte_array_append(head, (const guint8 *)line, (guint)len);
	g_byte_array_append(head, (const guint8 *)"\r\n", 2);
}

/* What is gathered while the header block is read. */
struct reading {
	bool whole;		/* the buffer is the whole file */
	size_t line_no;		/* of the line last looked at */
	size_t froms;		/* From: fields seen */
	GPtrArray *from;	/* borrowed; addresses of From: */
	GPtrArray *rcpts;	/* borrowed; of To:, Cc:, Bcc:, repeats kept */
	GByteArray *head;	/* borrowed; what is to be transmitted */
	char **why_r;
};

/* The end of the line starting at p: past its LF, or `end`. */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* What every line of the header must be, `end` after its LF: complete
 * (unless the file ends there) and free of NUL bytes. */
static int check_line(struct reading *r, const char *line, const char *end)
{
	if ((end == line || end[-1] != '\n') && !r->whole)
		return refuse(r->why_r, "not a message: its header is larger "
			      "than %d bytes or has no end", SMTP_HEADER_MAX);
	r->line_no++;
	if (memchr(line, '\0', (size_t)(end - line)))
		return refuse(r->why_r, "not a message: line %zu of its "
			      "header holds a NUL byte", r->line_no);
	return 0;
}

/* A field name as RFC 5322 3.6.8 has it: printable, no space, and the
 * colon on the first line, right after it. */
static bool name_ok(const struct mail_header_field *f)
{
	if (!f->value || f->value == f->start + 1)
		return false;
	for (const char *p = f->start; p < f->value - 1; p++) {
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	}
	return true;
}

/* The addresses of one field, and its lines into the header to transmit
 * unless it is Bcc:. */
static int take_field(struct reading *r, const struct mail_header_field *f)
{
	bool bcc = mail_header_field_is(f, "Bcc");
	const char *end = f->start + f->len;
	int rc = 0;

	if (mail_header_field_is(f, "From")) {
		r->froms++;
		rc = field_addresses("From", f->value, f->value_len, r->from,
				     r->why_r);
	} else if (bcc || mail_header_field_is(f, "To") ||
		   mail_header_field_is(f, "Cc")) {
		g_autofree char *n = g_strndup(f->start, f->name_len);
		rc = field_addresses(n, f->value, f->value_len, r->rcpts,
				     r->why_r);
	}
	if (!bcc) {
		/* each line of it, CRLF-ended */
		for (const char *p = f->start, *q; p < end; p = q) {
			q = line_end(p, end);
			put_line(r->head, p, (size_t)(q - p));
		}
	}
	return rc;
}

/*
 * Read the header block field by field into `r`; *body_at_r is where the
 * body starts.  A field is taken once the line after it is known not to
 * continue it, and each line is checked when it is reached, so that the
 * first fault in the file is the one reported.
 */
static int read_header(struct reading *r, const char *buf, size_t len,
		       size_t *body_at_r)
{
	struct mail_header_iter it;
	struct mail_header_field f, prev = { 0 };
	int rc;

	mail_header_iter_init(&it, buf, len);
	while (mail_header_next(&it, &f)) {
		const char *end = f.start + f.len;
		const char *p = line_end(f.start, end);
		if ((rc = check_line(r, f.start, p)) < 0)
			return rc;
		if (f.start[0] == ' ' || f.start[0] == '\t')
			return refuse(r->why_r, "not a message: it starts "
				      "with white space");
		if (prev.start && (rc = take_field(r, &prev)) < 0)
			return rc;
		if (!name_ok(&f))
			return refuse(r->why_r, "not a message: line %zu is "
				      "not a header field", r->line_no);
		for (const char *q; p < end; p = q) {
			q = line_end(p, end);
			if ((rc = check_line(r, p, q)) < 0)
				return rc;
		}
		prev = f;
	}
	/* the empty line ending the block, or the end of the file */
	if (!it.blank && !r->whole)
		return check_line(r, it.p, it.p);
	if (prev.start && (rc = take_field(r, &prev)) < 0)
		return rc;
	if (it.blank)
		put_line(r->head, "", 0);
	*body_at_r = (size_t)(it.p - buf);
	return 0;
}

/* Whether what was read makes a message that can be sent. */
static int check_envelope(const struct reading *r)
{
	if (r->head->len == 0)
		return refuse(r->why_r, "not a message: it is empty");
	if (r->froms == 0)
		return refuse(r->why_r, "not a message: it has no From: "
			      "field");
	if (r->froms > 1)
		return refuse(r->why_r, "it has %zu From: fields; a message "
			      "has one", r->froms);
	if (r->from->len == 0)
		return refuse(r->why_r, "From: has no address");
	if (r->rcpts->len == 0)
		return refuse(r->why_r, "it has no recipients: no address in "
			      "To:, Cc: or Bcc:");
	if (r->rcpts->len > SMTP_RCPT_MAX)
		return refuse(r->why_r, "it has %u recipients; at most %d "
			      "are sent in one message", r->rcpts->len,
			      SMTP_RCPT_MAX);
	return 0;
}

/* Each address of `all` once, whatever its case, in order, into `out`. */
static void unique_rcpts(GPtrArray *all, GPtrArray *out)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);

	for (guint i = 0; i < all->len; i++) {
		char *key = g_ascii_strdown(all->pdata[i], -1);
		if (g_hash_table_add(seen, key))
			g_ptr_array_add(out, g_strdup(all->pdata[i]));
	}
	g_hash_table_unref(seen);
}

int smtp_envelope_parse(const char *buf, size_t len, bool whole,
			struct smtp_envelope *env, char **why_r)
{
	static GOnce once = G_ONCE_INIT;
	g_autoptr(GPtrArray) from = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) rcpts = g_ptr_array_new_with_free_func(g_free);
	struct reading r = { .whole = whole, .from = from, .rcpts = rcpts,
			     .why_r = why_r };
	size_t body_at = 0;
	int rc;

	g_once(&once, init_gmime, NULL);
	memset(env, 0, sizeof(*env));
	env->head = g_byte_array_new();
	r.head = env->head;
	rc = read_header(&r, buf, len, &body_at);
	if (rc == 0)
		rc = check_envelope(&r);
	if (rc < 0) {
		smtp_envelope_clear(env);
		return rc;
	}
	env->sender = g_strdup(from->pdata[0]);
	env->rcpts = g_ptr_array_new_with_free_func(g_free);
	unique_rcpts(rcpts, env->rcpts);
	env->body_at = (off_t)body_at;
	return 0;
}

void smtp_envelope_clear(struct smtp_envelope *env)
{
	g_free(env->sender);
	if (env->rcpts)
		g_ptr_array_unref(env->rcpts);
	if (env->head)
		g_byte_array_unref(env->head);
	memset(env, 0, sizeof(*env));
}

size_t smtp_crlf(const char *in, size_t len, char *out, bool *cr)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && !*cr)
			out[o++] = '\r';
		out[o++] = in[i];
		*cr = in[i] == '\r';
	}
	return o;
}
