/* mx_classify: the reverse-DNS class of a client, for smtp-delay and
 * smtp-screen.
 *
 *   none      no name (TCPREMOTEHOST unset or empty)
 *   dynamic   a name that looks like an end-user line: a keyword of the
 *             built-in list in a label left of the registered domain
 *             (dyn, dhcp, dialup, ppp, pool, dsl, cable, cpe, client,
 *             ...), the client's own IPv4 address written into the name
 *             (dotted, dashed, reversed, zero-padded, merged, decimal,
 *             hex), or a match of a pattern from the pattern file
 *   named     any other name
 */
#ifndef MX_CLASSIFY_H
#define MX_CLASSIFY_H

#include <stddef.h>
#include <regex.h>
#include <skalibs/ip46.h>

enum rdns_class { CLASS_NONE, CLASS_DYNAMIC, CLASS_NAMED } ;

typedef struct patterns_s patterns ;
struct patterns_s
{
  regex_t *re ;
  size_t n ;
  int builtin ;   /* use the built-in keyword list too */
} ;

/* An empty pattern set, with the built-in keywords if builtin. Returns 1. */
extern int patterns_init (patterns *p, int builtin) ;

/* Adds the POSIX extended regexes of file (one a line, case-insensitive;
   blank lines and lines whose first non-blank is # skipped). Returns 1;
   0 for a bad line (a regex that does not compile, a line too long), -1
   when the file cannot be read; with a message in err (errlen bytes):
   "FILE:LINE: reason" or "FILE: reason". */
extern int patterns_load (patterns *p, char const *file, char *err, size_t errlen) ;

/* What patterns_load does with a file's text, for the text buf[0..len)
   of a file called name (in messages): returns 1, or 0 with
   "NAME:LINE: reason" in err. Lines are read as fgets(3) into 1024
   bytes reads them: a piece of at most 1023 bytes ending at the first
   '\n' counts as a line, cut at its first NUL byte; a piece of 1023
   bytes with neither a '\n' at its end nor a NUL is a line too long. */
extern int patterns_parse (patterns *p, char const *name, char const *buf, size_t len, char *err, size_t errlen) ;

/* Releases what patterns_load or patterns_parse compiled. */
extern void patterns_free (patterns *p) ;

/* The class of host for a client at ip (0: address unknown, no
   IP-in-name test); host 0 or "" is none. If why is not 0, it is set to
   a short reason: "noname", "ip", "keyword", "pattern" or "name". */
extern enum rdns_class classify (patterns const *p, char const *host, ip46 const *ip, char const **why) ;

extern char const *class_name (enum rdns_class) ;

#endif
