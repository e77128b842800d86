/* spfzone: a scripted resolver for the SPF evaluator (common/mx_spf.h),
 * shared by t/unit/spf-test and fuzz/spf-fuzz. A zone is text, one
 * "name TYPE value" a line (TYPE TXT A AAAA MX PTR; A and AAAA values
 * are addresses; name "*" answers any name); TYPE TIMEOUT or SERVFAIL
 * makes every question about the name fail so; a name the zone does
 * not hold is NXDOMAIN. Answers that would not fit are dropped.
 */
#ifndef SPFZONE_H
#define SPFZONE_H

#include <stddef.h>

#include "mx_spf.h"

typedef struct spfzone_s spfzone ;
struct spfzone_s
{
  char const *text ;
  size_t len ;
  unsigned int asked ;   /* questions so far */
} ;

/* mx_spf's ask: ctx is an spfzone */
extern int spfzone_ask (void *ctx, enum mx_spf_qtype type, char const *name, mx_spf_answer *out) ;

#endif
