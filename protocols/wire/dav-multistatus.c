/*
 * dav-multistatus.c - reading 207 Multi-Status bodies (see
 * dav-multistatus.h for the specs and the bounds).
 *
 * The document is read by wire/ews-soap.c's safe reading (no network, no
 * DTD, no entity), then walked for the few elements a CardDAV/CalDAV
 * client needs; anything else is passed over.  An href is where a hostile
 * server would lead the client (another host that then gets the
 * password, a path above the collection), so every one is resolved here
 * and refused, with the whole body, when it leaves the request's origin
 * or carries a dot segment.
 */
#include "dav-multistatus.h"

#include <errno.h>
#include <libxml/tree.h>
#include <string.h>

#include "ews-soap.h"

static bool is(const xmlNode *n, const char *ns, const char *name)
{
	return ews_is(n, ns, name);
}

/* Elements of `parent`, in order: for (x = first(p); x; x = next(x)). */
static xmlNode *first(const xmlNode *parent)
{
	return ews_first_element(parent);
}

static xmlNode *next(const xmlNode *n)
{
	return ews_next_element(n);
}

/* The text of `n`, or -EMSGSIZE past `max`.  `trim` strips white space
 * around it.  Caller owns *text_r. */
static int text_of(const xmlNode *n, size_t max, bool trim, char **text_r)
{
	xmlChar *v = xmlNodeGetContent(n);
	size_t len;

	if (!v) {
		*text_r = g_strdup("");
		return 0;
	}
	len = strlen((const char *)v);
	if (len > max) {
		xmlFree(v);
		return -EMSGSIZE;
	}
	*text_r = g_strdup((const char *)v);
	xmlFree(v);
	if (trim)
		g_strstrip(*text_r);
	return 0;
}

/* Whether one segment of an href's path, percent-decoded, is "." or "..". */
static bool dot_segment(const char *seg, size_t len)
{
	size_t dots = 0;

	for (size_t i = 0; i < len; i++) {
		if (seg[i] == '.') {
			dots++;
		} else if (len - i >= 3 &&
			   g_ascii_strncasecmp(seg + i, "%2e", 3) == 0) {
			dots++;
			i += 2;
		} else {
			return false;
		}
	}
	return dots == 1 || dots == 2;
}

static bool has_dot_segment(const char *href)
{
	size_t end = strcspn(href, "?#");
	const char *p = href, *stop = href + end;

	/* the path begins after "scheme://authority" when there is one */
	const char *sep = strstr(href, "://");
	if (sep && sep < stop) {
		p = strchr(sep + 3, '/');
		if (!p || p > stop)
			return false;
	}
	while (p < stop) {
		const char *s = p;
		while (s < stop && *s != '/')
			s++;
		if (s > p && dot_segment(p, (size_t)(s - p)))
			return true;
		p = s + 1;
	}
	return false;
}

static int default_port(const char *scheme)
{
	return g_ascii_strcasecmp(scheme, "https") == 0 ? 443 : 80;
}

int dav_href_resolve(const char *base_url, const char *href, char **path_r)
{
	g_autoptr(GUri) base = NULL, abs = NULL;
	int bport, aport;
	const char *path;

	if (!*href || strlen(href) > DAV_HREF_MAX)
		return -EINVAL;
	if (has_dot_segment(href))
		return -EPERM;
	base = g_uri_parse(base_url, G_URI_FLAGS_ENCODED, NULL);
	if (!base || !g_uri_get_host(base))
		return -EINVAL;
	abs = g_uri_parse_relative(base, href, G_URI_FLAGS_ENCODED, NULL);
	if (!abs)
		return -EINVAL;
	if (!g_uri_get_host(abs) ||
	    g_ascii_strcasecmp(g_uri_get_scheme(abs),
			       g_uri_get_scheme(base)) ||
	    g_ascii_strcasecmp(g_uri_get_host(abs), g_uri_get_host(base)))
		return -EPERM;
	bport = g_uri_get_port(base);
	aport = g_uri_get_port(abs);
	if (bport < 0)
		bport = default_port(g_uri_get_scheme(base));
	if (aport < 0)
		aport = default_port(g_uri_get_scheme(abs));
	if (aport != bport)
		return -EPERM;
	path = g_uri_get_path(abs);
	*path_r = g_strdup(path && *path ? path : "/");
	return 0;
}

