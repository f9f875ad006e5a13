/*
 * maildir-name.c - parse and format Maildir file names, and read and
 * write the names of their keyword letters (Dovecot's dovecot-keywords).
 */
#include "maildir-name.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"

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

/* ---- keywords ---- */

/* Our temporary file, renamed over dovecot-keywords; a dot name, which
 * no Maildir reader takes for a message or a folder. */
#define KEYWORDS_TMP ".mailfs-tmp.dovecot-keywords"
/* How long to wait for another writer's lock before giving up. */
#define KEYWORDS_LOCK_WAIT_MS 5000

uint64_t maildir_keyword_bit(unsigned idx)
{
	return idx < MAILDIR_KEYWORDS_MAX ? UINT64_C(1) << (26 + idx) : 0;
}

void maildir_keywords_clear(struct maildir_keywords *kw)
{
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		g_clear_pointer(&kw->names[i], g_free);
}

gboolean maildir_keyword_valid(const char *name)
{
	/* RFC 3501 ATOM-CHAR: no atom-specials, no CTL, nothing past 0x7e */
	if (!name || !*name || name[0] == '\\' || strlen(name) > 200)
		return FALSE;
	for (const char *p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
			return FALSE;
	}
	return TRUE;
}

/* One line of the file: "<index> <name>".  Returns the index or -1. */
static int parse_line(const char *line, const char **name_r)
{
	const char *sp = strchr(line, ' ');
	int idx = 0;

	if (!sp || sp == line || sp - line > 2)
		return -1;
	for (const char *p = line; p < sp; p++) {
		if (!g_ascii_isdigit(*p))
			return -1;
		idx = idx * 10 + (*p - '0');
	}
	if (idx >= MAILDIR_KEYWORDS_MAX || !maildir_keyword_valid(sp + 1))
		return -1;
	*name_r = sp + 1;
	return idx;
}

int maildir_keywords_read(const char *dir, struct maildir_keywords *kw)
{
	g_autofree char *path = g_build_filename(dir, MAILDIR_KEYWORDS_FILE,
						 NULL);
	g_autofree char *text = NULL;
	g_autoptr(GError) err = NULL;

	maildir_keywords_clear(kw);
	if (!g_file_get_contents(path, &text, NULL, &err)) {
		if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return 0;
		return err->domain == G_FILE_ERROR && err->code ==
			G_FILE_ERROR_ACCES ? -EACCES : -EIO;
	}
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		const char *name;
		int idx = parse_line(lines[i], &name);
		/* the first line naming a letter or a keyword wins */
		if (idx < 0 || kw->names[idx] ||
		    maildir_keywords_find(kw, name) >= 0)
			continue;
		kw->names[idx] = g_strdup(name);
	}
	return 0;
}

gboolean maildir_keywords_equal(const struct maildir_keywords *a,
				const struct maildir_keywords *b)
{
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (g_strcmp0(a->names[i], b->names[i]))
			return FALSE;
	}
	return TRUE;
}

int maildir_keywords_find(const struct maildir_keywords *kw, const char *name)
{
	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (kw->names[i] && !g_ascii_strcasecmp(kw->names[i], name))
			return i;
	}
	return -1;
}

unsigned maildir_keywords_room(const struct maildir_keywords *kw)
{
	unsigned n = 0;

	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++)
		n += kw->names[i] == NULL;
	return n;
}

/* Take the folder's lock: 0, or -EWOULDBLOCK after waiting, or -errno. */
static int keywords_lock(const char *lock)
{
	gint64 end = g_get_monotonic_time() + KEYWORDS_LOCK_WAIT_MS * 1000;

	for (;;) {
		struct stat sb;
		int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      0600);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EEXIST)
			return -errno;
		if (stat(lock, &sb) == 0 &&
		    time(NULL) - sb.st_mtime > MAILDIR_KEYWORDS_STALE_S) {
			unlink(lock);
			continue;
		}
		if (g_get_monotonic_time() > end)
			return -EWOULDBLOCK;
		g_usleep(10 * 1000);
	}
}

/* Replace the file with *kw.  Called with the lock held.  Returns 0 or
 * -errno. */
