/*
 * response.c - reading the server's answers: the envelope, the
 * response messages and their codes.
 *
 * Specs: SOAP 1.1 section 4.4 (Fault); [MS-OXWSCDATA] 2.2.4.x
 * (ResponseMessageType, ResponseClassType, ResponseCodeType) and 2.2.3.x
 * (ServerVersionInfo); [MS-OXWSCORE] 2.2.4 for the MessageXml carrying
 * BackOffMilliseconds.
 *
 * The bytes are untrusted: they go through ews_xml_read() (soap.c), the
 * same safe reader as the server's requests, with EWS_RESPONSE_MAX as the
 * bound.  Nothing here trusts the shape of the tree: every lookup may
 * find nothing.  The server's words (codes, MessageText, faultstring, its
 * version) leave here in their printable form (printable.h): XML keeps
 * out most control bytes but not newlines or the C1 controls.
 */
#include "ewsc-private.h"

#include <errno.h>
#include <string.h>

#include "printable.h"

/* The printable form of `s` in `to` (`size` bytes), cut at a whole
 * character or escape. */
static void copy_printable(char *to, size_t size, const char *s)
{
	GString *p = g_string_sized_new(size);

	printable_append(p, s, -1, size - 1);
	g_strlcpy(to, p->str, size);
	g_string_free(p, TRUE);
}

