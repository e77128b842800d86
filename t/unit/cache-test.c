/* cache-test: smtp-screen's memory of clients that passed (cache.h):
 * each test's lifetime at its exact boundaries, the order clients give
 * way in when the cache is full, expiry, IPv4-mapped addresses, the
 * file written and read back, and files that are damaged, truncated,
 * of another version, too long or too far ahead, which are read as far
 * as they can be and never refused. After each step the structure is
 * checked (cache_check), and a random run is compared with a model. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "tap.h"

#define T0 1800000000u   /* now, in 2027 */

static ip46 A (char const *s)
{
  ip46 ip ;
  if (!mx_ip_scan(s, strlen(s), &ip)) { fprintf(stderr, "bad address in the test: %s\n", s) ; exit(2) ; }
  return ip ;
}

static int valid (cache const *c, char const *s, unsigned int test, uint64_t now, int32_t *value)
{
  ip46 ip = A(s) ;
  return cache_valid(c, &ip, test, now, value) ;
}

static int held (cache const *c, char const *s)
{
  ip46 ip = A(s) ;
  cache_item it ;
  return cache_find(c, &ip, &it) ;
}

static int pass (cache *c, char const *s, unsigned int test, uint64_t now, uint32_t life, int32_t value)
{
  ip46 ip = A(s) ;
  return cache_pass(c, &ip, test, now, life, value) ;
}

static size_t entries (cache const *c)
{
  cache_stat st ;
  cache_stats(c, &st) ;
  return st.entries ;
}

/* the whole file text of c at now, through buffers of len bytes */
static size_t dump_all (cache const *c, uint64_t now, char *out, size_t outlen, size_t len)
{
  char buf[4096] ;
  size_t cursor = 0, w = 0, n ;
  while ((n = cache_dump(c, now, &cursor, buf, len)))
  {
    if (n > outlen - w) return (size_t)-1 ;
    memcpy(out + w, buf, n) ;
    w += n ;
  }
  return w ;
}

static int load (cache *c, char const *s, uint64_t now, uint32_t const *maxlife, cache_loaded *st)
{
  return cache_load_buf(c, s, strlen(s), now, maxlife, st) ;
}

static int file_is (char const *path, char const *want)
{
  char buf[4096] ;
  ssize_t r ;
  int fd = open(path, O_RDONLY) ;
  if (fd < 0) return 0 ;
  r = read(fd, buf, sizeof buf) ;
  close(fd) ;
  return r == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)r) ;
}

static int write_file (char const *path, char const *s, size_t len)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) ;
  int ok ;
  if (fd < 0) return 0 ;
  ok = write(fd, s, len) == (ssize_t)len ;
  return close(fd) == 0 && ok ;
}

/* the number of entries in dir besides . and .. */
static int files_in (char const *dir)
{
  DIR *d = opendir(dir) ;
  struct dirent *e ;
  int n = 0 ;
  if (!d) return -1 ;
  while ((e = readdir(d))) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++ ;
  closedir(d) ;
  return n ;
}

