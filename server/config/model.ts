/** @module The typed configuration model that the lwsws files are turned into. */
import type { Level } from '../base/log.ts';

export interface SourceRef {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/**
 * permessage-deflate for one protocol (RFC 7692): off, one compressor shared
 * by every connection of the thread (no context kept between messages), or a
 * compressor of its own per connection, named by the memory it holds (zlib's
 * deflate state for that window). Inbound messages always use the thread's
 * shared decompressor (the client is asked not to keep context), so a
 * connection holds nothing for them. server/transport/uws/ maps the words to
 * uWS.js's constants; docs/reference/transport.md has the measured cost.
 */
export const WS_COMPRESSIONS = ['off', 'shared', 'dedicated-3k', 'dedicated-4k', 'dedicated-8k', 'dedicated-16k', 'dedicated-32k', 'dedicated-64k', 'dedicated-128k', 'dedicated-256k'] as const;
export type WsCompression = (typeof WS_COMPRESSIONS)[number];

export function isWsCompression(s: unknown): s is WsCompression {
  return (WS_COMPRESSIONS as readonly unknown[]).includes(s);
}

export function where(s: SourceRef): string {
  return `${s.file}:${s.line}:${s.col}`;
}

export interface GlobalConfig {
  /** Server header value. lwsws: "server-string". */
  readonly serverString: string;
  /** Absolute plugin directories, shipped plugins first. lwsws: "plugin-dir". */
  readonly pluginDirs: readonly string[];
  /** Worker threads serving the listeners. lwsws: "count-threads". */
  readonly countThreads: number;
  /** Idle channels with history kept per vhost and protocol (least recently used freed first). tsws: "channel-idle-max". */
  readonly channelIdleMax: number;
  /** Ping idle websockets after this many seconds and close silent ones; 0 disables. lwsws: "ws-pingpong-secs". */
  readonly wsPingPongSecs: number;
  /** A websocket silent (no whole message, no pong) this long is pinged, and cut after as long again; 0 disables. tsws: "ws-message-timeout-secs". */
  readonly wsMessageTimeoutSecs: number;
  /** Largest websocket message of any vhost not setting its own. tsws: "ws-max-message-size". */
  readonly wsMaxMessageSize: number;
  /** pino level when -d is not given. */
  readonly logLevel: Level;
  /** Set when this instance is one of several sharing state through Redis. */
  readonly cluster: ClusterConfig | undefined;
  /** Who to become once everything privileged is done. lwsws: uid, gid, username, groupname. */
  readonly privileges: Privileges;
  /** A request body that stalls longer is cut. lwsws: "timeout-secs". */
  readonly timeoutSecs: number;
  /** User-Agent substring → status. lwsws: "reject-service-keywords". */
  readonly rejectServiceKeywords: readonly (readonly [string, number])[];
  /** How long a stop lets connections finish, in seconds. */
  readonly graceSecs: number;
  /** A serving loop held this long by one callback is interrupted; 0: no watchdog (server/threads/watchdog.ts). */
  readonly watchdogSecs: number;
  /** Websockets per remote address; 0 is no limit. lwsws: "ip-limit-wsi". */
  readonly ipLimitWsi: number;
  /** Prometheus metrics: where they are served; undefined when not at all. tsws: "metrics". */
  readonly metrics: MetricsConfig | undefined;
}

export interface MetricsConfig {
  /** Path answering the scrape. */
  readonly path: string;
  /** A listener of their own on this port (0: OS-picked); undefined serves `path` on every vhost instead. */
  readonly port: number | undefined;
  /** With `port`: the address to bind; undefined is all interfaces. */
  readonly iface: string | undefined;
  readonly source: SourceRef;
}

export interface Privileges {
  readonly uid: number | undefined;
  readonly gid: number | undefined;
  readonly username: string | undefined;
  readonly groupname: string | undefined;
}

/** One address a vhost listens on. */
export interface ListenAddress {
  /** 0 asks the OS for a free port; ignored for UNIX sockets. */
  readonly port: number;
  /** An address, an interface name, or the socket path when unixSocket is set. */
  readonly iface: string | undefined;
  readonly unixSocket: boolean;
  readonly source: SourceRef;
}

/** Addresses with the same key share one listening socket. */
export function listenerKey(addr: ListenAddress): string {
  return addr.unixSocket ? `unix:${addr.iface}` : `${addr.iface ?? '*'}:${addr.port}`;
}

export interface TlsConfig {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
  readonly ciphers: string | undefined;
}

export interface ClusterConfig {
  readonly redisUrl: string;
  /** Prefix of every Redis key and channel. */
  readonly prefix: string;
  readonly instanceId: string;
  /** What to do when Redis does not answer at start-up. */
  readonly unreachableAtStart: 'retry' | 'local';
  /** Entries of an instance that stopped heart-beating vanish after this. */
  readonly ttlSecs: number;
  /** Publications held for Redis at most; past it they are dropped (counted). */
  readonly maxQueue: number;
  readonly source: SourceRef;
}

/** Ordered name/value pairs as written (lwsws "headers", "cgi-env"). */
export type Pairs = readonly (readonly [string, string])[];

export type Origin =
  | { readonly kind: 'file'; readonly root: string }
  | { readonly kind: 'cgi'; readonly script: string }
  | { readonly kind: 'callback'; readonly protocol: string }
  | { readonly kind: 'proxy'; readonly url: string }
  | { readonly kind: 'redirect'; readonly url: string }
  | { readonly kind: 'gzip'; readonly path: string };

export interface MountConfig {
  /** Always starts with "/", never ends with "/" unless it is "/". */
  readonly mountpoint: string;
  readonly origin: Origin;
  /** The origin as written, for logs and errors. */
  readonly originText: string;
  /** File served for a directory. lwsws: "default". */
  readonly defaultFile: string;
  readonly cacheMaxAge: number;
  readonly cacheReuse: boolean;
  readonly cacheRevalidate: boolean;
  readonly cacheIntermediaries: boolean;
  /** "Cache-Control: no-cache", winning over the rest. lwsws: "cache-no". */
  readonly cacheNo: boolean;
  /** Serves the mountpoint only, not the paths below. lwsws: "exact-match". */
  readonly exactMatch: boolean;
  /** Upgrades skip this mount. lwsws: "no-ws-upgrades". */
  readonly noWsUpgrades: boolean;
  /** cgi:// only: the script's working directory; undefined: the script's own directory. lwsws: "cgi-chdir". */
  readonly cgiChdir: string | undefined;
  /** Extension (lower case, with its dot) to MIME type. lwsws: "extra-mimetypes". */
  readonly extraMimetypes: ReadonlyMap<string, string>;
  /** Absolute path of a file of user:password lines. lwsws: "basic-auth". */
  readonly basicAuth: string | undefined;
  /** Extra response headers. lwsws: "headers". */
  readonly headers: Pairs;
  /** cgi:// only: seconds without progress before the script is killed. lwsws: "cgi-timeout". */
  readonly cgiTimeout: number;
  /** cgi:// only: extra environment. lwsws: "cgi-env". */
  readonly cgiEnv: Pairs;
  /** >http(s):// only: append the rest of the path and the query to the target. tsws: "append-path". */
  readonly appendPath: boolean;
  readonly source: SourceRef;
}

export interface ProtocolEnable {
  readonly name: string;
  /** Serves upgrades that name no protocol. lwsws: "default": "1" in the protocol's options. */
  readonly isDefault: boolean;
  /** The largest message for this protocol on this vhost, whatever the plugin says. tsws: "ws-max-message-size" in its options. */
  readonly maxMessageSize: number | undefined;
  /** permessage-deflate for this protocol on this vhost, whatever the plugin says; undefined takes the plugin's. tsws: "permessage-deflate" in its options. */
  readonly compression: WsCompression | undefined;
  /** Options as written (lwsws values are strings); the plugin's option specs type them. */
  readonly options: Readonly<Record<string, string>>;
  readonly optionSources: Readonly<Record<string, SourceRef>>;
  readonly source: SourceRef;
}

export interface VhostConfig {
  readonly name: string;
  /** 0 asks the OS for a free port (logged at start-up); ignored for UNIX sockets. */
  readonly port: number;
  /** An address, an interface name, or the socket path when unixSocket is set. */
  readonly iface: string | undefined;
  readonly unixSocket: boolean;
  readonly accessLog: string | undefined;
  /** Path on this vhost served with status 404 when nothing matches. */
  readonly errorDocument404: string | undefined;
  /** Answered before any mount: 200 while serving, 503 while draining. tsws: "health-path". */
  readonly healthPath: string | undefined;
  /** Extra headers on every HTTP response. lwsws: "headers". */
  readonly headers: Pairs;
  /** Every address served: port/interface first, then the "listen" extras. */
  readonly listens: readonly ListenAddress[];
  readonly tls: TlsConfig | undefined;
  /** Strict-Transport-Security on TLS responses. lwsws: "sts". */
  readonly sts: boolean;
  /** Skip this vhost (logged) when its certificate or key is missing. lwsws: "ignore-missing-cert". */
  readonly ignoreMissingCert: boolean;
  /** A plain vhost answering everything with 301 to https. lwsws: "redirect-http". */
  readonly redirectHttp: boolean;
  /** Largest websocket message on this vhost; undefined takes the global value. tsws: "ws-max-message-size". */
  readonly wsMaxMessageSize: number | undefined;
  /** Origins allowed to open websockets; undefined allows any. */
  readonly wsOrigins: readonly string[] | undefined;
  /** Messages per remote address, all its websockets on this vhost together; undefined: off. tsws: "ws-rate-limit-address". */
  readonly wsRateLimitAddress: RateSpec | undefined;
  /** Messages per authenticated subject, all their websockets on this vhost together; undefined: off. tsws: "ws-rate-limit-user". */
  readonly wsRateLimitUser: RateSpec | undefined;
  readonly mounts: readonly MountConfig[];
  readonly protocols: readonly ProtocolEnable[];
  readonly source: SourceRef;
}

/** A token bucket's settings ("ws-rate-limit-address", "ws-rate-limit-user"): `burst` at once, refilled at `perSecond`. */
export interface RateSpec {
  readonly perSecond: number;
  readonly burst: number;
}

export interface ServerConfig {
  readonly configDir: string;
  readonly dataDir: string;
  /** Every file read, in the order read. */
  readonly files: readonly string[];
  readonly global: GlobalConfig;
  readonly vhosts: readonly VhostConfig[];
}
