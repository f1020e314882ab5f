/** @module tsws-chat's connection (a client connection): joins, re-joins after a lost connection with backoff, and turns typed lines into requests. */
import type { StandaloneClients, StandaloneConn } from '../../../server/session/client/standalone.ts';
import type { TswsError } from '../../../server/plugin/api.ts';
import type { Request, ServerMessage } from '../protocol.ts';
import { eventLine, memberList, messageLines, noticeLine, readServerMessage } from './render.ts';
import { RoomSequence, type Shown } from './sequence.ts';

/** What the session needs from the terminal around it. */
export interface ConsoleIo {
  /** One line of chat output. */
  print(line: string): void;
  /** Shows which room typed lines go to. */
  setRoom(room: string): void;
  /** Ends the program; `message` goes to stderr. */
  exit(code: number, message?: string): void;
}

export interface SessionOptions {
  readonly url: string;
  readonly name: string;
  readonly room: string;
  /** Client connections (standaloneClients): the chat's connection is one. */
  readonly connect: StandaloneClients['connect'];
}

/**
 * After a lost connection: 0.5 s doubling to 10 s, equal jitter (terminals
 * cut off by one server restart do not all come back in the same instant),
 * started over only once the server welcomed us back, so a refused re-join
 * does not bring the next attempt sooner. Before the first join a failure is
 * fatal instead (exit 1): there is no conversation to keep.
 */
const RECONNECT = { firstMs: 500, maxMs: 10_000, resetOn: 'manual' } as const;
const HANDSHAKE_MS = 10_000;
/** /quit waits this long for the server to acknowledge the close, then leaves anyway. */
const QUIT_GRACE_MS = 2000;

export const HELP = [
  'type a line and Enter to send it to the room; commands:',
  '  /who          who is in the room',
  '  /room NAME    move to room NAME (created if nobody is there)',
  '  /quit         leave and exit (Ctrl-D and Ctrl-C too)',
  '  //text        send a line that starts with "/"',
];

/** Lines held before the first join, at most. */
const MAX_EARLY = 100;

export class ChatSession {
  readonly #opts: SessionOptions;
  readonly #io: ConsoleIo;
  #conn: StandaloneConn | undefined;
  /** The room and name as the server confirmed them (or as asked, before it has). */
  #room: string;
  #name: string;
  /** Joined on the current socket. */
  #joined = false;
  /** Lines typed (or piped in) before the first join: sent once it is done, in order. */
  readonly #early: Request[] = [];
  /** Requests for clientWritable, one written per call. */
  #outbox: string[] = [];
  /** /quit: close once the outbox (the leave) is written. */
  #closeWhenSent = false;
  /** Joined at least once: from then on, a lost connection is retried instead of fatal. */
  #everJoined = false;
  #quitting = false;
  /** End of input came before the first join, with lines waiting: quit once they are sent. */
  #quitAfterJoin = false;
  /** Why the connection was lost, for the notice its retry prints. */
  #why = '';
  /** The room's (epoch, last id) shown, so a re-join's history does not repeat what is on screen and nothing is skipped unsaid. */
  #sequence = new RoomSequence();

  constructor(opts: SessionOptions, io: ConsoleIo) {
    this.#opts = opts;
    this.#io = io;
    this.#room = opts.room;
    this.#name = opts.name;
  }

  start(): void {
    this.#conn ??= this.#opts.connect({
      url: this.#opts.url,
      protocol: 'chat',
      timeoutMs: HANDSHAKE_MS,
      reconnect: RECONNECT,
      callbacks: {
        clientEstablished: (conn) => this.#established(conn),
        clientReceive: (_conn, data, isBinary) => {
          const msg = isBinary ? undefined : readServerMessage(data.toString('utf8'));
          if (msg) this.#handle(msg);
        },
        clientWritable: (conn) => {
          const next = this.#outbox.shift();
          if (next !== undefined) conn.write(next);
          if (this.#outbox.length > 0) conn.requestWritable();
          // After the callback returns, so the close frame follows the leave.
          else if (this.#closeWhenSent) conn.close(1000);
        },
        clientConnectionError: (_conn, err) => this.#failed(err),
        clientClosed: (_conn, code, reason) => this.#closed(code, reason),
        clientReconnecting: (_conn, next) => {
          const secs = Math.max(1, Math.round(next.delayMs / 1000));
          this.#notice(`connection lost (${this.#why}); reconnecting in ${secs} s`);
        },
      },
    });
  }

