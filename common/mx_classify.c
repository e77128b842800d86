/* classify: see classify.h. Heuristics, as every rDNS classifier's are:
 * a false "dynamic" only lengthens a server's greeting wait, it never
 * refuses anyone.
 */
#include "mx_classify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skalibs/uint32.h>

/* Keywords of end-user address space, matched in the labels left of
   the registered domain (the last two labels), with no letter right
   before or after them. Plain string search, not a regex: a compiled
   regex of this size costs each waiting connection more memory than
   all the rest of smtp-delay. */
static char const *const keywords[] =
{
  "dyn", "dynamic", "dynip", "dhcp", "dial", "dialup", "dial-up", "dialin",
  "ppp", "pppoe", "pool", "dsl", "adsl", "vdsl", "xdsl", "sdsl", "cable",
  "cablemodem", "cpe", "client", "clients", "cust", "customer", "broadband",
  "modem", "ftth", "fttx", "residential", "wireless", "wlan", "wifi",
  "mobile", "3g", "4g", "lte", "noptr", "in-addr", "ip-addr", "host-addr",
} ;

int patterns_init (patterns *p, int builtin)
{
  p->re = 0 ;
  p->n = 0 ;
  p->builtin = builtin ;
  return 1 ;
}

/* The pattern file's lines as fgets(3) into a 1024-byte buffer reads
   them: a piece is at most 1023 bytes, up to and with a '\n'; each piece
   counts as a line and is cut at its first NUL byte. */
#define PIECE 1023

int patterns_parse (patterns *p, char const *name, char const *buf, size_t len, char *err, size_t errlen)
{
  char line[PIECE + 1] ;
  unsigned long lineno = 0 ;
  size_t pos = 0 ;
  while (pos < len)
  {
    size_t piece = len - pos < PIECE ? len - pos : PIECE, n ;
    char const *nl = memchr(buf + pos, '\n', piece) ;
    char const *nul ;
    regex_t *grown ;
    int e ;
    if (nl) piece = (size_t)(nl - (buf + pos)) + 1 ;
    nul = memchr(buf + pos, 0, piece) ;
    n = nul ? (size_t)(nul - (buf + pos)) : piece ;
    memcpy(line, buf + pos, n) ;
    line[n] = 0 ;
    pos += piece ;
    lineno++ ;
    if (n == PIECE && line[n-1] != '\n')
    {
      snprintf(err, errlen, "%s:%lu: line longer than %u bytes", name, lineno, (unsigned int)PIECE - 1) ;
      return 0 ;
    }
    while (n && (line[n-1] == '\n' || line[n-1] == '\r')) line[--n] = 0 ;
    {
      size_t b = strspn(line, " \t") ;
      if (b == n || line[b] == '#') continue ;   /* blank or comment */
    }
    grown = realloc(p->re, (p->n + 1) * sizeof *p->re) ;
    if (!grown) { snprintf(err, errlen, "%s:%lu: out of memory", name, lineno) ; return 0 ; }
    p->re = grown ;
    e = regcomp(&p->re[p->n], line, REG_EXTENDED | REG_ICASE | REG_NOSUB) ;
    if (e)
    {
      char why[128] ;
      regerror(e, &p->re[p->n], why, sizeof why) ;
      snprintf(err, errlen, "%s:%lu: bad regular expression: %s", name, lineno, why) ;
      return 0 ;
    }
    p->n++ ;
  }
  return 1 ;
}

/* The whole file in one buffer (sized by fstat, grown while the file
   has more: a pipe, a file that grows), then parsed. */
int patterns_load (patterns *p, char const *file, char *err, size_t errlen)
{
  struct stat st ;
  char *buf ;
  size_t len = 0, cap = 4096 ;
  int e = 0, r ;
  int fd = open(file, O_RDONLY) ;
  if (fd < 0)
  {
    snprintf(err, errlen, "%s: unable to open: %s", file, strerror(errno)) ;
    return -1 ;
  }
  if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size >= 0 && (unsigned long long)st.st_size < (size_t)-1)
    cap = (size_t)st.st_size + 1 ;   /* one byte more: the end is seen at once */
  buf = malloc(cap) ;
  if (!buf) e = ENOMEM ;
  while (!e)
  {
    ssize_t got ;
    if (len == cap)
    {
      char *grown = cap * 2 > cap ? realloc(buf, cap * 2) : 0 ;
      if (!grown) { e = ENOMEM ; break ; }
      buf = grown ;
      cap *= 2 ;
    }
    got = read(fd, buf + len, cap - len) ;
    if (got < 0) { if (errno != EINTR) e = errno ; continue ; }
    if (!got) break ;
    len += (size_t)got ;
  }
  close(fd) ;
  if (e)
  {
    snprintf(err, errlen, "%s: unable to read: %s", file, strerror(e)) ;
    free(buf) ;
    return -1 ;
  }
  r = patterns_parse(p, file, buf, len, err, errlen) ;
  free(buf) ;
  return r ;
}

void patterns_free (patterns *p)
{
  size_t i ;
  for (i = 0 ; i < p->n ; i++) regfree(&p->re[i]) ;
  free(p->re) ;
  p->re = 0 ;
  p->n = 0 ;
}

/* The byte classes a match must not touch, and ASCII lower case (as
   strncasecmp(3) compares in the C locale: other bytes are themselves) */
