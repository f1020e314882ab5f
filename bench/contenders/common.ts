/** @module What every Node bench contender shares: its command line and the static file's response headers. */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface ContenderArgs {
  readonly port: number;
  /** The file served at "/" (and at "/<its name>") for the static-file scenario. */
  readonly file: string;
  /** PEM certificate and key: serve TLS (the TLS echo scenario). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export function contenderArgs(): ContenderArgs {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, file: { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' } } });
  if (!values.file) throw new Error('--file <path> is required');
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if (!cert !== !key) throw new Error('--tls-cert and --tls-key go together');
  return { port: Number(values.port), file: values.file, ...(cert && key ? { tls: { cert, key } } : {}) };
}

/** The static file with the headers tsws sends for it (so every contender writes the same response). */
export interface StaticFile {
  readonly urls: ReadonlySet<string>;
  readonly body: Buffer;
  readonly headers: readonly (readonly [string, string])[];
}

export function loadStaticFile(file: string): StaticFile {
  const body = fs.readFileSync(file);
  const st = fs.statSync(file);
  const etag = `"${st.size.toString(16).toUpperCase().padStart(8, '0')}${Math.floor(st.mtimeMs / 1000).toString(16).toUpperCase().padStart(8, '0')}"`;
  return {
    urls: new Set(['/', `/${path.basename(file)}`]),
    body,
    headers: [
      ['Server', 'bench'],
      ['Content-Type', 'text/html'],
      ['Cache-Control', 'must-revalidate, private, max-age=60'],
      ['ETag', etag],
    ],
  };
}

/** The first protocol a client asked for (the contenders offer every protocol they know). */
export function firstProtocol(header: string | undefined): string {
  return (header ?? '').split(',')[0]?.trim() ?? '';
}

/** The harness reads this line to learn the port. */
export function announceReady(port: number): void {
  process.stdout.write(`${JSON.stringify({ event: 'ready', port })}\n`);
}

/** Mirror group from "?mirror=name", as lws-mirror-protocol picks it. */
export function mirrorGroup(query: string): string {
  return `mirror:${new URLSearchParams(query).get('mirror') ?? ''}`;
}
