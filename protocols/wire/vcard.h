/*
 * vcard.h - one vCard as a list of content lines that can be read, changed
 * and written back with every line nobody changed kept byte for byte.
 *
 * Specs: RFC 6350 (vCard 4.0) sections 3.2 (line folding), 3.3 (content
 * lines, parameters, quoting), 3.4 (escaping in values); RFC 2426 (vCard
 * 3.0) section 4 and the vCard 2.1 habits it inherited: parameters with no
 * name ("TEL;WORK;FAX:") and ENCODING=QUOTED-PRINTABLE values with soft
 * line breaks.  Text is taken as UTF-8 whatever CHARSET says.
 *
 * Limits: a card larger than VCARD_MAX bytes or with more than
 * VCARD_PROPS_MAX lines is refused, so a hostile file costs bounded memory.
 *
 * Ownership: results through _r parameters and returned strings belong to
 * the caller; a struct vcard owns its properties and they own their
 * strings.
 */
#ifndef MFS_VCARD_H
#define MFS_VCARD_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define VCARD_MAX (8u * 1024 * 1024)
#define VCARD_PROPS_MAX 10000u

struct vcard_prop {
	char *group;		/* owned; NULL when none */
	char *name;		/* owned; upper case; "" for a line that is
				   not a content line (kept as it was) */
	GPtrArray *params;	/* owned; of char *, each "NAME=VALUE" or a
				   bare "VALUE", as written */
	char *value;		/* owned; unfolded, quoted-printable decoded,
				   still escaped */
	char *raw;		/* owned; the original bytes with their line
				   end, NULL once changed or for a new line */
};

struct vcard {
	GPtrArray *props;	/* owned; of struct vcard_prop *, owned;
				   from BEGIN:VCARD to END:VCARD inclusive */
	char *tail;		/* owned; whatever followed END:VCARD */
	int version;		/* 2, 3 or 4, from VERSION; 3 when absent */
};

/*
 * Parse the first vCard in `buf`.  Returns 0 with *card_r (caller owns,
 * vcard_free), -EFBIG past the limits, -EINVAL for bytes that are not a
 * vCard (no BEGIN:VCARD first, no END:VCARD, a NUL byte).
 */
int vcard_parse(const char *buf, size_t len, struct vcard **card_r);

/* The same for any object of content lines with the same rules, such as
 * an iCalendar VCALENDAR (RFC 5545 3.1 folds and escapes as RFC 6350
 * does): BEGIN:`kind` first, up to the first END:`kind`. */
int vcard_parse_object(const char *buf, size_t len, const char *kind,
		       struct vcard **card_r);

/* A card holding only BEGIN, VERSION:3.0 and END (caller owns). */
struct vcard *vcard_new(void);

void vcard_free(struct vcard **card);

/* The card's bytes: kept lines as they were, changed and new ones folded
 * at 75 octets with CRLF.  *out_r is NUL-terminated; caller owns it.
 * Returns 0, or -EFBIG when the result would pass VCARD_MAX. */
int vcard_write(const struct vcard *card, char **out_r, size_t *len_r);

/* Append one content line, folded at 75 octets (never inside a UTF-8
 * sequence), and its CRLF. */
void vcard_append_line(GString *out, const char *line);

/* A new property (caller owns) with `params` (e.g. "TYPE=work,voice", or
 * NULL) and an already escaped value. */
struct vcard_prop *vcard_prop_new(const char *name, const char *params,
				  const char *value);
void vcard_prop_free(gpointer prop);

/* Replace the value (already escaped).  The line is written anew, without
 * the ENCODING and CHARSET parameters that described the old bytes. */
void vcard_prop_set_value(struct vcard_prop *p, const char *value);

/* Insert `p` (takes ownership) before END:VCARD. */
void vcard_add(struct vcard *card, struct vcard_prop *p);

/* Whether the property carries type `type` (case-insensitive), given as
 * TYPE=a,b, as several TYPE parameters, as a bare 2.1 parameter, or as
 * PREF= for "pref". */
bool vcard_prop_has_type(const struct vcard_prop *p, const char *type);

/* The value of the first parameter `name` (case-insensitive) as written
 * "NAME=VALUE" ("TZID=Europe/Berlin" -> "Europe/Berlin"), its quotes taken
 * off and trimmed; NULL when absent.  Caller owns the result. */
char *vcard_prop_param(const struct vcard_prop *p, const char *name);

/* Value escaping (RFC 6350 3.4): backslash, comma, semicolon and line
 * breaks; CR is dropped and control characters other than tab and LF
 * with it.  `text` must be UTF-8. */
void vcard_escape(GString *out, const char *text);

/* `value` unescaped, as valid UTF-8 with no control characters but tab
 * and LF.  Caller owns the result. */
char *vcard_unescape(const char *value);

/* The components of a structured value, split at unescaped ';' and each
 * unescaped.  Caller owns the result (g_strfreev); never NULL, at least
 * one component. */
char **vcard_split(const char *value);

/*
 * The first VEVENT of an iCalendar object (RFC 5545 3.6.1), as a calendar
 * item shows it: SUMMARY (3.8.1.12), LOCATION (3.8.1.7), DESCRIPTION
 * (3.8.1.5), UID (3.8.4.7), DTSTART and DTEND (3.8.2.4, 3.8.2.2) as DATE
 * or DATE-TIME (3.3.4, 3.3.5).  The properties of components inside it
 * (VALARM) are not the event's.
 */
struct vcard_event {
	char *summary, *location, *description, *uid;	/* owned; unescaped;
							   NULL when absent */
	GDateTime *start, *end;	/* owned; NULL when absent */
	bool all_day;		/* DTSTART is a DATE */
};

/* Read the first VEVENT of the VCALENDAR in `buf` into *ev (cleared
 * first; vcard_event_clear after).  A time with an unknown TZID, or a
 * floating one, is taken as UTC; with no DTEND the event lasts a day for
 * a DATE, else nothing.  Returns 0, -EINVAL for no VCALENDAR, -EFBIG past
 * the limits. */
int vcard_event_read(const char *buf, size_t len, struct vcard_event *ev);
void vcard_event_clear(struct vcard_event *ev);

/* Set property `name` of the first VEVENT of `cal` (a VCALENDAR from
 * vcard_parse_object) to `value` (already escaped) with `params` (or
 * NULL), replacing the line it had or adding one before END:VEVENT; a
 * NULL `value` removes the line.  Returns 0 or -EINVAL without a VEVENT. */
int vcard_event_set(struct vcard *cal, const char *name, const char *params,
		    const char *value);

/* Move the lines of `props` (of struct vcard_prop *; left empty), in
 * their order, to just before END:VEVENT of the first VEVENT of `cal`,
 * after every line and component it holds: a whole component can be
 * added at once.  Returns 0, or -EINVAL without a VEVENT (`props` then
 * left as it was). */
int vcard_event_add(struct vcard *cal, GPtrArray *props);

/* Remove the first VEVENT's own lines named `name` (not those of a
 * component inside it) for which `match` is true, or all of them for a
 * NULL `match`.  Returns how many went, or -EINVAL without a VEVENT. */
int vcard_event_remove(struct vcard *cal, const char *name,
		       bool (*match)(const struct vcard_prop *p, void *data),
		       void *data);

/* Remove the components `kind` (e.g. "VALARM"), BEGIN to END, that the
 * first VEVENT holds.  Returns how many went, or -EINVAL without a
 * VEVENT. */
int vcard_event_remove_components(struct vcard *cal, const char *kind);

#endif
