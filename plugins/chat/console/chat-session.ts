/** @module tsws-chat's session on tsws/client: joins (again after each reconnect), follows the room's channel from its last position, turns typed lines into requests. */
import crypto from 'node:crypto';
import { connect, type ChannelClient, type ClientState, type Gap, type Subscription, type WebSocketConstructor } from '../../../server/client-lib/index.ts';
import type { Request, ServerMessage } from '../protocol.ts';
import { eventLine, memberList, messageLines, noticeLine, readServerMessage } from './render.ts';
import { gapNotice, missed } from './sequence.ts';

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
  /** The sockets tsws/client opens (console/client-socket.ts: framework client connections). */
  readonly WebSocket: WebSocketConstructor;
}

/**
 * After a lost connection: 0.5 s doubling to 10 s, each delay between half
 * and all of that (terminals cut off by one server restart do not all come
 * back in the same instant). Before the first join a failure is fatal
 * instead (exit 1): there is no conversation to keep.
 */
const BACKOFF = { initialMs: 500, maxMs: 10_000, jitter: 0.5 } as const;
/** /quit waits this long for the server to acknowledge the leave, then leaves anyway. */
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

type Name = { readonly name?: unknown };
const nameOf = (info: unknown): string | undefined => (typeof info === 'object' && info !== null && typeof (info as Name).name === 'string' ? ((info as Name).name as string) : undefined);

export class ChatSession {
  readonly #opts: SessionOptions;
  readonly #io: ConsoleIo;
  #client: ChannelClient | undefined;
  /** The room's channel, followed from the first welcome on: tsws/client resubscribes it from its last position after a reconnect. */
  #sub: Subscription | undefined;
  /** The room and name as the server confirmed them (or as asked, before it has). */
  #room: string;
  #name: string;
  /** A secret for this run: a re-join with it takes back our name while the lost connection still holds it. */
  readonly #key = crypto.randomBytes(18).toString('base64url');
  /** Joined on the current connection. */
  #joined = false;
  /** A connection opened at least once (a close before the join then says so, rather than "cannot reach"). */
  #opened = false;
  /** Lines typed (or piped in) before the first join: sent once it is done, in order. */
  readonly #early: Request[] = [];
  /** Joined at least once: from then on, a lost connection is retried instead of fatal. */
  #everJoined = false;
  #quitting = false;
  /** End of input came before the first join, with lines waiting: quit once they are sent. */
  #quitAfterJoin = false;
  /** The welcome of a re-join, until its resubscribe said whether it resumed (#fillFromWelcome). */
  #rejoined: Extract<ServerMessage, { type: 'welcome' }> | undefined;
  #restartGap: Gap | undefined;
  /** From a reconnect's open to its resubscribe's `subscribed`: a gap then is the resume's. */
  #resuming = false;
  /** The code of the subscription's last refusal, until it is subscribed again: a retried refusal is said once. */
  #subError: string | undefined;
  /** Exiting: the client's own close is no news. */
  #exiting = false;

  constructor(opts: SessionOptions, io: ConsoleIo) {
    this.#opts = opts;
    this.#io = io;
    this.#room = opts.room;
    this.#name = opts.name;
  }

