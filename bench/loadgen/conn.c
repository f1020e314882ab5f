/* @module loadgen: one websocket client connection: connect from a chosen 127.x source, TLS if asked, upgrade, read and write. */
#define _GNU_SOURCE
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

int handshakes_in_progress;
void (*on_upgrade)(conn_t *c, uint64_t now);
void (*on_dead)(conn_t *c);

static int epfd;
static conn_t *conns;
static int nconns;
static struct sockaddr_in dst[MAX_GROUPS][MAX_SPREAD];
static uint32_t next_source;
static char request[MAX_GROUPS][1024];
static size_t request_len[MAX_GROUPS];

void conns_init(int ep, conn_t *all, int n) {
  epfd = ep;
  conns = all;
  nconns = n;
  const bool proto = cfg.protocol[0] != '\0';
  for (int g = 0; g < cfg.nports; g++) {
    for (int k = 0; k < cfg.nspread[g]; k++) {
      memset(&dst[g][k], 0, sizeof dst[g][k]);
      dst[g][k].sin_family = AF_INET;
      dst[g][k].sin_port = htons((uint16_t)cfg.spread[g][k]);
      if (inet_pton(AF_INET, cfg.host, &dst[g][k].sin_addr) != 1) {
        fprintf(stderr, "loadgen: --host must be an IPv4 address, got %s\n", cfg.host);
        exit(2);
      }
    }
    request_len[g] = (size_t)snprintf(request[g], sizeof request[g],
                                      "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                                      cfg.path, cfg.host, cfg.ports[g], proto ? "Sec-WebSocket-Protocol: " : "", cfg.protocol,
                                      proto ? "\r\n" : "");
  }
  frames_init();

  uint32_t ring = 1;
  while (ring < (uint32_t)cfg.inflight) ring <<= 1;
  for (int i = 0; i < n; i++) {
    conn_t *c = &all[i];
    c->fd = -1;
    c->index = i;
    c->group = i / cfg.conns;
    c->state = C_FREE;
    c->ring_mask = ring - 1;
    if (cfg.mode == MODE_ECHO) c->sent_at = calloc(ring, sizeof(uint64_t));
  }
}

static void set_out(conn_t *c, bool out) {
  if (c->want_out == out) return;
  c->want_out = out;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0u), .data.u32 = (uint32_t)c->index};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void wb_reserve(conn_t *c, size_t extra) {
  if (c->woff == c->wlen) c->woff = c->wlen = 0;
  if (c->wlen + extra <= c->wcap) return;
  if (c->woff > 0) {
    memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
    c->wlen -= c->woff;
    c->woff = 0;
  }
  while (c->wlen + extra > c->wcap) c->wcap = c->wcap ? c->wcap * 2 : 65536;
  c->wbuf = realloc(c->wbuf, c->wcap);
}

void die(conn_t *c, uint64_t *counter) {
  if (counter) (*counter)++;
  conn_close(c, false);
  if (on_dead) on_dead(c);
}

/* One write() for everything queued since the last flush: what a real pipelining client does. */
void flush(conn_t *c) {
  while (c->woff < c->wlen) {
    ssize_t n = io_write(c, c->wbuf + c->woff, c->wlen - c->woff);
    if (n > 0) {
      c->woff += (size_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_out(c, true);
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    totals[c->group].close_codes[close_slot(1006)]++;
    die(c, &totals[c->group].server_closes);
    return;
  }
  set_out(c, false);
}

void conn_start(conn_t *c, uint64_t now) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    c->state = C_DEAD;
    totals[c->group].connect_errors++;
    if (on_dead) on_dead(c);
    return;
  }
  int one = 1;
  /* Ephemeral ports are then picked per 4-tuple at connect(), not per source address at bind(). */
  setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in src = {.sin_family = AF_INET};
  /* Within a group, connection k goes to instance k mod instances: the senders (the first ones) to the first. */
  const struct sockaddr_in *to = &dst[c->group][(c->index % cfg.conns) % cfg.nspread[c->group]];
  src.sin_addr.s_addr = htonl(0x7f000001u + (next_source++ % (uint32_t)cfg.sources));
  c->state = C_CONNECTING;
  c->started = now;
  c->want_out = true;
  handshakes_in_progress++;
  if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0 ||
      (connect(c->fd, (struct sockaddr *)to, sizeof *to) < 0 && errno != EINPROGRESS)) {
    die(c, &totals[c->group].connect_errors);
    return;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)c->index};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

