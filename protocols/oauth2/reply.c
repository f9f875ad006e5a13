/*
 * reply.c - the JSON answers of the device authorization endpoint (RFC
 * 8628 section 3.2) and of the token endpoint (RFC 6749 sections 5.1 and
 * 5.2, RFC 8628 section 3.5), read with json-glib.  No I/O.
 *
 * Google's device endpoint says "verification_url" where RFC 8628 says
 * "verification_uri"; both are read.
 */
#include "oauth2-private.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "printable.h"
#include "secret.h"

#define DEFAULT_INTERVAL 5
#define DESCRIPTION_MAX 200

static const struct {
	const char *name;
	enum oauth2_error code;
} error_names[] = {
	{ "authorization_pending", OAUTH2_PENDING },
	{ "slow_down", OAUTH2_SLOW_DOWN },
	{ "access_denied", OAUTH2_DENIED },
	/* the Microsoft identity platform's word for access_denied */
	{ "authorization_declined", OAUTH2_DENIED },
	{ "expired_token", OAUTH2_EXPIRED },
	{ "invalid_grant", OAUTH2_INVALID_GRANT },
};

enum oauth2_error oauth2_error_from_name(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(error_names); i++)
		if (!strcmp(error_names[i].name, name))
			return error_names[i].code;
	return OAUTH2_OTHER;
}

/* The top-level object of `body`, or NULL.  Caller owns the parser the
 * object lives in. */
static JsonObject *top_object(JsonParser *p, const char *body, size_t len)
{
	JsonNode *root;

	if (len > OAUTH2_ANSWER_MAX ||
	    !json_parser_load_from_data(p, body, (gssize)len, NULL))
		return NULL;
	root = json_parser_get_root(p);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root))
		return NULL;
	return json_node_get_object(root);
}

/* A string member, or NULL when absent or of another type.  Caller owns. */
static char *member_string(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);

	if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
	    json_node_get_value_type(n) != G_TYPE_STRING)
		return NULL;
	return g_strdup(json_node_get_string(n));
}

/* A count of seconds (some servers send it as a string), or -1 when absent
 * or not a number from 0 to G_MAXINT32: larger ones would overflow the
 * sums made of them. */
static int64_t member_int(JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member(o, name);
	gint64 v;
	double d;

	if (!n || !JSON_NODE_HOLDS_VALUE(n))
		return -1;
	switch (json_node_get_value_type(n)) {
	case G_TYPE_INT64:
		v = json_node_get_int(n);
		break;
	case G_TYPE_DOUBLE:
		d = json_node_get_double(n);
		if (!(d >= 0 && d <= G_MAXINT32))
			return -1;
		v = (gint64)d;
		break;
	case G_TYPE_STRING:
		if (!g_ascii_string_to_signed(json_node_get_string(n), 10, 0,
					      G_MAXINT32, &v, NULL))
			return -1;
		break;
	default:
		return -1;
	}
	return v >= 0 && v <= G_MAXINT32 ? v : -1;
}

/* A server's words for a one-line message: their printable form
 * (printable.h), bounded.  Caller owns the result; NULL for NULL. */
static char *words(const char *s)
{
	GString *out;

	if (!s)
		return NULL;
	out = g_string_new(NULL);
	if (!printable_append(out, s, -1, DESCRIPTION_MAX))
		g_string_append(out, "...");
	return g_string_free(out, FALSE);
}

