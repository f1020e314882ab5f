/** @module file:// mounts: static files with lwsws's Cache-Control, ETag/304, directory redirects and streaming. */
import fs from 'node:fs';
import type { MountConfig, Origin } from '../../config/model.ts';

type FileOrigin = Extract<Origin, { kind: 'file' }>;
import { describeError, tswsError } from '../../base/errors.ts';
import { renderHead, type HttpExchange, type HeaderList } from '../exchange.ts';
import type { CachedFile } from '../file-cache.ts';
import type { MountRequest } from '../mount-request.ts';
import { contentTypeFor } from '../mime.ts';
import { unreadBody } from '../request-body.ts';

/** lwsws's rule: no-cache with cache-no; else no-store unless cache-reuse and cache-max-age are set; "public" when intermediaries may cache. */
export function cacheControl(m: MountConfig): string {
  if (m.cacheNo) return 'no-cache';
  if (!m.cacheMaxAge || !m.cacheReuse) return 'no-store';
  const who = m.cacheIntermediaries ? 'public' : 'private';
  return m.cacheRevalidate ? `must-revalidate, ${who}, max-age=${m.cacheMaxAge}` : `${who}, max-age=${m.cacheMaxAge}`;
}

function etagMatches(header: string, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  // Weak comparison (RFC 9110 13.1.2): W/ prefixes do not matter for If-None-Match.
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** Read on every request: as bytes, which uWS.js reads in place (HttpReq.getHeader). */
const IF_NONE_MATCH = Buffer.from('if-none-match');

/** What a static file answers to. */
const ALLOW: HeaderList = [['Allow', 'GET, HEAD']];

/**
 * A file is read, never written: PUT, DELETE, POST, PROPFIND... get 405 and
 * the methods it does answer (RFC 9110 15.5.6 wants Allow), as nginx's static
 * module answers them, before the file is looked for; OPTIONS too, as nginx
 * does (no CORS preflight is answered here). A request body is not read: the
 * 405 goes with a lingering close. Methods are case-sensitive (RFC 9110 9.1).
 */
function refuseMethod(ex: HttpExchange, framing: MountRequest['framing']): void {
  ex.sendStatus(405, `${ex.method} is not allowed on a file: GET or HEAD`, ALLOW, { unread: unreadBody(ex.res, framing) });
}

export function serveFileMount({ ex, req, mount: m, path, rest, query, framing, deps }: MountRequest<FileOrigin>): void {
  if (ex.method !== 'GET' && ex.method !== 'HEAD') return refuseMethod(ex, framing);
  const ifNoneMatch = req.getHeader(IF_NONE_MATCH);
  const q = query ? `?${query}` : '';
  // "/mnt" on a mount is the directory itself: send the browser to "/mnt/" so relative links resolve.
  if (rest === '' && m.mountpoint !== '/') return ex.redirect(301, `${path}/${q}`);
  const relative = rest === '' || rest.endsWith('/') ? `${rest}${m.defaultFile}` : rest;
  const found = deps.fileCache.lookup(m.origin.root, relative);
  switch (found.kind) {
    case 'directory':
      return ex.redirect(301, `${path}/${q}`);
    case 'missing':
    case 'outside':
      return deps.notFound(ex);
    case 'file':
      return sendFile(ex, m, found.entry, ifNoneMatch, 200);
    default: {
      const never: never = found;
      return never;
    }
  }
}

/**
 * A file's responses on one mount, prepared once: a changed file is a new
 * CachedFile (so a new entry), and mounts live as long as the config. The
 * heads are rendered (renderHead) for the Server string and configured
 * headers they were made with; an exchange with others gets a new entry.
 */
interface FileResponses {
  /** Content-Type, Cache-Control, ETag: the file's own headers, for streaming. */
  readonly headers: HeaderList;
  readonly serverString: string;
  readonly extra: HeaderList;
  /** Rendered heads by status; a HEAD's (with Content-Length) under the negated status. */
  readonly heads: Map<number, Buffer>;
}

const memo = new WeakMap<MountConfig, WeakMap<CachedFile, FileResponses>>();

function responsesFor(ex: HttpExchange, m: MountConfig, file: CachedFile): FileResponses {
  let perMount = memo.get(m);
  if (!perMount) memo.set(m, (perMount = new WeakMap()));
  let r = perMount.get(file);
  if (!r || r.serverString !== ex.serverString || r.extra !== ex.configuredHeaders) {
    const headers: HeaderList = [
      ['Content-Type', contentTypeFor(file.path, m.extraMimetypes)],
      ['Cache-Control', cacheControl(m)],
      ['ETag', file.etag],
    ];
    r = { headers, serverString: ex.serverString, extra: ex.configuredHeaders, heads: new Map() };
    perMount.set(file, r);
  }
  return r;
}

/** 304s carry no Content-Type (there is no body to describe), HEADs the length a GET's body would have. */
function headFor(r: FileResponses, status: number, head: boolean, size: number): Buffer {
  const key = head ? -status : status;
  let h = r.heads.get(key);
  if (!h) {
    h = renderHead(status, r.serverString, r.extra, status === 304 ? r.headers.slice(1) : r.headers, head ? size : undefined);
    r.heads.set(key, h);
  }
  return h;
}

export function sendFile(ex: HttpExchange, m: MountConfig, file: CachedFile, ifNoneMatch: string, status: number): void {
  const r = responsesFor(ex, m, file);
  if (status === 200 && etagMatches(ifNoneMatch, file.etag)) return ex.sendRendered(304, headFor(r, 304, false, 0), undefined);
  if (ex.isHead) return ex.sendRendered(status, headFor(r, status, true, file.size), undefined);
  if (file.body) return ex.sendRendered(status, headFor(r, status, false, 0), file.body);
  streamFile(ex, r.headers, file, status);
}

const CHUNK = 64 * 1024;

/** Large files: read a chunk, hand it to tryEnd, and wait for onWritable when the socket is full. */
function streamFile(ex: HttpExchange, headers: HeaderList, file: CachedFile, status: number): void {
  let fd: number;
  try {
    fd = fs.openSync(file.path, 'r');
  } catch (err) {
    const e = tswsError('TSWS_ERR_FILE_READ', { file: file.path, reason: describeError(err) }, err);
    return ex.sendStatus(e.httpStatus ?? 500, 'The file could not be read.');
  }
  const total = file.size;
  let sent = 0;
  let pending: Buffer | undefined;
  let closed = false;
  const closeFd = () => {
    if (!closed) {
      closed = true;
      fs.close(fd, () => undefined);
    }
  };
  ex.watchAbort(closeFd);
  ex.res.cork(() => ex.writeHead(status, headers));

  // Returns true when the whole file went out.
  const pump = (): boolean => {
    while (!ex.aborted) {
      if (!pending) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK, total - sent));
        const n = buf.length === 0 ? 0 : fs.readSync(fd, buf, 0, buf.length, sent);
        pending = buf.subarray(0, n);
        if (n === 0 && sent < total) {
          // The file shrank under us: end the response short rather than hang.
          ex.res.close();
          closeFd();
          return true;
        }
      }
      const offset = ex.res.getWriteOffset();
      const [ok, done] = ex.res.tryEnd(pending, total);
      if (done) {
        closeFd();
        ex.finish(status, total);
        return true;
      }
      if (!ok) {
        // Part of the chunk may have been taken; keep the rest for onWritable.
        const taken = ex.res.getWriteOffset() - offset;
        sent += taken;
        pending = pending.subarray(taken);
        return false;
      }
      sent += pending.length;
      pending = undefined;
    }
    return true;
  };

  ex.res.onWritable(() => {
    if (ex.aborted) return true;
    let finished = false;
    ex.res.cork(() => {
      finished = pump();
    });
    return finished || pending === undefined;
  });
  ex.res.cork(() => {
    pump();
  });
}
