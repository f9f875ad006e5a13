/*
 * mapi-recur.c - the recurrence of an appointment: PidLidAppointmentRecur's
 * AppointmentRecurrencePattern and RecurrencePattern ([MS-OXOCAL]
 * 2.2.1.44.1 and 2.2.1.44.5) read and written, and turned into and from
 * an RRULE (RFC 5545 3.3.10, 3.8.5.3) as [MS-OXCICAL] 2.1.3.2.1 maps
 * them: daily, weekly, monthly (by day or nth weekday) and yearly, with
 * an interval, a count or an end date; deleted instances are EXDATEs.
 *
 * The pattern counts minutes from 1601-01-01 in the appointment's own
 * time zone; this file counts days from 1970-01-01 and takes the
 * pattern's dates as they are (see docs/MAPI.md for what that costs).
 */
#include "mapi-pim-private.h"

#include <errno.h>
#include <string.h>

#define FREQ_DAILY	0x200A
#define FREQ_WEEKLY	0x200B
#define FREQ_MONTHLY	0x200C
#define FREQ_YEARLY	0x200D
#define PT_DAY		0x0000
#define PT_WEEK		0x0001
#define PT_MONTH	0x0002
#define PT_MONTH_NTH	0x0003
#define PT_MONTH_END	0x0004
#define END_DATE	0x2021
#define END_COUNT	0x2022
#define END_NEVER	0x2023
#define NO_END_DATE	0x5AE980DFU	/* 4500-08-31, MS-OXOCAL */
/* days from 1601-01-01 to 1970-01-01 */
#define DAYS_1601	134774
/* most periods (days, weeks, months) walked to find a series' end */
#define WALK_MAX	200000
/* most deleted or modified instances read */
#define LIST_MAX	100000

static const char *const day_names[7] = {
	"SU", "MO", "TU", "WE", "TH", "FR", "SA" };

void pim_recur_init(struct pim_recur *r)
{
	memset(r, 0, sizeof(*r));
	r->interval = 1;
	r->nth = 1;
	r->first_dow = 1;
	r->deleted = g_array_new(FALSE, FALSE, sizeof(int64_t));
	r->modified = g_array_new(FALSE, FALSE, sizeof(int64_t));
}

void pim_recur_clear(struct pim_recur *r)
{
	if (r->deleted)
		g_array_free(r->deleted, TRUE);
	if (r->modified)
		g_array_free(r->modified, TRUE);
	pim_recur_init(r);
}

static unsigned dow_of(int64_t day)
{
	/* 1970-01-01 was a Thursday */
	return (unsigned)(((day % 7) + 7 + 4) % 7);
}

static int64_t day_of_min(uint32_t min)
{
	return (int64_t)(min / 1440) - DAYS_1601;
}

static uint32_t min_of_day(int64_t day)
{
	int64_t m = (day + DAYS_1601) * 1440;

	return m < 0 ? 0 : m > 0xFFFFFFFFLL ? 0xFFFFFFFFU : (uint32_t)m;
}

/* ---- reading the blob ---- */

struct rd {
	const uint8_t *b;
	size_t len, off;
	bool bad;
};

static uint32_t rd_u(struct rd *r, size_t n)
{
	uint32_t v = 0;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint32_t)r->b[r->off + i] << (8 * i);
	r->off += n;
	return v;
}

static void rd_days(struct rd *r, GArray *into)
{
	uint32_t n = rd_u(r, 4);

	if (n > LIST_MAX || n > (r->len - r->off) / 4) {
		r->bad = true;
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		int64_t d = day_of_min(rd_u(r, 4));
		g_array_append_val(into, d);
	}
}

/* The kind of pattern from its frequency and type; false for one that
 * has no RRULE here (Hijri, an unknown kind). */
