/*
 * msgprops.c - message properties that stand for Maildir flags.
 *
 * Specs: see msgprops.h; what each value means is wire/ews-props.c's.
 */
#include "msgprops.h"

#include <errno.h>
#include <string.h>

#include "backend.h"
#include "wire/ews-soap.h"

int ewsd_prop_tag(const xmlNode *uri, unsigned *tag_r)
{
	g_autofree char *tag = ews_attr(uri, "PropertyTag");
	g_autofree char *set = NULL, *id = NULL;
	unsigned lid;

	if (tag)
		return ews_prop_tag_parse(tag, tag_r);
	/* the one named property kept: PSETID_Common's PidLidImapDeleted */
	set = ews_attr(uri, "DistinguishedPropertySetId");
	id = ews_attr(uri, "PropertyId");
	if (!set || strcmp(set, "Common") || !id ||
	    ews_prop_tag_parse(id, &lid) < 0 ||
	    lid != EWS_PSETID_COMMON_IMAP_DELETED)
		return -EINVAL;
	*tag_r = EWS_LID_IMAP_DELETED;
	return 0;
}

/* The text of the first child `name` (types namespace) of `parent`, or
 * NULL.  Caller owns the result. */
static char *child_text(const xmlNode *parent, const char *name)
{
	xmlNode *n = ews_child(parent, EWS_NS_T, name);
	xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
	char *copy = v ? g_strstrip(g_strdup((const char *)v)) : NULL;

	xmlFree(v);
	return copy;
}

static int parse_long(const char *text, long *v_r)
{
	gint64 v;

	if (!text || !g_ascii_string_to_signed(text, 10, G_MININT32,
					       G_MAXUINT32, &v, NULL))
		return -EINVAL;
	*v_r = (long)v;
	return 0;
}

static void set_bit(uint64_t *flags, uint64_t bit, bool on)
{
	if (on)
		*flags |= bit;
	else
		*flags &= ~bit;
}

/* Set (value non-NULL) or delete MAPI property `tag`. */
static int apply_ext(unsigned tag, const char *value, uint64_t *flags)
{
	uint64_t mask = ews_prop_mask(tag);
	long v = 0;

	if (value && parse_long(value, &v) < 0)
		return -EINVAL;
	switch (tag) {
	case EWS_PR_MESSAGE_FLAGS:
		if (!value)
			return -ENOTSUP;
		break;
	case EWS_PR_FLAG_STATUS:
		if (value && v != 0 && v != EWS_FLAG_STATUS_COMPLETE &&
		    v != EWS_FLAG_STATUS_FLAGGED)
			return -EINVAL;
		break;
	case EWS_LID_IMAP_DELETED:
		/* any value but 0 marks the message */
		set_bit(flags, MFS_FLAG_TRASHED, value && v != 0);
		return 0;
	case EWS_PR_LAST_VERB_EXECUTED:
		/* a verb adds its flag; other verbs (open, print...) leave
		 * no Maildir trace */
		if (value) {
			*flags |= ews_prop_flags(tag, v);
			return 0;
		}
		break;
	default:
		return -ENOTSUP;
	}
	/* the property's flags are what its value says, all of them */
	*flags = (*flags & ~mask) | (value ? ews_prop_flags(tag, v) : 0);
	return 0;
}

static int apply_flag_status(const char *status, uint64_t *flags)
{
	bool on = false;

	if (status && ews_flag_status_parse(status, &on) < 0)
		return -EINVAL;
	set_bit(flags, MFS_FLAG_FLAGGED, on);
	return 0;
}

/* The item element of a Set or Append change: t:Message, t:Item or any
 * other item type, whichever the client wrote. */
static xmlNode *change_item(const xmlNode *change, const xmlNode *path)
{
	for (xmlNode *n = ews_first_element(change); n;
	     n = ews_next_element(n))
		if (n != path)
			return n;
	return NULL;
}

