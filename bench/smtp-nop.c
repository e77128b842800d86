/* smtp-nop: the least SMTP server: "220 " at once on fd 1, then 250 to
 * every command line on fd 0 (354 to DATA, 250 after the message's
 * dot), 221 to QUIT and exit. bench/screen-bench links it statically and
 * puts it at the end of the chain a client reaches, so that the time to
 * the "220 " line and a short session measure the front (smtp-screen's
 * hand-off, tcpserver's fork and exec) and not a real server. */
#include <string.h>
#include <unistd.h>

static char buf[4096] ;
static size_t len ;

static void say (char const *s) { if (write(1, s, strlen(s)) < 0) _exit(111) ; }

int main (void)
{
  int data = 0 ;
  say("220 smtp-nop ESMTP\r\n") ;
  for (;;)
  {
    char *nl ;
    ssize_t r ;
    while ((nl = memchr(buf, '\n', len)))
    {
      size_t n = nl + 1 - buf ;
      if (data) { if (n <= 3 && buf[0] == '.') { data = 0 ; say("250 ok\r\n") ; } }
      else if (!strncasecmp(buf, "QUIT", 4)) { say("221 bye\r\n") ; return 0 ; }
      else if (!strncasecmp(buf, "DATA", 4)) { data = 1 ; say("354 go\r\n") ; }
      else say("250 ok\r\n") ;
      memmove(buf, buf + n, len - n) ; len -= n ;
    }
    if (len == sizeof buf) len = 0 ;
    r = read(0, buf + len, sizeof buf - len) ;
    if (r <= 0) return 0 ;
    len += r ;
  }
}
