/*
 * ldapc-private.h - the LDAP directory client (`type = ldap`): an account
 * whose mount holds one folder, Directory/, filled by lookups in an LDAP
 * server's subtree.  libldap (OpenLDAP's client library) speaks the
 * protocol; this room holds the settings, the connection's life and the
 * lookups.  See docs/LDAP.md.
 *
 * Specs: RFC 4510 (LDAP), RFC 4511 4.5 (search), RFC 4513 (simple bind,
 * StartTLS), RFC 4515 (filter strings and their escapes), RFC 4516 (LDAP
 * URLs), RFC 2696 (simple paged results).
 *
 * Threads: one libldap handle per account, used under `lock`.
 * Ownership: the backend owns its settings and handle.
 */
#ifndef MFS_LDAPC_PRIVATE_H
#define MFS_LDAPC_PRIVATE_H

#include <glib.h>
#include <ldap.h>
#include <stdbool.h>

#include "backend.h"

#define LDAPC_DIRECTORY "Directory"
/* Entries one lookup asks for unless ldap_size_limit says otherwise. */
#define LDAPC_SIZE_DEFAULT MFS_DIR_MAX
#define LDAPC_TIMEOUT_DEFAULT 30
/* The default ldap_filter: a prefix of the usual names and addresses. */
#define LDAPC_FILTER_DEFAULT \
	"(|(cn=%s*)(mail=%s*)(sn=%s*)(givenName=%s*))"
/* What an exact lookup (`cat Directory/NAME.vcf`) asks for. */
#define LDAPC_FILTER_EXACT "(|(mail=%s)(cn=%s))"

struct ldapc_cfg {
	char *name;			/* owned; the account's */
	char *url;			/* owned; as configured */
	char *server;			/* owned; scheme://host:port */
	char *host;			/* owned */
	int port;
	char *base;			/* owned; the subtree searched */
	bool ldaps;			/* TLS from the start */
	bool plaintext;			/* allow_plaintext = true */
	char *bind_dn;			/* owned; NULL binds anonymously */
	char *password;			/* owned; wiped when freed */
	char *ca_file;			/* owned; NULL for the system's */
	char *filter;			/* owned; the prefix template */
	unsigned size_limit;
	unsigned timeout;		/* seconds */
};

struct mfs_backend {
	struct ldapc_cfg cfg;
	GMutex lock;
	LDAP *ld;			/* owned; NULL when not connected;
					   protected by lock */
	bool paged;			/* the server offers RFC 2696 */
	char *last_error;		/* owned; for describe; lock */
};

/* Read the account's settings into *cfg.  Returns 0, or -EINVAL with the
 * reason in *err (client.c). */
int ldapc_cfg_load(const struct mfs_account *acct, struct ldapc_cfg *cfg,
		   GError **err);
void ldapc_cfg_clear(struct ldapc_cfg *cfg);

/* Connect, secure and bind, unless connected already; under be->lock.
 * Returns 0 or -errno with *e saying why (search.c). */
int ldapc_connect(struct mfs_backend *be, struct mfs_error *e);
/* Drop the connection; under be->lock. */
void ldapc_disconnect(struct mfs_backend *be);

/* The backend's lookup member (search.c). */
int ldapc_lookup(struct mfs_backend *be, const char *folder,
		 const char *query, bool prefix, GPtrArray **entries_r,
		 struct mfs_error *e);

/* `filter` with each %s replaced by `value` escaped as RFC 4515 says
 * ("%%" is a percent sign).  Caller owns the result. */
char *ldapc_filter_expand(const char *filter, const char *value);

#endif
