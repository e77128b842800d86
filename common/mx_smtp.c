/* mx_smtp: see mx_smtp.h. */
#include "mx_smtp.h"

#include <string.h>
#include <strings.h>

static int is_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ;
}

static struct { char const *name ; enum smtp_verb verb ; } const verbs[] =
{
  { "HELO", VERB_HELO }, { "EHLO", VERB_EHLO }, { "MAIL", VERB_MAIL },
  { "RCPT", VERB_RCPT }, { "DATA", VERB_DATA }, { "RSET", VERB_RSET },
  { "NOOP", VERB_NOOP }, { "QUIT", VERB_QUIT }, { "HELP", VERB_HELP },
  { "VRFY", VERB_VRFY }, { "AUTH", VERB_AUTH }, { "STARTTLS", VERB_STARTTLS },
  { "BDAT", VERB_BDAT },
} ;

enum smtp_verb smtp_verb (char const *line, size_t len, size_t *arg)
{
  char const *sp = memchr(line, ' ', len) ;
  size_t n = sp ? (size_t)(sp - line) : len, k ;
  *arg = sp ? n + 1 : len ;
  for (k = 0 ; k < sizeof verbs / sizeof *verbs ; k++)
    if (n == strlen(verbs[k].name) && !strncasecmp(line, verbs[k].name, n))
      return verbs[k].verb ;
  return VERB_UNKNOWN ;
}

