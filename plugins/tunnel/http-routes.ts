/** @module The tunnel's callback mount: the HTTP handshake, messages from HTTP nodes, the node list, and /<id>/... forwarded through tunnels. */
import type { HttpEvents, HttpTxn, PeerRequest } from '../../server/plugin/api.ts';
import { HOP_BY_HOP, connectionListed, type ForwardStream } from './forward.ts';
import { handshake } from './handshake.ts';
import type { LinkContext } from './link.ts';
import type { WsStream } from './ws-stream.ts';
import type { Delivery } from './node-ref.ts';
import { relay } from './relay.ts';
import { PendingReply, jsonReply, textReply, type Reply } from './reply.ts';
import { NODE_ID, readObject, type HeaderPairs, type NackCode } from './wire.ts';

export interface RouteContext extends LinkContext {
  readonly listNodes: boolean;
  /** Forwarded websockets between their filter and their session (the framework hands both the same request). */
  readonly upgrades: WeakMap<PeerRequest, WsStream>;
}

/** What one request under the mount is doing. */
type HttpJob =
  | { readonly kind: 'answer'; readonly reply: PendingReply; readonly collect?: Collected }
  | { readonly kind: 'forward'; readonly stream: ForwardStream; readonly hasBody: boolean };

interface Collected {
  readonly purpose: 'hello' | 'message';
  readonly limit: number;
  readonly chunks: Buffer[];
  size: number;
}

type Txn = HttpTxn<unknown, unknown>;

const HELLO_LIMIT = 16 * 1024;

const NACK_STATUS: Readonly<Record<NackCode, number>> = {
  'unknown-node': 404,
  'not-connected': 502,
  'not-accepted': 403,
  'too-big': 413,
  busy: 503,
  'delivery-failed': 502,
  disconnected: 502,
};

/**
 * One request under the mount, as its transaction's object (http.transaction):
 * `http` decides what it is, the other callbacks follow that job.
 */
export class MountRequest implements HttpEvents {
  readonly #txn: Txn;
  readonly #ctx: RouteContext;
  #job: HttpJob | undefined;

  constructor(txn: Txn, ctx: RouteContext) {
    this.#txn = txn;
    this.#ctx = ctx;
  }

  http(): void {
    this.#job = startRequest(this.#txn, this.#ctx);
  }

