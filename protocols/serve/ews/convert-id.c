/*
 * convert-id.c - ConvertId: an id of this server in the forms a client
 * may ask for, with the address of the mailbox it belongs to.
 *
 * Specs: [MS-OXWSCOS] 3.1.4.1 (ConvertId), [MS-OXWSCDATA] 2.2.3.x
 * (IdFormatType: EwsLegacyId, EwsId, EntryId, HexEntryId, StoreId,
 * OwaId; AlternateIdType), 2.2.4 (ResponseCodeType).
 *
 * This server's ids (folders.c, itemid.c) are base64 of a few bytes that
 * begin "mfs" and a kind letter.  There is one store and no legacy form,
 * so every base64 format (EwsId, EwsLegacyId, EntryId, StoreId, OwaId)
 * is that same string and HexEntryId is its bytes in hexadecimal; each
 * converts back.  The Mailbox of an answer is the logged-in user's
 * address whatever the request named: DavMail sends a made-up address
 * and learns the real one from the answer, as Exchange gives it.
 */
#include <string.h>

#include "log.h"
#include "ewsd-private.h"

/* Longest source id taken, in characters. */
#define ID_MAX 4096

enum fmt { F_BASE64, F_HEX, F_BAD };

static enum fmt format_of(const char *name)
{
	static const char *const b64[] = { "EwsId", "EwsLegacyId", "EntryId",
					   "StoreId", "OwaId" };

	if (!name)
		return F_BAD;
	for (size_t i = 0; i < G_N_ELEMENTS(b64); i++)
		if (!strcmp(name, b64[i]))
			return F_BASE64;
	return strcmp(name, "HexEntryId") ? F_BAD : F_HEX;
}

/* The bytes of `id` written in format `f`, if they are an id of this
 * server.  Caller owns the result; NULL when they are not. */
static GBytes *id_bytes(const char *id, enum fmt f)
{
	size_t n = id ? strlen(id) : 0;
	guchar *raw = NULL;
	gsize len = 0;

	if (!n || n > ID_MAX)
		return NULL;
	if (f == F_HEX) {
		if (n % 2 || strspn(id, "0123456789abcdefABCDEF") != n)
			return NULL;
		len = n / 2;
		raw = g_malloc(len);
		for (size_t i = 0; i < len; i++)
			raw[i] = (guchar)(g_ascii_xdigit_value(id[2 * i]) << 4 |
					  g_ascii_xdigit_value(id[2 * i + 1]));
	} else {
		if (n % 4 || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
				    "klmnopqrstuvwxyz0123456789+/=") != n)
			return NULL;
		raw = g_base64_decode(id, &len);
	}
	if (len < 5 || memcmp(raw, "mfs", 3) || !strchr("RFI", raw[3]) ||
	    raw[4] != ':' || memchr(raw, 0, len) ||
	    !g_utf8_validate((const char *)raw, (gssize)len, NULL)) {
		g_free(raw);
		return NULL;
	}
	return g_bytes_new_take(raw, len);
}

static char *id_text(GBytes *b, enum fmt f)
{
	gsize len;
	const guchar *raw = g_bytes_get_data(b, &len);
	GString *hex;

	if (f == F_BASE64)
		return g_base64_encode(raw, len);
	hex = g_string_sized_new(2 * len);
	for (gsize i = 0; i < len; i++)
		g_string_append_printf(hex, "%02X", raw[i]);
	return g_string_free(hex, FALSE);
}

/* The address of the logged-in user's mailbox.  Caller owns it. */
char *ewsd_mailbox_address(const struct ewsd_call *call)
{
	const char *user = call->user ? call->user : "";

	if (strchr(user, '@'))
		return g_strdup(user);
	return g_strdup_printf("%s@%s", user, call->ctx->hostname ?
			       call->ctx->hostname : "localhost");
}

static void convert_one(struct ewsd_call *call, const xmlNode *src,
			enum fmt to, const char *to_name, const char *mailbox)
{
	g_autofree char *from = ews_attr(src, "Format");
	g_autofree char *id = ews_attr(src, "Id");
	g_autoptr(GBytes) b = NULL;
	g_autofree char *out = NULL;

	if (!ews_is(src, EWS_NS_T, "AlternateId")) {
		/* public folders are not kept by this server */
		ewsd_error_message(call->out, "ConvertId",
				   "ErrorInvalidIdMalformed",
				   "Only ids of the mailbox can be converted.");
		return;
	}
	if (format_of(from) == F_BAD || to == F_BAD) {
		ewsd_error_message(call->out, "ConvertId", "ErrorInvalidRequest",
				   "The id format is not one of EwsId, "
				   "EwsLegacyId, EntryId, HexEntryId, StoreId, "
				   "OwaId.");
		return;
	}
	b = id_bytes(id, format_of(from));
	if (!b) {
		ewsd_error_message(call->out, "ConvertId",
				   "ErrorInvalidIdMalformed", "Id is malformed.");
		return;
	}
	out = id_text(b, to);
	g_string_append(call->out, "<m:ConvertIdResponseMessage ResponseClass="
			"\"Success\"><m:ResponseCode>NoError</m:ResponseCode>"
			"<m:AlternateId xmlns:xsi=\"http://www.w3.org/2001/"
			"XMLSchema-instance\" xsi:type=\"t:AlternateIdType\" "
			"Format=\"");
	ews_escape(call->out, to_name);
	g_string_append(call->out, "\" Id=\"");
	ews_escape(call->out, out);
	g_string_append(call->out, "\" Mailbox=\"");
	ews_escape(call->out, mailbox);
	g_string_append(call->out, "\"/></m:ConvertIdResponseMessage>");
}

int ewsd_op_convert_id(struct ewsd_call *call)
{
	const xmlNode *op = call->req->op;
	xmlNode *ids = ews_child(op, EWS_NS_M, "SourceIds");
	g_autofree char *to_name = ews_attr(op, "DestinationFormat");
	g_autofree char *mailbox = ewsd_mailbox_address(call);
	enum fmt to = format_of(to_name);
	unsigned n = 0;

	g_string_append(call->out, "<m:ConvertIdResponse><m:ResponseMessages>");
	for (xmlNode *i = ews_first_element(ids); i; i = ews_next_element(i)) {
		convert_one(call, i, to, to_name ? to_name : "", mailbox);
		n++;
	}
	if (!n)
		ewsd_error_message(call->out, "ConvertId", "ErrorInvalidRequest",
				  "No ids to convert.");
	g_string_append(call->out, "</m:ResponseMessages></m:ConvertIdResponse>");
	return 0;
}
