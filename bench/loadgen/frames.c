/* @module loadgen: websocket frames: masked frames out (echo pre-built, mirror stamped), frames in and what each mode does with them. */
#define _GNU_SOURCE
#include "loadgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Clients must mask (RFC 6455 5.3); a fixed non-zero key keeps the server's unmasking honest. */
static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};
/* Echo sends the same message over and over: its masked frame is built once. */
static uint8_t *echo_frame;
static size_t echo_frame_len;

size_t frame_header(uint8_t *out, size_t len, int opcode) {
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

void mask_payload(uint8_t *p, size_t len) {
  for (size_t i = 0; i < len; i++) p[i] ^= MASK[i & 3];
}

void frames_init(void) {
  echo_frame = malloc((size_t)cfg.size + 14);
  size_t h = frame_header(echo_frame, (size_t)cfg.size, cfg.binary ? 2 : 1);
  for (int i = 0; i < cfg.size; i++) echo_frame[h + (size_t)i] = (uint8_t)('a' + i % 26);
  mask_payload(echo_frame + h, (size_t)cfg.size);
  echo_frame_len = h + (size_t)cfg.size;
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
bool process(conn_t *c, uint64_t now) {
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