static bool pattern_kind(struct pim_recur *r, unsigned freq, unsigned type,
			 uint32_t period)
{
	switch (freq) {
	case FREQ_DAILY:
		if (type == PT_WEEK) {		/* every weekday */
			r->freq = PIM_WEEKLY;
			r->interval = 1;
			return true;
		}
		r->freq = PIM_DAILY;
		r->interval = period / 1440;
		return type == PT_DAY && period % 1440 == 0;
	case FREQ_WEEKLY:
		r->freq = PIM_WEEKLY;
		r->interval = period;
		return type == PT_WEEK;
	case FREQ_MONTHLY:
	case FREQ_YEARLY:
		r->interval = freq == FREQ_YEARLY ? period / 12 : period;
		if (freq == FREQ_YEARLY && period % 12)
			return false;
		if (type == PT_MONTH || type == PT_MONTH_END)
			r->freq = freq == FREQ_YEARLY ? PIM_YEARLY :
				  PIM_MONTHLY;
		else if (type == PT_MONTH_NTH)
			r->freq = freq == FREQ_YEARLY ? PIM_YEARLY_NTH :
				  PIM_MONTHLY_NTH;
		else
			return false;
		return true;
	default:
		return false;
	}
}

int pim_recur_read(const uint8_t *b, size_t len, struct pim_recur *r)
{
	struct rd d = { .b = b, .len = len };
	unsigned freq, type, cal;
	uint32_t period, end_type, count, start, end;
	bool known;

	if (rd_u(&d, 2) != 0x3004 || rd_u(&d, 2) != 0x3004)
		return -EINVAL;
	freq = rd_u(&d, 2);
	type = rd_u(&d, 2);
	cal = rd_u(&d, 2);
	rd_u(&d, 4);			/* FirstDateTime */
	period = rd_u(&d, 4);
	rd_u(&d, 4);			/* SlidingFlag */
	known = pattern_kind(r, freq, type, period);
	if (type == PT_WEEK) {
		r->days = rd_u(&d, 4) & 0x7F;
	} else if (type == PT_MONTH || type == PT_MONTH_END ||
		   type == 0x000A || type == 0x000C) {
		r->month_day = (int)rd_u(&d, 4);
		if (type == PT_MONTH_END)
			r->month_day = -1;
	} else if (type == PT_MONTH_NTH || type == 0x000B) {
		r->days = rd_u(&d, 4) & 0x7F;
		r->nth = rd_u(&d, 4);
	}
	end_type = rd_u(&d, 4);
	count = rd_u(&d, 4);
	r->first_dow = rd_u(&d, 4);
	rd_days(&d, r->deleted);
	rd_days(&d, r->modified);
	start = rd_u(&d, 4);
	end = rd_u(&d, 4);
	if (d.bad)
		return -EINVAL;
	/* the appointment's part: the times of day; a bare
	 * RecurrencePattern has none */
	if (rd_u(&d, 4) == 0x3006) {
		rd_u(&d, 4);
		r->start_min = rd_u(&d, 4);
		r->end_min = rd_u(&d, 4);
		if (d.bad || r->start_min >= 1440 ||
		    r->end_min < r->start_min)
			r->start_min = r->end_min = 0;
	}
	r->start_day = day_of_min(start);
	r->end_day = day_of_min(end);
	r->ends = end_type == END_DATE || end_type == END_COUNT;
	r->count = end_type == END_COUNT ? count : 0;
	if (end_type == END_COUNT && count == 0)
		return -EINVAL;
	if (!known || (cal != 0 && cal != 1) || r->interval == 0 ||
	    r->interval > 999 || r->first_dow > 6)
		return -ENOTSUP;
	if ((r->freq == PIM_WEEKLY || r->freq == PIM_MONTHLY_NTH ||
	     r->freq == PIM_YEARLY_NTH) && !r->days)
		return -EINVAL;
	if ((r->freq == PIM_MONTHLY || r->freq == PIM_YEARLY) &&
	    (r->month_day == 0 || r->month_day > 31))
		return -EINVAL;
	if ((r->freq == PIM_MONTHLY_NTH || r->freq == PIM_YEARLY_NTH) &&
	    (r->nth < 1 || r->nth > 5))
		return -EINVAL;
	return 0;
}

