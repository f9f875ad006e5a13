/*
 * windows-zones.h - Windows time zone ids, as EWS names a zone (the Id of
 * t:TimeZoneDefinition, t:StartTimeZone, t:EndTimeZone, and of the
 * TimeZoneContext header), and the IANA zone each stands for.
 *
 * Specs: [MS-OXWSCAL] 2.2.4.x (TimeZoneDefinitionType: Id is a Windows
 * zone id); Unicode CLDR supplemental data windowsZones, the mapping of
 * each Windows zone for territory "001" (its main zone).  IANA names are
 * written as the tz database spells them today, where CLDR keeps an older
 * alias (Asia/Kolkata for Asia/Calcutta).
 */
#ifndef MFS_WINDOWS_ZONES_H
#define MFS_WINDOWS_ZONES_H

#include <stddef.h>

/* The IANA name of Windows zone `id` (compared without regard to ASCII
 * case), or NULL for an id the table does not hold.  Borrowed; static. */
const char *ews_windows_zone_iana(const char *id);

/* Entry `i` of the table: its Windows id, with its IANA name in *iana_r
 * (both static); NULL past the last. */
const char *ews_windows_zone_nth(size_t i, const char **iana_r);

#endif
