/* pause-nop: waits for a signal and does nothing else. bench/smtp-tls-bench
 * links it dynamically, as smtp-tls is, and reads its Private_Dirty: the
 * memory any dynamically linked process has before it does anything. */
#include <unistd.h>

int main (void)
{
  pause() ;
  return 0 ;
}
