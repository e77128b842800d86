/* loadline: one line of "relaydb load" input, as list and dump print
 * them: "IP TIMESTAMP", blanks (space, tab, CR) around and between the
 * two fields, blank lines and lines whose first non-blank is '#'
 * skipped. The IP is any form mx_ip_scan takes and comes back in
 * canonical form; the timestamp is decimal digits only, at most
 * STORE_TS_MAX.
 */
#ifndef RELAYDB_LOADLINE_H
#define RELAYDB_LOADLINE_H

#include <stddef.h>
#include <stdint.h>

#include "mx_ip.h"

/* Parses s (len bytes, without its newline; s has room for len + 1
   bytes, and the byte after the timestamp may be overwritten). Returns
   1 with the canonical IP in canon (MX_IP_FMT bytes) and the timestamp
   in *ts; 0 for a blank or comment line; -1 with the reason (static
   text: "NUL byte", "invalid IP address", "missing timestamp",
   "invalid timestamp", "trailing garbage") in *why. */
extern int loadline_parse (char *s, size_t len, char *canon, uint64_t *ts, char const **why) ;

/* A timestamp (len bytes, followed by a byte that is not a digit):
   decimal digits only, no sign, no blanks, at most STORE_TS_MAX.
   Returns 1 with the value in *ts, or 0. */
extern int loadline_scan_ts (char const *s, size_t len, uint64_t *ts) ;

#endif
