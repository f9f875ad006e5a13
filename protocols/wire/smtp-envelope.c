/*
 * smtp-envelope.c - see envelope.h.
 */
#include "smtp-envelope.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>

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

/* The value of a field without its folding: CR and LF go, the white space
 * after them stays. */
static char *unfold(const char *v, size_t len)
{
	GString *s = g_string_sized_new(len);

	for (size_t i = 0; i < len; i++) {
		if (v[i] != '\r' && v[i] != '\n')
			g_string_append_c(s, v[i]);
	}
	return g_string_free(s, FALSE);
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
	g_autofree char *text = unfold(v, len);
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

static bool is_field(const char *name, size_t nlen, const char *want)
{
	return nlen == strlen(want) && !g_ascii_strncasecmp(name, want, nlen);
}

int smtp_envelope_parse(const char *buf, size_t len, bool whole,
			struct smtp_envelope *env, char **why_r)
{
	static GOnce once = G_ONCE_INIT;
	g_autoptr(GPtrArray) from = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) rcpts = g_ptr_array_new_with_free_func(g_free);
	size_t pos = 0, line_no = 0, froms = 0;
	size_t fstart = 0, fname_len = 0;
	bool in_field = false;
	int rc = 0;

	g_once(&once, init_gmime, NULL);
	memset(env, 0, sizeof(*env));
	env->head = g_byte_array_new();

	/* one header field at a time: its first line and its folded lines,
	 * looked at once the next field (or the end) shows where it ends */
	while (rc == 0) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) + 1 : len;
		bool last = !nl;
		if (last && !whole) {
			rc = refuse(why_r, "not a message: its header is larger "
				    "than %d bytes or has no end",
				    SMTP_HEADER_MAX);
			break;
		}
		const char *line = buf + pos;
		size_t llen = end - pos;
		bool empty = llen == 0 || (line[0] == '\n') ||
			     (llen >= 2 && line[0] == '\r' && line[1] == '\n');
		bool cont = llen > 0 && (line[0] == ' ' || line[0] == '\t');
		line_no++;
		if (llen > 0 && memchr(line, '\0', llen)) {
			rc = refuse(why_r, "not a message: line %zu of its "
				    "header holds a NUL byte", line_no);
			break;
		}
		if (cont && !in_field) {
			rc = refuse(why_r, "not a message: it starts with "
				    "white space");
			break;
		}
		if (in_field && !cont) {
			/* the field that started at fstart ends here */
			const char *fname = buf + fstart;
			const char *value = fname + fname_len + 1;
			size_t vlen = pos - (fstart + fname_len + 1);
			bool bcc = is_field(fname, fname_len, "Bcc");
			if (is_field(fname, fname_len, "From")) {
				froms++;
				rc = field_addresses("From", value, vlen, from,
						     why_r);
			} else if (bcc || is_field(fname, fname_len, "To") ||
				   is_field(fname, fname_len, "Cc")) {
				g_autofree char *n = g_strndup(fname,
							       fname_len);
				rc = field_addresses(n, value, vlen, rcpts,
						     why_r);
			}
			if (!bcc) {
				/* each line of it, CRLF-ended */
				size_t p = fstart;
				while (p < pos) {
					const char *e = memchr(buf + p, '\n',
							       pos - p);
					size_t q = e ? (size_t)(e - buf) + 1
						     : pos;
					put_line(env->head, buf + p, q - p);
					p = q;
				}
			}
			in_field = false;
			if (rc < 0)
				break;
		}
		if (empty || llen == 0) {
			if (llen > 0)
				put_line(env->head, "", 0);
			pos = end;
			break;
		}
		if (!cont) {
			const char *colon = memchr(line, ':', llen);
			size_t nlen = colon ? (size_t)(colon - line) : 0;
			bool ok = nlen > 0;
			for (size_t i = 0; ok && i < nlen; i++)
				ok = line[i] > ' ' && line[i] < 0x7f;
			if (!ok) {
				rc = refuse(why_r, "not a message: line %zu is "
					    "not a header field", line_no);
				break;
			}
			in_field = true;
			fstart = pos;
			fname_len = nlen;
		}
		/* at the end of a file without a body, the next round sees
		 * an empty line and closes the last field */
		pos = end;
	}
	if (rc == 0 && env->head->len == 0)
		rc = refuse(why_r, "not a message: it is empty");
	if (rc == 0 && froms == 0)
		rc = refuse(why_r, "not a message: it has no From: field");
	if (rc == 0 && froms > 1)
		rc = refuse(why_r, "it has %zu From: fields; a message has "
			    "one", froms);
	if (rc == 0 && from->len == 0)
		rc = refuse(why_r, "From: has no address");
	if (rc == 0 && rcpts->len == 0)
		rc = refuse(why_r, "it has no recipients: no address in To:, "
			    "Cc: or Bcc:");
	if (rc == 0 && rcpts->len > SMTP_RCPT_MAX)
		rc = refuse(why_r, "it has %u recipients; at most %d are sent "
			    "in one message", rcpts->len, SMTP_RCPT_MAX);
	if (rc < 0) {
		smtp_envelope_clear(env);
		return rc;
	}
	env->sender = g_strdup(from->pdata[0]);
	env->rcpts = g_ptr_array_new_with_free_func(g_free);
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, NULL);
	for (guint i = 0; i < rcpts->len; i++) {
		char *key = g_ascii_strdown(rcpts->pdata[i], -1);
		if (g_hash_table_add(seen, key))
			g_ptr_array_add(env->rcpts, g_strdup(rcpts->pdata[i]));
	}
	g_hash_table_unref(seen);
	env->body_at = (off_t)pos;
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
