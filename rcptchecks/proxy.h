/* proxy: rcptchecks' session on file descriptors: the client on fds 0
 * and 1, the child SMTP server on two pipes, one poll loop between them
 * and the session engine (engine.h), which decides everything said. It
 * reads what the engine has room for, writes what it holds, and waits
 * no longer than the engine's next deadline.
 */
#ifndef RCPTCHECKS_PROXY_H
#define RCPTCHECKS_PROXY_H

#include "engine.h"

/* Runs the session until its end; returns why it ended, one word for
   the log ("quit", "client-eof", "timeout", "child-died", ...). The
   caller then ends the child. */
extern char const *proxy_run (proxy_conf const *conf, int fromchild, int tochild, proxy_stats *st) ;

#endif
