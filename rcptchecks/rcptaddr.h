/* rcptaddr: the path of an SMTP "RCPT TO:" (and "MAIL FROM:") command,
 * read strictly enough that qmail-smtpd and exim cannot take it for
 * anything else, and the keys rcptchecks looks a recipient up under.
 *
 * Why strict: the server behind rcptchecks parses the same bytes its own
 * way. qmail-smtpd takes the address from the first '<' to the next '>'
 * outside quotes, strips source routes, quotes and backslashes, rewrites
 * a literal of its own address to control/localiphost, and accepts an
 * address without '@' (qmail-send qualifies it); exim reads RFC 5322
 * mailboxes with display names, comments and quoted local parts. Every
 * form on which they could disagree, or which either would turn into a
 * local address other than the one written, is refused (RCPTADDR_BAD):
 * allow-list, not deny-list.
 *
 * The accepted RCPT argument (the text after "RCPT "):
 *   "TO:" *SP ( "<" path ">" / path ) [ 1*SP params ] *SP
 *   ("TO:" in any case; a path without brackets ends at a SP)
 *   path = [ route ] mailbox
 *   route = "@" name *( ",@" name ) ":"   (RFC 5321 4.1.1.3: accepted,
 *           ignored; both servers deliver to the mailbox after it, which
 *           must then have a domain)
 *   mailbox = local-part "@" domain / local-part / "postmaster"
 *   local-part = dot-atom of RFC 5321 atext, less '%' and '!' (the
 *                percent hack and bang paths route by server setting),
 *                or that dot-atom in double quotes before "@" domain:
 *                read as the dot-atom, as qmail-smtpd (addrparse drops
 *                quotes) and exim (deliver_split_address removes them)
 *                both deliver it
 *   domain = DNS labels (letters, digits, inner '-'), dot-separated,
 *            no trailing dot, at most 253 bytes / address literal
 *            "[" digits and dots "]" or "[IPv6:" hex, ':' and '.' "]"
 * The address read (local@domain, route and quotes gone) is at most
 * RCPTADDR_MAX bytes, as qmail-smtpd counts it. No other quoting, no
 * backslashes, comments, blanks or control bytes; "<>" is refused (an
 * empty recipient).
 * 8-bit bytes (SMTPUTF8, RFC 6531, 6532): a path holding any that is
 * not well-formed UTF-8 (RFC 3629) is RCPTADDR_NOTUTF8 (501); a
 * well-formed one in a transaction that did not declare SMTPUTF8 is
 * RCPTADDR_NEEDUTF8 (553 5.6.7, RFC 6531 3.7.4.1). In one that did,
 * the local part's atext takes UTF8-non-ascii too (RFC 6531 3.3), and
 * a domain with U-labels is read as its A-labels (mx_utf8_domain, in
 * lower case), which must be a DNS name as above; a domain IDNA2008
 * refuses is RCPTADDR_BAD. Route domains and literals stay ASCII. The
 * local part is kept as written: its non-ASCII bytes are compared
 * exactly (neither qmail nor exim folds or normalises them).
 * Params are returned for the caller to judge against what was offered
 * (smtp_params_ok, mx_smtp.h).
 *
 * Lookup keys, in order, for local part L and domain D (lower-cased),
 * with delimiter '-' (configurable):
 *   L@D                   the exact address
 *   L1-L2-default@D ...   qmail extensions, longest first: for
 *   L1-default@D          L = L1-L2-L3, as .qmail-default files work
 *   L1@D                  the user without any extension
 *                         (at most 12 extension levels are tried)
 *   @D                    the domain's catch-all
 * The local part is lower-cased too unless the caller keeps its case
 * (ASCII letters only: other bytes are compared as written).
 */
#ifndef RCPTCHECKS_RCPTADDR_H
#define RCPTCHECKS_RCPTADDR_H

#include <stddef.h>

/* the longest address qmail-smtpd takes: its addrparse says "if
   (addr.len > 900) return 0;" (555) with the terminating NUL counted */
#define RCPTADDR_MAX 899
#define RCPTADDR_DOMAIN_MAX 253

