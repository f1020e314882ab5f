/** @module Self-signed certificates made by the tests themselves (openssl), never keys committed from elsewhere. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Cert {
  readonly cert: string;
  readonly key: string;
  readonly pem: string;
}

const made: string[] = [];

/** A throwaway self-signed certificate for `name` (CN and subjectAltName), on a P-256 key or (for cipher tests) an RSA one. */
export function makeCert(name: string, keyType: 'ec' | 'rsa' = 'ec'): Cert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsws-cert-'));
  made.push(dir);
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const newkey = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...newkey, '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { stdio: 'ignore' });
  return { cert, key, pem: fs.readFileSync(cert, 'utf8') };
}

export function removeCerts(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}