static const struct {
	const char *code;
	int rc;
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;
} codes[] = {
	{ "NoError", 0, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorItemNotFound", -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorInvalidIdMalformed", -ENOENT, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorInvalidIdNotAnItemAttachmentId", -ENOENT, MFS_ERR_ITEM,
	  MFS_ERR_FINAL },
	{ "ErrorFolderNotFound", -ENOENT, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "ErrorInvalidSyncStateData", -ESTALE, MFS_ERR_FOLDER,
	  MFS_ERR_FINAL },
	{ "ErrorServerBusy", -EAGAIN, MFS_ERR_ACCOUNT, MFS_ERR_BACKOFF },
	{ "ErrorTooManyObjectsOpened", -EAGAIN, MFS_ERR_ACCOUNT,
	  MFS_ERR_BACKOFF },
	{ "ErrorInternalServerTransientError", -EAGAIN, MFS_ERR_ACCOUNT,
	  MFS_ERR_TRANSIENT },
	{ "ErrorMailboxStoreUnavailable", -EAGAIN, MFS_ERR_ACCOUNT,
	  MFS_ERR_TRANSIENT },
	{ "ErrorMailboxMoveInProgress", -EAGAIN, MFS_ERR_ACCOUNT,
	  MFS_ERR_BACKOFF },
	{ "ErrorTimeoutExpired", -ETIMEDOUT, MFS_ERR_ACCOUNT,
	  MFS_ERR_TRANSIENT },
	{ "ErrorConnectionFailed", -EIO, MFS_ERR_ACCOUNT, MFS_ERR_TRANSIENT },
	{ "ErrorInternalServerError", -EIO, MFS_ERR_ITEM, MFS_ERR_TRANSIENT },
	{ "ErrorIrresolvableConflict", -EAGAIN, MFS_ERR_ITEM,
	  MFS_ERR_TRANSIENT },
	{ "ErrorAccessDenied", -EACCES, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorInvalidRequest", -EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorSchemaValidation", -EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorInvalidPropertySet", -EINVAL, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorQuotaExceeded", -EDQUOT, MFS_ERR_ACCOUNT, MFS_ERR_FINAL },
	{ "ErrorMessageSizeExceeded", -EFBIG, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorFolderExists", -EEXIST, MFS_ERR_FOLDER, MFS_ERR_FINAL },
	{ "ErrorDeleteDistinguishedFolder", -EPERM, MFS_ERR_FOLDER,
	  MFS_ERR_FINAL },
	{ "ErrorCannotDeleteObject", -EPERM, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorMoveDistinguishedFolder", -EPERM, MFS_ERR_FOLDER,
	  MFS_ERR_FINAL },
	{ "ErrorMoveCopyFailed", -EIO, MFS_ERR_ITEM, MFS_ERR_TRANSIENT },
	{ "ErrorCorruptData", -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL },
	{ "ErrorNotEnoughMemory", -EAGAIN, MFS_ERR_ACCOUNT,
	  MFS_ERR_BACKOFF },
};

int ewsc_code_to_errno(const char *code, enum mfs_err_scope *scope_r,
		      enum mfs_err_retry *retry_r)
{
	*scope_r = MFS_ERR_ITEM;
	*retry_r = MFS_ERR_FINAL;
	for (size_t i = 0; code && i < G_N_ELEMENTS(codes); i++) {
		if (strcmp(codes[i].code, code) == 0) {
			*scope_r = codes[i].scope;
			*retry_r = codes[i].retry;
			return codes[i].rc;
		}
	}
	return -EIO;
}

xmlNode *ewsc_find(const xmlNode *node, const char *name)
{
	/* the recursion is as deep as the document, which libxml2 caps
	 * (2048 levels with XML_PARSE_HUGE): a bounded stack */
	for (xmlNode *n = ews_first_element(node); n; n = ews_next_element(n)) {
		if (strcmp((const char *)n->name, name) == 0)
			return n;
		xmlNode *deeper = ewsc_find(n, name);
		if (deeper)
			return deeper;
	}
	return NULL;
}

char *ewsc_text(const xmlNode *node, const char *name)
{
	xmlNode *n = ews_child(node, EWS_NS_T, name);

	if (!n)
		n = ews_child(node, EWS_NS_M, name);
	if (!n)
		return NULL;
	xmlChar *v = xmlNodeGetContent(n);
	char *copy = g_strdup(v ? (const char *)v : "");
	xmlFree(v);
	return copy;
}

static unsigned backoff_of(const xmlNode *parent)
{
	xmlNode *xml = ewsc_find(parent, "MessageXml");

	for (xmlNode *v = ews_first_element(xml); v; v = ews_next_element(v)) {
		g_autofree char *name = ews_attr(v, "Name");
		if (!name || strcmp(name, "BackOffMilliseconds"))
			continue;
		xmlChar *t = xmlNodeGetContent(v);
		guint64 ms = 0;
		if (t && !g_ascii_string_to_unsigned((const char *)t, 10, 0,
						     G_MAXUINT32, &ms, NULL))
			ms = 0;
		xmlFree(t);
		return (unsigned)ms;
	}
	return 0;
}

void ewsc_status_of(const xmlNode *msg, struct ewsc_status *st)
{
	g_autofree char *klass = ews_attr(msg, "ResponseClass");
	g_autofree char *code = ewsc_text(msg, "ResponseCode");
	g_autofree char *text = ewsc_text(msg, "MessageText");
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;

	memset(st, 0, sizeof(*st));
	copy_printable(st->code, sizeof(st->code), code ? code : "");
	copy_printable(st->text, sizeof(st->text), text ? text : "");
	if (klass && strcmp(klass, "Error") != 0 &&
	    (!code || strcmp(code, "NoError") == 0))
		return;		/* Success, or a Warning that did the work */
	if (!klass && code && strcmp(code, "NoError") == 0)
		return;
	st->rc = ewsc_code_to_errno(code, &scope, &retry);
	if (st->rc == 0)
		st->rc = -EIO;	/* Error with NoError: still an error */
	if (!code)
		g_strlcpy(st->code, "no ResponseCode", sizeof(st->code));
	st->backoff_ms = backoff_of(msg);
}

int ewsc_status_error(const struct ewsc_status *st, const char *op,
		      const char *folder, struct mfs_error *e)
{
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;

	ewsc_code_to_errno(st->code, &scope, &retry);
	if (!folder)
		return mfs_error_set(e, st->rc, scope, retry, "%s: %s %s", op,
				     st->code, st->text);
	return mfs_error_set(e, st->rc, scope, retry, "%s in %s: %s %s", op,
			     folder, st->code, st->text);
}

void ewsc_response_free(struct ewsc_response **res)
{
	if (!*res)
		return;
	xmlFreeDoc((*res)->doc);
	if ((*res)->msgs)
		g_ptr_array_unref((*res)->msgs);
	g_free((*res)->version);
	g_free(*res);
	*res = NULL;
}

/* A Fault: its ResponseCode (detail) or faultstring as the error. */
static int fault(xmlNode *f, struct mfs_error *e)
{
	xmlNode *detail = ews_first_element(f);
	g_autofree char *code = NULL;
	g_autofree char *text = NULL;
	enum mfs_err_scope scope;
	enum mfs_err_retry retry;

	for (; detail; detail = ews_next_element(detail)) {
		if (strcmp((const char *)detail->name, "detail") == 0)
			break;
	}
	xmlNode *rc_node = detail ? ewsc_find(detail, "ResponseCode") : NULL;
	if (rc_node) {
		xmlChar *v = xmlNodeGetContent(rc_node);
		char cut[64];
		copy_printable(cut, sizeof(cut), v ? (const char *)v : "");
		code = g_strdup(cut);
		xmlFree(v);
	}
	for (xmlNode *n = ews_first_element(f); n; n = ews_next_element(n)) {
		if (strcmp((const char *)n->name, "faultstring") == 0) {
			xmlChar *v = xmlNodeGetContent(n);
			char cut[160];
			copy_printable(cut, sizeof(cut),
				       v ? (const char *)v : "");
			g_free(text);
			text = g_strdup(cut);
			xmlFree(v);
		}
	}
	int rc = ewsc_code_to_errno(code, &scope, &retry);
	if (rc == 0)
		rc = -EIO;
	if (!code)
		scope = MFS_ERR_ACCOUNT;
	return mfs_error_set(e, rc, scope, retry, "SOAP fault %s: %s",
			     code ? code : "(no code)", text ? text : "");
}

int ewsc_response_parse(const char *buf, size_t len,
		       struct ewsc_response **res_r, struct mfs_error *e)
{
	xmlDoc *doc = NULL;
	int rc = ews_xml_read(buf, len, EWS_RESPONSE_MAX, true, &doc);

	if (rc == -EPERM)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "the server's answer "
				     "declares a document type (refused)");
	if (rc == -EMSGSIZE)
		return mfs_error_set(e, rc, MFS_ERR_ITEM, MFS_ERR_FINAL,
				     "the server's answer is larger than %u "
				     "bytes", EWS_RESPONSE_MAX);
	if (rc < 0)
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "the server's answer "
				     "is not well-formed XML");
	xmlNode *env = xmlDocGetRootElement(doc);
	xmlNode *body = ews_is(env, EWS_NS_SOAP, "Envelope")
		? ews_child(env, EWS_NS_SOAP, "Body") : NULL;
	xmlNode *op = ews_first_element(body);
	if (!op) {
		xmlFreeDoc(doc);
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "the server's answer "
				     "is not a SOAP envelope");
	}
	if (ews_is(op, EWS_NS_SOAP, "Fault")) {
		rc = fault(op, e);
		xmlFreeDoc(doc);
		return rc;
	}
	struct ewsc_response *res = g_new0(struct ewsc_response, 1);
	res->doc = doc;
	res->op = op;
	res->msgs = g_ptr_array_new();
	xmlNode *header = ews_child(env, EWS_NS_SOAP, "Header");
	xmlNode *svi = ews_child(header, EWS_NS_T, "ServerVersionInfo");
	if (svi) {
		g_autofree char *version = ews_attr(svi, "Version");
		if (version) {
			char cut[64];
			copy_printable(cut, sizeof(cut), version);
			res->version = g_strdup(cut);
		}
	}
	xmlNode *msgs = ews_child(op, EWS_NS_M, "ResponseMessages");
	for (xmlNode *m = ews_first_element(msgs); m; m = ews_next_element(m))
		g_ptr_array_add(res->msgs, m);
	*res_r = res;
	return 0;
}
