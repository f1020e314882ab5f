/** @module The cluster instance id: its form, and the default drawn per process. */
import crypto from 'node:crypto';
import os from 'node:os';

/** Ids travel in every bus message (one length byte) and in key names: keep them short and plain. */
export const INSTANCE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Drawn once per module instance (a process, or a thread): a reload reads the config again and must get the same id. */
const INSTANCE_SUFFIX = crypto.randomBytes(2).toString('hex');

/**
 * A fresh id per process: a restarted task must not inherit the entries its
 * crashed predecessor left, which then expire on their own.
 */
export function defaultInstanceId(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40) || 'tsws';
  return `${host}-${process.pid}-${INSTANCE_SUFFIX}`;
}
