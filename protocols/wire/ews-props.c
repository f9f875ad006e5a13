/*
 * ews-props.c - Maildir flags as EWS message properties, both ways.
 *
 * Specs: see ews-props.h.
 */
#include "ews-props.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "maildir-name.h"

/*
 * One row per flag a property value stands for.  A property of `bits` is a
 * mask: each row's value is one bit of it, and every message has a value.
 * Otherwise the property holds one value: the first row whose flag a
 * message has gives it, and a message with none of them has no value.
 */
static const struct {
	unsigned tag;
	bool bits;
	long value;
	char letter;
} rows[] = {
	{ EWS_PR_MESSAGE_FLAGS, true, EWS_MSGFLAG_READ, 'S' },
	{ EWS_PR_MESSAGE_FLAGS, true, EWS_MSGFLAG_UNSENT, 'D' },
	{ EWS_PR_FLAG_STATUS, false, EWS_FLAG_STATUS_FLAGGED, 'F' },
	{ EWS_PR_LAST_VERB_EXECUTED, false, EWS_VERB_REPLY_TO_SENDER, 'R' },
	{ EWS_PR_LAST_VERB_EXECUTED, false, EWS_VERB_REPLY_TO_ALL, 'R' },
	{ EWS_PR_LAST_VERB_EXECUTED, false, EWS_VERB_FORWARD, 'P' },
	{ EWS_LID_IMAP_DELETED, false, 1, 'T' },
};

const unsigned ews_flag_props[3] = {
	EWS_PR_MESSAGE_FLAGS, EWS_PR_LAST_VERB_EXECUTED, EWS_PR_FLAG_STATUS,
};

int ews_prop_value(uint64_t flags, unsigned tag, long *v_r)
{
	bool known = false, bits = false;
	long v = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		if (rows[i].tag != tag)
			continue;
		known = true;
		bits = rows[i].bits;
		if (!(flags & maildir_flag_bit(rows[i].letter)))
			continue;
		if (!bits) {
			*v_r = rows[i].value;
			return 0;
		}
		v |= rows[i].value;
	}
	if (!known)
		return -ENOTSUP;
	if (!bits)
		return -ENODATA;
	*v_r = v;
	return 0;
}

uint64_t ews_prop_flags(unsigned tag, long v)
{
	uint64_t flags = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		if (rows[i].tag != tag)
			continue;
		if (rows[i].bits ? (v & rows[i].value) != 0
				 : v == rows[i].value)
			flags |= maildir_flag_bit(rows[i].letter);
	}
	return flags;
}

uint64_t ews_prop_mask(unsigned tag)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		if (rows[i].tag == tag)
			mask |= maildir_flag_bit(rows[i].letter);
	}
	return mask;
}

const char *ews_flag_status(uint64_t flags)
{
	return flags & maildir_flag_bit('F') ? "Flagged" : "NotFlagged";
}

int ews_flag_status_parse(const char *status, bool *flagged_r)
{
	if (!strcmp(status, "Flagged"))
		*flagged_r = true;
	else if (!strcmp(status, "NotFlagged") || !strcmp(status, "Complete"))
		*flagged_r = false;
	else
		return -EINVAL;
	return 0;
}

int ews_bool_parse(const char *text, bool *v_r)
{
	if (!strcmp(text, "true") || !strcmp(text, "1"))
		*v_r = true;
	else if (!strcmp(text, "false") || !strcmp(text, "0"))
		*v_r = false;
	else
		return -EINVAL;
	return 0;
}

int ews_prop_tag_parse(const char *text, unsigned *tag_r)
{
	const char *digits = text;
	guint base = 10;
	guint64 v;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		digits = text + 2;
		base = 16;
	}
	if (!*digits ||
	    !g_ascii_string_to_unsigned(digits, base, 0, 0xFFFF, &v, NULL))
		return -EINVAL;
	*tag_r = (unsigned)v;
	return 0;
}
