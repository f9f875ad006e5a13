/*
 * message.c - one message as a t:Message, with the properties the
 * request's m:ItemShape asks for.
 *
 * Specs: [MS-OXWSCORE] 2.2.4.24 (ItemResponseShapeType: BaseShape,
 * IncludeMimeContent, AdditionalProperties), 2.2.4.x (ItemType: the order
 * of its elements); [MS-OXWSMSG] 2.2.4.1 (MessageType); [MS-OXWSFLAG]
 * (FlagType); RFC 2047 for encoded subjects.
 *
 * IdOnly gives the ItemId and what AdditionalProperties name; Default and
 * AllProperties give every property this server keeps except
 * MimeContent, which only IncludeMimeContent or item:MimeContent bring.
 * The message's bytes are read only when a property needs them (the whole
 * message for MimeContent, its first HEAD_MAX bytes for the header), so a
 * sync of a large folder with IdOnly reads no message at all.  Headers are
 * read with the IMAP server's MIME code so both servers show the same
 * subject.
 */
#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>
#include <unistd.h>

#include "wire/mime-entity.h"
#include "msgprops.h"
#include "ewsd-private.h"

/* Enough of a message to hold its header in all but absurd cases. */
#define HEAD_MAX (256 * 1024)

enum prop {
	P_MIME = 1 << 0,
	P_PARENT = 1 << 1,
	P_CLASS = 1 << 2,
	P_SUBJECT = 1 << 3,
	P_RECEIVED = 1 << 4,
	P_SIZE = 1 << 5,
	P_DRAFT = 1 << 6,
	P_FLAG = 1 << 7,
	P_MSGID = 1 << 8,
	P_READ = 1 << 9,
	P_DEFAULT = P_PARENT | P_CLASS | P_SUBJECT | P_RECEIVED | P_SIZE |
		    P_DRAFT | P_FLAG | P_MSGID | P_READ,
};

static const struct {
	const char *uri;
	unsigned prop;
} field_props[] = {
	{ "item:MimeContent", P_MIME },
	{ "item:ParentFolderId", P_PARENT },
	{ "item:ItemClass", P_CLASS },
	{ "item:Subject", P_SUBJECT },
	{ "item:DateTimeReceived", P_RECEIVED },
	{ "item:Size", P_SIZE },
	{ "item:IsDraft", P_DRAFT },
	{ "item:Flag", P_FLAG },
	{ "message:InternetMessageId", P_MSGID },
	{ "message:IsRead", P_READ },
};

static bool text_true(const xmlNode *n)
{
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	bool yes = v && (strcmp((const char *)v, "true") == 0 ||
			 strcmp((const char *)v, "1") == 0);

	xmlFree(v);
	return yes;
}

/* The properties `shape` (t:ItemShape, may be NULL) asks for. */
static unsigned shape_props(const xmlNode *shape)
{
	xmlNode *base = ews_child(shape, EWS_NS_T, "BaseShape");
	xmlNode *props = ews_child(shape, EWS_NS_T, "AdditionalProperties");
	xmlChar *b = base ? xmlNodeGetContent(base) : NULL;
	unsigned want = 0;

	if (!b || strcmp((const char *)b, "IdOnly") != 0)
		want = P_DEFAULT;
	xmlFree(b);
	if (text_true(ews_child(shape, EWS_NS_T, "IncludeMimeContent")))
		want |= P_MIME;
	for (xmlNode *p = ews_first_element(props); p;
	     p = ews_next_element(p)) {
		g_autofree char *uri = ews_attr(p, "FieldURI");
		for (size_t i = 0; uri && i < G_N_ELEMENTS(field_props); i++)
			if (!strcmp(uri, field_props[i].uri))
				want |= field_props[i].prop;
	}
	return want;
}

/* Read `fd` to its end into *buf_r (caller owns).  Past `max` bytes:
 * -EFBIG, or with `partial` the first `max` bytes.  Returns 0 or
 * -errno. */
static int read_fd(int fd, size_t max, bool partial, GString **buf_r)
{
	GString *buf = g_string_sized_new(8192);
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			g_string_free(buf, TRUE);
			return rc;
		}
		if (n == 0)
			break;
		if (buf->len + (size_t)n > max) {
			if (!partial) {
				g_string_free(buf, TRUE);
				return -EFBIG;
			}
			g_string_append_len(buf, chunk,
					     (gssize)(max - buf->len));
			break;
		}
		g_string_append_len(buf, chunk, n);
	}
	*buf_r = buf;
	return 0;
}

