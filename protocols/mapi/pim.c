/*
 * pim.c - the items of a mapi account's contacts and calendar folders:
 * their mount ids (the MID with ".vcf" or ".ics"), the named property
 * ids the codec of wire/mapi-pim.h asks for, and the rendering of a
 * contact as a vCard and of an appointment as an iCalendar object.
 *
 * Specs: [MS-OXCFXICS] 2.2.4.3 (a named property's name travels with
 * each of its values in a FastTransfer stream), [MS-OXCPRPT] 2.2.12
 * (RopGetPropertyIdsFromNames), [MS-OXCDATA] 2.6.1 (PropertyName),
 * [MS-OXOCNTC] and [MS-OXOCAL] (the message classes IPM.Contact and
 * IPM.Appointment), [MS-OXCMSG] 2.2.1.3 (classes are compared without
 * regard to case).
 *
 * The ids of named properties belong to the mailbox, not to the
 * protocol: an ICS download names each named property it carries, so
 * the names of a download are gathered as it is read (mapic_fx_tap_event)
 * and the codec's questions answered from them; where a folder is read
 * by its contents table, the mailbox is asked for the ids of the names
 * the codec uses, once per sync.
 */
#include "mapic-private.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "wire/mapi-tags.h"

/* RopGetPropertyIdsFromNames' Flags: give a name without an id one. */
#define PROP_IDS_CREATE 0x02

struct mapic_names {
	GHashTable *ids;		/* key_of(name) -> id */
};

bool mapic_pim_kind(enum mfs_folder_kind kind)
{
	return kind == MFS_FOLDER_CONTACTS || kind == MFS_FOLDER_CALENDAR;
}

char *mapic_item_id(uint64_t mid, enum mfs_folder_kind kind)
{
	const char *suffix = kind == MFS_FOLDER_CONTACTS ? ".vcf"
			     : kind == MFS_FOLDER_CALENDAR ? ".ics" : "";

	return g_strdup_printf("%016" PRIx64 "%s", mid, suffix);
}

enum mfs_folder_kind mapic_folder_kind(struct mfs_backend *be,
				       const char *path)
{
	enum mfs_folder_kind kind = MFS_FOLDER_MAIL;

	g_mutex_lock(&be->lock);
	const struct mapic_folder *f = g_hash_table_lookup(be->folders, path);
	if (f)
		kind = f->kind;
	g_mutex_unlock(&be->lock);
	return kind;
}

/* ---- names and ids ---- */