static void lifetimes (void)
{
  cache *c = cache_init(16, "0123456789abcdef") ;
  int32_t v = 7 ;
  ip46 ip ;
  tap_ok(!!c, "a cache for 16 clients") ;
  tap_ok(!valid(c, "192.0.2.1", CACHE_PREGREET, T0, 0), "an empty cache holds no pass") ;
  tap_ok(pass(c, "192.0.2.1", CACHE_PREGREET, T0, 60, 0), "a pregreet pass for 60 s is held") ;
  tap_ok(valid(c, "192.0.2.1", CACHE_PREGREET, T0, 0), "valid at the second it was given") ;
  tap_ok(valid(c, "192.0.2.1", CACHE_PREGREET, T0 + 59, 0), "valid at its last second (now + 59)") ;
  tap_ok(!valid(c, "192.0.2.1", CACHE_PREGREET, T0 + 60, 0), "not valid at now + lifetime") ;
  tap_ok(!valid(c, "192.0.2.1", CACHE_PREGREET, T0 + 61, 0), "not valid after") ;
  tap_ok(!valid(c, "192.0.2.1", CACHE_DNSBL, T0, 0) && !valid(c, "192.0.2.1", CACHE_RDNS, T0, 0),
    "a pregreet pass says nothing of the other tests") ;
  tap_ok(pass(c, "192.0.2.1", CACHE_DNSBL, T0, 300, -2), "a DNSBL pass of the same client, 300 s, score -2") ;
  ip = A("192.0.2.1") ;
  tap_ok(cache_valid(c, &ip, CACHE_DNSBL, T0 + 299, &v) && v == -2, "its score comes back with it") ;
  tap_ok(!cache_valid(c, &ip, CACHE_DNSBL, T0 + 300, &v) && v == -2, "not valid at now + 300, the value untouched") ;
  tap_ok(pass(c, "192.0.2.1", CACHE_PREGREET, T0, CACHE_PREGREET_LIFE, 0)
    && valid(c, "192.0.2.1", CACHE_PREGREET, T0 + 86399, 0) && !valid(c, "192.0.2.1", CACHE_PREGREET, T0 + 86400, 0),
    "a day's pregreet pass: valid to now + 86399") ;
  tap_ok(!valid(c, "192.0.2.1", CACHE_DNSBL, T0 + 300, 0), "each test keeps its own lifetime") ;
  tap_ok(pass(c, "192.0.2.1", CACHE_PREGREET, T0 + 10, 20, 0) && !valid(c, "192.0.2.1", CACHE_PREGREET, T0 + 30, 0)
    && valid(c, "192.0.2.1", CACHE_PREGREET, T0 + 29, 0), "a new pass replaces the old one, even a shorter one") ;
  tap_ok(pass(c, "192.0.2.1", CACHE_RDNS, T0, 0, 1) && !valid(c, "192.0.2.1", CACHE_RDNS, T0, 0),
    "lifetime 0 for a client held: recorded, never valid") ;
  tap_ok(!pass(c, "192.0.2.2", CACHE_PREGREET, T0, 0, 0) && !held(c, "192.0.2.2"), "lifetime 0 for a new client: not held") ;
  tap_ok(!pass(c, "192.0.2.3", CACHE_NTESTS, T0, 60, 0) && !held(c, "192.0.2.3") && !valid(c, "192.0.2.1", CACHE_NTESTS, T0, 0),
    "a test out of range is neither held nor valid") ;
  tap_ok(!cache_test_name(CACHE_NTESTS) && !strcmp(cache_test_name(CACHE_PREGREET), "pregreet")
    && !strcmp(cache_test_name(CACHE_DNSBL), "dnsbl") && !strcmp(cache_test_name(CACHE_RDNS), "rdns"), "the tests' names") ;
  /* the 32-bit expiry */
  tap_ok(pass(c, "192.0.2.4", CACHE_PREGREET, UINT32_MAX - 10, 100, 0)
    && valid(c, "192.0.2.4", CACHE_PREGREET, (uint64_t)UINT32_MAX - 1, 0)
    && !valid(c, "192.0.2.4", CACHE_PREGREET, UINT32_MAX, 0), "an expiry past 2^32 - 1 is held as 2^32 - 1") ;
  tap_ok(!pass(c, "192.0.2.5", CACHE_PREGREET, (uint64_t)UINT32_MAX + 5, 100, 0) && !held(c, "192.0.2.5"),
    "a pass given after 2106 is not held") ;
  tap_ok(!valid(c, "192.0.2.4", CACHE_PREGREET, (uint64_t)1 << 40, 0), "nothing is valid after 2106") ;
  tap_ok(cache_forget(c, &ip) && !held(c, "192.0.2.1") && !valid(c, "192.0.2.1", CACHE_DNSBL, T0, 0), "a client forgotten") ;
  tap_ok(!cache_forget(c, &ip), "forgetting it again: not held") ;
  tap_ok(cache_check(c), "the structure is sound") ;
  cache_free(c) ;
  errno = 0 ;
  tap_ok(!cache_init(0, 0) && errno == EINVAL, "0 entries: EINVAL") ;
  errno = 0 ;
  tap_ok(!cache_init(CACHE_MAX_ENTRIES + 1, 0) && errno == EINVAL, "more than CACHE_MAX_ENTRIES: EINVAL") ;
}

