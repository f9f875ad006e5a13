/*
 * mapi-pim-private.h - what mapi-contact.c, mapi-appt.c, mapi-recur.c and
 * mapi-pim-names.c share: the indices of the named properties of
 * mapi_pim_names_used(), the plain tags of contacts and appointments
 * (MS-OXPROPS) that mapi-tags.h does not name, and small helpers for
 * values and content lines.
 */
#ifndef MFS_MAPI_PIM_PRIVATE_H
#define MFS_MAPI_PIM_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "mapi-pim.h"
#include "vcard.h"

/* Indices into mapi_pim_names_used()'s table. */
enum pim_name {
	/* PSETID_Address, MS-OXOCNTC */
	PN_FILE_UNDER,
	PN_HAS_PICTURE,
	PN_EMAIL1_DISPLAY,
	PN_EMAIL1_ADDRTYPE,
	PN_EMAIL1_ADDRESS,
	PN_EMAIL2_DISPLAY,
	PN_EMAIL2_ADDRTYPE,
	PN_EMAIL2_ADDRESS,
	PN_EMAIL3_DISPLAY,
	PN_EMAIL3_ADDRTYPE,
	PN_EMAIL3_ADDRESS,
	PN_WORK_STREET,
	PN_WORK_CITY,
	PN_WORK_STATE,
	PN_WORK_POSTAL_CODE,
	PN_WORK_COUNTRY,
	PN_WORK_PO_BOX,
	/* PSETID_Appointment, MS-OXOCAL */
	PN_APPT_SEQUENCE,
	PN_BUSY_STATUS,
	PN_LOCATION,
	PN_START_WHOLE,
	PN_END_WHOLE,
	PN_DURATION,
	PN_SUB_TYPE,
	PN_RECUR,
	PN_STATE_FLAGS,
	PN_RECURRING,
	PN_CLIP_START,
	PN_CLIP_END,
	/* PSETID_Common */
	PN_REMINDER_DELTA,
	PN_REMINDER_SET,
	PN_COMMON_START,
	PN_COMMON_END,
	/* PSETID_Meeting */
	PN_GLOBAL_OBJID,
	PN_CLEAN_GLOBAL_OBJID,
	PN_IS_RECURRING,
	/* PS_PUBLIC_STRINGS */
	PN_KEYWORDS,
	PN_VCARD_UID,
	PN_COUNT
};

/* Plain tags of contacts, MS-OXOCNTC and MS-OXOABK. */
#define PT_MIDDLE_NAME			0x3A44001FU
#define PT_DISPLAY_NAME_PREFIX		0x3A45001FU
#define PT_GENERATION			0x3A05001FU
#define PT_NICKNAME			0x3A4F001FU
#define PT_BIRTHDAY			0x3A420040U
#define PT_BUSINESS_HOME_PAGE		0x3A51001FU
#define PT_PERSONAL_HOME_PAGE		0x3A50001FU
#define PT_BUSINESS2_TELEPHONE		0x3A1B001FU
#define PT_HOME2_TELEPHONE		0x3A2F001FU
#define PT_BUSINESS_FAX			0x3A24001FU
#define PT_HOME_FAX			0x3A25001FU
#define PT_PRIMARY_FAX			0x3A23001FU
#define PT_PAGER_TELEPHONE		0x3A21001FU
#define PT_CAR_TELEPHONE		0x3A1E001FU
#define PT_ISDN				0x3A2D001FU
#define PT_PRIMARY_TELEPHONE		0x3A1A001FU
#define PT_OTHER_TELEPHONE		0x3A1F001FU
#define PT_ASSISTANT_TELEPHONE		0x3A2E001FU
#define PT_CALLBACK_TELEPHONE		0x3A02001FU
#define PT_COMPANY_MAIN_TELEPHONE	0x3A57001FU
#define PT_RADIO_TELEPHONE		0x3A1D001FU
#define PT_TTYTDD_TELEPHONE		0x3A4B001FU
#define PT_HOME_STREET			0x3A5D001FU
#define PT_HOME_CITY			0x3A59001FU
#define PT_HOME_STATE			0x3A5C001FU
#define PT_HOME_POSTAL_CODE		0x3A5B001FU
#define PT_HOME_COUNTRY			0x3A5A001FU
#define PT_HOME_PO_BOX			0x3A5E001FU
#define PT_OTHER_STREET			0x3A63001FU
#define PT_OTHER_CITY			0x3A5F001FU
#define PT_OTHER_STATE			0x3A62001FU
#define PT_OTHER_POSTAL_CODE		0x3A61001FU
#define PT_OTHER_COUNTRY		0x3A60001FU
#define PT_OTHER_PO_BOX			0x3A64001FU
#define PT_ATTACHMENT_CONTACT_PHOTO	0x7FFF000BU

