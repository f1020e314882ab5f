/** @module count-threads: a scrape reaching any thread answers with every thread's metrics merged (prom-client's aggregation). */
import { BroadcastChannel } from 'node:worker_threads';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import type { MetricsMesh } from '../metrics/prometheus.ts';

type Metrics = MetricObjectWithValues<MetricValue<string>>[];

type MeshMessage =
  | { readonly type: 'ask'; readonly id: string }
  | { readonly type: 'answer'; readonly id: string; readonly metrics: Metrics };

/** A thread busy past this is left out of one scrape rather than hold it. */
const ANSWER_WAIT_MS = 2000;

/**
 * Each thread answers the others' requests with its registry as JSON; the
 * thread a scrape reached merges them with its own. Counters and gauges add
 * up; a metric declaring another aggregator (tsws_draining: max) uses it;
 * runtime metrics carry a "thread" label and stay one series per thread.
 */
export class ThreadMetricsMesh implements MetricsMesh {
  readonly #channel: BroadcastChannel;
  readonly #index: number;
  readonly #others: number;
  #local: Registry | undefined;
  #seq = 0;
  readonly #pending = new Map<string, { answers: Metrics[]; done: () => void }>();

  constructor(name: string, index: number, count: number) {
    this.#index = index;
    this.#others = count - 1;
    this.#channel = new BroadcastChannel(name);
    this.#channel.unref();
    this.#channel.onmessage = (event) => this.#heard((event as { data: MeshMessage }).data);
  }

  join(local: Registry): () => Promise<string> {
    this.#local = local;
    return () => this.#render(local);
  }

  close(): void {
    this.#channel.close();
  }

  #heard(m: MeshMessage): void {
    if (m.type === 'ask') {
      void this.#local?.getMetricsAsJSON().then((metrics) => this.#channel.postMessage({ type: 'answer', id: m.id, metrics } satisfies MeshMessage));
      return;
    }
    const wait = this.#pending.get(m.id);
    if (!wait) return;
    wait.answers.push(m.metrics);
    if (wait.answers.length >= this.#others) wait.done();
  }

  async #render(local: Registry): Promise<string> {
    // Alone (count-threads 1 under the watchdog): nobody to ask.
    if (this.#others === 0) return local.metrics();
    const id = `${this.#index}:${++this.#seq}`;
    const answers: Metrics[] = [];
    const heard = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ANSWER_WAIT_MS);
      this.#pending.set(id, { answers, done: () => (clearTimeout(timer), resolve()) });
    });
    this.#channel.postMessage({ type: 'ask', id } satisfies MeshMessage);
    const own = await local.getMetricsAsJSON();
    await heard;
    this.#pending.delete(id);
    return AggregatorRegistry.aggregate([own, ...answers]).metrics();
  }
}