static void eviction (void)
{
  cache *c = cache_init(4, 0) ;
  cache_stat st ;
  tap_ok(pass(c, "192.0.2.1", CACHE_PREGREET, T0, 100, 0) && pass(c, "192.0.2.2", CACHE_PREGREET, T0, 50, 0)
    && pass(c, "192.0.2.3", CACHE_PREGREET, T0, 200, 0) && pass(c, "192.0.2.4", CACHE_PREGREET, T0, 150, 0)
    && entries(c) == 4, "4 clients fill a cache of 4") ;
  tap_ok(pass(c, "192.0.2.5", CACHE_PREGREET, T0, 120, 0), "a fifth that expires later than the soonest is kept") ;
  tap_ok(!held(c, "192.0.2.2") && held(c, "192.0.2.1") && held(c, "192.0.2.3") && held(c, "192.0.2.4") && held(c, "192.0.2.5"),
    "the one that expires soonest (.2, 50 s) gave way, and only it") ;
  tap_ok(pass(c, "192.0.2.6", CACHE_PREGREET, T0, 130, 0) && !held(c, "192.0.2.1") && held(c, "192.0.2.5"),
    "the next newcomer takes the place of the next soonest (.1, 100 s)") ;
  tap_ok(!pass(c, "192.0.2.7", CACHE_PREGREET, T0, 119, 0) && !held(c, "192.0.2.7") && held(c, "192.0.2.5"),
    "a newcomer expiring before every client held is not kept") ;
  tap_ok(!pass(c, "192.0.2.7", CACHE_PREGREET, T0, 120, 0) && !held(c, "192.0.2.7") && held(c, "192.0.2.5"),
    "nor one expiring at the same second as the soonest") ;
  tap_ok(pass(c, "192.0.2.5", CACHE_DNSBL, T0, 500, 3) && entries(c) == 4, "a client held takes a new pass in a full cache") ;
  tap_ok(pass(c, "192.0.2.8", CACHE_PREGREET, T0, 140, 0) && !held(c, "192.0.2.6") && held(c, "192.0.2.5"),
    "its latest pass counts: .5 (500 s) stays, .6 (130 s) gives way") ;
  tap_ok(pass(c, "192.0.2.9", CACHE_PREGREET, T0 + 1000, 10, 0) && entries(c) == 4,
    "when all have expired, a short pass given later still finds room") ;
  cache_stats(c, &st) ;
  tap_ok(st.evicted == 4 && st.refused == 2 && st.max == 4, "evicted and refused are counted") ;
  {
    ip46 ip = A("192.0.2.9") ;
    tap_ok(cache_forget(c, &ip) && entries(c) == 3 && pass(c, "192.0.2.10", CACHE_PREGREET, T0 + 1000, 1, 0)
      && entries(c) == 4, "a forgotten client's room is taken without an eviction") ;
  }
  tap_ok(cache_check(c), "the structure is sound") ;
  cache_free(c) ;
}

static void expire (void)
{
  cache *c = cache_init(8, 0) ;
  cache_stat st ;
  pass(c, "192.0.2.1", CACHE_PREGREET, T0, 10, 0) ;
  pass(c, "192.0.2.2", CACHE_PREGREET, T0, 20, 0) ;
  pass(c, "192.0.2.3", CACHE_PREGREET, T0, 30, 0) ;
  pass(c, "192.0.2.4", CACHE_PREGREET, T0, 10, 0) ;
  pass(c, "192.0.2.4", CACHE_DNSBL, T0, 40, 0) ;
  tap_ok(cache_expire(c, T0 + 9, 64) == 0 && entries(c) == 4, "nothing to sweep before the first expiry") ;
  tap_ok(cache_expire(c, T0 + 20, 1) == 1 && entries(c) == 3 && !held(c, "192.0.2.1") && held(c, "192.0.2.2"),
    "at most max swept, the soonest expired first") ;
  tap_ok(cache_expire(c, T0 + 20, 64) == 1 && !held(c, "192.0.2.2") && held(c, "192.0.2.3"),
    "a client whose pass expires at now is swept; fewer than max means none is left") ;
  tap_ok(held(c, "192.0.2.4") && valid(c, "192.0.2.4", CACHE_DNSBL, T0 + 20, 0),
    "a client with one pass still valid is kept") ;
  tap_ok(cache_expire(c, (uint64_t)T0 + 40, 64) == 2 && entries(c) == 0, "all swept once all expired") ;
  cache_stats(c, &st) ;
  tap_ok(st.expired == 4 && st.evicted == 0, "swept clients are counted as expired") ;
  tap_ok(cache_check(c), "the structure is sound") ;
  cache_free(c) ;
}