  /** One line the user typed. */
  line(input: string): void {
    if (input.startsWith('//')) return this.#say(input.slice(1));
    if (!input.startsWith('/')) {
      if (input.trim() !== '') this.#say(input);
      return;
    }
    const [cmd = '', ...args] = input.trim().split(/\s+/);
    const arg = input.trim().slice(cmd.length).trim();
    switch (cmd) {
      case '/who':
        return this.#request({ type: 'who' });
      case '/room':
        if (args.length === 0) return this.#notice('usage: /room NAME');
        return this.#request({ type: 'join', room: arg, name: this.#name });
      case '/quit':
      case '/exit':
        return this.quit();
      case '/help':
        return HELP.forEach((l) => this.#io.print(l));
      default:
        return this.#notice(`unknown command ${cmd}; /help lists them`);
    }
  }

  /** Leaves the room (the others see "left", not "disconnected") and exits 0. */
  quit(): void {
    if (this.#quitting) return;
    // `echo hi | tsws-chat ...`: what was piped in goes out first, then the client leaves.
    if (!this.#everJoined && this.#early.length > 0) {
      this.#quitAfterJoin = true;
      return;
    }
    this.#quitting = true;
    const conn = this.#conn;
    switch (conn?.state) {
      case 'connecting':
        // The outcome decides: unreachable is still exit 1; reached, it closes at once.
        return;
      case 'open':
        if (this.#joined) this.#outbox.push(JSON.stringify({ type: 'leave' } satisfies Request));
        this.#closeWhenSent = true;
        conn.requestWritable();
        setTimeout(() => this.#io.exit(0), QUIT_GRACE_MS).unref();
        return;
      default:
        // Waiting to retry, or closing: nothing to say goodbye on.
        conn?.close();
        return this.#io.exit(0);
    }
  }

  #established(conn: StandaloneConn): void {
    this.#joined = false;
    if (this.#quitting) return conn.close(1000);
    this.#send(conn, JSON.stringify({ type: 'join', room: this.#room, name: this.#name } satisfies Request));
  }

  /** An attempt failed before the handshake completed. */
  #failed(err: TswsError): void {
    this.#joined = false;
    // Node's own words (connect ECONNREFUSED ...) where there are some; the coded detail otherwise.
    const why = err.cause instanceof Error ? err.cause.message : err.detail;
    if (!this.#everJoined) return this.#exit(1, `tsws-chat: cannot reach the chat at ${this.#opts.url}: ${why}`);
    if (this.#quitting) return this.#exit(0);
    this.#why = why;
  }

  #closed(code: number, reason: string): void {
    this.#joined = false;
    this.#outbox = [];
    if (this.#quitting) return this.#exit(0);
    const how = `${code}${reason ? ` ${reason}` : ''}`;
    if (!this.#everJoined) return this.#exit(1, `tsws-chat: the server at ${this.#opts.url} closed the connection before the join (${how})`);
    this.#why = how;
  }

  /** Ends the program; the connection first, so that no retry is left behind. */
  #exit(code: number, message?: string): void {
    this.#conn?.close();
    this.#io.exit(code, message);
  }

  #handle(msg: ServerMessage): void {
    switch (msg.type) {
      case 'welcome': {
        const rejoin = this.#everJoined && msg.room === this.#room;
        if (!rejoin) this.#sequence = new RoomSequence();
        // After a reconnect, show only the history the screen does not hold yet, and say what went missing.
        this.#showAll(this.#sequence.welcome(msg, rejoin));
        this.#room = msg.room;
        this.#name = msg.name;
        this.#joined = true;
        this.#everJoined = true;
        this.#conn?.resetBackoff();
        this.#io.setRoom(msg.room);
        this.#io.print(eventLine(msg.time, `${rejoin ? 'rejoined' : 'joined'} ${msg.room} as ${msg.name}; ${memberList(msg.room, msg.members)}`));
        for (const req of this.#early.splice(0)) this.#request(req);
        if (this.#quitAfterJoin) this.quit();
        return;
      }
      case 'joined':
        if (msg.room === this.#room && msg.name !== this.#name) this.#io.print(eventLine(msg.time, `${msg.name} joined ${msg.room}`));
        return;
      case 'left':
        if (msg.room !== this.#room) return;
        if (msg.name === this.#name) this.#io.print(eventLine(msg.time, `you left ${msg.room}`));
        else this.#io.print(eventLine(msg.time, `${msg.name} ${msg.reason === 'disconnect' ? 'disconnected' : 'left'}`));
        return;
      case 'members':
        this.#io.print(eventLine(Date.now(), memberList(msg.room, msg.members)));
        return;
      case 'message': {
        if (msg.room !== this.#room) return;
        this.#showAll(this.#sequence.message(msg));
        return;
      }
      case 'error':
        // A refused first join (name taken, bad name) is fatal: there is nothing to do here without one.
        if (msg.request === 'join' && !this.#joined) return this.#exit(1, `tsws-chat: ${msg.message}`);
        this.#notice(`${msg.message} (${msg.code})`);
        return;
      default: {
        const unreachable: never = msg;
        return unreachable;
      }
    }
  }

  /** Messages and, between them, notices of messages missed or of a restarted sequence. */
  #showAll(items: Shown): void {
    for (const item of items) {
      if (typeof item === 'string') this.#notice(item);
      else for (const l of messageLines(item)) this.#io.print(l);
    }
  }

  #say(text: string): void {
    this.#request({ type: 'send', text });
  }

  #request(req: Request): void {
    const conn = this.#conn;
    if (!conn?.isOpen || !this.#joined) {
      // Before the first join nothing is lost (a pipe writes at once); after it, a line typed while the
      // connection is down is refused out loud rather than sent late into a conversation that moved on.
      if (!this.#everJoined && this.#early.length < MAX_EARLY) return void this.#early.push(req);
      return this.#notice('not connected: nothing was sent');
    }
    this.#send(conn, JSON.stringify(req));
  }

  #send(conn: StandaloneConn, text: string): void {
    this.#outbox.push(text);
    conn.requestWritable();
  }

  #notice(what: string): void {
    this.#io.print(noticeLine(Date.now(), what));
  }
}
