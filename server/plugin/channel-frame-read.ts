/**
 * @module The channel helper's reading of client frames: a text message is a channel frame when it is
 * a JSON object with a "ch" member; a frame that is one but lacks what its kind needs is named, to be
 * answered with TSWS_ERR_CHANNEL_FRAME. Nothing here throws.
 */
import type { ChannelPosition } from './api-channels.ts';
import type { ClientFrame } from './channel-frames.ts';
import { echoedName, nameProblem } from './channel-names.ts';

export type FrameRead = { readonly frame: ClientFrame } | { readonly bad: string; readonly channel?: string; readonly ref?: string } | undefined;

type Obj = Record<string, unknown>;

/** A ref is echoed back in `published` and `error`: short, so a client cannot make the server store and send megabytes. */
const MAX_REF = 64;

function position(v: unknown): ChannelPosition | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { epoch, offset } = v as Obj;
  return typeof epoch === 'string' && Number.isSafeInteger(offset) && (offset as number) >= 0 ? { epoch, offset: offset as number } : undefined;
}

/** undefined: not a channel frame (the protocol's own message). */
export function readClientFrame(data: Buffer | string): FrameRead {
  const first = typeof data === 'string' ? data.charCodeAt(0) : data[0];
  if (first !== 0x7b /* { */) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('ch' in value)) return undefined;
  const f = value as Obj;
  const channel = typeof f.channel === 'string' && f.channel !== '' ? f.channel : undefined;
  const ref = typeof f.ref === 'string' && f.ref.length <= MAX_REF ? f.ref : undefined;
  // A name no channel can have is refused here, whatever the frame (unsubscribe too): nothing is looked up, and
  // the answer repeats only its start, so a client cannot make the server hold and send its megabytes back.
  const problem = channel === undefined ? undefined : nameProblem(channel);
  if (channel !== undefined && problem !== undefined && (f.ch === 'subscribe' || f.ch === 'unsubscribe' || f.ch === 'publish')) {
    return { bad: `"channel" ${JSON.stringify(echoedName(channel))}: ${problem}`, channel: echoedName(channel), ...(ref ? { ref } : {}) };
  }
  switch (f.ch) {
    case 'subscribe': {
      if (channel === undefined) return { bad: 'subscribe needs a "channel" (a non-empty string)' };
      const since = f.since === undefined ? undefined : position(f.since);
      if (f.since !== undefined && since === undefined) return { bad: '"since" must be { epoch: string, offset: integer >= 0 }', channel };
      if (f.presence !== undefined && typeof f.presence !== 'boolean') return { bad: '"presence" must be true or false', channel };
      return { frame: { ch: 'subscribe', channel, ...(since ? { since } : {}), ...(f.presence === true ? { presence: true } : {}) } };
    }
    case 'unsubscribe':
      return channel === undefined ? { bad: 'unsubscribe needs a "channel" (a non-empty string)' } : { frame: { ch: 'unsubscribe', channel } };
    case 'publish': {
      if (f.ref !== undefined && ref === undefined) return { bad: `"ref" must be a string of at most ${MAX_REF} characters`, ...(channel ? { channel } : {}) };
      if (channel === undefined) return { bad: 'publish needs a "channel" (a non-empty string)', ...(ref ? { ref } : {}) };
      if (!('data' in f)) return { bad: 'publish needs "data" (any JSON value)', channel, ...(ref ? { ref } : {}) };
      return { frame: { ch: 'publish', channel, data: f.data, ...(ref ? { ref } : {}) } };
    }
    case 'token':
      return typeof f.token === 'string' ? { frame: { ch: 'token', token: f.token } } : { bad: 'token needs a "token" (a string)' };
    default:
      return { bad: `unknown "ch": ${JSON.stringify(f.ch).slice(0, 40)} (subscribe, unsubscribe, publish or token)` };
  }
}
