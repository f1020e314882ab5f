/** @module The loader's checks of what every protocol declares, whatever its apiVersion: name, limits, options, and callback tables. */
import { type TswsError, tswsError } from '../base/errors.ts';
import { nearest } from '../config/suggest.ts';
import { displayPath } from '../config/display-path.ts';
import { DEFAULT_BODY_LIMIT } from '../config/schema.ts';
import { WS_COMPRESSIONS, isWsCompression } from '../config/model.ts';
import { RESERVED_OPTIONS, type OptionSpecs } from './api-options.ts';
import { DEFAULT_INBOX, DEFAULT_RX_BUFFER_SIZE, type InboxLimits, type RuntimeProtocol } from './runtime-protocol.ts';

/** A protocol name is an RFC 6455 subprotocol token (no separators, no spaces). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const shown = displayPath;

/** Makes the coded error of a malformed descriptor, for protocols[i]. */
export type Bad = (detail: string) => TswsError;

export function badProtocol(file: string, i: number): Bad {
  return (detail) => tswsError('TSWS_ERR_PLUGIN_DESCRIPTOR', { file: shown(file), detail: `protocols[${i}]: ${detail}` });
}

/** The part of a RuntimeProtocol both versions declare the same way. */
export type ProtocolSettingsPart = Pick<
  RuntimeProtocol,
  'name' | 'rxBufferSize' | 'receiveFragments' | 'receiveView' | 'maxMessageSize' | 'compression' | 'inbox' | 'httpBodyLimit' | 'mountUpgrades' | 'rateLimit' | 'optionSpecs' | 'check'
>;

/** The keys ProtocolSettings declares (api-options.ts), for version 2's check of unknown keys. */
export const SETTINGS_KEYS = ['name', 'rxBufferSize', 'receiveFragments', 'receiveData', 'maxMessageSize', 'compression', 'options', 'inbox', 'rateLimit', 'httpBodyLimit', 'mountUpgrades', 'check'] as const;

/** Name, sizes, limits and options, each checked and defaulted; `seen` refuses a name twice in one file. */
export function checkSettings(file: string, p: Record<string, unknown>, bad: Bad, seen: Set<string>, warnings: TswsError[]): ProtocolSettingsPart {
  const name = p.name;
  if (typeof name !== 'string' || !TOKEN.test(name)) throw bad(`"name" must be a websocket subprotocol token, got ${JSON.stringify(name)}`);
  if (seen.has(name)) throw tswsError('TSWS_ERR_PLUGIN_DUPLICATE_PROTOCOL', { file: shown(file), protocol: name, first: shown(file) });
  seen.add(name);
  const rx = checkSize(p.rxBufferSize, 'rxBufferSize', bad) ?? DEFAULT_RX_BUFFER_SIZE;
  const fragments = p.receiveFragments ?? false;
  if (typeof fragments !== 'boolean') throw bad(`"receiveFragments" must be a boolean, got ${JSON.stringify(fragments)}`);
  const receiveData = p.receiveData ?? 'copy';
  if (receiveData !== 'copy' && receiveData !== 'view') throw bad(`"receiveData" must be "copy" or "view", got ${JSON.stringify(receiveData)}`);
  // A port of an lws plugin brings its rx_buffer_size; before receiveFragments it was tsws's message limit.
  if (p.rxBufferSize !== undefined && !fragments) warnings.push(tswsError('TSWS_WARN_PLUGIN_RX_BUFFER_UNUSED', { file: shown(file), protocol: name }));
  if (p.check !== undefined && typeof p.check !== 'function') throw bad('"check" must be a function');
  const bodyLimit = p.httpBodyLimit ?? DEFAULT_BODY_LIMIT;
  if (typeof bodyLimit !== 'number' || !Number.isInteger(bodyLimit) || bodyLimit < 0) throw bad(`"httpBodyLimit" must be a non-negative integer, got ${JSON.stringify(bodyLimit)}`);
  const compression = p.compression ?? 'off';
  if (!isWsCompression(compression)) throw bad(`"compression" must be one of ${WS_COMPRESSIONS.map((w) => `'${w}'`).join(', ')}, got ${JSON.stringify(compression)}`);
  const mountUpgrades = p.mountUpgrades ?? false;
  if (typeof mountUpgrades !== 'boolean') throw bad(`"mountUpgrades" must be a boolean, got ${JSON.stringify(mountUpgrades)}`);
  return {
    name,
    rxBufferSize: rx,
    receiveFragments: fragments,
    receiveView: receiveData === 'view',
    maxMessageSize: checkSize(p.maxMessageSize, 'maxMessageSize', bad),
    compression,
    inbox: checkInbox(p.inbox, bad),
    httpBodyLimit: bodyLimit,
    mountUpgrades,
    rateLimit: checkRateLimit(p.rateLimit, bad),
    optionSpecs: checkOptionSpecs(p.options, bad),
    check: p.check as RuntimeProtocol['check'],
  };
}