static void mapped (void)
{
  cache *c = cache_init(8, "fedcba9876543210") ;
  char const v6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (char)0xff, (char)0xff, (char)192, 0, 2, 7 } ;
  char out[1024] ;
  size_t n ;
  ip46 ip ;
  ip46_from_ip6(&ip, v6) ;
  tap_ok(cache_pass(c, &ip, CACHE_PREGREET, T0, 60, 0), "a pass of ::ffff:192.0.2.7 as an IPv6 address") ;
  tap_ok(valid(c, "192.0.2.7", CACHE_PREGREET, T0, 0), "is a pass of 192.0.2.7") ;
  ip.ip[15] = 8 ;
  tap_ok(pass(c, "192.0.2.8", CACHE_PREGREET, T0, 60, 0) && cache_valid(c, &ip, CACHE_PREGREET, T0, 0),
    "and a pass of 192.0.2.8 one of ::ffff:192.0.2.8") ;
  tap_ok(!valid(c, "::c000:207", CACHE_PREGREET, T0, 0) && !valid(c, "64:ff9b::c000:207", CACHE_PREGREET, T0, 0),
    "::192.0.2.7 and 64:ff9b::192.0.2.7 are other clients") ;
  tap_ok(pass(c, "2001:db8::1", CACHE_PREGREET, T0, 60, 0) && !valid(c, "2001:db8::2", CACHE_PREGREET, T0, 0)
    && valid(c, "2001:DB8:0::1", CACHE_PREGREET, T0, 0), "every bit of an IPv6 address counts, not its spelling") ;
  tap_ok(!valid(c, "0.0.0.0", CACHE_PREGREET, T0, 0) && !valid(c, "::", CACHE_PREGREET, T0, 0) && entries(c) == 3,
    "three clients held") ;
  n = dump_all(c, T0, out, sizeof out, sizeof out) ;
  out[n == (size_t)-1 ? 0 : n] = 0 ;
  tap_ok(!!strstr(out, "\n192.0.2.7 pregreet ") && !strstr(out, "ffff"), "the file names the IPv4 address") ;
  tap_ok(cache_check(c), "the structure is sound") ;
  cache_free(c) ;
}

static char const roundtrip_text[] =
  CACHE_HEADER
  "192.0.2.7 pregreet 1800086400 0\n"
  "192.0.2.7 dnsbl 1800000300 -2\n"
  "2001:db8::25 dnsbl 1800000100 2147483647\n"
  "2001:db8::25 rdns 1800003600 1\n"
  "198.51.100.1 dnsbl 4294967295 -2147483648\n" ;

