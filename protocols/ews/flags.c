/*
 * flags.c - Maildir flags as EWS item properties, both ways.
 *
 * Specs: [MS-OXWSCORE] 2.2.4.x (ItemType, MessageType: IsRead, Flag,
 * DateTimeReceived, InternetMessageId, ExtendedProperty), [MS-OXWSCDATA]
 * (PathToExtendedFieldType).  What each property says about which flag is
 * wire/ews-props.h, the mapping the embedded server shares; this file
 * writes requests and reads replies with it.
 *
 * D is set only when an item is created (the store makes
 * PidTagMessageFlags read-only afterwards).  S is read from IsRead alone.
 */
#include "ewsc-private.h"

#include <stdlib.h>

#include "wire/ews-props.h"

static void ext_uri(GString *req, unsigned tag)
{
	g_string_append_printf(req, "<t:ExtendedFieldURI PropertyTag=\""
			       "0x%04X\" PropertyType=\"Integer\"/>", tag);
}

void ewsc_req_item_props(GString *req)
{
	g_string_append(req, "<t:AdditionalProperties>"
		"<t:FieldURI FieldURI=\"item:DateTimeReceived\"/>"
		"<t:FieldURI FieldURI=\"item:Size\"/>"
		"<t:FieldURI FieldURI=\"item:Flag\"/>"
		"<t:FieldURI FieldURI=\"message:IsRead\"/>"
		"<t:FieldURI FieldURI=\"message:InternetMessageId\"/>");
	for (size_t i = 0; i < G_N_ELEMENTS(ews_flag_props); i++)
		ext_uri(req, ews_flag_props[i]);
	g_string_append(req, "</t:AdditionalProperties>");
}

static bool is_true(const char *v)
{
	bool on = false;

	return v && ews_bool_parse(v, &on) == 0 && on;
}

/* An ExtendedProperty's tag and integer value.  Returns false when it is
 * not one this file reads. */
static bool ext_read(const xmlNode *p, unsigned *tag_r, long *value_r)
{
	xmlNode *uri = ews_child(p, EWS_NS_T, "ExtendedFieldURI");
	g_autofree char *tag = uri ? ews_attr(uri, "PropertyTag") : NULL;
	g_autofree char *value = ewsc_text(p, "Value");
	char *end = NULL;

	if (!tag || !value)
		return false;
	unsigned long t = strtoul(tag, &end, 16);
	if (end == tag || *end || t > 0xFFFF)
		return false;
	long v = strtol(value, &end, 10);
	if (end == value || *end)
		return false;
	*tag_r = (unsigned)t;
	*value_r = v;
	return true;
}

void ewsc_item_read(const xmlNode *msg, uint64_t *flags_r, int64_t *date_r,
		   char **msgid_r, uint64_t *ews_size_r)
{
	g_autofree char *read = ewsc_text(msg, "IsRead");
	g_autofree char *received = ewsc_text(msg, "DateTimeReceived");
	g_autofree char *size = ewsc_text(msg, "Size");
	xmlNode *flag = ews_child(msg, EWS_NS_T, "Flag");
	g_autofree char *status = flag ? ewsc_text(flag, "FlagStatus") : NULL;
	uint64_t flags = 0;
	bool flagged = false;

	if (is_true(read))
		flags |= MFS_FLAG_SEEN;
	if (status && ews_flag_status_parse(status, &flagged) == 0 && flagged)
		flags |= MFS_FLAG_FLAGGED;
	for (xmlNode *p = ews_first_element(msg); p; p = ews_next_element(p)) {
		unsigned tag;
		long v;
		if (!ews_is(p, EWS_NS_T, "ExtendedProperty") ||
		    !ext_read(p, &tag, &v))
			continue;
		/* a flag is only ever added here: IsRead and FlagStatus
		 * have said theirs, and mfRead is not read (IsRead is) */
		flags |= ews_prop_flags(tag, v) & ~(uint64_t)MFS_FLAG_SEEN;
	}
	*flags_r = flags;
	*date_r = 0;
	if (received) {
		GDateTime *dt = g_date_time_new_from_iso8601(received, NULL);
		if (dt) {
			*date_r = g_date_time_to_unix(dt);
			g_date_time_unref(dt);
		}
	}
	if (msgid_r)
		*msgid_r = ewsc_text(msg, "InternetMessageId");
	*ews_size_r = size ? g_ascii_strtoull(size, NULL, 10) : 0;
}

