/*
 * maildir-name.c - parse and format Maildir file names.
 */
#include "maildir-name.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define INFO_SEP ":2,"

uint64_t maildir_flag_bit(char c)
{
	if (c >= 'A' && c <= 'Z')
		return UINT64_C(1) << (c - 'A');
	if (c >= 'a' && c <= 'z')
		return UINT64_C(1) << (c - 'a' + 26);
	return 0;
}

uint64_t maildir_flags_parse(const char *letters)
{
	uint64_t flags = 0;

	for (; *letters; letters++)
		flags |= maildir_flag_bit(*letters);
	return flags;
}

char *maildir_flags_format(uint64_t flags)
{
	char buf[53];
	size_t n = 0;

	for (int i = 0; i < 52; i++) {
		if (flags & (UINT64_C(1) << i))
			buf[n++] = (char)(i < 26 ? 'A' + i : 'a' + (i - 26));
	}
	buf[n] = '\0';
	return g_strdup(buf);
}

int maildir_name_parse(const char *name, char **id_r, uint64_t *flags_r)
{
	const char *sep;

	if (name[0] == '\0' || name[0] == '.')
		return -EINVAL;
	sep = strstr(name, INFO_SEP);
	if (sep == name)
		return -EINVAL;
	if (!sep) {
		*id_r = g_strdup(name);
		*flags_r = 0;
		return 0;
	}
	*id_r = g_strndup(name, (gsize)(sep - name));
	*flags_r = maildir_flags_parse(sep + strlen(INFO_SEP));
	return 0;
}

char *maildir_name_format(const char *id, uint64_t flags)
{
	/* new/ names carry no info, unless letters would otherwise be lost */
	if ((flags & MAILDIR_FLAG_NEW) && !(flags & ~MAILDIR_FLAG_NEW))
		return g_strdup(id);
	g_autofree char *letters = maildir_flags_format(flags);
	return g_strconcat(id, INFO_SEP, letters, NULL);
}

char *maildir_unique_new(void)
{
	static gint counter;
	char host[256];
	struct timeval tv;

	if (gethostname(host, sizeof(host)) != 0)
		g_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++) {
		if (*p == '/' || *p == ':')
			*p = '_';
	}
	gettimeofday(&tv, NULL);
	return g_strdup_printf("%lld.M%ldP%dQ%d.%s", (long long)tv.tv_sec,
			       (long)tv.tv_usec, (int)getpid(),
			       g_atomic_int_add(&counter, 1) + 1, host);
}
