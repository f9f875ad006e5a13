/*
 * restrict.c - the m:Restriction of FindItem and FindFolder: parsed into
 * a tree first, so that a malformed or unsupported one is refused before
 * anything is read, then matched against each message or folder.
 *
 * Specs: [MS-OXWSSRCH] 2.2.4.x (RestrictionType and the search
 * expressions: And, Or, Not, Exists, IsEqualTo, IsNotEqualTo,
 * IsGreaterThan, IsGreaterThanOrEqualTo, IsLessThan,
 * IsLessThanOrEqualTo, Contains, Excludes), [MS-OXWSCDATA]
 * (ContainmentModeType, ContainmentComparisonType,
 * ErrorUnsupportedPathForQuery), [MS-OXPROPS] for the property tags.
 *
 * A restriction on a property this server does not know is refused
 * (ErrorUnsupportedPathForQuery) rather than ignored: a search that
 * silently matched everything would tell a client (DavMail's IMAP
 * SEARCH) something false.  Text matches fold case, as Exchange's
 * IgnoreCase and its default for IsEqualTo on strings do; Exact
 * comparison keeps case.  Header fields are matched RFC 2047-decoded;
 * bodies as the bytes after the header, as the IMAP server's SEARCH BODY.
 * In contacts folders the fields are the card's (display name, the three
 * email addresses, names, company, item class): what DavMail's LDAP
 * gateway searches by ([MS-OXWSCONT] for the field URIs).  In calendar
 * folders they are the first VEVENT's (start, end, UID, summary, item
 * class) and whether it recurs (PidLidRecurring, and the instance type
 * DavMail's CalDAV gateway asks by: 1 for a recurring master, else 0).
 */
#include <errno.h>
#include <gmime/gmime.h>
#include <string.h>

#include "wire/ews-contact.h"
#include "wire/mime-entity.h"
#include "wire/vcard.h"
#include "msgprops.h"
#include "ewsd-private.h"
#include "pim.h"

/* Bounds on a restriction's size and depth. */
#define MAX_NODES 512
#define MAX_DEPTH 32

enum field {
	/* messages */
	F_READ, F_DRAFT, F_SUBJECT, F_FROM, F_TO, F_CC, F_BCC, F_MSGID,
	F_BODY, F_HEADERS, F_DATE, F_SENT, F_SIZE, F_UID, F_MSGFLAGS,
	F_FLAGSTATUS, F_VERB, F_DELETED, F_CLASS,
	/* folders */
	F_FOLDER_CLASS, F_FOLDER_NAME,
	/* contacts: the card's fields; F_C_CARD + the EWS_CF_* index */
	F_C_CLASS,
	/* events */
	F_E_CLASS, F_E_START, F_E_END, F_E_UID, F_E_SUBJECT, F_E_RECURRING,
	F_E_INSTANCE,
	/* contacts and events: PidTagUrlCompName, the file's name */
	F_P_NAME,
	F_C_CARD,
};

enum scope { S_MSG, S_FOLDER, S_CONTACT, S_EVENT };

/* Named properties by made-up tags of this file, above every real tag. */
#define LID_RECURRING	0x100000u	/* PSETID_Appointment 0x8223 */
#define NAME_INSTANCE	0x100001u	/* urn:schemas:calendar:instancetype */

enum vtype { T_BOOL, T_INT, T_STR, T_TIME };

