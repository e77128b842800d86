/* greystore: the greylisting store, triplets and networks.
 *
 * A triplet is (client network, sender, recipient), each a field of
 * printable ASCII without blanks (greystore_field: other bytes and '%'
 * written %XX, a field longer than GREY_FIELD_MAX cut and ended by '#'
 * and 16 hex digits of a hash of the whole), so that a key is one line
 * of text: "NET SENDER RCPT". The network is the client's address with
 * its host bits cleared and the prefix length: 192.0.2.0/24,
 * 2001:db8:1:2::/64 (greystore_net). The sender is the address of MAIL
 * lower-cased whole (as postgrey keys it), less a BATV tag
 * ("prvs=TAG=" before the local part: it changes every day, so that a
 * retry would never match), "<>" for the null sender; the recipient the
 * address as rcptchecks looked it up (lower case, domain in A-labels).
 *
 * A triplet's record: when it was first seen, when it last passed (0:
 * never yet), how many times it was seen. A network's: how many of its
 * triplets passed the delay (retried), and when the last did; a network
 * with autoallow passes within the lifetime is allowed outright.
 *
 * The decision (greystore_decide, one for both stores), at time now:
 *   network allowed                   GREY_ALLOWED (the triplet untouched)
 *   no record, or one gone stale      GREY_NEW: first = now, deferred
 *     (not passed and first older than the retry window, or passed
 *     and the pass older than the lifetime)
 *   not passed, now < first + delay   GREY_EARLY: deferred again
 *   not passed, now >= first + delay  GREY_RETRIED: passed = now, and
 *                                     the network's count grows
 *   passed                            GREY_KNOWN: passed = now (LMDB:
 *                                     only if the pass recorded is
 *                                     GREY_REFRESH seconds old or more)
 *
 * Two stores, one interface:
 *   - LMDB (greystore-lmdb.c): one file in a directory, many processes
 *     at once, each check one write transaction (LMDB serialises
 *     writers: no triplet is lost or doubled);
 *   - MariaDB (greystore-sql.c): two tables shared by several MX hosts,
 *     through rcptchecks' -g groups and their failover (mx_sql.h).
 * Every function that can fail leaves a message in g->err; the caller
 * lets the mail through when the store fails.
 */
#ifndef RCPTCHECKS_GREYSTORE_H
#define RCPTCHECKS_GREYSTORE_H

#include <stddef.h>
#include <stdint.h>
#include "mx_ip.h"

#define GREY_FIELD_MAX 200          /* one field of a key, encoded */
#define GREY_NET_MAX 48             /* "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" */
#define GREY_KEY_MAX (GREY_NET_MAX + 2 * GREY_FIELD_MAX + 2)
#define GREY_TS_MAX UINT64_C(253402300799)   /* 9999-12-31T23:59:59Z */
#define GREY_REFRESH 3600            /* a pass this recent is not written again */
#define GREY_SQL_TABLE "greylist"
#define GREY_SQL_NETS "greylist_nets"

typedef struct greyconf_s greyconf ;
struct greyconf_s
{
  uint64_t delay ;       /* seconds before a retry passes (-I) */
  uint64_t window ;      /* seconds a first attempt waits for its retry */
  uint64_t lifetime ;    /* seconds a pass (and a network's count) is kept */
  unsigned int autoallow ;   /* passes that allow a network (0: never) */
} ;
#define GREYCONF_DEFAULT { 300, 2 * 86400, 35 * 86400, 5 }

typedef struct greyrec_s greyrec ;
struct greyrec_s
{
  uint64_t first ;
  uint64_t passed ;
  uint64_t count ;
} ;

typedef struct greynet_s greynet ;
struct greynet_s
{
  uint64_t passes ;
  uint64_t last ;
} ;

enum grey_verdict { GREY_NEW, GREY_EARLY, GREY_RETRIED, GREY_KNOWN, GREY_ALLOWED, GREY_ERROR } ;

/* the word of the log lines (greylist=WORD) */
extern char const *greystore_word (enum grey_verdict v) ;

/* Encodes n bytes of s into out (room for GREY_FIELD_MAX + 1), lower
   case if lower; returns the length (0 for n == 0: the caller writes
   what stands for an empty field). */
