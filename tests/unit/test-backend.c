/*
 * test-backend.c - the backend registry, the wrappers around the vtable and
 * the small helpers of protocols/backend.h.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "backend.h"
#include "log.h"

static void test_find(void)
{
	static const struct {
		const char *type;
		gboolean found;
	} cases[] = {
		{ "local", TRUE },
		{ "imap", TRUE },
		{ "pop3", TRUE },
		{ "ews", TRUE },
		{ "mapi", TRUE },
		{ "carddav", TRUE },
		{ "caldav", TRUE },
		{ "ldap", TRUE },
		{ "bogus", FALSE },
		{ "", FALSE },
		{ "LOCAL", FALSE },
		{ "imaps", FALSE },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct mfs_backend_ops *ops =
			mfs_backend_find(cases[i].type);

		g_test_message("type '%s'", cases[i].type);
		if (!cases[i].found) {
			g_assert_null(ops);
			continue;
		}
		g_assert_nonnull(ops);
		g_assert_cmpstr(ops->name, ==, cases[i].type);
		g_assert_nonnull(ops->open);
		g_assert_nonnull(ops->close);
	}
}

static void test_open_unavailable(void)
{
	static const struct {
		const char *type;
		const char *says;	/* in the message besides the type */
	} cases[] = {
		{ "bogus", "unknown" },
		{ "LDAP", "unknown" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct mfs_account acct = { .name = "work",
					    .type = cases[i].type,
					    .store = "/nonexistent" };
		struct mfs_store st;
		GError *err = NULL;
		g_autofree char *quoted = g_strdup_printf("'%s'",
							  cases[i].type);

		memset(&st, 0xa5, sizeof(st));
		g_assert_cmpint(mfs_store_open(&acct, &st, &err), <, 0);
		g_assert_nonnull(err);
		g_assert_nonnull(strstr(err->message, quoted));
		g_assert_nonnull(strstr(err->message, "'work'"));
		g_assert_nonnull(strstr(err->message, cases[i].says));
		g_assert_null(st.ops);
		g_assert_null(st.be);
		/* closing what never opened is harmless */
		mfs_store_close(&st);
		g_error_free(err);
	}
}

static void test_open_local_without_store(void)
{
	struct mfs_account acct = { .name = "t", .type = "local" };
	struct mfs_store st;
	GError *err = NULL;

	g_assert_cmpint(mfs_store_open(&acct, &st, &err), ==, -EINVAL);
	g_assert_nonnull(err);
	g_assert_null(st.ops);
	mfs_store_close(&st);
	g_error_free(err);
}

/* A backend that fills in only what every backend must have. */
static int token;
static int fake_closed;

static int fake_open(const struct mfs_account *acct, struct mfs_backend **be_r,
		     GError **err)
{
	*be_r = (struct mfs_backend *)&token;
	return 0;
}

static void fake_close(struct mfs_backend **be)
{
	g_assert_true(*be == (struct mfs_backend *)&token);
	fake_closed++;
	*be = NULL;
}

static const struct mfs_backend_ops bare_ops = {
	.name = "bare",
	.open = fake_open,
	.close = fake_close,
};

static void change_fn(const char *folder, void *data)
{
}

