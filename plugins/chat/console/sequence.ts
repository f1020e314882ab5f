/** @module A client's view of its room's message sequence: which messages to show, and when to say some were missed or the ids started again. */
import type { ChatMessage, ServerMessage } from '../protocol.ts';

type Welcome = Extract<ServerMessage, { type: 'welcome' }>;

/** Said when the room's ids start again in a new epoch (the web page says the same: share/tsws-test-server/chat/chat.js). */
export const RESTARTED = "the server's message sequence restarted; messages sent while it was down may be missing";

export const missed = (from: number, to: number): string =>
  from === to ? `message #${from} of this room did not arrive` : `messages #${from} to #${to} of this room did not arrive`;

/** What to show, in order: a message, or a notice (a string) about the messages around it. */
export type Shown = readonly (ChatMessage | string)[];

/**
 * Why (epoch, lastId) and not lastId alone: a server whose store lost its
 * data (a Redis restarted empty, a restarted single server) numbers a room's
 * messages from 1 again, and a client comparing ids only would take every new
 * message for one it has shown and skip it without a word. Ids are compared
 * within an epoch only; a new epoch is said out loud, and so is an id that
 * skips ahead (a message that never arrived), so nothing goes missing in
 * silence. A server older than the epoch sends none: "" throughout, and the
 * plain id rule.
 */
export class RoomSequence {
  /** The epoch of the last message shown, or the welcome's; "" for none yet. */
  #epoch = '';
  #lastId = 0;
  /** Whether #lastId is where the room stood (a welcome said so, or a message was shown): an id past it + 1 was missed. */
  #known = false;

  /** A welcome. `rejoin`: the same room again after a lost connection, so what was shown before counts. */
  welcome(w: Welcome, rejoin: boolean): Shown {
    // A server older than the epoch sends neither field (render.ts lets that through).
    const epoch = w.epoch ?? '';
    const lastId = typeof w.lastId === 'number' ? w.lastId : undefined;
    if (!rejoin) {
      this.#epoch = epoch;
      this.#lastId = Math.max(lastId ?? 0, w.history.at(-1)?.id ?? 0);
      this.#known = lastId !== undefined || w.history.length > 0;
      return w.history;
    }
    const out: (ChatMessage | string)[] = [];
    if (epoch !== this.#epoch) this.#restart(epoch, out);
    for (const m of w.history) this.#accept(m, out);
    // Messages after the history's last one (or all, with no history kept) that this client never saw.
    if (lastId !== undefined && lastId > this.#lastId) {
      if (this.#known) out.push(missed(this.#lastId + 1, lastId));
      this.#lastId = lastId;
    }
    this.#known = true;
    return out;
  }

  /** A live message: itself if it is to be shown, after any notice about what came before it. */
  message(m: ChatMessage): Shown {
    const out: (ChatMessage | string)[] = [];
    this.#accept(m, out);
    return out;
  }

  #accept(m: ChatMessage, out: (ChatMessage | string)[]): void {
    const epoch = m.epoch ?? '';
    if (epoch !== this.#epoch) this.#restart(epoch, out);
    // Around a join, history and live messages overlap: seen ids are skipped.
    if (m.id <= this.#lastId) return;
    if (this.#known && m.id > this.#lastId + 1) out.push(missed(this.#lastId + 1, m.id - 1));
    this.#lastId = m.id;
    this.#known = true;
    out.push(m);
  }

  /** A new epoch starts at 1. Only leaving a sequence this client had is news: a room's first epoch is not. */
  #restart(epoch: string, out: (ChatMessage | string)[]): void {
    if (this.#epoch !== '') out.push(RESTARTED);
    this.#epoch = epoch;
    this.#lastId = 0;
    this.#known = true;
  }
}
