/* relaydb: the administrator's command for the relay store.
 *
 * Usage: relaydb [ -d dir | -g group [-f file] [-T secs] ] verb args
 *   add IP [TICKS]     record IP at TICKS (seconds since the epoch;
 *                      default now); replaces an earlier entry
 *   delete IP...       remove the entries of these IPs
 *   expire [MINUTES]   remove entries older than MINUTES (default 30)
 *   list [MINUTES]     print the entries "expire MINUTES" would remove;
 *                      without MINUTES, all but future timestamps
 *   dump               print every entry, future timestamps too
 *   load               read "IP TIMESTAMP" lines (as list/dump print them;
 *                      blank lines and #comments allowed) from stdin and
 *                      record them all, or none if any line is invalid
 * Verbs and arguments follow vsmtprelay. Output lines: "IP TIMESTAMP".
 * Every argument and every load line is checked before the store is
 * touched. IPs are stored in canonical form (::ffff:a.b.c.d as a.b.c.d).
 * Exit: 0 done; 100 usage or invalid input (nothing changed); 111 store
 * error (message on stderr).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <skalibs/buffer.h>
#include <skalibs/sgetopt.h>
#include <skalibs/skamisc.h>
#include <skalibs/strerr.h>
#include <skalibs/types.h>

#include "loadline.h"
#include "mx_ip.h"
#include "mx_text.h"
#include "relaydb-opts.h"
#include "store.h"

#define USAGE "relaydb " RELAYDB_STORE_USAGE " add ip [ticks] | delete ip... | expire [minutes] | list [minutes] | dump | load"
#define dieusage() strerr_dieusage(100, USAGE)
#define MAX_MINUTES 5256000u  /* ten years */
#define LOAD_LINE_MAX 256

char const *PROG = "relaydb" ;

static store st ;

static void diestore (void) gccattr_noreturn ;
static void diestore (void)
{
  strerr_dief(111, st.err) ;
}

/* an argument that came from the user, safe to echo */
static void dieinvalid (char const *what, char const *arg) gccattr_noreturn ;
static void dieinvalid (char const *what, char const *arg)
{
  char safe[65] ;
  mx_text_safe(safe, 64, arg, strlen(arg)) ;
  strerr_dief(100, "invalid ", what, ": ", safe) ;
}

static void scan_ip (char const *arg, char *canon)
{
  ip46 ip ;
  if (!mx_ip_canon(arg, &ip, canon)) dieinvalid("IP address", arg) ;
}

static unsigned int scan_minutes (char const *arg)
{
  unsigned int m ;
  if (!uint0_scan(arg, &m) || m > MAX_MINUTES) dieinvalid("number of minutes", arg) ;
  return m ;
}

static uint64_t minutes_ago (unsigned int m)
{
  uint64_t now = relaydb_now(), span = (uint64_t)m * 60 ;
  return now > span ? now - span : 0 ;
}

static void open_store (store_conf const *conf)
{
  if (!store_open(&st, conf)) diestore() ;
}

static void put_or_die (char const *s)
{
  if (buffer_puts(buffer_1, s) < 0) strerr_diefu1sys(111, "write to stdout") ;
}

/* list: only entries before this; dump: all */
typedef struct { uint64_t before ; } listing ;

static int print_entry (char const *ip, uint64_t ts, void *data)
{
  listing const *only = data ;
  char fmt[UINT64_FMT + 1] ;
  if (only && ts >= only->before) return 1 ;
  fmt[uint64_fmt(fmt, ts)] = 0 ;
  put_or_die(ip) ; put_or_die(" ") ; put_or_die(fmt) ; put_or_die("\n") ;
  return 1 ;
}

static void print_entries (listing const *only)
{
  if (store_each(&st, &print_entry, (void *)only) < 0) diestore() ;
  if (!buffer_flush(buffer_1)) strerr_diefu1sys(111, "write to stdout") ;
}

/* load: every line is checked before anything is recorded */
typedef struct entries_s { char (*ip)[MX_IP_FMT] ; uint64_t *ts ; size_t n, cap ; } entries ;

static void dieline (size_t line, char const *why) gccattr_noreturn ;
static void dieline (size_t line, char const *why)
{
  char fmt[SIZE_FMT] ;
  fmt[size_fmt(fmt, line)] = 0 ;
  strerr_dief(100, "stdin line ", fmt, ": ", why, "; nothing loaded") ;
}

static void add_entry (entries *e, char const *ip, uint64_t ts)
{
  if (e->n == e->cap)
  {
    size_t cap = e->cap ? e->cap * 2 : 1024 ;
    void *a = realloc(e->ip, cap * sizeof *e->ip) ;
    void *b = a ? realloc(e->ts, cap * sizeof *e->ts) : 0 ;
    if (a) e->ip = a ;
    if (!b) strerr_diefu1sys(111, "allocate memory") ;
    e->ts = b ;
    e->cap = cap ;
  }
  memcpy(e->ip[e->n], ip, MX_IP_FMT) ;
  e->ts[e->n++] = ts ;
}