bool dav_href_is_member(const char *coll, const char *path)
{
	size_t n = strlen(coll);
	const char *rest;

	if (n == 0 || coll[n - 1] != '/' || strncmp(coll, path, n))
		return false;
	rest = path + n;
	/* one segment, a member collection's trailing '/' allowed */
	return *rest && *rest != '/' &&
	       (!strchr(rest, '/') || strchr(rest, '/')[1] == '\0');
}

int dav_status_code(const char *line)
{
	const char *sp;
	guint64 code;
	char *end;

	if (!line || g_ascii_strncasecmp(line, "HTTP/", 5))
		return 0;
	if (!(sp = strchr(line, ' ')))
		return 0;
	code = g_ascii_strtoull(sp + 1, &end, 10);
	if (end != sp + 4 || code < 100 || code > 599)
		return 0;
	return (int)code;
}

static void response_free(gpointer p)
{
	struct dav_response *r = p;

	g_free(r->href);
	g_free(r->displayname);
	g_free(r->etag);
	g_free(r->content_type);
	g_free(r->ctag);
	g_free(r->sync_token);
	g_free(r->principal);
	g_free(r->addressbook_home);
	g_free(r->calendar_home);
	if (r->data)
		g_bytes_unref(r->data);
	g_free(r);
}

void dav_multistatus_free(struct dav_multistatus **ms)
{
	if (!*ms)
		return;
	g_ptr_array_unref((*ms)->responses);
	g_free((*ms)->sync_token);
	g_free(*ms);
	*ms = NULL;
}

/* The first DAV:href inside `n`, resolved, in *path_r (caller owns). */
static int inner_href(const xmlNode *n, const char *base, char **path_r)
{
	g_autofree char *raw = NULL;
	int rc;

	for (xmlNode *h = first(n); h; h = next(h)) {
		if (!is(h, DAV_NS, "href"))
			continue;
		if ((rc = text_of(h, DAV_HREF_MAX, true, &raw)) < 0)
			return rc;
		return dav_href_resolve(base, raw, path_r);
	}
	return 0;
}

static unsigned resourcetype_of(const xmlNode *n)
{
	unsigned rt = 0;

	for (xmlNode *c = first(n); c; c = next(c)) {
		if (is(c, DAV_NS, "collection"))
			rt |= DAV_RT_COLLECTION;
		else if (is(c, DAV_NS_CARD, "addressbook"))
			rt |= DAV_RT_ADDRESSBOOK;
		else if (is(c, DAV_NS_CAL, "calendar"))
			rt |= DAV_RT_CALENDAR;
		else if (is(c, DAV_NS, "principal"))
			rt |= DAV_RT_PRINCIPAL;
	}
	return rt;
}

static unsigned components_of(const xmlNode *n)
{
	unsigned comps = 0;

	for (xmlNode *c = first(n); c; c = next(c)) {
		g_autofree char *name = NULL;

		if (!is(c, DAV_NS_CAL, "comp"))
			continue;
		name = ews_attr(c, "name");
		if (!name)
			continue;
		if (!g_ascii_strcasecmp(name, "VEVENT"))
			comps |= DAV_COMP_VEVENT;
		else if (!g_ascii_strcasecmp(name, "VTODO"))
			comps |= DAV_COMP_VTODO;
		else if (!g_ascii_strcasecmp(name, "VJOURNAL"))
			comps |= DAV_COMP_VJOURNAL;
		else
			comps |= DAV_COMP_OTHER;
	}
	return comps;
}

/* supported-report-set: supported-report/report/<name> (RFC 3253
 * 3.1.5). */
