/* cache: smtp-screen's memory of clients that passed its tests.
 *
 * What it holds. Per client address, per test (enum cache_test), the
 * time its last pass of that test stops counting and one value that
 * goes with it (the rDNS class index, the DNSBL score; 0 where a test
 * has none). A test whose pass the cache does not hold, or holds
 * expired, is never reported valid: the listener runs that test again.
 * The caller decides each lifetime: PREGREET typically a day
 * (CACHE_PREGREET_LIFE), DNSBL the lowest TTL of the answers capped by
 * the listener's option, RDNS the listener's own choice.
 *
 * Time. No clock of its own: every call that needs the time is given
 * now, in seconds since the epoch. A pass given at now with lifetime L
 * is valid from now to now + L - 1 included and never at now + L or
 * after. Expiry times are held in 32 bits: one past 2106-02-07
 * (2^32 - 1) is held as 2^32 - 1.
 *
 * Keys. A client is its exact address: every bit of an IPv6 address
 * counts (2001:db8::1 and 2001:db8::2 are two clients; no /64 is
 * grouped), IPv4 and IPv6 are never the same client, with one
 * exception the whole chain makes: an IPv4-mapped address
 * (::ffff:a.b.c.d, given as IPv6 by a v6 socket) is the IPv4 address
 * a.b.c.d, as mx_ip_scan() reads it. The IPv4-compatible ::a.b.c.d and
 * NAT64 64:ff9b::a.b.c.d are IPv6 clients of their own.
 *
 * Size. At most max_entries clients, in memory allocated once by
 * cache_init(): a pool of entries, a binary min-heap of their expiry
 * times, and a hash table of chains through the pool (a power of two
 * of heads, one to two per entry), so no operation allocates. An entry
 * takes 24 + 8 * CACHE_NTESTS bytes (48 with the three tests), its heap
 * slot 8, its share of the chain heads 4 to 8: 60 to 64 bytes a client,
 * 6.4 MB for 100,000. The chains are keyed with SipHash-2-4 under the
 * caller's random key, so that no client can choose addresses that
 * fall into one chain.
 *
 * Cost. cache_valid() and cache_find() are a hash and a walk of a chain
 * (one entry long on average) and write nothing; cache_pass(),
 * cache_forget() and an eviction add a sift of the heap: O(log n),
 * 17 levels at 100,000 entries. cache_expire() does at most the work
 * it is allowed per call.
 *
 * Eviction. A client's entry expires when the last of its passes does.
 * When the cache is full, a new client takes the place of the entry
 * that expires soonest; if the newcomer would expire no later than
 * that one, the newcomer is the one not kept. Why soonest-expiring and
 * not least recently used: the entry given up is the one worth the
 * fewest seconds of skipped tests; the same heap orders cache_expire(),
 * so one structure serves both; and a lookup, the hot path, changes
 * nothing (LRU would write on every hit and still need another order
 * for expiry). Expired entries sit at the top of the heap, so they are
 * always the first to make room, swept or not.
 *
 * The file. Text, one line per pass, first line a version:
 *
 *   # mxguard smtp-screen cache 1
 *   192.0.2.7 pregreet 1800086400 0
 *   192.0.2.7 dnsbl 1800000300 -2
 *   2001:db8::25 rdns 1800003600 1
 *
 * that is "ADDRESS TEST EXPIRY VALUE": the address in canonical text,
 * the test's name (cache_test_name()), the expiry in seconds since the
 * epoch (decimal, no leading zero), the value (decimal, '-' for a
 * negative one). Fields are separated by one space, lines end in LF.
 * A reader also takes a line without its VALUE (0), other spellings of
 * an address that mx_ip_scan() takes, empty lines and lines beginning
 * with '#' (ignored). cache_save() writes only passes still valid at
 * now, each client's passes on adjacent lines in the order of the
 * tests.
 *
 * Loading never refuses to start the listener: a file that is not of
 * this version is ignored as a whole (return 0); in a file of this
 * version every line that is not an entry of this format (junk,
 * binary, longer than CACHE_LINE_MAX, an unknown test, a truncated
 * last line without its LF) is skipped and counted in bad, every
 * expired pass in expired, every pass that expires further ahead than
 * the caller's cap for its test in future. A load is bounded like the
 * cache: past max_entries clients the soonest expiring are dropped
 * (counted in full), and no more than (max_entries * CACHE_NTESTS + 1)
 * * (CACHE_LINE_MAX + 1) bytes are read (cut is set when the file is
 * longer).
 */
#ifndef SMTP_SCREEN_CACHE_H
#define SMTP_SCREEN_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "mx_ip.h"

/* The tests whose passes are held. A new one goes before CACHE_NTESTS,
   with its name in cache.c; the file names tests, so their order may
   change. */
enum cache_test
{
  CACHE_PREGREET,   /* no byte before the greeting; value 0 */
  CACHE_DNSBL,      /* DNSBL score under the threshold; value: the score */
  CACHE_RDNS,       /* rDNS class; value: the class index 0..N */
  CACHE_NTESTS
} ;

#define CACHE_PREGREET_LIFE 86400u    /* a day: the usual PREGREET lifetime */
#define CACHE_MAX_ENTRIES 0x1000000u  /* the largest max_entries: 16 Mi */
#define CACHE_KEYLEN 16               /* bytes of the hash key */
#define CACHE_LINE_MAX 100            /* longest line read, LF not counted */
#define CACHE_HEADER "# mxguard smtp-screen cache 1\n"
/* the least room cache_dump() needs: one client's lines */
#define CACHE_DUMP_MIN (CACHE_NTESTS * (CACHE_LINE_MAX + 1))