int ewsd_message_bytes(struct ewsd_call *call, const char *folder,
		       const char *id, bool head_only, GString **buf_r)
{
	int fd = -1, rc = mfs_store_fetch(call->ctx->store, folder, id, &fd,
					  NULL);

	if (rc < 0)
		return rc;
	rc = read_fd(fd, head_only ? HEAD_MAX : call->ctx->max_message,
		     head_only, buf_r);
	close(fd);
	return rc;
}

static void write_date(GString *out, const char *elem, int64_t t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	g_autofree char *s = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ")
				: NULL;

	if (s)
		g_string_append_printf(out, "<t:%s>%s</t:%s>", elem, s, elem);
}

/* A header field as UTF-8 text (RFC 2047 decoded), or NULL.  Caller owns
 * the result. */
static char *header_text(const GString *buf, const char *name)
{
	struct mime_entity e;

	mime_init();
	mime_entity_init(&e, buf->str, buf->len, true);
	g_autofree char *raw = mime_entity_header(&e, name);
	if (!raw)
		return NULL;
	char *text = g_mime_utils_header_decode_text(NULL, raw);
	if (text && !g_utf8_validate(text, -1, NULL))
		g_clear_pointer(&text, g_free);
	return text;
}

static void write_text(GString *out, const char *elem, const char *text)
{
	if (!text)
		return;
	g_string_append_printf(out, "<t:%s>", elem);
	ews_escape(out, text);
	g_string_append_printf(out, "</t:%s>", elem);
}

void ewsd_message_write(struct ewsd_call *call, const char *folder,
		       const struct mfs_item *it, bool allow_mime)
{
	const xmlNode *shape = ews_child(call->req->op, EWS_NS_M, "ItemShape");
	xmlNode *props = ews_child(shape, EWS_NS_T, "AdditionalProperties");
	unsigned want = shape_props(shape);
	g_autofree char *iid = ewsd_item_id(folder, it->id);
	g_autofree char *ck = ewsd_item_change_key(it);
	GString *out = call->out;
	GString *buf = NULL;

	if (!allow_mime)
		want &= ~(unsigned)P_MIME;
	if (want & (P_MIME | P_SUBJECT | P_MSGID))
		ewsd_message_bytes(call, folder, it->id, !(want & P_MIME),
				   &buf);
	g_string_append(out, "<t:Message>");
	if (buf && (want & P_MIME)) {
		g_autofree char *b64 = g_base64_encode(
			(const guchar *)buf->str, buf->len);
		g_string_append_printf(out, "<t:MimeContent CharacterSet="
				       "\"UTF-8\">%s</t:MimeContent>", b64);
	}
	g_string_append_printf(out, "<t:ItemId Id=\"%s\" ChangeKey=\"%s\"/>",
			       iid, ck);
	if (want & P_PARENT) {
		g_autofree char *fid = ewsd_folder_id(folder);
		g_string_append_printf(out, "<t:ParentFolderId Id=\"%s\" "
				       "ChangeKey=\"AQAAABYAAAA=\"/>", fid);
	}
	if (want & P_CLASS)
		g_string_append(out, "<t:ItemClass>IPM.Note</t:ItemClass>");
	if (buf && (want & P_SUBJECT)) {
		g_autofree char *subj = header_text(buf, "Subject");
		write_text(out, "Subject", subj);
	}
	if (want & P_RECEIVED)
		write_date(out, "DateTimeReceived", it->date);
	if (want & P_SIZE)
		g_string_append_printf(out, "<t:Size>%" PRIu64 "</t:Size>",
				       it->size);
	if (want & P_DRAFT)
		g_string_append_printf(out, "<t:IsDraft>%s</t:IsDraft>",
				       it->flags & MFS_FLAG_DRAFT ? "true"
								  : "false");
	for (xmlNode *p = ews_first_element(props); p;
	     p = ews_next_element(p))
		if (ews_is(p, EWS_NS_T, "ExtendedFieldURI"))
			ewsd_message_write_ext(call, folder, it, p);
	if (want & P_FLAG)
		g_string_append_printf(out, "<t:Flag><t:FlagStatus>%s"
				       "</t:FlagStatus></t:Flag>",
				       ews_flag_status(it->flags));
	if (buf && (want & P_MSGID)) {
		g_autofree char *mid = header_text(buf, "Message-ID");
		write_text(out, "InternetMessageId", mid);
	}
	if (want & P_READ)
		g_string_append_printf(out, "<t:IsRead>%s</t:IsRead>",
				       it->flags & MFS_FLAG_SEEN ? "true"
								 : "false");
	g_string_append(out, "</t:Message>");
	if (buf)
		g_string_free(buf, TRUE);
}
