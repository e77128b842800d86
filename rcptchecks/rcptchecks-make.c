/* rcptchecks-make: builds rcptchecks' recipient database from a list.
 *
 * Usage: rcptchecks-make [ -c ] cdb tmp < list
 *
 * As tcprules does: reads the list on stdin, writes the database to tmp,
 * then renames tmp to cdb, so rcptchecks never sees half a database;
 * on any error tmp is removed and cdb left as it was.
 * List lines (blanks around a line and blank lines ignored; a line whose
 * first non-blank is # is a comment):
 *   example.org          a local domain: only its listed addresses exist
 *   alice@example.org    an address (its domain becomes local)
 *   bob-default@example.org   every bob-EXT (qmail extensions)
 *   @example.net         a catch-all: every address at example.net exists
 * Domains are lower-cased, local parts too unless -c (then rcptchecks
 * compares them with their case). Records: "d" DOMAIN, "a" ADDRESS,
 * and "o:case" = "fold" or "keep".
 * Exit: 0 done; 100 usage or an invalid line (message with the line
 * number; nothing replaced); 111 I/O error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <skalibs/buffer.h>
#include <skalibs/cdbmake.h>
#include <skalibs/djbunix.h>
#include <skalibs/sgetopt.h>
#include <skalibs/skamisc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "mx_text.h"


#define USAGE "rcptchecks-make [ -c ] cdb tmp < list"
#define LINE_MAX_BYTES 1000

char const *PROG = "rcptchecks-make" ;

static char const *tmpname ;

static void cleanup_die (int e, char const *a, char const *b, char const *c) gccattr_noreturn ;
static void cleanup_die (int e, char const *a, char const *b, char const *c)
{
  unlink(tmpname) ;
  strerr_dief(e, a, b, c, "; nothing replaced") ;
}

static void dieline (size_t line, char const *why) gccattr_noreturn ;
static void dieline (size_t line, char const *why)
{
  char fmt[SIZE_FMT] ;
  fmt[size_fmt(fmt, line)] = 0 ;
  cleanup_die(100, "stdin line ", fmt, why) ;
}

static int domain_ok (char const *d, size_t n)
{
  size_t i ;
  if (!n) return 0 ;
  if (d[0] == '[') return n > 2 && d[n-1] == ']' ;   /* a domain literal */
  for (i = 0 ; i < n ; i++)
  {
    char c = d[i] ;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_')) return 0 ;
    if (c == '.' && (!i || d[i-1] == '.')) return 0 ;
  }
  return 1 ;
}

static void add (cdbmaker *c, char kind, char const *s, size_t n)
{
  char key[LINE_MAX_BYTES + 2] ;
  key[0] = kind ;
  memcpy(key + 1, s, n) ;
  if (!cdbmake_add(c, key, (unsigned int)n + 1, "", 0)) cleanup_die(111, "unable to write ", tmpname, "") ;
}

int main (int argc, char const *const *argv)
{
  cdbmaker c = CDBMAKER_ZERO ;
  int keep_case = 0, fd ;
  size_t line = 0 ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "c", &l) ;
      if (opt == -1) break ;
      if (opt == 'c') keep_case = 1 ; else strerr_dieusage(100, USAGE) ;
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc != 2) strerr_dieusage(100, USAGE) ;
  tmpname = argv[1] ;
  fd = open_trunc(tmpname) ;
  if (fd < 0) strerr_diefu2sys(111, "create ", tmpname) ;
  if (!cdbmake_start(&c, fd)) cleanup_die(111, "unable to write ", tmpname, "") ;
  if (!cdbmake_add(&c, "o:case", 6, keep_case ? "keep" : "fold", 4)) cleanup_die(111, "unable to write ", tmpname, "") ;
  for (;;)
  {
    char buf[LINE_MAX_BYTES + 2] ;
    char *s = buf, *at ;
    size_t w = 0, n ;
    int r = getlnmax(buffer_0, buf, sizeof buf, &w, '\n') ;
    if (r < 0)
    {
      if (errno == ERANGE) dieline(line + 1, ": line longer than 1000 bytes") ;
      cleanup_die(111, "unable to read stdin", "", "") ;
    }
    if (!r && !w) break ;
    line++ ;
    if (w && buf[w-1] == '\n') w-- ;
    if (memchr(buf, 0, w)) dieline(line, ": NUL byte") ;
    while (w && (buf[w-1] == ' ' || buf[w-1] == '\t' || buf[w-1] == '\r')) w-- ;
    while (w && (*s == ' ' || *s == '\t')) { s++ ; w-- ; }
    if (!w || *s == '#') { if (!r) break ; continue ; }
    for (n = 0 ; n < w ; n++)
      if ((unsigned char)s[n] <= 32 || (unsigned char)s[n] >= 127) dieline(line, ": blank or unprintable byte inside the entry") ;
    s[w] = 0 ;
    at = strrchr(s, '@') ;
    if (!at)
    {
      mx_text_lower(s, w) ;
      if (w && s[w-1] == '.') w-- ;
      if (!domain_ok(s, w)) dieline(line, ": not a domain") ;
      add(&c, 'd', s, w) ;
    }
    else
    {
      size_t llen = (size_t)(at - s), dlen = w - llen - 1 ;
      if (dlen && at[dlen] == '.') dlen-- ;
      mx_text_lower(at + 1, dlen) ;
      if (!keep_case) mx_text_lower(s, llen) ;
      if (!domain_ok(at + 1, dlen)) dieline(line, ": not a domain after @") ;
      add(&c, 'd', at + 1, dlen) ;
      add(&c, 'a', s, llen + 1 + dlen) ;
    }
    if (!r) break ;
  }
  if (!cdbmake_finish(&c) || fsync(fd) < 0 || close(fd) < 0) cleanup_die(111, "unable to write ", tmpname, "") ;
  if (rename(tmpname, argv[0]) < 0) cleanup_die(111, "unable to rename to ", argv[0], "") ;
  return 0 ;
}