static const struct {
	const char *uri;	/* FieldURI, or NULL */
	unsigned tag;		/* PropertyTag (or EWS_LID_*), or 0 */
	enum field f;
	enum vtype t;
	enum scope scope;
	const char *header;	/* the header field it reads, or NULL */
	const char *index;	/* IndexedFieldURI's FieldIndex, or NULL */
} fields[] = {
	{ "message:IsRead", 0, F_READ, T_BOOL, S_MSG, NULL, NULL },
	{ "item:IsDraft", 0, F_DRAFT, T_BOOL, S_MSG, NULL, NULL },
	{ "item:Subject", 0x0037, F_SUBJECT, T_STR, S_MSG, "Subject", NULL },
	{ NULL, 0x0E1D, F_SUBJECT, T_STR, S_MSG, "Subject", NULL },
	{ "message:From", 0x0C1A, F_FROM, T_STR, S_MSG, "From", NULL },
	{ "message:Sender", 0x0C1F, F_FROM, T_STR, S_MSG, "From", NULL },
	{ NULL, 0x0042, F_FROM, T_STR, S_MSG, "From", NULL },
	{ NULL, 0x0065, F_FROM, T_STR, S_MSG, "From", NULL },
	{ "message:ToRecipients", 0x0E04, F_TO, T_STR, S_MSG, "To", NULL },
	{ "item:DisplayTo", 0, F_TO, T_STR, S_MSG, "To", NULL },
	{ "message:CcRecipients", 0x0E03, F_CC, T_STR, S_MSG, "Cc", NULL },
	{ "item:DisplayCc", 0, F_CC, T_STR, S_MSG, "Cc", NULL },
	{ "message:BccRecipients", 0x0E02, F_BCC, T_STR, S_MSG, "Bcc", NULL },
	{ "message:InternetMessageId", 0x1035, F_MSGID, T_STR, S_MSG,
	  "Message-ID", NULL },
	{ "item:Body", 0x1000, F_BODY, T_STR, S_MSG, NULL, NULL },
	{ NULL, 0x007D, F_HEADERS, T_STR, S_MSG, NULL, NULL },
	{ "item:DateTimeReceived", 0x0E06, F_DATE, T_TIME, S_MSG, NULL, NULL },
	{ "item:DateTimeCreated", 0x3007, F_DATE, T_TIME, S_MSG, NULL, NULL },
	{ "item:LastModifiedTime", 0x3008, F_DATE, T_TIME, S_MSG, NULL, NULL },
	{ "item:DateTimeSent", 0x0039, F_SENT, T_TIME, S_MSG, NULL, NULL },
	{ "item:Size", 0x0E08, F_SIZE, T_INT, S_MSG, NULL, NULL },
	{ NULL, 0x0E23, F_UID, T_INT, S_MSG, NULL, NULL },
	{ NULL, EWS_PR_MESSAGE_FLAGS, F_MSGFLAGS, T_INT, S_MSG, NULL, NULL },
	{ NULL, EWS_PR_FLAG_STATUS, F_FLAGSTATUS, T_INT, S_MSG, NULL, NULL },
	{ NULL, EWS_PR_LAST_VERB_EXECUTED, F_VERB, T_INT, S_MSG, NULL, NULL },
	{ NULL, EWS_LID_IMAP_DELETED, F_DELETED, T_INT, S_MSG, NULL, NULL },
	{ "item:ItemClass", 0x001A, F_CLASS, T_STR, S_MSG, NULL, NULL },
	{ "folder:FolderClass", 0x3613, F_FOLDER_CLASS, T_STR, S_FOLDER, NULL, NULL },
	{ "folder:DisplayName", 0x3001, F_FOLDER_NAME, T_STR, S_FOLDER, NULL, NULL },
	{ "contacts:DisplayName", 0x3001, F_C_CARD + EWS_CF_DISPLAY_NAME,
	  T_STR, S_CONTACT, NULL, NULL },
	{ "item:Subject", 0x0037, F_C_CARD + EWS_CF_DISPLAY_NAME, T_STR,
	  S_CONTACT, NULL, NULL },
	{ "contacts:GivenName", 0x3A06, F_C_CARD + EWS_CF_GIVEN_NAME, T_STR,
	  S_CONTACT, NULL, NULL },
	{ "contacts:Surname", 0x3A11, F_C_CARD + EWS_CF_SURNAME, T_STR,
	  S_CONTACT, NULL, NULL },
	{ "contacts:CompanyName", 0x3A16, F_C_CARD + EWS_CF_COMPANY_NAME,
	  T_STR, S_CONTACT, NULL, NULL },
	{ "contacts:EmailAddress", 0, F_C_CARD + EWS_CF_EMAIL1, T_STR,
	  S_CONTACT, NULL, "EmailAddress1" },
	{ "contacts:EmailAddress", 0, F_C_CARD + EWS_CF_EMAIL2, T_STR,
	  S_CONTACT, NULL, "EmailAddress2" },
	{ "contacts:EmailAddress", 0, F_C_CARD + EWS_CF_EMAIL3, T_STR,
	  S_CONTACT, NULL, "EmailAddress3" },
	{ "item:ItemClass", 0x001A, F_C_CLASS, T_STR, S_CONTACT, NULL, NULL },
	{ "item:ItemClass", 0x001A, F_E_CLASS, T_STR, S_EVENT, NULL, NULL },
	{ "calendar:Start", 0, F_E_START, T_TIME, S_EVENT, NULL, NULL },
	{ "calendar:End", 0, F_E_END, T_TIME, S_EVENT, NULL, NULL },
	{ "calendar:UID", 0, F_E_UID, T_STR, S_EVENT, NULL, NULL },
	{ "item:Subject", 0x0037, F_E_SUBJECT, T_STR, S_EVENT, NULL, NULL },
	{ "calendar:IsRecurring", LID_RECURRING, F_E_RECURRING, T_BOOL,
	  S_EVENT, NULL, NULL },
	{ NULL, NAME_INSTANCE, F_E_INSTANCE, T_INT, S_EVENT, NULL, NULL },
	{ NULL, 0x10F3, F_P_NAME, T_STR, S_EVENT, NULL, NULL },
	{ NULL, 0x10F3, F_P_NAME, T_STR, S_CONTACT, NULL, NULL },
};

