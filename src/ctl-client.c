/*
 * ctl-client.c - `mailfs status` and `mailfs flush`: commands that talk to
 * a running mount through the files of its .mailfs/ directory.
 */
#include "ctl-client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mountcheck.h"

/* Read MOUNT/.mailfs/NAME; caller owns *text_r.  Returns 0, or an exit
 * status after saying why. */
static int read_ctl(const char *mountpoint, const char *name, char **text_r)
{
	g_autofree char *mp = g_canonicalize_filename(mountpoint, NULL);
	g_autofree char *path = g_build_filename(mp, ".mailfs", name, NULL);
	g_autofree char *fstype = NULL;
	GError *err = NULL;

	if (!mountcheck_is_mounted(mp, &fstype) ||
	    !g_str_has_prefix(fstype ? fstype : "", "fuse.mailfs")) {
		fprintf(stderr, "mailfs: %s is not a mailfs mount\n", mp);
		return EXIT_FAILURE;
	}
	if (!g_file_get_contents(path, text_r, NULL, &err)) {
		fprintf(stderr, "mailfs: %s\n", err->message);
		g_error_free(err);
		return EXIT_FAILURE;
	}
	return 0;
}

int ctl_cmd_status(int argc, char **argv)
{
	g_autofree char *text = NULL;
	int rc;

	if (argc != 3) {
		fputs("usage: mailfs status MOUNTPOINT\n", stderr);
		return CTL_EXIT_USAGE;
	}
	if ((rc = read_ctl(argv[2], "status", &text)) != 0)
		return rc;
	fputs(text, stdout);
	return 0;
}

/* The "pending: N" of a status text, or -1. */
static long pending_of(const char *status)
{
	const char *p = strstr(status, "\npending: ");

	return p ? strtol(p + 10, NULL, 10) : -1;
}

struct flush_job {
	const char *mountpoint;		/* borrowed */
	char *answer;			/* owned; what .mailfs/flush said */
	int rc;
	GMutex lock;
	GCond cond;			/* done was set */
	bool done;			/* lock */
};

static gpointer flush_reader(gpointer p)
{
	struct flush_job *j = p;
	char *answer = NULL;
	int rc = read_ctl(j->mountpoint, "flush", &answer);

	g_mutex_lock(&j->lock);
	j->answer = answer;
	j->rc = rc;
	j->done = true;
	g_cond_signal(&j->cond);
	g_mutex_unlock(&j->lock);
	return NULL;
}

/* Reading .mailfs/flush makes the mount push everything; meanwhile the
 * count of what is left is shown as it goes down. */
int ctl_cmd_flush(int argc, char **argv)
{
	struct flush_job job = { 0 };
	bool unmount = argc == 4 && !strcmp(argv[2], "--unmount");
	bool tty = isatty(STDERR_FILENO);
	long shown = -2;
	int rc;

	if (argc != 3 && !unmount) {
		fputs("usage: mailfs flush [--unmount] MOUNTPOINT\n", stderr);
		return CTL_EXIT_USAGE;
	}
	job.mountpoint = argv[argc - 1];
	g_mutex_init(&job.lock);
	g_cond_init(&job.cond);
	GThread *t = g_thread_new("flush", flush_reader, &job);
	for (;;) {
		g_mutex_lock(&job.lock);
		bool done = job.done;
		g_mutex_unlock(&job.lock);
		if (done)
			break;
		g_autofree char *status = NULL;
		if (read_ctl(job.mountpoint, "status", &status) == 0) {
			long n = pending_of(status);
			if (n >= 0 && n != shown)
				fprintf(stderr, tty ? "\r%ld changes to send "
					"   " : "%ld changes to send\n", n);
			shown = n;
		}
		g_mutex_lock(&job.lock);
		gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC / 4;
		while (!job.done && g_cond_wait_until(&job.cond, &job.lock,
						      until))
			;
		g_mutex_unlock(&job.lock);
	}
	g_thread_join(t);
	g_mutex_clear(&job.lock);
	g_cond_clear(&job.cond);
	if (tty && shown >= 0)
		fputc('\n', stderr);
	g_autofree char *answer = job.answer;
	if ((rc = job.rc) != 0)
		return rc;
	bool refused = g_str_has_prefix(answer, "refused: ");
	if (refused) {
		/* nothing waits: an unmount asked for loses nothing */
		fprintf(stderr, "mailfs: %s", answer + strlen("refused: "));
	} else if (strcmp(answer, "flushed\n")) {
		fprintf(stderr, "mailfs: %s", answer);
		return EXIT_FAILURE;
	}
	if (unmount) {
		g_autofree char *mp = g_canonicalize_filename(job.mountpoint,
							      NULL);
		const char *args[] = { "fusermount3", "-u", mp, NULL };
		GError *err = NULL;
		int status = 0;
		if (!g_spawn_sync(NULL, (char **)args, NULL, G_SPAWN_SEARCH_PATH,
				  NULL, NULL, NULL, NULL, &status, &err) ||
		    !g_spawn_check_wait_status(status, &err)) {
			fprintf(stderr, "mailfs: unmounting %s: %s\n", mp,
				err->message);
			g_error_free(err);
			return EXIT_FAILURE;
		}
	}
	return refused ? CTL_EXIT_REFUSED : 0;
}
