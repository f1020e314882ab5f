/** @module Plugin API, what a plugin is told about a request and how it answers a gate (re-exported by api.ts). */

/** The HTTP request that opened a connection (the upgrade) or an HTTP transaction. */
export interface PeerRequest {
  readonly method: string;
  /** The path as requested, without the query. */
  readonly path: string;
  /** The raw query string, without the "?". */
  readonly query: string;
  /** Header names are lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Remote address as text (IPv4 dotted, IPv6 hex). */
  readonly peer: string;
  /**
   * Set when a mount routed the request here: every HTTP transaction, and an
   * upgrade a `mountUpgrades` protocol takes. `pathInMount` is "" or starts with "/".
   */
  readonly mountpoint?: string;
  readonly pathInMount?: string;
  /** A decoded query parameter, or undefined. */
  queryParam(name: string): string | undefined;
  /** One header by its lower-case name (repeated ones joined by ", "), without building `headers`: a websocket keeps its request for life. */
  header(name: string): string | undefined;
  /**
   * Who the gate said this is: set when the filter accepted with `auth`
   * (`jwtFilter` of tsws/plugin/runtime does), so the session maker sees it.
   * The connection's current one (after a refresh) is `conn.auth`.
   */
  readonly auth?: Authenticated;
}

/**
 * An authenticated peer, as a gate found it (docs/reference/auth.md). The
 * framework keys the per-user rate limit by `subject` and closes a websocket
 * with 4001 "token expired" at `expiresAt` unless `conn.renewAuth` moved it.
 */
export interface Authenticated {
  /** The user: a JWT's `sub`. The per-user rate limit counts by it. */
  readonly subject: string;
  /** Seconds since the epoch after which the connection is closed (4001); undefined: never. */
  readonly expiresAt?: number;
  /** Everything the token said (a JWT's payload), for the plugin. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** An HTTP request under a callback:// mount. */
export interface HttpRequestInfo extends PeerRequest {
  /** The mount's mountpoint, e.g. "/formtest". */
  readonly mountpoint: string;
  /** The path below the mountpoint: "" or starting with "/". */
  readonly pathInMount: string;
}

/** Headers as an object or as pairs (pairs allow a header twice, e.g. Set-Cookie). */
export type HeaderInput = Readonly<Record<string, string>> | readonly (readonly [string, string])[];

/**
 * Where a piece of a message sits (lws_is_first_fragment,
 * lws_is_final_fragment, lws_remaining_packet_payload). A whole message is
 * first and final with nothing remaining; only a protocol with
 * `receiveFragments` ever sees anything else.
 */
export interface Fragment {
  readonly first: boolean;
  readonly final: boolean;
  /** Bytes of the message still to come after this piece. */
  readonly remaining: number;
}

/** A message published on a topic this connection subscribed to. */
export interface Published {
  readonly topic: string;
  readonly data: Buffer | string;
  readonly isBinary: boolean;
  /** For a publication of a channel (vhost.channels): its name and position. */
  readonly channel?: { readonly name: string; readonly epoch: string; readonly offset: number; readonly time: number };
}

// ---- gates: websocket and HTTP filters decide with the same words ---------

/**
 * A gate's no: the status (400 to 599; anything else is sent as 403), the
 * reason for the response body, and headers (a 401's WWW-Authenticate: HTTP
 * gates add `Basic realm="tsws"` when a 401 names none).
 */
export interface Refusal {
  readonly refuse: number;
  readonly reason?: string;
  readonly headers?: HeaderInput;
}

/** 'accept' naming who the peer is: the request's `auth` (and the websocket's `conn.auth`) from then on. */
export interface Accepted {
  readonly accept: true;
  readonly auth?: Authenticated;
}

/** What a gate (`websocket.filter`, `http.filter`) decides: 'accept' (with `auth`, as an object), or a refusal. One word for both. */
export type Verdict = 'accept' | Accepted | Refusal;

/**
 * 'accept' with details, for a protocol that relays upgrades (`mountUpgrades`):
 * `protocol` is the subprotocol the 101 names (one the client asked for, or ''
 * for none) instead of this protocol's own name; `dropped` runs when the
 * accepted upgrade never became a connection (the client left while the
 * filter decided), to release what the filter set up for it.
 */
export interface UpgradeAccept extends Accepted {
  readonly protocol?: string;
  readonly dropped?: () => void;
}

/** A websocket filter's answer to an upgrade request, before the 101 goes out. */
export type FilterVerdict = Verdict | UpgradeAccept;

/**
 * apiVersion 1's HTTP gate (checkAccess): 'allow' where the websocket filter
 * says 'accept'. Version 2 gates answer a Verdict.
 * @deprecated apiVersion 1 only; see docs/guides/migrating-to-v2.md.
 */
export type AccessVerdict = 'allow' | { readonly refuse: 401 | 403; readonly reason?: string; readonly headers?: HeaderInput };
