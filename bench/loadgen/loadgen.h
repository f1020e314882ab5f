/* @module loadgen: shared types of the websocket load generator (one epoll thread, pre-built masked frames). */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/types.h>

typedef enum { MODE_ECHO, MODE_MIRROR, MODE_RECV, MODE_IDLE, MODE_CONNECT } mode_t_;

#define MAX_GROUPS 8
/* Instances of one server a group's connections are spread over ("--port a+b": a cluster). */
#define MAX_SPREAD 4

typedef struct {
  mode_t_ mode;
  const char *host;        /* destination address (IPv4 literal) */
  int ports[MAX_GROUPS];   /* one server per port; connections are made to each ("groups") */
  int spread[MAX_GROUPS][MAX_SPREAD]; /* a group's instances: spread[g][0] == ports[g] */
  int nspread[MAX_GROUPS];
  int nports;
  const char *path;        /* request target, e.g. "/?mirror=bench" */
  const char *protocol;    /* Sec-WebSocket-Protocol, "" for none */
  int conns;               /* connections to open, per port */
  int inflight;            /* messages outstanding per sending connection */
  int size;                /* payload bytes per message */
  bool binary;             /* binary frames (else text) */
  int senders;             /* mirror: how many of the connections send */
  double warmup;           /* seconds of load before measuring */
  double duration;         /* seconds measured */
  int sources;             /* source addresses 127.0.0.1 .. 127.0.0.<sources> */
  int handshakes;          /* upgrades in progress at once */
  double connect_timeout;  /* seconds allowed for all connections to open */
  double slice;            /* with several ports: seconds each server gets the load before the next one does */
  bool tls;                /* TLS to every server (tls.c) */
} config_t;

/* Log-linear histogram of microseconds: exact below 128, then 64 sub-buckets per power of two (< 1.6 % error). */
#define HIST_BUCKETS 2560
typedef struct {
  uint64_t counts[HIST_BUCKETS];
  uint64_t total;
  uint64_t max;
} hist_t;

void hist_add(hist_t *h, uint64_t us);
uint64_t hist_percentile(const hist_t *h, double p);

typedef struct {
  uint64_t active_ns;      /* time this group had the load inside the window */
  uint64_t frames;         /* complete messages received inside the window */
  uint64_t bytes;          /* payload bytes of those messages */
  uint64_t upgrades;       /* connect mode: upgrades completed inside the window */
  hist_t lat;              /* latency (echo, mirror, connect) or inter-arrival gap (recv) */
} stats_t;

typedef enum { C_FREE, C_CONNECTING, C_TLS, C_HANDSHAKE, C_OPEN, C_DEAD } cstate_t;

typedef struct ssl_st SSL;

typedef struct conn {
  int fd;
  SSL *ssl;                /* --tls only */
  int index;               /* position among the connections; embedded in mirror payloads */
  int group;               /* which port (server) it talks to */
  cstate_t state;
  bool sender;
  bool want_out;           /* EPOLLOUT registered */
  uint8_t *rbuf;
  size_t rlen, rcap;
  uint8_t *wbuf;
  size_t wlen, woff, wcap;
  int outstanding;         /* messages sent whose echo has not come back */
  uint64_t *sent_at;       /* echo: FIFO of send times (ns), capacity ring_mask + 1 */
  uint32_t ring_mask, ring_head, ring_tail;
  uint64_t last_rx;        /* recv: time of the previous message (ns) */
  uint64_t started;        /* connect mode / handshake: when connect() was called (ns) */
  uint32_t seq;
} conn_t;

/* Counters for the whole run, not only the window. */
typedef struct {
  uint64_t connect_errors;
  uint64_t handshake_errors;
  uint64_t protocol_errors;
  uint64_t server_closes;  /* close frame, EOF or reset from the server on an open connection */
  uint64_t close_codes[8]; /* by close_slot(): 1000 1001 1005 1006 1008 1009 1011 other */
  int connected;           /* open at the end of the connect phase */
  int last_http_status;    /* of a refused upgrade, for the error message */
} totals_t;

extern config_t cfg;
extern totals_t totals[MAX_GROUPS];
extern stats_t stats[MAX_GROUPS];
extern bool measuring;
/* The group that has the load now; -1 between slices (its last replies drain uncounted). */
extern int active_group;

uint64_t now_ns(void);
int close_slot(int code);

/* conn.c */
void conns_init(int epfd, conn_t *all, int n);
/* shared by conn.c and frames.c */
void wb_reserve(conn_t *c, size_t extra);
void die(conn_t *c, uint64_t *counter);
void flush(conn_t *c);
/* frames.c */
void frames_init(void);
size_t frame_header(uint8_t *out, size_t len, int opcode);
void mask_payload(uint8_t *p, size_t len);
bool process(conn_t *c, uint64_t now);
int group_outstanding(int group);
void conn_start(conn_t *c, uint64_t now);
void conn_event(conn_t *c, uint32_t events, uint64_t now);
void conn_kick(conn_t *c, uint64_t now);
void conn_close(conn_t *c, bool reset);
extern int handshakes_in_progress;
extern void (*on_upgrade)(conn_t *c, uint64_t now);   /* connect mode hook */
extern void (*on_dead)(conn_t *c);                    /* a connection failed or was closed */
/* tls.c: with --tls, io_read/io_write go through the connection's SSL; without, they are read/write */
void tls_init(void);
bool tls_attach(conn_t *c);
void tls_free(conn_t *c);
int tls_handshake(conn_t *c, bool *want_write);
ssize_t io_read(conn_t *c, uint8_t *buf, size_t len);
ssize_t io_write(conn_t *c, const uint8_t *buf, size_t len);

#endif