/* ---- walking the series ---- */

static unsigned days_in_month(int y, unsigned m)
{
	int64_t a = pim_days_from_civil(y, m, 1);
	int64_t b = m == 12 ? pim_days_from_civil(y + 1, 1, 1) :
		    pim_days_from_civil(y, m + 1, 1);

	return (unsigned)(b - a);
}

/* The day of the pattern in month `mi` (year * 12 + month - 1). */
static int64_t month_day(const struct pim_recur *r, int64_t mi)
{
	int y = (int)(mi / 12);
	unsigned m = (unsigned)(mi % 12) + 1, dim = days_in_month(y, m);
	int64_t first = pim_days_from_civil(y, m, 1), found = -1;
	unsigned seen = 0;

	if (r->freq == PIM_MONTHLY || r->freq == PIM_YEARLY) {
		/* a day past the month's end is its last day, as Outlook
		 * counts it */
		unsigned d = r->month_day < 0 || (unsigned)r->month_day > dim ?
			     dim : (unsigned)r->month_day;
		return first + d - 1;
	}
	for (unsigned d = 0; d < dim; d++) {
		if (!(r->days & (1u << dow_of(first + d))))
			continue;
		found = first + d;
		if (++seen == r->nth)
			return found;
	}
	return r->nth == 5 ? found : -1;
}

/*
 * Walk the occurrences from start_day in order until `count` of them
 * (when not 0) or the last one not after `until` (when >= 0).  Returns
 * how many there were; *last_r is the date of the last.  The walk stops
 * after WALK_MAX periods.
 */
static uint32_t walk(const struct pim_recur *r, uint32_t count, int64_t until,
		     int64_t *last_r)
{
	uint32_t n = 0;
	int64_t last = r->start_day;

#define HIT(day) do {							\
		if (until >= 0 && (day) > until)			\
			goto done;					\
		last = (day);						\
		if (++n == count)					\
			goto done;					\
	} while (0)

	if (r->freq == PIM_DAILY) {
		for (uint32_t k = 0; k < WALK_MAX; k++)
			HIT(r->start_day + (int64_t)k * r->interval);
	} else if (r->freq == PIM_WEEKLY) {
		int64_t ws = r->start_day -
			     (dow_of(r->start_day) + 7 - r->first_dow) % 7;
		for (uint32_t k = 0; k < WALK_MAX; k++, ws += 7LL * r->interval)
			for (int64_t d = ws; d < ws + 7; d++)
				if (d >= r->start_day &&
				    (r->days & (1u << dow_of(d))))
					HIT(d);
	} else {
		int y;
		unsigned m, dd;
		int64_t step = r->interval * (r->freq == PIM_YEARLY ||
			r->freq == PIM_YEARLY_NTH ? 12 : 1), mi;

		pim_civil_from_days(r->start_day, &y, &m, &dd);
		mi = (int64_t)y * 12 + m - 1;
		for (uint32_t k = 0; k < WALK_MAX && mi < 10000 * 12;
		     k++, mi += step) {
			int64_t d = month_day(r, mi);
			if (d >= r->start_day)
				HIT(d);
		}
	}
done:
#undef HIT
	*last_r = last;
	return n;
}

/* ---- writing the blob ---- */

static void put_u(GByteArray *out, uint32_t v, unsigned n)
{
	uint8_t b[4];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	g_byte_array_append(out, b, n);
}

/* FirstDateTime, MS-OXOCAL 2.2.1.44.1: where the first period of the
 * series would fall counting from 1601-01-01. */
