/* exec-nop: execs the rest of its command line and does nothing else.
 * bench/chain-bench links it statically and puts it where the chain's
 * links stand, to measure what the execs alone cost. */
#include <stdio.h>
#include <unistd.h>

int main (int argc, char **argv)
{
  if (argc < 2) { fputs("usage: exec-nop prog...\n", stderr) ; return 100 ; }
  execvp(argv[1], argv + 1) ;
  perror("exec-nop: exec") ;
  return 111 ;
}
