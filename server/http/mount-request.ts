/** @module What every mount origin handler receives: the exchange, the live request, the matched mount. */
import type { Logger } from 'pino';
import type { Clock } from '../base/clock.ts';
import type { MountConfig, Origin } from '../config/model.ts';
import type { HttpReq } from '../transport/types.ts';
import type { HttpExchange } from './exchange.ts';
import type { FileCache } from './file-cache.ts';
import type { BodyFraming } from './framing.ts';
import type { InFlight } from './inflight.ts';

/** Per-listener context the handlers need. */
export interface HttpDeps {
  readonly fileCache: FileCache;
  readonly serverString: string;
  readonly log: Logger;
  /** The listener's bound port and scheme (filled in once it listens). */
  readonly listener: { port: number; readonly tls: boolean };
  /** HTTP exchanges not finished yet, for a stop that lets them complete. */
  readonly inflight: InFlight;
  /** Request bodies that stall longer than this are cut (timeout-secs). */
  readonly bodyStallMs: number;
  /** What the stall timer runs on: the server's clock. */
  readonly clock: Clock;
  /** Sends the vhost's 404 (its error-document-404 when set). */
  readonly notFound: (ex: HttpExchange) => void;
}

export interface MountRequest<O extends Origin = Origin> {
  readonly ex: HttpExchange;
  /** The transport's request: read it synchronously, it is gone once the handler returns. */
  readonly req: HttpReq;
  readonly mount: MountConfig & { readonly origin: O };
  /** The normalised request path. */
  readonly path: string;
  /** The part of `path` under the mountpoint: "" or starting with "/". */
  readonly rest: string;
  readonly query: string;
  /** The body's framing, already checked for ambiguity (readFraming). */
  readonly framing: BodyFraming;
  readonly deps: HttpDeps;
}

export type OriginHandler<O extends Origin> = (m: MountRequest<O>) => void;

/** One handler per origin kind; the compiler checks none is missing. */
export type OriginTable = { readonly [K in Origin['kind']]: OriginHandler<Extract<Origin, { kind: K }>> };