static void file (char const *dir)
{
  cache *c = cache_init(8, 0), *d ;
  char path[512], out[2048] ;
  cache_loaded st ;
  cache_item a, b ;
  ip46 ip ;
  size_t n ;
  int same = 1 ;
  unsigned int i ;
  snprintf(path, sizeof path, "%s/cache", dir) ;
  tap_ok(load(c, roundtrip_text, T0, 0, &st) == 1 && st.stored == 5 && !st.bad && !st.expired && !st.future && !st.full && !st.cut,
    "a file of this version: 5 passes stored") ;
  tap_ok(valid(c, "192.0.2.7", CACHE_PREGREET, 1800086399u, 0) && !valid(c, "192.0.2.7", CACHE_PREGREET, 1800086400u, 0),
    "a pass read keeps its expiry to the second") ;
  tap_ok(pass(c, "203.0.113.9", CACHE_PREGREET, T0 - 100, 50, 0), "one more pass, expired at now") ;
  n = dump_all(c, T0, out, sizeof out - 1, sizeof out) ;
  out[n == (size_t)-1 ? 0 : n] = 0 ;
  tap_ok(!strcmp(out, roundtrip_text), "dumped back as read, the expired pass left out") ;
  n = dump_all(c, T0, out, sizeof out - 1, CACHE_DUMP_MIN) ;
  out[n == (size_t)-1 ? 0 : n] = 0 ;
  tap_ok(!strcmp(out, roundtrip_text), "the same through the smallest buffer") ;
  tap_ok(cache_save(c, path, T0) == 1 && file_is(path, roundtrip_text), "saved: the file holds that text") ;
  {
    struct stat s ;
    tap_ok(!stat(path, &s) && (s.st_mode & 0777) == 0600 && files_in(dir) == 1, "mode 0600, no temporary file left") ;
  }
  d = cache_init(8, "another key 1234") ;
  tap_ok(cache_load(d, path, T0, 0, &st) == 1 && st.stored == 5 && !st.bad, "read back: 5 passes stored") ;
  for (i = 0 ; i < 4 ; i++)
  {
    static char const *const who[4] = { "192.0.2.7", "2001:db8::25", "198.51.100.1", "203.0.113.9" } ;
    int hc, hd ;
    ip = A(who[i]) ;
    memset(&a, 0, sizeof a) ; memset(&b, 0, sizeof b) ;
    hc = cache_find(c, &ip, &a) ; hd = cache_find(d, &ip, &b) ;
    if (i == 3) same &= hc && !hd ;
    else same &= hc && hd && !memcmp(&a, &b, sizeof a) ;
  }
  tap_ok(same, "each client's passes read back as they were saved (values to INT32_MIN, expiry 2^32 - 1)") ;
  tap_ok(cache_load(d, path, T0 + 300, 0, &st) == 1 && st.stored == 3 && st.expired == 2, "read at a later time: the expired passes counted, not stored") ;
  tap_ok(cache_save(c, path, 1800100000u) == 1 && file_is(path, CACHE_HEADER "198.51.100.1 dnsbl 4294967295 -2147483648\n"),
    "saved again later: the file replaced, with what is still valid") ;
  tap_ok(cache_check(c) && cache_check(d), "the structure is sound") ;
  cache_free(d) ;
  d = cache_init(8, 0) ;
  errno = 0 ;
  tap_ok(cache_load(d, "/nonexistent/cache", T0, 0, &st) == -1 && errno == ENOENT && !entries(d), "no file yet: -1, ENOENT") ;
  cache_free(d) ;
  cache_free(c) ;
}