static uint32_t first_date_time(const struct pim_recur *r, uint32_t period)
{
	if (r->freq == PIM_DAILY)
		return min_of_day(r->start_day) % period;
	if (r->freq == PIM_WEEKLY) {
		int64_t ws = r->start_day -
			     (dow_of(r->start_day) + 7 - r->first_dow) % 7;
		return min_of_day(ws) % (period * 10080);
	} else {
		int y;
		unsigned m, d;
		int64_t months, fm;

		pim_civil_from_days(r->start_day, &y, &m, &d);
		months = ((int64_t)y - 1601) * 12 + m - 1;
		fm = months % period;
		return min_of_day(pim_days_from_civil(1601 + (int)(fm / 12),
						      (unsigned)(fm % 12) + 1,
						      1));
	}
}

void pim_recur_write(const struct pim_recur *r, GByteArray *out)
{
	unsigned freq, type;
	uint32_t period;
	bool yearly = r->freq == PIM_YEARLY || r->freq == PIM_YEARLY_NTH;

	switch (r->freq) {
	case PIM_DAILY:
		freq = FREQ_DAILY;
		type = PT_DAY;
		period = r->interval * 1440;
		break;
	case PIM_WEEKLY:
		freq = FREQ_WEEKLY;
		type = PT_WEEK;
		period = r->interval;
		break;
	default:
		freq = yearly ? FREQ_YEARLY : FREQ_MONTHLY;
		type = r->freq == PIM_MONTHLY_NTH || r->freq == PIM_YEARLY_NTH ?
		       PT_MONTH_NTH : r->month_day < 0 ? PT_MONTH_END :
		       PT_MONTH;
		period = r->interval * (yearly ? 12 : 1);
		break;
	}
	put_u(out, 0x3004, 2);
	put_u(out, 0x3004, 2);
	put_u(out, freq, 2);
	put_u(out, type, 2);
	put_u(out, 0, 2);			/* Gregorian */
	put_u(out, first_date_time(r, period), 4);
	put_u(out, period, 4);
	put_u(out, 0, 4);			/* SlidingFlag */
	if (type == PT_WEEK) {
		put_u(out, r->days, 4);
	} else if (type == PT_MONTH_NTH) {
		put_u(out, r->days, 4);
		put_u(out, r->nth, 4);
	} else if (type != PT_DAY) {
		put_u(out, r->month_day < 0 ? 31 : (uint32_t)r->month_day, 4);
	}
	put_u(out, !r->ends ? END_NEVER : r->count ? END_COUNT : END_DATE, 4);
	if (r->ends && !r->count) {
		int64_t last;
		put_u(out, walk(r, 0, r->end_day, &last), 4);
	} else {
		put_u(out, r->ends ? r->count : 10, 4);
	}
	put_u(out, r->first_dow, 4);
	put_u(out, r->deleted->len, 4);
	for (guint i = 0; i < r->deleted->len; i++)
		put_u(out, min_of_day(g_array_index(r->deleted, int64_t, i)),
		      4);
	put_u(out, r->modified->len, 4);
	for (guint i = 0; i < r->modified->len; i++)
		put_u(out, min_of_day(g_array_index(r->modified, int64_t, i)),
		      4);
	put_u(out, min_of_day(r->start_day), 4);
	put_u(out, r->ends ? min_of_day(r->end_day) : NO_END_DATE, 4);
	/* AppointmentRecurrencePattern, MS-OXOCAL 2.2.1.44.5 */
	put_u(out, 0x3006, 4);
	put_u(out, 0x3009, 4);
	put_u(out, r->start_min, 4);
	put_u(out, r->end_min, 4);
	put_u(out, 0, 2);			/* ExceptionCount */
	put_u(out, 0, 4);			/* ReservedBlock1Size */
	put_u(out, 0, 4);			/* ReservedBlock2Size */
}

/* ---- RRULE ---- */

static void put_days(GString *out, uint32_t mask)
{
	bool any = false;

	g_string_append(out, ";BYDAY=");
	for (unsigned d = 0; d < 7; d++) {
		if (!(mask & (1u << d)))
			continue;
		if (any)
			g_string_append_c(out, ',');
		g_string_append(out, day_names[d]);
		any = true;
	}
}

