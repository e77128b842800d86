/* screen-load: the clients of bench/screen-bench.
 *
 *   screen-load pregreet srcip ip port secs conc
 *     conc processes, each for secs seconds: connect from srcip, send
 *     EHLO, MAIL, RCPT and QUIT at once (talking first), read until the
 *     server closes (at most 10 s). Prints "done N refused R" (R: the
 *     sessions whose answers held a 4xx or 5xx).
 *   screen-load session srcip ip port n
 *     n sessions one after another: connect, read up to the "220 " line
 *     (the time to it), then EHLO, MAIL, RCPT, DATA, a line, ".", QUIT,
 *     each answer waited for, until the close. Prints "n N greet_us G
 *     session_us S": the mean time to "220 " and to the close. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in src, dst ;

static double now (void)
{
  struct timespec t ;
  clock_gettime(CLOCK_MONOTONIC, &t) ;
  return t.tv_sec + t.tv_nsec / 1e9 ;
}

static int dial (void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0) ;
  int one = 1 ;
  if (fd < 0) return -1 ;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ;
  if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0
   || connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) { close(fd) ; return -1 ; }
  return fd ;
}

/* reads into b (size n, kept NUL-terminated) until a line starting with
   "ddd " ends, or EOF/timeout; returns the bytes held or -1 */
static int upto_reply (int fd, char *b, size_t n, size_t *have)
{
  for (;;)
  {
    char *p = b ;
    struct pollfd pf = { fd, POLLIN, 0 } ;
    ssize_t r ;
    while ((p = strstr(p, "\r\n")))
    {
      char *line = p ;
      while (line > b && line[-1] != '\n') line-- ;
      if (line + 4 <= p && line[3] == ' ') return 1 ;
      p += 2 ;
    }
    if (*have + 1 >= n) return -1 ;
    if (poll(&pf, 1, 10000) <= 0) return -1 ;
    r = read(fd, b + *have, n - 1 - *have) ;
    if (r <= 0) return 0 ;
    *have += r ; b[*have] = 0 ;
  }
}

static int command (int fd, char const *cmd, char *b, size_t n)
{
  size_t have = 0 ;
  b[0] = 0 ;
  if (cmd && write(fd, cmd, strlen(cmd)) < 0) return -1 ;
  return upto_reply(fd, b, n, &have) ;
}

int main (int argc, char **argv)
{
  char b[8192] ;
  if (argc < 6) { fputs("usage: screen-load pregreet|session srcip ip port ...\n", stderr) ; return 100 ; }
  src.sin_family = dst.sin_family = AF_INET ;
  inet_pton(AF_INET, argv[2], &src.sin_addr) ;
  inet_pton(AF_INET, argv[3], &dst.sin_addr) ;
  dst.sin_port = htons(atoi(argv[4])) ;
  if (!strcmp(argv[1], "pregreet") && argc == 7)
  {
    double secs = atof(argv[5]) ;
    int conc = atoi(argv[6]), i ;
    long *count = mmap(0, 2 * conc * sizeof(long), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) ;
    long done = 0, refused = 0 ;
    if (count == MAP_FAILED) return 111 ;
    for (i = 0 ; i < conc ; i++) if (!fork())
    {
      double end = now() + secs ;
      while (now() < end)
      {
        static char const talk[] = "EHLO x\r\nMAIL FROM:<a@bench.test>\r\nRCPT TO:<b@bench.test>\r\nQUIT\r\n" ;
        size_t have = 0 ;
        int fd = dial() ;
        if (fd < 0) { usleep(1000) ; continue ; }
        if (write(fd, talk, sizeof talk - 1) > 0)
        {
          struct pollfd pf = { fd, POLLIN, 0 } ;
          ssize_t r ;
          while (poll(&pf, 1, 10000) > 0 && (r = read(fd, b + have, sizeof b - 1 - have)) > 0)
            if ((have += r) >= sizeof b - 1) have = 0 ;
          b[have] = 0 ;
          count[2 * i]++ ;
          if (strstr(b, "\n4") || strstr(b, "\n5") || b[0] == '4' || b[0] == '5') count[2 * i + 1]++ ;
        }
        close(fd) ;
      }
      _exit(0) ;
    }
    while (wait(0) > 0) ;
    for (i = 0 ; i < conc ; i++) { done += count[2 * i] ; refused += count[2 * i + 1] ; }
    printf("done %ld refused %ld\n", done, refused) ;
    return 0 ;
  }
  if (!strcmp(argv[1], "session") && argc == 6)
  {
    int n = atoi(argv[5]), i, ok = 0 ;
    double greet = 0, session = 0 ;
    static char const *cmds[] = { "EHLO bench.test\r\n", "MAIL FROM:<a@bench.test>\r\n",
      "RCPT TO:<b@bench.test>\r\n", "DATA\r\n", "Subject: bench\r\n\r\nbody\r\n.\r\n", "QUIT\r\n", 0 } ;
    for (i = 0 ; i < n ; i++)
    {
      double t0 = now(), t1 ;
      int fd = dial(), j ;
      if (fd < 0) { perror("screen-load: connect") ; return 111 ; }
      if (command(fd, 0, b, sizeof b) != 1 || !strstr(b, "220 ")) { fprintf(stderr, "screen-load: no greeting: %s\n", b) ; close(fd) ; continue ; }
      t1 = now() ;
      for (j = 0 ; cmds[j] ; j++) if (command(fd, cmds[j], b, sizeof b) != 1) break ;
      if (cmds[j]) { fprintf(stderr, "screen-load: session ended early: %s\n", b) ; close(fd) ; continue ; }
      while (read(fd, b, sizeof b) > 0) ;
      close(fd) ;
      greet += t1 - t0 ; session += now() - t0 ; ok++ ;
    }
    if (!ok) return 111 ;
    printf("n %d greet_us %.1f session_us %.1f\n", ok, greet / ok * 1e6, session / ok * 1e6) ;
    return 0 ;
  }
  fputs("usage: screen-load pregreet|session srcip ip port ...\n", stderr) ;
  return 100 ;
}
