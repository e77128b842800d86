/* relaydb-opts: the store options every relaydb program takes.
 *
 *   -d DIR     directory store (default: conf-relaydb)
 *   -g GROUP   MariaDB store, connection from option-file group GROUP
 *   -f FILE    read GROUP from FILE instead of the default option files
 *   -T SECS    SQL connect/read/write timeout (default 5)
 */
#ifndef RELAYDB_OPTS_H
#define RELAYDB_OPTS_H

#include "store.h"

#define RELAYDB_STORE_OPTS "d:g:f:T:"
#define RELAYDB_STORE_USAGE "[ -d dir | -g group [ -f optionfile ] [ -T seconds ] ]"

/* Takes option opt (a letter of RELAYDB_STORE_OPTS) with its argument.
   Returns 1, or 0 when arg is not valid for it. */
extern int relaydb_store_option (store_conf *conf, int opt, char const *arg) ;

/* After the options: 1 ok (default directory filled in), 0 when -d and
   -g were both given or -f/-T came without -g. */
extern int relaydb_store_ready (store_conf *conf) ;

/* Seconds since the epoch. */
extern uint64_t relaydb_now (void) ;

#endif
