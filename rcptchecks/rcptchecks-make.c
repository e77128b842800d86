/* rcptchecks-make: builds rcptchecks' recipient database from a list,
 * or with -s its sender access list (senderline.h).
 *
 * Usage: rcptchecks-make [ -c | -s ] cdb tmp < list
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
 * -s: lines "pattern OK" or "pattern REJECT [text]"; records "a:"
 * ADDRESS, "d:" DOMAIN, "s:" DOMAIN (its subdomains), each = "OK" or
 * "REJECT[ text]", and "o:list" = "senders" (rcptchecks -S refuses a
 * database without it). A pattern given twice: the first line counts.
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

#include "listline.h"
#include "senderline.h"


#define USAGE "rcptchecks-make [ -c | -s ] cdb tmp < list"
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

static void add (cdbmaker *c, char kind, char const *s, size_t n)
{
  char key[LINE_MAX_BYTES + 2] ;
  key[0] = kind ;
  memcpy(key + 1, s, n) ;
  if (!cdbmake_add(c, key, (unsigned int)n + 1, "", 0)) cleanup_die(111, "unable to write ", tmpname, "") ;
}

/* one sender access entry: "k:" KEY = "OK" or "REJECT[ text]" */
static void add_sender (cdbmaker *c, senderline const *l)
{
  char key[LINE_MAX_BYTES + 3], val[8 + SENDERLINE_TEXT_MAX] ;
  size_t vn = 0 ;
  key[0] = l->kind ; key[1] = ':' ;
  memcpy(key + 2, l->key, l->keylen) ;
  if (l->reject)
  {
    memcpy(val, "REJECT", 6) ; vn = 6 ;
    if (l->textlen) { val[vn++] = ' ' ; memcpy(val + vn, l->text, l->textlen) ; vn += l->textlen ; }
  }
  else { memcpy(val, "OK", 2) ; vn = 2 ; }
  if (!cdbmake_add(c, key, (unsigned int)l->keylen + 2, val, (unsigned int)vn)) cleanup_die(111, "unable to write ", tmpname, "") ;
}

int main (int argc, char const *const *argv)
{
  cdbmaker c = CDBMAKER_ZERO ;
  int keep_case = 0, senders = 0, fd ;
  size_t line = 0 ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "cs", &l) ;
      if (opt == -1) break ;
      if (opt == 'c') keep_case = 1 ;
      else if (opt == 's') senders = 1 ;
      else strerr_dieusage(100, USAGE) ;
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (argc != 2 || (keep_case && senders)) strerr_dieusage(100, USAGE) ;
  tmpname = argv[1] ;
  fd = open_trunc(tmpname) ;
  if (fd < 0) strerr_diefu2sys(111, "create ", tmpname) ;
  if (!cdbmake_start(&c, fd)) cleanup_die(111, "unable to write ", tmpname, "") ;
  if (senders ? !cdbmake_add(&c, "o:list", 6, "senders", 7) : !cdbmake_add(&c, "o:case", 6, keep_case ? "keep" : "fold", 4))
    cleanup_die(111, "unable to write ", tmpname, "") ;
  for (;;)
  {
    char buf[LINE_MAX_BYTES + 2] ;
    char const *why ;
    listline l ;
    size_t w = 0 ;
    int r = getlnmax(buffer_0, buf, sizeof buf, &w, '\n') ;
    if (r < 0)
    {
      if (errno == ERANGE) dieline(line + 1, ": line longer than 1000 bytes") ;
      cleanup_die(111, "unable to read stdin", "", "") ;
    }
    if (!r && !w) break ;
    line++ ;
    if (w && buf[w-1] == '\n') w-- ;
    if (senders)
    {
      senderline sl ;
      switch (senderline_parse(buf, w, &sl, &why))
      {
        case SENDERLINE_BAD : dieline(line, why) ;
        case SENDERLINE_SKIP : break ;
        case SENDERLINE_ENTRY : add_sender(&c, &sl) ; break ;
      }
      if (!r) break ;
      continue ;
    }
    switch (listline_parse(buf, w, keep_case, &l, &why))
    {
      case LISTLINE_BAD : dieline(line, why) ;
      case LISTLINE_SKIP : break ;
      case LISTLINE_DOMAIN : add(&c, 'd', l.domain, l.dlen) ; break ;
      case LISTLINE_ADDRESS :
        add(&c, 'd', l.domain, l.dlen) ;
        add(&c, 'a', l.addr, l.alen) ;
        break ;
    }
    if (!r) break ;
  }
  if (!cdbmake_finish(&c) || fsync(fd) < 0 || close(fd) < 0) cleanup_die(111, "unable to write ", tmpname, "") ;
  if (rename(tmpname, argv[0]) < 0) cleanup_die(111, "unable to rename to ", argv[0], "") ;
  return 0 ;
}
