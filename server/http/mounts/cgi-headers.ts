/** @module Parses the header block a CGI script prints before its body (RFC 3875 section 6), chunk by chunk. */
import type { HeaderList } from '../exchange.ts';

/** A script whose header block grows past this without ending is refused. */
export const MAX_CGI_HEAD = 64 * 1024;

export interface CgiHead {
  readonly status: number;
  readonly headers: HeaderList;
  /** From the script's Content-Length, when it gave a valid one. */
  readonly contentLength: number | undefined;
}

export type CgiParse =
  | { readonly kind: 'more' }
  | { readonly kind: 'head'; readonly head: CgiHead; readonly body: Buffer }
  | { readonly kind: 'error'; readonly detail: string };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Header bytes that could split or smuggle a response. */
const CONTROL = /[\0-\x08\x0a-\x1f\x7f]/;
/**
 * The framework or the transport writes these itself (Server, Date,
 * Content-Length, chunked framing); a script's copy would duplicate or
 * contradict them. Connection-level headers belong to our connection, not
 * the script's.
 */
const DROPPED = new Set(['server', 'date', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'trailer']);

export class CgiHeadParser {
  #buf: Buffer = Buffer.alloc(0);

  /** Feeds stdout; returns the head and the start of the body once the empty line came. */
  feed(chunk: Buffer): CgiParse {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const end = headEnd(this.#buf);
    if (!end) {
      if (this.#buf.length > MAX_CGI_HEAD) return { kind: 'error', detail: `no end of the header block within ${MAX_CGI_HEAD} bytes` };
      return { kind: 'more' };
    }
    const parsed = parseHead(this.#buf.subarray(0, end.at).toString('utf8'));
    if (typeof parsed === 'string') return { kind: 'error', detail: parsed };
    return { kind: 'head', head: parsed, body: this.#buf.subarray(end.at + end.length) };
  }

  /** stdout ended: a script may end with its header lines and no empty line (no body). */
  finish(): CgiParse {
    if (this.#buf.length === 0) return { kind: 'error', detail: 'it printed nothing on stdout' };
    const parsed = parseHead(this.#buf.toString('utf8'));
    if (typeof parsed === 'string') return { kind: 'error', detail: parsed };
    return { kind: 'head', head: parsed, body: Buffer.alloc(0) };
  }
}

/** Where the empty line is: scripts end lines with "\n" or "\r\n". */
function headEnd(buf: Buffer): { at: number; length: number } | undefined {
  if (buf[0] === 0x0a) return { at: 0, length: 1 };
  if (buf[0] === 0x0d && buf[1] === 0x0a) return { at: 0, length: 2 };
  const lf = buf.indexOf('\n\n');
  const crlf = buf.indexOf('\n\r\n');
  if (lf < 0 && crlf < 0) return undefined;
  if (crlf < 0 || (lf >= 0 && lf < crlf)) return { at: lf + 1, length: 1 };
  return { at: crlf + 1, length: 2 };
}

/** The header lines as a CgiHead, or what is wrong with them. */
function parseHead(text: string): CgiHead | string {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l !== '');
  if (lines.length === 0) return 'the header block is empty';
  let status: number | undefined;
  let location = false;
  let contentType = false;
  let contentLength: number | undefined;
  const headers: [string, string][] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (!TOKEN.test(name)) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    if (CONTROL.test(value)) return `control character in header "${name}"`;
    const lower = name.toLowerCase();
    if (lower === 'status') {
      const m = /^([1-5]\d\d)(?:\s.*)?$/.exec(value);
      if (!m) return `malformed Status "${value.slice(0, 80)}"`;
      status = Number(m[1]);
      continue;
    }
    if (lower === 'content-length') {
      if (/^\d+$/.test(value)) contentLength = Number(value);
      continue;
    }
    if (DROPPED.has(lower)) continue;
    if (lower === 'location') location = true;
    if (lower === 'content-type') contentType = true;
    headers.push([name, value]);
  }
  if (status === undefined && !location && !contentType) return 'none of Content-Type, Location or Status was given';
  // RFC 3875 6.2.3: a Location without a Status is a redirect. A local path
  // ("/x") is sent to the client as a redirect too, not re-served internally.
  return { status: status ?? (location ? 302 : 200), headers, contentLength };
}