void conn_close(conn_t *c, bool reset) {
  if (c->fd >= 0) {
    if (reset) {
      /* RST instead of FIN: no TIME_WAIT, so setup-rate runs never exhaust ephemeral ports. */
      struct linger l = {.l_onoff = 1, .l_linger = 0};
      setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    tls_free(c);
    close(c->fd);
    c->fd = -1;
  }
  if (c->state == C_CONNECTING || c->state == C_TLS || c->state == C_HANDSHAKE) handshakes_in_progress--;
  c->state = C_DEAD;
  c->rlen = c->wlen = c->woff = 0;
  c->outstanding = 0;
  c->ring_head = c->ring_tail = 0;
  c->last_rx = 0;
  c->want_out = false;
}

int group_outstanding(int group) {
  int n = 0;
  for (int i = 0; i < nconns; i++)
    if (conns[i].group == group && conns[i].state == C_OPEN) n += conns[i].outstanding;
  return n;
}

/* One read per readiness event: level-triggered epoll comes back for the rest, so connections take turns. */
static bool fill(conn_t *c) {
  if (c->rcap == 0) {
    c->rcap = 65536;
    c->rbuf = malloc(c->rcap);
  } else if (c->rlen == c->rcap) {
    c->rcap *= 2;
    c->rbuf = realloc(c->rbuf, c->rcap);
  }
  ssize_t n = io_read(c, c->rbuf + c->rlen, c->rcap - c->rlen);
  if (n > 0) {
    c->rlen += (size_t)n;
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
  return false;
}

static void handshake(conn_t *c, uint64_t now) {
  if (!fill(c)) {
    die(c, &totals[c->group].handshake_errors);
    return;
  }
  uint8_t *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
  if (!end) return;
  if (c->rlen < 12 || memcmp(c->rbuf, "HTTP/1.1 101", 12) != 0) {
    totals[c->group].last_http_status = c->rlen >= 12 ? atoi((const char *)c->rbuf + 9) : 0;
    die(c, &totals[c->group].handshake_errors);
    return;
  }
  size_t hdr = (size_t)(end - c->rbuf) + 4;
  memmove(c->rbuf, c->rbuf + hdr, c->rlen - hdr);
  c->rlen -= hdr;
  c->state = C_OPEN;
  handshakes_in_progress--;
  if (on_upgrade) {
    on_upgrade(c, now);
    return;
  }
  if (process(c, now)) flush(c);
}

static void send_upgrade(conn_t *c) {
  if (io_write(c, (const uint8_t *)request[c->group], request_len[c->group]) != (ssize_t)request_len[c->group]) {
    die(c, &totals[c->group].connect_errors);
    return;
  }
  c->state = C_HANDSHAKE;
  set_out(c, false);
}

/* The TLS handshake, one step per readiness event; a failed one counts as a handshake error. */
static void tls_step(conn_t *c) {
  bool want_write = false;
  int r = tls_handshake(c, &want_write);
  if (r < 0) die(c, &totals[c->group].handshake_errors);
  else if (r == 0) set_out(c, want_write);
  else send_upgrade(c);
}

void conn_event(conn_t *c, uint32_t events, uint64_t now) {
  switch (c->state) {
    case C_CONNECTING: {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err || (events & (EPOLLERR | EPOLLHUP))) {
        die(c, &totals[c->group].connect_errors);
        return;
      }
      if (cfg.tls) {
        if (!tls_attach(c)) {
          die(c, &totals[c->group].connect_errors);
          return;
        }
        c->state = C_TLS;
        tls_step(c);
        return;
      }
      send_upgrade(c);
      return;
    }
    case C_TLS:
      tls_step(c);
      return;
    case C_HANDSHAKE:
      handshake(c, now);
      return;
    case C_OPEN:
      if (events & EPOLLOUT) flush(c);
      if (c->state != C_OPEN || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
      if (!fill(c)) {
        totals[c->group].close_codes[close_slot(1006)]++;
        die(c, &totals[c->group].server_closes);
        return;
      }
      if (process(c, now)) flush(c);
      return;
    case C_FREE:
    case C_DEAD:
      return;
  }
}
