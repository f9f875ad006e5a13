/*
 * dav-multistatus.h - reading WebDAV 207 Multi-Status bodies and writing
 * the request bodies a CardDAV/CalDAV client sends.  No I/O.
 *
 * Specs: RFC 4918 (WebDAV: 9.1 PROPFIND, 13 Multi-Status, 14 the XML
 * elements, 15 the DAV properties), RFC 5397 (current-user-principal),
 * RFC 6352 (CardDAV: addressbook-home-set, address-data,
 * addressbook-multiget), RFC 4791 (CalDAV: calendar-home-set,
 * supported-calendar-component-set, calendar-data, calendar-multiget),
 * RFC 6578 (sync-collection, sync-token), RFC 3986 5.2 (resolving an
 * href against the request's URL); getctag is CalendarServer's
 * (http://calendarserver.org/ns/, caldav-ctag-03).
 *
 * Bounds: a body past DAV_BODY_MAX, more than DAV_RESPONSES_MAX
 * responses, an href past DAV_HREF_MAX or a property value past
 * DAV_VALUE_MAX is refused whole; a DOCTYPE is refused before parsing,
 * so that no entity is ever declared (wire/ews-soap.c's reading).
 *
 * Ownership: results through _r parameters belong to the caller; the
 * strings of the structs below are owned by their struct.  Functions
 * that can fail return 0 or -errno.
 */
#ifndef MFS_DAV_MULTISTATUS_H
#define MFS_DAV_MULTISTATUS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define DAV_NS "DAV:"
#define DAV_NS_CARD "urn:ietf:params:xml:ns:carddav"
#define DAV_NS_CAL "urn:ietf:params:xml:ns:caldav"
#define DAV_NS_CS "http://calendarserver.org/ns/"

/* The largest 207 body read (a multiget of many cards fits). */
#define DAV_BODY_MAX (32u * 1024 * 1024)
/* The most <response> elements taken from one body. */
#define DAV_RESPONSES_MAX 50000u
/* The longest href, and the longest value of one property. */
#define DAV_HREF_MAX 4096u
#define DAV_VALUE_MAX (8u * 1024 * 1024)

/* resourcetype bits */
#define DAV_RT_COLLECTION (1u << 0)
#define DAV_RT_ADDRESSBOOK (1u << 1)
#define DAV_RT_CALENDAR (1u << 2)
#define DAV_RT_PRINCIPAL (1u << 3)

/* supported-calendar-component-set bits */
#define DAV_COMP_VEVENT (1u << 0)
#define DAV_COMP_VTODO (1u << 1)
#define DAV_COMP_VJOURNAL (1u << 2)
#define DAV_COMP_OTHER (1u << 3)

/* The properties a request asks for (dav_req_*). */
#define DAV_P_RESOURCETYPE (1u << 0)
#define DAV_P_DISPLAYNAME (1u << 1)
#define DAV_P_GETETAG (1u << 2)
#define DAV_P_GETCONTENTTYPE (1u << 3)
#define DAV_P_GETCONTENTLENGTH (1u << 4)
#define DAV_P_SYNC_TOKEN (1u << 5)
#define DAV_P_GETCTAG (1u << 6)
#define DAV_P_PRINCIPAL (1u << 7)
#define DAV_P_ADDRESSBOOK_HOME (1u << 8)
#define DAV_P_CALENDAR_HOME (1u << 9)
#define DAV_P_COMPONENTS (1u << 10)
#define DAV_P_SUPPORTED_REPORTS (1u << 11)

/* One <response>: its resource and what the server said of it.  Only
 * properties of a propstat whose status is 2xx are filled. */
struct dav_response {
	char *href;			/* absolute path on the request's
					   host, percent-encoded as sent,
					   dot segments refused */
	int status;			/* the response's own <status>
					   (sync-collection: 404 = gone),
					   0 when it has none */
	unsigned props;			/* DAV_P_* of the properties found */
	unsigned rtype;			/* DAV_RT_* */
	unsigned comps;			/* DAV_COMP_* */
	char *displayname;
	char *etag;			/* as sent, quotes included */
	char *content_type;
	int64_t content_length;		/* -1 when not said */
	char *ctag;
	char *sync_token;		/* the property's, of a collection */
	char *principal;		/* resolved href, as `href` */
	char *addressbook_home;		/* resolved href of the first */
	char *calendar_home;		/* resolved href of the first */
	bool sync_report;		/* supported-report-set names
					   sync-collection */
	GBytes *data;			/* address-data or calendar-data,
					   as the XML text gives it */
};

struct dav_multistatus {
	GPtrArray *responses;		/* of struct dav_response *, owned */
	char *sync_token;		/* the multistatus's own (RFC 6578
					   6.2), or NULL */
	bool truncated;			/* a 507 response for the request
					   URI: more changes wait (RFC 6578
					   3.6) */
};

/*
 * Parse a 207 body of a request made to `base_url` (absolute http or
 * https URL).  Every href is resolved against it; one on another scheme,
 * host or port, or with a "." or ".." segment (also percent-encoded),
 * fails the whole body with -EPERM, as does a DOCTYPE.  -EMSGSIZE or
 * -E2BIG past the bounds above, -EPROTO for what is not a multistatus,
 * -EINVAL for what is not XML.  Returns 0 with *ms_r (caller owns,
 * dav_multistatus_free).
 */
int dav_multistatus_parse(const char *buf, size_t len, const char *base_url,
			  struct dav_multistatus **ms_r);
void dav_multistatus_free(struct dav_multistatus **ms);

/*
 * Resolve `href` against `base_url` as dav_multistatus_parse does.
 * Returns 0 with the absolute path in *path_r (caller owns), -EPERM for
 * another origin or a dot segment, -EINVAL for what is no URI reference.
 */
int dav_href_resolve(const char *base_url, const char *href, char **path_r);

/* Whether absolute path `path` names a member directly inside collection
 * path `coll` (which ends in '/'), not the collection itself. */
bool dav_href_is_member(const char *coll, const char *path);

/* The status code of an HTTP status line ("HTTP/1.1 404 Not Found"), or
 * 0 when it is none. */
int dav_status_code(const char *line);

/* Request bodies, appended to `out`.  `props` is a set of DAV_P_*. */
void dav_req_propfind(GString *out, unsigned props);
/* A sync-collection REPORT from `token` (NULL or "" for the initial
 * sync), sync-level 1. */
void dav_req_sync_collection(GString *out, const char *token, unsigned props);
/* An addressbook-multiget (`calendar` false) or calendar-multiget of the
 * n absolute paths `hrefs`, asking for the ETag and the data. */
void dav_req_multiget(GString *out, bool calendar, const char *const *hrefs,
		      size_t n);

#endif