/** A function-valued member, when given. */
type Fn = (...args: never[]) => unknown;

/**
 * A table of callbacks (version 1's `callbacks`, version 2's `websocket` and
 * `http` parts): every key one of `names` (else the nearest is suggested),
 * every value a function. `prefix` names the part in errors ("websocket.").
 */
export function checkTable(file: string, protocol: string, raw: unknown, names: readonly string[], prefix: string, bad: Bad): Readonly<Record<string, Fn>> {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) throw bad(`protocol "${protocol}": "${prefix.replace(/\.$/, '') || 'callbacks'}" must be an object`);
  for (const [name, fn] of Object.entries(raw)) {
    if (!names.includes(name)) {
      const suggestion = nearest(name, names);
      throw tswsError('TSWS_ERR_PLUGIN_UNKNOWN_CALLBACK', { file: shown(file), protocol, name: prefix + name, ...(suggestion ? { suggestion: prefix + suggestion } : {}) });
    }
    checkFunction(file, protocol, prefix + name, fn);
  }
  return raw as Readonly<Record<string, Fn>>;
}

/** A callback that must be a function when it is there. */
export function checkFunction(file: string, protocol: string, name: string, fn: unknown): void {
  if (fn !== undefined && typeof fn !== 'function') {
    throw tswsError('TSWS_ERR_PLUGIN_CALLBACK_NOT_FUNCTION', { file: shown(file), protocol, name, got: fn === null ? 'null' : typeof fn });
  }
}

function checkSize(v: unknown, what: string, bad: Bad): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`"${what}" must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function checkRateLimit(raw: unknown, bad: Bad): RuntimeProtocol['rateLimit'] {
  if (raw === undefined) return undefined;
  const r = raw as { messagesPerSecond?: unknown; burst?: unknown } | null;
  const rate = r?.messagesPerSecond;
  if (typeof rate !== 'number' || !(rate > 0)) throw bad('"rateLimit.messagesPerSecond" must be a positive number');
  const burst = r?.burst ?? rate;
  if (typeof burst !== 'number' || !(burst >= 1)) throw bad('"rateLimit.burst" must be a number of at least 1');
  return { perMs: rate / 1000, burst };
}

function checkInbox(raw: unknown, bad: Bad): InboxLimits {
  if (raw === undefined) return DEFAULT_INBOX;
  if (typeof raw !== 'object' || raw === null) throw bad('"inbox" must be an object');
  const r = raw as Partial<InboxLimits>;
  const int = (v: unknown, fallback: number, what: string) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`"inbox.${what}" must be a positive integer`);
    return v;
  };
  if (r.onOverflow !== undefined && r.onOverflow !== 'close' && r.onOverflow !== 'drop-oldest') throw bad('"inbox.onOverflow" must be "close" or "drop-oldest"');
  return {
    maxMessages: int(r.maxMessages, DEFAULT_INBOX.maxMessages, 'maxMessages'),
    maxBytes: int(r.maxBytes, DEFAULT_INBOX.maxBytes, 'maxBytes'),
    onOverflow: r.onOverflow ?? DEFAULT_INBOX.onOverflow,
  };
}

function checkOptionSpecs(raw: unknown, bad: Bad): OptionSpecs {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null) throw bad('"options" must be an object of option specs');
  for (const [k, spec] of Object.entries(raw)) {
    const t = (spec as { type?: unknown } | null)?.type;
    if (t !== 'string' && t !== 'path' && t !== 'int' && t !== 'bool') throw bad(`option "${k}" needs type "string", "path", "int" or "bool"`);
    if (k in RESERVED_OPTIONS) throw bad(`option "${k}" is reserved by the framework`);
  }
  return raw as OptionSpecs;
}