bool oauth2_printable(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

void oauth2_device_answer_clear(struct oauth2_device_answer *d)
{
	secret_clear(&d->device_code);
	g_free(d->user_code);
	g_free(d->verification_uri);
	g_free(d->verification_uri_complete);
	memset(d, 0, sizeof(*d));
}

int oauth2_parse_device(long status, const char *body, size_t len,
			struct oauth2_device_answer *d, char **why_r)
{
	g_autoptr(JsonParser) p = json_parser_new_immutable();
	JsonObject *o = top_object(p, body, len);

	memset(d, 0, sizeof(*d));
	*why_r = NULL;
	if (!o) {
		*why_r = g_strdup_printf("the device authorization endpoint "
					 "answered HTTP %ld without JSON",
					 status);
		return -EINVAL;
	}
	if (status != 200 || json_object_has_member(o, "error")) {
		g_autofree char *code = member_string(o, "error");
		g_autofree char *desc = member_string(o, "error_description");
		g_autofree char *pc = words(code), *pd = words(desc);
		*why_r = g_strdup_printf("the device authorization endpoint "
					 "refused (HTTP %ld): %s%s%s", status,
					 pc ? pc : "no error code",
					 pd ? ": " : "", pd ? pd : "");
		return -EACCES;
	}
	d->device_code = member_string(o, "device_code");
	d->user_code = member_string(o, "user_code");
	d->verification_uri = member_string(o, "verification_uri");
	if (!d->verification_uri)
		d->verification_uri = member_string(o, "verification_url");
	d->verification_uri_complete =
		member_string(o, "verification_uri_complete");
	d->expires_in = member_int(o, "expires_in");
	d->interval = member_int(o, "interval");
	if (d->interval <= 0)
		d->interval = DEFAULT_INTERVAL;
	if (!d->device_code || !*d->device_code || !oauth2_printable(d->user_code) ||
	    !oauth2_printable(d->verification_uri) || d->expires_in <= 0 ||
	    (d->verification_uri_complete &&
	     !oauth2_printable(d->verification_uri_complete))) {
		oauth2_device_answer_clear(d);
		*why_r = g_strdup("the device authorization answer lacks "
				  "device_code, user_code, verification_uri "
				  "or expires_in, or holds control "
				  "characters");
		return -EINVAL;
	}
	return 0;
}

void oauth2_token_answer_clear(struct oauth2_token_answer *a)
{
	g_free(a->error_code);
	g_free(a->error_description);
	secret_clear(&a->access_token);
	secret_clear(&a->refresh_token);
	memset(a, 0, sizeof(*a));
}

int oauth2_parse_token(long status, const char *body, size_t len,
		       struct oauth2_token_answer *a, char **why_r)
{
	g_autoptr(JsonParser) p = json_parser_new_immutable();
	JsonObject *o = top_object(p, body, len);
	g_autofree char *type = NULL, *code = NULL, *desc = NULL;

	memset(a, 0, sizeof(*a));
	*why_r = NULL;
	if (!o) {
		*why_r = g_strdup_printf("the token endpoint answered HTTP "
					 "%ld without JSON", status);
		return -EINVAL;
	}
	code = member_string(o, "error");
	if (code || status != 200) {
		if (!code) {
			*why_r = g_strdup_printf("the token endpoint answered "
						 "HTTP %ld with no error code",
						 status);
			return -EINVAL;
		}
		desc = member_string(o, "error_description");
		a->error = oauth2_error_from_name(code);
		a->error_code = words(code);
		a->error_description = words(desc);
		return 0;
	}
	a->access_token = member_string(o, "access_token");
	a->refresh_token = member_string(o, "refresh_token");
	a->expires_in = member_int(o, "expires_in");
	if (a->expires_in < 0)
		a->expires_in = 0;
	type = member_string(o, "token_type");
	if (!a->access_token || !*a->access_token) {
		oauth2_token_answer_clear(a);
		*why_r = g_strdup("the token endpoint's answer holds no "
				  "access_token");
		return -EINVAL;
	}
	/* RFC 6749 7.1: a token of another type cannot go where a bearer
	 * token goes */
	if (type && g_ascii_strcasecmp(type, "bearer")) {
		g_autofree char *pt = words(type);
		oauth2_token_answer_clear(a);
		*why_r = g_strdup_printf("the token endpoint issued a token "
					 "of type %s, not Bearer", pt);
		return -EINVAL;
	}
	if (a->refresh_token && !*a->refresh_token)
		secret_clear(&a->refresh_token);
	return 0;
}

char *oauth2_error_text(const struct oauth2_token_answer *a)
{
	if (a->error_description && *a->error_description)
		return g_strdup_printf("%s: %s", a->error_code,
				       a->error_description);
	return g_strdup(a->error_code ? a->error_code : "error");
}
