/* greyrace-test: the LMDB store under processes racing on the same
 * triplets: 8 processes each check the same 1000 new triplets, in the
 * same order, as fast as they can. Each triplet must then have been
 * seen new by exactly one process and counted 8 times: no sighting
 * lost, no triplet made twice (greystore-lmdb.c: the decision is made
 * again inside the write transaction). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greystore.h"
#include "tap.h"

#define PROCS 8
#define KEYS 1000

char const *PROG = "greyrace-test" ;

struct tally { unsigned int n ; unsigned int bad ; uint64_t count[KEYS] ; int seen[KEYS] ; } ;

static int each (char const *net, char const *sender, char const *rcpt, greyrec const *r, greynet const *n, void *data)
{
  struct tally *t = data ;
  unsigned int k ;
  (void)net ; (void)rcpt ; (void)n ;
  if (!sender) return 1 ;
  if (sscanf(sender, "s%u@x.example", &k) != 1 || k >= KEYS) { t->bad++ ; return 1 ; }
  t->count[k] = r->count ; t->seen[k]++ ; t->n++ ;
  return 1 ;
}

int main (void)
{
  char dir[] = "/tmp/greyrace-XXXXXX" ;
  int fds[PROCS][2] ;
  unsigned int news = 0, others = 0, errors = 0, i, k ;
  greyconf c = GREYCONF_DEFAULT ;
  static struct tally t ;
  if (!mkdtemp(dir)) { perror("mkdtemp") ; return 111 ; }
  c.delay = 100000 ;
  for (i = 0 ; i < PROCS ; i++)
  {
    pid_t pid ;
    if (pipe(fds[i]) < 0) return 111 ;
    pid = fork() ;
    if (pid < 0) return 111 ;
    if (!pid)
    {
      greystore g ;
      unsigned int mine[2] = { 0, 0 } ;
      memset(&g, 0, sizeof g) ;
      g.dir = dir ;
      close(fds[i][0]) ;
      for (k = 0 ; k < KEYS ; k++)
      {
        char s[64] ;
        greyrec r ;
        enum grey_verdict v ;
        snprintf(s, sizeof s, "s%u@x.example", k) ;
        v = greystore_check(&g, &c, 1700000000, "192.0.2.0/24", s, "r@example.org", &r) ;
        if (v == GREY_NEW) mine[0]++ ;
        else if (v != GREY_EARLY) mine[1]++ ;
      }
      greystore_close(&g) ;
      if (write(fds[i][1], mine, sizeof mine) != sizeof mine) _exit(111) ;
      _exit(0) ;
    }
    close(fds[i][1]) ;
  }
  for (i = 0 ; i < PROCS ; i++)
  {
    unsigned int mine[2] ;
    if (read(fds[i][0], mine, sizeof mine) != sizeof mine) { errors++ ; continue ; }
    news += mine[0] ; others += mine[1] ;
  }
  while (wait(0) > 0) ;
  tap_ok(!errors && !others, "every check answered new or early") ;
  tap_ok(news == KEYS, "each triplet new for one process only") ;
  {
    greystore g ;
    memset(&g, 0, sizeof g) ;
    g.dir = dir ;
    tap_ok(greystore_each(&g, &each, &t) == 1 && !t.bad, "the store lists its records") ;
    greystore_close(&g) ;
  }
  {
    unsigned int once = 0, eight = 0 ;
    for (k = 0 ; k < KEYS ; k++) { once += t.seen[k] == 1 ; eight += t.count[k] == PROCS ; }
    tap_ok(t.n == KEYS && once == KEYS, "one record per triplet") ;
    tap_ok(eight == KEYS, "each counted once per process: no sighting lost") ;
  }
  {
    char cmd[64] ;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir) ;
    if (system(cmd)) return 111 ;
  }
  return tap_done() ;
}