enum rcptaddr_form
{
  RCPTADDR_BAD,          /* refused: not in the grammar above */
  RCPTADDR_DOMAIN,       /* local@domain, domain a DNS name */
  RCPTADDR_LITERAL,      /* local@[literal] */
  RCPTADDR_NODOMAIN,     /* local, no '@': the server qualifies it */
  RCPTADDR_POSTMASTER,   /* the bare "postmaster" (RFC 5321 4.5.1) */
  RCPTADDR_NOTUTF8,      /* 8-bit bytes that are not UTF-8: 501 */
  RCPTADDR_NEEDUTF8      /* UTF-8 without SMTPUTF8 declared: 553 5.6.7 */
} ;

typedef struct rcptaddr_s rcptaddr ;
struct rcptaddr_s
{
  char local[RCPTADDR_MAX + 1] ;    /* as the server reads it: no quotes */
  char domain[RCPTADDR_MAX + 1] ;   /* lower-cased A-labels; literal with brackets; "" without */
  size_t params ;                   /* offset in arg of the parameters */
  size_t paramslen ;                /* their length (0: none) */
} ;

/* Parses the argument of RCPT (what follows "RCPT ", len bytes), in a
   transaction that declared SMTPUTF8 (utf8 = 1) or not; rcptaddr_parse
   is rcptaddr_parse8 with utf8 = 0. */
extern enum rcptaddr_form rcptaddr_parse8 (char const *arg, size_t len, int utf8, rcptaddr *a) ;
extern enum rcptaddr_form rcptaddr_parse (char const *arg, size_t len, rcptaddr *a) ;

/* Checks the argument of MAIL (what follows "MAIL "): "FROM:" *SP path
   [ 1*SP params ] *SP, the path "<>", "<" addr ">" or addr, where addr
   holds no quote, backslash, bracket of either kind but a literal's,
   parenthesis, blank or control byte, and 8-bit bytes only as
   well-formed UTF-8 with the parameter SMTPUTF8 (RFC 6531 3.4; whether
   it was offered is smtp_params_ok's question). This is the one parse
   of MAIL's path: every later reader (sender.h, envelope.h) takes the
   spans it finds. rcptaddr_mailfrom8 returns RCPTADDR_MAIL_OK and fills
   *f, or says why not; rcptaddr_mailfrom returns 1 for
   RCPTADDR_MAIL_OK, else 0. */
enum rcptaddr_mail
{
  RCPTADDR_MAIL_BAD,       /* 501 5.1.7 */
  RCPTADDR_MAIL_OK,
  RCPTADDR_MAIL_NOTUTF8,   /* 8-bit bytes that are not UTF-8: 501 5.1.7 */
  RCPTADDR_MAIL_NEEDUTF8   /* UTF-8 without SMTPUTF8: 553 5.6.7 */
} ;
typedef struct rcptaddr_from_s rcptaddr_from ;
struct rcptaddr_from_s
{
  size_t path ;                /* offset in arg of the path, brackets excluded */
  size_t pathlen ;             /* its length (0: the null path "<>") */
  size_t params ;              /* offset in arg of the parameters */
  size_t paramslen ;           /* their length (0: none) */
  int utf8 ;                   /* the parameters declare SMTPUTF8 */
} ;
extern enum rcptaddr_mail rcptaddr_mailfrom8 (char const *arg, size_t len, rcptaddr_from *f) ;
extern int rcptaddr_mailfrom (char const *arg, size_t len, rcptaddr_from *f) ;

typedef struct rcptaddr_keys_s rcptaddr_keys ;
struct rcptaddr_keys_s
{
  char const *domain ;          /* points into buf */
  unsigned int n ;              /* how many keys */
  char const *key[16] ;         /* the keys, in lookup order */
  char buf[16 * (RCPTADDR_MAX + 16)] ;
} ;

/* Splits addr at its last '@' and fills k with the lookup keys.
   Returns 1, or 0 when addr has no '@' or an empty domain. */
extern int rcptaddr_keys_make (char const *addr, char delimiter, int keep_case, rcptaddr_keys *k) ;

#endif
