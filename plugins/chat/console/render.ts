/** @module tsws-chat output: checks chat's own replies and turns them and the room's messages into terminal lines, with escapes made harmless. */
import type { ChatMessage, ServerMessage } from '../protocol.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrs = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);

function isChatMessage(o: unknown): o is ChatMessage {
  return isObj(o) && isStr(o.epoch) && isNum(o.offset) && isStr(o.name) && isStr(o.text) && isNum(o.time);
}

/** A frame of chat's own from the server, or undefined when it is not one this client understands (it is then ignored). */
export function readServerMessage(frame: string): ServerMessage | undefined {
  let o: unknown;
  try {
    o = JSON.parse(frame);
  } catch {
    return undefined;
  }
  if (!isObj(o)) return undefined;
  switch (o.type) {
    case 'welcome':
      return isStr(o.room) && isStr(o.name) && isStr(o.channel) && isStrs(o.members) && Array.isArray(o.history) && o.history.every(isChatMessage) &&
        isNum(o.time) && isStr(o.epoch) && isNum(o.offset)
        ? (o as ServerMessage)
        : undefined;
    case 'left':
      return isStr(o.room) && isStr(o.name) && isNum(o.time) ? (o as ServerMessage) : undefined;
    case 'members':
      return isStr(o.room) && isStrs(o.members) ? (o as ServerMessage) : undefined;
    case 'error':
      return isStr(o.code) && isStr(o.message) ? (o as ServerMessage) : undefined;
    default:
      return undefined;
  }
}

/**
 * Another person's text must not drive our terminal: control characters
 * (escape sequences, bells, carriage returns) are shown as U+FFFD. The
 * server refuses them already; this holds against any server.
 */
export const harmless = (s: string): string => s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/gu, '\ufffd').replace(/\t/g, '    ');

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local wall-clock time, HH:MM:SS. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `12:34:56 <alice> text`, further lines of the text indented under the first. */
export function messageLines(m: { readonly name: string; readonly text: string; readonly time: number }): string[] {
  const head = `${clock(m.time)} <${harmless(m.name)}> `;
  const [first = '', ...rest] = harmless(m.text).split('\n');
  return [head + first, ...rest.map((l) => ' '.repeat(head.length) + l)];
}

/** `12:34:56 * what`: joins and leaves. */
export const eventLine = (ms: number, what: string): string => `${clock(ms)} * ${harmless(what)}`;

/** `12:34:56 ! what`: errors and notices of this client. */
export const noticeLine = (ms: number, what: string): string => `${clock(ms)} ! ${harmless(what)}`;

export const memberList = (room: string, members: readonly string[]): string =>
  `in ${room} (${members.length}): ${members.join(', ')}`;