void pim_recur_rrule(const struct pim_recur *r, int64_t start, bool all_day,
		     GString *out)
{
	static const char *const freq[] = {
		[PIM_DAILY] = "DAILY", [PIM_WEEKLY] = "WEEKLY",
		[PIM_MONTHLY] = "MONTHLY", [PIM_MONTHLY_NTH] = "MONTHLY",
		[PIM_YEARLY] = "YEARLY", [PIM_YEARLY_NTH] = "YEARLY" };
	int y;
	unsigned m, d;

	pim_civil_from_days(r->start_day, &y, &m, &d);
	g_string_append_printf(out, "FREQ=%s;INTERVAL=%u", freq[r->freq],
			       r->interval);
	if (r->freq == PIM_YEARLY || r->freq == PIM_YEARLY_NTH)
		g_string_append_printf(out, ";BYMONTH=%u", m);
	switch (r->freq) {
	case PIM_WEEKLY:
		put_days(out, r->days);
		break;
	case PIM_MONTHLY:
	case PIM_YEARLY:
		g_string_append_printf(out, ";BYMONTHDAY=%d", r->month_day);
		break;
	case PIM_MONTHLY_NTH:
	case PIM_YEARLY_NTH:
		put_days(out, r->days);
		g_string_append_printf(out, ";BYSETPOS=%d",
				       r->nth == 5 ? -1 : (int)r->nth);
		break;
	default:
		break;
	}
	if (r->ends && r->count) {
		g_string_append_printf(out, ";COUNT=%u", r->count);
	} else if (r->ends) {
		char b[17];
		int64_t tod = start % 86400;
		if (tod < 0)
			tod += 86400;
		if (all_day)
			pim_fmt_date(b, r->end_day);
		else
			pim_fmt_utc(b, r->end_day * 86400 + tod);
		g_string_append_printf(out, ";UNTIL=%s", b);
	}
	if (r->freq == PIM_WEEKLY)
		g_string_append_printf(out, ";WKST=%s",
				       day_names[r->first_dow % 7]);
}

static int day_index(const char *s)
{
	for (int d = 0; d < 7; d++)
		if (g_ascii_strcasecmp(s, day_names[d]) == 0)
			return d;
	return -1;
}

/* BYDAY's list: a mask of plain days, or a single "2TU" / "-1FR" into
 * *nth (0 when there is no number).  -ENOTSUP for what the pattern
 * cannot hold (several numbered days, numbers past 4 but -1). */
static int parse_byday(const char *v, uint32_t *mask, int *nth)
{
	g_auto(GStrv) list = g_strsplit(v, ",", 0);
	int n_num = 0;

	*mask = 0;
	*nth = 0;
	for (char **e = list; *e; e++) {
		char *s = g_strstrip(*e);
		long num = 0;
		int d;
		if (*s == '+' || *s == '-' || g_ascii_isdigit(*s)) {
			char *end;
			num = strtol(s, &end, 10);
			s = end;
			if (num == 0 || (num > 4 && num != -1) || num < -1)
				return -ENOTSUP;
			n_num++;
		}
		d = day_index(s);
		if (d < 0)
			return -ENOTSUP;
		*mask |= 1u << d;
		if (num)
			*nth = num < 0 ? 5 : (int)num;
	}
	if (!*mask || (n_num && (n_num > 1 || list[1])))
		return -ENOTSUP;
	return 0;
}

struct rule {
	const char *freq, *byday, *bymonthday, *bymonth, *bysetpos;
	const char *count, *until, *wkst;
	uint32_t interval;
};

