/** @module The packet log of a cluster: the plugin's channel `packets`, whose history is one Redis stream for every instance, so ids and replay are the same wherever a client lands. */
import type { Channel, ChannelMessage, Channels, Conn } from '../../server/plugin/api.ts';
import type { PacketLog, StoredPacket } from './packet-log.ts';

/**
 * Packet ids are the channel's offsets: the store assigns offset n and
 * delivers the publication to every instance in offset order in one step
 * (docs/reference/channels.md). The channel carries `{"ts","packet"}`; the
 * stored form `{"id","ts","packet"}` is made with the offset when read or
 * delivered. If Redis comes back empty the channel starts a new epoch and
 * ids start again at 1, as the README says. Durability is Redis's.
 */
export class ChannelPacketLog implements PacketLog {
  readonly publishesAppends = true;
  readonly #channel: Channel;

  constructor(channels: Channels, retention: number) {
    this.#channel = channels.channel('packets', { history: { size: retention } });
  }

  async append(packet: unknown): Promise<StoredPacket> {
    const ts = Date.now();
    const pos = await this.#channel.publish(JSON.stringify({ ts, packet }));
    return { id: pos.offset, ts, packet };
  }

  async read(after: number, limit: number): Promise<StoredPacket[]> {
    // Offsets mean something within the channel's current epoch only: a packet id is read as one of it.
    const { epoch } = await this.#channel.position();
    const h = await this.#channel.history({ since: { epoch, offset: after }, limit });
    return h.messages.filter((m) => m.epoch === h.position.epoch).map(storedOf);
  }

  async bounds(): Promise<{ firstId: number; lastId: number }> {
    const [pos, oldest] = await Promise.all([this.#channel.position(), this.#channel.history({ limit: 1 })]);
    return { firstId: oldest.messages[0]?.offset ?? pos.offset + 1, lastId: pos.offset };
  }

  async follow(conn: Conn): Promise<number> {
    return (await this.#channel.subscribe(conn)).position.offset;
  }

  async close(): Promise<void> {
    // Nothing held here: the channel is the framework's.
  }
}

/** A channel message as the stored packet it carries. */
export function storedOf(m: ChannelMessage): StoredPacket {
  const { ts, packet } = JSON.parse(typeof m.data === 'string' ? m.data : m.data.toString('utf8')) as { ts: number; packet: unknown };
  return { id: m.offset, ts, packet };
}

/** The stored form's text of a channel publication: `{"id":n,` spliced before its `"ts"`. */
export const storedText = (m: { readonly data: Buffer | string }, offset: number): string => `{"id":${offset},${String(m.data).slice(1)}`;