  start(): void {
    if (this.#client) return;
    const client = connect(this.#opts.url, {
      protocol: 'chat',
      WebSocket: this.#opts.WebSocket,
      backoff: BACKOFF,
      reconnect: () => this.#everJoined && !this.#quitting,
    });
    this.#client = client;
    client.on('state', (st) => this.#state(st));
    client.on('message', (data) => {
      const msg = typeof data === 'string' ? readServerMessage(data) : undefined;
      if (msg) this.#handle(msg);
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
        return this.#request({ type: 'join', room: arg, name: this.#name, key: this.#key });
      case '/quit':
      case '/exit':
        return this.quit();
      case '/help':
        return HELP.forEach((l) => this.#io.print(l));
      default:
        return this.#notice(`unknown command ${cmd}; /help lists them`);
    }
  }

  /** Leaves the room and exits 0. */
  quit(): void {
    if (this.#quitting) return;
    // `echo hi | tsws-chat ...`: what was piped in goes out first, then the client leaves.
    if (!this.#everJoined && this.#early.length > 0) {
      this.#quitAfterJoin = true;
      return;
    }
    this.#quitting = true;
    const client = this.#client;
    if (this.#joined && client?.send(JSON.stringify({ type: 'leave' } satisfies Request))) {
      // The server's `left` ends it (#handle); this, should it never come.
      setTimeout(() => this.#exit(0), QUIT_GRACE_MS).unref();
      return;
    }
    // The first attempt still running: its outcome decides (unreachable is still exit 1).
    if (client?.state.state === 'connecting' && !this.#opened) return;
    this.#exit(0);
  }

  #state(st: ClientState): void {
    if (this.#exiting) return;
    switch (st.state) {
      case 'connecting':
        return;
      case 'open':
        this.#opened = true;
        this.#joined = false;
        // A new connection: the welcome and the resubscribe's answer to pair are this connection's.
        this.#rejoined = this.#restartGap = undefined;
        this.#resuming = this.#sub?.active === true;
        if (this.#quitting) return this.#exit(0);
        // Before the resubscribe tsws/client sends next: the server lets a connection read only the room it joins.
        this.#client?.send(JSON.stringify({ type: 'join', room: this.#room, name: this.#name, key: this.#key } satisfies Request));
        return;
      case 'reconnecting': {
        this.#joined = false;
        const secs = Math.max(1, Math.round(st.delayMs / 1000));
        // A failed attempt's reason is the system's words (connect ECONNREFUSED ...); a close's, its code and reason.
        const why = st.code === 1006 && st.reason ? st.reason : `${st.code}${st.reason ? ` ${st.reason}` : ''}`;
        return this.#notice(`connection lost (${why}); reconnecting in ${secs} s`);
      }
      case 'closed':
        this.#joined = false;
        if (this.#quitting || this.#everJoined) return this.#exit(0);
        if (!this.#opened) return this.#exit(1, `tsws-chat: cannot reach the chat at ${this.#opts.url}: ${st.reason}`);
        return this.#exit(1, `tsws-chat: the server at ${this.#opts.url} closed the connection before the join (${st.code}${st.reason ? ` ${st.reason}` : ''})`);
      default: {
        const never: never = st;
        return never;
      }
    }
  }

  /** Ends the program; the client first, so that no retry is left behind. */
  #exit(code: number, message?: string): void {
    if (this.#exiting) return;
    this.#exiting = true;
    this.#client?.close();
    this.#io.exit(code, message);
  }

  #handle(msg: ServerMessage): void {
    switch (msg.type) {
      case 'welcome': {
        const rejoin = this.#everJoined && msg.room === this.#room && this.#sub?.active === true;
        // After a reconnect tsws/client resubscribed from the last message shown: what was missed follows, or a gap notice.
        if (!rejoin) this.#follow(msg);
        else this.#fillFromWelcome(undefined, msg);
        this.#room = msg.room;
        this.#name = msg.name;
        this.#joined = true;
        this.#everJoined = true;
        this.#io.setRoom(msg.room);
        this.#io.print(eventLine(msg.time, `${rejoin ? 'rejoined' : 'joined'} ${msg.room} as ${msg.name}; ${memberList(msg.room, msg.members)}`));
        for (const req of this.#early.splice(0)) this.#request(req);
        if (this.#quitAfterJoin) this.quit();
        return;
      }
      case 'left':
        if (this.#quitting) return this.#exit(0);
        if (msg.room === this.#room) this.#io.print(eventLine(msg.time, `you left ${msg.room}`));
        return;
      case 'members':
        this.#io.print(eventLine(Date.now(), memberList(msg.room, msg.members)));
        return;
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

  /** The welcome's history, then the room's channel from the welcome's position: nothing between the two is lost. */
  #follow(w: Extract<ServerMessage, { type: 'welcome' }>): void {
    this.#sub?.unsubscribe();
    for (const m of w.history) for (const l of messageLines(m)) this.#io.print(l);
    const room = w.room;
    this.#sub = this.#client?.subscribe(w.channel, {
      since: { epoch: w.epoch, offset: w.offset },
      presence: true,
      onMessage: (m) => {
        const d = m.data as { name?: unknown; text?: unknown } | null;
        if (typeof d !== 'object' || d === null || typeof d.name !== 'string' || typeof d.text !== 'string') return;
        for (const l of messageLines({ name: d.name, text: d.text, time: m.time })) this.#io.print(l);
      },
      onGap: (gap) => {
        this.#notice(gapNotice(gap));
        if (this.#resuming) this.#fillFromWelcome(gap, undefined);
      },
      // The resubscribe's gap, if any, came before this: later gaps are live ones, not the resume's.
      onSubscribed: () => {
        this.#resuming = false;
        this.#subError = undefined;
      },
      onPresence: (change) => {
        const name = nameOf(change.member.info);
        // Our own comings and goings (a reconnect's old connection leaving) are not news.
        if (name === undefined || name === this.#name) return;
        this.#io.print(eventLine(Date.now(), change.event === 'join' ? `${name} joined ${room}` : `${name} left`));
      },
      onError: (err) => {
        // tsws/client asks again while the store is away: said once, not at every retry.
        if (err.code === this.#subError) return;
        this.#subError = err.code;
        this.#notice(`${err.message} (${err.code})`);
      },
    });
  }

  /**
   * A resume into a new epoch (the store lost its state) cannot say which of
   * the new sequence we saw: none. The re-join's welcome holds the new
   * sequence's history: shown after the notice, and what came between its
   * read and the subscribe is said missing rather than skipped.
   */
  #fillFromWelcome(gap: Gap | undefined, welcome: Extract<ServerMessage, { type: 'welcome' }> | undefined): void {
    // The welcome and the resubscribe's answer come in either order (the join waits on presence, the subscribe does not).
    if (welcome) this.#rejoined = welcome;
    if (gap) this.#restartGap = gap.reason === 'epoch-changed' ? gap : undefined;
    const w = this.#rejoined;
    const g = this.#restartGap;
    if (w === undefined || g === undefined) return;
    this.#rejoined = this.#restartGap = undefined;
    if (w.epoch !== g.to.epoch) return;
    for (const m of w.history) if (m.offset <= g.to.offset) for (const l of messageLines(m)) this.#io.print(l);
    if (w.offset < g.to.offset) this.#notice(missed(w.offset + 1, g.to.offset));
  }

  #say(text: string): void {
    this.#request({ type: 'send', text });
  }

  #request(req: Request): void {
    if (!this.#joined) {
      // Before the first join nothing is lost (a pipe writes at once); after it, a line typed while the
      // connection is down is refused out loud rather than sent late into a conversation that moved on.
      if (!this.#everJoined && this.#early.length < MAX_EARLY) return void this.#early.push(req);
      return this.#notice('not connected: nothing was sent');
    }
    if (!this.#client?.send(JSON.stringify(req))) this.#notice('not connected: nothing was sent');
  }

  #notice(what: string): void {
    this.#io.print(noticeLine(Date.now(), what));
  }
}
