/*
 * mapi-trace.c - see mapi-trace.h.  The JSON's body_b64 fields are the
 * authoritative bytes; everything else in it is a convenience.
 */
#include "mapi-trace.h"

#include <string.h>

struct mapi_trace {
	JsonParser *parser;		/* owned; owns the JSON tree */
	GPtrArray *bodies;		/* owned; decoded base64 buffers */
	struct mapi_trace_exchange *x;	/* owned */
	size_t n;
};

char *mapi_trace_path(const char *rel)
{
	return g_test_build_filename(G_TEST_DIST, "data", "mapi-traces", rel,
				     NULL);
}

static const uint8_t *body(struct mapi_trace *t, JsonObject *o, size_t *len)
{
	const char *b64;
	guchar *data;
	gsize n;

	*len = 0;
	if (!o || !json_object_has_member(o, "body_b64"))
		return NULL;
	b64 = json_object_get_string_member(o, "body_b64");
	if (!b64)
		return NULL;
	data = g_base64_decode(b64, &n);
	g_ptr_array_add(t->bodies, data);
	*len = n;
	return data;
}

static JsonObject *member_object(JsonObject *o, const char *name)
{
	JsonNode *n;

	if (!o || !json_object_has_member(o, name))
		return NULL;
	n = json_object_get_member(o, name);
	return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

struct mapi_trace *mapi_trace_load(const char *name)
{
	struct mapi_trace *t = g_new0(struct mapi_trace, 1);
	g_autofree char *file = g_strconcat(name, ".json", NULL);
	g_autofree char *path = mapi_trace_path(file);
	GError *err = NULL;
	JsonArray *xs;
	size_t i;

	t->parser = json_parser_new();
	if (!json_parser_load_from_file(t->parser, path, &err))
		g_error("%s: %s", path, err->message);
	t->bodies = g_ptr_array_new_with_free_func(g_free);
	xs = json_object_get_array_member(mapi_trace_root(t), "exchanges");
	t->n = json_array_get_length(xs);
	t->x = g_new0(struct mapi_trace_exchange, t->n);
	for (i = 0; i < t->n; i++) {
		JsonObject *o = json_array_get_object_element(xs, (guint)i);
		struct mapi_trace_exchange *x = &t->x[i];

		x->seq = (int)json_object_get_int_member(o, "seq");
		x->step = json_object_get_string_member(o, "step");
		x->request = member_object(o, "request");
		x->response = member_object(o, "response");
		x->decoded = member_object(o, "decoded");
		x->method = json_object_get_string_member(x->request, "method");
		x->path = json_object_get_string_member(x->request, "path");
		x->req = body(t, x->request, &x->req_len);
		x->resp = body(t, x->response, &x->resp_len);
		x->status = x->response ?
			(int)json_object_get_int_member(x->response, "status")
			: 0;
		if (x->response &&
		    json_object_has_member(x->response, "mh_binary_offset"))
			x->resp_bin_off = (size_t)json_object_get_int_member(
				x->response, "mh_binary_offset");
	}
	return t;
}

void mapi_trace_free(struct mapi_trace *t)
{
	if (!t)
		return;
	g_free(t->x);
	g_ptr_array_unref(t->bodies);
	g_object_unref(t->parser);
	g_free(t);
}

size_t mapi_trace_count(const struct mapi_trace *t)
{
	return t->n;
}

const struct mapi_trace_exchange *mapi_trace_at(const struct mapi_trace *t,
						size_t i)
{
	g_assert(i < t->n);
	return &t->x[i];
}

JsonObject *mapi_trace_root(const struct mapi_trace *t)
{
	return json_node_get_object(json_parser_get_root(t->parser));
}

static const char *header(JsonObject *o, const char *name)
{
	JsonArray *hs;
	guint i;

	if (!o || !json_object_has_member(o, "headers"))
		return NULL;
	hs = json_object_get_array_member(o, "headers");
	for (i = 0; i < json_array_get_length(hs); i++) {
		JsonArray *h = json_array_get_array_element(hs, i);

		if (!g_ascii_strcasecmp(json_array_get_string_element(h, 0),
					name))
			return json_array_get_string_element(h, 1);
	}
	return NULL;
}

const char *mapi_trace_req_header(const struct mapi_trace_exchange *x,
				  const char *name)
{
	return header(x->request, name);
}

const char *mapi_trace_resp_header(const struct mapi_trace_exchange *x,
				   const char *name)
{
	return header(x->response, name);
}
