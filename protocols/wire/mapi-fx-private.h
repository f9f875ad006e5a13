/*
 * mapi-fx-private.h - what the FastTransfer reader, writer and builder
 * share and nobody else needs: the layout of each property type in the
 * stream (MS-OXCFXICS 2.2.4.3).
 */
#ifndef MFS_MAPI_FX_PRIVATE_H
#define MFS_MAPI_FX_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a fixed-size value of `type` (PtypBoolean: 2), or 0 for a type
 * that is not fixed-size. */
size_t mapi_fx_fixed_size(uint16_t type);

/* Whether `type` is a 32-bit byte count and the bytes. */
bool mapi_fx_counted(uint16_t type);

/* Whether a multi-valued property of `one` can travel in the stream. */
bool mapi_fx_mv_ok(uint16_t one);

#endif
