/* tls: see tls.h. One connection per process: the context and the
 * session are this file's. OpenSSL's entry points are taken by dlsym
 * with OpenSSL's own prototypes (its headers, __typeof__), and its
 * names below call through them. */
#include "tls.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define STLS_SONAME "libssl.so.3"

/* every entry point used, libssl's and (through its dependency)
   libcrypto's */
#define STLS_FUNCTIONS \
  X(TLS_server_method) X(SSL_CTX_new) X(SSL_CTX_free) X(SSL_CTX_ctrl) X(SSL_CTX_set_options) \
  X(SSL_CTX_use_certificate_chain_file) X(SSL_CTX_use_PrivateKey_file) X(SSL_CTX_check_private_key) \
  X(SSL_new) X(SSL_set_rfd) X(SSL_set_wfd) X(SSL_set_accept_state) X(SSL_do_handshake) \
  X(SSL_get_error) X(SSL_read_ex) X(SSL_write_ex) X(SSL_pending) X(SSL_get_shutdown) X(SSL_shutdown) \
  X(SSL_get_version) X(SSL_get_current_cipher) X(SSL_CIPHER_get_name) X(SSL_CIPHER_standard_name) \
  X(SSL_get_servername) X(ERR_get_error) X(ERR_peek_error) X(ERR_error_string_n) X(ERR_clear_error)

static struct
{
#define X(f) __typeof__(f) *f ;
  STLS_FUNCTIONS
#undef X
} ossl ;

static char const *const names[] =
{
#define X(f) #f,
  STLS_FUNCTIONS
#undef X
} ;

/* from here on OpenSSL's names (and its macros over them) call
   through the table */
#define TLS_server_method (*ossl.TLS_server_method)
#define SSL_CTX_new (*ossl.SSL_CTX_new)
#define SSL_CTX_free (*ossl.SSL_CTX_free)
#define SSL_CTX_ctrl (*ossl.SSL_CTX_ctrl)
#define SSL_CTX_set_options (*ossl.SSL_CTX_set_options)
#define SSL_CTX_use_certificate_chain_file (*ossl.SSL_CTX_use_certificate_chain_file)
#define SSL_CTX_use_PrivateKey_file (*ossl.SSL_CTX_use_PrivateKey_file)
#define SSL_CTX_check_private_key (*ossl.SSL_CTX_check_private_key)
#define SSL_new (*ossl.SSL_new)
#define SSL_set_rfd (*ossl.SSL_set_rfd)
#define SSL_set_wfd (*ossl.SSL_set_wfd)
#define SSL_set_accept_state (*ossl.SSL_set_accept_state)
#define SSL_do_handshake (*ossl.SSL_do_handshake)
#define SSL_get_error (*ossl.SSL_get_error)
#define SSL_read_ex (*ossl.SSL_read_ex)
#define SSL_write_ex (*ossl.SSL_write_ex)
#define SSL_pending (*ossl.SSL_pending)
#define SSL_get_shutdown (*ossl.SSL_get_shutdown)
#define SSL_shutdown (*ossl.SSL_shutdown)
#define SSL_get_version (*ossl.SSL_get_version)
#define SSL_get_current_cipher (*ossl.SSL_get_current_cipher)
#define SSL_CIPHER_get_name (*ossl.SSL_CIPHER_get_name)
#define SSL_CIPHER_standard_name (*ossl.SSL_CIPHER_standard_name)
#define SSL_get_servername (*ossl.SSL_get_servername)
#define ERR_get_error (*ossl.ERR_get_error)
#define ERR_peek_error (*ossl.ERR_peek_error)
#define ERR_error_string_n (*ossl.ERR_error_string_n)
#define ERR_clear_error (*ossl.ERR_clear_error)

static int loaded ;
static SSL_CTX *ctx ;
static SSL *ssl ;

static int openssl (char *err, size_t errlen)
{
  void *lib ;
  size_t i ;
  if (loaded) return 1 ;
  /* every member is a function pointer, one per name */
  if (sizeof ossl != sizeof names / sizeof *names * sizeof(void (*)(void))) { snprintf(err, errlen, "tls: table mismatch") ; return 0 ; }
  lib = dlopen(STLS_SONAME, RTLD_NOW | RTLD_LOCAL) ;
  if (!lib) { snprintf(err, errlen, "unable to load %s (OpenSSL 3, Debian package libssl3)", STLS_SONAME) ; return 0 ; }
  for (i = 0 ; i < sizeof names / sizeof *names ; i++)
  {
    void *p = dlsym(lib, names[i]) ;
    if (!p) { snprintf(err, errlen, "OpenSSL lacks %s", names[i]) ; dlclose(lib) ; return 0 ; }
    /* POSIX guarantees a dlsym'd function pointer converts back */
    memcpy((char *)&ossl + i * sizeof(void (*)(void)), &p, sizeof p) ;
  }
  loaded = 1 ;
  return 1 ;
}