static bool reports_sync(const xmlNode *n)
{
	for (xmlNode *sr = first(n); sr; sr = next(sr)) {
		if (!is(sr, DAV_NS, "supported-report"))
			continue;
		/* Xandikos leaves the <report> wrapper out */
		for (xmlNode *r = first(sr); r; r = next(r)) {
			if (is(r, DAV_NS, "sync-collection"))
				return true;
			if (!is(r, DAV_NS, "report"))
				continue;
			for (xmlNode *x = first(r); x; x = next(x))
				if (is(x, DAV_NS, "sync-collection"))
					return true;
		}
	}
	return false;
}

/* A string property's text into *dst (trimmed unless `raw`). */
static int str_prop(const xmlNode *p, char **dst, bool trim)
{
	char *v = NULL;
	int rc = text_of(p, DAV_VALUE_MAX, trim, &v);

	if (rc < 0)
		return rc;
	g_free(*dst);
	*dst = v;
	return 0;
}

static int length_prop(const xmlNode *p, struct dav_response *r)
{
	g_autofree char *v = NULL;
	char *end;
	guint64 n;
	int rc = text_of(p, 32, true, &v);

	if (rc < 0)
		return rc;
	n = g_ascii_strtoull(v, &end, 10);
	if (!*v || *end || !g_ascii_isdigit(*v) || n > (guint64)INT64_MAX)
		return -EPROTO;
	r->content_length = (int64_t)n;
	return 0;
}

static int data_prop(const xmlNode *p, struct dav_response *r)
{
	char *v = NULL;
	int rc = text_of(p, DAV_VALUE_MAX, false, &v);

	if (rc < 0)
		return rc;
	if (r->data)
		g_bytes_unref(r->data);
	r->data = g_bytes_new_take(v, strlen(v));
	return 0;
}

/* One property of a 2xx propstat.  Returns 0 or -errno. */
static int take_prop(const xmlNode *p, const char *base,
		     struct dav_response *r)
{
	int rc = 0;
	unsigned bit = 0;

	if (is(p, DAV_NS, "resourcetype")) {
		r->rtype = resourcetype_of(p);
		bit = DAV_P_RESOURCETYPE;
	} else if (is(p, DAV_NS, "displayname")) {
		rc = str_prop(p, &r->displayname, true);
		bit = DAV_P_DISPLAYNAME;
	} else if (is(p, DAV_NS, "getetag")) {
		rc = str_prop(p, &r->etag, true);
		bit = DAV_P_GETETAG;
	} else if (is(p, DAV_NS, "getcontenttype")) {
		rc = str_prop(p, &r->content_type, true);
		bit = DAV_P_GETCONTENTTYPE;
	} else if (is(p, DAV_NS, "getcontentlength")) {
		rc = length_prop(p, r);
		bit = DAV_P_GETCONTENTLENGTH;
	} else if (is(p, DAV_NS, "sync-token")) {
		rc = str_prop(p, &r->sync_token, true);
		bit = DAV_P_SYNC_TOKEN;
	} else if (is(p, DAV_NS_CS, "getctag")) {
		rc = str_prop(p, &r->ctag, true);
		bit = DAV_P_GETCTAG;
	} else if (is(p, DAV_NS, "current-user-principal")) {
		g_clear_pointer(&r->principal, g_free);
		rc = inner_href(p, base, &r->principal);
		bit = DAV_P_PRINCIPAL;
	} else if (is(p, DAV_NS_CARD, "addressbook-home-set")) {
		g_clear_pointer(&r->addressbook_home, g_free);
		rc = inner_href(p, base, &r->addressbook_home);
		bit = DAV_P_ADDRESSBOOK_HOME;
	} else if (is(p, DAV_NS_CAL, "calendar-home-set")) {
		g_clear_pointer(&r->calendar_home, g_free);
		rc = inner_href(p, base, &r->calendar_home);
		bit = DAV_P_CALENDAR_HOME;
	} else if (is(p, DAV_NS_CAL, "supported-calendar-component-set")) {
		r->comps = components_of(p);
		bit = DAV_P_COMPONENTS;
	} else if (is(p, DAV_NS, "supported-report-set")) {
		r->sync_report = reports_sync(p);
		bit = DAV_P_SUPPORTED_REPORTS;
	} else if (is(p, DAV_NS_CARD, "address-data") ||
		   is(p, DAV_NS_CAL, "calendar-data")) {
		rc = data_prop(p, r);
	}
	if (rc == 0)
		r->props |= bit;
	return rc;
}

