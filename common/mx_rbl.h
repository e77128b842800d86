/* mx_rbl: DNSBL and DNSWL scoring, the one rblenv and smtp-screen share.
 *
 * A set of zones as users write them (mx_zonespec.h: zone[=filter]
 * [*weight]), blocklists (-r) and allow-lists (-a), and the rules that
 * turn their answers into the environment the chain reads:
 *
 *   RBLSCORE   the score: the points of every zone that lists the
 *              client (a blocklist adds its weight, an allow-list
 *              subtracts its magnitude)
 *   RBLLISTS   the zones that list it, in the order given, comma-
 *              separated, blocklists and allow-lists
 *   RBLSMTPD   when the score reaches the threshold: the refusal text,
 *              the TXT of the heaviest blocklist listing (the first of
 *              the heaviest weight; printable ASCII, at most 200 bytes)
 *              or the template (%IP% and %ZONE% filled in), leading
 *              dashes dropped; "-" first with permanent (rblsmtpd's
 *              553). A text of nothing but dashes and blanks gives way
 *              to the template (or the default): a listing never turns
 *              into an empty RBLSMTPD, which rblsmtpd takes for
 *              "accept". RBLLATE instead with late.
 *              At or below the allow threshold: RBLSMTPD="" (accept).
 *
 * An answer outside 127.0.0.0/8 or in 127.255.255.0/24 never lists: a
 * configuration fault, which the caller logs (mx_rbl_listed says
 * which). No I/O, no allocation but the caller's stralloc.
 */
#ifndef MX_RBL_H
#define MX_RBL_H

#include <stdint.h>
#include <skalibs/ip46.h>
#include <skalibs/stralloc.h>

#include "mx_zonespec.h"

#define MX_RBL_ZONES 32
#define MX_RBL_TXT_MAX 200
#define MX_RBL_QNAME (ZONE_NAME_MAX + 74)   /* 32 nibbles and dots, the zone, NUL */
#define MX_RBL_TEMPLATE "Client address %IP% is listed by %ZONE%"

typedef struct mx_rbl_s mx_rbl ;
struct mx_rbl_s
{
  zonespec zone[MX_RBL_ZONES] ;
  unsigned char allow[MX_RBL_ZONES] ;
  unsigned int n ;
  int threshold ;        /* rblenv -s: default 1 */
  int allow_threshold ;  /* rblenv -w: default -1 */
  int permanent ;        /* rblenv -p */
  int late ;             /* rblenv -L */
  char const *template ; /* rblenv -m */
} ;

enum mx_rbl_result { MX_RBL_CLEAN, MX_RBL_REFUSED, MX_RBL_LATE, MX_RBL_ALLOWED } ;

/* An empty set with rblenv's defaults. */
extern void mx_rbl_init (mx_rbl *r) ;

/* Adds a zone spec (allow: an allow-list). Returns 1, or 0 with a
   reason in *why (static text: a bad spec, or too many zones). */
extern int mx_rbl_add (mx_rbl *r, char const *spec, int allow, char const **why) ;

/* "12" or "-3": a whole score, at most 100000 either way. */
extern int mx_rbl_score_scan (char const *s, int *v) ;

/* The DNSBL query name of ip under zone i (reversed octets, or nibbles)
   into buf (MX_RBL_QNAME bytes), NUL-terminated. */
extern void mx_rbl_qname (mx_rbl const *r, unsigned int i, ip46 const *ip, char *buf) ;

/* Whether zone i's A records (na of them) list the client: 1 or 0.
   *fault is the index of the first answer that is a configuration
   fault, or -1. */
extern int mx_rbl_listed (mx_rbl const *r, unsigned int i, unsigned char const (*a)[4], unsigned int na, int *fault) ;

/* The score of the zones listed (bit i: zone i). */
extern int mx_rbl_score (mx_rbl const *r, uint32_t listed) ;

/* The most points the zones not yet answered (bit i of pending) could
   still add: their positive points. */
extern int mx_rbl_could_add (mx_rbl const *r, uint32_t pending) ;

/* The heaviest blocklist among the listed, the first of the heaviest
   weight, or -1. */
extern int mx_rbl_heaviest (mx_rbl const *r, uint32_t listed) ;

/* What score means. */
extern enum mx_rbl_result mx_rbl_decide (mx_rbl const *r, uint32_t listed) ;

/* "refused", "late", "allowed", "clean" */
extern char const *mx_rbl_word (enum mx_rbl_result) ;

/* Appends to sa the zones listed, comma-separated, no NUL. Returns 1,
   or 0 (no memory). */
extern int mx_rbl_lists (mx_rbl const *r, uint32_t listed, stralloc *sa) ;

/* Appends the environment's items, each "VAR=value" and a NUL, to
   modif: RBLSCORE, RBLLISTS always; then, unless dryrun, RBLSMTPD or
   RBLLATE as the score says (the text from txt, txtlen bytes of the
   heaviest listing's TXT answer, or 0, or the template for ipt).
   *result is the verdict. Returns 1, or 0 (no memory). */
extern int mx_rbl_env (mx_rbl const *r, uint32_t listed, char const *txt, size_t txtlen, char const *ipt, int dryrun, stralloc *modif, enum mx_rbl_result *result) ;

#endif
