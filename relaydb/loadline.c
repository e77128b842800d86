/* loadline: see loadline.h. */
#include "loadline.h"

#include <string.h>

#include <skalibs/types.h>

#include "store.h"

int loadline_scan_ts (char const *s, size_t len, uint64_t *ts)
{
  size_t i ;
  if (!len || len > 12) return 0 ;
  for (i = 0 ; i < len ; i++) if (s[i] < '0' || s[i] > '9') return 0 ;
  return uint64_scan(s, ts) == len && *ts <= STORE_TS_MAX ;
}

static int is_blank (char c) { return c == ' ' || c == '\t' || c == '\r' ; }

int loadline_parse (char *s, size_t len, char *canon, uint64_t *ts, char const **why)
{
  size_t i = 0, iplen, tsstart ;
  ip46 ip ;
  if (memchr(s, 0, len)) { *why = "NUL byte" ; return -1 ; }
  while (i < len && is_blank(s[i])) i++ ;
  if (i == len || s[i] == '#') return 0 ;
  for (iplen = 0 ; i + iplen < len && !is_blank(s[i + iplen]) ; iplen++) ;
  if (!mx_ip_scan(s + i, iplen, &ip)) { *why = "invalid IP address" ; return -1 ; }
  mx_ip_fmt(canon, &ip) ;
  i += iplen ;
  while (i < len && is_blank(s[i])) i++ ;
  tsstart = i ;
  while (i < len && !is_blank(s[i])) i++ ;
  if (i == tsstart) { *why = "missing timestamp" ; return -1 ; }
  s[i] = 0 ;  /* room: s is one byte longer than the line */
  if (!loadline_scan_ts(s + tsstart, i - tsstart, ts)) { *why = "invalid timestamp" ; return -1 ; }
  while (++i < len) if (!is_blank(s[i])) { *why = "trailing garbage" ; return -1 ; }
  return 1 ;
}
