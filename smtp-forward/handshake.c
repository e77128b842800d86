/* handshake: see handshake.h. */
#include "handshake.h"

#include <string.h>

#include <skalibs/types.h>

#include "mx_smtp.h"

static int upper (int c) { return c >= 'a' && c <= 'z' ? c - 32 : c ; }

/* s[0..n) equals the upper-case word w, in any case */
static int word_is (char const *s, size_t n, char const *w)
{
  size_t i ;
  if (n != strlen(w)) return 0 ;
  for (i = 0 ; i < n ; i++) if (upper((unsigned char)s[i]) != w[i]) return 0 ;
  return 1 ;
}

static unsigned int attr_bit (char const *s, size_t n)
{
  if (word_is(s, n, "ADDR")) return XCLIENT_ADDR ;
  if (word_is(s, n, "NAME")) return XCLIENT_NAME ;
  if (word_is(s, n, "PORT")) return XCLIENT_PORT ;
  if (word_is(s, n, "PROTO")) return XCLIENT_PROTO ;
  return 0 ;
}

int xclient_offered (char const *reply, size_t len, unsigned int *attrs)
{
  /* the first line is the server's name ("250-xclient" is a host
     called so), never a keyword */
  char const *first = memchr(reply, '\n', len) ;
  size_t pos = first ? (size_t)(first - reply) + 1 : len ;
  *attrs = 0 ;
  while (pos < len)
  {
    char const *line = reply + pos ;
    char const *nl = memchr(line, '\n', len - pos) ;
    size_t n = nl ? (size_t)(nl - line) : len - pos ;
    pos += n + 1 ;
    if (n && line[n-1] == '\r') n-- ;
    /* "250-XCLIENT ATTR ..." or "250 XCLIENT ..." */
    if (n >= 11 && (line[3] == '-' || line[3] == ' ') && word_is(line + 4, 7, "XCLIENT")
        && (n == 11 || line[11] == ' '))
    {
      size_t i = 11 ;
      while (i < n)
      {
        size_t j ;
        while (i < n && line[i] == ' ') i++ ;
        for (j = i ; j < n && line[j] != ' ' ; j++) ;
        *attrs |= attr_bit(line + i, j - i) ;
        i = j ;
      }
      return 1 ;
    }
  }
  return 0 ;
}

size_t xtext_encode (char *out, char const *s, size_t n)
{
  static char const hex[] = "0123456789ABCDEF" ;
  size_t i, w = 0 ;
  for (i = 0 ; i < n ; i++)
  {
    unsigned char c = (unsigned char)s[i] ;
    if (c >= '!' && c <= '~' && c != '+' && c != '=') out[w++] = (char)c ;
    else
    {
      out[w++] = '+' ;
      out[w++] = hex[c >> 4] ;
      out[w++] = hex[c & 15] ;
    }
  }
  return w ;
}

int xclient_name_ok (char const *name)
{
  size_t n = strlen(name), i, label = 0 ;
  if (!strcmp(name, "[UNAVAILABLE]") || !strcmp(name, "[TEMPUNAVAIL]")) return 1 ;
  if (!n || n > HANDSHAKE_NAME_MAX) return 0 ;
  for (i = 0 ; i < n ; i++)
  {
    char c = name[i] ;
    if (c == '.')
    {
      if (!label) return 0 ;
      label = 0 ;
    }
    else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')
    {
      if (++label > 63) return 0 ;
    }
    else return 0 ;
  }
  return 1 ;
}