int ewsd_msgprops_apply_change(const xmlNode *change, uint64_t *flags)
{
	bool del = ews_is(change, EWS_NS_T, "DeleteItemField");
	xmlNode *path = ews_first_element(change);
	xmlNode *item = del ? NULL : change_item(change, path);

	if (!path || (!del && !item))
		return -EINVAL;
	if (ews_is(path, EWS_NS_T, "ExtendedFieldURI")) {
		unsigned tag;
		if (ewsd_prop_tag(path, &tag) < 0)
			return -ENOTSUP;
		if (del)
			return apply_ext(tag, NULL, flags);
		xmlNode *ext = ews_child(item, EWS_NS_T, "ExtendedProperty");
		g_autofree char *value = ext ? child_text(ext, "Value") : NULL;
		return value ? apply_ext(tag, value, flags) : -EINVAL;
	}
	if (!ews_is(path, EWS_NS_T, "FieldURI"))
		return -ENOTSUP;
	g_autofree char *uri = ews_attr(path, "FieldURI");
	if (!uri)
		return -EINVAL;
	if (!strcmp(uri, "message:IsRead")) {
		bool on;
		g_autofree char *text = del ? NULL : child_text(item, "IsRead");
		if (del || !text || ews_bool_parse(text, &on) < 0)
			return -EINVAL;
		set_bit(flags, MFS_FLAG_SEEN, on);
		return 0;
	}
	if (!strcmp(uri, "item:Flag")) {
		xmlNode *flag = del ? NULL : ews_child(item, EWS_NS_T, "Flag");
		g_autofree char *status = flag ? child_text(flag, "FlagStatus")
					       : NULL;
		if (!del && !status)
			return -EINVAL;
		return apply_flag_status(status, flags);
	}
	return -ENOTSUP;
}

/* PidTagMessageDeliveryTime: the one property besides flags that a new
 * message keeps, as its arrival date (Maildir keeps it as the file's
 * time). */
#define PR_MESSAGE_DELIVERY_TIME 0x0E06u

static int parse_time(const char *text, int64_t *t_r)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) dt = text ? g_date_time_new_from_iso8601(text, utc)
				       : NULL;

	if (!dt)
		return -EINVAL;
	*t_r = g_date_time_to_unix(dt);
	return 0;
}

int ewsd_msgprops_from_item(const xmlNode *message, uint64_t *flags_r,
			   bool *has_message_flags_r, int64_t *date_r)
{
	uint64_t flags = 0;
	int64_t date = 0;
	bool has = false;
	g_autofree char *read = child_text(message, "IsRead");
	bool on = false;

	if (read && ews_bool_parse(read, &on) < 0)
		return -EINVAL;
	for (xmlNode *n = ews_first_element(message); n;
	     n = ews_next_element(n)) {
		if (!ews_is(n, EWS_NS_T, "ExtendedProperty"))
			continue;
		xmlNode *uri = ews_child(n, EWS_NS_T, "ExtendedFieldURI");
		unsigned tag;
		if (!uri || ewsd_prop_tag(uri, &tag) < 0)
			continue;	/* named properties are not kept */
		g_autofree char *value = child_text(n, "Value");
		if (!value)
			return -EINVAL;
		if (tag == PR_MESSAGE_DELIVERY_TIME) {
			if (parse_time(value, &date) < 0)
				return -EINVAL;
			continue;
		}
		/* other properties (a gateway's name for the item...) are
		 * not kept: a Maildir message is its bytes and flags */
		if (!ews_prop_mask(tag) && tag != EWS_PR_MESSAGE_FLAGS)
			continue;
		int rc = apply_ext(tag, value, &flags);
		if (rc == -EINVAL)
			return rc;
		if (tag == EWS_PR_MESSAGE_FLAGS)
			has = true;
	}
	/* exchangelib and others always send IsRead (false by default), so
	 * either saying "read" makes it read */
	if (on)
		flags |= MFS_FLAG_SEEN;
	*flags_r = flags;
	*has_message_flags_r = has;
	*date_r = date;
	return 0;
}

void ewsd_msgprops_write_ext(GString *out, const xmlNode *uri, uint64_t flags)
{
	unsigned tag;
	long v;

	if (ewsd_prop_tag(uri, &tag) < 0 || ews_prop_value(flags, tag, &v) < 0)
		return;
	g_string_append(out, "<t:ExtendedProperty><t:ExtendedFieldURI");
	for (xmlAttr *a = uri->properties; a; a = a->next) {
		xmlChar *val = xmlNodeGetContent((xmlNode *)a);
		g_string_append_printf(out, " %s=\"", (const char *)a->name);
		ews_escape(out, val ? (const char *)val : "");
		g_string_append_c(out, '"');
		xmlFree(val);
	}
	g_string_append_printf(out, "/><t:Value>%ld</t:Value>"
			       "</t:ExtendedProperty>", v);
}