static int keywords_write(const char *dir, const struct maildir_keywords *kw)
{
	g_autofree char *path = g_build_filename(dir, MAILDIR_KEYWORDS_FILE,
						 NULL);
	g_autofree char *tmp = g_build_filename(dir, KEYWORDS_TMP, NULL);
	g_autoptr(GString) text = g_string_new(NULL);
	struct stat old, now;
	int fd, rc = 0;

	for (int i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if (kw->names[i])
			g_string_append_printf(text, "%d %s\n", i,
					       kw->names[i]);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = file_write_all(fd, text->str, text->len);
	/* Dovecot reads the file again only when its mtime (in seconds)
	 * changed: make it grow */
	if (rc == 0 && stat(path, &old) == 0 && fstat(fd, &now) == 0 &&
	    now.st_mtime <= old.st_mtime) {
		struct timespec ts[2] = {
			{ .tv_nsec = UTIME_OMIT },
			{ .tv_sec = old.st_mtime + 1 },
		};
		if (futimens(fd, ts) != 0)
			rc = -errno;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	file_fsync_dir(dir);
	return 0;
}

/* The index of each name in *kw, giving free letters to the missing
 * ones; *added_r tells whether any was.  -ENOSPC when out of letters. */
static int keywords_assign(struct maildir_keywords *kw,
			   const char *const *names, size_t n,
			   uint64_t *bits_r, gboolean *added_r)
{
	for (size_t k = 0; k < n; k++) {
		int idx = maildir_keywords_find(kw, names[k]);
		if (idx < 0) {
			for (idx = 0; idx < MAILDIR_KEYWORDS_MAX &&
				      kw->names[idx]; idx++)
				;
			if (idx == MAILDIR_KEYWORDS_MAX)
				return -ENOSPC;
			kw->names[idx] = g_strdup(names[k]);
			*added_r = TRUE;
		}
		*bits_r |= maildir_keyword_bit((unsigned)idx);
	}
	return 0;
}

int maildir_keywords_add(const char *dir, const char *const *names, size_t n,
			 struct maildir_keywords *kw, uint64_t *bits_r)
{
	g_autofree char *lock = g_build_filename(dir, MAILDIR_KEYWORDS_LOCK,
						 NULL);
	gboolean added = FALSE;
	uint64_t bits = 0;
	int rc;

	*bits_r = 0;
	for (size_t k = 0; k < n; k++) {
		if (!maildir_keyword_valid(names[k]))
			return -EINVAL;
	}
	/* the common case, every name known already, takes no lock */
	if ((rc = maildir_keywords_read(dir, kw)) < 0)
		return rc;
	if (keywords_assign(kw, names, n, &bits, &added) == 0 && !added) {
		*bits_r = bits;
		return 0;
	}
	if ((rc = keywords_lock(lock)) < 0)
		return rc;
	bits = 0;
	added = FALSE;
	rc = maildir_keywords_read(dir, kw);
	if (rc == 0)
		rc = keywords_assign(kw, names, n, &bits, &added);
	if (rc == 0 && added)
		rc = keywords_write(dir, kw);
	unlink(lock);
	if (rc < 0) {
		maildir_keywords_read(dir, kw);
		return rc;
	}
	*bits_r = bits;
	return 0;
}

int maildir_keywords_remap(const char *src_dir, const char *dst_dir,
			   uint64_t flags, uint64_t *flags_r)
{
	struct maildir_keywords src = { 0 }, dst = { 0 };
	const char *names[MAILDIR_KEYWORDS_MAX];
	uint64_t named = 0, bits = 0;
	size_t n = 0;
	int rc;

	*flags_r = flags;
	if (!(flags & MAILDIR_KEYWORD_BITS))
		return 0;
	if ((rc = maildir_keywords_read(src_dir, &src)) < 0)
		return rc;
	for (unsigned i = 0; i < MAILDIR_KEYWORDS_MAX; i++) {
		if ((flags & maildir_keyword_bit(i)) && src.names[i]) {
			names[n++] = src.names[i];
			named |= maildir_keyword_bit(i);
		}
	}
	if (n)
		rc = maildir_keywords_add(dst_dir, names, n, &dst, &bits);
	if (rc == 0)
		*flags_r = (flags & ~named) | bits;
	maildir_keywords_clear(&src);
	maildir_keywords_clear(&dst);
	return rc;
}