enum op {
	O_AND, O_OR, O_NOT, O_EXISTS, O_EQ, O_NE, O_GT, O_GE, O_LT, O_LE,
	O_CONTAINS, O_EXCLUDES,
};

static const struct {
	const char *name;
	enum op op;
} ops[] = {
	{ "And", O_AND }, { "Or", O_OR }, { "Not", O_NOT },
	{ "Exists", O_EXISTS }, { "IsEqualTo", O_EQ },
	{ "IsNotEqualTo", O_NE }, { "IsGreaterThan", O_GT },
	{ "IsGreaterThanOrEqualTo", O_GE }, { "IsLessThan", O_LT },
	{ "IsLessThanOrEqualTo", O_LE }, { "Contains", O_CONTAINS },
	{ "Excludes", O_EXCLUDES },
};

enum mode { M_FULL, M_PREFIX, M_SUBSTRING };

struct ewsd_restrict {
	enum op op;
	int field;			/* index into fields[] */
	char *text;			/* owned; folded unless `exact` */
	int64_t n;			/* T_INT, T_BOOL, T_TIME constants */
	enum mode mode;
	bool exact;
	GPtrArray *sub;			/* owned; of struct ewsd_restrict * */
};

void ewsd_restrict_free(struct ewsd_restrict *r)
{
	if (!r)
		return;
	g_free(r->text);
	if (r->sub)
		g_ptr_array_unref(r->sub);
	g_free(r);
}

static void sub_free(gpointer p)
{
	ewsd_restrict_free(p);
}

static char *fold(const char *s)
{
	g_autofree char *n = g_utf8_normalize(s, -1, G_NORMALIZE_DEFAULT);

	return g_utf8_casefold(n ? n : s, -1);
}

/* The made-up tag of a named property of events this file matches. */
static int named_tag(const xmlNode *path, unsigned *tag_r)
{
	g_autofree char *set = ews_attr(path, "DistinguishedPropertySetId");
	g_autofree char *id = ews_attr(path, "PropertyId");
	g_autofree char *name = ews_attr(path, "PropertyName");

	if (!set)
		return -1;
	if (!strcmp(set, "Appointment") && id && !strcmp(id, "33315"))
		*tag_r = LID_RECURRING;
	else if (!strcmp(set, "PublicStrings") && name &&
		 !strcmp(name, "urn:schemas:calendar:instancetype"))
		*tag_r = NAME_INSTANCE;
	else
		return -1;
	return 0;
}

/* The field a t:FieldURI, t:IndexedFieldURI or t:ExtendedFieldURI
 * names, or -1. */
static int field_of(const xmlNode *path, enum scope scope)
{
	g_autofree char *uri = NULL, *index = NULL;
	unsigned tag = 0;

	if (ews_is(path, EWS_NS_T, "FieldURI"))
		uri = ews_attr(path, "FieldURI");
	else if (ews_is(path, EWS_NS_T, "IndexedFieldURI")) {
		uri = ews_attr(path, "FieldURI");
		index = ews_attr(path, "FieldIndex");
		if (!uri || !index)
			return -1;
	} else if (!ews_is(path, EWS_NS_T, "ExtendedFieldURI") ||
		   (named_tag(path, &tag) < 0 && ewsd_prop_tag(path, &tag) < 0))
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++) {
		if (fields[i].scope != scope ||
		    (index != NULL) != (fields[i].index != NULL) ||
		    (index && strcmp(index, fields[i].index)))
			continue;
		if (uri ? fields[i].uri && !strcmp(uri, fields[i].uri)
			: fields[i].tag == tag)
			return (int)i;
	}
	return -1;
}

