/*
 * mime.c - GetItem: items' MimeContent and properties, many ids per
 * request.
 *
 * Specs: [MS-OXWSCORE] 3.1.4.4 (GetItem), 2.2.4.x (MimeContentType:
 * base64 of the RFC 5322 message).  The server answers one
 * GetItemResponseMessage per ItemId, in the order asked.
 */
#include "ewsc-private.h"

#include <errno.h>
#include <string.h>

int ewsc_mime_decode(const xmlNode *mime, guchar **buf_r, size_t *len_r)
{
	xmlChar *text = xmlNodeGetContent(mime);
	size_t tlen = text ? strlen((const char *)text) : 0;
	int rc = 0;

	/* g_base64_decode skips what is not base64; a garbled answer must
	 * be an error, not a shorter message */
	for (size_t i = 0; i < tlen && rc == 0; i++) {
		unsigned char c = text[i];
		if (!g_ascii_isalnum(c) && c != '+' && c != '/' && c != '=' &&
		    !g_ascii_isspace(c))
			rc = -EBADMSG;
	}
	if (rc == 0 && tlen / 4 * 3 > EWS_MIME_MAX + 3)
		rc = -EFBIG;
	if (rc < 0) {
		xmlFree(text);
		return rc;
	}
	guchar *buf = g_malloc(tlen / 4 * 3 + 4);
	gint state = 0;
	guint save = 0;
	size_t len = g_base64_decode_step((const char *)text, tlen, buf,
					  &state, &save);
	xmlFree(text);
	if (state != 0) {
		/* a length that is not a whole number of quanta */
		g_free(buf);
		return -EBADMSG;
	}
	*buf_r = buf;
	*len_r = len;
	return 0;
}

static GString *request(const char *const *ids, size_t n, bool mime,
			bool props)
{
	GString *req = ewsc_req_begin();

	g_string_append(req, "<m:GetItem><m:ItemShape>"
			"<t:BaseShape>IdOnly</t:BaseShape>");
	if (mime)
		g_string_append(req, "<t:IncludeMimeContent>true"
				"</t:IncludeMimeContent>");
	if (props)
		ewsc_req_item_props(req);
	g_string_append(req, "</m:ItemShape><m:ItemIds>");
	for (size_t i = 0; i < n; i++)
		ewsc_req_id(req, "t:ItemId", ids[i]);
	g_string_append(req, "</m:ItemIds></m:GetItem>");
	ewsc_req_end(req);
	return req;
}

int ewsc_get_items(struct mfs_backend *be, const char *const *item_ids,
		  size_t n, bool mime, bool props, int *rcs, ewsc_item_fn got,
		  void *data, struct mfs_error *e)
{
	struct ewsc_response *res = NULL;
	GString *req;
	int rc;

	if (n == 0)
		return 0;
	req = request(item_ids, n, mime, props);
	rc = ewsc_call(be, "GetItem", req, &res, e);
	g_string_free(req, TRUE);
	if (rc < 0)
		return rc;
	if (res->msgs->len != n) {
		guint got_n = res->msgs->len;
		ewsc_response_free(&res);
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "GetItem: %zu items "
				     "asked, %u answers", n, got_n);
	}
	for (size_t i = 0; i < n; i++) {
		xmlNode *m = res->msgs->pdata[i];
		struct ewsc_status st;
		guchar *buf = NULL;
		size_t len = 0;

		ewsc_status_of(m, &st);
		xmlNode *items = ews_child(m, EWS_NS_M, "Items");
		xmlNode *msg = ews_first_element(items);
		if (st.rc == 0 && !msg)
			st.rc = -EPROTO;
		if (st.rc == 0 && mime) {
			xmlNode *mc = ews_child(msg, EWS_NS_T, "MimeContent");
			st.rc = mc ? ewsc_mime_decode(mc, &buf, &len) : -EPROTO;
		}
		if (rcs)
			rcs[i] = st.rc;
		if (st.rc == 0)
			got(i, buf, len, msg, data);
		else if (e && st.rc != -ENOENT)
			mfs_error_set(e, st.rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				      "GetItem: %s %s", st.code,
				      st.rc == -EFBIG ? "(message too large)"
				      : st.rc == -EBADMSG ? "(garbled content)"
				      : st.text);
		g_free(buf);
	}
	ewsc_response_free(&res);
	return 0;
}
