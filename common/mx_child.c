/* mx_child: see mx_child.h. */
#include "mx_child.h"
#include "mx_secs.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

/* how long the child may take to leave once its input has ended */
#define CHILD_EXIT_MS 10000

int mx_child_end (pid_t pid, int fromchild)
{
  long long t0 = mx_now_ms() ;
  int status = 0, sig = 0 ;
  for (;;)
  {
    char buf[4096] ;
    pid_t r = waitpid(pid, &status, WNOHANG) ;
    if (r == pid || (r < 0 && errno != EINTR)) return status ;
    if (!sig && mx_now_ms() - t0 > CHILD_EXIT_MS) { kill(pid, SIGTERM) ; sig = SIGTERM ; }
    else if (sig == SIGTERM && mx_now_ms() - t0 > CHILD_EXIT_MS + 2000) { kill(pid, SIGKILL) ; sig = SIGKILL ; }
    if (fromchild >= 0)
    {
      struct pollfd x = { .fd = fromchild, .events = POLLIN } ;
      if (poll(&x, 1, 20) > 0 && read(fromchild, buf, sizeof buf) == 0) { close(fromchild) ; fromchild = -1 ; }
    }
    else usleep(20000) ;
  }
}

