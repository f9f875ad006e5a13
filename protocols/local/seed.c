/*
 * seed.c - the first content of a new store: INBOX with a welcome message
 * (RFC 5322, CRLF line ends), an empty Contacts and an empty Calendar.
 */
#include "local-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "maildir-name.h"

static const char welcome_body[] =
	"Welcome to mailfs.\r\n"
	"\r\n"
	"This message is a file: every mail folder of this mount is a Maildir\r\n"
	"directory (cur/, new/, tmp/), contacts are .vcf files and calendar\r\n"
	"entries .ics files, so grep, find, rsync, mutt, notmuch and mblaze\r\n"
	"work on your mail as they do on any directory.\r\n"
	"\r\n"
	"  - deliver a message: write it into INBOX/tmp/, then rename it into\r\n"
	"    INBOX/new/ (or write it straight into cur/);\r\n"
	"  - set flags: rename a file in cur/ to other letters after \":2,\";\r\n"
	"  - move it: rename it into another folder's cur/;\r\n"
	"  - mkdir, rmdir and mv of folder directories manage folders.\r\n"
	"\r\n"
	"The store behind this mount is a plain directory tree of the same\r\n"
	"shape; `mailfs serve` can make it available to other mail programs.\r\n"
	"Status and recent errors are in .mailfs/ at the top of the mount.\r\n";

static int mkdirs(const char *root, const char *const *dirs)
{
	for (int i = 0; dirs[i]; i++) {
		g_autofree char *p = g_build_filename(root, dirs[i], NULL);
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

static int write_new(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc;

	if (fd < 0)
		return -errno;
	rc = file_write_all(fd, text, strlen(text));
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int local_seed(const char *root, GError **err)
{
	static const char *const dirs[] = { "INBOX", "INBOX/tmp", "INBOX/new",
					    "INBOX/cur", "Contacts",
					    "Calendar", NULL };
	g_autofree char *unique = maildir_unique_new();
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	g_autofree char *msg = g_strdup_printf(
		"Date: %s\r\n"
		"From: mailfs <mailfs@localhost>\r\n"
		"To: %s <%s@localhost>\r\n"
		"Subject: Welcome to mailfs\r\n"
		"Message-ID: <%s@mailfs.localhost>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Transfer-Encoding: 8bit\r\n"
		"\r\n%s",
		date, g_get_user_name(), g_get_user_name(), unique,
		welcome_body);
	g_autofree char *tmp = g_build_filename(root, "INBOX/tmp", unique, NULL);
	g_autofree char *dst = g_build_filename(root, "INBOX/new", unique, NULL);
	g_autofree char *ckind = g_build_filename(root, "Contacts",
						  LOCAL_KIND_FILE, NULL);
	g_autofree char *kkind = g_build_filename(root, "Calendar",
						  LOCAL_KIND_FILE, NULL);

	if ((rc = mkdirs(root, dirs)) < 0 ||
	    (rc = write_new(ckind, "contacts\n")) < 0 ||
	    (rc = write_new(kkind, "calendar\n")) < 0 ||
	    (rc = write_new(tmp, msg)) < 0)
		goto fail;
	if (rename(tmp, dst) != 0) {
		rc = -errno;
		goto fail;
	}
	file_fsync_dir(root);
	return 0;
fail:
	g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(-rc),
		    "seeding the new store %s: %s", root, g_strerror(-rc));
	return rc;
}
