/* @module loadgen: TLS for --tls: one OpenSSL client context, and the socket reads and writes made through it. */
#include "loadgen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ctx;

void tls_init(void) {
  ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    fprintf(stderr, "loadgen: SSL_CTX_new failed\n");
    exit(1);
  }
  /* The servers under test present throwaway self-signed certificates: nothing to verify. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  /* Partial writes keep flush() one call per wake-up; the buffer may move between retries (wb_reserve). */
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

bool tls_attach(conn_t *c) {
  c->ssl = SSL_new(ctx);
  return c->ssl && SSL_set_fd(c->ssl, c->fd) == 1;
}

void tls_free(conn_t *c) {
  if (c->ssl) SSL_free(c->ssl);
  c->ssl = NULL;
}

/* SSL's "try again" results as errno, so callers keep their plain-socket logic; `out` says it waits to write. */
static ssize_t retry_or_fail(conn_t *c, int ret, bool *out) {
  int err = SSL_get_error(c->ssl, ret);
  ERR_clear_error();
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    if (out) *out = err == SSL_ERROR_WANT_WRITE;
    errno = EAGAIN;
    return -1;
  }
  if (err == SSL_ERROR_ZERO_RETURN) return 0;
  errno = EPIPE;
  return -1;
}

int tls_handshake(conn_t *c, bool *want_write) {
  int ret = SSL_connect(c->ssl);
  if (ret == 1) return 1;
  return retry_or_fail(c, ret, want_write) < 0 && errno == EAGAIN ? 0 : -1;
}

ssize_t io_read(conn_t *c, uint8_t *buf, size_t len) {
  if (!c->ssl) return read(c->fd, buf, len);
  size_t got = 0;
  /* Everything decrypted must be taken now: bytes inside OpenSSL do not make epoll report the socket. */
  do {
    int ret = SSL_read(c->ssl, buf + got, (int)(len - got));
    if (ret <= 0) return got ? (ssize_t)got : retry_or_fail(c, ret, NULL);
    got += (size_t)ret;
  } while (got < len && SSL_pending(c->ssl) > 0);
  return (ssize_t)got;
}

ssize_t io_write(conn_t *c, const uint8_t *buf, size_t len) {
  if (!c->ssl) return write(c->fd, buf, len);
  int ret = SSL_write(c->ssl, buf, (int)len);
  return ret > 0 ? ret : retry_or_fail(c, ret, NULL);
}
