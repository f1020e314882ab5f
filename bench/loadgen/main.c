/* @module loadgen: command line, the connect / warm-up / measure phases, and the JSON report on stdout. */
#define _GNU_SOURCE
#include "loadgen.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

config_t cfg = {
    .mode = MODE_ECHO, .host = "127.0.0.1", .port = 0, .path = "/", .protocol = "", .conns = 100, .inflight = 8,
    .size = 64, .binary = false, .senders = 1, .warmup = 1, .duration = 3, .sources = 16, .handshakes = 64,
    .connect_timeout = 60,
};
totals_t totals;
stats_t stats;
bool measuring;

static conn_t *conns;
static int epfd;
#define STDIN_TAG 0xffffffffu

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec + ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static void usage(void) {
  fprintf(stderr,
          "usage: loadgen --mode echo|mirror|recv|idle|connect --port N [--host 127.0.0.1] [--path /] [--protocol NAME]\n"
          "               [--conns 100] [--inflight 8] [--size 64] [--binary] [--senders 1] [--warmup 1] [--duration 3]\n"
          "               [--sources 16] [--handshakes 64] [--connect-timeout 60]\n");
  exit(2);
}

static void parse(int argc, char **argv) {
  static const struct option opts[] = {
      {"mode", 1, 0, 'm'},     {"host", 1, 0, 'H'},   {"port", 1, 0, 'p'},     {"path", 1, 0, 'P'},
      {"protocol", 1, 0, 'x'}, {"conns", 1, 0, 'c'},  {"inflight", 1, 0, 'i'}, {"size", 1, 0, 's'},
      {"binary", 0, 0, 'b'},   {"senders", 1, 0, 'S'}, {"warmup", 1, 0, 'w'},  {"duration", 1, 0, 'd'},
      {"sources", 1, 0, 'a'},  {"handshakes", 1, 0, 'k'}, {"connect-timeout", 1, 0, 't'}, {0, 0, 0, 0},
  };
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case 'm':
        if (!strcmp(optarg, "echo")) cfg.mode = MODE_ECHO;
        else if (!strcmp(optarg, "mirror")) cfg.mode = MODE_MIRROR;
        else if (!strcmp(optarg, "recv")) cfg.mode = MODE_RECV;
        else if (!strcmp(optarg, "idle")) cfg.mode = MODE_IDLE;
        else if (!strcmp(optarg, "connect")) cfg.mode = MODE_CONNECT;
        else usage();
        break;
      case 'H': cfg.host = optarg; break;
      case 'p': cfg.port = atoi(optarg); break;
      case 'P': cfg.path = optarg; break;
      case 'x': cfg.protocol = optarg; break;
      case 'c': cfg.conns = atoi(optarg); break;
      case 'i': cfg.inflight = atoi(optarg); break;
      case 's': cfg.size = atoi(optarg); break;
      case 'b': cfg.binary = true; break;
      case 'S': cfg.senders = atoi(optarg); break;
      case 'w': cfg.warmup = atof(optarg); break;
      case 'd': cfg.duration = atof(optarg); break;
      case 'a': cfg.sources = atoi(optarg); break;
      case 'k': cfg.handshakes = atoi(optarg); break;
      case 't': cfg.connect_timeout = atof(optarg); break;
      default: usage();
    }
  }
  if (cfg.port <= 0 || cfg.conns <= 0 || cfg.inflight <= 0 || cfg.sources <= 0 || cfg.sources > 250 || cfg.handshakes <= 0) usage();
  if (cfg.mode == MODE_MIRROR && cfg.size < 24) cfg.size = 24;
}

static void dispatch(int timeout_ms) {
  struct epoll_event evs[512];
  int n = epoll_wait(epfd, evs, 512, timeout_ms);
  if (n < 0 && errno != EINTR) {
    perror("loadgen: epoll_wait");
    exit(1);
  }
  uint64_t now = now_ns();
  for (int i = 0; i < n; i++) {
    if (evs[i].data.u32 == STDIN_TAG) continue;
    conn_event(&conns[evs[i].data.u32], evs[i].events, now);
  }
}

static void event_line(const char *event) {
  printf("{\"event\":\"%s\"}\n", event);
  fflush(stdout);
}

/* Opens every connection, at most cfg.handshakes upgrades at a time. */
static double connect_all(void) {
  uint64_t start = now_ns(), limit = start + (uint64_t)(cfg.connect_timeout * 1e9);
  int next = 0;
  while ((next < cfg.conns || handshakes_in_progress > 0) && now_ns() < limit) {
    while (handshakes_in_progress < cfg.handshakes && next < cfg.conns) conn_start(&conns[next++], now_ns());
    dispatch(10);
  }
  for (int i = 0; i < cfg.conns; i++)
    if (conns[i].state == C_OPEN) totals.connected++;
    else if (conns[i].state != C_DEAD && conns[i].state != C_FREE) totals.handshake_errors++;
  return (double)(now_ns() - start) / 1e9;
}

static void restart_upgraded(conn_t *c, uint64_t now) {
  if (measuring) {
    stats.upgrades++;
    hist_add(&stats.lat, (now - c->started) / 1000);
  }
  conn_close(c, true);
}

