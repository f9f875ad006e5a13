/*
 * test-ews-props.c - the one mapping of Maildir flags onto EWS message
 * properties (protocols/wire/ews-props.h): each property both ways, and
 * the texts of IsRead, FlagStatus and PropertyTag.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "wire/ews-props.h"

/* The Maildir letters, short, so that the tables read as flags do. */
static const uint64_t S = MFS_FLAG_SEEN, F = MFS_FLAG_FLAGGED,
		      D = MFS_FLAG_DRAFT, R = MFS_FLAG_REPLIED,
		      P = MFS_FLAG_PASSED;

/* flags -> the value of a property, as both sides write it */
static const struct {
	uint64_t flags;
	unsigned tag;
	int rc;
	long value;
} values[] = {
	{ 0, EWS_PR_MESSAGE_FLAGS, 0, 0 },
	{ S, EWS_PR_MESSAGE_FLAGS, 0, 1 },
	{ D, EWS_PR_MESSAGE_FLAGS, 0, 8 },
	{ S | D | F | R, EWS_PR_MESSAGE_FLAGS, 0, 9 },
	{ 0, EWS_PR_FLAG_STATUS, -ENODATA, 0 },
	{ S | D, EWS_PR_FLAG_STATUS, -ENODATA, 0 },
	{ F, EWS_PR_FLAG_STATUS, 0, 2 },
	{ 0, EWS_PR_LAST_VERB_EXECUTED, -ENODATA, 0 },
	{ R, EWS_PR_LAST_VERB_EXECUTED, 0, 102 },
	{ P, EWS_PR_LAST_VERB_EXECUTED, 0, 104 },
	{ R | P, EWS_PR_LAST_VERB_EXECUTED, 0, 102 },
	{ S | F, 0x37, -ENOTSUP, 0 },
};

/* the value of a property -> flags, as both sides read it */
static const struct {
	unsigned tag;
	long value;
	uint64_t flags;
} meanings[] = {
	{ EWS_PR_MESSAGE_FLAGS, 0, 0 },
	{ EWS_PR_MESSAGE_FLAGS, 1, S },
	{ EWS_PR_MESSAGE_FLAGS, 8, D },
	{ EWS_PR_MESSAGE_FLAGS, 0x7FFF, S | D },
	{ EWS_PR_MESSAGE_FLAGS, 6, 0 },
	{ EWS_PR_FLAG_STATUS, 2, F },
	{ EWS_PR_FLAG_STATUS, 1, 0 },
	{ EWS_PR_FLAG_STATUS, 0, 0 },
	{ EWS_PR_FLAG_STATUS, 3, 0 },
	{ EWS_PR_LAST_VERB_EXECUTED, 102, R },
	{ EWS_PR_LAST_VERB_EXECUTED, 103, R },
	{ EWS_PR_LAST_VERB_EXECUTED, 104, P },
	{ EWS_PR_LAST_VERB_EXECUTED, 105, 0 },
	{ 0x37, 2, 0 },
};

static void test_values(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		long v = -1;

		g_test_message("case %zu", i);
		g_assert_cmpint(ews_prop_value(values[i].flags, values[i].tag,
					       &v), ==, values[i].rc);
		if (values[i].rc == 0)
			g_assert_cmpint(v, ==, values[i].value);
	}
}

static void test_meanings(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(meanings); i++) {
		g_test_message("case %zu", i);
		g_assert_cmphex(ews_prop_flags(meanings[i].tag,
					       meanings[i].value), ==,
				meanings[i].flags);
	}
	g_assert_cmphex(ews_prop_mask(EWS_PR_MESSAGE_FLAGS), ==, S | D);
	g_assert_cmphex(ews_prop_mask(EWS_PR_FLAG_STATUS), ==, F);
	g_assert_cmphex(ews_prop_mask(EWS_PR_LAST_VERB_EXECUTED), ==, R | P);
	g_assert_cmphex(ews_prop_mask(0x37), ==, 0);
}

/* what a message's flags are written as reads back as the same flags */
static void test_round_trip(void)
{
	static const uint64_t all[] = { S, D, F, R, P };

	for (unsigned m = 0; m < 32; m++) {
		uint64_t flags = 0, back = 0;

		for (unsigned b = 0; b < 5; b++)
			if (m & (1u << b))
				flags |= all[b];
		for (size_t i = 0; i < G_N_ELEMENTS(ews_flag_props); i++) {
			long v;
			if (ews_prop_value(flags, ews_flag_props[i], &v) == 0)
				back |= ews_prop_flags(ews_flag_props[i], v);
		}
		/* R and P share one verb: R wins */
		if ((flags & R) && (flags & P))
			flags &= ~(uint64_t)P;
		g_assert_cmphex(back, ==, flags);
	}
}

static void test_texts(void)
{
	bool on = true;
	unsigned tag = 0;

	g_assert_cmpstr(ews_flag_status(F | S), ==, "Flagged");
	g_assert_cmpstr(ews_flag_status(S), ==, "NotFlagged");
	g_assert_cmpint(ews_flag_status_parse("Flagged", &on), ==, 0);
	g_assert_true(on);
	g_assert_cmpint(ews_flag_status_parse("Complete", &on), ==, 0);
	g_assert_false(on);
	g_assert_cmpint(ews_flag_status_parse("NotFlagged", &on), ==, 0);
	g_assert_cmpint(ews_flag_status_parse("flagged", &on), ==, -EINVAL);
	g_assert_cmpint(ews_bool_parse("1", &on), ==, 0);
	g_assert_true(on);
	g_assert_cmpint(ews_bool_parse("false", &on), ==, 0);
	g_assert_false(on);
	g_assert_cmpint(ews_bool_parse("True", &on), ==, -EINVAL);
	g_assert_cmpint(ews_bool_parse("", &on), ==, -EINVAL);
	g_assert_cmpint(ews_prop_tag_parse("0x0E07", &tag), ==, 0);
	g_assert_cmphex(tag, ==, 0x0E07);
	g_assert_cmpint(ews_prop_tag_parse("0X1090", &tag), ==, 0);
	g_assert_cmphex(tag, ==, 0x1090);
	g_assert_cmpint(ews_prop_tag_parse("4240", &tag), ==, 0);
	g_assert_cmphex(tag, ==, 0x1090);
	g_assert_cmpint(ews_prop_tag_parse("0x", &tag), ==, -EINVAL);
	g_assert_cmpint(ews_prop_tag_parse("0x10000", &tag), ==, -EINVAL);
	g_assert_cmpint(ews_prop_tag_parse("", &tag), ==, -EINVAL);
	g_assert_cmpint(ews_prop_tag_parse("0xZZ", &tag), ==, -EINVAL);
	g_assert_cmpint(ews_prop_tag_parse("-1", &tag), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/ews-props/values", test_values);
	g_test_add_func("/ews-props/meanings", test_meanings);
	g_test_add_func("/ews-props/round-trip", test_round_trip);
	g_test_add_func("/ews-props/texts", test_texts);
	return g_test_run();
}
