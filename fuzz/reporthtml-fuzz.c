/* reporthtml-fuzz: libFuzzer harness for mxguard-report -H: arbitrary
 * log text through the line parser and the counts (report/collect.h)
 * into the page writer (report/html.h), and arbitrary bytes through
 * html_text(). The first byte picks the top rows (-n) and the key limit
 * (-m, small so that tables fill), the first line is a file name shown
 * on the page (any bytes), the rest is the log.
 * Invariants: the page is UTF-8 and its markup is the writer's own:
 * every '<' opens or closes an element of a fixed list, with attributes
 * of a fixed list (no on*), each value double-quoted; elements nest;
 * text and values hold no raw '<', '>', '"' or '\'', every '&' begins
 * an entity of the writer's list, no control character but LF. What
 * html_text() makes of arbitrary bytes holds none of these either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mx_utf8.h"
#include "collect.h"
#include "html.h"

extern int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size) ;

char const *PROG = "reporthtml-fuzz" ;

static void check (int cond) { if (!cond) abort() ; }

static char *page ;
static size_t len, room ;

static void put (char const *s, size_t n)
{
  if (len + n > room)
  {
    size_t r = (len + n) * 2 ;
    char *p = realloc(page, r) ;
    check(!!p) ;
    page = p ; room = r ;
  }
  memcpy(page + len, s, n) ;
  len += n ;
}

static char const *const tags[] = { "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "section", "table",
  "caption", "thead", "tbody", "tr", "th", "td", "code", "svg", "g", "rect", "text", "line", 0 } ;
static char const *const attrs[] = { "class", "lang", "charset", "name", "content", "scope", "colspan", "role", "aria-label",
  "width", "height", "viewBox", "x", "y", "x1", "y1", "x2", "y2", "fill", "stroke", "font-size", "font-weight",
  "text-anchor", "transform", 0 } ;
static char const *const entities[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;", 0 } ;

static int listed (char const *const *list, char const *s, size_t n)
{
  for (; *list ; list++) if (strlen(*list) == n && !memcmp(*list, s, n)) return 1 ;
  return 0 ;
}

/* well-formed UTF-8 by RFC 3629: mx_utf8_kind, which fuzz/utf8-fuzz
   holds to a reference written by arithmetic */
static int utf8ok (unsigned char const *s, size_t n)
{
  return mx_utf8_kind((char const *)s, n) != MX_UTF8_BAD ;
}

/* a byte of text or of a value at s[i]: its length (an entity's), 0 if
   it may not stand there */
static size_t textbyte (char const *s, size_t n, size_t i)
{
  unsigned char c = (unsigned char)s[i] ;
  if (c == '<' || c == '>' || c == '"' || c == '\'' || c == 0x7f || (c < 0x20 && c != '\n')) return 0 ;
  if (c == '&')
  {
    char const *const *e ;
    for (e = entities ; *e ; e++)
      if (n - i >= strlen(*e) && !memcmp(s + i, *e, strlen(*e))) return strlen(*e) ;
    return 0 ;
  }
  return 1 ;
}

static int isname (char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ; }

static void markup (char const *s, size_t n)
{
  static char const doctype[] = "<!DOCTYPE html>\n" ;
  char const *stack[64] ;
  size_t stacklen[64], depth = 0, i = sizeof doctype - 1 ;
  check(n > i && !memcmp(s, doctype, i)) ;
  while (i < n)
  {
    size_t k, name, namelen ;
    int closing = 0 ;
    if (s[i] != '<') { k = textbyte(s, n, i) ; check(k > 0) ; i += k ; continue ; }
    i++ ;
    if (i < n && s[i] == '/') { closing = 1 ; i++ ; }
    for (name = i ; i < n && isname(s[i]) ; i++) ;
    namelen = i - name ;
    check(listed(tags, s + name, namelen)) ;
    while (i < n && s[i] == ' ' && !closing)
    {
      size_t a = ++i ;
      while (i < n && isname(s[i])) i++ ;
      check(listed(attrs, s + a, i - a)) ;
      check(i + 1 < n && s[i] == '=' && s[i + 1] == '"') ;
      i += 2 ;
      while (i < n && s[i] != '"') { k = textbyte(s, n, i) ; check(k > 0 && s[i] != '\n') ; i += k ; }
      check(i < n) ;
      i++ ;
    }
    check(i < n && s[i] == '>') ;
    i++ ;
    if (closing)
    {
      check(depth > 0 && stacklen[depth - 1] == namelen && !memcmp(stack[depth - 1], s + name, namelen)) ;
      depth-- ;
    }
    else if (!(namelen == 4 && !memcmp(s + name, "meta", 4)))
    {
      check(depth < 64) ;
      stack[depth] = s + name ; stacklen[depth] = namelen ; depth++ ;
    }
  }
  check(!depth) ;
}

int LLVMFuzzerTestOneInput (uint8_t const *data, size_t size)
{
  char const *s = (char const *)data, *nl ;
  char name[256] ;
  char const *files[1] = { name } ;
  size_t top, max, i ;
  if (!size) return 0 ;
  top = data[0] % 4 ;
  max = 1 + (data[0] >> 2) % 16 ;
  s++ ; size-- ;
  nl = memchr(s, '\n', size) ;
  i = nl ? (size_t)(nl - s) : 0 ;
  if (i >= sizeof name) i = sizeof name - 1 ;
  memcpy(name, s, i) ; name[i] = 0 ;

  /* the page */
  collect_init(max) ;
  collect_feed(s, size) ;
  collect_end() ;
  len = 0 ;
  html_page(&put, top, max, files, i ? 1 : 0) ;
  check(utf8ok((unsigned char const *)page, len)) ;
  markup(page, len) ;

  /* arbitrary bytes as text */
  len = 0 ;
  html_text(&put, s, size) ;
  check(utf8ok((unsigned char const *)page, len)) ;
  for (i = 0 ; i < len ; )
  {
    size_t k = textbyte(page, len, i) ;
    check(k > 0 && page[i] != '\n') ;
    i += k ;
  }
  collect_init(max) ;   /* frees the tables */
  return 0 ;
}
