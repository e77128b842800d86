/* mx_spfmacro: the macros of SPF records (RFC 7208 §7): their syntax,
   and their expansion into a bounded buffer. Part of mx_spf. */
#ifndef MX_SPFMACRO_H
#define MX_SPFMACRO_H

#include <stddef.h>

/* The values of the macro letters, each NUL-terminated. p is asked for
   only when a %{p} is expanded (it costs DNS questions): it returns
   the validated name of the client, or "unknown". */
typedef struct mx_spf_macros_s mx_spf_macros ;
struct mx_spf_macros_s
{
  char const *s, *l, *o, *d, *i, *v, *h, *c, *r, *t ;
  char const *(*p) (void *ctx, char const *domain) ;
  void *pctx ;
} ;

/* 1 if s[0..n) is a macro-string (exp 0: no c, r, t letters, no
   spaces) or an explain-string (exp 1), 0 if not */
extern int mx_spf_macro_valid (char const *s, size_t n, int exp) ;

/* 1 if s[0..n) is a domain-spec (§7.1: a macro-string that ends with a
   macro-expand or with "." toplabel, a dot after it allowed) */
extern int mx_spf_domainspec_valid (char const *s, size_t n) ;

/* Expands the domain-spec s[0..n) into out (room for
   MX_SPFMACRO_DOMAIN_ROOM bytes), NUL-terminated, without a last dot,
   cut from the left label by label to 253 bytes at most (§7.3).
   Returns 1, or 0 if s is not valid. */
#define MX_SPFMACRO_DOMAIN_ROOM 254
extern int mx_spf_expand_domain (char const *s, size_t n, mx_spf_macros const *m, char *out) ;

/* Expands the explain-string s[0..n) into out[0..max), NUL-terminated,
   cut at max - 1 bytes. Returns 1, or 0 if s is not valid. */
extern int mx_spf_expand_exp (char const *s, size_t n, mx_spf_macros const *m, char *out, size_t max) ;

#endif
