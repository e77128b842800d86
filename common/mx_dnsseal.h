/* mx_dnsseal: what the files of the sealed DNS object (mx_dns.c,
   mx_dnsq.c) share. Made local by the seal like libowfat's code
   (common/LIBRARIES): no program can call these; the fuzz harness
   fuzz/dnsq-fuzz.c links the unsealed objects to reach mx_dns_ttl. */
#ifndef MX_DNSSEAL_H
#define MX_DNSSEAL_H

/* Seeds libowfat's query ids and source ports from the kernel, once per
   process. */
extern void mx_dns_seed (void) ;

/* The TTL of a DNS answer packet of len bytes: the lowest TTL of its
   answer records (a TTL with its top bit set counting as 0, RFC 2181);
   with none, the lower of the authority SOA's own TTL and its MINIMUM
   (RFC 2308); 0 if neither is there or the packet is malformed. */
extern unsigned int mx_dns_ttl (char const *buf, unsigned int len) ;

#endif
