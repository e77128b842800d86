/* cache: see cache.h. The pool's free entries are chained through next
   (lowest index first in a new cache, so a file loaded into it is
   dumped back in its own order); a free entry's heap is NONE. */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mx_text.h"

#define NONE UINT32_MAX

typedef struct entry_s entry ;
struct entry_s
{
  unsigned char ip[16] ;    /* IPv6, IPv4 as ::ffff:a.b.c.d */
  uint32_t next ;           /* next in the chain, or in the free list */
  uint32_t heap ;           /* position in the heap, NONE when free */
  uint32_t expiry[CACHE_NTESTS] ;
  int32_t value[CACHE_NTESTS] ;
} ;

typedef struct slot_s slot ;
struct slot_s
{
  uint32_t expiry ;   /* the entry's latest expiry */
  uint32_t entry ;
} ;

struct cache_s
{
  entry *pool ;
  slot *heap ;
  uint32_t *head ;
  uint32_t mask ;     /* chain heads - 1 */
  uint32_t max ;
  uint32_t count ;    /* entries in the heap */
  uint32_t free ;
  uint64_t k0, k1 ;
  uint64_t evicted, refused, expired ;
} ;

static char const *const names[CACHE_NTESTS] = { "pregreet", "dnsbl", "rdns" } ;

static unsigned char const v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff } ;

char const *cache_test_name (unsigned int test)
{
  return test < CACHE_NTESTS ? names[test] : 0 ;
}

static void key_of (unsigned char *k, ip46 const *ip)
{
  if (ip46_is6(ip)) memcpy(k, ip->ip, 16) ;
  else { memcpy(k, v4mapped, 12) ; memcpy(k + 12, ip->ip, 4) ; }
}

static void ip_of (ip46 *ip, unsigned char const *k)
{
  if (!memcmp(k, v4mapped, 12)) ip46_from_ip4(ip, (char const *)k + 12) ;
  else ip46_from_ip6(ip, (char const *)k) ;
}

/* SipHash-2-4 of the 16 bytes of a key */

static uint64_t le64 (unsigned char const *s)
{
  uint64_t v = 0 ;
  unsigned int i = 8 ;
  while (i--) v = v << 8 | s[i] ;
  return v ;
}

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
  v0 += v1 ; v1 = ROTL(v1, 13) ; v1 ^= v0 ; v0 = ROTL(v0, 32) ; \
  v2 += v3 ; v3 = ROTL(v3, 16) ; v3 ^= v2 ; \
  v0 += v3 ; v3 = ROTL(v3, 21) ; v3 ^= v0 ; \
  v2 += v1 ; v1 = ROTL(v1, 17) ; v1 ^= v2 ; v2 = ROTL(v2, 32) ; } while (0)

static uint32_t hash (cache const *c, unsigned char const *k)
{
  uint64_t v0 = c->k0 ^ UINT64_C(0x736f6d6570736575) ;
  uint64_t v1 = c->k1 ^ UINT64_C(0x646f72616e646f6d) ;
  uint64_t v2 = c->k0 ^ UINT64_C(0x6c7967656e657261) ;
  uint64_t v3 = c->k1 ^ UINT64_C(0x7465646279746573) ;
  uint64_t m ;
  unsigned int i ;
  for (i = 0 ; i < 3 ; i++)
  {
    m = i < 2 ? le64(k + 8 * i) : (uint64_t)16 << 56 ;
    v3 ^= m ; SIPROUND ; SIPROUND ; v0 ^= m ;
  }
  v2 ^= 0xff ;
  SIPROUND ; SIPROUND ; SIPROUND ; SIPROUND ;
  return (uint32_t)(v0 ^ v1 ^ v2 ^ v3) & c->mask ;
}

static uint32_t lookup (cache const *c, unsigned char const *k, uint32_t h)
{
  uint32_t i = c->head[h] ;
  while (i != NONE && memcmp(c->pool[i].ip, k, 16)) i = c->pool[i].next ;
  return i ;
}

static uint32_t latest (entry const *e)
{
  uint32_t m = 0 ;
  unsigned int t ;
  for (t = 0 ; t < CACHE_NTESTS ; t++) if (e->expiry[t] > m) m = e->expiry[t] ;
  return m ;
}

/* the heap: slot 0 expires soonest */