static void damaged (char const *dir)
{
  cache *c = cache_init(8, 0) ;
  cache_loaded st ;
  uint32_t maxlife[CACHE_NTESTS] = { CACHE_PREGREET_LIFE, 3600, 0 } ;
  char path[512] ;
  static char const junk[] =
    CACHE_HEADER
    "192.0.2.1 pregreet 1800000060 0\n"
    "\n"
    "# a comment\n"
    "this is not an entry\n"
    "192.0.2.2 greylist 1800000060 0\n"         /* unknown test */
    "192.0.2.256 pregreet 1800000060 0\n"       /* no address */
    "192.0.2.3 pregreet 01800000060 0\n"        /* leading zero */
    "192.0.2.4 pregreet 4294967296 0\n"         /* past 32 bits */
    "192.0.2.5 pregreet 1800000060 -0\n"
    "192.0.2.6 pregreet 1800000060 2147483648\n"
    "192.0.2.7 pregreet 1800000060 -2147483649\n"
    "192.0.2.8  pregreet 1800000060 0\n"        /* two spaces */
    "192.0.2.9 pregreet 1800000060 0 0\n"       /* a fifth field */
    "192.0.2.10 pregreet 1800000060 0\r\n"
    "192.0.2.11\tpregreet 1800000060 0\n"
    "192.0.2.12 pregreet 1800000060 \n"
    "192.0.2.13 pregreet -1800000060 0\n"
    "192.0.2.14 pregreet\n"
    "192.0.2.15 pregreet 1800000060\n"          /* no value: 0 */
    "::ffff:192.0.2.16 rdns 1800000060 2\n"     /* another spelling */
    "192.0.2.1 dnsbl 1800000060 1\n" ;
  static char const bin[] = CACHE_HEADER "192.0.2.1 pre\0greet 1800000060 0\n\xff\xfe\x01\n192.0.2.2 pregreet 1800000060 0\n" ;
  char big[2048] ;
  size_t n ;
  int32_t v = 5 ;
  ip46 ip ;

  tap_ok(load(c, junk, T0, 0, &st) == 1 && st.stored == 4 && st.bad == 15 && !st.expired && !st.future,
    "junk lines skipped and counted, good lines around them kept") ;
  ip = A("192.0.2.1") ;
  tap_ok(valid(c, "192.0.2.1", CACHE_PREGREET, T0, 0) && cache_valid(c, &ip, CACHE_DNSBL, T0, &v) && v == 1
    && valid(c, "192.0.2.16", CACHE_RDNS, T0, 0), "the good lines are valid passes") ;
  ip = A("192.0.2.15") ;
  tap_ok(cache_valid(c, &ip, CACHE_PREGREET, T0, &v) && v == 0, "a line without a value: 0") ;
  tap_ok(!held(c, "192.0.2.2") && !held(c, "192.0.2.5") && !held(c, "192.0.2.10") && !held(c, "192.0.2.14"), "no bad line is held") ;
  cache_free(c) ; c = cache_init(8, 0) ;
  tap_ok(cache_load_buf(c, bin, sizeof bin - 1, T0, 0, &st) == 1 && st.stored == 1 && st.bad == 2 && held(c, "192.0.2.2"),
    "binary lines and a NUL: skipped") ;
  cache_free(c) ; c = cache_init(8, 0) ;
  tap_ok(load(c, CACHE_HEADER "192.0.2.1 pregreet 1800000060 0\n192.0.2.2 pregreet 1800000060", T0, 0, &st) == 1
    && st.stored == 1 && st.bad == 1 && !held(c, "192.0.2.2"), "a truncated last line (no LF) is skipped, even when it reads as an entry") ;
  tap_ok(load(c, CACHE_HEADER "192.0.2.3 pregreet 1800000000 0\n192.0.2.4 pregreet 1799999999 0\n", T0, 0, &st) == 1
    && st.expired == 2 && !st.stored && !held(c, "192.0.2.3"), "passes expiring at or before now are counted as expired") ;
  tap_ok(load(c, CACHE_HEADER "192.0.2.5 dnsbl 1800003600 0\n192.0.2.6 dnsbl 1800003601 0\n"
    "192.0.2.7 pregreet 1800086401 0\n192.0.2.8 rdns 4294967295 0\n", T0, maxlife, &st) == 1
    && st.stored == 2 && st.future == 2, "passes further ahead than the cap for their test are counted as future") ;
  tap_ok(valid(c, "192.0.2.5", CACHE_DNSBL, T0, 0) && !held(c, "192.0.2.6") && !held(c, "192.0.2.7") && valid(c, "192.0.2.8", CACHE_RDNS, T0, 0),
    "a pass at the cap is kept, one beyond it is never valid; maxlife 0: no cap") ;
  cache_free(c) ; c = cache_init(8, 0) ;
  tap_ok(load(c, "# mxguard smtp-screen cache 2\n192.0.2.1 pregreet 1800000060 0\n", T0, 0, &st) == 0 && !entries(c)
    && !st.stored && !st.bad, "another version: ignored as a whole") ;
  tap_ok(load(c, "192.0.2.1 pregreet 1800000060 0\n", T0, 0, &st) == 0 && !entries(c), "no version line: ignored") ;
  tap_ok(load(c, "", T0, 0, &st) == 0 && load(c, CACHE_HEADER, T0, 0, &st) == 1 && !entries(c), "an empty file: ignored; a version line alone: read, empty") ;
  tap_ok(load(c, "# mxguard smtp-screen cache 1", T0, 0, &st) == 0 && load(c, "# mxguard smtp-screen cache 1 \n192.0.2.1 pregreet 1800000060 0\n", T0, 0, &st) == 0
    && !entries(c), "a cut or padded version line: ignored") ;
  /* a line longer than CACHE_LINE_MAX */
  n = (size_t)snprintf(big, sizeof big, "%s%s", CACHE_HEADER, "192.0.2.1 pregreet 1800000060 ") ;
  memset(big + n, '0', 200) ; n += 200 ; big[n - 1] = '1' ;
  n += (size_t)snprintf(big + n, sizeof big - n, "\n192.0.2.2 pregreet 1800000060 0\n") ;
  tap_ok(cache_load_buf(c, big, n, T0, 0, &st) == 1 && st.bad == 1 && st.stored == 1 && !held(c, "192.0.2.1") && held(c, "192.0.2.2"),
    "a line longer than CACHE_LINE_MAX: skipped, the next read") ;
  tap_ok(cache_check(c), "the structure is sound") ;
  cache_free(c) ;
  /* a file longer than a load reads: (2 * 3 + 1) * 101 bytes for 2 entries */
  c = cache_init(2, 0) ;
  n = (size_t)snprintf(big, sizeof big, "%s", CACHE_HEADER) ;
  while (n < 800) n += (size_t)snprintf(big + n, sizeof big - n, "# padding padding padding padding padding\n") ;
  n += (size_t)snprintf(big + n, sizeof big - n, "192.0.2.1 pregreet 1800000060 0\n") ;
  tap_ok(cache_load_buf(c, big, n, T0, 0, &st) == 1 && st.cut && !entries(c), "a file longer than the bound: cut, what is past it not read") ;
  snprintf(path, sizeof path, "%s/long", dir) ;
  tap_ok(write_file(path, big, n) && cache_load(c, path, T0, 0, &st) == 1 && st.cut && !entries(c), "the same from a file") ;
  cache_free(c) ;
  /* more clients than the cache holds */
  c = cache_init(2, 0) ;
  tap_ok(load(c, CACHE_HEADER "192.0.2.1 pregreet 1800000300 0\n192.0.2.2 pregreet 1800000100 0\n"
    "192.0.2.3 pregreet 1800000200 0\n192.0.2.4 pregreet 1800000050 0\n", T0, 0, &st) == 1
    && st.stored == 3 && st.full == 2 && entries(c) == 2, "more clients than max_entries: the soonest expiring dropped and counted") ;
  tap_ok(held(c, "192.0.2.1") && held(c, "192.0.2.3") && !held(c, "192.0.2.2") && !held(c, "192.0.2.4"), "the two that last longest are kept") ;
  tap_ok(cache_check(c), "the structure is sound") ;
  cache_free(c) ;
  /* a damaged file on disk */
  c = cache_init(8, 0) ;
  snprintf(path, sizeof path, "%s/damaged", dir) ;
  tap_ok(write_file(path, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) && cache_load(c, path, T0, 0, &st) == 0 && !entries(c),
    "a file of other content: 0, nothing held, no error") ;
  cache_free(c) ;
  /* a FIFO named by mistake, with no writer: no wait (main's alarm) */
  c = cache_init(8, 0) ;
  snprintf(path, sizeof path, "%s/fifo", dir) ;
  tap_ok(!mkfifo(path, 0600) && cache_load(c, path, T0, 0, &st) == 0 && !entries(c) && !unlink(path), "a FIFO: read at once, empty, ignored") ;
  memset(big, 'x', 1500) ;
  tap_ok(cache_load_buf(c, big, 1500, T0, 0, &st) == 0 && !entries(c) && !st.cut, "a first line longer than any version line: ignored") ;
  cache_free(c) ;
}

