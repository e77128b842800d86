/* relay-nop: runs the rest of its command line on two pipes and copies
 * bytes between them and fds 0 and 1, reading nothing of what it copies.
 * bench/chain-bench links it statically and puts it where rcptchecks
 * stands, to measure what any relaying link costs (one more process
 * and two more hops for every exchange) before it does any work. It
 * starts its child as rcptchecks does (vfork and execvp). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int put (int fd, char const *s, ssize_t n)
{
  while (n > 0)
  {
    ssize_t w = write(fd, s, n) ;
    if (w < 0) { if (errno == EINTR) continue ; return 0 ; }
    s += w ; n -= w ;
  }
  return 1 ;
}

int main (int argc, char **argv)
{
  int tochild[2], fromchild[2] ;
  struct pollfd p[2] ;
  char buf[65536] ;
  pid_t pid ;
  if (argc < 2) { fputs("usage: relay-nop prog...\n", stderr) ; return 100 ; }
  if (pipe(tochild) < 0 || pipe(fromchild) < 0) { perror("relay-nop: pipe") ; return 111 ; }
  pid = vfork() ;
  if (pid < 0) { perror("relay-nop: vfork") ; return 111 ; }
  if (!pid)
  {
    if (dup2(tochild[0], 0) < 0 || dup2(fromchild[1], 1) < 0) _exit(111) ;
    close(tochild[0]) ; close(tochild[1]) ; close(fromchild[0]) ; close(fromchild[1]) ;
    execvp(argv[1], argv + 1) ;
    _exit(111) ;
  }
  close(tochild[0]) ; close(fromchild[1]) ;
  signal(SIGPIPE, SIG_IGN) ;
  p[0].fd = 0 ; p[0].events = POLLIN ;
  p[1].fd = fromchild[0] ; p[1].events = POLLIN ;
  for (;;)
  {
    ssize_t n ;
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue ; break ; }
    if (p[0].revents)
    {
      n = read(0, buf, sizeof buf) ;
      if (n > 0) { if (!put(tochild[1], buf, n)) break ; }
      else if (n == 0 || errno != EINTR) { close(tochild[1]) ; p[0].fd = -1 ; }
    }
    if (p[1].revents)
    {
      n = read(fromchild[0], buf, sizeof buf) ;
      if (n > 0) { if (!put(1, buf, n)) break ; }
      else if (n == 0 || errno != EINTR) break ;
    }
  }
  close(1) ;
  while (waitpid(pid, 0, 0) < 0 && errno == EINTR) ;
  return 0 ;
}
