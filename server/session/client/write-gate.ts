/** @module The one-write-per-writable rule of client connections (server connections and HTTP transactions use session/writables.ts; moving clients onto it is pending). */
import { tswsError } from '../../base/errors.ts';

const IDLE = 0;
const OPEN = 1;
const WRITTEN = 2;

/**
 * `open()` before calling a writable callback, `close()` after it; `claim()`
 * on every write. A second claim in one callback, or a claim outside one,
 * throws the coded error that names the protocol (and the callback that tried).
 */
export class WriteGate {
  #phase = IDLE;

  open(): void {
    this.#phase = OPEN;
  }

  close(): void {
    this.#phase = IDLE;
  }

  claim(protocol: string, current: string | undefined): void {
    if (this.#phase === OPEN) {
      this.#phase = WRITTEN;
      return;
    }
    if (this.#phase === WRITTEN) throw tswsError('TSWS_ERR_BACK_TO_BACK_WRITE', { protocol });
    throw tswsError('TSWS_ERR_WRITE_OUTSIDE_WRITABLE', { protocol, callback: current ?? 'outside any callback' });
  }
}
