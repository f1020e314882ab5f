/* @module loadgen: one websocket client connection: connect from a chosen 127.x source, upgrade, frames in and out. */
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
static struct sockaddr_in dst[MAX_GROUPS];
static uint32_t next_source;
static char request[MAX_GROUPS][1024];
static size_t request_len[MAX_GROUPS];
/* Clients must mask (RFC 6455 5.3); a fixed non-zero key keeps the server's unmasking honest. */
static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};
/* Echo sends the same message over and over: its masked frame is built once. */
static uint8_t *echo_frame;
static size_t echo_frame_len;

static size_t frame_header(uint8_t *out, size_t len, int opcode) {
  size_t n;
  out[0] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    out[1] = (uint8_t)(0x80 | len);
    n = 2;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    n = 4;
  } else {
    out[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    n = 10;
  }
  memcpy(out + n, MASK, 4);
  return n + 4;
}

static void mask_payload(uint8_t *p, size_t len) {
  for (size_t i = 0; i < len; i++) p[i] ^= MASK[i & 3];
}

void conns_init(int ep, conn_t *all, int n) {
  epfd = ep;
  conns = all;
  nconns = n;
  const bool proto = cfg.protocol[0] != '\0';
  for (int g = 0; g < cfg.nports; g++) {
    memset(&dst[g], 0, sizeof dst[g]);
    dst[g].sin_family = AF_INET;
    dst[g].sin_port = htons((uint16_t)cfg.ports[g]);
    if (inet_pton(AF_INET, cfg.host, &dst[g].sin_addr) != 1) {
      fprintf(stderr, "loadgen: --host must be an IPv4 address, got %s\n", cfg.host);
      exit(2);
    }
    request_len[g] = (size_t)snprintf(request[g], sizeof request[g],
                                      "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                                      cfg.path, cfg.host, cfg.ports[g], proto ? "Sec-WebSocket-Protocol: " : "", cfg.protocol,
                                      proto ? "\r\n" : "");
  }
  echo_frame = malloc((size_t)cfg.size + 14);
  size_t h = frame_header(echo_frame, (size_t)cfg.size, cfg.binary ? 2 : 1);
  for (int i = 0; i < cfg.size; i++) echo_frame[h + (size_t)i] = (uint8_t)('a' + i % 26);
  mask_payload(echo_frame + h, (size_t)cfg.size);
  echo_frame_len = h + (size_t)cfg.size;

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

static void wb_reserve(conn_t *c, size_t extra) {
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

static void die(conn_t *c, uint64_t *counter) {
  if (counter) (*counter)++;
  conn_close(c, false);
  if (on_dead) on_dead(c);
}

/* One write() for everything queued since the last flush: what a real pipelining client does. */
static void flush(conn_t *c) {
  while (c->woff < c->wlen) {
    ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
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
  src.sin_addr.s_addr = htonl(0x7f000001u + (next_source++ % (uint32_t)cfg.sources));
  c->state = C_CONNECTING;
  c->started = now;
  c->want_out = true;
  handshakes_in_progress++;
  if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0 ||
      (connect(c->fd, (struct sockaddr *)&dst[c->group], sizeof dst[c->group]) < 0 && errno != EINPROGRESS)) {
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
    close(c->fd);
    c->fd = -1;
  }
  if (c->state == C_CONNECTING || c->state == C_HANDSHAKE) handshakes_in_progress--;
  c->state = C_DEAD;
  c->rlen = c->wlen = c->woff = 0;
  c->outstanding = 0;
  c->ring_head = c->ring_tail = 0;
  c->last_rx = 0;
  c->want_out = false;
}

static void send_echo(conn_t *c, uint64_t now) {
  wb_reserve(c, echo_frame_len);
  memcpy(c->wbuf + c->wlen, echo_frame, echo_frame_len);
  c->wlen += echo_frame_len;
  c->sent_at[c->ring_head++ & c->ring_mask] = now;
  c->outstanding++;
}

/* Mirror payload: 8 hex digits of the sender's index, 16 of the send time (ns), then padding; text, so lws accepts it. */
static void send_mirror(conn_t *c, uint64_t now) {
  size_t len = (size_t)cfg.size;
  wb_reserve(c, len + 14);
  uint8_t *out = c->wbuf + c->wlen;
  size_t h = frame_header(out, len, 1);
  char head[32];
  snprintf(head, sizeof head, "%08x%016llx", (unsigned)c->index, (unsigned long long)now);
  memcpy(out + h, head, 24);
  memset(out + h + 24, 'x', len - 24);
  mask_payload(out + h, len);
  c->wlen += h + len;
  c->outstanding++;
}

static uint64_t hex(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) {
    uint8_t ch = p[i];
    v = (v << 4) | (uint64_t)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
  }
  return v;
}

int group_outstanding(int group) {
  int n = 0;
  for (int i = 0; i < nconns; i++)
    if (conns[i].group == group && conns[i].state == C_OPEN) n += conns[i].outstanding;
  return n;
}

void conn_kick(conn_t *c, uint64_t now) {
  if (c->state != C_OPEN || c->group != active_group) return;
  if (cfg.mode == MODE_ECHO)
    while (c->outstanding < cfg.inflight) send_echo(c, now);
  if (cfg.mode == MODE_MIRROR && c->sender)
    while (c->outstanding < cfg.inflight) send_mirror(c, now);
  flush(c);
}

static void on_message(conn_t *c, const uint8_t *p, uint64_t len, uint64_t now) {
  /* Only the group that has the load now counts; the others' last replies drain uncounted. */
  const bool live = c->group == active_group;
  const bool counted = measuring && live;
  stats_t *st = &stats[c->group];
  if (counted) {
    st->frames++;
    st->bytes += len;
  }
  switch (cfg.mode) {
    case MODE_ECHO: {
      if (len != (uint64_t)cfg.size || c->outstanding == 0) totals[c->group].protocol_errors++;
      uint64_t t = c->sent_at[c->ring_tail++ & c->ring_mask];
      c->outstanding--;
      if (counted) hist_add(&st->lat, (now - t) / 1000);
      if (live) send_echo(c, now);
      break;
    }
    case MODE_MIRROR: {
      if (len < 24) {
        totals[c->group].protocol_errors++;
        break;
      }
      uint64_t t = hex(p + 8, 16);
      if (counted && now >= t) hist_add(&st->lat, (now - t) / 1000);
      if (c->sender && (int)hex(p, 8) == c->index) {
        c->outstanding--;
        if (live) send_mirror(c, now);
      }
      break;
    }
    case MODE_RECV:
      if (counted && c->last_rx) hist_add(&st->lat, (now - c->last_rx) / 1000);
      c->last_rx = now;
      break;
    case MODE_IDLE:
    case MODE_CONNECT:
      break;
  }
}

/* Parses every complete frame in rbuf; returns false when the connection died meanwhile. */
static bool process(conn_t *c, uint64_t now) {
  size_t off = 0;
  while (c->rlen - off >= 2) {
    const uint8_t *p = c->rbuf + off;
    size_t avail = c->rlen - off;
    int fin = p[0] & 0x80, op = p[0] & 0x0f;
    uint64_t len = p[1] & 0x7f;
    size_t h = 2;
    if (p[1] & 0x80) {
      die(c, &totals[c->group].protocol_errors); /* servers never mask */
      return false;
    }
    if (len == 126) {
      if (avail < 4) break;
      len = ((uint64_t)p[2] << 8) | p[3];
      h = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = (len << 8) | p[2 + i];
      h = 10;
    }
    if (avail < h + len) {
      if (h + len > c->rcap) {
        c->rcap = h + len + 65536;
        c->rbuf = realloc(c->rbuf, c->rcap);
      }
      break;
    }
    const uint8_t *payload = p + h;
    off += h + len;
    if (op == 8) {
      int code = len >= 2 ? (payload[0] << 8) | payload[1] : 1005;
      totals[c->group].close_codes[close_slot(code)]++;
      die(c, &totals[c->group].server_closes);
      return false;
    }
    if (op == 9 && len <= 125) {
      uint8_t pong[140];
      size_t ph = frame_header(pong, len, 10);
      memcpy(pong + ph, payload, len);
      mask_payload(pong + ph, len);
      wb_reserve(c, ph + len);
      memcpy(c->wbuf + c->wlen, pong, ph + len);
      c->wlen += ph + len;
      continue;
    }
    if (op >= 8) continue;
    if (fin) on_message(c, payload, len, now); /* a fragmented message counts once, at its end */
  }
  if (off > 0) {
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
  }
  return true;
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
  ssize_t n = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
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
      if (write(c->fd, request[c->group], request_len[c->group]) != (ssize_t)request_len[c->group]) {
        die(c, &totals[c->group].connect_errors);
        return;
      }
      c->state = C_HANDSHAKE;
      set_out(c, false);
      return;
    }
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
