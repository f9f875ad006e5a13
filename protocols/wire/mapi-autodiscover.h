/*
 * mapi-autodiscover.h - the POX Autodiscover of MS-OXDSCLI as MAPI over
 * HTTP uses it: the request a client POSTs to /Autodiscover/Autodiscover.xml
 * (2.2.3, schema "requestschema/2006") and the response (2.2.4, schema
 * "responseschema/2006a"): the user's names, the MAPI/HTTP endpoints of
 * the mapiHttp Protocol element (2.2.4.1.1.2.6), the EXCH and EXPR
 * server names, redirects and errors.  Both sides: a client writes
 * requests and reads responses, the server reads requests and writes
 * responses.
 *
 * XML is read as protocols/wire/ews-soap.h reads it: no network, no DTD,
 * no entity substitution, any document type declaration refused, and
 * bodies over MAPI_AUTODISCOVER_BODY_MAX refused before parsing.  No I/O.
 *
 * Ownership: the strings of a request or response belong to it and are
 * freed by its _clear(); results through _r parameters belong to the
 * caller.
 */
#ifndef MFS_MAPI_AUTODISCOVER_H
#define MFS_MAPI_AUTODISCOVER_H

#include <stddef.h>

#define MAPI_AUTODISCOVER_NS_REQUEST \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
#define MAPI_AUTODISCOVER_NS_RESPONSE \
	"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define MAPI_AUTODISCOVER_NS_OUTLOOK \
	"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"

/* The request header by which a client says it speaks MAPI over HTTP
 * (MS-OXDSCLI 2.2.2.1, 3.1.4), and the version it sends. */
#define MAPI_AUTODISCOVER_CAP_HEADER	"X-MapiHttpCapability"
#define MAPI_AUTODISCOVER_CAP_VERSION	"1"

#define MAPI_AUTODISCOVER_PATH		"/Autodiscover/Autodiscover.xml"

/* The largest request or response body read. */
#define MAPI_AUTODISCOVER_BODY_MAX	(1024u * 1024)

struct mapi_autodiscover_request {
	char *email;		/* EMailAddress, or NULL */
	char *legacy_dn;	/* LegacyDN, or NULL */
	char *schema;		/* AcceptableResponseSchema, or NULL */
};

enum mapi_autodiscover_kind {
	MAPI_AUTODISCOVER_SETTINGS,	/* Action "settings" */
	MAPI_AUTODISCOVER_REDIRECT_ADDR,	/* ask again for `redirect` */
	MAPI_AUTODISCOVER_REDIRECT_URL,	/* ask `redirect` instead */
	MAPI_AUTODISCOVER_ERROR,	/* an Error element */
};

/* Every string is NULL when its element is absent. */
struct mapi_autodiscover_response {
	enum mapi_autodiscover_kind kind;
	/* User */
	char *smtp_address;	/* AutoDiscoverSMTPAddress */
	char *display_name;
	char *legacy_dn;
	char *deployment_id;
	/* Protocol Type="mapiHttp" */
	char *mailstore_internal;
	char *mailstore_external;
	char *addressbook_internal;
	char *addressbook_external;
	/* Protocol Type EXCH and EXPR */
	char *exch_server;
	char *exch_server_dn;
	char *exch_mdb_dn;
	char *expr_server;
	/* redirects: RedirectAddr or RedirectUrl */
	char *redirect;
	/* Error */
	char *error_code;	/* ErrorCode, e.g. "500" */
	char *error_message;	/* Message */
	char *error_time;	/* the Time attribute */
	char *error_id;		/* the Id attribute */
};

/*
 * The body of a client's request for `email`.  Caller owns the result
 * (g_free); *len_r, when not NULL, gets its length.
 */
char *mapi_autodiscover_request_write(const char *email, size_t *len_r);

/*
 * Read a request body.  Returns 0 with *req filled (clear it with
 * mapi_autodiscover_request_clear), -EMSGSIZE over
 * MAPI_AUTODISCOVER_BODY_MAX, -EPERM for a document type declaration,
 * -EINVAL for anything else that is not an Autodiscover request naming
 * an address or a LegacyDN.
 */
int mapi_autodiscover_request_read(const char *buf, size_t len,
				   struct mapi_autodiscover_request *req);
void mapi_autodiscover_request_clear(struct mapi_autodiscover_request *req);

/*
 * Read a response body.  Returns 0 with *resp filled (clear it with
 * mapi_autodiscover_response_clear), or the errors of
 * mapi_autodiscover_request_read(); -EPROTO for an Account whose Action
 * is none of settings, redirectAddr, redirectUrl, or a redirect without
 * its target.
 */
int mapi_autodiscover_response_read(const char *buf, size_t len,
				    struct mapi_autodiscover_response *resp);
void mapi_autodiscover_response_clear(struct mapi_autodiscover_response *resp);

/*
 * The body of a response: what `resp` holds, as its kind says.  For
 * settings, the mapiHttp Protocol is written when a MailStore or
 * AddressBook URL is set, EXCH when exch_server is, EXPR when expr_server
 * is.  Caller owns the result (g_free); *len_r, when not NULL, gets its
 * length.
 */
char *mapi_autodiscover_response_write(
	const struct mapi_autodiscover_response *resp, size_t *len_r);

#endif
