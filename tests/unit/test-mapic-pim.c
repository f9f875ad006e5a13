/*
 * test-mapic-pim.c - the mapi client's contacts and appointments
 * (protocols/mapi/pim.c): the mount ids with their suffixes, the named
 * property ids gathered from an ICS download's stream as it is read, and
 * a contact of such a download rendered with them.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "mapi/mapic-private.h"
#include "wire/mapi-fx.h"
#include "wire/mapi-tags.h"

/* PSETID_Address, {00062004-0000-0000-C000-000000000046}, as the stream
 * carries a GUID (the first three fields little-endian). */
static const uint8_t psetid_address[16] = {
	0x04, 0x20, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
};
/* PS_PUBLIC_STRINGS, {00020329-0000-0000-C000-000000000046}. */
static const uint8_t ps_public_strings[16] = {
	0x29, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
};

/* PidLidEmail1EmailAddress ([MS-OXPROPS] 2.90: PSETID_Address, LID
 * 0x8083), PidLidEmail1DisplayName (0x8080), and a string name. */
static struct mapi_fx_named email1, email1_name, keywords;

/* The ids this test's "mailbox" gave them; other mailboxes give others. */
#define ID_EMAIL1 0x8112
#define ID_EMAIL1_NAME 0x8110
#define ID_KEYWORDS 0x8205

static void names_init(void)
{
	memcpy(email1.guid, psetid_address, 16);
	email1.kind = MAPI_FX_NAME_LID;
	email1.lid = 0x8083;
	email1_name = email1;
	email1_name.lid = 0x8080;
	memcpy(keywords.guid, ps_public_strings, 16);
	keywords.kind = MAPI_FX_NAME_STRING;
	keywords.name = (char *)"Keywords";
}

static const struct mapi_fx_named *lookup(void *ctx, uint16_t id)
{
	(void)ctx;
	switch (id) {
	case ID_EMAIL1: return &email1;
	case ID_EMAIL1_NAME: return &email1_name;
	case ID_KEYWORDS: return &keywords;
	default: return NULL;
	}
}

/* A first download of a contacts folder holding Bob's card, as a server
 * sends it, and the state. */
static void make_download(GByteArray *b, const char *cls)
{
	static const uint8_t key[22] = { 1, 2, 3, [21] = 9 };
	struct mapi_message *m = mapi_message_new();
	struct mapi_fx_names names = { .lookup = lookup };
	struct mapi_props hdr = { 0 };
	struct mapi_bin given = { 3, (uint8_t *)"abc" };
	struct mapi_bin seen = { 2, (uint8_t *)"de" };

	mapi_props_set_bin(&hdr, MAPI_TAG_SOURCE_KEY, key, sizeof(key));
	mapi_props_set_ft(&hdr, MAPI_TAG_LAST_MODIFICATION_TIME,
			  133450000000000000ULL);
	mapi_props_set_bin(&hdr, MAPI_TAG_CHANGE_KEY, key, sizeof(key));
	mapi_props_set_b(&hdr, MAPI_TAG_ASSOCIATED, false);
	mapi_props_set_i8(&hdr, MAPI_TAG_MID, 0x0100000000001300);
	mapi_props_set_l(&hdr, MAPI_TAG_MESSAGE_SIZE, 400);
	mapi_props_set_i8(&hdr, MAPI_TAG_CHANGE_NUMBER, 0x2300000000000001);
	mapi_props_set_str(&m->props, MAPI_TAG_MESSAGE_CLASS, cls);
	mapi_props_set_str(&m->props, MAPI_TAG_DISPLAY_NAME, "Bob Sender");
	mapi_props_set_str(&m->props, MAPI_TAG(ID_EMAIL1, MAPI_PT_UNICODE),
			   "bob@example.test");
	mapi_props_set_str(&m->props, MAPI_TAG(ID_EMAIL1_NAME,
					       MAPI_PT_UNICODE),
			   "Bob Sender (bob@example.test)");
	mapi_props_set_l(&m->props, MAPI_TAG(ID_KEYWORDS, MAPI_PT_LONG), 1);
	g_assert_cmpint(mapi_fx_write_change(b, &hdr, m, &names), ==, 0);
	mapi_fx_write_state_end(b, &given, &seen, NULL, NULL);
	mapi_props_clear(&hdr);
	mapi_message_free(m);
}

