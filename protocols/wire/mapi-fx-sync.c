/*
 * mapi-fx-sync.c - the builder of an incremental contents download: the
 * FastTransfer reader's events gathered into changed messages, deletions,
 * read-state changes and the final ICS state.  See mapi-fx.h.
 * MS-OXCFXICS 2.2.4.3, the syntactical structure: contentsSync,
 * messageChangeFull, messageChangePartial (2.2.4.3.15), messageChangeHeader,
 * messageContent, MessageChildren, deletions, readStateChanges, state.
 *
 * The phases follow the grammar: changes, then at most one IncrSyncDel,
 * one IncrSyncRead, then the state and IncrSyncEnd.  Properties go to the
 * bag the last marker opened; a property where no bag is open is refused.
 */
#include "mapi-fx.h"

#include <errno.h>
#include <string.h>

#include "mapi-tags.h"

enum sync_phase {
	PH_START,	/* nothing yet, or progress information */
	PH_HEADER,	/* after IncrSyncChg: the change header */
	PH_MESSAGE,	/* after IncrSyncMessage: the message */
	PH_DEL,
	PH_READ,
	PH_STATE,
	PH_STATE_DONE,
	PH_END,
};

/* A message being filled, and its attachment open, if any. */
struct sync_level {
	struct mapi_message *m;		/* borrowed from its change */
	size_t attach;			/* open attachment, or SIZE_MAX */
};

struct mapi_fx_sync {
	enum sync_phase phase;
	GPtrArray *changes;		/* struct mapi_fx_change, owned */
	struct mapi_props *target;	/* where properties go, or NULL */
	struct mapi_props discard;	/* progress and group information */
	GArray *levels;			/* struct sync_level */
	struct mapi_props deletions;
	struct mapi_props read;
	struct mapi_props state;
	GHashTable *names;		/* id -> struct mapi_fx_named */
};

static void change_free(gpointer p)
{
	struct mapi_fx_change *c = p;

	mapi_props_clear(&c->header);
	mapi_message_free(c->msg);
	g_free(c);
}

static void named_free(gpointer p)
{
	struct mapi_fx_named *n = p;

	g_free(n->name);
	g_free(n);
}

struct mapi_fx_sync *mapi_fx_sync_new(void)
{
	struct mapi_fx_sync *s = g_new0(struct mapi_fx_sync, 1);

	s->changes = g_ptr_array_new_with_free_func(change_free);
	s->levels = g_array_new(FALSE, TRUE, sizeof(struct sync_level));
	s->names = g_hash_table_new_full(NULL, NULL, NULL, named_free);
	return s;
}

void mapi_fx_sync_free(struct mapi_fx_sync **sp)
{
	struct mapi_fx_sync *s = *sp;

	if (!s)
		return;
	g_ptr_array_unref(s->changes);
	g_array_unref(s->levels);
	mapi_props_clear(&s->discard);
	mapi_props_clear(&s->deletions);
	mapi_props_clear(&s->read);
	mapi_props_clear(&s->state);
	g_hash_table_unref(s->names);
	g_free(s);
	*sp = NULL;
}

static struct mapi_fx_change *current(struct mapi_fx_sync *s)
{
	return s->changes->len ? g_ptr_array_index(s->changes,
						   s->changes->len - 1)
			       : NULL;
}

static struct sync_level *top_level(struct mapi_fx_sync *s)
{
	return s->levels->len ? &g_array_index(s->levels, struct sync_level,
					       s->levels->len - 1)
			      : NULL;
}

static struct mapi_bin header_bin(const struct mapi_props *h, uint32_t tag)
{
	const struct mapi_value *v = mapi_props_get_tag(h, tag);
	struct mapi_bin none = { 0 };

	return v ? v->v.bin : none;
}

static uint64_t header_i8(const struct mapi_props *h, uint32_t tag)
{
	const struct mapi_value *v = mapi_props_get_tag(h, tag);

	return v ? (uint64_t)v->v.i8 : 0;
}

/* The header is complete: its values for the caller's convenience. */
static void header_done(struct mapi_fx_change *c)
{
	const struct mapi_props *h = &c->header;
	const struct mapi_value *v;

	c->source_key = header_bin(h, MAPI_TAG_SOURCE_KEY);
	c->change_key = header_bin(h, MAPI_TAG_CHANGE_KEY);
	c->predecessors = header_bin(h, MAPI_TAG_PREDECESSOR_CHANGE_LIST);
	v = mapi_props_get_tag(h, MAPI_TAG_LAST_MODIFICATION_TIME);
	c->last_modified = v ? v->v.ft : 0;
	c->associated = mapi_props_b(h, MAPI_TAG_ID(MAPI_TAG_ASSOCIATED),
				     false);
	c->mid = header_i8(h, MAPI_TAG_MID);
	c->cn = header_i8(h, MAPI_TAG_CHANGE_NUMBER);
	v = mapi_props_get(h, MAPI_TAG_ID(MAPI_TAG_MESSAGE_SIZE));
	if (v && MAPI_TAG_TYPE(v->tag) == MAPI_PT_LONG)
		c->size = (uint32_t)v->v.l;
	else if (v && MAPI_TAG_TYPE(v->tag) == MAPI_PT_I8)
		c->size = (uint64_t)v->v.i8;
}

