/* rules: tcprules' CDB, looked up as tcpserver looks it up for a
 * client whose name it does not know (-H) and whose ident it does not
 * ask (-R): the address's text, then each of its prefixes that ends in
 * '.' (IPv4: "1.2.3.", "1.2.", "1.") or ':' (IPv6, in tcpserver's
 * text: listen_tcpserver_fmt), then "". The first key found decides.
 * Its data, as tcprules writes it: items ending in NUL, "D" (deny) or "+VAR=value" (set VAR
 * in the child's environment); an item of another form is skipped, as
 * tcpserver skips it.
 *
 * The file is mapped (skalibs' cdb) and stays so until rules_close; a
 * reload opens the new file first and keeps the old one if that fails.
 * tcprules replaces the file by a rename: rules_changed sees a new file
 * by its inode, its size and its modification time.
 */
#ifndef SMTPSCREEN_RULES_H
#define SMTPSCREEN_RULES_H

#include <stddef.h>
#include <sys/stat.h>
#include <skalibs/cdb.h>

typedef struct rules_s rules ;
struct rules_s { cdb c ; int open ; struct stat st ; } ;
#define RULES_ZERO { .c = CDB_ZERO, .open = 0 }

/* 1 if path is not the file r has open (or r has none), 0 if it is. */
extern int rules_changed (rules const *r, char const *path) ;

/* Opens path. Returns 1, or 0 with errno set. */
extern int rules_open (rules *r, char const *path) ;
extern void rules_close (rules *r) ;

/* The client's rule. Returns 1 (found), 0 (no rule: allow, nothing
   set) or -1 (the data does not fit: env too small). *deny is 1 for a
   deny rule; env gets the rule's "VAR=value\0" items (envmax bytes at
   most), *envlen their length. */
extern int rules_find (rules const *r, char const *iptext, int *deny, char *env, size_t envmax, size_t *envlen) ;

/* One rule's data (n bytes), as tcpserver's found() reads it: *deny
   set to 1 for a "D" item, each "+VAR=value" item appended to env as
   "VAR=value\0" from *envlen on. Returns 1, or -1 when env (envmax
   bytes) cannot hold them. (rules_find's reader; fuzz/rules-fuzz.c.) */
extern int rules_items (char const *s, size_t n, int *deny, char *env, size_t envmax, size_t *envlen) ;

/* 1 if env (envlen bytes of "VAR=value\0") sets var. */
extern int rules_env_has (char const *env, size_t envlen, char const *var) ;

/* The value of var among the rule's items, or 0. */
extern char const *rules_env_get (char const *env, size_t envlen, char const *var) ;

#endif