/* One line (len bytes, no newline) into e; dies on anything invalid. */
static void parse_line (entries *e, char *s, size_t len, size_t line)
{
  char canon[MX_IP_FMT] ;
  char const *why ;
  uint64_t ts ;
  /* room for loadline_parse's NUL: the line buffer is one byte longer
     than any line */
  int r = loadline_parse(s, len, canon, &ts, &why) ;
  if (r < 0) dieline(line, why) ;
  if (r) add_entry(e, canon, ts) ;
}

/* parses all of stdin first: bad input never touches the store */
static void load (store_conf const *conf)
{
  entries e = { 0, 0, 0, 0 } ;
  char **ips ;
  size_t line = 0, i ;
  for (;;)
  {
    char buf[LOAD_LINE_MAX + 2] ;  /* a whole line, its newline, a NUL */
    size_t w = 0 ;
    int r = getlnmax(buffer_0, buf, LOAD_LINE_MAX + 2, &w, '\n') ;
    line++ ;
    if (r < 0)
    {
      if (errno == ERANGE) dieline(line, "line too long") ;
      strerr_diefu1sys(111, "read stdin") ;
    }
    if (!r && !w) break ;
    if (r > 0 && w && buf[w-1] == '\n') w-- ;  /* getlnmax keeps the separator */
    if (w > LOAD_LINE_MAX) dieline(line, "line too long") ;
    parse_line(&e, buf, w, line) ;
    if (!r) break ;  /* last line had no newline */
  }
  ips = malloc((e.n ? e.n : 1) * sizeof *ips) ;
  if (!ips) strerr_diefu1sys(111, "allocate memory") ;
  for (i = 0 ; i < e.n ; i++) ips[i] = e.ip[i] ;
  open_store(conf) ;
  if (!store_load(&st, (char const *const *)ips, e.ts, e.n)) diestore() ;
  free(ips) ; free(e.ip) ; free(e.ts) ;
}

int main (int argc, char const *const *argv)
{
  store_conf conf = { 0, 0, 0, 0 } ;
  char const *verb ;
  {
    subgetopt l = SUBGETOPT_ZERO ;
    for (;;)
    {
      int opt = subgetopt_r(argc, argv, RELAYDB_STORE_OPTS, &l) ;
      if (opt == -1) break ;
      if (opt == '?' || !relaydb_store_option(&conf, opt, l.arg)) dieusage() ;
    }
    argc -= l.ind ; argv += l.ind ;
  }
  if (!argc || !relaydb_store_ready(&conf)) dieusage() ;
  /* an administrator's expire or load of a big table may run for minutes;
     the chain programs keep the short default */
  if (conf.group && !conf.timeout) conf.timeout = 300 ;
  verb = *argv++ ; argc-- ;

  if (!strcmp(verb, "add"))
  {
    char canon[MX_IP_FMT] ;
    uint64_t ts = relaydb_now() ;
    if (argc < 1 || argc > 2) dieusage() ;
    scan_ip(argv[0], canon) ;
    if (argc == 2 && !loadline_scan_ts(argv[1], strlen(argv[1]), &ts)) dieinvalid("timestamp", argv[1]) ;
    open_store(&conf) ;
    if (!store_put(&st, canon, ts)) diestore() ;
  }
  else if (!strcmp(verb, "delete"))
  {
    char (*canon)[MX_IP_FMT] ;
    int i ;
    if (!argc) dieusage() ;
    canon = malloc((size_t)argc * sizeof *canon) ;
    if (!canon) strerr_diefu1sys(111, "allocate memory") ;
    for (i = 0 ; i < argc ; i++) scan_ip(argv[i], canon[i]) ;
    open_store(&conf) ;
    for (i = 0 ; i < argc ; i++)
    {
      int r = store_delete(&st, canon[i]) ;
      if (r < 0) diestore() ;
      if (!r) strerr_warnw("no entry for ", canon[i]) ;
    }
    free(canon) ;
  }
  else if (!strcmp(verb, "expire"))
  {
    unsigned int m = 30 ;
    if (argc > 1) dieusage() ;
    if (argc) m = scan_minutes(argv[0]) ;
    open_store(&conf) ;
    if (store_expire(&st, minutes_ago(m)) < 0) diestore() ;
  }
  else if (!strcmp(verb, "list"))
  {
    /* what "expire MINUTES" would remove; without MINUTES, all but
       future entries */
    listing only ;
    if (argc > 1) dieusage() ;
    only.before = argc ? minutes_ago(scan_minutes(argv[0])) : relaydb_now() + 1 ;
    open_store(&conf) ;
    print_entries(&only) ;
  }
  else if (!strcmp(verb, "dump"))
  {
    if (argc) dieusage() ;
    open_store(&conf) ;
    print_entries(0) ;
  }
  else if (!strcmp(verb, "load"))
  {
    if (argc) dieusage() ;
    load(&conf) ;
  }
  else dieusage() ;
  store_close(&st) ;
  return 0 ;
}