/* Recipients of meetings, MS-OXOCAL 2.2.4.10 and MS-OXCMSG. */
#define PT_RECIPIENT_TRACK_STATUS	0x5FFF0003U
#define PT_SENT_REPRESENTING_SMTP	0x5D02001FU

/* PidTagRecipientFlags bits, MS-OXOCAL 2.2.4.10.1. */
#define PIM_RECIP_SENDABLE	0x0001U
#define PIM_RECIP_ORGANIZER	0x0002U

/* PidLidGlobalObjectId's fixed start (MS-OXOCAL 2.2.1.27) and the
 * length of its header (that start, the instance date, the creation
 * time, padding and the size of the data); the most text a UID may have
 * here, longer ones being no identifier any calendar hands out. */
extern const uint8_t pim_goid_head[16];
#define PIM_GOID_HDR 40
#define PIM_UID_MAX 4096

/* PidLidBusyStatus 0..4 as X-MICROSOFT-CDO-BUSYSTATUS, PidTagSensitivity
 * 0..3 as CLASS (MS-OXCICAL 2.1.3.1.1.20.7). */
#define PIM_N_BUSY 5
#define PIM_N_CLASS 4
extern const char *const pim_busy_names[PIM_N_BUSY];
extern const char *const pim_class_names[PIM_N_CLASS];

/* The tag of named property `n` with type `type`, or 0 when `names`
 * gives it no id. */
uint32_t pim_tag(const struct mapi_pim_names *names, enum pim_name n,
		 uint16_t type);

/* The UTF-8 text of the property with this tag's id: a PtypString, or a
 * PtypString8 that is valid UTF-8; NULL when absent, empty or `tag` 0.
 * Borrowed from `p`. */
const char *pim_str(const struct mapi_props *p, uint32_t tag);

/* Set a PtypString unless `tag` is 0 or `s` NULL or empty. */
void pim_set_str(struct mapi_props *p, uint32_t tag, const char *s);

/* The value with this exact tag, or NULL (also for `tag` 0). */
const struct mapi_value *pim_get(const struct mapi_props *p, uint32_t tag);

/* Append the content line NAME[;params]:value with `text` escaped (RFC
 * 6350 3.4, RFC 5545 3.3.11), folded; nothing when `text` is NULL or
 * empty. */
void pim_line(GString *out, const char *name, const char *params,
	      const char *text);

/* Append a content line whose value is written as given (already in the
 * value's syntax). */
void pim_line_raw(GString *out, const char *name, const char *params,
		  const char *value);

/* The values of a list value (CATEGORIES), split at unescaped commas,
 * each unescaped and trimmed, empty ones dropped.  Caller owns the
 * result (g_strfreev). */
char **pim_split_list(const char *value);

/* A multi-valued string (PidNameKeywords) written as one escaped,
 * comma-separated value into `out`; false when it has no non-empty
 * value. */
bool pim_join_list(const struct mapi_value *v, GString *out);

/* Set a PtypMultipleString from `list` (NULL-terminated) unless `tag` is
 * 0 or the list empty. */
