/** @module Content types by extension: the mount's extra-mimetypes first, then the mime-db table. */
import path from 'node:path';
import mime from 'mime-types';

/**
 * lws answers 415 for an extension it does not know; like nginx we send
 * application/octet-stream instead, so an unusual file still downloads.
 */
export function contentTypeFor(file: string, extra: ReadonlyMap<string, string>): string {
  const ext = path.extname(file).toLowerCase();
  const configured = extra.get(ext);
  if (configured) return configured;
  return mime.contentType(ext) || 'application/octet-stream';
}
