/* mx_child: see mx_child.h. */
#define _GNU_SOURCE   /* pipe2, F_DUPFD_CLOEXEC (POSIX 2024, not yet in _XOPEN_SOURCE=700) */
#include "mx_child.h"
#include "mx_secs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* posix_spawn (skalibs' child_spawn2) costs the child about 130 system
   calls before its exec: glibc's child sets every signal's disposition
   (two rt_sigaction each), and skalibs validates each file action
   against RLIMIT_NOFILE. Here the child only moves two descriptors and
   execs; the parent, suspended by vfork until then, learns of a failed
   exec from the memory they share. */
static volatile int spawn_errno ;

/* fd onto target in the vfork child: dup2 clears close-on-exec */
static int child_fd (int fd, int target)
{
  return fd == target ? fcntl(fd, F_SETFD, 0) : dup2(fd, target) ;
}

pid_t mx_child_spawn (char const *const *argv, int fds[2])
{
  int in[2], out[2], e ;
  pid_t pid ;
  sigset_t none ;
  if (pipe2(in, O_CLOEXEC) < 0) return 0 ;
  if (pipe2(out, O_CLOEXEC) < 0) { e = errno ; close(in[0]) ; close(in[1]) ; errno = e ; return 0 ; }
  sigemptyset(&none) ;
  spawn_errno = 0 ;
  pid = vfork() ;
  if (pid < 0) { e = errno ; goto fail ; }
  if (!pid)
  {
    /* the child's fd 0 is in[0]; out[1] may be 0 itself if fd 0 was
       closed: move it out of the way first */
    if (out[1] == 0 && (out[1] = fcntl(0, F_DUPFD_CLOEXEC, 3)) < 0) { spawn_errno = errno ; _exit(127) ; }
    if (child_fd(in[0], 0) < 0 || child_fd(out[1], 1) < 0) { spawn_errno = errno ; _exit(127) ; }
    /* the proxies ignore SIGPIPE; an ignored signal stays ignored
       across exec, and the server expects the default (posix_spawn's
       SETSIGDEF reset it). vfork shares memory, not signal actions. */
    signal(SIGPIPE, SIG_DFL) ;
    sigprocmask(SIG_SETMASK, &none, 0) ;
    execvp(argv[0], (char *const *)argv) ;
    spawn_errno = errno ? errno : ENOEXEC ;
    _exit(127) ;
  }
  if (spawn_errno)
  {
    e = spawn_errno ;
    waitpid(pid, 0, 0) ;
    goto fail ;
  }
  close(in[0]) ; close(out[1]) ;
  fds[0] = out[0] ; fds[1] = in[1] ;
  return pid ;
 fail:
  close(in[0]) ; close(in[1]) ; close(out[0]) ; close(out[1]) ;
  errno = e ;
  return 0 ;
}

/* how long the child may take to leave once its input has ended */
#define CHILD_EXIT_MS 10000

int mx_child_end (pid_t pid, int fromchild)
{
  long long t0 = mx_now_ms() ;
  int status = 0, sig = 0 ;
  /* readable once the child has exited: waited for, not polled for
     every 20 ms (which kept a session's process, and tcpserver's slot,
     up to 20 ms past its server's exit); -1 on a kernel before 5.3 */
  int exited = (int)syscall(SYS_pidfd_open, pid, 0) ;
  for (;;)
  {
    char buf[4096] ;
    struct pollfd x[2] ;
    nfds_t n = 0 ;
    long long t ;
    int ms = 20 ;
    pid_t r = waitpid(pid, &status, WNOHANG) ;
    if (r == pid || (r < 0 && errno != EINTR)) break ;
    t = mx_now_ms() - t0 ;
    if (!sig && t > CHILD_EXIT_MS) { kill(pid, SIGTERM) ; sig = SIGTERM ; }
    else if (sig == SIGTERM && t > CHILD_EXIT_MS + 2000) { kill(pid, SIGKILL) ; sig = SIGKILL ; }
    if (exited >= 0)
    {
      /* until the next step of the schedule above */
      t = (sig ? CHILD_EXIT_MS + 2000 : CHILD_EXIT_MS) - t ;
      ms = sig == SIGKILL || t > 1000 ? 1000 : t < 1 ? 1 : (int)t ;
      x[n].fd = exited ; x[n++].events = POLLIN ;
    }
    if (fromchild >= 0) { x[n].fd = fromchild ; x[n++].events = POLLIN ; }
    if (!n) { usleep(20000) ; continue ; }
    if (poll(x, n, ms) > 0 && fromchild >= 0 && x[n - 1].revents && read(fromchild, buf, sizeof buf) == 0)
    {
      close(fromchild) ;
      fromchild = -1 ;
    }
  }
  if (exited >= 0) close(exited) ;
  return status ;
}