  httpBody(chunk: Buffer): void {
    if (this.#job) requestBody(this.#job, chunk);
  }

  httpBodyCompletion(): void {
    if (this.#job) requestBodyDone(this.#job, this.#txn, this.#ctx);
  }

  httpWritable(): void {
    if (this.#job) responseWritable(this.#job, this.#txn);
  }

  httpClosed(how: 'completed' | 'aborted'): void {
    if (this.#job) requestClosed(this.#job, how);
  }
}

/** `http`: decides what the request is; answers right away when it can. */
function startRequest(txn: Txn, ctx: RouteContext): HttpJob {
  const { method, pathInMount, mountpoint, query } = txn.request;
  const answer = (reply?: Reply, collect?: Omit<Collected, 'chunks' | 'size'>): HttpJob => {
    const job: HttpJob = { kind: 'answer', reply: new PendingReply(), ...(collect ? { collect: { ...collect, chunks: [], size: 0 } } : {}) };
    if (reply) job.reply.set(txn, reply);
    return job;
  };
  // httpBodyCompletion comes only for a declared body: a POST without one is answered now.
  const h = txn.request.headers;
  const declared = h['content-length'] !== undefined || h['transfer-encoding'] !== undefined;
  if (pathInMount === '' || pathInMount === '/') {
    if (method === 'POST') return declared ? answer(undefined, { purpose: 'hello', limit: HELLO_LIMIT }) : answer(httpHello('', ctx));
    if ((method === 'GET' || method === 'HEAD') && ctx.listNodes) return answer(jsonReply(200, nodeList(ctx)));
    return answer(textReply(405, 'POST a hello here (see the tunnel README)', { allow: ctx.listNodes ? 'GET, HEAD, POST' : 'POST' }));
  }
  if (pathInMount === '/_message') {
    if (method === 'POST') return declared ? answer(undefined, { purpose: 'message', limit: ctx.maxMessageBytes + 4096 }) : answer(jsonReply(400, { type: 'error', message: 'POST the message as a JSON body' }));
    return answer(textReply(405, 'POST a message here (see the tunnel README)', { allow: 'POST' }));
  }
  const [, id = '', ...rest] = pathInMount.split('/');
  if (!NODE_ID.test(id)) return answer(textReply(404, 'not a node id'));
  // /nodes/<id> → /nodes/<id>/ so that the private site's relative links resolve under its prefix.
  if (rest.length === 0) return answer(textReply(301, 'moved', { location: `${mountpoint}/${id}/${query ? `?${query}` : ''}` }));
  return forward(txn, ctx, id, `/${rest.join('/')}`, answer);
}

function forward(txn: Txn, ctx: RouteContext, id: string, rest: string, answer: (r: Reply) => HttpJob): HttpJob {
  const entry = ctx.directory.get(id);
  if (!entry) return answer(ctx.tokens.has(id) ? textReply(502, `node ${id} is not connected`) : textReply(404, `no node ${id} here`));
  if (!entry.offers.includes('http')) return answer(textReply(502, `node ${id} does not serve HTTP`));
  switch (entry.ref.kind) {
    case 'http':
      return answer(textReply(502, `node ${id} is registered with an HTTP address, not a tunnel: reach it directly`));
    case 'tunnel': {
      const link = ctx.directory.tunnel(entry.ref);
      if (!link) return answer(textReply(502, `node ${id} is not connected`));
      const hasBody = declaresBody(txn.request.headers);
      const { query } = txn.request;
      const path = `${encodePath(rest)}${query ? `?${query}` : ''}`;
      const stream = link.openStream(txn, { path, headers: forwardedHeaders(txn.request, txn.request.mountpoint, id), body: hasBody }, ctx);
      if (!stream) return answer(textReply(503, `node ${id} is answering ${ctx.maxStreams} requests already; try again`));
      return { kind: 'forward', stream, hasBody };
    }
    default: {
      const unreachable: never = entry.ref;
      return unreachable;
    }
  }
}

function requestBody(job: HttpJob, chunk: Buffer): void {
  if (job.kind === 'forward') {
    if (job.hasBody) job.stream.upload(chunk);
    return;
  }
  const c = job.collect;
  if (!c) return;
  c.size += chunk.length;
  // Past the limit keep counting, stop keeping: the answer will be 413.
  if (c.size <= c.limit) c.chunks.push(chunk);
}

function requestBodyDone(job: HttpJob, txn: Txn, ctx: RouteContext): void {
  if (job.kind === 'forward') {
    if (job.hasBody) job.stream.uploadEnd();
    return;
  }
  const c = job.collect;
  if (!c) return;
  if (c.size > c.limit) return job.reply.set(txn, textReply(413, `at most ${c.limit} bytes here`));
  const text = Buffer.concat(c.chunks).toString('utf8');
  if (c.purpose === 'hello') return job.reply.set(txn, httpHello(text, ctx));
  messageFromHttp(text, ctx, (r) => job.reply.set(txn, r));
}

function responseWritable(job: HttpJob, txn: Txn): void {
  if (job.kind === 'forward') job.stream.writable();
  else job.reply.writable(txn);
}

function requestClosed(job: HttpJob, how: 'completed' | 'aborted'): void {
  if (job.kind === 'forward') job.stream.closed(how);
}

// ---- the HTTP handshake and HTTP nodes' messages ------------------------------------

/** The same decision and the same answer as a tunnel's first frame; an accepted hello with a `url` registers that address. */
function httpHello(text: string, ctx: RouteContext): Reply {
  const r = handshake(text, ctx.tokens, ctx.terms);
  if (!r.ok) {
    ctx.log.warn({ code: r.answer.code, detail: r.answer.message }, 'tunnel: HTTP hello refused');
    return jsonReply(r.status, r.answer);
  }
  if (r.hello.url !== undefined) {
    ctx.directory.registerHttp(r.hello.id, r.offers, r.hello.url);
    ctx.log.info({ node: r.hello.id, url: r.hello.url, offers: r.offers }, 'tunnel: node registered by HTTP');
  }
  return jsonReply(200, r.answer);
}

/** `{"type":"msg","from","token","to","body"}`: the token proves `from`, as in a hello. */
function messageFromHttp(text: string, ctx: RouteContext, answer: (r: Reply) => void): void {
  const o = readObject(text);
  if (!o.ok || o.value.type !== 'msg') return answer(jsonReply(400, { type: 'error', message: o.ok ? 'expected {"type": "msg", ...}' : o.error }));
  const { from, token, to, body } = o.value;
  if (typeof from !== 'string' || typeof token !== 'string' || typeof to !== 'string' || !('body' in o.value)) {
    return answer(jsonReply(400, { type: 'error', message: 'a message needs "from", "token", "to" and "body"' }));
  }
  if (!ctx.tokens.check(from, token)) return answer(jsonReply(403, { type: 'refused', code: 'bad-credentials', message: 'unknown node id or wrong token' }));
  relay(ctx, { from, to, body }, (d: Delivery) => answer(d.ok ? jsonReply(200, { type: 'ack' }) : jsonReply(NACK_STATUS[d.code], { type: 'nack', code: d.code, message: d.message })));
}

function nodeList(ctx: RouteContext): unknown {
  return { nodes: ctx.directory.list().map((n) => ({ id: n.id, via: n.ref.kind, offers: n.offers, since: new Date(n.since).toISOString() })) };
}

// ---- what the private node receives ----------------------------------------------------

function declaresBody(h: Readonly<Record<string, string>>): boolean {
  const length = h['content-length'];
  return length !== undefined ? length.trim() !== '0' : h['transfer-encoding'] !== undefined;
}

/**
 * The path arrives decoded and normalised once (tsws refuses ".." above the
 * root before any plugin sees it); each segment is encoded again, keeping the
 * characters RFC 3986 allows in a segment. An encoded "/" (%2F) therefore
 * reaches the private node as a separator.
 */
export function encodePath(p: string): string {
  return p
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%(?:21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/gi, (m) => decodeURIComponent(m)))
    .join('/');
}

/**
 * The client's headers minus hop-by-hop ones and Host (the agent sets its
 * target's), plus the X-Forwarded-* family. An upgrade's Sec-WebSocket-*
 * headers are the agent's own to make for its websocket to the target.
 */
export function forwardedHeaders(request: PeerRequest, mountpoint: string, id: string): HeaderPairs {
  const h = request.headers;
  const listed = connectionListed(h.connection);
  const out: [string, string][] = Object.entries(h).filter(([k]) => !HOP_BY_HOP.has(k) && !listed.has(k) && k !== 'host' && !k.startsWith('x-forwarded-') && !k.startsWith('sec-websocket-'));
  const peer = request.peer;
  out.push(['x-forwarded-for', h['x-forwarded-for'] ? `${h['x-forwarded-for']}, ${peer}` : peer]);
  if (h.host) out.push(['x-forwarded-host', h.host]);
  out.push(['x-forwarded-proto', 'http'], ['x-forwarded-prefix', `${mountpoint}/${id}`]);
  return out;
}
