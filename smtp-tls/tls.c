/* tls: see tls.h. One connection per process: the context and the
 * session are this file's. */
#include "tls.h"

#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ctx ;
static SSL *ssl ;

/* the first error OpenSSL queued, or what */
static void why (char *err, size_t errlen, char const *what)
{
  unsigned long e = ERR_get_error() ;
  char buf[256] ;
  if (e) ERR_error_string_n(e, buf, sizeof buf) ;
  snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", e ? buf : "") ;
  ERR_clear_error() ;
}

int tls_load (char const *cert, char const *key, char *err, size_t errlen)
{
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

int tls_start (int rfd, int wfd)
{
  /* a handshake flight is several writes: without this, Nagle holds the
     later ones until the client's delayed ACK (40 ms) */
  int one = 1 ;
  setsockopt(wfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ;
  ssl = SSL_new(ctx) ;
  if (!ssl) return 0 ;
  if (!SSL_set_rfd(ssl, rfd) || !SSL_set_wfd(ssl, wfd)) return 0 ;
  SSL_set_accept_state(ssl) ;
  return 1 ;
}

/* what an SSL call's result r means */
static enum tls_want want_of (int r, char *err, size_t errlen)
{
  int e = SSL_get_error(ssl, r) ;
  switch (e)
  {
    case SSL_ERROR_WANT_READ : return TLS_WANT_READ ;
    case SSL_ERROR_WANT_WRITE : return TLS_WANT_WRITE ;
    case SSL_ERROR_ZERO_RETURN : if (err) snprintf(err, errlen, "the client closed TLS") ; return TLS_EOF ;
    case SSL_ERROR_SYSCALL :
      if (!ERR_peek_error()) { if (err) snprintf(err, errlen, "the client hung up") ; ERR_clear_error() ; return TLS_EOF ; }
      /* fall through */
    default :
      if (err) why(err, errlen, "TLS error") ;
      else ERR_clear_error() ;
      return TLS_FAILED ;
  }
}

enum tls_want tls_handshake (char *err, size_t errlen)
{
  int r = SSL_do_handshake(ssl) ;
  if (r == 1) return TLS_DONE ;
  return want_of(r, err, errlen) ;
}

ssize_t tls_read (char *buf, size_t n, enum tls_want *want)
{
  size_t got = 0 ;
  if (SSL_read_ex(ssl, buf, n, &got) == 1) return (ssize_t)got ;
  *want = want_of(0, 0, 0) ;
  return 0 ;
}

size_t tls_pending (void)
{
  return ssl ? (size_t)SSL_pending(ssl) : 0 ;
}

ssize_t tls_write (char const *buf, size_t n, enum tls_want *want)
{
  size_t put = 0 ;
  if (SSL_write_ex(ssl, buf, n, &put) == 1) return (ssize_t)put ;
  *want = want_of(0, 0, 0) ;
  return 0 ;
}

void tls_close (void)
{
  if (ssl && !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN)) SSL_shutdown(ssl) ;
  ERR_clear_error() ;
}

char const *tls_protocol (void) { return ssl ? SSL_get_version(ssl) : "none" ; }

char const *tls_cipher (void) { return ssl ? SSL_get_cipher_name(ssl) : "none" ; }

char const *tls_cipher_iana (void)
{
  SSL_CIPHER const *c = ssl ? SSL_get_current_cipher(ssl) : 0 ;
  char const *s = c ? SSL_CIPHER_standard_name(c) : 0 ;
  return s ? s : tls_cipher() ;
}

char const *tls_sni (void)
{
  char const *s = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : 0 ;
  return s ? s : "" ;
}