/*
 * DavMail names an event by its item id (base64url, then ".EML") and,
 * when an id is shorter than Exchange's, looks the event up again with
 * that name as PidTagUrlCompName: the file name of the item that id
 * stands for, or NULL when `v` is not such a name.  Caller owns it.
 */
static char *name_of_id_name(const char *v)
{
	size_t len = strlen(v);
	char *id = NULL, *folder = NULL;

	if (len <= 4 || g_ascii_strcasecmp(v + len - 4, ".EML") != 0)
		return NULL;
	g_autofree char *b64 = g_strndup(v, len - 4);
	for (char *p = b64; *p; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	if (ewsd_pim_item_id_parse(b64, &id, &folder) < 0)
		return NULL;
	g_free(folder);
	return id;
}

static int constant(struct ewsd_restrict *r, const char *v)
{
	g_autoptr(GTimeZone) utc = NULL;
	g_autoptr(GDateTime) dt = NULL;
	gint64 n;
	bool b;

	if (!v)
		return -EINVAL;
	switch (fields[r->field].t) {
	case T_BOOL:
		if (ews_bool_parse(v, &b) < 0)
			return -EINVAL;
		r->n = b;
		return 0;
	case T_INT:
		if (!g_ascii_string_to_signed(v, 10, G_MININT64, G_MAXINT64,
					      &n, NULL))
			return -EINVAL;
		r->n = n;
		return 0;
	case T_TIME:
		utc = g_time_zone_new_utc();
		dt = g_date_time_new_from_iso8601(v, utc);
		if (!dt)
			return -EINVAL;
		r->n = g_date_time_to_unix(dt);
		return 0;
	case T_STR: {
		g_autofree char *named = fields[r->field].f == F_P_NAME
					 ? name_of_id_name(v) : NULL;
		if (named)
			v = named;
		r->text = r->exact ? g_strdup(v) : fold(v);
		return 0;
	}
	}
	return -EINVAL;
}

static int parse_node(const xmlNode *n, enum scope scope, unsigned depth,
		      unsigned *count, struct ewsd_restrict **r_r);

static int parse_leaf(const xmlNode *n, enum scope scope,
		      struct ewsd_restrict *r)
{
	xmlNode *path = ews_first_element(n);
	int rc;

	r->field = path ? field_of(path, scope) : -1;
	if (!path)
		return -EINVAL;
	if (r->field < 0)
		return -ENOTSUP;
	if (r->op == O_EXISTS)
		return 0;
	if (r->op == O_CONTAINS) {
		g_autofree char *mode = ews_attr(n, "ContainmentMode");
		g_autofree char *cmp = ews_attr(n, "ContainmentComparison");
		xmlNode *c = ews_child(n, EWS_NS_T, "Constant");
		g_autofree char *v = c ? ews_attr(c, "Value") : NULL;
		if (fields[r->field].t != T_STR)
			return -ENOTSUP;
		r->mode = !mode || !strcmp(mode, "Substring") ||
			  !strcmp(mode, "ExactPhrase") ||
			  !strcmp(mode, "PrefixOnWords") ? M_SUBSTRING
			: !strcmp(mode, "Prefixed") ? M_PREFIX : M_FULL;
		r->exact = cmp && !strcmp(cmp, "Exact");
		return constant(r, v);
	}
	if (r->op == O_EXCLUDES) {
		xmlNode *mask = ews_child(n, EWS_NS_T, "Bitmask");
		g_autofree char *v = mask ? ews_attr(mask, "Value") : NULL;
		guint64 m;
		const char *d = v;
		guint base = 10;
		if (fields[r->field].t != T_INT || !v)
			return fields[r->field].t != T_INT ? -ENOTSUP : -EINVAL;
		if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X')) {
			d += 2;
			base = 16;
		}
		if (!g_ascii_string_to_unsigned(d, base, 0, G_MAXINT64, &m,
						NULL))
			return -EINVAL;
		r->n = (int64_t)m;
		return 0;
	}
	/* a comparison: with a constant; two fields are not compared */
	xmlNode *fc = ews_child(n, EWS_NS_T, "FieldURIOrConstant");
	xmlNode *c = ews_child(fc, EWS_NS_T, "Constant");
	g_autofree char *v = c ? ews_attr(c, "Value") : NULL;
	if (!fc)
		return -EINVAL;
	if (!c)
		return -ENOTSUP;
	if (fields[r->field].t == T_BOOL && r->op != O_EQ && r->op != O_NE)
		return -EINVAL;
	rc = constant(r, v);
	return rc;
}

