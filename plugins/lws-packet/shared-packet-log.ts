/** @module The packet log of a cluster: one Redis Stream for every instance, so ids and replay are the same wherever a client lands. */
import type { ClusterView, SharedLog } from '../../server/plugin/api.ts';
import type { PacketLog, StoredPacket } from './packet-log.ts';

/**
 * Stream ids are the packet ids: packet n is stream entry "n-0" (field "d",
 * the stored JSON line), so `XRANGE <prefix>log:<vhost>/protocol-lws-packet/packets n-0 +`
 * shows the log from packet n. The framework's append assigns n and
 * publishes the line in one Lua step: every instance streams packets in id
 * order. Durability is Redis's: see the plugin README (appendfsync always).
 */
export class SharedPacketLog implements PacketLog {
  readonly publishesAppends = true;
  readonly #log: SharedLog;

  constructor(cluster: ClusterView, opts: { retention: number; topic: string }) {
    this.#log = cluster.log('packets', { maxLength: opts.retention, publishTo: opts.topic });
  }

  async append(packet: unknown): Promise<StoredPacket> {
    const ts = Date.now();
    // The same bytes JSON.stringify(stored) gives, with the id spliced in by the log.
    const entry = await this.#log.append('{"id":', `,"ts":${ts},"packet":${JSON.stringify(packet)}}`);
    return { id: entry.id, ts, packet };
  }

  async read(after: number, limit: number): Promise<StoredPacket[]> {
    return (await this.#log.after(after, limit)).map((e) => JSON.parse(e.text) as StoredPacket);
  }

  bounds(): Promise<{ firstId: number; lastId: number }> {
    return this.#log.bounds();
  }

  async close(): Promise<void> {
    // Nothing held here: the stream is Redis's, the connection the cluster's.
  }
}