static void heap_set (cache *c, uint32_t pos, slot s)
{
  c->heap[pos] = s ;
  c->pool[s.entry].heap = pos ;
}

static void heap_fix (cache *c, uint32_t pos)
{
  slot s = c->heap[pos] ;
  while (pos)
  {
    uint32_t up = (pos - 1) / 2 ;
    if (c->heap[up].expiry <= s.expiry) break ;
    heap_set(c, pos, c->heap[up]) ;
    pos = up ;
  }
  for (;;)
  {
    uint32_t l = 2 * pos + 1, m ;
    if (l >= c->count) break ;
    m = l + 1 < c->count && c->heap[l + 1].expiry < c->heap[l].expiry ? l + 1 : l ;
    if (s.expiry <= c->heap[m].expiry) break ;
    heap_set(c, pos, c->heap[m]) ;
    pos = m ;
  }
  heap_set(c, pos, s) ;
}

static void drop (cache *c, uint32_t i)
{
  entry *e = &c->pool[i] ;
  uint32_t *p = &c->head[hash(c, e->ip)] ;
  uint32_t pos = e->heap ;
  while (*p != i) p = &c->pool[*p].next ;
  *p = e->next ;
  c->count-- ;
  if (pos < c->count) { heap_set(c, pos, c->heap[c->count]) ; heap_fix(c, pos) ; }
  e->heap = NONE ;
  e->next = c->free ;
  c->free = i ;
}

/* stores a pass expiring at expiry: 1 if held, 0 if not */
static int put (cache *c, unsigned char const *k, unsigned int test, uint64_t now, uint32_t expiry, int32_t value)
{
  uint32_t h = hash(c, k), i = lookup(c, k, h) ;
  entry *e ;
  if (i != NONE)
  {
    e = &c->pool[i] ;
    e->expiry[test] = expiry ;
    e->value[test] = value ;
    c->heap[e->heap].expiry = latest(e) ;
    heap_fix(c, e->heap) ;
    return 1 ;
  }
  if (expiry <= now) return 0 ;
  if (c->count == c->max)
  {
    if (expiry <= c->heap[0].expiry) { c->refused++ ; return 0 ; }
    drop(c, c->heap[0].entry) ;
    c->evicted++ ;
  }
  i = c->free ;
  e = &c->pool[i] ;
  c->free = e->next ;
  memcpy(e->ip, k, 16) ;
  memset(e->expiry, 0, sizeof e->expiry) ;
  memset(e->value, 0, sizeof e->value) ;
  e->expiry[test] = expiry ;
  e->value[test] = value ;
  e->next = c->head[h] ;
  c->head[h] = i ;
  c->heap[c->count].expiry = expiry ;
  c->heap[c->count].entry = i ;
  e->heap = c->count++ ;
  heap_fix(c, e->heap) ;
  return 1 ;
}

cache *cache_init (size_t max_entries, char const *key)
{
  cache *c ;
  uint32_t n = 1, i ;
  if (!max_entries || max_entries > CACHE_MAX_ENTRIES) { errno = EINVAL ; return 0 ; }
  while (n < max_entries) n <<= 1 ;
  c = malloc(sizeof *c) ;
  if (!c) return 0 ;
  c->pool = malloc(max_entries * sizeof *c->pool) ;
  c->heap = malloc(max_entries * sizeof *c->heap) ;
  c->head = malloc(n * sizeof *c->head) ;
  if (!c->pool || !c->heap || !c->head) { cache_free(c) ; errno = ENOMEM ; return 0 ; }
  c->max = (uint32_t)max_entries ;
  c->mask = n - 1 ;
  c->count = 0 ;
  c->free = 0 ;
  for (i = 0 ; i < c->max ; i++)
  {
    c->pool[i].next = i + 1 < c->max ? i + 1 : NONE ;
    c->pool[i].heap = NONE ;
  }
  for (i = 0 ; i < n ; i++) c->head[i] = NONE ;
  if (key) { c->k0 = le64((unsigned char const *)key) ; c->k1 = le64((unsigned char const *)key + 8) ; }
  else c->k0 = c->k1 = 0 ;
  c->evicted = c->refused = c->expired = 0 ;
  return c ;
}

void cache_free (cache *c)
{
  if (!c) return ;
  free(c->pool) ;
  free(c->heap) ;
  free(c->head) ;
  free(c) ;
}