void pim_set_list(struct mapi_props *p, uint32_t tag, char **list);

/* The number written in the `n` digits at `s`; false when one of them
 * is not a digit. */
bool pim_digits(const char *s, unsigned n, unsigned *v);

/* A date "YYYYMMDD" or "YYYY-MM-DD" at the start of `s` into days since
 * 1970, with *rest_r after it; false for anything else or a day that
 * does not exist or falls before 1601 or after 9999. */
bool pim_parse_date(const char *s, int64_t *days, const char **rest_r);

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
int64_t pim_days_from_civil(int y, unsigned m, unsigned d);
void pim_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);

/* "YYYYMMDDTHHMMSSZ" of seconds since 1970 into buf[17]. */
void pim_fmt_utc(char buf[17], int64_t secs);
/* "YYYYMMDD" of days since 1970 into buf[9]. */
void pim_fmt_date(char buf[9], int64_t days);

/* The day (since 1970) a FILETIME is nearest to: times stored as a
 * local midnight east or west of UTC land on the day they mean. */
int64_t pim_nearest_day(uint64_t ft);

/* ---- the recurrence pattern, mapi-recur.c ---- */

enum pim_freq {
	PIM_DAILY,
	PIM_WEEKLY,
	PIM_MONTHLY,		/* day of month; -1 the last day */
	PIM_MONTHLY_NTH,	/* nth (1..4, 5 the last) weekday of the mask */
	PIM_YEARLY,		/* as PIM_MONTHLY, every 12*interval months */
	PIM_YEARLY_NTH,
};

/* What of MS-OXOCAL 2.2.1.44's AppointmentRecurrencePattern an RRULE
 * carries.  Days count from 1970-01-01; the times in the pattern are
 * taken as UTC (PidLidTimeZoneStruct is not read). */
struct pim_recur {
	enum pim_freq freq;
	uint32_t interval;	/* days, weeks, months or years */
	uint32_t days;		/* weekday mask: Sunday 0x01 .. Saturday 0x40 */
	int month_day;		/* 1..31, or -1 for the last day */
	unsigned nth;		/* 1..5 (5: the last) */
	unsigned first_dow;	/* 0 Sunday .. 6 Saturday */
	bool ends;		/* an end date (by count or by date) */
	uint32_t count;		/* occurrences, when ends by count; else 0 */
	int64_t start_day;	/* first occurrence's date */
	int64_t end_day;	/* last occurrence's date, when it ends */
	uint32_t start_min;	/* minutes after midnight of the start */
	uint32_t end_min;	/* start_min + duration */
	GArray *deleted;	/* int64_t days; owned; sorted */
	GArray *modified;	/* int64_t days; owned; sorted */
};

void pim_recur_init(struct pim_recur *r);
void pim_recur_clear(struct pim_recur *r);

/* Read the blob of PidLidAppointmentRecur.  Returns 0, -EINVAL for a
 * blob that is not a pattern, or -ENOTSUP for a pattern (Hijri, ...)
 * that has no RRULE here. */
int pim_recur_read(const uint8_t *b, size_t len, struct pim_recur *r);

/* Append the blob of `r` (an AppointmentRecurrencePattern, writer
 * version 0x3009, no exceptions but the deleted instances). */
void pim_recur_write(const struct pim_recur *r, GByteArray *out);

/* The RRULE value of `r` into `out`; `start` is DTSTART in seconds, for
 * UNTIL; `all_day` writes UNTIL as a DATE. */
void pim_recur_rrule(const struct pim_recur *r, int64_t start, bool all_day,
		     GString *out);

/* Fill `r` from an RRULE value for an event starting at `start` (seconds
 * since 1970, UTC) that lasts `dur` seconds.  Returns 0, or -ENOTSUP for
 * a rule this pattern cannot hold (r is then left cleared). */
int pim_recur_from_rrule(const char *rrule, int64_t start, int64_t dur,
			 struct pim_recur *r);

#endif