static int parse_node(const xmlNode *n, enum scope scope, unsigned depth,
		      unsigned *count, struct ewsd_restrict **r_r)
{
	struct ewsd_restrict *r;
	int rc = -EINVAL;
	size_t i;

	if (depth > MAX_DEPTH || ++*count > MAX_NODES)
		return -E2BIG;
	for (i = 0; i < G_N_ELEMENTS(ops); i++)
		if (n->ns && !strcmp((const char *)n->ns->href, EWS_NS_T) &&
		    !strcmp((const char *)n->name, ops[i].name))
			break;
	if (i == G_N_ELEMENTS(ops))
		return -ENOTSUP;
	r = g_new0(struct ewsd_restrict, 1);
	r->op = ops[i].op;
	r->field = -1;
	if (r->op == O_AND || r->op == O_OR || r->op == O_NOT) {
		r->sub = g_ptr_array_new_with_free_func(sub_free);
		rc = 0;
		for (xmlNode *c = ews_first_element(n); c && rc == 0;
		     c = ews_next_element(c)) {
			struct ewsd_restrict *s = NULL;
			rc = parse_node(c, scope, depth + 1, count, &s);
			if (rc == 0)
				g_ptr_array_add(r->sub, s);
		}
		if (rc == 0 && (r->sub->len == 0 ||
				(r->op == O_NOT && r->sub->len != 1)))
			rc = -EINVAL;
	} else {
		rc = parse_leaf(n, scope, r);
	}
	if (rc < 0) {
		ewsd_restrict_free(r);
		return rc;
	}
	*r_r = r;
	return 0;
}

int ewsd_restrict_parse(const xmlNode *restriction, bool folder,
			struct ewsd_restrict **r_r)
{
	xmlNode *top = ews_first_element(restriction);
	unsigned count = 0;

	*r_r = NULL;
	if (!top || ews_next_element(top))
		return -EINVAL;
	return parse_node(top, folder ? S_FOLDER : S_MSG, 0, &count, r_r);
}

int ewsd_restrict_parse_events(const xmlNode *restriction,
			       struct ewsd_restrict **r_r)
{
	xmlNode *top = ews_first_element(restriction);
	unsigned count = 0;

	*r_r = NULL;
	if (!top || ews_next_element(top))
		return -EINVAL;
	return parse_node(top, S_EVENT, 0, &count, r_r);
}

int ewsd_restrict_parse_contacts(const xmlNode *restriction,
				 struct ewsd_restrict **r_r)
{
	xmlNode *top = ews_first_element(restriction);
	unsigned count = 0;

	*r_r = NULL;
	if (!top || ews_next_element(top))
		return -EINVAL;
	return parse_node(top, S_CONTACT, 0, &count, r_r);
}

void ewsd_restrict_error(GString *out, const char *op, int rc)
{
	if (rc == -ENOTSUP)
		ewsd_error_message(out, op, "ErrorUnsupportedPathForQuery",
				   "The restriction names a property or an "
				   "expression this server cannot search.");
	else
		ewsd_error_message(out, op, "ErrorInvalidRestriction",
				   "The restriction is not valid.");
}

/* ---- matching ---- */

/* What a message's match may need, read on first use. */
struct msg_ctx {
	struct ewsd_call *call;
	const char *folder;
	const struct mfs_item *it;
	GString *buf;			/* owned; NULL until read */
	bool tried, whole;
	struct mime_entity top;
	struct ews_contact *card;	/* owned; a contact's, once read */
	bool card_tried;
	struct vcard_event ev;		/* an event's, once read */
	bool ev_ok, recurs;
	bool ev_tried;
};

/* The first VEVENT of an event item, read on first use; NULL when its
 * file is not a calendar. */
