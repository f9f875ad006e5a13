/*
 * flags.c - Maildir flags as EWS item properties, both ways.
 *
 * Specs: [MS-OXWSCORE] 2.2.4.x (ItemType, MessageType: IsRead, Flag,
 * DateTimeReceived, InternetMessageId, ExtendedProperty), [MS-OXWSCDATA]
 * (PathToExtendedFieldType), [MS-OXPROPS]: PidTagMessageFlags 0x0E07
 * (mfRead 0x1, mfUnsent 0x8), PidTagLastVerbExecuted 0x1081 (102 reply,
 * 103 reply to all, 104 forward), PidTagFlagStatus 0x1090 (2 flagged).
 *
 *   S  IsRead
 *   F  Flag/FlagStatus = Flagged, and PidTagFlagStatus = 2
 *   R  PidTagLastVerbExecuted 102 or 103
 *   P  PidTagLastVerbExecuted 104
 *   D  PidTagMessageFlags & mfUnsent; set only when an item is created
 *      (the store makes it read-only afterwards)
 * The last verb is one value, so R and P together are stored as R.
 */
#include "ewsc-private.h"

#include <stdlib.h>
#include <string.h>

#define PROP_MESSAGE_FLAGS 0x0E07
#define PROP_LAST_VERB 0x1081
#define PROP_FLAG_STATUS 0x1090
#define MSGFLAG_READ 0x1
#define MSGFLAG_UNSENT 0x8
#define VERB_REPLY 102
#define VERB_REPLY_ALL 103
#define VERB_FORWARD 104
#define FLAG_STATUS_FLAGGED 2

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
	ext_uri(req, PROP_MESSAGE_FLAGS);
	ext_uri(req, PROP_LAST_VERB);
	ext_uri(req, PROP_FLAG_STATUS);
	g_string_append(req, "</t:AdditionalProperties>");
}

static bool is_true(const char *v)
{
	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
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

	if (is_true(read))
		flags |= MFS_FLAG_SEEN;
	if (status && !strcmp(status, "Flagged"))
		flags |= MFS_FLAG_FLAGGED;
	for (xmlNode *p = ews_first_element(msg); p; p = ews_next_element(p)) {
		unsigned tag;
		long v;
		if (!ews_is(p, EWS_NS_T, "ExtendedProperty") ||
		    !ext_read(p, &tag, &v))
			continue;
		if (tag == PROP_MESSAGE_FLAGS && (v & MSGFLAG_UNSENT))
			flags |= MFS_FLAG_DRAFT;
		if (tag == PROP_LAST_VERB &&
		    (v == VERB_REPLY || v == VERB_REPLY_ALL))
			flags |= MFS_FLAG_REPLIED;
		if (tag == PROP_LAST_VERB && v == VERB_FORWARD)
			flags |= MFS_FLAG_PASSED;
		if (tag == PROP_FLAG_STATUS && v == FLAG_STATUS_FLAGGED)
			flags |= MFS_FLAG_FLAGGED;
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

static long verb_of(uint64_t flags)
{
	if (flags & MFS_FLAG_REPLIED)
		return VERB_REPLY;
	if (flags & MFS_FLAG_PASSED)
		return VERB_FORWARD;
	return 0;
}

void ewsc_req_flag_updates(GString *req, uint64_t flags)
{
	bool flagged = flags & MFS_FLAG_FLAGGED;
	long verb = verb_of(flags);

	g_string_append_printf(req, "<t:SetItemField>"
		"<t:FieldURI FieldURI=\"message:IsRead\"/><t:Message>"
		"<t:IsRead>%s</t:IsRead></t:Message></t:SetItemField>",
		flags & MFS_FLAG_SEEN ? "true" : "false");
	g_string_append_printf(req, "<t:SetItemField>"
		"<t:FieldURI FieldURI=\"item:Flag\"/><t:Message><t:Flag>"
		"<t:FlagStatus>%s</t:FlagStatus></t:Flag></t:Message>"
		"</t:SetItemField>", flagged ? "Flagged" : "NotFlagged");
	if (flagged)
		set_ext(req, PROP_FLAG_STATUS, FLAG_STATUS_FLAGGED);
	else
		delete_ext(req, PROP_FLAG_STATUS);
	if (verb)
		set_ext(req, PROP_LAST_VERB, verb);
	else
		delete_ext(req, PROP_LAST_VERB);
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
	long mflags = 0;
	long verb = verb_of(flags);

	/* without mfUnsent cleared explicitly, a message made from MIME
	 * is a draft in Outlook's eyes */
	if (flags & MFS_FLAG_SEEN)
		mflags |= MSGFLAG_READ;
	if (flags & MFS_FLAG_DRAFT)
		mflags |= MSGFLAG_UNSENT;
	ext_prop(req, PROP_MESSAGE_FLAGS, mflags);
	if (verb)
		ext_prop(req, PROP_LAST_VERB, verb);
	if (flags & MFS_FLAG_FLAGGED)
		ext_prop(req, PROP_FLAG_STATUS, FLAG_STATUS_FLAGGED);
	if (flags & MFS_FLAG_FLAGGED)
		g_string_append(req, "<t:Flag><t:FlagStatus>Flagged"
				"</t:FlagStatus></t:Flag>");
	g_string_append_printf(req, "<t:IsRead>%s</t:IsRead>",
			       flags & MFS_FLAG_SEEN ? "true" : "false");
}