size_t xclient_command (char *out, size_t room, unsigned int attrs, ip46 const *ip, unsigned int port, char const *name)
{
  char line[HANDSHAKE_LINE_MAX + 3 * HANDSHAKE_NAME_MAX] ;
  char addr[MX_IP_FMT] ;
  size_t w = 0 ;
  if (!(attrs & XCLIENT_ADDR) || !(attrs & XCLIENT_NAME) || !xclient_name_ok(name)) return 0 ;
#define PUT(s, n) do { memcpy(line + w, (s), (n)) ; w += (n) ; } while (0)
  PUT("XCLIENT ADDR=", 13) ;
  /* XCLIENT_README: an IPv6 address has the "IPV6:" prefix */
  if (ip46_is6(ip)) PUT("IPV6:", 5) ;
  addr[mx_ip_fmt(addr, ip)] = 0 ;
  w += xtext_encode(line + w, addr, strlen(addr)) ;
  if ((attrs & XCLIENT_PORT) && port)
  {
    char p[UINT_FMT] ;
    PUT(" PORT=", 6) ;
    PUT(p, uint_fmt(p, port)) ;
  }
  PUT(" NAME=", 6) ;
  w += xtext_encode(line + w, name, strlen(name)) ;
  /* SMTP: the client's own HELO keeps it, its EHLO makes it ESMTP */
  if (attrs & XCLIENT_PROTO) PUT(" PROTO=SMTP", 11) ;
  PUT("\r\n", 2) ;
#undef PUT
  if (w > HANDSHAKE_LINE_MAX || w > room) return 0 ;
  memcpy(out, line, w) ;
  return w ;
}

void handshake_start (handshake *h, int xclient, char const *helo, ip46 const *ip, unsigned int port, char const *name)
{
  h->xclient = xclient ;
  h->helo = helo ;
  h->ip = *ip ;
  h->port = port ;
  h->name = name ;
  h->step = HS_GREETING ;
  h->code = 0 ;
  h->why = 0 ;
}

static enum handshake_next fail (handshake *h, char const *why)
{
  h->step = HS_FAILED ;
  h->why = why ;
  return HS_NEXT_FAIL ;
}

enum handshake_next handshake_reply (handshake *h, char const *reply, size_t len, char *out, size_t room, size_t *outlen)
{
  *outlen = 0 ;
  if (h->step == HS_DONE || h->step == HS_FAILED) return fail(h, "reply after the handshake") ;
  h->code = smtp_reply_len(reply, len) == len ? smtp_reply_valid(reply, len) : 0 ;
  if (!h->code) return fail(h, "malformed reply") ;
  switch (h->step)
  {
    case HS_GREETING :
      if (!smtp_reply_fits(SMTP_ANSWERS_GREETING, h->code)) return fail(h, "not a greeting") ;
      if (!h->xclient) { h->step = HS_DONE ; return HS_NEXT_PASS ; }
      if (h->code != 220) return fail(h, "greeting refused") ;
    {
      size_t n = strlen(h->helo) ;
      if (7 + n > room || 7 + n > HANDSHAKE_LINE_MAX) return fail(h, "EHLO name too long") ;
      memcpy(out, "EHLO ", 5) ;
      memcpy(out + 5, h->helo, n) ;
      memcpy(out + 5 + n, "\r\n", 2) ;
      *outlen = 7 + n ;
      h->step = HS_EHLO ;
      return HS_NEXT_SEND ;
    }
    case HS_EHLO :
    {
      unsigned int attrs ;
      if (h->code != 250) return fail(h, "EHLO refused") ;
      if (!xclient_offered(reply, len, &attrs)) return fail(h, "XCLIENT not offered") ;
      if (!(attrs & XCLIENT_ADDR) || !(attrs & XCLIENT_NAME)) return fail(h, "XCLIENT without ADDR or NAME") ;
      *outlen = xclient_command(out, room, attrs, &h->ip, h->port, h->name) ;
      if (!*outlen) return fail(h, "XCLIENT line would not fit") ;
      h->step = HS_XCLIENT ;
      return HS_NEXT_SEND ;
    }
    case HS_XCLIENT :
      if (h->code != 220) return fail(h, "XCLIENT refused") ;
      h->step = HS_DONE ;
      return HS_NEXT_PASS ;
    default :
      return fail(h, "reply after the handshake") ;
  }
}
