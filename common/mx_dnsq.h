/* mx_dnsq: DNS lookups that never block, for one event loop holding
 * thousands of clients (smtp-screen's greeting wait).
 *
 * Lives in the sealed DNS object beside mx_dns.c (common/LIBRARIES):
 * libowfat's non-blocking client (dns_transmit_start/io/get) under an
 * engine the caller owns. Plain C types only; every entry point is
 * mx_dns_q_*.
 *
 * The contract:
 *
 *  - The caller owns an engine (mx_dns_q_new) and submits lookups to
 *    it, each with a tag of its own (a client id and a slot, say) and
 *    an absolute deadline in milliseconds on the caller's monotonic
 *    clock (mx_now_ms); every call that needs the time is given it.
 *    Kinds: forward-confirmed PTR (the rule of mx_dns_fcrdns: the first
 *    PTR name, then its A or AAAA records must hold the address), A
 *    (a DNSBL's answer) and TXT (a listing's text, asked by the caller
 *    only once the A said "listed").
 *  - At most max_inflight lookups have a query on the wire at once;
 *    the ones submitted beyond wait in a FIFO, in submission order,
 *    still bounded by their own deadlines (a lookup that waits out its
 *    deadline ends MX_DNS_Q_TIMEOUT without a query sent). At most
 *    max_inflight + max_waiting lookups exist at once, from submission
 *    until mx_dns_q_next hands them out or mx_dns_q_cancel drops them:
 *    a submission beyond that is refused (0, errno EAGAIN). Memory is
 *    so bounded: about 1.2 kB a lookup.
 *  - One fd to watch: mx_dns_q_fd is an epoll fd the engine owns
 *    (close-on-exec), holding the sockets of every query in flight; the
 *    caller adds it to its own epoll set for reading (level-triggered).
 *    mx_dns_q_timeout says how long the caller's epoll_wait may sleep.
 *    mx_dns_q_run does every ready I/O without blocking, resends as
 *    djbdns does (another server, a longer wait, TCP for a truncated
 *    answer), and ends what its deadline has passed; call it whenever
 *    the fd is readable or the timeout has run out (calling it more
 *    often does no harm). Finished lookups are then taken one by one
 *    with mx_dns_q_next: no callback, so nothing is called back into
 *    the caller's code while the engine is in the middle of its work.
 *  - mx_dns_q_cancel drops a lookup at any stage (waiting, in flight,
 *    finished but not yet taken): nothing of it comes out of
 *    mx_dns_q_next afterwards, and its id is dead (a later cancel of
 *    it, or of any stale id, returns 0 and touches nothing).
 *  - TTL: the lowest TTL of the answer section's records (CNAMEs in
 *    the chain too). With no answer records (NXDOMAIN, or a name
 *    without records of the type) the negative TTL of RFC 2308: the
 *    lower of the SOA record's own TTL and its MINIMUM, from the
 *    authority section. 0 when neither is there: unknown, the caller
 *    caps its cache time itself.
 *  - The resolver: DNSCACHEIP, else /etc/resolv.conf (libowfat's
 *    dns_resolvconfip), read once by mx_dns_q_new; queries are
 *    recursive, from random ports with random ids.
 *  - Sockets are close-on-exec, so a client handed to an exec chain
 *    holds none. A child forked without exec (fork, not vfork) shares
 *    the sockets until it closes them; the engine ignores what epoll
 *    reports of a socket it has let go.
 */
#ifndef MX_DNSQ_H
#define MX_DNSQ_H

#include <stddef.h>
#include <stdint.h>

#include "mx_dns.h"

typedef struct mx_dns_q_s mx_dns_q ;

enum mx_dns_q_kind { MX_DNS_Q_FCRDNS, MX_DNS_Q_A, MX_DNS_Q_TXT } ;
/* ANSWERED covers NXDOMAIN (rcode 3), and, for FCRDNS, "no name";
   FAILED: every server failed or refused, or a local error (socket,
   memory, epoll). */
enum mx_dns_q_status { MX_DNS_Q_ANSWERED, MX_DNS_Q_TIMEOUT, MX_DNS_Q_FAILED } ;

