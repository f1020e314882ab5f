/** @module tsws-chat's connection: joins, re-joins after a lost connection with backoff, and turns typed lines into requests. */
import WebSocket from 'ws';
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
}

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
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
  #ws: WebSocket | undefined;
  /** The room and name as the server confirmed them (or as asked, before it has). */
  #room: string;
  #name: string;
  /** The current socket completed its handshake. */
  #opened = false;
  /** Joined on the current socket. */
  #joined = false;
  /** Lines typed (or piped in) before the first join: sent once it is done, in order. */
  readonly #early: Request[] = [];
  /** Joined at least once: from then on, a lost connection is retried instead of fatal. */
  #everJoined = false;
  #quitting = false;
  /** End of input came before the first join, with lines waiting: quit once they are sent. */
  #quitAfterJoin = false;
  #delay = FIRST_DELAY_MS;
  #timer: NodeJS.Timeout | undefined;
  #lastError: Error | undefined;
  /** The room's (epoch, last id) shown, so a re-join's history does not repeat what is on screen and nothing is skipped unsaid. */
  #sequence = new RoomSequence();

  constructor(opts: SessionOptions, io: ConsoleIo) {
    this.#opts = opts;
    this.#io = io;
    this.#room = opts.room;
    this.#name = opts.name;
  }

  start(): void {
    this.#connect();
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
    clearTimeout(this.#timer);
    const ws = this.#ws;
    // Still connecting: the outcome decides (unreachable is still exit 1; reached, it closes at once).
    if (ws?.readyState === WebSocket.CONNECTING) return;
    if (!ws || ws.readyState !== WebSocket.OPEN) return this.#io.exit(0);
    if (this.#joined) ws.send(JSON.stringify({ type: 'leave' } satisfies Request));
    ws.close(1000);
    setTimeout(() => this.#io.exit(0), QUIT_GRACE_MS).unref();
  }

  #connect(): void {
    const ws = new WebSocket(this.#opts.url, 'chat', { handshakeTimeout: 10_000 });
    this.#ws = ws;
    this.#joined = false;
    this.#opened = false;
    this.#lastError = undefined;
    ws.on('open', () => {
      this.#opened = true;
      if (this.#quitting) ws.close(1000);
      else ws.send(JSON.stringify({ type: 'join', room: this.#room, name: this.#name } satisfies Request));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const msg = isBinary ? undefined : readServerMessage(data.toString('utf8'));
      if (msg && ws === this.#ws) this.#handle(msg);
    });
    ws.on('error', (err) => {
      this.#lastError = err;
    });
    ws.on('close', (code, reason) => {
      if (ws === this.#ws) this.#closed(code, reason.toString());
    });
  }

  #closed(code: number, reason: string): void {
    this.#joined = false;
    if (!this.#everJoined && !this.#opened) {
      return this.#io.exit(1, `tsws-chat: cannot reach the chat at ${this.#opts.url}: ${this.#lastError?.message ?? `closed with ${code}`}`);
    }
    if (this.#quitting) return this.#io.exit(0);
    if (!this.#everJoined) return this.#io.exit(1, `tsws-chat: the server at ${this.#opts.url} closed the connection before the join (${code}${reason ? ` ${reason}` : ''})`);
    const secs = Math.max(1, Math.round(this.#delay / 1000));
    this.#notice(`connection lost (${this.#lastError?.message ?? `${code}${reason ? ` ${reason}` : ''}`}); reconnecting in ${secs} s`);
    this.#timer = setTimeout(() => this.#connect(), this.#delay);
    this.#delay = Math.min(this.#delay * 2, MAX_DELAY_MS);
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
        this.#delay = FIRST_DELAY_MS;
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
        if (msg.request === 'join' && !this.#joined) return this.#io.exit(1, `tsws-chat: ${msg.message}`);
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
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.#joined) {
      // Before the first join nothing is lost (a pipe writes at once); after it, a line typed while the
      // connection is down is refused out loud rather than sent late into a conversation that moved on.
      if (!this.#everJoined && this.#early.length < MAX_EARLY) return void this.#early.push(req);
      return this.#notice('not connected: nothing was sent');
    }
    ws.send(JSON.stringify(req));
  }

  #notice(what: string): void {
    this.#io.print(noticeLine(Date.now(), what));
  }
}