static int begin_change(struct mapi_fx_sync *s, struct mapi_fx_event *ev)
{
	struct mapi_fx_change *c;

	if (s->phase != PH_START && s->phase != PH_MESSAGE)
		return -EBADMSG;
	c = g_new0(struct mapi_fx_change, 1);
	c->offset = ev->offset;
	c->partial = ev->tag == MAPI_FX_INCR_SYNC_CHG_PARTIAL;
	g_ptr_array_add(s->changes, c);
	g_array_set_size(s->levels, 0);
	s->phase = PH_HEADER;
	s->target = &c->header;
	return 0;
}

/* The header ends where the message's own properties begin. */
static int begin_message(struct mapi_fx_sync *s, uint64_t offset)
{
	struct mapi_fx_change *c = current(s);
	struct sync_level top = { .attach = SIZE_MAX };

	if (s->phase != PH_HEADER)
		return -EBADMSG;
	header_done(c);
	c->message_offset = offset;
	c->msg = mapi_message_new();
	top.m = c->msg;
	g_array_append_val(s->levels, top);
	s->phase = PH_MESSAGE;
	s->target = &c->msg->props;
	return 0;
}

/* The children of the message being filled: recipients, attachments, an
 * embedded message inside the open attachment.  The reader has paired the
 * markers already; what is left is their place in a change. */
static int child_marker(struct mapi_fx_sync *s, uint32_t tag)
{
	struct sync_level *lv = top_level(s);
	struct sync_level in = { .attach = SIZE_MAX };
	struct mapi_attachment *a;

	if (s->phase != PH_MESSAGE || !lv)
		return -EBADMSG;
	switch (tag) {
	case MAPI_FX_START_RECIP:
		s->target = &mapi_message_add_recip(lv->m)->props;
		return 0;
	case MAPI_FX_NEW_ATTACH:
		a = mapi_message_add_attach(lv->m);
		lv->attach = lv->m->n_attach - 1;
		s->target = &a->props;
		return 0;
	case MAPI_FX_START_EMBED:
		if (lv->attach == SIZE_MAX)
			return -EBADMSG;
		a = &lv->m->attach[lv->attach];
		a->embedded = mapi_message_new();
		in.m = a->embedded;
		s->target = &in.m->props;
		g_array_append_val(s->levels, in);
		return 0;
	case MAPI_FX_END_EMBED:
		if (s->levels->len < 2)
			return -EBADMSG;
		g_array_set_size(s->levels, s->levels->len - 1);
		s->target = NULL;
		return 0;
	case MAPI_FX_END_ATTACH:
		lv->attach = SIZE_MAX;
		s->target = NULL;
		return 0;
	default: /* MAPI_FX_END_TO_RECIP */
		s->target = NULL;
		return 0;
	}
}

static int sync_marker(struct mapi_fx_sync *s, struct mapi_fx_event *ev)
{
	enum sync_phase ph = s->phase;

	switch (ev->tag) {
	case MAPI_FX_INCR_SYNC_PROGRESS_MODE:
	case MAPI_FX_INCR_SYNC_PROGRESS_PER_MSG:
	case MAPI_FX_INCR_SYNC_GROUP_INFO:
		if (ph != PH_START && ph != PH_MESSAGE)
			return -EBADMSG;
		mapi_props_clear(&s->discard);
		s->target = &s->discard;
		return 0;
	case MAPI_FX_INCR_SYNC_CHG: case MAPI_FX_INCR_SYNC_CHG_PARTIAL:
		return begin_change(s, ev);
	case MAPI_FX_INCR_SYNC_MESSAGE:
		return begin_message(s, ev->offset);
	case MAPI_FX_START_RECIP: case MAPI_FX_END_TO_RECIP:
	case MAPI_FX_NEW_ATTACH: case MAPI_FX_END_ATTACH:
	case MAPI_FX_START_EMBED: case MAPI_FX_END_EMBED:
		return child_marker(s, ev->tag);
	case MAPI_FX_INCR_SYNC_DEL:
		if (ph != PH_START && ph != PH_MESSAGE)
			return -EBADMSG;
		s->phase = PH_DEL;
		s->target = &s->deletions;
		return 0;
	case MAPI_FX_INCR_SYNC_READ:
		if (ph != PH_START && ph != PH_MESSAGE && ph != PH_DEL)
			return -EBADMSG;
		s->phase = PH_READ;
		s->target = &s->read;
		return 0;
	case MAPI_FX_INCR_SYNC_STATE_BEGIN:
		if (ph == PH_HEADER || ph >= PH_STATE)
			return -EBADMSG;
		s->phase = PH_STATE;
		s->target = &s->state;
		return 0;
	case MAPI_FX_INCR_SYNC_STATE_END:
		if (ph != PH_STATE)
			return -EBADMSG;
		s->phase = PH_STATE_DONE;
		s->target = NULL;
		return 0;
	case MAPI_FX_INCR_SYNC_END:
		if (ph != PH_STATE_DONE)
			return -EBADMSG;
		s->phase = PH_END;
		s->target = NULL;
		return 0;
	default:
		return -EBADMSG;
	}
}