int cache_pass (cache *c, ip46 const *ip, unsigned int test, uint64_t now, uint32_t lifetime, int32_t value)
{
  unsigned char k[16] ;
  uint64_t e = now + lifetime ;
  if (test >= CACHE_NTESTS) return 0 ;
  if (e > UINT32_MAX) e = UINT32_MAX ;
  key_of(k, ip) ;
  return put(c, k, test, now, (uint32_t)e, value) ;
}

int cache_valid (cache const *c, ip46 const *ip, unsigned int test, uint64_t now, int32_t *value)
{
  unsigned char k[16] ;
  uint32_t i ;
  if (test >= CACHE_NTESTS) return 0 ;
  key_of(k, ip) ;
  i = lookup(c, k, hash(c, k)) ;
  if (i == NONE || now >= c->pool[i].expiry[test]) return 0 ;
  if (value) *value = c->pool[i].value[test] ;
  return 1 ;
}

int cache_find (cache const *c, ip46 const *ip, cache_item *it)
{
  unsigned char k[16] ;
  uint32_t i ;
  key_of(k, ip) ;
  i = lookup(c, k, hash(c, k)) ;
  if (i == NONE) return 0 ;
  memcpy(it->expiry, c->pool[i].expiry, sizeof it->expiry) ;
  memcpy(it->value, c->pool[i].value, sizeof it->value) ;
  return 1 ;
}

int cache_forget (cache *c, ip46 const *ip)
{
  unsigned char k[16] ;
  uint32_t i ;
  key_of(k, ip) ;
  i = lookup(c, k, hash(c, k)) ;
  if (i == NONE) return 0 ;
  drop(c, i) ;
  return 1 ;
}

size_t cache_expire (cache *c, uint64_t now, size_t max)
{
  size_t n = 0 ;
  while (n < max && c->count && c->heap[0].expiry <= now)
  {
    drop(c, c->heap[0].entry) ;
    n++ ;
  }
  c->expired += n ;
  return n ;
}

void cache_stats (cache const *c, cache_stat *st)
{
  st->entries = c->count ;
  st->max = c->max ;
  st->evicted = c->evicted ;
  st->refused = c->refused ;
  st->expired = c->expired ;
}

/* writing */

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
    if (!iplen) { ip46 ip ; ip_of(&ip, e->ip) ; iplen = mx_ip_fmt(ipt, &ip) ; }
    memcpy(s + w, ipt, iplen) ; w += iplen ;
    s[w++] = ' ' ;
    memcpy(s + w, names[t], strlen(names[t])) ; w += strlen(names[t]) ;
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
  key_of(k, &ip) ;
  n -= (size_t)(sp - s) + 1 ; s = sp + 1 ;
  sp = memchr(s, ' ', n) ;
  if (!sp) return 0 ;
  m = (size_t)(sp - s) ;
  for (*test = 0 ; *test < CACHE_NTESTS ; ++*test)
    if (strlen(names[*test]) == m && !memcmp(names[*test], s, m)) break ;
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
    if (put(c, k, test, ld->now, expiry, value)) ld->st->stored++ ;
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

int cache_check (cache const *c)
{
  uint32_t i, n = 0, f = 0 ;
  if (c->count > c->max) return 0 ;
  for (i = 0 ; i < c->count ; i++)
  {
    slot s = c->heap[i] ;
    if (s.entry >= c->max || c->pool[s.entry].heap != i) return 0 ;
    if (s.expiry != latest(&c->pool[s.entry])) return 0 ;
    if (i && c->heap[(i - 1) / 2].expiry > s.expiry) return 0 ;
  }
  for (i = 0 ; i <= c->mask ; i++)
  {
    uint32_t j ;
    for (j = c->head[i] ; j != NONE ; j = c->pool[j].next)
    {
      if (j >= c->max || c->pool[j].heap == NONE || hash(c, c->pool[j].ip) != i) return 0 ;
      if (lookup(c, c->pool[j].ip, i) != j) return 0 ;   /* one entry per client */
      if (++n > c->count) return 0 ;
    }
  }
  if (n != c->count) return 0 ;
  for (i = c->free ; i != NONE ; i = c->pool[i].next)
    if (i >= c->max || c->pool[i].heap != NONE || ++f > c->max) return 0 ;
  return f + c->count == c->max ;
}
