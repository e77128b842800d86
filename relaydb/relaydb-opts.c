/* relaydb-opts: -d/-g/-f/-T, shared by relaydb, relaydb-rec and
   relaydb-check so that one store spec means the same store in all. */
#include "relaydb-opts.h"

#include <time.h>
#include <skalibs/types.h>

#ifndef RELAYDB_DIR
#error RELAYDB_DIR must be defined (the Makefile takes it from conf-relaydb)
#endif

int relaydb_store_option (store_conf *conf, int opt, char const *arg)
{
  unsigned int t ;
  switch (opt)
  {
    case 'd' : conf->dir = arg ; return !!*arg ;
    case 'g' : conf->group = arg ; return !!*arg ;
    case 'f' : conf->cnf = arg ; return !!*arg ;
    case 'T' :
      if (!uint0_scan(arg, &t) || !t || t > 3600) return 0 ;
      conf->timeout = t ;
      return 1 ;
  }
  return 0 ;
}

int relaydb_store_ready (store_conf *conf)
{
  if (conf->dir && conf->group) return 0 ;
  if (!conf->group && (conf->cnf || conf->timeout)) return 0 ;
  if (!conf->group && !conf->dir) conf->dir = RELAYDB_DIR ;
  return 1 ;
}

uint64_t relaydb_now (void)
{
  time_t t = time(0) ;
  return t > 0 ? (uint64_t)t : 0 ;
}
