/* mx_client: TCPREMOTEIP comes from tcpserver, but a chain may be run by
   hand or by another server: never trust it to be an address. */
#include "mx_client.h"

#include <stdlib.h>
#include <string.h>

#include "mx_text.h"

int mx_client_ip (ip46 *ip, char *text)
{
  char const *remote = getenv("TCPREMOTEIP") ;
  if (!remote) remote = "unset" ;
  else if (mx_ip_canon(remote, ip, text)) return 1 ;
  mx_text_safe(text, MX_CLIENT_IPTEXT - 1, remote, strlen(remote)) ;
  return 0 ;
}
