/** @module Raw HTTP over a socket, for requests a normal client would tidy up (.., %00, bad headers). */
import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

export function rawRequest(port: number, request: string, host = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host, () => sock.write(request));
    const chunks: Buffer[] = [];
    sock.on('data', (c) => {
      chunks.push(c);
      // One response is enough; don't wait for keep-alive to time out.
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = /content-length: *(\d+)/i.exec(text.slice(0, end));
      if (len && text.length >= end + 4 + Number(len[1])) sock.end();
    });
    sock.on('error', reject);
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end < 0 ? text : text.slice(0, end);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: end < 0 ? '' : text.slice(end + 4) });
    });
  });
}

export const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`;

/** Decodes a chunked HTTP/1.1 body (after the blank line). */
export function decodeChunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', i);
    if (eol < 0) throw new Error('truncated chunked body');
    const size = Number.parseInt(body.subarray(i, eol).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(out);
    out.push(body.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
}

/**
 * Sends `request` and resolves with the status and head as soon as the head
 * has arrived, then drops the connection: for answers that come while the
 * request's body is still owed (a refusal's lingering close waits for it).
 */
export function rawHead(port: number, request: string, host = '127.0.0.1'): Promise<Omit<RawResponse, 'body'>> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host, () => sock.write(request));
    let text = '';
    sock.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = text.slice(0, end);
      sock.destroy();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head });
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`closed before a head arrived: ${JSON.stringify(text)}`)));
  });
}