/* The download read through the tap in pieces of `piece` bytes, so that
 * names are split across buffers as GetBuffer answers split them. */
static struct mapi_fx_change *read_download(const GByteArray *b,
					    size_t piece,
					    struct mapic_names **names_r)
{
	struct mapic_names *names = mapic_names_new();
	struct mapi_fx_sync *fx = mapi_fx_sync_new();
	struct mapic_fx_tap tap = { .names = names, .fx = fx };
	struct mapi_fx_reader *rd = mapi_fx_reader_new(NULL,
						       mapic_fx_tap_event,
						       &tap);
	struct mapi_fx_change *c;

	for (size_t at = 0; at < b->len; at += piece)
		g_assert_cmpint(mapi_fx_reader_feed(rd, b->data + at,
						    MIN(piece, b->len - at)),
				==, 0);
	g_assert_cmpint(mapi_fx_reader_finish(rd), ==, 0);
	g_assert_cmpint(mapi_fx_sync_finish(fx), ==, 0);
	/* the state after it made the change complete */
	c = mapi_fx_sync_take_done(fx);
	g_assert_nonnull(c);
	mapi_fx_reader_free(&rd);
	mapi_fx_sync_free(&fx);
	*names_r = names;
	return c;
}

static void test_ids(void)
{
	uint64_t mid = 0;
	g_autofree char *vcf = mapic_item_id(0x0100000000001300,
					     MFS_FOLDER_CONTACTS);
	g_autofree char *ics = mapic_item_id(0x0100000000001300,
					     MFS_FOLDER_CALENDAR);
	g_autofree char *eml = mapic_item_id(0x0100000000001300,
					     MFS_FOLDER_MAIL);
	g_autofree char *plain = mapic_id_of(0x0100000000001300);

	g_assert_cmpstr(vcf, ==, "0100000000001300.vcf");
	g_assert_cmpstr(ics, ==, "0100000000001300.ics");
	g_assert_cmpstr(eml, ==, plain);
	g_assert_cmpint(mapic_mid_of(vcf, &mid), ==, 0);
	g_assert_cmpuint(mid, ==, 0x0100000000001300);
	mid = 0;
	g_assert_cmpint(mapic_mid_of(ics, &mid), ==, 0);
	g_assert_cmpuint(mid, ==, 0x0100000000001300);
	g_assert_cmpint(mapic_mid_of(eml, &mid), ==, 0);
	g_assert_cmpint(mapic_mid_of("0100000000001300.txt", &mid), ==,
			-ENOENT);
	g_assert_cmpint(mapic_mid_of("0100000000001300.vcfx", &mid), ==,
			-ENOENT);
	g_assert_cmpint(mapic_mid_of("01000000000013.vcf", &mid), ==,
			-ENOENT);
	g_assert_cmpint(mapic_mid_of("010000000000130g", &mid), ==, -ENOENT);
	g_assert_true(mapic_pim_kind(MFS_FOLDER_CONTACTS));
	g_assert_true(mapic_pim_kind(MFS_FOLDER_CALENDAR));
	g_assert_false(mapic_pim_kind(MFS_FOLDER_MAIL));
}

static void test_names_from_the_stream(void)
{
	GByteArray *b = g_byte_array_new();
	struct mapic_names *names = NULL;
	struct mapi_fx_change *c;
	struct mapi_fx_named other = email1;

	names_init();
	make_download(b, "IPM.Contact");
	for (size_t piece = 1; piece <= b->len; piece = piece * 3 + 1) {
		c = read_download(b, piece, &names);
		struct mapi_pim_names pn = mapic_names_pim(names);
		g_assert_cmpuint(pn.id_of(pn.ctx, &email1), ==, ID_EMAIL1);
		g_assert_cmpuint(pn.id_of(pn.ctx, &email1_name), ==,
				 ID_EMAIL1_NAME);
		g_assert_cmpuint(pn.id_of(pn.ctx, &keywords), ==,
				 ID_KEYWORDS);
		/* the same LID in another set, another LID, another
		 * string: names the download did not carry */
		memcpy(other.guid, ps_public_strings, 16);
		g_assert_cmpuint(pn.id_of(pn.ctx, &other), ==, 0);
		other = email1;
		other.lid = 0x8084;
		g_assert_cmpuint(pn.id_of(pn.ctx, &other), ==, 0);
		other = keywords;
		other.name = (char *)"keywords2";
		g_assert_cmpuint(pn.id_of(pn.ctx, &other), ==, 0);
		other = email1;
		mapi_fx_change_free(&c);
		mapic_names_free(&names);
	}
	g_byte_array_unref(b);
}

