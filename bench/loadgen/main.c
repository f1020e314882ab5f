/* @module loadgen: command line, the connect / warm-up / measure phases (sliced between servers), and the JSON report. */
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
    .mode = MODE_ECHO, .host = "127.0.0.1", .nports = 0, .path = "/", .protocol = "", .conns = 100, .inflight = 8,
    .size = 64, .binary = false, .senders = 1, .warmup = 1, .duration = 3, .sources = 16, .handshakes = 64,
    .connect_timeout = 60, .slice = 0.25,
};
totals_t totals[MAX_GROUPS];
stats_t stats[MAX_GROUPS];
bool measuring;
int active_group = 0;

static conn_t *conns;
static int nconns;
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
          "usage: loadgen --mode echo|mirror|recv|idle|connect --port N[+N...][,N...] [--host 127.0.0.1] [--path /] [--protocol NAME]\n"
          "               [--conns 100] [--inflight 8] [--size 64] [--binary] [--senders 1] [--warmup 1] [--duration 3]\n"
          "               [--sources 16] [--handshakes 64] [--connect-timeout 60] [--slice 0.25] [--tls]\n"
          "  Several ports: --conns connections to each, and the load goes to one server at a time, --slice seconds each,\n"
          "  round-robin; --warmup and --duration are per server. N+M...: one server of several instances (a cluster):\n"
          "  its connections alternate between them, the senders on the first.\n");
  exit(2);
}

static void parse_ports(const char *arg) {
  char *copy = strdup(arg), *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (cfg.nports == MAX_GROUPS) usage();
    /* "a+b": one server made of instances a and b (a cluster); its connections alternate between them. */
    char *save2 = NULL;
    int g = cfg.nports++;
    for (char *inst = strtok_r(tok, "+", &save2); inst; inst = strtok_r(NULL, "+", &save2)) {
      if (cfg.nspread[g] == MAX_SPREAD) usage();
      cfg.spread[g][cfg.nspread[g]++] = atoi(inst);
    }
    cfg.ports[g] = cfg.spread[g][0];
  }
  free(copy);
}

static void parse(int argc, char **argv) {
  static const struct option opts[] = {
      {"mode", 1, 0, 'm'},     {"host", 1, 0, 'H'},   {"port", 1, 0, 'p'},     {"path", 1, 0, 'P'},
      {"protocol", 1, 0, 'x'}, {"conns", 1, 0, 'c'},  {"inflight", 1, 0, 'i'}, {"size", 1, 0, 's'},
      {"binary", 0, 0, 'b'},   {"senders", 1, 0, 'S'}, {"warmup", 1, 0, 'w'},  {"duration", 1, 0, 'd'},
      {"sources", 1, 0, 'a'},  {"handshakes", 1, 0, 'k'}, {"connect-timeout", 1, 0, 't'}, {"slice", 1, 0, 'l'},
      {"tls", 0, 0, 'T'},
      {0, 0, 0, 0},
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
      case 'p': parse_ports(optarg); break;
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
      case 'l': cfg.slice = atof(optarg); break;
      case 'T': cfg.tls = true; break;
      default: usage();
    }
  }
  if (cfg.nports == 0 || cfg.conns <= 0 || cfg.inflight <= 0 || cfg.sources <= 0 || cfg.sources > 250 || cfg.handshakes <= 0 ||
      cfg.slice <= 0)
    usage();
  for (int g = 0; g < cfg.nports; g++)
    for (int k = 0; k < cfg.nspread[g]; k++)
      if (cfg.spread[g][k] <= 0) usage();
  if (cfg.nports > 1 && (cfg.mode == MODE_RECV || cfg.mode == MODE_IDLE)) {
    fprintf(stderr, "loadgen: recv and idle modes take one port\n");
    exit(2);
  }
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
  while ((next < nconns || handshakes_in_progress > 0) && now_ns() < limit) {
    while (handshakes_in_progress < cfg.handshakes && next < nconns) conn_start(&conns[next++], now_ns());
    dispatch(10);
  }
  for (int i = 0; i < nconns; i++)
    if (conns[i].state == C_OPEN) totals[conns[i].group].connected++;
    else if (conns[i].state != C_DEAD && conns[i].state != C_FREE) totals[conns[i].group].handshake_errors++;
  return (double)(now_ns() - start) / 1e9;
}

static void count_upgrade(conn_t *c, uint64_t now) {
  if (measuring && c->group == active_group) {
    stats[c->group].upgrades++;
    hist_add(&stats[c->group].lat, (now - c->started) / 1000);
  }
  conn_close(c, true);
}

/* The active group's work for one turn: connect mode keeps its slots busy. */
static void feed(int group) {
  if (cfg.mode != MODE_CONNECT || group < 0) return;
  uint64_t now = now_ns();
  for (int i = group * cfg.conns; i < (group + 1) * cfg.conns; i++)
    if (conns[i].state == C_FREE || conns[i].state == C_DEAD) conn_start(&conns[i], now);
}

static void activate(int group) {
  active_group = group;
  uint64_t now = now_ns();
  for (int i = group * cfg.conns; i < (group + 1) * cfg.conns; i++) conn_kick(&conns[i], now);
}

/* Between slices: let the finished group's last replies (or upgrades) arrive, uncounted, for at most 200 ms. */
static void drain(int group) {
  uint64_t limit = now_ns() + 200000000ull;
  for (;;) {
    bool busy = cfg.mode == MODE_CONNECT ? handshakes_in_progress > 0 : group_outstanding(group) > 0;
    if (!busy || now_ns() >= limit) return;
    dispatch(1);
  }
}