static void set_ext(GString *req, unsigned tag, long value)
{
	g_string_append(req, "<t:SetItemField>");
	ext_uri(req, tag);
	g_string_append(req, "<t:Message><t:ExtendedProperty>");
	ext_uri(req, tag);
	g_string_append_printf(req, "<t:Value>%ld</t:Value>"
			       "</t:ExtendedProperty></t:Message>"
			       "</t:SetItemField>", value);
}

static void delete_ext(GString *req, unsigned tag)
{
	g_string_append(req, "<t:DeleteItemField>");
	ext_uri(req, tag);
	g_string_append(req, "</t:DeleteItemField>");
}

/* The value `flags` give property `tag`, 0 when they give none. */
static long value_of(uint64_t flags, unsigned tag)
{
	long v = 0;

	return ews_prop_value(flags, tag, &v) == 0 ? v : 0;
}

void ewsc_req_flag_updates(GString *req, uint64_t flags)
{
	long status = value_of(flags, EWS_PR_FLAG_STATUS);
	long verb = value_of(flags, EWS_PR_LAST_VERB_EXECUTED);

	g_string_append_printf(req, "<t:SetItemField>"
		"<t:FieldURI FieldURI=\"message:IsRead\"/><t:Message>"
		"<t:IsRead>%s</t:IsRead></t:Message></t:SetItemField>",
		flags & MFS_FLAG_SEEN ? "true" : "false");
	g_string_append_printf(req, "<t:SetItemField>"
		"<t:FieldURI FieldURI=\"item:Flag\"/><t:Message><t:Flag>"
		"<t:FlagStatus>%s</t:FlagStatus></t:Flag></t:Message>"
		"</t:SetItemField>", ews_flag_status(flags));
	if (status)
		set_ext(req, EWS_PR_FLAG_STATUS, status);
	else
		delete_ext(req, EWS_PR_FLAG_STATUS);
	if (verb)
		set_ext(req, EWS_PR_LAST_VERB_EXECUTED, verb);
	else
		delete_ext(req, EWS_PR_LAST_VERB_EXECUTED);
}

static void ext_prop(GString *req, unsigned tag, long value)
{
	g_string_append(req, "<t:ExtendedProperty>");
	ext_uri(req, tag);
	g_string_append_printf(req, "<t:Value>%ld</t:Value>"
			       "</t:ExtendedProperty>", value);
}

void ewsc_req_new_item_flags(GString *req, uint64_t flags)
{
	long status = value_of(flags, EWS_PR_FLAG_STATUS);
	long verb = value_of(flags, EWS_PR_LAST_VERB_EXECUTED);

	/* without mfUnsent cleared explicitly, a message made from MIME
	 * is a draft in Outlook's eyes */
	ext_prop(req, EWS_PR_MESSAGE_FLAGS,
		 value_of(flags, EWS_PR_MESSAGE_FLAGS));
	if (verb)
		ext_prop(req, EWS_PR_LAST_VERB_EXECUTED, verb);
	if (status) {
		ext_prop(req, EWS_PR_FLAG_STATUS, status);
		g_string_append_printf(req, "<t:Flag><t:FlagStatus>%s"
				       "</t:FlagStatus></t:Flag>",
				       ews_flag_status(flags));
	}
	g_string_append_printf(req, "<t:IsRead>%s</t:IsRead>",
			       flags & MFS_FLAG_SEEN ? "true" : "false");
}
