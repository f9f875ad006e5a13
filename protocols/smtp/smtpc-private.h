/*
 * smtpc-private.h - the submitter's settings, shared by submit.c (sending
 * with libcurl) and check.c (`mailfs check` of the same server) only.
 */
#ifndef MFS_SMTP_SUBMIT_PRIVATE_H
#define MFS_SMTP_SUBMIT_PRIVATE_H

#include <curl/curl.h>
#include <glib.h>
#include <stdbool.h>

#include "submit.h"

struct oauth2_session;

struct smtpc_submitter {
	char *name;		/* the account's */
	char *url;		/* smtp://host:port or smtps://... */
	bool plaintext_ok;
	char *ca_file;
	char *user;
	char *password;		/* secret */
	char *token_cmd;	/* prints an OAuth 2 access token */
	struct oauth2_session *oauth2;	/* built-in OAuth2, or NULL */
	char *auth;		/* "AUTH=PLAIN"..., NULL: what the server
				   offers */
	long timeout;		/* seconds */
	CURL *h;		/* kept from one message to the next, NULL
				   before the first: its connection cache
				   holds the batch's connection (submit.c) */
	GMutex lock;
	char *last;		/* the last outcome; lock */
};

#endif