static int is_digit (unsigned char c) { return c >= '0' && c <= '9' ; }
static int is_hex (unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ; }
static int is_letter (unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ; }
static unsigned char lower (unsigned char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c ; }

/* the first byte of h[0..len) that is c or, for a lower-case letter c,
   its capital; 0 if none */
static unsigned char const *find (unsigned char const *h, size_t len, unsigned char c)
{
  unsigned char const *at = memchr(h, c, len) ;
  if (c >= 'a' && c <= 'z')
  {
    unsigned char const *cap = memchr(h, c - 'a' + 'A', at ? (size_t)(at - h) : len) ;
    if (cap) at = cap ;
  }
  return at ;
}

/* s[0..n) (in lower case, n > 0) occurs in host[0..hl) whatever the
   case, with no byte of the class edge right before or after it. Only
   the places where s's first byte is are compared further. */
static int occurs (char const *host, size_t hl, char const *s, size_t n, int (*edge) (unsigned char))
{
  unsigned char const *h = (unsigned char const *)host ;
  unsigned char const *u = (unsigned char const *)s ;
  size_t i = 0, j ;
  while (i + n <= hl)
  {
    unsigned char const *at = find(h + i, hl - n + 1 - i, u[0]) ;
    if (!at) return 0 ;
    i = (size_t)(at - h) ;
    for (j = 1 ; j < n && lower(h[i+j]) == u[j] ; j++) ;
    if (j == n && !(i && edge(h[i-1])) && !(i + n < hl && edge(h[i+n]))) return 1 ;
    i++ ;
  }
  return 0 ;
}

/* a's four bytes in decimal, in order or reversed, each zero-padded to
   pad digits, sep between them unless sep is 0 */
static size_t ip4_form (char *s, unsigned char const *a, int reversed, char sep, unsigned int pad)
{
  size_t w = 0 ;
  unsigned int i ;
  for (i = 0 ; i < 4 ; i++)
  {
    uint32_t b = a[reversed ? 3 - i : i] ;
    if (i && sep) s[w++] = sep ;
    w += pad ? uint320_fmt(s + w, b, pad) : uint32_fmt(s + w, b) ;
  }
  return w ;
}

/* The client's IPv4 address written into its own name. */
static int embeds_ip4 (char const *host, size_t hl, unsigned char const *a)
{
  static char const seps[] = ".-_" ;
  char s[UINT32_FMT * 4] ;
  uint32_t dec = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3] ;
  size_t n ;
  unsigned int i ;
  for (i = 0 ; i < 3 ; i++)
  {
    if (occurs(host, hl, s, ip4_form(s, a, 0, seps[i], 0), is_digit)) return 1 ;
    if (occurs(host, hl, s, ip4_form(s, a, 1, seps[i], 0), is_digit)) return 1 ;
    if (occurs(host, hl, s, ip4_form(s, a, 0, seps[i], 3), is_digit)) return 1 ;
    if (occurs(host, hl, s, ip4_form(s, a, 1, seps[i], 3), is_digit)) return 1 ;
  }
  if (occurs(host, hl, s, ip4_form(s, a, 0, 0, 3), is_digit)) return 1 ;  /* merged, padded */
  if (occurs(host, hl, s, ip4_form(s, a, 1, 0, 3), is_digit)) return 1 ;
  n = ip4_form(s, a, 0, 0, 0) ;                                             /* merged */
  if (n >= 8 && occurs(host, hl, s, n, is_digit)) return 1 ;
  n = uint32_fmt(s, dec) ;                                                  /* decimal */
  if (n >= 8 && occurs(host, hl, s, n, is_digit)) return 1 ;
  if (occurs(host, hl, s, uint320_xfmt(s, dec, 8), is_hex)) return 1 ;    /* hex, lower case */
  return 0 ;
}

/* host without its last two labels (the registered domain, roughly) */
static size_t local_part_len (char const *host)
{
  size_t len = strlen(host) ;
  unsigned int dots = 0 ;
  if (len && host[len-1] == '.') len-- ;
  while (len--)
    if (host[len] == '.' && ++dots == 2) return len ;
  return 0 ;
}

enum rdns_class classify (patterns const *p, char const *host, ip46 const *ip, char const **why)
{
  char const *reason = 0 ;
  size_t i ;
  if (!host || !*host) { if (why) *why = "noname" ; return CLASS_NONE ; }
  if (ip && !ip46_is6(ip) && embeds_ip4(host, strlen(host), (unsigned char const *)ip->ip)) reason = "ip" ;
  if (!reason && p->builtin)
  {
    size_t n = local_part_len(host) ;
    char buf[256] ;
    if (n >= sizeof buf) n = sizeof buf - 1 ;
    memcpy(buf, host, n) ;
    buf[n] = 0 ;
    for (i = 0 ; n && !reason && i < sizeof keywords / sizeof *keywords ; i++)
      if (occurs(buf, n, keywords[i], strlen(keywords[i]), is_letter)) reason = "keyword" ;
  }
  for (i = 0 ; !reason && i < p->n ; i++)
    if (!regexec(&p->re[i], host, 0, 0, 0)) reason = "pattern" ;
  if (why) *why = reason ? reason : "name" ;
  return reason ? CLASS_DYNAMIC : CLASS_NAMED ;
}

char const *class_name (enum rdns_class c)
{
  return c == CLASS_NONE ? "none" : c == CLASS_DYNAMIC ? "dynamic" : "named" ;
}