/* cache_save into a directory it may not write: 0, errno, the old file
   as it was and no temporary file left. As root, in a child that has
   given up root. */
static void unwritable (char const *dir)
{
  cache *c = cache_init(8, 0) ;
  char sub[512], path[600] ;
  static char const old[] = CACHE_HEADER "192.0.2.99 pregreet 1800000060 0\n" ;
  int status = -1, before ;
  pid_t pid ;
  pass(c, "192.0.2.1", CACHE_PREGREET, T0, 60, 0) ;
  snprintf(sub, sizeof sub, "%s/ro", dir) ;
  snprintf(path, sizeof path, "%s/cache", sub) ;
  /* the old file itself writable by all: only writing in place could change it */
  if (chmod(dir, 0755) < 0 || mkdir(sub, 0755) < 0 || !write_file(path, old, sizeof old - 1) || chmod(path, 0666) < 0 || chmod(sub, 0555) < 0) { tap_ok(0, "set up a read-only directory") ; return ; }
  pid = fork() ;
  if (!pid)
  {
    if (!geteuid() && (setgid(65534) < 0 || setuid(65534) < 0)) _exit(99) ;
    if (cache_save(c, path, T0)) _exit(98) ;
    _exit(errno == EACCES ? 0 : 97) ;
  }
  if (pid > 0) waitpid(pid, &status, 0) ;
  tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "save into a directory not writable: 0, EACCES") ;
  tap_ok(file_is(path, old) && files_in(sub) == 1, "the old file untouched, no temporary file left") ;
  /* a path that is a directory: the rename fails after the write */
  chmod(sub, 0755) ;
  before = files_in(dir) ;
  errno = 0 ;
  tap_ok(!cache_save(c, sub, T0) && errno == EISDIR && files_in(dir) == before && file_is(path, old),
    "save over a directory: 0, EISDIR, the temporary file removed") ;
  errno = 0 ;
  tap_ok(!cache_save(c, "/nonexistent/dir/cache", T0) && errno == ENOENT, "save into a missing directory: 0, ENOENT") ;
  cache_free(c) ;
}