/* The property set, the kind and the LID or the name, as one string. */
static char *key_of(const uint8_t guid[16], uint8_t kind, uint32_t lid,
		    const char *name)
{
	char hex[33];

	for (int i = 0; i < 16; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", guid[i]);
	if (kind == MAPI_FX_NAME_LID)
		return g_strdup_printf("%s#%08" PRIx32, hex, lid);
	return g_strdup_printf("%s:%s", hex, name ? name : "");
}

struct mapic_names *mapic_names_new(void)
{
	struct mapic_names *n = g_new0(struct mapic_names, 1);

	n->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return n;
}

void mapic_names_free(struct mapic_names **n)
{
	if (!*n)
		return;
	g_hash_table_unref((*n)->ids);
	g_clear_pointer(n, g_free);
}

void mapic_names_add(struct mapic_names *n, const struct mapi_fx_named *name,
		     uint16_t id)
{
	char *key;

	if (id < MAPI_NAMED_MIN || id == 0xFFFF ||
	    (name->kind != MAPI_FX_NAME_LID &&
	     name->kind != MAPI_FX_NAME_STRING))
		return;
	key = key_of(name->guid, name->kind, name->lid, name->name);
	if (g_hash_table_contains(n->ids, key)) {
		g_free(key);
		return;
	}
	g_hash_table_insert(n->ids, key, GUINT_TO_POINTER(id));
}

static uint16_t names_id_of(void *ctx, const struct mapi_fx_named *name)
{
	struct mapic_names *n = ctx;
	g_autofree char *key = key_of(name->guid, name->kind, name->lid,
				      name->name);

	return (uint16_t)GPOINTER_TO_UINT(g_hash_table_lookup(n->ids, key));
}

struct mapi_pim_names mapic_names_pim(struct mapic_names *n)
{
	return (struct mapi_pim_names){ .id_of = names_id_of, .ctx = n };
}

int mapic_fx_tap_event(void *ctx, struct mapi_fx_event *ev)
{
	struct mapic_fx_tap *tap = ctx;

	if (ev->kind == MAPI_FX_PROP && ev->named)
		mapic_names_add(tap->names, &ev->name, MAPI_TAG_ID(ev->tag));
	return mapi_fx_sync_event(tap->fx, ev);
}

/* Read the answer of the GetPropertyIdsFromNames of `want` into `n`. */
static int take_ids(struct mapic_exec *x, const struct mapi_fx_named *want,
		    size_t n_want, struct mapic_names *n, struct mfs_error *e)
{
	struct rop_get_prop_ids_resp r;
	int rc = rop_get_prop_ids_resp_read(mapic_exec_rd(x), &r);

	if (rc < 0)
		return mapic_exec_bad(x, "GetPropertyIdsFromNames", rc, e);
	if (r.head.rv && r.head.rv != ROP_W_ERRORS_RETURNED) {
		uint32_t rv = r.head.rv;
		rop_get_prop_ids_resp_clear(&r);
		return mapic_exec_failed(x, "GetPropertyIdsFromNames", rv,
					 MFS_ERR_ACCOUNT, e);
	}
	/* an answer with another count than asked cannot be matched up */
	if (r.n_ids != n_want) {
		size_t got = r.n_ids;
		rop_get_prop_ids_resp_clear(&r);
		return mfs_error_set(e, -EPROTO, MFS_ERR_ACCOUNT,
				     MFS_ERR_TRANSIENT, "GetPropertyIdsFrom"
				     "Names: %zu ids for %zu names", got,
				     n_want);
	}
	for (size_t i = 0; i < n_want; i++)
		mapic_names_add(n, &want[i], r.ids[i]);
	rop_get_prop_ids_resp_clear(&r);
	return mapic_exec_end(x, e);
}

int mapic_names_fetch(struct mapic_session *s, bool create,
		      struct mapic_names **n_r, struct mfs_error *e)
{
	size_t n_want = 0;
	const struct mapi_fx_named *want = mapi_pim_names_used(&n_want);
	struct mapic_exec *x = mapic_exec_new(s);
	struct rop_prop_name *names = g_new0(struct rop_prop_name,
					     MAX(n_want, 1));
	struct mapic_names *n = mapic_names_new();
	int rc;

	for (size_t i = 0; i < n_want; i++) {
		names[i].kind = want[i].kind;
		memcpy(names[i].guid, want[i].guid, 16);
		names[i].lid = want[i].lid;
		names[i].name = want[i].name;	/* borrowed for the write */
	}
	mapic_exec_begin(x);
	/* without MAPI_CREATE a name the mailbox has no id for is not
	 * given one: reading makes nothing */
	rop_get_prop_ids_req_write(mapic_exec_buf(x),
		&(struct rop_get_prop_ids_req){
			.input_handle_index = mapic_exec_logon(x),
			.flags = create ? PROP_IDS_CREATE : 0,
			.n_names = n_want, .names = names });
	g_free(names);
	if ((rc = mapic_exec_run(x, e)) == 0)
		rc = take_ids(x, want, n_want, n, e);
	mapic_exec_free(&x);
	if (rc < 0) {
		mapic_names_free(&n);
		return rc;
	}
	*n_r = n;
	return 0;
}

/* ---- rendering ---- */

/* Whether message class `cls` is `want` or one of its subclasses. */
static bool class_is(const char *cls, const char *want)
{
	size_t n = strlen(want);

	return !g_ascii_strncasecmp(cls, want, n) &&
	       (cls[n] == 0 || cls[n] == '.');
}

int mapic_pim_render(enum mfs_folder_kind kind, const struct mapi_message *m,
		     const struct mapi_pim_names *names, GByteArray *out,
		     const char **why_r)
{
	const char *cls = mapi_props_str(&m->props,
					 MAPI_TAG_ID(MAPI_TAG_MESSAGE_CLASS));
	bool contacts = kind == MFS_FOLDER_CONTACTS;
	int rc;

	*why_r = NULL;
	/* a message without a class is taken for what its folder holds */
	if (cls && !class_is(cls, contacts ? "IPM.Contact"
					   : "IPM.Appointment")) {
		*why_r = contacts ? "not a contact (IPM.Contact)"
				  : "not an appointment (IPM.Appointment)";
		return -ENOTSUP;
	}
	rc = contacts ? mapi_contact_render(m, names, out)
		      : mapi_appt_render(m, names, out);
	if (rc < 0)
		*why_r = contacts ? "the contact cannot be made a vCard"
				  : "the appointment cannot be made an "
				    "iCalendar object";
	return rc;
}
