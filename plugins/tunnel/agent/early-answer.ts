/** @module An http.Agent whose connections let a target answer before it has read the whole request body, and close. */
import http from 'node:http';
import net from 'node:net';

/** The write errors of a peer that closed: the upload is over, the response may still be there to read. */
const CLOSED_BY_PEER = new Set(['EPIPE', 'ECONNRESET']);

function closedByPeer(err: Error | null | undefined): boolean {
  return err !== null && err !== undefined && CLOSED_BY_PEER.has((err as NodeJS.ErrnoException).code ?? '');
}

type WriteCallback = (error?: Error | null) => void;

/**
 * A target may answer before it has read the body and close: python's
 * http.server answers a POST with 501 at once, and closing with the body
 * unread makes its kernel reset the connection. The response is then already
 * in this socket's receive buffer, but the agent, still writing body bytes
 * as they come through the tunnel, can hit the reset first, and node's HTTP
 * client destroys the socket on that write error with the response unread:
 * the client got 502 for the target's 501. Here a write refused because the
 * peer closed only ends the upload (its bytes are dropped); reading goes on,
 * so the response that came is parsed, and a target that answered nothing
 * still fails, since the read then ends in the same reset.
 */
class EarlyAnswerSocket extends net.Socket {
  override _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void {
    super._write(chunk, encoding, (err) => callback(closedByPeer(err) ? null : err));
  }

  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], callback: WriteCallback): void {
    const base = net.Socket.prototype._writev;
    // net.Socket has always had _writev; the typings only say a Writable may lack one.
    if (!base) return callback(new Error('net.Socket without _writev'));
    base.call(this, chunks, (err) => callback(closedByPeer(err) ? null : err));
  }
}

/** For http:// targets. (TLS writes fail inside the TLS layer, out of a socket's reach: https:// targets keep node's behaviour.) */
export class EarlyAnswerAgent extends http.Agent {
  override createConnection(options: http.ClientRequestArgs): net.Socket {
    const connect: net.TcpNetConnectOpts = { host: options.host ?? options.hostname ?? 'localhost', port: Number(options.port ?? 80) };
    if (options.localAddress) connect.localAddress = options.localAddress;
    if (options.family) connect.family = options.family;
    return new EarlyAnswerSocket().connect(connect);
  }
}