/* Connect mode: cfg.handshakes slots, each one upgrading, resetting and starting again. */
static void run_connect(double *window) {
  on_upgrade = restart_upgraded;
  uint64_t start = now_ns();
  uint64_t m0 = start + (uint64_t)(cfg.warmup * 1e9), m1 = m0 + (uint64_t)(cfg.duration * 1e9);
  int slots = cfg.handshakes < cfg.conns ? cfg.handshakes : cfg.conns;
  double cpu0 = 0;
  for (;;) {
    uint64_t now = now_ns();
    if (!measuring && now >= m0 && now < m1) {
      measuring = true;
      cpu0 = cpu_seconds();
      event_line("measure-start");
    }
    if (now >= m1) break;
    for (int i = 0; i < slots; i++)
      if (conns[i].state == C_FREE || conns[i].state == C_DEAD) conn_start(&conns[i], now);
    dispatch(1);
  }
  measuring = false;
  window[0] = (double)(now_ns() - m0) / 1e9;
  window[1] = cpu_seconds() - cpu0;
  event_line("measure-end");
  for (int i = 0; i < slots; i++) conn_close(&conns[i], true);
}

/* Echo, mirror and recv: load from every connection, warm up, then measure. */
static void run_load(double *window) {
  uint64_t start = now_ns();
  for (int i = 0; i < cfg.conns; i++) {
    conns[i].sender = i < cfg.senders;
    conn_kick(&conns[i], start);
  }
  uint64_t m0 = start + (uint64_t)(cfg.warmup * 1e9), m1 = m0 + (uint64_t)(cfg.duration * 1e9);
  double cpu0 = 0;
  for (;;) {
    uint64_t now = now_ns();
    if (!measuring && now >= m0) {
      measuring = true;
      cpu0 = cpu_seconds();
      event_line("measure-start");
    }
    if (now >= m1) break;
    dispatch(1);
  }
  measuring = false;
  window[0] = (double)(now_ns() - m0) / 1e9;
  window[1] = cpu_seconds() - cpu0;
  event_line("measure-end");
}

/* Idle: hold every connection until stdin has a line or closes; report what the server did meanwhile. */
static void run_idle(void) {
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = STDIN_TAG};
  epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
  for (;;) {
    struct epoll_event evs[512];
    int n = epoll_wait(epfd, evs, 512, 100);
    uint64_t now = now_ns();
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u32 == STDIN_TAG) return;
      conn_event(&conns[evs[i].data.u32], evs[i].events, now);
    }
  }
}

int close_slot(int code) {
  static const int known[7] = {1000, 1001, 1005, 1006, 1008, 1009, 1011};
  for (int i = 0; i < 7; i++)
    if (known[i] == code) return i;
  return 7;
}

static void report(double seconds, double cpu, double connect_seconds) {
  static const char *slot_names[8] = {"1000", "1001", "1005", "1006", "1008", "1009", "1011", "other"};
  char codes[256] = "";
  size_t used = 0;
  for (int i = 0; i < 8; i++)
    if (totals.close_codes[i])
      used += (size_t)snprintf(codes + used, sizeof codes - used, "%s\"%s\":%llu", used ? "," : "", slot_names[i],
                               (unsigned long long)totals.close_codes[i]);
  static const char *mode_names[] = {"echo", "mirror", "recv", "idle", "connect"};
  double count = cfg.mode == MODE_CONNECT ? (double)stats.upgrades : (double)stats.frames;
  int open = 0;
  for (int i = 0; i < cfg.conns; i++) open += conns[i].state == C_OPEN;
  printf("{\"mode\":\"%s\",\"conns\":%d,\"connected\":%d,\"open_at_end\":%d,\"connect_seconds\":%.3f,\"seconds\":%.3f,"
         "\"frames\":%llu,\"upgrades\":%llu,\"rate\":%.1f,\"mbytes_per_s\":%.2f,\"p50_us\":%llu,\"p99_us\":%llu,\"max_us\":%llu,"
         "\"samples\":%llu,\"errors\":{\"connect\":%llu,\"handshake\":%llu,\"protocol\":%llu,\"last_http_status\":%d},"
         "\"server_closes\":%llu,\"close_codes\":{%s},"
         "\"client_cpu\":%.3f}\n",
         mode_names[cfg.mode], cfg.conns, totals.connected, open, connect_seconds, seconds, (unsigned long long)stats.frames,
         (unsigned long long)stats.upgrades, seconds > 0 ? count / seconds : 0, seconds > 0 ? (double)stats.bytes / seconds / 1e6 : 0,
         (unsigned long long)hist_percentile(&stats.lat, 0.5), (unsigned long long)hist_percentile(&stats.lat, 0.99),
         (unsigned long long)stats.lat.max, (unsigned long long)stats.lat.total, (unsigned long long)totals.connect_errors,
         (unsigned long long)totals.handshake_errors, (unsigned long long)totals.protocol_errors, totals.last_http_status,
         (unsigned long long)totals.server_closes, codes,
         seconds > 0 ? cpu / seconds : 0);
  fflush(stdout);
}

int main(int argc, char **argv) {
  parse(argc, argv);
  /* As many descriptors as the hard limit allows: idle runs hold ~19000 sockets. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  conns = calloc((size_t)cfg.conns, sizeof(conn_t));
  conns_init(epfd, conns, cfg.conns);

  double window[2] = {0, 0}, connect_seconds = 0;
  if (cfg.mode == MODE_CONNECT) {
    run_connect(window);
  } else {
    connect_seconds = connect_all();
    printf("{\"event\":\"connected\",\"connected\":%d,\"seconds\":%.3f}\n", totals.connected, connect_seconds);
    fflush(stdout);
    if (cfg.mode == MODE_IDLE) run_idle();
    else run_load(window);
  }
  report(window[0], window[1], connect_seconds);
  return 0;
}