static int split_rule(char **parts, struct rule *u)
{
	for (char **p = parts; *p; p++) {
		char *eq = strchr(*p, '=');
		const char *k = *p, *v;
		guint64 n;
		if (!**p)
			continue;
		if (!eq)
			return -EINVAL;
		*eq = 0;
		v = eq + 1;
		if (!g_ascii_strcasecmp(k, "FREQ"))
			u->freq = v;
		else if (!g_ascii_strcasecmp(k, "INTERVAL")) {
			if (!g_ascii_string_to_unsigned(v, 10, 1, 999, &n,
							NULL))
				return -ENOTSUP;
			u->interval = (uint32_t)n;
		} else if (!g_ascii_strcasecmp(k, "BYDAY"))
			u->byday = v;
		else if (!g_ascii_strcasecmp(k, "BYMONTHDAY"))
			u->bymonthday = v;
		else if (!g_ascii_strcasecmp(k, "BYMONTH"))
			u->bymonth = v;
		else if (!g_ascii_strcasecmp(k, "BYSETPOS"))
			u->bysetpos = v;
		else if (!g_ascii_strcasecmp(k, "COUNT"))
			u->count = v;
		else if (!g_ascii_strcasecmp(k, "UNTIL"))
			u->until = v;
		else if (!g_ascii_strcasecmp(k, "WKST"))
			u->wkst = v;
		else
			return -ENOTSUP;	/* BYHOUR, BYWEEKNO, ... */
	}
	return u->freq ? 0 : -EINVAL;
}

/* The monthly part (BYMONTHDAY, or BYDAY with a number or with
 * BYSETPOS) into r; the day of DTSTART when there is neither. */
static int monthly(const struct rule *u, struct pim_recur *r, bool yearly,
		   unsigned start_dom)
{
	if (u->bymonthday) {
		gint64 d;
		if (u->byday || u->bysetpos ||
		    !g_ascii_string_to_signed(u->bymonthday, 10, -1, 31, &d,
					      NULL) || d == 0)
			return -ENOTSUP;
		r->freq = yearly ? PIM_YEARLY : PIM_MONTHLY;
		r->month_day = (int)d;
		return 0;
	}
	if (u->byday) {
		int nth;
		gint64 pos;
		if (parse_byday(u->byday, &r->days, &nth))
			return -ENOTSUP;
		if (u->bysetpos) {
			if (nth || !g_ascii_string_to_signed(u->bysetpos, 10,
					-1, 4, &pos, NULL) || pos == 0)
				return -ENOTSUP;
			nth = pos < 0 ? 5 : (int)pos;
		}
		if (!nth)
			return -ENOTSUP;	/* every Monday of a month */
		r->freq = yearly ? PIM_YEARLY_NTH : PIM_MONTHLY_NTH;
		r->nth = (unsigned)nth;
		return 0;
	}
	if (u->bysetpos)
		return -ENOTSUP;
	r->freq = yearly ? PIM_YEARLY : PIM_MONTHLY;
	r->month_day = (int)start_dom;
	return 0;
}

/* The kind of r from the rule's FREQ and BY* parts. */
static int rule_kind(const struct rule *u, struct pim_recur *r)
{
	int y;
	unsigned m, d;
	int nth;

	pim_civil_from_days(r->start_day, &y, &m, &d);
	if (!g_ascii_strcasecmp(u->freq, "DAILY")) {
		if (u->bymonthday || u->bymonth || u->bysetpos)
			return -ENOTSUP;
		if (!u->byday) {
			r->freq = PIM_DAILY;
			return 0;
		}
		/* "every weekday" is a weekly pattern */
		if (r->interval != 1 || parse_byday(u->byday, &r->days, &nth) ||
		    nth)
			return -ENOTSUP;
		r->freq = PIM_WEEKLY;
		return 0;
	}
	if (!g_ascii_strcasecmp(u->freq, "WEEKLY")) {
		if (u->bymonthday || u->bymonth || u->bysetpos)
			return -ENOTSUP;
		r->freq = PIM_WEEKLY;
		if (!u->byday) {
			r->days = 1u << dow_of(r->start_day);
			return 0;
		}
		return parse_byday(u->byday, &r->days, &nth) || nth ?
		       -ENOTSUP : 0;
	}
	if (!g_ascii_strcasecmp(u->freq, "MONTHLY")) {
		if (u->bymonth)
			return -ENOTSUP;
		return monthly(u, r, false, d);
	}
	if (!g_ascii_strcasecmp(u->freq, "YEARLY")) {
		guint64 bm;
		/* the pattern's month is the one the series starts in */
		if (u->bymonth && (!g_ascii_string_to_unsigned(u->bymonth, 10,
				1, 12, &bm, NULL) || bm != m))
			return -ENOTSUP;
		return monthly(u, r, true, d);
	}
	return -ENOTSUP;
}