static void remember_name(struct mapi_fx_sync *s, struct mapi_fx_event *ev)
{
	gpointer key = GUINT_TO_POINTER(MAPI_TAG_ID(ev->tag));
	struct mapi_fx_named *n;

	if (g_hash_table_contains(s->names, key))
		return;
	n = g_new(struct mapi_fx_named, 1);
	*n = ev->name;
	n->name = g_strdup(ev->name.name);
	g_hash_table_insert(s->names, key, n);
}

static int sync_prop(struct mapi_fx_sync *s, struct mapi_fx_event *ev)
{
	switch (ev->tag) {
	case MAPI_FX_META_DEL_PROP:
		/* a message arrives whole: there is nothing to delete first */
		return s->phase == PH_MESSAGE ? 0 : -EBADMSG;
	case MAPI_FX_META_EC_WARNING:
	case MAPI_FX_META_GROUP_ID:
		return 0;
	case MAPI_FX_META_MSG_PARTIAL:
		/* the groups of a partial change: the message's properties */
		if (s->phase == PH_HEADER)
			return begin_message(s, ev->offset);
		if (s->phase != PH_MESSAGE || s->levels->len != 1)
			return -EBADMSG;
		s->target = &current(s)->msg->props;
		return 0;
	default:
		break;
	}
	if (!s->target)
		return -EBADMSG;
	if (ev->named)
		remember_name(s, ev);
	mapi_props_take(s->target, &ev->value);
	return 0;
}

int mapi_fx_sync_event(void *ctx, struct mapi_fx_event *ev)
{
	struct mapi_fx_sync *s = ctx;

	if (s->phase == PH_END)
		return -EBADMSG;
	if (ev->kind == MAPI_FX_MARKER)
		return sync_marker(s, ev);
	return sync_prop(s, ev);
}

int mapi_fx_sync_finish(struct mapi_fx_sync *s)
{
	return s->phase == PH_END ? 0 : -EBADMSG;
}

size_t mapi_fx_sync_n_changes(const struct mapi_fx_sync *s)
{
	return s->changes->len;
}

struct mapi_fx_change *mapi_fx_sync_change(struct mapi_fx_sync *s, size_t i)
{
	return i < s->changes->len ? g_ptr_array_index(s->changes, i) : NULL;
}

struct mapi_fx_change *mapi_fx_sync_take_done(struct mapi_fx_sync *s)
{
	bool last_open = s->phase == PH_HEADER || s->phase == PH_MESSAGE;

	if (s->changes->len == 0 || (last_open && s->changes->len == 1))
		return NULL;
	return g_ptr_array_steal_index(s->changes, 0);
}

void mapi_fx_change_free(struct mapi_fx_change **c)
{
	if (*c)
		change_free(*c);
	*c = NULL;
}

const struct mapi_props *mapi_fx_sync_deletions(const struct mapi_fx_sync *s)
{
	return &s->deletions;
}

const struct mapi_props *mapi_fx_sync_read_changes(const struct mapi_fx_sync *s)
{
	return &s->read;
}

const struct mapi_props *mapi_fx_sync_state(const struct mapi_fx_sync *s)
{
	return &s->state;
}

const struct mapi_fx_named *mapi_fx_sync_name(const struct mapi_fx_sync *s,
					      uint16_t id)
{
	return g_hash_table_lookup(s->names, GUINT_TO_POINTER(id));
}

static const struct mapi_fx_named *names_lookup(void *ctx, uint16_t id)
{
	return mapi_fx_sync_name(ctx, id);
}

struct mapi_fx_names mapi_fx_sync_names(struct mapi_fx_sync *s)
{
	struct mapi_fx_names n = { .lookup = names_lookup, .ctx = s };

	return n;
}
