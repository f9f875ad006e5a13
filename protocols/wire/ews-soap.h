/*
 * ews-soap.h - the SOAP envelope of Exchange Web Services: reading a request
 * safely and writing the envelope of a response.
 *
 * Specs: SOAP 1.1 (W3C note, 8 May 2000) sections 4 and 4.4 (Fault);
 * [MS-OXWSCORE] and [MS-OXWSCDATA] for the RequestServerVersion and
 * ServerVersionInfo headers and the messages/types namespaces.
 *
 * A request is untrusted bytes from the network: it is parsed with no
 * network access, no entity substitution and no DTD loading, and any
 * document type declaration is refused, so that neither external entities
 * nor entity expansion can make the server read files or grow without
 * bound.  Bodies larger than EWS_BODY_MAX are refused before parsing.
 *
 * Ownership: results through _r parameters belong to the caller; nodes
 * returned by accessors are borrowed from their request.
 */
#ifndef MFS_EWS_SOAP_H
#define MFS_EWS_SOAP_H

#include <glib.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#define EWS_NS_SOAP "http://schemas.xmlsoap.org/soap/envelope/"
#define EWS_NS_M "http://schemas.microsoft.com/exchange/services/2006/messages"
#define EWS_NS_T "http://schemas.microsoft.com/exchange/services/2006/types"
#define EWS_NS_E "http://schemas.microsoft.com/exchange/services/2006/errors"

/* The largest request body taken. */
#define EWS_BODY_MAX (16u * 1024 * 1024)

struct ews_request {
	xmlDoc *doc;		/* owned */
	xmlNode *op;		/* borrowed from doc: the element in Body */
	char *version;		/* owned; RequestServerVersion's Version,
				   NULL when the header is absent */
};

/*
 * Parse a request body.  Returns 0 with *req_r (caller owns,
 * ews_request_free), -EMSGSIZE for a body over EWS_BODY_MAX, -EPERM for
 * a document type declaration, -EINVAL for anything that is not a SOAP
 * envelope with one element in its Body.
 */
int ews_request_parse(const char *buf, size_t len, struct ews_request **req_r);
void ews_request_free(struct ews_request **req);

/*
 * The safe reading both sides share: `buf` parsed with no network, no
 * entity substitution and no DTD, refused with -EPERM when it declares a
 * document type, -EMSGSIZE past `max` bytes, -EINVAL when it is not
 * well-formed.  `huge` lifts libxml2's own limit on one text node (a
 * message's MimeContent), `max` still bounding the whole.  Returns 0 with
 * *doc_r (caller owns, xmlFreeDoc).
 */
int ews_xml_read(const char *buf, size_t len, size_t max, bool huge,
		 xmlDoc **doc_r);

/* The operation's local name ("GetFolder"); borrowed from `req`. */
const char *ews_request_op(const struct ews_request *req);

/* First element child of `parent` named `name` in namespace `ns`, or
 * NULL; borrowed from the parent's document. */
xmlNode *ews_child(const xmlNode *parent, const char *ns, const char *name);

/* Next element sibling after `node` (any name), or NULL. */
xmlNode *ews_next_element(const xmlNode *node);

/* First element child, or NULL. */
xmlNode *ews_first_element(const xmlNode *parent);

/* The attribute `name` (no namespace) of `node`, or NULL.  Caller owns
 * the result (g_free). */
char *ews_attr(const xmlNode *node, const char *name);

/* Whether `node` is the element `name` in namespace `ns`. */
gboolean ews_is(const xmlNode *node, const char *ns, const char *name);

/*
 * Response writing.  ews_response_begin() starts a response document in
 * a new GString (caller owns): the envelope, the ServerVersionInfo header
 * and the opening of Body; ews_response_end() closes them.  Elements in
 * between use the prefixes m: (messages) and t: (types), both declared on
 * the envelope.
 */
GString *ews_response_begin(void);
void ews_response_end(GString *out);

/* A whole SOAP Fault document carrying an EWS ResponseCode (for example
 * "ErrorInvalidRequest") in its detail.  Caller owns the result. */
GString *ews_fault(const char *fault_code, const char *response_code,
		   const char *text);

/* Append `text` to `out` escaped for element content and attribute
 * values.  The one place text meets the XML of either side, so it also
 * makes the text something XML 1.0 (2.2, Char) can hold: bytes that are
 * not UTF-8 (a surrogate encoded on its own, CESU-8, among them) become
 * U+FFFD, and the characters XML forbids (the C0 controls but tab, LF
 * and CR; U+FFFE and U+FFFF) are dropped.  A CR stays, as a parser will
 * read it: as a line break. */
void ews_escape(GString *out, const char *text);

/* Whether XML 1.0 allows code point `c` in a document (2.2, Char). */
bool ews_xml_char(gunichar c);

#endif
