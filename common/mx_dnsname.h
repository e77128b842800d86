/* mx_dnsname: is a string a domain name, by the rule its caller needs?
 * One checker for every program that judges names: the strict rule is
 * the default, and each caller names the relaxations it takes.
 *
 * Always: one label at least, no empty label (no leading or doubled
 * dot; RFC 1035 2.3.1: a label is 1 octet at least), and in labels only
 * ASCII letters, digits, '-' and what the relaxations add.
 *
 * The default rule is RFC 5321 4.1.2's Domain, which is RFC 1035 2.3.1's
 * preferred name syntax as RFC 1123 2.1 relaxed it (a label may start
 * with a digit):
 *   sub-domain = Let-dig [Ldh-str]   letters, digits, inner hyphens
 *   each label at most 63 octets (RFC 1035 2.3.4, RFC 5321 4.5.3.1.2)
 *   the whole at most max octets (max 0: no bound); RFC 5321 4.5.3.1.2
 *   says 255, a name that fits a DNS query 253 (RFC 1035 2.3.4's 255
 *   octets of the wire form, less its length bytes)
 *   no final dot: RFC 5321's Domain has none
 *
 * The relaxations (flags), each for a caller that needs it:
 *   MX_DNSNAME_UNDERSCORE  '_' in a label: a DNS label may hold any
 *                          byte (RFC 2181 11); names like
 *                          "_dmarc.example" and "mail_1.example" exist
 *                          and qmail's rcpthosts, exim's domain lists
 *                          and Postfix's tables take them as text
 *   MX_DNSNAME_HYPHENS     '-' first or last in a label (RFC 2181 11
 *                          again; the same servers compare text)
 *   MX_DNSNAME_LONG        labels over 63 octets (a table's text)
 *   MX_DNSNAME_ROOTDOT     one final dot (the root, RFC 1034 3.1)
 *   MX_DNSNAME_LITERAL     "[...]": an address literal as a list holds
 *                          it, judged only by its brackets
 *   MX_DNSNAME_LOWER       a restriction: upper-case letters refused
 *                          (for text the caller has folded)
 *   MX_DNSNAME_LIST        all of the above: a domain as the recipient
 *                          and sender lists take it (rcptchecks-make)
 */
#ifndef MX_DNSNAME_H
#define MX_DNSNAME_H

#include <stddef.h>

#define MX_DNSNAME_UNDERSCORE 0x01u
#define MX_DNSNAME_HYPHENS    0x02u
#define MX_DNSNAME_LONG       0x04u
#define MX_DNSNAME_ROOTDOT    0x08u
#define MX_DNSNAME_LITERAL    0x10u
#define MX_DNSNAME_LOWER      0x20u
#define MX_DNSNAME_LIST (MX_DNSNAME_UNDERSCORE | MX_DNSNAME_HYPHENS | MX_DNSNAME_LONG | MX_DNSNAME_ROOTDOT | MX_DNSNAME_LITERAL | MX_DNSNAME_LOWER)

/* The label length RFC 1035 2.3.4 allows. */
#define MX_DNSNAME_LABEL_MAX 63

/* 1 if s[0..n) is a domain by the default rule with the relaxations in
   flags, at most max bytes long in all (0: no bound); 0 if not. */
extern int mx_dnsname_ok (char const *s, size_t n, size_t max, unsigned int flags) ;

#endif