/* a random run against a model: a table of every client's passes */
#define MODEL_IPS 40
#define MODEL_MAX 16
static uint32_t rnd_state = 12345 ;
static uint32_t rnd (uint32_t n)
{
  rnd_state = rnd_state * 1103515245u + 12345u ;
  return (rnd_state >> 8) % n ;
}

static void model (void)
{
  cache *c = cache_init(MODEL_MAX, "model key 123456") ;
  uint32_t exp[MODEL_IPS][CACHE_NTESTS] ;
  uint64_t now = T0 ;
  unsigned int step, bad = 0, insane = 0, over = 0, lost = 0, i, t ;
  memset(exp, 0, sizeof exp) ;
  for (step = 0 ; step < 20000 ; step++)
  {
    unsigned int k = rnd(MODEL_IPS), op = rnd(10) ;
    char ipt[64] ;
    ip46 ip ;
    if (k & 1) snprintf(ipt, sizeof ipt, "2001:db8::%x", k) ;
    else snprintf(ipt, sizeof ipt, "192.0.2.%u", k) ;
    cache_stat st0, st1 ;
    unsigned int gone = 0, forgot = 0 ;
    ip = A(ipt) ;
    t = rnd(CACHE_NTESTS) ;
    now += rnd(3) ;
    cache_stats(c, &st0) ;
    if (op < 6)
    {
      uint32_t life = rnd(60) ;
      int r = cache_pass(c, &ip, t, now, life, (int32_t)k) ;
      if (r) exp[k][t] = (uint32_t)(now + life) ;
      else if (life && st0.entries < MODEL_MAX) lost++ ;   /* room, yet not held */
    }
    else if (op < 7) { forgot = cache_forget(c, &ip) ; memset(exp[k], 0, sizeof exp[k]) ; }
    else if (op < 8) cache_expire(c, now, rnd(4)) ;
    cache_stats(c, &st1) ;
    /* an entry the cache dropped is forgotten by the model, but only as
       many as it says it evicted, swept or was told to forget */
    for (i = 0 ; i < MODEL_IPS ; i++)
    {
      cache_item it ;
      char s[64] ;
      ip46 x ;
      if (i & 1) snprintf(s, sizeof s, "2001:db8::%x", i) ;
      else snprintf(s, sizeof s, "192.0.2.%u", i) ;
      x = A(s) ;
      if (!cache_find(c, &x, &it))
      {
        if (exp[i][0] || exp[i][1] || exp[i][2]) gone++ ;
        memset(exp[i], 0, sizeof exp[i]) ;
      }
      for (t = 0 ; t < CACHE_NTESTS ; t++)
      {
        int32_t v = -1 ;
        int want = now < exp[i][t] ;
        if (cache_valid(c, &x, t, now, &v) != want || (want && v != (int32_t)i)) bad++ ;
      }
    }
    if (gone > (st1.evicted - st0.evicted) + (st1.expired - st0.expired) + forgot) lost++ ;
    if (entries(c) > MODEL_MAX) over++ ;
    if (!(step % 97) && !cache_check(c)) insane++ ;
  }
  tap_ok(!bad, "20,000 random steps: valid exactly when the model says") ;
  tap_ok(!lost, "no client dropped but those evicted, swept or forgotten; none refused while there is room") ;
  tap_ok(!over && !insane, "never more than max_entries, the structure always sound") ;
  cache_free(c) ;
}

int main (void)
{
  char dir[] = "/tmp/cache-test.XXXXXX" ;
  char cmd[64] ;
  if (!mkdtemp(dir)) { perror("mkdtemp") ; return 111 ; }
  alarm(60) ;   /* a load that waits fails the test */
  lifetimes() ;
  eviction() ;
  expire() ;
  mapped() ;
  file(dir) ;
  damaged(dir) ;
  unwritable(dir) ;
  model() ;
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir) ;
  if (system(cmd)) return 111 ;
  return tap_done() ;
}
