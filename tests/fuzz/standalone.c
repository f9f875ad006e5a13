/*
 * standalone.c - runs a fuzz target over files without libFuzzer, so that
 * the corpus is a quick regression test in every build.  Arguments are
 * files or directories (every regular file in them).
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	gchar *data = NULL;
	gsize len = 0;
	GError *err = NULL;

	if (!g_file_get_contents(path, &data, &len, &err)) {
		fprintf(stderr, "%s\n", err->message);
		g_error_free(err);
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	g_free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int failures = 0, runs = 0;

	for (int i = 1; i < argc; i++) {
		GDir *dir = g_dir_open(argv[i], 0, NULL);
		if (!dir) {
			failures += run_file(argv[i]);
			runs++;
			continue;
		}
		const char *name;
		while ((name = g_dir_read_name(dir))) {
			g_autofree char *p = g_build_filename(argv[i], name, NULL);
			if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
				failures += run_file(p);
				runs++;
			}
		}
		g_dir_close(dir);
	}
	printf("%d inputs, %d unreadable\n", runs, failures);
	return failures ? 1 : 0;
}