int smtp_starttls_line (char const *line, size_t len)
{
  size_t i = 0 ;
  while (i < len && (line[i] == ' ' || line[i] == '\t')) i++ ;
  if (len - i < 8 || strncasecmp(line + i, "STARTTLS", 8)) return 0 ;
  if (i) return 2 ;
  for (i = 8 ; i < len ; i++) if (line[i] != ' ' && line[i] != '\t') return 2 ;
  return 1 ;
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

unsigned int smtp_reply_valid (char const *reply, size_t len)
{
  unsigned int code = smtp_reply_code(reply, len) ;
  size_t start = 0 ;
  if (code < 200 || code > 599) return 0 ;
  while (start < len)
  {
    char const *nl = memchr(reply + start, '\n', len - start) ;
    size_t end = nl ? (size_t)(nl - reply) : len, linelen = end - start ;
    if (linelen && reply[end - 1] == '\r') linelen-- ;
    if (linelen < 3 || memcmp(reply + start, reply, 3)) return 0 ;
    if (linelen > 3 && reply[start + 3] != ' ' && reply[start + 3] != '-') return 0 ;
    start = end + 1 ;
  }
  return code ;
}

/* the EHLO keywords kept, and the bit each one sets */
static struct { char const *name ; unsigned int bit ; } const extensions[] =
{
  { "PIPELINING", EXT_PIPELINING }, { "SIZE", EXT_SIZE }, { "8BITMIME", EXT_8BITMIME },
  { "ENHANCEDSTATUSCODES", EXT_ENHANCEDSTATUSCODES }, { "DSN", EXT_DSN },
  { "AUTH", EXT_AUTH }, { "HELP", EXT_HELP }, { "SMTPUTF8", EXT_SMTPUTF8 },
} ;

/* the bit of an EHLO line's keyword ("250-KEYWORD params"), 0 if the
   proxy does not understand it; "AUTH=LOGIN" is the old AUTH form */
static unsigned int extension (char const *line, size_t len)
{
  size_t n, i ;
  if (len < 4) return 0 ;
  line += 4 ; len -= 4 ;
  for (n = 0 ; n < len && is_alnum(line[n]) ; n++) ;
  if (n < len && line[n] != ' ' && line[n] != '\r' && line[n] != '\n'
   && !(line[n] == '=' && n == 4 && !strncasecmp(line, "AUTH", 4))) return 0 ;
  for (i = 0 ; i < sizeof extensions / sizeof *extensions ; i++)
    if (n == strlen(extensions[i].name) && !strncasecmp(line, extensions[i].name, n)) return extensions[i].bit ;
  return 0 ;
}

size_t smtp_ehlo_filter (char *reply, size_t len, unsigned int *offered)
{
  return smtp_ehlo_keep(reply, len, EXT_DEFAULT, offered) ;
}

size_t smtp_ehlo_keep (char *reply, size_t len, unsigned int keep, unsigned int *offered)
{
  size_t in = 0, out = 0, last = 0 ;
  int first = 1 ;
  *offered = 0 ;
  while (in < len)
  {
    char const *nl = memchr(reply + in, '\n', len - in) ;
    size_t n = nl ? (size_t)(nl - reply) + 1 - in : len - in ;
    unsigned int bit = first ? 0 : extension(reply + in, n) & keep ;
    /* the first line is the greeting, never an extension */
    if (first || bit)
    {
      memmove(reply + out, reply + in, n) ;
      last = out ;
      out += n ;
      *offered |= bit ;
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

int smtp_reply_fits (enum smtp_answers what, unsigned int code)
{
  unsigned int c = code / 100 ;
  switch (what)
  {
    case SMTP_ANSWERS_GREETING : return code == 220 || c == 4 || c == 5 ;
    case SMTP_ANSWERS_DATA : return code == 354 || c == 4 || c == 5 ;
    case SMTP_ANSWERS_AUTH : return code == 334 || c == 2 || c == 4 || c == 5 ;
    default : return c == 2 || c == 4 || c == 5 ;
  }
}

/* is this EHLO line ("250-KEYWORD ...", n bytes) STARTTLS? */
static int is_starttls (char const *line, size_t n)
{
  size_t k ;
  if (n < 12 || strncasecmp(line + 4, "STARTTLS", 8)) return 0 ;
  k = 12 ;
  return k == n || line[k] == ' ' || line[k] == '\r' || line[k] == '\n' ;
}

/* every line but the last continues */
static void continuation_marks (char *reply, size_t len)
{
  size_t p = 0, last = 0 ;
  while (p < len)
  {
    char const *nl = memchr(reply + p, '\n', len - p) ;
    size_t n = nl ? (size_t)(nl - reply) + 1 - p : len - p ;
    last = p ;
    p += n ;
  }
  p = 0 ;
  while (p < len)
  {
    char const *nl = memchr(reply + p, '\n', len - p) ;
    size_t n = nl ? (size_t)(nl - reply) + 1 - p : len - p ;
    if (n >= 5 && (reply[p + 3] == '-' || reply[p + 3] == ' ')) reply[p + 3] = p == last ? ' ' : '-' ;
    p += n ;
  }
}

size_t smtp_ehlo_starttls (char *reply, size_t len, size_t room, int add)
{
  static char const line[] = "250-STARTTLS\r\n" ;
  size_t in = 0, out = 0, first = 0 ;
  if (!len) return 0 ;
  while (in < len)
  {
    char const *nl = memchr(reply + in, '\n', len - in) ;
    size_t n = nl ? (size_t)(nl - reply) + 1 - in : len - in ;
    if (!in) first = n ;
    if (!in || !is_starttls(reply + in, n))
    {
      memmove(reply + out, reply + in, n) ;
      out += n ;
    }
    in += n ;
  }
  if (add)
  {
    if (out + sizeof line - 1 > room) return 0 ;
    if (first && reply[first - 1] != '\n') return 0 ;   /* a greeting line without its end */
    memmove(reply + first + sizeof line - 1, reply + first, out - first) ;
    memcpy(reply + first, line, sizeof line - 1) ;
    out += sizeof line - 1 ;
  }
  continuation_marks(reply, out) ;
  return out ;
}

/* the MAIL and RCPT parameters the proxy lets through, by extension */
static struct { char const *name ; unsigned int bit ; int rcpt ; } const parameters[] =
{
  { "SIZE", EXT_SIZE, 0 }, { "BODY", EXT_8BITMIME, 0 }, { "AUTH", EXT_AUTH, 0 },
  { "RET", EXT_DSN, 0 }, { "ENVID", EXT_DSN, 0 },
  { "NOTIFY", EXT_DSN, 1 }, { "ORCPT", EXT_DSN, 1 }, { "SMTPUTF8", EXT_SMTPUTF8, 0 },
} ;

/* one "KEYWORD[=VALUE]" (n bytes) */
static int parameter_ok (char const *s, size_t n, unsigned int offered, int rcpt)
{
  char const *eq = memchr(s, '=', n) ;
  size_t k = eq ? (size_t)(eq - s) : n, i ;
  if (!k || !is_alnum(s[0])) return 0 ;
  for (i = 1 ; i < k ; i++) if (!is_alnum(s[i]) && s[i] != '-') return 0 ;
  if (eq)
  {
    /* esmtp-value: 1*(%d33-60 / %d62-126), less the bytes that start or
       end a path or quote: qmail-smtpd takes the address from the first
       '<' on the line, wherever it is (ORCPT=<x> after a bare path) */
    if (k + 1 == n) return 0 ;
    if (!rcpt && k == 4 && n == 7 && !strncasecmp(s, "AUTH=<>", 7)) return !!(offered & EXT_AUTH) ;   /* RFC 4954 5 */
    for (i = k + 1 ; i < n ; i++)
      if (s[i] < 33 || s[i] > 126 || s[i] == '=' || s[i] == '<' || s[i] == '>' || s[i] == '"' || s[i] == '\\') return 0 ;
  }
  for (i = 0 ; i < sizeof parameters / sizeof *parameters ; i++)
    if (parameters[i].rcpt == rcpt && (offered & parameters[i].bit)
     && k == strlen(parameters[i].name) && !strncasecmp(s, parameters[i].name, k))
    {
      if (parameters[i].bit == EXT_SMTPUTF8) return !eq ;   /* RFC 6531 3.4: no value */
      /* BODY=BINARYMIME needs CHUNKING, which is never offered */
      if (parameters[i].bit == EXT_8BITMIME)
        return eq && ((n - k - 1 == 4 && !strncasecmp(eq + 1, "7BIT", 4))
                   || (n - k - 1 == 8 && !strncasecmp(eq + 1, "8BITMIME", 8))) ;
      return 1 ;
    }
  return 0 ;
}

int smtp_params_ok (char const *s, size_t len, unsigned int offered, int rcpt)
{
  size_t i = 0 ;
  while (i < len)
  {
    char const *sp ;
    size_t n ;
    if (s[i] == ' ') { i++ ; continue ; }
    sp = memchr(s + i, ' ', len - i) ;
    n = (sp ? (size_t)(sp - s) : len) - i ;
    if (!parameter_ok(s + i, n, offered, rcpt)) return 0 ;
    i += n ;
  }
  return 1 ;
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