static const struct vcard_event *event_load(struct msg_ctx *m)
{
	GString *buf = NULL;

	if (m->ev_tried)
		return m->ev_ok ? &m->ev : NULL;
	m->ev_tried = true;
	if (ewsd_pim_load(m->call, m->folder, m->it->id, &buf) < 0)
		return NULL;
	m->ev_ok = vcard_event_read(buf->str, buf->len, &m->ev) == 0;
	m->recurs = ewsd_calendar_recurring(buf->str, buf->len);
	g_string_free(buf, TRUE);
	return m->ev_ok ? &m->ev : NULL;
}

/* The value of an event's field, as msg_value(). */
static bool event_value(struct msg_ctx *m, int fi, char **s, int64_t *n)
{
	const struct vcard_event *ev;
	GDateTime *t;

	if (fields[fi].f == F_E_CLASS) {
		*s = g_strdup("IPM.Appointment");
		return true;
	}
	ev = event_load(m);
	if (!ev)
		return false;
	switch (fields[fi].f) {
	case F_E_START:
	case F_E_END:
		t = fields[fi].f == F_E_START ? ev->start : ev->end;
		if (!t)
			return false;
		*n = g_date_time_to_unix(t);
		return true;
	case F_E_UID:
		*s = ev->uid ? g_strdup(ev->uid) : NULL;
		return *s != NULL;
	case F_E_SUBJECT:
		*s = g_strdup(ev->summary ? ev->summary : "");
		return true;
	case F_E_RECURRING:
	case F_E_INSTANCE:
		*n = m->recurs;
		return true;
	default:
		return false;
	}
}

/* The card of a contact item, read on first use; NULL when its file is
 * not one. */
static const struct ews_contact *card_load(struct msg_ctx *m)
{
	GString *buf = NULL;

	if (m->card_tried)
		return m->card;
	m->card_tried = true;
	if (ewsd_pim_load(m->call, m->folder, m->it->id, &buf) < 0)
		return NULL;
	if (ews_contact_from_vcard(buf->str, buf->len, &m->card) < 0)
		m->card = NULL;
	g_string_free(buf, TRUE);
	return m->card;
}

static bool msg_load(struct msg_ctx *m, bool whole)
{
	if (m->tried && (m->whole || !whole))
		return m->buf != NULL;
	if (m->buf)
		g_string_free(m->buf, TRUE);
	m->buf = NULL;
	m->tried = true;
	m->whole = whole;
	if (ewsd_message_bytes(m->call, m->folder, m->it->id, !whole,
			       &m->buf) < 0)
		return false;
	mime_init();
	mime_entity_init(&m->top, m->buf->str, m->buf->len, true);
	return true;
}

/* The value of a message's field: *s (caller owns) for text, else *n.
 * Returns false when the message has none. */
static bool msg_value(struct msg_ctx *m, int fi, char **s, int64_t *n)
{
	const struct mfs_item *it = m->it;
	long v;

	*s = NULL;
	if (fields[fi].f >= F_C_CARD) {
		const struct ews_contact *c = card_load(m);
		const char *cv = c ? c->field[fields[fi].f - F_C_CARD] : NULL;
		*s = cv && *cv ? g_strdup(cv) : NULL;
		return *s != NULL;
	}
	if (fields[fi].f == F_P_NAME) {
		*s = g_strdup(m->it->id);
		return true;
	}
	if (fields[fi].scope == S_EVENT)
		return event_value(m, fi, s, n);
	switch (fields[fi].f) {
	case F_C_CLASS: *s = g_strdup("IPM.Contact"); return true;
	case F_READ: *n = (it->flags & MFS_FLAG_SEEN) != 0; return true;
	case F_DRAFT: *n = (it->flags & MFS_FLAG_DRAFT) != 0; return true;
	case F_DATE: *n = it->date; return true;
	case F_SIZE: *n = (int64_t)it->size; return true;
	case F_CLASS: *s = g_strdup("IPM.Note"); return true;
	case F_UID: {
		uint32_t uid;
		if (ewsd_article_number(m->call, m->folder, it->id, &uid) < 0)
			return false;
		*n = uid;
		return true;
	}
	case F_MSGFLAGS:
	case F_FLAGSTATUS:
	case F_VERB:
	case F_DELETED:
		if (ews_prop_value(it->flags, fields[fi].tag, &v) < 0)
			return false;
		*n = v;
		return true;
	case F_SENT: {
		if (!msg_load(m, false))
			return false;
		g_autofree char *d = mime_entity_header(&m->top, "Date");
		GDateTime *dt = d ? g_mime_utils_header_decode_date(d) : NULL;
		if (!dt)
			return false;
		*n = g_date_time_to_unix(dt);
		g_date_time_unref(dt);
		return true;
	}
	case F_BODY:
		if (!msg_load(m, true))
			return false;
		*s = g_strndup(m->top.start + m->top.header_len,
			       m->top.len - m->top.header_len);
		return true;
	case F_HEADERS:
		if (!msg_load(m, false))
			return false;
		*s = g_strndup(m->top.start, m->top.header_len);
		return true;
	default:
		break;
	}
	if (!fields[fi].header || !msg_load(m, false))
		return false;
	g_autofree char *raw = mime_entity_header(&m->top, fields[fi].header);
	if (!raw)
		return false;
	*s = g_mime_utils_header_decode_text(NULL, raw);
	return *s != NULL;
}