#define MX_DNS_Q_NAME_MAX 256

typedef struct mx_dns_q_result_s mx_dns_q_result ;
struct mx_dns_q_result_s
{
  uint64_t id ;                  /* as mx_dns_q_fcrdns or _lookup gave it */
  uint64_t tag ;                 /* the caller's, as submitted */
  enum mx_dns_q_kind kind ;
  enum mx_dns_q_status status ;
  int fcrdns ;                   /* FCRDNS: 1 confirmed, 0 no such name
                                    (no PTR, or one that does not point
                                    back), -1 failed or timed out: as
                                    mx_dns_fcrdns returns */
  char name[MX_DNS_Q_NAME_MAX] ; /* FCRDNS and 1: the name, dotted, lower
                                    case, NUL-terminated; else "" */
  unsigned int rcode ;           /* ANSWERED: 0, or 3 (no such name); for
                                    FCRDNS, the PTR answer's */
  unsigned int ttl ;             /* ANSWERED: seconds (see above), 0 unknown;
                                    FCRDNS: the lower of both answers' */
  unsigned int na ;              /* A: how many addresses in a */
  unsigned char a[MX_DNS_MAX_A][4] ;  /* A: the first addresses */
  char txt[MX_DNS_TXT_MAX] ;     /* TXT: the strings joined, raw, cut */
  size_t txtlen ;
  unsigned int ms ;              /* from submission to the end */
} ;

/* A new engine: at most max_inflight (>= 1) lookups on the wire, at
   most max_waiting more in its FIFO. Reads the resolver's address.
   Returns 0 with errno set if there is none, or no memory, or no epoll
   fd. */
extern mx_dns_q *mx_dns_q_new (unsigned int max_inflight, unsigned int max_waiting) ;

/* Ends every lookup (nothing more comes out), closes every socket and
   the epoll fd, frees q. q may be 0. */
extern void mx_dns_q_free (mx_dns_q *q) ;

/* The epoll fd to watch for reading. */
extern int mx_dns_q_fd (mx_dns_q const *q) ;

/* Submits a forward-confirmed PTR lookup of ip (4 bytes, or 16 if is6),
   or an A or TXT lookup of a dotted name (kind MX_DNS_Q_A or
   MX_DNS_Q_TXT), ending by deadline at the latest. Its query leaves at
   once if fewer than max_inflight are on the wire, else it waits in the
   FIFO. Returns the lookup's id (never 0), or 0 with errno: EAGAIN the
   engine is full, EINVAL a bad name or kind, ENOMEM. */
extern uint64_t mx_dns_q_fcrdns (mx_dns_q *q, char const *ip, int is6, uint64_t tag, long long now, long long deadline) ;
extern uint64_t mx_dns_q_lookup (mx_dns_q *q, enum mx_dns_q_kind kind, char const *name, uint64_t tag, long long now, long long deadline) ;

/* Drops the lookup id wherever it stands. Returns 1, or 0 if id names
   no live lookup (finished and taken, cancelled, or never given). */
extern int mx_dns_q_cancel (mx_dns_q *q, uint64_t id) ;

/* Milliseconds the caller's epoll_wait may sleep: 0 if there is work
   now (a finished lookup not yet taken, a deadline passed, a waiting
   lookup that may leave), -1 if the engine holds no lookup, else the
   time to the next deadline or resend (INT_MAX at most). */
extern int mx_dns_q_timeout (mx_dns_q const *q, long long now) ;

/* Does every ready I/O, resends what is due, ends what is late, sends
   what waits while there is room. Never blocks. */
extern void mx_dns_q_run (mx_dns_q *q, long long now) ;

/* Takes the oldest finished lookup into *r: 1, or 0 if none. A lookup
   taken is gone from the engine. */
extern int mx_dns_q_next (mx_dns_q *q, mx_dns_q_result *r) ;

/* How many lookups are on the wire, waiting, finished and not taken. */
extern void mx_dns_q_counts (mx_dns_q const *q, unsigned int *inflight, unsigned int *waiting, unsigned int *done) ;

#endif
