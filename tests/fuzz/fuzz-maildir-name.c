/*
 * fuzz-maildir-name.c - file names as users and other programs put them
 * into a Maildir (common/maildir-name.c), on arbitrary bytes up to the
 * first NUL.  What is accepted, written back out, must read again as the
 * same unique part and flags, and be written the same way a second time;
 * flag letters in any order and with any junk must give the same letters
 * in ASCII order.
 */
#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "maildir-name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = g_strndup((const char *)data, size);
	char *id = NULL, *id2 = NULL, *again = NULL, *twice = NULL;
	uint64_t flags = 0, flags2 = 0;

	uint64_t bits = maildir_flags_parse(name);
	char *letters = maildir_flags_format(bits);
	if (maildir_flags_parse(letters) != bits)
		__builtin_trap();
	g_free(letters);
	if (maildir_name_parse(name, &id, &flags) < 0) {
		g_free(name);
		return 0;
	}
	if (!id || !*id || (flags & MAILDIR_FLAG_NEW))
		__builtin_trap();
	again = maildir_name_format(id, flags);
	if (maildir_name_parse(again, &id2, &flags2) < 0 ||
	    strcmp(id, id2) || flags != flags2)
		__builtin_trap();
	twice = maildir_name_format(id2, flags2);
	if (strcmp(again, twice))
		__builtin_trap();
	g_free(twice);
	g_free(again);
	g_free(id2);
	g_free(id);
	g_free(name);
	return 0;
}