static void test_wrappers_enotsup(void)
{
	struct mfs_store st = { 0 };
	struct mfs_error e = { 0 };
	GPtrArray *folders = NULL;
	struct mfs_sync_result *res = NULL;
	struct mfs_item *item = NULL;
	int fd = -1;
	uint64_t total = 7, avail = 7;

	st.ops = &bare_ops;
	g_assert_cmpint(bare_ops.open(NULL, &st.be, NULL), ==, 0);

	g_assert_cmpint(mfs_store_list_folders(&st, &folders, &e), ==,
			-ENOTSUP);
	g_assert_cmpint(mfs_store_sync(&st, "INBOX", NULL, &res, &e), ==,
			-ENOTSUP);
	g_assert_cmpint(mfs_store_fetch(&st, "INBOX", "1", &fd, &e), ==,
			-ENOTSUP);
	g_assert_cmpint(mfs_store_append(&st, "INBOX", 0, "1", 0, 0, &item,
					 &e), ==, -ENOTSUP);
	g_assert_cmpint(mfs_store_set_flags(&st, "INBOX", "1", 0, &e), ==,
			-ENOTSUP);
	g_assert_cmpint(mfs_store_remove(&st, "INBOX", "1", &e), ==, -ENOTSUP);
	g_assert_cmpint(mfs_store_move(&st, "INBOX", "1", "Old", 0, &item,
				       &e), ==, -ENOTSUP);
	g_assert_cmpint(mfs_store_copy(&st, "INBOX", "1", "Old", 0, &item,
				       &e), ==, -ENOTSUP);
	g_assert_cmpint(mfs_store_create_folder(&st, "X", MFS_FOLDER_MAIL,
						&e), ==, -ENOTSUP);
	g_assert_cmpint(mfs_store_rename_folder(&st, "X", "Y", &e), ==,
			-ENOTSUP);
	g_assert_cmpint(mfs_store_delete_folder(&st, "X", &e), ==, -ENOTSUP);
	g_assert_cmpint(mfs_store_watch(&st, change_fn, NULL), ==, -ENOTSUP);
	g_assert_cmpint(mfs_store_space(&st, &total, &avail), ==, -ENOTSUP);

	/* nothing was handed out */
	g_assert_null(folders);
	g_assert_null(res);
	g_assert_null(item);
	g_assert_cmpint(fd, ==, -1);
	g_assert_cmpuint(total, ==, 7);
	g_assert_cmpuint(avail, ==, 7);

	fake_closed = 0;
	mfs_store_close(&st);
	g_assert_cmpint(fake_closed, ==, 1);
	g_assert_null(st.be);
	g_assert_null(st.ops);
	mfs_store_close(&st);
	g_assert_cmpint(fake_closed, ==, 1);
}

static int space_calls;

static int fake_space(struct mfs_backend *be, uint64_t *total_r,
		      uint64_t *avail_r)
{
	g_assert_true(be == (struct mfs_backend *)&token);
	space_calls++;
	*total_r = 100;
	*avail_r = 40;
	return space_calls == 1 ? 0 : -EIO;
}

static const struct mfs_backend_ops space_ops = {
	.name = "space",
	.open = fake_open,
	.close = fake_close,
	.space = fake_space,
};

/* A present member is called with the backend's state; its result passes
 * through unchanged, with tracing on or off. */
static void test_wrapper_passes_through(void)
{
	struct mfs_store st = { .ops = &space_ops,
				.be = (struct mfs_backend *)&token };
	uint64_t total = 0, avail = 0;

	space_calls = 0;
	g_assert_cmpint(mfs_store_space(&st, &total, &avail), ==, 0);
	g_assert_cmpuint(total, ==, 100);
	g_assert_cmpuint(avail, ==, 40);
	log_set_debug(LOG_STORE);
	g_assert_cmpint(mfs_store_space(&st, &total, &avail), ==, -EIO);
	log_set_debug(0);
	g_assert_cmpint(space_calls, ==, 2);
	mfs_store_close(&st);
}

/* A store that records how its change members were asked. */
static struct {
	size_t n;
	const char *id;		/* ids[0] */
	uint64_t flags;		/* flags[0] */
	bool move;
	int calls;
} asked;

static int fake_append(struct mfs_backend *be, const char *folder,
		       const struct mfs_append *in, size_t n,
		       GPtrArray **items_r, struct mfs_error *e)
{
	asked.n = n;
	asked.id = in[0].hint;
	asked.flags = in[0].flags;
	asked.calls++;
	*items_r = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	for (size_t i = 0; i < n; i++)
		g_ptr_array_add(*items_r, mfs_item_new(in[i].hint, 5,
						       in[i].date,
						       in[i].flags));
	return 0;
}

static int fake_set_flags(struct mfs_backend *be, const char *folder,
			  const char *const *ids, const uint64_t *flags,
			  size_t n, int *rcs, struct mfs_error *e)
{
	asked.n = n;
	asked.id = ids[0];
	asked.flags = flags[0];
	asked.calls++;
	for (size_t i = 0; i < n; i++)
		rcs[i] = strcmp(ids[i], "gone") ? 0 : -ENOENT;
	/* one alone fails when its item is gone (backend.h) */
	return n == 1 ? rcs[0] : 0;
}

static int fake_remove(struct mfs_backend *be, const char *folder,
		       const char *const *ids, size_t n, struct mfs_error *e)
{
	asked.n = n;
	asked.id = ids[0];
	asked.calls++;
	return 0;
}