/* UNTIL as the last day whose occurrence (at start_min) is not after
 * it: a DATE is that day; a DATE-TIME (UTC, or floating taken as UTC)
 * counts with the time of day. */
static int until_day(const char *v, uint32_t start_min, int64_t *day)
{
	const char *rest;
	unsigned h, m, sec;

	if (!pim_parse_date(v, day, &rest) || rest != v + 8 ||
	    *day > pim_days_from_civil(4500, 8, 31))
		return -ENOTSUP;
	if (!*rest)
		return 0;
	if (rest[0] != 'T' || !pim_digits(rest + 1, 2, &h) ||
	    !pim_digits(rest + 3, 2, &m) || !pim_digits(rest + 5, 2, &sec) ||
	    (rest[7] && (rest[7] != 'Z' || rest[8])) || h > 23 || m > 59)
		return -ENOTSUP;
	if (h * 60 + m < start_min)
		(*day)--;
	return 0;
}

int pim_recur_from_rrule(const char *rrule, int64_t start, int64_t dur,
			 struct pim_recur *r)
{
	g_auto(GStrv) parts = g_strsplit(rrule, ";", 0);
	struct rule u = { .interval = 1 };
	int64_t last, sd = start >= 0 ? start / 86400 :
			   -((-start + 86399) / 86400);
	int rc;

	pim_recur_clear(r);
	rc = split_rule(parts, &u);
	if (rc)
		goto fail;
	if (sd < -DAYS_1601 || sd > pim_days_from_civil(4500, 1, 1)) {
		rc = -ENOTSUP;
		goto fail;
	}
	r->interval = u.interval;
	r->start_day = sd;
	r->start_min = (uint32_t)((start - sd * 86400) / 60);
	r->end_min = r->start_min + (uint32_t)CLAMP(dur / 60, 0, 0x7FFFFFFF -
						    1440);
	if (u.wkst) {
		int w = day_index(u.wkst);
		if (w < 0) {
			rc = -ENOTSUP;
			goto fail;
		}
		r->first_dow = (unsigned)w;
	}
	rc = rule_kind(&u, r);
	if (rc)
		goto fail;
	/* without WKST: Monday (RFC 5545) where it changes the series,
	 * else Sunday, which is what Outlook writes */
	if (!u.wkst)
		r->first_dow = r->freq == PIM_WEEKLY && r->interval > 1;
	if (u.count && u.until) {
		rc = -EINVAL;
		goto fail;
	}
	if (u.count) {
		guint64 n;
		if (!g_ascii_string_to_unsigned(u.count, 10, 1, 999999, &n,
						NULL)) {
			rc = -ENOTSUP;
			goto fail;
		}
		r->ends = true;
		r->count = (uint32_t)walk(r, (uint32_t)n, -1, &last);
		r->end_day = last;
	} else if (u.until) {
		int64_t ud;
		rc = until_day(u.until, r->start_min, &ud);
		if (rc)
			goto fail;
		r->ends = true;
		walk(r, 0, ud, &last);
		r->end_day = last;
	}
	return 0;
fail:
	pim_recur_clear(r);
	return rc;
}
