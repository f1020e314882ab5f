/* @module loadgen: log-linear latency histogram (exact to 127 us, then < 1.6 % relative error). */
#include "loadgen.h"

static int bucket_of(uint64_t v) {
  if (v < 128) return (int)v;
  int mag = 63 - __builtin_clzll(v);   /* >= 7 */
  int shift = mag - 6;                 /* v >> shift is in [64, 128) */
  int idx = 128 + (shift - 1) * 64 + (int)((v >> shift) - 64);
  return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* Middle of the bucket's range, so percentiles are not biased low. */
static uint64_t value_of(int idx) {
  if (idx < 128) return (uint64_t)idx;
  int shift = (idx - 128) / 64 + 1;
  uint64_t low = (uint64_t)(64 + (idx - 128) % 64) << shift;
  return low + ((1ull << shift) >> 1);
}

void hist_add(hist_t *h, uint64_t us) {
  h->counts[bucket_of(us)]++;
  h->total++;
  if (us > h->max) h->max = us;
}

uint64_t hist_percentile(const hist_t *h, double p) {
  if (h->total == 0) return 0;
  uint64_t rank = (uint64_t)(p * (double)h->total);
  if (rank >= h->total) rank = h->total - 1;
  uint64_t seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += h->counts[i];
    if (seen > rank) {
      uint64_t v = value_of(i);
      return v > h->max ? h->max : v;
    }
  }
  return h->max;
}
