/*
 * check.c - see check.h.  Addresses as getaddrinfo(3) gives them (RFC
 * 3493); certificate outcomes in OpenSSL's words (X509_verify_cert).
 */
#include "check.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/x509_vfy.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include "stream.h"

void mfs_check_say(struct mfs_check *ck, const char *step, bool ok,
		   const char *fix, const char *fmt, ...)
{
	va_list ap;

	if (!ck)
		return;
	va_start(ap, fmt);
	g_autofree char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* servers' words go to a terminal: no control characters */
	for (char *p = text; *p; p++) {
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	}
	g_autofree char *name = g_strconcat(ck->prefix ? ck->prefix : "", step,
					    NULL);
	if (!ok)
		ck->failures++;
	if (!ok && !strcmp(step, "config"))
		ck->config_bad = true;
	ck->fn(name, ok, text, fix, ck->data);
}

int mfs_check_resolve(struct mfs_check *ck, const char *host,
		      const char *port)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	int rc;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		const char *what = rc == EAI_NONAME || rc == EAI_NODATA
			? "no such host" : rc == EAI_AGAIN
			? "the name server did not answer" : "cannot resolve";
		mfs_check_say(ck, "dns", false, "check host = (the server's "
			      "name) and the network", "%s: %s (%s)", host,
			      what, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	GString *addrs = g_string_new(NULL);
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char a[NI_MAXHOST];
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, a, sizeof(a), NULL,
				0, NI_NUMERICHOST) != 0 ||
		    strstr(addrs->str, a))
			continue;
		g_string_append_printf(addrs, "%s%s", addrs->len ? ", " : "",
				       a);
	}
	freeaddrinfo(res);
	mfs_check_say(ck, "dns", true, NULL, "%s is %s", host, addrs->str);
	g_string_free(addrs, TRUE);
	return 0;
}

void mfs_check_connected(struct mfs_check *ck, int rc, const char *why,
			 struct stream *s, const char *host, const char *port,
			 const char *tunnel, gint64 started, int timeout_ms)
{
	gint64 ms = (g_get_monotonic_time() - started) / 1000;

	if (!ck)
		return;
	if (tunnel) {
		if (rc < 0)
			mfs_check_say(ck, "tunnel", false, "check tunnel = "
				      "(a command speaking the protocol on "
				      "its stdin and stdout)", "%s", why);
		else
			mfs_check_say(ck, "tunnel", true, NULL,
				      "started '%s'", tunnel);
		return;
	}
	if (rc == -ETIMEDOUT) {
		mfs_check_say(ck, "tcp", false, "check host = and port =, or "
			      "a firewall on the way; timeout = gives a slow "
			      "server longer", "%s:%s: no answer, timed out "
			      "after %d s", host, port, timeout_ms / 1000);
		return;
	}
	if (rc < 0) {
		mfs_check_say(ck, "tcp", false, rc == -ECONNREFUSED
			      ? "check port = (nothing listens there) and "
				"that the server runs"
			      : "check host = and port =", "%s", why);
		return;
	}
	g_autofree char *addr = stream_peer_address(s);
	mfs_check_say(ck, "tcp", true, NULL, "%s:%s (%s) connected in %"
		      G_GINT64_FORMAT " ms", host, port, addr ? addr : "?",
		      ms);
}

void mfs_check_tls(struct mfs_check *ck, int rc, const char *why,
		   struct stream *s, const char *ca_file, const char *how)
{
	struct stream_tls_info ti;

	if (!ck)
		return;
	if (stream_tls_info(s, &ti) < 0) {
		/* the handshake never began: the CA file is unusable */
		mfs_check_say(ck, "tls", false, ca_file ? "ca_file = must name "
			      "a readable PEM file of CA certificates" : NULL,
			      "%s", why ? why : how);
		return;
	}
	g_autofree char *cert = ti.subject
		? g_strdup_printf("certificate %s issued by %s", ti.subject,
				  ti.issuer)
		: g_strdup("no certificate received");
	if (rc == 0) {
		mfs_check_say(ck, "tls", true, NULL, "%s, %s %s, %s, verified",
			      how, ti.version, ti.cipher, cert);
	} else if (rc == -EPERM && ti.verify_code ==
		   X509_V_ERR_HOSTNAME_MISMATCH) {
		mfs_check_say(ck, "tls", false, "set host = to a name the "
			      "certificate is for", "%s, %s, NOT verified: %s",
			      how, cert, ti.verify);
	} else if (rc == -EPERM && ti.subject) {
		/* the certificate is refused whatever the answer: only a CA
		 * the account names can make it trusted */
		g_autofree char *fix = g_strdup_printf(
			"if you trust this server, put its CA certificate in a "
			"file and set ca_file = /path/to/ca.pem%s%s%s",
			ca_file ? " (now " : "", ca_file ? ca_file : "",
			ca_file ? ")" : "");
		mfs_check_say(ck, "tls", false, fix, "%s, %s, NOT verified: %s",
			      how, cert, ti.verify);
	} else {
		mfs_check_say(ck, "tls", false, "check port = and tls = "
			      "(implicit, or starttls on a port that starts "
			      "in plain text)", "%s: %s", how, why);
	}
	stream_tls_info_clear(&ti);
}