static int take_propstat(const xmlNode *ps, const char *base,
			 struct dav_response *r)
{
	int code = 0, rc;
	const xmlNode *prop = NULL;

	for (xmlNode *c = first(ps); c; c = next(c)) {
		if (is(c, DAV_NS, "status")) {
			g_autofree char *line = NULL;
			if ((rc = text_of(c, 256, true, &line)) < 0)
				return rc;
			code = dav_status_code(line);
		} else if (is(c, DAV_NS, "prop")) {
			prop = c;
		}
	}
	if (!prop || code < 200 || code > 299)
		return 0;
	for (xmlNode *p = first(prop); p; p = next(p))
		if ((rc = take_prop(p, base, r)) < 0)
			return rc;
	return 0;
}

static int take_response(const xmlNode *n, const char *base,
			 struct dav_response **r_r)
{
	struct dav_response *r = g_new0(struct dav_response, 1);
	int rc = 0;

	r->content_length = -1;
	for (xmlNode *c = first(n); c && rc == 0; c = next(c)) {
		if (is(c, DAV_NS, "href") && !r->href) {
			g_autofree char *raw = NULL;
			if ((rc = text_of(c, DAV_HREF_MAX, true, &raw)) == 0)
				rc = dav_href_resolve(base, raw, &r->href);
		} else if (is(c, DAV_NS, "status")) {
			g_autofree char *line = NULL;
			if ((rc = text_of(c, 256, true, &line)) == 0)
				r->status = dav_status_code(line);
		} else if (is(c, DAV_NS, "propstat")) {
			rc = take_propstat(c, base, r);
		}
	}
	if (rc == 0 && !r->href)
		rc = -EPROTO;
	if (rc < 0) {
		response_free(r);
		return rc;
	}
	*r_r = r;
	return 0;
}

/* Whether absolute path `a` and `b` name the same collection, a trailing
 * '/' aside. */
static bool same_path(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && !strncmp(a, b, la);
}

int dav_multistatus_parse(const char *buf, size_t len, const char *base_url,
			  struct dav_multistatus **ms_r)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	struct dav_multistatus *ms;
	g_autoptr(GUri) base = NULL;
	unsigned count = 0;
	int rc;

	base = g_uri_parse(base_url, G_URI_FLAGS_ENCODED, NULL);
	if (!base)
		return -EINVAL;
	if ((rc = ews_xml_read(buf, len, DAV_BODY_MAX, false, &doc)) < 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	if (!is(root, DAV_NS, "multistatus")) {
		xmlFreeDoc(doc);
		return -EPROTO;
	}
	for (xmlNode *c = first(root); c; c = next(c))
		if (is(c, DAV_NS, "response") && ++count > DAV_RESPONSES_MAX) {
			xmlFreeDoc(doc);
			return -E2BIG;
		}
	ms = g_new0(struct dav_multistatus, 1);
	ms->responses = g_ptr_array_new_full(count, response_free);
	for (xmlNode *c = first(root); c && rc == 0; c = next(c)) {
		struct dav_response *r = NULL;

		if (is(c, DAV_NS, "sync-token")) {
			g_clear_pointer(&ms->sync_token, g_free);
			rc = text_of(c, DAV_HREF_MAX, true, &ms->sync_token);
			continue;
		}
		if (!is(c, DAV_NS, "response"))
			continue;
		if ((rc = take_response(c, base_url, &r)) < 0)
			break;
		if (r->status == 507 && same_path(r->href,
						  g_uri_get_path(base))) {
			ms->truncated = true;
			response_free(r);
			continue;
		}
		g_ptr_array_add(ms->responses, r);
	}
	xmlFreeDoc(doc);
	if (rc < 0) {
		dav_multistatus_free(&ms);
		return rc;
	}
	*ms_r = ms;
	return 0;
}
