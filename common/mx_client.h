/* mx_client: the connected client, as tcpserver describes it. */
#ifndef MX_CLIENT_H
#define MX_CLIENT_H

#include "mx_ip.h"

/* Room for mx_client_ip's text: a canonical address, or a cut and
   sanitised copy of a bad TCPREMOTEIP. */
#define MX_CLIENT_IPTEXT (MX_IP_FMT + 1)

/* Reads TCPREMOTEIP. Returns 1 with *ip and its canonical text in text,
   or 0 when it is unset or not an address, with text holding something
   safe to log ("unset" or the sanitised value). */
extern int mx_client_ip (ip46 *ip, char *text) ;

#endif