/*
 * Echo, mirror, recv and connect. With one server the load never pauses.
 * With several, the load goes to one at a time for cfg.slice seconds,
 * round-robin, so whatever else the machine does in the meantime hits every
 * server alike; only the active server's traffic and time are counted.
 */
static void run_load(double *window) {
  for (int i = 0; i < nconns; i++) conns[i].sender = (i % cfg.conns) < cfg.senders;
  const int groups = cfg.nports;
  const uint64_t slice = (uint64_t)(cfg.slice * 1e9);
  const uint64_t warm_until = now_ns() + (uint64_t)(cfg.warmup * 1e9 * groups);
  const uint64_t per_group = (uint64_t)(cfg.duration * 1e9);
  uint64_t measure_start = 0;
  double cpu0 = 0;
  int g = 0;
  activate(0);
  uint64_t slice_start = now_ns();
  for (;;) {
    feed(g);
    dispatch(1);
    uint64_t now = now_ns();
    if (groups == 1 && !measuring && now >= warm_until) {
      measuring = true;
      measure_start = slice_start = now;
      cpu0 = cpu_seconds();
      event_line("measure-start");
    }
    if (groups == 1) {
      if (measuring && now - measure_start >= per_group) {
        stats[0].active_ns = now - measure_start;
        break;
      }
      continue;
    }
    if (now - slice_start < slice) continue;
    if (measuring) stats[g].active_ns += now - slice_start;
    active_group = -1;
    drain(g);
    g = (g + 1) % groups;
    if (g == 0) {
      if (!measuring && now_ns() >= warm_until) {
        measuring = true;
        measure_start = now_ns();
        cpu0 = cpu_seconds();
        event_line("measure-start");
      } else if (measuring && stats[groups - 1].active_ns >= per_group) {
        break;
      }
    }
    activate(g);
    slice_start = now_ns();
  }
  measuring = false;
  active_group = -1;
  window[0] = (double)(now_ns() - measure_start) / 1e9;
  window[1] = cpu_seconds() - cpu0;
  event_line("measure-end");
  if (cfg.mode == MODE_CONNECT)
    for (int i = 0; i < nconns; i++) conn_close(&conns[i], true);
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

static void report_group(int g, double connect_seconds) {
  static const char *slot_names[8] = {"1000", "1001", "1005", "1006", "1008", "1009", "1011", "other"};
  const stats_t *st = &stats[g];
  const totals_t *t = &totals[g];
  char codes[256] = "";
  size_t used = 0;
  for (int i = 0; i < 8; i++)
    if (t->close_codes[i])
      used += (size_t)snprintf(codes + used, sizeof codes - used, "%s\"%s\":%llu", used ? "," : "", slot_names[i],
                               (unsigned long long)t->close_codes[i]);
  int open = 0;
  for (int i = g * cfg.conns; i < (g + 1) * cfg.conns; i++) open += conns[i].state == C_OPEN;
  double seconds = (double)st->active_ns / 1e9;
  double count = cfg.mode == MODE_CONNECT ? (double)st->upgrades : (double)st->frames;
  printf("{\"port\":%d,\"connected\":%d,\"open_at_end\":%d,\"connect_seconds\":%.3f,\"seconds\":%.3f,\"frames\":%llu,"
         "\"upgrades\":%llu,\"rate\":%.1f,\"mbytes_per_s\":%.2f,\"p50_us\":%llu,\"p99_us\":%llu,\"max_us\":%llu,\"samples\":%llu,"
         "\"errors\":{\"connect\":%llu,\"handshake\":%llu,\"protocol\":%llu,\"last_http_status\":%d},"
         "\"server_closes\":%llu,\"close_codes\":{%s}}",
         cfg.ports[g], t->connected, open, connect_seconds, seconds, (unsigned long long)st->frames, (unsigned long long)st->upgrades,
         seconds > 0 ? count / seconds : 0, seconds > 0 ? (double)st->bytes / seconds / 1e6 : 0,
         (unsigned long long)hist_percentile(&st->lat, 0.5), (unsigned long long)hist_percentile(&st->lat, 0.99),
         (unsigned long long)st->lat.max, (unsigned long long)st->lat.total, (unsigned long long)t->connect_errors,
         (unsigned long long)t->handshake_errors, (unsigned long long)t->protocol_errors, t->last_http_status,
         (unsigned long long)t->server_closes, codes);
}

static void report(double seconds, double cpu, double connect_seconds) {
  static const char *mode_names[] = {"echo", "mirror", "recv", "idle", "connect"};
  printf("{\"mode\":\"%s\",\"conns\":%d,\"seconds\":%.3f,\"client_cpu\":%.3f,\"servers\":[", mode_names[cfg.mode], cfg.conns, seconds,
         seconds > 0 ? cpu / seconds : 0);
  for (int g = 0; g < cfg.nports; g++) {
    if (g) putchar(',');
    report_group(g, connect_seconds);
  }
  printf("]}\n");
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
  nconns = cfg.conns * cfg.nports;
  conns = calloc((size_t)nconns, sizeof(conn_t));
  if (cfg.tls) tls_init();
  conns_init(epfd, conns, nconns);

  double window[2] = {0, 0}, connect_seconds = 0;
  if (cfg.mode == MODE_CONNECT) {
    on_upgrade = count_upgrade;
    run_load(window);
  } else {
    connect_seconds = connect_all();
    int connected = 0;
    for (int g = 0; g < cfg.nports; g++) connected += totals[g].connected;
    printf("{\"event\":\"connected\",\"connected\":%d,\"seconds\":%.3f}\n", connected, connect_seconds);
    fflush(stdout);
    if (cfg.mode == MODE_IDLE) run_idle();
    else run_load(window);
  }
  report(window[0], window[1], connect_seconds);
  return 0;
}