static void test_first_id_kept(void)
{
	struct mapic_names *names = mapic_names_new();
	struct mapi_pim_names pn = mapic_names_pim(names);

	names_init();
	mapic_names_add(names, &email1, 0x8001);
	mapic_names_add(names, &email1, 0x8002);
	/* not a named property's id */
	mapic_names_add(names, &email1_name, 0x3001);
	g_assert_cmpuint(pn.id_of(pn.ctx, &email1), ==, 0x8001);
	g_assert_cmpuint(pn.id_of(pn.ctx, &email1_name), ==, 0);
	mapic_names_free(&names);
	g_assert_null(names);
}

/* What the codec makes of the download's contact with the download's
 * names: Bob's card, the same bytes each time; with no names, not his
 * address (it is a named property). */
static void test_render_contact(void)
{
	GByteArray *b = g_byte_array_new();
	GByteArray *one = g_byte_array_new(), *two = g_byte_array_new();
	GByteArray *bare = g_byte_array_new();
	struct mapic_names *names = NULL, *none = mapic_names_new();
	const char *why = NULL;
	struct mapi_fx_change *c;

	names_init();
	make_download(b, "IPM.Contact");
	c = read_download(b, 4096, &names);
	struct mapi_pim_names pn = mapic_names_pim(names);
	struct mapi_pim_names pnone = mapic_names_pim(none);
	g_assert_cmpint(mapic_pim_render(MFS_FOLDER_CONTACTS, c->msg, &pn,
					 one, &why), ==, 0);
	g_assert_null(why);
	g_assert_cmpint(mapic_pim_render(MFS_FOLDER_CONTACTS, c->msg, &pn,
					 two, &why), ==, 0);
	g_assert_cmpmem(one->data, one->len, two->data, two->len);
	g_autofree char *text = g_strndup((const char *)one->data, one->len);
	g_assert_true(g_str_has_prefix(text, "BEGIN:VCARD\r\n"));
	g_assert_nonnull(strstr(text, "\r\nFN:Bob Sender\r\n"));
	g_assert_nonnull(strstr(text, "bob@example.test"));
	g_assert_cmpint(mapic_pim_render(MFS_FOLDER_CONTACTS, c->msg, &pnone,
					 bare, &why), ==, 0);
	g_autofree char *bare_text = g_strndup((const char *)bare->data,
					       bare->len);
	g_assert_null(strstr(bare_text, "bob@example.test"));
	mapi_fx_change_free(&c);
	mapic_names_free(&names);
	mapic_names_free(&none);
	g_byte_array_unref(b);
	g_byte_array_unref(one);
	g_byte_array_unref(two);
	g_byte_array_unref(bare);
}

/* A message of another class than its folder's is not rendered. */
static void test_other_classes_refused(void)
{
	static const char *const cls[] = { "IPM.DistList", "IPM.Note",
					   "IPM.Contactx" };
	struct mapic_names *names = mapic_names_new();
	struct mapi_pim_names pn = mapic_names_pim(names);
	const char *why = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(cls); i++) {
		struct mapi_message *m = mapi_message_new();
		GByteArray *out = g_byte_array_new();
		mapi_props_set_str(&m->props, MAPI_TAG_MESSAGE_CLASS, cls[i]);
		g_assert_cmpint(mapic_pim_render(MFS_FOLDER_CONTACTS, m, &pn,
						 out, &why), ==, -ENOTSUP);
		g_assert_nonnull(why);
		g_assert_cmpuint(out->len, ==, 0);
		g_assert_cmpint(mapic_pim_render(MFS_FOLDER_CALENDAR, m, &pn,
						 out, &why), ==, -ENOTSUP);
		g_byte_array_unref(out);
		mapi_message_free(m);
	}
	mapic_names_free(&names);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mapic-pim/ids", test_ids);
	g_test_add_func("/mapic-pim/names-from-the-stream",
			test_names_from_the_stream);
	g_test_add_func("/mapic-pim/first-id-kept", test_first_id_kept);
	g_test_add_func("/mapic-pim/render-contact", test_render_contact);
	g_test_add_func("/mapic-pim/other-classes-refused",
			test_other_classes_refused);
	return g_test_run();
}
