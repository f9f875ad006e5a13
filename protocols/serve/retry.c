/*
 * retry.c - repeating a store call that met another writer's rename.
 */
#include <errno.h>
#include <glib.h>

#include "serve.h"

bool serve_store_retry(int rc, int *attempt)
{
	static const unsigned wait_ms[] = { 0, 2, 10, 50, 200 };

	if (rc != -ENOENT || *attempt >= (int)G_N_ELEMENTS(wait_ms))
		return false;
	if (wait_ms[*attempt])
		g_usleep(wait_ms[*attempt] * 1000);
	(*attempt)++;
	return true;
}
