/** @module Which uWebSockets.js binary this Node loads: the builds we vouch for, the file picked, and why it cannot load. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * A build we ship and vouch for, chosen by the transport conformance suite
 * (test/transport-conformance.test.ts; docs/reference/transport.md has the
 * table): for each Node major, the newest official uWS.js
 * release that loads there, as @uwsjs republishes it on the npm registry (one
 * package per platform and Node major, holding the released uws.node).
 */
export interface BuildSpec {
  /** Short name used in logs and in the conformance suite's deviation table. */
  readonly id: string;
  /** The uWS.js release inside. */
  readonly uws: string;
  /** The package version that holds it (the same for every platform). */
  readonly version: string;
  readonly nodeMajor: number;
  /** The oldest glibc its Linux binaries load on (objdump -T: the newest GLIBC_ symbol version they need). */
  readonly glibc: string;
}

export const BUILDS: readonly BuildSpec[] = [
  {
    id: 'uws-20.67.0',
    uws: 'v20.67.0',
    version: '20.69.0',
    nodeMajor: 24,
    glibc: '2.38',
  },
  {
    id: 'uws-20.51.0',
    uws: 'v20.51.0',
    version: '20.51.4',
    nodeMajor: 20,
    glibc: '2.27',
  },
];

/** The package holding the binary of `spec` for this platform, as package.json's optionalDependencies name it. */
export function packageOf(spec: BuildSpec): string {
  return `@uwsjs/${process.platform}-${process.arch}-${spec.nodeMajor}`;
}

/** What was loaded, for the start-up log line and the checksum test. */
export interface LoadedBuild {
  readonly id: string;
  /** The npm package and version the binary came from. */
  readonly package: string;
  readonly uws: string;
  readonly node: string;
  readonly abi: string;
  readonly file: string;
  readonly sha256: string;
}

/** Why no build loads here; turned into TSWS_ERR_TRANSPORT_UNAVAILABLE by the caller. */
export class TransportUnavailable extends Error {
  constructor(
    readonly facts: { readonly node: string; readonly glibcFound: string; readonly glibcNeeded: string; readonly build: string; readonly reason: string },
    options?: ErrorOptions,
  ) {
    super(facts.reason, options);
  }
}

const requireHere = createRequire(import.meta.url);

/** The build for this Node major, or undefined when none has a binary for it. */
export function buildFor(nodeMajor: number): BuildSpec | undefined {
  return BUILDS.find((b) => b.nodeMajor === nodeMajor);
}

/** The glibc this process runs on ("2.36"), or "none" (musl, or not Linux). */
export function glibcVersion(): string {
  const header = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return header?.header?.glibcVersionRuntime ?? 'none';
}

/** Where to look; the defaults are this process's. Tests pass others to see each refusal. */
export interface LoadInputs {
  readonly node?: string;
  readonly glibc?: string;
  /** TSWS_UWS_BINARY: a binary to load instead of the build for this Node (the candidate runs of the conformance suite). */
  readonly override?: string | undefined;
  readonly overrideId?: string | undefined;
}

/**
 * Loads the binary itself (not the package's index.js), so that what is
 * logged and checksummed is exactly what runs. Throws TransportUnavailable
 * with what was found and what was needed.
 */
export function loadBuild(inputs: LoadInputs = {}): { readonly native: unknown; readonly build: LoadedBuild } {
  const node = inputs.node ?? process.versions.node;
  const glibcFound = inputs.glibc ?? glibcVersion();
  const override = 'override' in inputs ? inputs.override : process.env.TSWS_UWS_BINARY;
  const nodeMajor = Number(node.split('.')[0]);
  const spec = override ? undefined : buildFor(nodeMajor);
  const refuse = (glibcNeeded: string, build: string, reason: string, cause?: unknown) =>
    new TransportUnavailable({ node, glibcFound, glibcNeeded, build, reason }, cause === undefined ? undefined : { cause });
  if (!override && !spec) throw refuse('-', '-', `tsws ships uWebSockets.js for ${BUILDS.map((b) => `Node ${b.nodeMajor} (${b.id})`).join(' and ')} only`);
  const pkg = spec ? `${packageOf(spec)}@${spec.version}` : '-';
  let file: string;
  try {
    file = override ? path.resolve(override) : path.join(path.dirname(requireHere.resolve(`${packageOf(spec as BuildSpec)}/package.json`)), 'uws.node');
  } catch (err) {
    const where = process.platform === 'linux' && process.arch === 'x64' ? `with Node ${spec?.nodeMajor}` : 'on Linux x64 only (the registry has no other platform of it)';
    throw refuse(spec?.glibc ?? '-', pkg, `${pkg} is not installed: npm installs it ${where}; run npm ci with the Node that will serve`, err);
  }
  if (spec && glibcFound !== 'none' && compareVersions(glibcFound, spec.glibc) < 0) {
    // Said before dlopen tries: its own message names one missing symbol version, not the way out.
    throw refuse(spec.glibc, pkg, `its binary needs glibc ${spec.glibc} or later`);
  }
  let native: unknown;
  try {
    native = requireHere(file);
  } catch (err) {
    const message = (err as Error).message;
    throw refuse(glibcNeededBy(message) ?? spec?.glibc ?? '-', override ? file : pkg, message.split('\n')[0] ?? message, err);
  }
  const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const id = override ? `candidate:${inputs.overrideId ?? process.env.TSWS_UWS_BUILD_ID ?? path.basename(override)}` : (spec as BuildSpec).id;
  return {
    native,
    build: { id, package: override ? file : pkg, uws: spec?.uws ?? 'unknown', node, abi: process.versions.modules, file, sha256 },
  };
}

/** The glibc version a dlopen error says is missing ("version `GLIBC_2.38' not found"). */
export function glibcNeededBy(message: string): string | undefined {
  return /GLIBC_([\d.]+)' not found/.exec(message)?.[1];
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
