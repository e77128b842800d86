/* greydb: the administrator's command for the greylisting store.
 *
 * Usage: greydb [ -G dir | -g group [ -f file ] [ -T secs ] ]
 *          [ -O name=value ]... verb args
 *   list                 print the triplets and networks still in force
 *   dump                 print every record, stale ones too
 *   delete NET [SENDER RCPT]
 *                        remove a network's record, or a triplet's
 *   allow NET            allow the network outright (its passes set to
 *                        the auto-allow count, now)
 *   expire               remove what rcptchecks would no longer use:
 *                        triplets not retried within the window, passes
 *                        and networks older than the lifetime
 *   load                 read lines (greyline.h, as list and dump print
 *                        them; blank lines and #comments allowed) from
 *                        stdin and record them all, or none if any line
 *                        is invalid
 * -O window=SECS, lifetime=SECS, autoallow=N as rcptchecks takes them
 * (rcptchecks.8): expire, list and allow follow them. Output and input
 * lines: "NET SENDER RCPT FIRST PASSED COUNT" and "NET PASSES LAST".
 * Every argument and every load line is checked before the store is
 * touched. With -g, the tables of greydb.8.
 * Exit: 0 done; 100 usage or invalid input (nothing changed); 111 store
 * error (message on stderr).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skalibs/buffer.h>
#include <skalibs/sgetopt.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "greyline.h"
#include "greystore.h"
#include "mx_text.h"

#define USAGE "greydb [ -G dir | -g group [ -f file ] [ -T secs ] ] [ -O name=value ]... list | dump | delete net [sender rcpt] | allow net | expire | load"
#define dieusage() strerr_dieusage(100, USAGE)
#define LOAD_MAX ((size_t)1 << 30)

char const *PROG = "greydb" ;

static greystore gs = { .timeout = 5 } ;
static greyconf conf = GREYCONF_DEFAULT ;
static uint64_t now ;
static int current_only ;

static void diestore (void) gccattr_noreturn ;
static void diestore (void)
{
  strerr_dief(111, gs.err) ;
}

static void dieinvalid (char const *what, char const *arg) gccattr_noreturn ;
static void dieinvalid (char const *what, char const *arg)
{
  char safe[65] ;
  mx_text_safe(safe, 64, arg, strlen(arg)) ;
  strerr_dief(100, "invalid ", what, ": ", safe) ;
}

static int num (char const *s, uint64_t max, uint64_t *v)
{
  uint64_t u ;
  size_t n = uint64_scan(s, &u) ;
  if (!n || s[n] || u > max) return 0 ;
  *v = u ;
  return 1 ;
}

static void option (char const *s)
{
  char const *eq = strchr(s, '=') ;
  size_t n = eq ? (size_t)(eq - s) : 0 ;
  uint64_t v ;
  if (!eq) dieinvalid("-O setting", s) ;
  eq++ ;
  if (n == 6 && !memcmp(s, "window", 6) && num(eq, 365 * 86400, &conf.window)) return ;
  if (n == 8 && !memcmp(s, "lifetime", 8) && num(eq, 3650 * 86400, &conf.lifetime)) return ;
  if (n == 9 && !memcmp(s, "autoallow", 9) && num(eq, 1000000, &v)) { conf.autoallow = (unsigned int)v ; return ; }
  dieinvalid("-O setting", s) ;
}

static int print (char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n, void *data)
{
  char line[GREYLINE_MAX + 2] ;
  (void)data ;
  if (current_only && (sender ? greystore_stale_rec(&conf, now, r) : greystore_stale_net(&conf, now, n))) return 1 ;
  if (buffer_put(buffer_1, line, greyline_fmt(line, net, sender, rcpt, r, n)) < 0) strerr_diefu1sys(111, "write to stdout") ;
  return 1 ;
}

static void field (char const *what, char const *arg)
{
  size_t n = strlen(arg), i ;
  if (!n || n > GREY_FIELD_MAX) dieinvalid(what, arg) ;
  for (i = 0 ; i < n ; i++) if ((unsigned char)arg[i] <= 32 || (unsigned char)arg[i] >= 127) dieinvalid(what, arg) ;
}

static void load (void)
{
  char *buf = 0 ;
  size_t len = 0, cap = 0, i, lineno ;
  greyline l ;
  char const *why ;
  for (;;)
  {
    ssize_t r ;
    if (len == cap)
    {
      char *nb ;
      if (cap >= LOAD_MAX) strerr_dief1x(100, "input too large") ;
      cap = cap ? 2 * cap : 65536 ;
      nb = realloc(buf, cap) ;
      if (!nb) strerr_diefu1sys(111, "read stdin") ;
      buf = nb ;
    }
    r = read(0, buf + len, cap - len) ;
    if (r < 0) { if (errno == EINTR) continue ; strerr_diefu1sys(111, "read stdin") ; }
    if (!r) break ;
    len += (size_t)r ;
  }
  /* every line checked first: all or nothing */
  for (int pass = 0 ; pass < 2 ; pass++)
    for (i = 0, lineno = 1 ; i < len ; lineno++)
    {
      char const *nl = memchr(buf + i, '\n', len - i) ;
      size_t e = nl ? (size_t)(nl - buf) : len, n = e - i ;
      enum greyline_kind k ;
      if (n && buf[i + n - 1] == '\r') n-- ;
      k = greyline_parse(buf + i, n, &l, &why) ;
      if (k == GREYLINE_BAD)
      {
        char nb[UINT64_FMT] ;
        nb[uint64_fmt(nb, lineno)] = 0 ;
        strerr_dief(100, "invalid line ", nb, ": ", why, " (nothing loaded)") ;
      }
      if (pass && k == GREYLINE_TRIPLET && greystore_put_rec(&gs, l.net, l.sender, l.rcpt, &l.r) < 0) diestore() ;
      if (pass && k == GREYLINE_NET && greystore_put_net(&gs, l.net, &l.n) < 0) diestore() ;
      i = e + 1 ;
    }
  free(buf) ;
}

