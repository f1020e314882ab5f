/**
 * @module tsws/client's reading of server frames: a text message is a channel frame when it is a JSON
 * object whose "ch" names one with the members it needs; anything else is the protocol's own message.
 */
import type { ServerFrame } from '../plugin/channel-frames.ts';

type Obj = Record<string, unknown>;

const isPosition = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as Obj).epoch === 'string' && typeof (v as Obj).offset === 'number';
const isMember = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as Obj).id === 'string';

/** The members each frame must carry, beyond "ch": a frame missing one is not taken for a channel frame. */
const SHAPES: Readonly<Record<ServerFrame['ch'], (f: Obj) => boolean>> = {
  subscribed: (f) => typeof f.channel === 'string' && isPosition(f) && (f.members === undefined || (Array.isArray(f.members) && f.members.every(isMember))),
  message: (f) => typeof f.channel === 'string' && isPosition(f) && typeof f.time === 'number' && 'data' in f,
  gap: (f) => typeof f.channel === 'string' && isPosition(f.from) && isPosition(f.to) && typeof f.reason === 'string',
  presence: (f) => typeof f.channel === 'string' && (f.event === 'join' || f.event === 'leave') && isMember(f.member),
  published: (f) => typeof f.channel === 'string' && isPosition(f),
  unsubscribed: (f) => typeof f.channel === 'string',
  error: (f) => typeof f.code === 'string' && typeof f.message === 'string',
};

export function parseServerFrame(text: string): ServerFrame | undefined {
  if (text.charCodeAt(0) !== 0x7b /* { */) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Obj;
  const check = typeof f.ch === 'string' && Object.hasOwn(SHAPES, f.ch) ? SHAPES[f.ch as ServerFrame['ch']] : undefined;
  return check?.(f) ? (f as unknown as ServerFrame) : undefined;
}