extern size_t greystore_field (char *out, char const *s, size_t n, int lower) ;

/* The sender's field ("<>" for the null sender). */
extern size_t greystore_sender (char *out, char const *addr) ;

/* The network of ip with v4/v6 prefix lengths into out (room for
   GREY_NET_MAX + 1); its length. */
extern size_t greystore_net (char *out, ip46 const *ip, unsigned int v4, unsigned int v6) ;

/* The decision above on the record r (found: whether there is one) and
   the network's n, at now: r and n are updated as they are to be
   stored; *write_r and *write_n say which changed. */
extern enum grey_verdict greystore_decide (greyconf const *c, uint64_t now, greyrec *r, int found, greynet *n, int *write_r, int *write_n) ;

/* Stale: a record expire removes at now. */
extern int greystore_stale_rec (greyconf const *c, uint64_t now, greyrec const *r) ;
extern int greystore_stale_net (greyconf const *c, uint64_t now, greynet const *n) ;

typedef struct greystore_s greystore ;
struct greystore_s
{
  /* set by the caller: dir for LMDB, or group (cnf, timeout) for SQL */
  char const *dir ;
  char const *group ;
  char const *cnf ;
  unsigned int timeout ;
  int readonly ;
  /* state */
  void *env ;            /* LMDB: MDB_env */
  unsigned int dbi ;
  void *my ;             /* SQL: mx_mariadb const * */
  void *m ;              /* SQL: MYSQL * */
  unsigned int at ;
  char err[256] ;
} ;

/* what each/list sees: a triplet (net, sender, rcpt, r) or a network
   (net, 0, 0, n); 0 stops */
typedef int greystore_each_fn (char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n, void *data) ;

/* Opens (LMDB: creates the directory's store; SQL: connects on first
   need). 1, or 0 with g->err. */
extern int greystore_open (greystore *g) ;
extern void greystore_close (greystore *g) ;
extern char const *greystore_kind (greystore const *g) ;

/* The check at RCPT: the decision above, stored. GREY_ERROR with g->err
   when the store cannot be read or written. *r is the triplet's record
   after it. */
extern enum grey_verdict greystore_check (greystore *g, greyconf const *c, uint64_t now, char const *net, char const *sender, char const *rcpt, greyrec *r) ;

/* Administration (greydb). Each returns 1, 0 (nothing matched, or
   stopped by fn), -1 on error. */
extern int greystore_each (greystore *g, greystore_each_fn *fn, void *data) ;
extern int greystore_put_rec (greystore *g, char const *net, char const *sender, char const *rcpt, greyrec const *r) ;
extern int greystore_put_net (greystore *g, char const *net, greynet const *n) ;
extern int greystore_delete (greystore *g, char const *net, char const *sender, char const *rcpt) ;   /* sender 0: the network's record */
extern long long greystore_expire (greystore *g, greyconf const *c, uint64_t now) ;

/* backends: greystore-lmdb.c and greystore-sql.c */
extern int greylmdb_open (greystore *g) ;
extern void greylmdb_close (greystore *g) ;
extern enum grey_verdict greylmdb_check (greystore *g, greyconf const *c, uint64_t now, char const *net, char const *sender, char const *rcpt, greyrec *r) ;
extern int greylmdb_each (greystore *g, greystore_each_fn *fn, void *data) ;
extern int greylmdb_put (greystore *g, char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n) ;
extern int greylmdb_delete (greystore *g, char const *net, char const *sender, char const *rcpt) ;
extern long long greylmdb_expire (greystore *g, greyconf const *c, uint64_t now) ;
extern int greysql_open (greystore *g) ;
extern void greysql_close (greystore *g) ;
extern enum grey_verdict greysql_check (greystore *g, greyconf const *c, uint64_t now, char const *net, char const *sender, char const *rcpt, greyrec *r) ;
extern int greysql_each (greystore *g, greystore_each_fn *fn, void *data) ;
extern int greysql_put (greystore *g, char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n) ;
extern int greysql_delete (greystore *g, char const *net, char const *sender, char const *rcpt) ;
extern long long greysql_expire (greystore *g, greyconf const *c, uint64_t now) ;

#endif