int main (int argc, char const *const *argv)
{
  char const *verb ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, "G:g:f:T:O:", &l) ;
      if (opt == -1) break ;
      switch (opt)
      {
        case 'G' : gs.dir = l.arg ; break ;
        case 'g' : gs.group = l.arg ; break ;
        case 'f' : gs.cnf = l.arg ; break ;
        case 'T' : { uint64_t t ; if (!num(l.arg, 3600, &t) || !t) dieusage() ; gs.timeout = (unsigned int)t ; break ; }
        case 'O' : option(l.arg) ; break ;
        default : dieusage() ;
      }
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || (!gs.dir == !gs.group) || (gs.dir && (gs.cnf))) dieusage() ;
  verb = argv[0] ;
  now = (uint64_t)time(0) ;
  if (!strcmp(verb, "list") || !strcmp(verb, "dump"))
  {
    if (argc != 1) dieusage() ;
    current_only = !strcmp(verb, "list") ;
    gs.readonly = 1 ;
    if (!greystore_open(&gs) || greystore_each(&gs, &print, 0) < 0) diestore() ;
    if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
  }
  else if (!strcmp(verb, "delete"))
  {
    int r ;
    if (argc != 2 && argc != 4) dieusage() ;
    if (!greyline_net(argv[1])) dieinvalid("network", argv[1]) ;
    if (argc == 4) { field("sender", argv[2]) ; field("recipient", argv[3]) ; }
    if (!greystore_open(&gs)) diestore() ;
    r = greystore_delete(&gs, argv[1], argc == 4 ? argv[2] : 0, argc == 4 ? argv[3] : 0) ;
    if (r < 0) diestore() ;
    if (!r) strerr_warnw2x("no such record: ", argv[1]) ;
  }
  else if (!strcmp(verb, "allow"))
  {
    greynet n = { conf.autoallow ? conf.autoallow : 1, now } ;
    if (argc != 2) dieusage() ;
    if (!greyline_net(argv[1])) dieinvalid("network", argv[1]) ;
    if (!greystore_open(&gs) || greystore_put_net(&gs, argv[1], &n) < 0) diestore() ;
  }
  else if (!strcmp(verb, "expire"))
  {
    long long gone ;
    char nb[UINT64_FMT] ;
    if (argc != 1) dieusage() ;
    if (!greystore_open(&gs)) diestore() ;
    gone = greystore_expire(&gs, &conf, now) ;
    if (gone < 0) diestore() ;
    nb[uint64_fmt(nb, (uint64_t)gone)] = 0 ;
    strerr_warni3x("expired ", nb, " records") ;
  }
  else if (!strcmp(verb, "load"))
  {
    if (argc != 1) dieusage() ;
    if (!greystore_open(&gs)) diestore() ;
    load() ;
  }
  else dieusage() ;
  greystore_close(&gs) ;
  return 0 ;
}