static int fake_move(struct mfs_backend *be, const char *folder,
		     const char *const *ids, const char *dest,
		     const uint64_t *flags, size_t n, bool move,
		     GPtrArray **items_r, struct mfs_error *e)
{
	asked.n = n;
	asked.id = ids[0];
	asked.flags = flags[0];
	asked.move = move;
	asked.calls++;
	*items_r = g_ptr_array_new_with_free_func((GDestroyNotify)mfs_item_free);
	for (size_t i = 0; i < n; i++)
		g_ptr_array_add(*items_r, mfs_item_new("new", 5, 0, flags[i]));
	return 0;
}

static const struct mfs_backend_ops change_ops = {
	.name = "change",
	.open = fake_open,
	.close = fake_close,
	.append = fake_append,
	.set_flags = fake_set_flags,
	.remove = fake_remove,
	.move = fake_move,
};

/* The single changes ask their member with a batch of one and hand back
 * its one result; the batch forms pass their batch on. */
static void test_batch_of_one(void)
{
	struct mfs_store st = { .ops = &change_ops,
				.be = (struct mfs_backend *)&token };
	struct mfs_error e = { 0 };
	struct mfs_item *item = NULL;
	const char *ids[] = { "a", "gone", "c" };
	const uint64_t flags[] = { MFS_FLAG_SEEN, 0, MFS_FLAG_FLAGGED };
	int rcs[3] = { 1, 1, 1 };
	GPtrArray *items = NULL;

	memset(&asked, 0, sizeof(asked));
	g_assert_cmpint(mfs_store_append(&st, "INBOX", 0, "h", MFS_FLAG_SEEN,
					 9, &item, &e), ==, 0);
	g_assert_cmpuint(asked.n, ==, 1);
	g_assert_cmpstr(asked.id, ==, "h");
	g_assert_cmpstr(item->id, ==, "h");
	g_assert_cmpint(item->date, ==, 9);
	g_clear_pointer(&item, mfs_item_free);

	g_assert_cmpint(mfs_store_set_flags(&st, "INBOX", "a", MFS_FLAG_SEEN,
					    &e), ==, 0);
	g_assert_cmpuint(asked.n, ==, 1);
	g_assert_cmpuint(asked.flags, ==, MFS_FLAG_SEEN);
	g_assert_cmpint(mfs_store_set_flags(&st, "INBOX", "gone", 0, &e), ==,
			-ENOENT);
	g_assert_cmpint(mfs_store_set_flags_batch(&st, "INBOX", ids, flags, 3,
						  rcs, &e), ==, 0);
	g_assert_cmpuint(asked.n, ==, 3);
	g_assert_cmpint(rcs[0], ==, 0);
	g_assert_cmpint(rcs[1], ==, -ENOENT);
	g_assert_cmpint(rcs[2], ==, 0);

	g_assert_cmpint(mfs_store_remove(&st, "INBOX", "a", &e), ==, 0);
	g_assert_cmpuint(asked.n, ==, 1);
	g_assert_cmpstr(asked.id, ==, "a");
	g_assert_cmpint(mfs_store_remove_batch(&st, "INBOX", ids, 3, &e), ==,
			0);
	g_assert_cmpuint(asked.n, ==, 3);

	g_assert_cmpint(mfs_store_move(&st, "INBOX", "a", "Old",
				       MFS_FLAG_FLAGGED, &item, &e), ==, 0);
	g_assert_cmpuint(asked.n, ==, 1);
	g_assert_true(asked.move);
	g_assert_cmpuint(item->flags, ==, MFS_FLAG_FLAGGED);
	g_clear_pointer(&item, mfs_item_free);
	g_assert_cmpint(mfs_store_copy(&st, "INBOX", "a", "Old", 0, &item,
				       &e), ==, 0);
	g_assert_false(asked.move);
	g_clear_pointer(&item, mfs_item_free);
	log_set_debug(LOG_STORE);
	g_assert_cmpint(mfs_store_move_batch(&st, "INBOX", ids, "Old", flags,
					     3, true, &items, &e), ==, 0);
	log_set_debug(0);
	g_assert_cmpuint(asked.n, ==, 3);
	g_assert_cmpuint(items->len, ==, 3);
	g_ptr_array_unref(items);
	g_assert_cmpint(asked.calls, ==, 9);
	mfs_store_close(&st);
}

