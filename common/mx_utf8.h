/* mx_utf8: UTF-8 mail addresses (RFC 6531, 6532) as the chain reads them:
 * whether bytes are well-formed UTF-8, and one spelling of a domain for
 * every lookup, whichever way the client wrote it (U-labels or A-labels,
 * any case). Pure functions over bytes, for the unit test and the fuzzer.
 */
#ifndef MX_UTF8_H
#define MX_UTF8_H

#include <stddef.h>

/* What s (len bytes) is: MX_UTF8_ASCII (every byte below 0x80),
   MX_UTF8_UTF8 (well-formed UTF-8 with at least one non-ASCII character:
   RFC 3629's UTF8-2, UTF8-3, UTF8-4, so no overlong form, no surrogate,
   nothing above U+10FFFF), or MX_UTF8_BAD (anything else). NUL is
   ASCII here: the address grammar refuses it, not this. */
enum mx_utf8_kind { MX_UTF8_BAD, MX_UTF8_ASCII, MX_UTF8_UTF8 } ;
extern enum mx_utf8_kind mx_utf8_kind (char const *s, size_t len) ;

/* The domain d (len bytes) as the lookups spell it: its A-labels
   (IDNA2008 with UTS #46 non-transitional mapping and NFC, Debian's
   libidn2), ASCII letters in lower case. An ASCII domain is only
   lower-cased (an A-label given as such stays as it is written, in
   lower case); a domain with non-ASCII characters goes through libidn2.
   Writes the result and a NUL into out (room bytes); returns its length,
   or 0 if d is empty, is not well-formed UTF-8, is refused by IDNA2008,
   or does not fit. */
extern size_t mx_utf8_domain (char const *d, size_t len, char *out, size_t room) ;

#endif