typedef struct cache_s cache ;

/* One client's passes as held, valid or not (cache_find). */
typedef struct cache_item_s cache_item ;
struct cache_item_s
{
  uint32_t expiry[CACHE_NTESTS] ;   /* 0: never passed */
  int32_t value[CACHE_NTESTS] ;
} ;

typedef struct cache_stat_s cache_stat ;
struct cache_stat_s
{
  size_t entries ;      /* clients held, expired ones not yet swept too */
  size_t max ;          /* max_entries */
  uint64_t evicted ;    /* clients dropped to make room for another */
  uint64_t refused ;    /* newcomers not kept: full, and expiring first */
  uint64_t expired ;    /* clients swept by cache_expire() */
} ;

/* What a load did with the file's lines, for the caller's log. */
typedef struct cache_loaded_s cache_loaded ;
struct cache_loaded_s
{
  size_t stored ;     /* passes stored */
  size_t expired ;    /* passes skipped: expired at now */
  size_t future ;     /* passes skipped: beyond the cap for their test */
  size_t bad ;        /* lines skipped: not an entry of this format */
  size_t full ;       /* clients dropped to stay within max_entries */
  int cut ;           /* 1 if the file was longer than a load reads */
} ;

/* A cache for at most max_entries clients (1 to CACHE_MAX_ENTRIES),
   chains keyed by the CACHE_KEYLEN bytes at key (random bytes, e.g.
   skalibs' random_buf(); 0 for a fixed key, for tests). Returns it,
   or 0 (errno EINVAL or ENOMEM). */
extern cache *cache_init (size_t max_entries, char const *key) ;
extern void cache_free (cache *c) ;

/* Records that ip passed test at now, valid for lifetime seconds, with
   value: replaces what the cache held for that test of that client.
   Returns 1 if it is held, 0 if not: test out of range, a client not
   held given lifetime 0, or a full cache whose soonest expiring
   client expires no sooner than this pass would. */
extern int cache_pass (cache *c, ip46 const *ip, unsigned int test, uint64_t now, uint32_t lifetime, int32_t value) ;

/* 1 if the cache holds a pass of test by ip that is valid at now, its
   value then in *value (value may be 0); else 0. */
extern int cache_valid (cache const *c, ip46 const *ip, unsigned int test, uint64_t now, int32_t *value) ;

/* 1 and ip's passes in *it if the cache holds ip at all (expired
   passes included), else 0. */
extern int cache_find (cache const *c, ip46 const *ip, cache_item *it) ;

/* Forgets ip and all its passes (a client that failed a test).
   Returns 1 if it was held, else 0. */
extern int cache_forget (cache *c, ip46 const *ip) ;

/* Drops at most max clients whose every pass has expired at now,
   soonest expired first. Returns how many it dropped; fewer than max
   means none is left. Each costs O(log n): the listener calls it once
   per turn of its loop with a small max (say 64). Not calling it is
   harmless: expired passes are never valid, and expired clients are
   the first to make room. */
extern size_t cache_expire (cache *c, uint64_t now, size_t max) ;

extern void cache_stats (cache const *c, cache_stat *st) ;

/* The name of test in the file ("pregreet", "dnsbl", "rdns"), 0 if
   test is out of range. */
extern char const *cache_test_name (unsigned int test) ;

/* Writes the file's text, the part that fits, into buf (len bytes, at
   least CACHE_DUMP_MIN): the version line first, then whole lines of
   the passes valid at now. *cursor is 0 for the first call and kept
   between calls. Returns the bytes written; 0 when all is written. */
extern size_t cache_dump (cache const *c, uint64_t now, size_t *cursor, char *buf, size_t len) ;

/* Saves the passes valid at now into the file path, atomically: a new
   file path.XXXXXX in path's directory (mkstemp(), mode 0600), written,
   fsync()ed and renamed over path, then the directory fsync()ed.
   Returns 1, or 0 (errno; ENAMETOOLONG for a path of PATH_MAX - 7
   bytes or more) with path untouched and the new file removed. No
   allocation: the text goes through a buffer on the stack. */
extern int cache_save (cache const *c, char const *path, uint64_t now) ;

/* Adds the passes of the file text s (len bytes) valid at now to c (a
   client's pass replaces what c held for it). maxlife: for each test,
   the longest lifetime the caller gives it; a pass expiring after now
   + maxlife[test] is skipped (maxlife 0: no cap). What the lines gave
   is counted in *st (zeroed first). Returns 1 if s is a file of this
   version, else 0 (nothing is added, *st is all 0). */
extern int cache_load_buf (cache *c, char const *s, size_t len, uint64_t now, uint32_t const *maxlife, cache_loaded *st) ;

/* cache_load_buf() on the file path, read a piece at a time. Returns
   1 or 0 as cache_load_buf(), or -1 (errno) if path could not be
   opened or read (ENOENT: no file yet); after a read error, the lines
   read before it are kept. */
extern int cache_load (cache *c, char const *path, uint64_t now, uint32_t const *maxlife, cache_loaded *st) ;

/* 1 if c's structure is sound (heap order, heap and pool linked both
   ways, every client in its chain, counts): O(n), for the tests. */
extern int cache_check (cache const *c) ;

#endif
