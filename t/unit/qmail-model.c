/* qmail-model: see qmail-model.h. */
#include "qmail-model.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ip.c ip_scan: "i = scan_ulong(s,&u); if (!i) return 0; ip->d[0] = u;"
   four times with "if (*s != '.') return 0;" between: any number of
   digits, each part kept modulo 256 (d[] is unsigned char).
   ip_scanbracket: "if (*s != '[') return 0; ... if (s[len + 1] != ']')
   return 0; return len + 2;". Returns the length scanned, or 0. */
static size_t qmail_ip_scanbracket (char const *s, unsigned char ip[4])
{
  size_t n = 1 ;
  int part ;
  if (s[0] != '[') return 0 ;
  for (part = 0 ; part < 4 ; part++)
  {
    unsigned int u = 0 ;
    size_t digits = 0 ;
    if (part) { if (s[n] != '.') return 0 ; n++ ; }
    while (isdigit((unsigned char)s[n])) { u = (u * 10 + (unsigned int)(s[n] - '0')) & 255 ; n++ ; digits++ ; }
    if (!digits) return 0 ;
    ip[part] = (unsigned char)u ;
  }
  if (s[n] != ']') return 0 ;
  return n + 1 ;
}

/* ipme.c ipme_init: "byte_copy(&ix.ip,4,"\0\0\0\0")" always, then the
   addresses of the interfaces that are up: on every host at least lo,
   127.0.0.1. */
static int qmail_ipme_is (unsigned char const ip[4])
{
  static unsigned char const zero[4] = { 0, 0, 0, 0 }, lo[4] = { 127, 0, 0, 1 } ;
  return !memcmp(ip, zero, 4) || !memcmp(ip, lo, 4) ;
}

int qmail_model_addrparse (char const *form, size_t len, char *out)
{
  char cmd[2048], addr[4096], *arg, *at ;
  size_t n = 0, i ;
  char terminator = '>' ;
  int esc = 0, quoted = 0 ;
  unsigned char ip[4] ;
  if (len >= sizeof cmd) return 0 ;
  /* commands.c: "if (cmd.len > 0) if (cmd.s[cmd.len - 1] == '\r')
     --cmd.len;" then "cmd.s[cmd.len] = 0": from here on C strings, so
     a NUL ends the line */
  memcpy(cmd, form, len) ;   /* the form; the CR of its CRLF is gone */
  cmd[len] = 0 ;
  /* commands.c: "i = str_chr(cmd.s,' '); arg = cmd.s + i; while (*arg
     == ' ') ++arg; cmd.s[i] = 0;" and "case_equals(c[i].text,cmd.s)" */
  arg = strchr(cmd, ' ') ;
  if (arg) { *arg++ = 0 ; while (*arg == ' ') arg++ ; }
  else arg = cmd + strlen(cmd) ;
  if (strcasecmp(cmd, "rcpt")) return 0 ;              /* err_unimpl: 502 */
  /* qmail-smtpd.c addrparse: "i = str_chr(arg,'<'); if (arg[i]) arg += i
     + 1; else { terminator = ' '; arg += str_chr(arg,':'); if (*arg ==
     ':') ++arg; while (*arg == ' ') ++arg; }" */
  if (strchr(arg, '<')) arg = strchr(arg, '<') + 1 ;
  else
  {
    terminator = ' ' ;
    arg += strcspn(arg, ":") ;
    if (*arg == ':') arg++ ;
    while (*arg == ' ') arg++ ;
  }
  /* "if (*arg == '@') while (*arg) if (*arg++ == ':') break;" */
  if (*arg == '@') while (*arg) if (*arg++ == ':') break ;
  /* "if (!flagquoted && (ch == terminator)) break;", "case '\\':
     flagesc = 1", "case '"': flagquoted = !flagquoted" */
  for (i = 0 ; arg[i] ; i++)
  {
    char ch = arg[i] ;
    if (esc) { addr[n++] = ch ; esc = 0 ; continue ; }
    if (!quoted && ch == terminator) break ;
    if (ch == '\\') esc = 1 ;
    else if (ch == '"') quoted = !quoted ;
    else addr[n++] = ch ;
  }
  addr[n] = 0 ;
  /* "if (liphostok) { i = byte_rchr(addr.s,addr.len,'@'); ... if
     (addr.s[i + 1] == '[') if (!addr.s[i + 1 + ip_scanbracket(addr.s + i
     + 1,&ip)]) if (ipme_is(&ip)) { addr.len = i + 1; stralloc_cat(&addr,
     &liphost)" -- liphost defaults to control/me */
  at = strrchr(addr, '@') ;
  if (at && at[1] == '[')
  {
    size_t k = qmail_ip_scanbracket(at + 1, ip) ;
    if (k && !at[1 + k] && qmail_ipme_is(ip)) strcpy(at + 1, ME) ;
  }
  /* "if (addr.len > 900) return 0;" (addr.len counts the NUL): 555 */
  if (strlen(addr) + 1 > 900) return 0 ;
  strcpy(out, addr) ;
  return 1 ;
}

int qmail_model_queues (char const *form, size_t len, char *out)
{
  char addr[2048], *at ;
  size_t i ;
  if (!qmail_model_addrparse(form, len, addr)) return 0 ;
  /* rcpthosts.c: "j = byte_rchr(buf,len,'@'); if (j >= len) return 1;
     /\* presumably envnoathost is acceptable *\/", else the domain,
     "case_lowerb(buf,len)", must be listed: "553 sorry, that domain isn't
     in my list of allowed rcpthosts" */
  at = strrchr(addr, '@') ;
  if (at)
  {
    for (i = 1 ; at[i] ; i++) at[i] = (char)tolower((unsigned char)at[i]) ;
    if (!qmail_model_rcpthost(at + 1)) return 0 ;
    strcpy(out, addr) ;
  }
  else if (!*addr) strcpy(out, "") ;       /* an empty recipient: a bounce */
  else sprintf(out, "%s@%s", addr, ME) ;    /* qmail-send appends envnoathost */
  return 1 ;
}