/* the first error OpenSSL queued, or what */
static void why (char *err, size_t errlen, char const *what)
{
  unsigned long e = ERR_get_error() ;
  char buf[256] ;
  if (e) ERR_error_string_n(e, buf, sizeof buf) ;
  snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", e ? buf : "") ;
  ERR_clear_error() ;
}

static int readable (char const *path, char const *what, char *err, size_t errlen)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC) ;
  if (fd < 0) { snprintf(err, errlen, "unable to read the %s: %s", what, strerror(errno)) ; return 0 ; }
  close(fd) ;
  return 1 ;
}

int stls_usable (char const *cert, char const *key, char *err, size_t errlen)
{
  return readable(cert, "certificate", err, errlen) && readable(key, "key", err, errlen) ;
}

int stls_load (char const *cert, char const *key, char *err, size_t errlen)
{
  if (ctx) return 1 ;
  if (!openssl(err, errlen)) return 0 ;
  ctx = SSL_CTX_new(TLS_server_method()) ;
  if (!ctx) { why(err, errlen, "unable to make a TLS context") ; return 0 ; }
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) { why(err, errlen, "unable to require TLS 1.2") ; goto fail ; }
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET) ;
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF) ;
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) ;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) { why(err, errlen, "unable to read the certificate") ; goto fail ; }
  if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) { why(err, errlen, "unable to read the key") ; goto fail ; }
  if (SSL_CTX_check_private_key(ctx) != 1) { why(err, errlen, "the key does not match the certificate") ; goto fail ; }
  return 1 ;
 fail:
  SSL_CTX_free(ctx) ;
  ctx = 0 ;
  return 0 ;
}

int stls_start (int rfd, int wfd)
{
  /* a handshake flight is several writes: without this, Nagle holds the
     later ones until the client's delayed ACK (40 ms) */
  int one = 1 ;
  if (!ctx) return 0 ;
  setsockopt(wfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ;
  ssl = SSL_new(ctx) ;
  if (!ssl) return 0 ;
  if (!SSL_set_rfd(ssl, rfd) || !SSL_set_wfd(ssl, wfd)) return 0 ;
  SSL_set_accept_state(ssl) ;
  return 1 ;
}

/* what an SSL call's result r means */
static enum stls_want want_of (int r, char *err, size_t errlen)
{
  int e = SSL_get_error(ssl, r) ;
  switch (e)
  {
    case SSL_ERROR_WANT_READ : return STLS_WANT_READ ;
    case SSL_ERROR_WANT_WRITE : return STLS_WANT_WRITE ;
    case SSL_ERROR_ZERO_RETURN : if (err) snprintf(err, errlen, "the client closed TLS") ; return STLS_EOF ;
    case SSL_ERROR_SYSCALL :
      if (!ERR_peek_error()) { if (err) snprintf(err, errlen, "the client hung up") ; ERR_clear_error() ; return STLS_EOF ; }
      /* fall through */
    default :
      if (err) why(err, errlen, "TLS error") ;
      else ERR_clear_error() ;
      return STLS_FAILED ;
  }
}

enum stls_want stls_handshake (char *err, size_t errlen)
{
  int r = SSL_do_handshake(ssl) ;
  if (r == 1) return STLS_DONE ;
  return want_of(r, err, errlen) ;
}

ssize_t stls_read (char *buf, size_t n, enum stls_want *want)
{
  size_t got = 0 ;
  if (SSL_read_ex(ssl, buf, n, &got) == 1) return (ssize_t)got ;
  *want = want_of(0, 0, 0) ;
  return 0 ;
}

size_t stls_pending (void)
{
  return ssl ? (size_t)SSL_pending(ssl) : 0 ;
}

ssize_t stls_write (char const *buf, size_t n, enum stls_want *want)
{
  size_t put = 0 ;
  if (SSL_write_ex(ssl, buf, n, &put) == 1) return (ssize_t)put ;
  *want = want_of(0, 0, 0) ;
  return 0 ;
}

void stls_close (void)
{
  if (!ssl) return ;
  if (!(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN)) SSL_shutdown(ssl) ;
  ERR_clear_error() ;
}

char const *stls_protocol (void) { return ssl ? SSL_get_version(ssl) : "none" ; }

char const *stls_cipher (void) { return ssl ? SSL_get_cipher_name(ssl) : "none" ; }

char const *stls_cipher_iana (void)
{
  SSL_CIPHER const *c = ssl ? SSL_get_current_cipher(ssl) : 0 ;
  char const *s = c ? SSL_CIPHER_standard_name(c) : 0 ;
  return s ? s : stls_cipher() ;
}

char const *stls_sni (void)
{
  char const *s = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : 0 ;
  return s ? s : "" ;
}
