/* cachefile: the cache's file (cache.h): dumped in lines, saved
   atomically (a temporary file, fsync, rename, the directory synced),
   loaded line by line with every line checked; a damaged line is
   counted and skipped, never trusted. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache-int.h"
#include "mx_text.h"

static size_t fmt_u32 (char *s, uint32_t u)
{
  char t[10] ;
  size_t n = 0, i ;
  do { t[n++] = '0' + u % 10 ; u /= 10 ; } while (u) ;
  for (i = 0 ; i < n ; i++) s[i] = t[n - 1 - i] ;
  return n ;
}

/* the lines of e's passes valid at now */
static size_t fmt_entry (char *s, entry const *e, uint64_t now)
{
  char ipt[MX_IP_FMT] ;
  size_t w = 0, iplen = 0 ;
  unsigned int t ;
  for (t = 0 ; t < CACHE_NTESTS ; t++)
  {
    int32_t v = e->value[t] ;
    if (e->expiry[t] <= now) continue ;
    if (!iplen) { ip46 ip ; cache_ip_of(&ip, e->ip) ; iplen = mx_ip_fmt(ipt, &ip) ; }
    memcpy(s + w, ipt, iplen) ; w += iplen ;
    s[w++] = ' ' ;
    memcpy(s + w, cache_test_name(t), strlen(cache_test_name(t))) ; w += strlen(cache_test_name(t)) ;
    s[w++] = ' ' ;
    w += fmt_u32(s + w, e->expiry[t]) ;
    s[w++] = ' ' ;
    if (v < 0) s[w++] = '-' ;
    w += fmt_u32(s + w, v < 0 ? (uint32_t)0 - (uint32_t)v : (uint32_t)v) ;
    s[w++] = '\n' ;
  }
  return w ;
}

size_t cache_dump (cache const *c, uint64_t now, size_t *cursor, char *buf, size_t len)
{
  size_t w = 0 ;
  if (len < CACHE_DUMP_MIN) return 0 ;
  if (!*cursor)
  {
    memcpy(buf, CACHE_HEADER, sizeof CACHE_HEADER - 1) ;
    w = sizeof CACHE_HEADER - 1 ;
    *cursor = 1 ;
  }
  while (*cursor <= c->max)
  {
    entry const *e = &c->pool[*cursor - 1] ;
    if (e->heap != NONE)
    {
      char t[CACHE_DUMP_MIN] ;
      size_t n = fmt_entry(t, e, now) ;
      if (n > len - w) break ;
      memcpy(buf + w, t, n) ;
      w += n ;
    }
    ++*cursor ;
  }
  return w ;
}

static int allwrite (int fd, char const *s, size_t n)
{
  while (n)
  {
    ssize_t r = write(fd, s, n) ;
    if (r < 0) { if (errno == EINTR) continue ; return 0 ; }
    s += r ; n -= (size_t)r ;
  }
  return 1 ;
}

/* the directory of path, fsync()ed: the rename is done, a failure here
   loses nothing now */
static void sync_dir (char const *path, size_t len)
{
  char dir[PATH_MAX] ;
  size_t n = len ;
  int fd ;
  while (n && path[n - 1] != '/') n-- ;
  if (!n) fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  else
  {
    if (n > 1) n-- ;   /* "/x" keeps its slash, "d/x" gives "d" */
    memcpy(dir, path, n) ; dir[n] = 0 ;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) ;
  }
  if (fd < 0) return ;
  fsync(fd) ;
  close(fd) ;
}

int cache_save (cache const *c, char const *path, uint64_t now)
{
  static char const suffix[] = ".XXXXXX" ;
  char tmp[PATH_MAX] ;
  char buf[65536] ;
  size_t len = strlen(path), cursor = 0, n ;
  int fd, e ;
  if (!len || len >= sizeof tmp - (sizeof suffix - 1)) { errno = len ? ENAMETOOLONG : ENOENT ; return 0 ; }
  memcpy(tmp, path, len) ;
  memcpy(tmp + len, suffix, sizeof suffix) ;
  fd = mkstemp(tmp) ;
  if (fd < 0) return 0 ;
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) goto fail ;
  while ((n = cache_dump(c, now, &cursor, buf, sizeof buf)))
    if (!allwrite(fd, buf, n)) goto fail ;
  if (fsync(fd) < 0) goto fail ;
  if (close(fd) < 0) { fd = -1 ; goto fail ; }
  fd = -1 ;
  if (rename(tmp, path) < 0) goto fail ;
  sync_dir(path, len) ;
  return 1 ;
 fail:
  e = errno ;
  if (fd >= 0) close(fd) ;
  unlink(tmp) ;
  errno = e ;
  return 0 ;
}

/* reading: a file is fed to a loader a piece at a time */

typedef struct loader_s loader ;
struct loader_s
{
  cache *c ;
  uint64_t now ;
  uint32_t const *maxlife ;
  cache_loaded *st ;
  uint64_t left ;       /* bytes a load may still read */
  int state ;           /* 0: version line next, 1: entries, 2: not this version */
  int over ;            /* the line is longer than CACHE_LINE_MAX */
  size_t len ;
  char line[CACHE_LINE_MAX] ;
} ;

static void loader_init (loader *ld, cache *c, uint64_t now, uint32_t const *maxlife, cache_loaded *st)
{
  ld->c = c ;
  ld->now = now ;
  ld->maxlife = maxlife ;
  ld->st = st ;
  ld->left = ((uint64_t)c->max * CACHE_NTESTS + 1) * (CACHE_LINE_MAX + 1) ;
  ld->state = 0 ;
  ld->over = 0 ;
  ld->len = 0 ;
  memset(st, 0, sizeof *st) ;
}

