/*
 * ews-soap.c - reading EWS requests and writing the envelope of responses.
 *
 * Specs: SOAP 1.1 (W3C note, 8 May 2000) sections 4 (envelope) and 4.4
 * (Fault); [MS-OXWSCDATA] 2.2.3.x (RequestServerVersion,
 * ServerVersionInfo); [MS-OXWSCORE] for the namespaces of messages and
 * types.
 */
#include "ews-soap.h"

#include <errno.h>
#include <libxml/parser.h>
#include <limits.h>
#include <string.h>

/* The server claims Exchange 2016 CU 3: exchangelib and other clients pick
 * the request schema from it. */
#define SERVER_VERSION_HEADER \
	"<h:ServerVersionInfo xmlns:h=\"" EWS_NS_T "\" MajorVersion=\"15\"" \
	" MinorVersion=\"1\" MajorBuildNumber=\"2507\"" \
	" MinorBuildNumber=\"6\" Version=\"V2017_07_11\"/>"

/* libxml2 reports some failures (bytes its declared encoding cannot
 * convert, I/O of the input buffer) through its generic error handler,
 * which XML_PARSE_NOERROR does not reach and which prints to stderr by
 * default.  A peer's bad bytes are answered with an error code; they are
 * never written where stderr goes. */
static void quiet(void *unused, const char *fmt, ...)
{
	(void)unused;
	(void)fmt;
}

static gpointer init_once(gpointer unused)
{
	xmlInitParser();
	/* for threads started from now on */
	xmlThrDefSetGenericErrorFunc(NULL, quiet);
	return NULL;
}

gboolean ews_is(const xmlNode *node, const char *ns, const char *name)
{
	return node && node->type == XML_ELEMENT_NODE && node->ns &&
	       node->ns->href &&
	       strcmp((const char *)node->ns->href, ns) == 0 &&
	       strcmp((const char *)node->name, name) == 0;
}

xmlNode *ews_next_element(const xmlNode *node)
{
	for (xmlNode *n = node ? node->next : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

xmlNode *ews_first_element(const xmlNode *parent)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

xmlNode *ews_child(const xmlNode *parent, const char *ns, const char *name)
{
	for (xmlNode *n = ews_first_element(parent); n; n = ews_next_element(n))
		if (ews_is(n, ns, name))
			return n;
	return NULL;
}

char *ews_attr(const xmlNode *node, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	char *copy;

	if (!v)
		return NULL;
	copy = g_strdup((const char *)v);
	xmlFree(v);
	return copy;
}

const char *ews_request_op(const struct ews_request *req)
{
	return (const char *)req->op->name;
}

void ews_request_free(struct ews_request **req)
{
	if (!*req)
		return;
	xmlFreeDoc((*req)->doc);
	g_free((*req)->version);
	g_free(*req);
	*req = NULL;
}

int ews_xml_read(const char *buf, size_t len, size_t max, bool huge,
		 xmlDoc **doc_r)
{
	static GOnce once = G_ONCE_INIT;
	/* no NOENT (entities stay references), no DTDLOAD or DTDATTR (no
	 * file or URL is ever read), NONET as a second fence */
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
	xmlDoc *doc;

	if (len > max || len > INT_MAX)
		return -EMSGSIZE;
	if (len == 0)
		return -EINVAL;
	/* refused before parsing so that no entity is even declared; the
	 * check after parsing catches encodings this one cannot see */
	if (memmem(buf, len, "<!DOCTYPE", 9))
		return -EPERM;
#ifdef XML_PARSE_NO_XXE
	opts |= XML_PARSE_NO_XXE;
#endif
	/* a message's base64 may be longer than libxml2's 10 MB text node
	 * limit; `max` bounds it instead, and with no DTD no entity can
	 * amplify it */
	if (huge)
		opts |= XML_PARSE_HUGE;
	g_once(&once, init_once, NULL);
	/* the handler is kept per thread, and this one may predate it */
	xmlSetGenericErrorFunc(NULL, quiet);
	doc = xmlReadMemory(buf, (int)len, "ews.xml", NULL, opts);
	if (!doc)
		return -EINVAL;
	if (doc->intSubset || doc->extSubset) {
		xmlFreeDoc(doc);
		return -EPERM;
	}
	*doc_r = doc;
	return 0;
}

int ews_request_parse(const char *buf, size_t len, struct ews_request **req_r)
{
	xmlDoc *doc = NULL;
	xmlNode *env, *body, *header, *op;
	struct ews_request *req;
	int rc = ews_xml_read(buf, len, EWS_BODY_MAX, false, &doc);

	if (rc < 0)
		return rc;
	env = xmlDocGetRootElement(doc);
	body = ews_is(env, EWS_NS_SOAP, "Envelope")
		? ews_child(env, EWS_NS_SOAP, "Body") : NULL;
	op = ews_first_element(body);
	if (!op || !op->ns || ews_next_element(op)) {
		xmlFreeDoc(doc);
		return -EINVAL;
	}
	req = g_new0(struct ews_request, 1);
	req->doc = doc;
	req->op = op;
	header = ews_child(env, EWS_NS_SOAP, "Header");
	xmlNode *rsv = ews_child(header, EWS_NS_T, "RequestServerVersion");
	if (rsv)
		req->version = ews_attr(rsv, "Version");
	*req_r = req;
	return 0;
}

bool ews_xml_char(gunichar c)
{
	return c == 0x9 || c == 0xa || c == 0xd ||
	       (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
	       (c >= 0x10000 && c <= 0x10ffff);
}

/* Not g_markup_escape_text(): it writes a C0 control as a character
 * reference (&#x1;), which XML 1.0 forbids as much as the byte itself,
 * and lets U+FFFE and U+FFFF through; a peer's parser then refuses the
 * whole document.  Dropping such a character loses nothing a reader of
 * the card or event could see, where U+FFFD would show a mark in its
 * place; bytes that are not UTF-8 were meant as some character, and
 * the mark says one was there. */
void ews_escape(GString *out, const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text, -1);

	for (const char *s = valid; *s; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);

		switch (c) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			g_string_append(out, "&apos;");
			break;
		default:
			if (ews_xml_char(c))
				g_string_append_len(out, s,
						    g_utf8_next_char(s) - s);
		}
	}
}

static GString *envelope_begin(void)
{
	GString *out = g_string_sized_new(4096);

	g_string_append(out,
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<s:Envelope xmlns:s=\"" EWS_NS_SOAP "\""
		" xmlns:m=\"" EWS_NS_M "\" xmlns:t=\"" EWS_NS_T "\">");
	return out;
}

GString *ews_response_begin(void)
{
	GString *out = envelope_begin();

	g_string_append(out, "<s:Header>" SERVER_VERSION_HEADER
			"</s:Header><s:Body>");
	return out;
}

void ews_response_end(GString *out)
{
	g_string_append(out, "</s:Body></s:Envelope>\n");
}

GString *ews_fault(const char *fault_code, const char *response_code,
		   const char *text)
{
	GString *out = envelope_begin();

	g_string_append(out, "<s:Body><s:Fault><faultcode>s:");
	ews_escape(out, fault_code);
	g_string_append(out, "</faultcode><faultstring>");
	ews_escape(out, text);
	g_string_append(out, "</faultstring><detail>"
			"<e:ResponseCode xmlns:e=\"" EWS_NS_E "\">");
	ews_escape(out, response_code);
	g_string_append(out, "</e:ResponseCode><e:Message xmlns:e=\""
			EWS_NS_E "\">");
	ews_escape(out, text);
	g_string_append(out, "</e:Message></detail></s:Fault>");
	ews_response_end(out);
	return out;
}
