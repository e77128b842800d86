/* mx_child: see mx_child.h. */
#include "mx_child.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

/* how long the child may take to leave once its input has ended */
#define CHILD_EXIT_MS 10000

static long long ms_since (struct timespec const *t0)
{
  struct timespec t ;
  clock_gettime(CLOCK_MONOTONIC, &t) ;
  return (long long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000 ;
}

int mx_child_end (pid_t pid, int fromchild)
{
  struct timespec t0 ;
  int status = 0, sig = 0 ;
  clock_gettime(CLOCK_MONOTONIC, &t0) ;
  for (;;)
  {
    char buf[4096] ;
    pid_t r = waitpid(pid, &status, WNOHANG) ;
    if (r == pid || (r < 0 && errno != EINTR)) return status ;
    if (!sig && ms_since(&t0) > CHILD_EXIT_MS) { kill(pid, SIGTERM) ; sig = SIGTERM ; }
    else if (sig == SIGTERM && ms_since(&t0) > CHILD_EXIT_MS + 2000) { kill(pid, SIGKILL) ; sig = SIGKILL ; }
    if (fromchild >= 0)
    {
      struct pollfd x = { .fd = fromchild, .events = POLLIN } ;
      if (poll(&x, 1, 20) > 0 && read(fromchild, buf, sizeof buf) == 0) { close(fromchild) ; fromchild = -1 ; }
    }
    else usleep(20000) ;
  }
}

