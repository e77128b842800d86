/* smtp: see smtp.h. */
#include "smtp.h"

#include <string.h>
#include <strings.h>

static int is_blank (char c) { return c == ' ' || c == '\t' ; }

static int is_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ;
}

/* A verb is matched on its letters alone, whatever follows that is not
   a letter or digit: "RCPT\tTO:" or "rcpt:" are checked as RCPT even if
   the child would refuse them. Being stricter than every server can
   cost an extra refusal; being looser would let a recipient past the
   check. */
static struct { char const *name ; enum smtp_verb verb ; } const verbs[] =
{
  { "RCPT", VERB_RCPT }, { "DATA", VERB_DATA }, { "AUTH", VERB_AUTH },
  { "EHLO", VERB_EHLO }, { "QUIT", VERB_QUIT }, { "STARTTLS", VERB_STARTTLS },
  { "BDAT", VERB_BDAT },
} ;

enum smtp_verb smtp_verb (char const *line, size_t len, size_t *arg)
{
  size_t i = 0, k ;
  while (i < len && is_blank(line[i])) i++ ;
  for (k = 0 ; k < sizeof verbs / sizeof *verbs ; k++)
  {
    size_t n = strlen(verbs[k].name) ;
    if (len - i >= n && !strncasecmp(line + i, verbs[k].name, n)
     && (len - i == n || !is_alnum(line[i + n])))
    {
      i += n ;
      while (i < len && is_blank(line[i])) i++ ;
      *arg = i ;
      return verbs[k].verb ;
    }
  }
  *arg = len ;
  return VERB_OTHER ;
}

size_t smtp_reply_len (char const *buf, size_t len)
{
  size_t start = 0 ;
  while (start < len)
  {
    char const *nl = memchr(buf + start, '\n', len - start) ;
    size_t end, linelen ;
    if (!nl) return 0 ;
    end = (size_t)(nl - buf) ;
    linelen = end - start ;
    if (linelen && buf[end - 1] == '\r') linelen-- ;
    if (linelen < 4 || buf[start + 3] != '-') return end + 1 ;
    start = end + 1 ;
  }
  return 0 ;
}

unsigned int smtp_reply_code (char const *reply, size_t len)
{
  unsigned int code = 0 ;
  size_t i ;
  if (len < 3) return 0 ;
  for (i = 0 ; i < 3 ; i++)
  {
    if (reply[i] < '0' || reply[i] > '9') return 0 ;
    code = code * 10 + (unsigned int)(reply[i] - '0') ;
  }
  return code ;
}

static int unproxyable (char const *line, size_t len)
{
  static char const *const names[] = { "STARTTLS", "CHUNKING", "BINARYMIME" } ;
  size_t i, n ;
  if (len < 4) return 0 ;
  line += 4 ; len -= 4 ;
  for (n = 0 ; n < len && line[n] != ' ' && line[n] != '\r' && line[n] != '\n' ; n++) ;
  for (i = 0 ; i < sizeof names / sizeof *names ; i++)
    if (n == strlen(names[i]) && !strncasecmp(line, names[i], n)) return 1 ;
  return 0 ;
}

size_t smtp_ehlo_filter (char *reply, size_t len)
{
  size_t in = 0, out = 0, last = 0 ;
  int first = 1 ;
  while (in < len)
  {
    char const *nl = memchr(reply + in, '\n', len - in) ;
    size_t n = nl ? (size_t)(nl - reply) + 1 - in : len - in ;
    /* the first line is the greeting, never an extension */
    if (first || !unproxyable(reply + in, n))
    {
      memmove(reply + out, reply + in, n) ;
      last = out ;
      out += n ;
    }
    first = 0 ;
    in += n ;
  }
  /* every kept line but the last continues */
  {
    size_t p = 0 ;
    while (p < out)
    {
      char const *nl = memchr(reply + p, '\n', out - p) ;
      size_t n = nl ? (size_t)(nl - reply) + 1 - p : out - p ;
      if (n >= 4 + 1 && (reply[p + 3] == '-' || reply[p + 3] == ' '))
        reply[p + 3] = p == last ? ' ' : '-' ;
      p += n ;
    }
  }
  return out ;
}

/* where the scan stands, from what came last */
enum { MID, CR, BOL_CRLF, BOL_LF, DOT_CRLF, DOT_LF, DOTCR_CRLF, DOTCR_LF } ;

void datascan_start (datascan *d)
{
  d->state = BOL_CRLF ;
}

enum datascan_result datascan_run (datascan *d, char const *buf, size_t len, size_t *used)
{
  int st = d->state ;
  size_t i = 0 ;
  while (i < len)
  {
    char c ;
    if (st == MID)
    {
      /* the common case: skip to the end of the line at memchr speed.
         In MID the byte before i is not a CR, so a CR before the LF
         can only lie inside [i, nl) */
      char const *nl = memchr(buf + i, '\n', len - i) ;
      size_t j ;
      if (!nl)
      {
        st = buf[len - 1] == '\r' ? CR : MID ;
        i = len ;
        break ;
      }
      j = (size_t)(nl - buf) ;
      st = j > i && buf[j - 1] == '\r' ? BOL_CRLF : BOL_LF ;
      i = j + 1 ;
      continue ;
    }
    c = buf[i++] ;
    switch (st)
    {
      case CR :
        st = c == '\n' ? BOL_CRLF : c == '\r' ? CR : MID ;
        break ;
      case BOL_CRLF :
      case BOL_LF :
        st = c == '.' ? (st == BOL_CRLF ? DOT_CRLF : DOT_LF)
           : c == '\r' ? CR : c == '\n' ? BOL_LF : MID ;
        break ;
      case DOT_CRLF :
      case DOT_LF :
        if (c == '\n') goto bare ;   /* CRLF . LF, LF . LF */
        st = c == '\r' ? (st == DOT_CRLF ? DOTCR_CRLF : DOTCR_LF) : MID ;
        break ;
      case DOTCR_CRLF :
        if (c == '\n')
        {
          d->state = BOL_CRLF ;
          *used = i ;
          return DATASCAN_END ;
        }
        st = c == '\r' ? CR : MID ;
        break ;
      case DOTCR_LF :
        if (c == '\n') goto bare ;   /* LF . CRLF */
        st = c == '\r' ? CR : MID ;
        break ;
    }
  }
  d->state = st ;
  *used = len ;
  return DATASCAN_MORE ;

 bare:
  d->state = st ;
  *used = i - 1 ;   /* everything before the LF that would end the data */
  return DATASCAN_BARE ;
}