/* one line of entry: 1 and its fields, or 0 */
static int entry_scan (char const *s, size_t n, unsigned char *k, unsigned int *test, uint32_t *expiry, int32_t *value)
{
  char const *sp = memchr(s, ' ', n) ;
  unsigned long u ;
  size_t m ;
  ip46 ip ;
  if (!sp || !mx_ip_scan(s, (size_t)(sp - s), &ip)) return 0 ;
  cache_key_of(k, &ip) ;
  n -= (size_t)(sp - s) + 1 ; s = sp + 1 ;
  sp = memchr(s, ' ', n) ;
  if (!sp) return 0 ;
  m = (size_t)(sp - s) ;
  for (*test = 0 ; *test < CACHE_NTESTS ; ++*test)
    if (strlen(cache_test_name(*test)) == m && !memcmp(cache_test_name(*test), s, m)) break ;
  if (*test == CACHE_NTESTS) return 0 ;
  n -= m + 1 ; s = sp + 1 ;
  sp = memchr(s, ' ', n) ;
  m = sp ? (size_t)(sp - s) : n ;
  if (!mx_text_decimal(s, m, UINT32_MAX, &u)) return 0 ;
  *expiry = (uint32_t)u ;
  *value = 0 ;
  if (!sp) return 1 ;
  n -= m + 1 ; s = sp + 1 ;
  if (n && *s == '-')
  {
    if (!mx_text_decimal(s + 1, n - 1, (unsigned long)INT32_MAX + 1, &u) || !u) return 0 ;
    *value = (int32_t)(0 - (uint32_t)u) ;
  }
  else
  {
    if (!mx_text_decimal(s, n, INT32_MAX, &u)) return 0 ;
    *value = (int32_t)u ;
  }
  return 1 ;
}

static void load_line (loader *ld, char const *s, size_t n)
{
  unsigned char k[16] ;
  unsigned int test ;
  uint32_t expiry ;
  int32_t value ;
  cache *c = ld->c ;
  if (!ld->state)
  {
    ld->state = !ld->over && n == sizeof CACHE_HEADER - 2 && !memcmp(s, CACHE_HEADER, n) ? 1 : 2 ;
    return ;
  }
  if (ld->over) { ld->st->bad++ ; return ; }
  if (!n || s[0] == '#') return ;
  if (!entry_scan(s, n, k, &test, &expiry, &value)) { ld->st->bad++ ; return ; }
  if (expiry <= ld->now) { ld->st->expired++ ; return ; }
  if (ld->maxlife && ld->maxlife[test] && expiry > ld->now + ld->maxlife[test]) { ld->st->future++ ; return ; }
  {
    uint64_t evicted = c->evicted ;
    if (cache_put(c, k, test, ld->now, expiry, value)) ld->st->stored++ ;
    else ld->st->full++ ;
    ld->st->full += c->evicted - evicted ;
  }
}

/* 0 once the loader reads no more */
static int loader_feed (loader *ld, char const *s, size_t n)
{
  while (n)
  {
    size_t avail = n < ld->left ? n : (size_t)ld->left, m ;
    char const *lf ;
    if (ld->state == 2) return 0 ;
    if (!avail) { ld->st->cut = 1 ; return 0 ; }
    lf = memchr(s, '\n', avail) ;
    m = lf ? (size_t)(lf - s) : avail ;
    if (m > CACHE_LINE_MAX - ld->len)
    {
      if (!ld->state) { ld->state = 2 ; return 0 ; }   /* longer than any version line */
      ld->over = 1 ;
    }
    if (!ld->over) { memcpy(ld->line + ld->len, s, m) ; ld->len += m ; }
    if (lf) m++ ;
    s += m ; n -= m ; ld->left -= m ;
    if (lf)
    {
      load_line(ld, ld->line, ld->len) ;
      ld->len = 0 ;
      ld->over = 0 ;
    }
  }
  return ld->state != 2 ;
}

/* the loader's result */
static int loader_end (loader *ld)
{
  if (ld->state != 1) { memset(ld->st, 0, sizeof *ld->st) ; return 0 ; }
  if (!ld->st->cut && (ld->len || ld->over)) ld->st->bad++ ;   /* no LF: truncated */
  return 1 ;
}

int cache_load_buf (cache *c, char const *s, size_t len, uint64_t now, uint32_t const *maxlife, cache_loaded *st)
{
  loader ld ;
  loader_init(&ld, c, now, maxlife, st) ;
  loader_feed(&ld, s, len) ;
  return loader_end(&ld) ;
}

int cache_load (cache *c, char const *path, uint64_t now, uint32_t const *maxlife, cache_loaded *st)
{
  char buf[65536] ;
  loader ld ;
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) ;   /* a FIFO by mistake: no wait */
  if (fd < 0) { memset(st, 0, sizeof *st) ; return -1 ; }
  loader_init(&ld, c, now, maxlife, st) ;
  for (;;)
  {
    ssize_t r = read(fd, buf, sizeof buf) ;
    if (r < 0)
    {
      int e = errno ;
      if (e == EINTR) continue ;
      close(fd) ;
      errno = e ;
      return -1 ;
    }
    if (!r || !loader_feed(&ld, buf, (size_t)r)) break ;
  }
  close(fd) ;
  return loader_end(&ld) ;
}
