/*
 * dav-request.c - the request bodies of a CardDAV/CalDAV client:
 * PROPFIND, the sync-collection REPORT and the multigets.
 *
 * Specs: RFC 4918 9.1 and 14.20 (propfind, prop), RFC 6578 3.2
 * (sync-collection, sync-token, sync-level), RFC 6352 8.7
 * (addressbook-multiget), RFC 4791 7.9 (calendar-multiget), RFC 5397,
 * caldav-ctag-03 (getctag).
 */
#include "dav-multistatus.h"

#include <string.h>

static const struct {
	unsigned bit;
	const char *element;		/* with its prefix */
} props[] = {
	{ DAV_P_RESOURCETYPE, "d:resourcetype" },
	{ DAV_P_DISPLAYNAME, "d:displayname" },
	{ DAV_P_GETETAG, "d:getetag" },
	{ DAV_P_GETCONTENTTYPE, "d:getcontenttype" },
	{ DAV_P_GETCONTENTLENGTH, "d:getcontentlength" },
	{ DAV_P_SYNC_TOKEN, "d:sync-token" },
	{ DAV_P_GETCTAG, "cs:getctag" },
	{ DAV_P_PRINCIPAL, "d:current-user-principal" },
	{ DAV_P_ADDRESSBOOK_HOME, "card:addressbook-home-set" },
	{ DAV_P_CALENDAR_HOME, "cal:calendar-home-set" },
	{ DAV_P_COMPONENTS, "cal:supported-calendar-component-set" },
	{ DAV_P_SUPPORTED_REPORTS, "d:supported-report-set" },
};

#define NAMESPACES \
	" xmlns:d=\"" DAV_NS "\" xmlns:card=\"" DAV_NS_CARD "\"" \
	" xmlns:cal=\"" DAV_NS_CAL "\" xmlns:cs=\"" DAV_NS_CS "\""

static void prop(GString *out, unsigned want)
{
	g_string_append(out, "<d:prop>");
	for (size_t i = 0; i < G_N_ELEMENTS(props); i++)
		if (want & props[i].bit)
			g_string_append_printf(out, "<%s/>", props[i].element);
	g_string_append(out, "</d:prop>");
}

/* `s` as XML character data. */
static void text(GString *out, const char *s)
{
	g_autofree char *esc = g_markup_escape_text(s, -1);

	g_string_append(out, esc);
}

void dav_req_propfind(GString *out, unsigned want)
{
	g_string_append(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			     "<d:propfind" NAMESPACES ">");
	prop(out, want);
	g_string_append(out, "</d:propfind>\n");
}

void dav_req_sync_collection(GString *out, const char *token, unsigned want)
{
	g_string_append(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			     "<d:sync-collection" NAMESPACES ">");
	if (token && *token) {
		g_string_append(out, "<d:sync-token>");
		text(out, token);
		g_string_append(out, "</d:sync-token>");
	} else {
		g_string_append(out, "<d:sync-token/>");
	}
	g_string_append(out, "<d:sync-level>1</d:sync-level>");
	prop(out, want);
	g_string_append(out, "</d:sync-collection>\n");
}

void dav_req_multiget(GString *out, bool calendar, const char *const *hrefs,
		      size_t n)
{
	const char *name = calendar ? "cal:calendar-multiget"
				    : "card:addressbook-multiget";

	g_string_append_printf(out, "<?xml version=\"1.0\" encoding=\"utf-8\""
			       "?>\n<%s" NAMESPACES "><d:prop><d:getetag/>%s"
			       "</d:prop>", name,
			       calendar ? "<cal:calendar-data/>"
					: "<card:address-data/>");
	for (size_t i = 0; i < n; i++) {
		g_string_append(out, "<d:href>");
		text(out, hrefs[i]);
		g_string_append(out, "</d:href>");
	}
	g_string_append_printf(out, "</%s>\n", name);
}
