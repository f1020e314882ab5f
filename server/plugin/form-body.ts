/** @module Parses urlencoded and multipart/form-data bodies for plugins, without them importing the transport. */
import { getParts } from '../transport/uws/uws-adapter.ts';

export interface FormField {
  readonly name: string;
  /** Text fields decoded as UTF-8; file contents as bytes. */
  readonly value: string;
  readonly data: Buffer;
  readonly filename?: string;
  readonly type?: string;
}

/**
 * application/x-www-form-urlencoded through URLSearchParams, multipart through
 * uWS.js's own parser (getParts). Returns undefined for any other content type.
 */
export function parseFormBody(body: Buffer, contentType: string): FormField[] | undefined {
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    return [...new URLSearchParams(body.toString('utf8'))].map(([name, value]) => ({ name, value, data: Buffer.from(value) }));
  }
  if (type === 'multipart/form-data') {
    const parts = getParts(body, contentType);
    if (!parts) return undefined;
    return parts.map((p) => {
      const data = Buffer.from(new Uint8Array(p.data)); // a copy: the parts point into the body
      return { name: p.name, value: data.toString('utf8'), data, ...(p.filename !== undefined ? { filename: p.filename } : {}), ...(p.type !== undefined ? { type: p.type } : {}) };
    });
  }
  return undefined;
}