struct folder_ctx {
	const char *name, *class;
};

static bool folder_value(const struct folder_ctx *f, int fi, char **s)
{
	const char *v = fields[fi].f == F_FOLDER_NAME ? f->name : f->class;

	*s = v ? g_strdup(v) : NULL;
	return v != NULL;
}

static bool text_match(const struct ewsd_restrict *r, const char *value)
{
	g_autofree char *f = r->exact ? g_strdup(value) : fold(value);
	int c;

	switch (r->op) {
	case O_CONTAINS:
		return r->mode == M_SUBSTRING ? strstr(f, r->text) != NULL
			: r->mode == M_PREFIX ? g_str_has_prefix(f, r->text)
			: !strcmp(f, r->text);
	case O_EQ: return !strcmp(f, r->text);
	case O_NE: return strcmp(f, r->text) != 0;
	default:
		c = strcmp(f, r->text);
		return r->op == O_GT ? c > 0 : r->op == O_GE ? c >= 0
			: r->op == O_LT ? c < 0 : c <= 0;
	}
}

static bool num_match(const struct ewsd_restrict *r, int64_t v)
{
	switch (r->op) {
	case O_EQ: return v == r->n;
	case O_NE: return v != r->n;
	case O_GT: return v > r->n;
	case O_GE: return v >= r->n;
	case O_LT: return v < r->n;
	case O_LE: return v <= r->n;
	case O_EXCLUDES: return (v & r->n) == 0;
	default: return false;
	}
}

static bool match(const struct ewsd_restrict *r, struct msg_ctx *m,
		  const struct folder_ctx *f)
{
	g_autofree char *s = NULL;
	int64_t n = 0;
	bool has;

	switch (r->op) {
	case O_AND:
		for (guint i = 0; i < r->sub->len; i++)
			if (!match(r->sub->pdata[i], m, f))
				return false;
		return true;
	case O_OR:
		for (guint i = 0; i < r->sub->len; i++)
			if (match(r->sub->pdata[i], m, f))
				return true;
		return false;
	case O_NOT:
		return !match(r->sub->pdata[0], m, f);
	default:
		break;
	}
	has = m ? msg_value(m, r->field, &s, &n)
		: folder_value(f, r->field, &s);
	if (r->op == O_EXISTS)
		return has;
	/* a property the item lacks matches no comparison, as in Exchange,
	 * but IsNotEqualTo */
	if (!has)
		return r->op == O_NE;
	return s ? fields[r->field].t == T_STR && text_match(r, s)
		 : num_match(r, n);
}

bool ewsd_restrict_message(const struct ewsd_restrict *r,
			   struct ewsd_call *call, const char *folder,
			   const struct mfs_item *it)
{
	struct msg_ctx m = { .call = call, .folder = folder, .it = it };
	bool yes;

	if (!r)
		return true;
	yes = match(r, &m, NULL);
	if (m.buf)
		g_string_free(m.buf, TRUE);
	ews_contact_free(&m.card);
	if (m.ev_ok)
		vcard_event_clear(&m.ev);
	return yes;
}

bool ewsd_restrict_folder(const struct ewsd_restrict *r, const char *name,
			  const char *container_class)
{
	struct folder_ctx f = { name, container_class };

	return !r || match(r, NULL, &f);
}