static void test_error_set(void)
{
	struct mfs_error e;
	g_autofree char *long_name = g_strnfill(400, 'x');

	memset(&e, 0, sizeof(e));
	g_assert_cmpint(mfs_error_set(&e, -ENOENT, MFS_ERR_FOLDER,
				      MFS_ERR_TRANSIENT, "no folder %s (%d)",
				      "Old", 3), ==, -ENOENT);
	g_assert_cmpint(e.scope, ==, MFS_ERR_FOLDER);
	g_assert_cmpint(e.retry, ==, MFS_ERR_TRANSIENT);
	g_assert_cmpstr(e.msg, ==, "no folder Old (3)");

	g_assert_cmpint(mfs_error_set(&e, -ENOSPC, MFS_ERR_ACCOUNT,
				      MFS_ERR_BACKOFF, "%s", "full"), ==,
			-ENOSPC);
	g_assert_cmpint(e.scope, ==, MFS_ERR_ACCOUNT);
	g_assert_cmpint(e.retry, ==, MFS_ERR_BACKOFF);
	g_assert_cmpstr(e.msg, ==, "full");

	/* a long message is cut, never overflows */
	g_assert_cmpint(mfs_error_set(&e, -EIO, MFS_ERR_ITEM, MFS_ERR_FINAL,
				      "%s", long_name), ==, -EIO);
	g_assert_cmpuint(strlen(e.msg), ==, sizeof(e.msg) - 1);

	g_assert_cmpint(mfs_error_set(NULL, -EINVAL, MFS_ERR_ITEM,
				      MFS_ERR_FINAL, "ignored %s", "x"), ==,
			-EINVAL);
}

static void test_helpers(void)
{
	struct mfs_item *it = mfs_item_new("id1", 12, 1700000000,
					   MFS_FLAG_SEEN | MFS_FLAG_NEW);
	struct mfs_item *dup = mfs_item_dup(it);
	struct mfs_folder_info *fi = mfs_folder_info_new("A/B",
							  MFS_FOLDER_CONTACTS);
	struct mfs_sync_result *res = mfs_sync_result_new();

	g_assert_true(dup != it);
	g_assert_true(dup->id != it->id);
	g_assert_cmpstr(dup->id, ==, "id1");
	g_assert_cmpuint(dup->size, ==, 12);
	g_assert_cmpint(dup->date, ==, 1700000000);
	g_assert_cmphex(dup->flags, ==, MFS_FLAG_SEEN | MFS_FLAG_NEW);
	mfs_item_free(it);
	mfs_item_free(dup);
	mfs_item_free(NULL);

	g_assert_cmpstr(fi->path, ==, "A/B");
	g_assert_cmpint(fi->kind, ==, MFS_FOLDER_CONTACTS);
	mfs_folder_info_free(fi);
	mfs_folder_info_free(NULL);

	g_assert_false(res->full);
	g_assert_null(res->state);
	g_ptr_array_add(res->changed, mfs_item_new("a", 1, 2, 0));
	g_ptr_array_add(res->vanished, g_strdup("b"));
	res->state = g_strdup("s");
	mfs_sync_result_free(&res);
	g_assert_null(res);
	mfs_sync_result_free(&res);

	g_assert_cmpstr(mfs_folder_kind_name(MFS_FOLDER_NONE), ==, "none");
	g_assert_cmpstr(mfs_folder_kind_name(MFS_FOLDER_MAIL), ==, "mail");
	g_assert_cmpstr(mfs_folder_kind_name(MFS_FOLDER_CONTACTS), ==,
			"contacts");
	g_assert_cmpstr(mfs_folder_kind_name(MFS_FOLDER_CALENDAR), ==,
			"calendar");
	g_assert_cmpstr(mfs_folder_kind_name(MFS_FOLDER_DIRECTORY), ==,
			"directory");
	g_assert_cmpstr(mfs_folder_kind_name(MFS_FOLDER_OUTBOX), ==, "outbox");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/backend/find", test_find);
	g_test_add_func("/backend/open-unavailable", test_open_unavailable);
	g_test_add_func("/backend/open-local-without-store",
			test_open_local_without_store);
	g_test_add_func("/backend/wrappers-enotsup", test_wrappers_enotsup);
	g_test_add_func("/backend/batch-of-one", test_batch_of_one);
	g_test_add_func("/backend/wrapper-passes-through",
			test_wrapper_passes_through);
	g_test_add_func("/backend/error-set", test_error_set);
	g_test_add_func("/backend/helpers", test_helpers);
	return g_test_run();
}
