// Generated from server/client-lib by scripts/client-js.ts: edit the TypeScript, then run it.
import { backoffDelay, backoffPolicy } from "./backoff.js";
import { ChannelError, clientError } from "./errors.js";
import { ReadPosition } from "./position.js";
import { parseServerFrame } from "./wire.js";
const OPEN = 1;
const systemTimers = {
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (handle) => globalThis.clearTimeout(handle),
};
export class ChannelClient {
    url;
    #protocols;
    #WebSocket;
    #backoff;
    #openTimeoutMs;
    #reconnect;
    #random;
    #timers;
    #subs = new Map();
    /** Publishes given while not open: sent, in order, once it is. */
    #unsent = [];
    /** Publishes sent, by ref, waiting for `published` or `error`. */
    #inflight = new Map();
    #listeners = { state: new Set(), message: new Set(), error: new Set() };
    #ws;
    #state = { state: 'connecting', attempt: 0 };
    #timer;
    #refs = 0;
    constructor(url, opts = {}) {
        const ctor = opts.WebSocket ?? globalThis.WebSocket;
        if (ctor === undefined)
            throw clientError('TSWS_ERR_CHANNEL_NO_WEBSOCKET');
        this.url = url;
        this.#protocols = typeof opts.protocol === 'string' ? opts.protocol : opts.protocol ? [...opts.protocol] : undefined;
        this.#WebSocket = ctor;
        this.#backoff = backoffPolicy(opts.backoff);
        this.#openTimeoutMs = opts.openTimeoutMs ?? 10_000;
        this.#reconnect = opts.reconnect ?? (() => true);
        this.#random = opts.random ?? Math.random;
        this.#timers = opts.timers ?? systemTimers;
        this.#open(0);
    }
    get state() {
        return this.#state;
    }
    on(event, fn) {
        const set = this.#listeners[event];
        set.add(fn);
        return () => void set.delete(fn);
    }
    subscribe(channel, opts) {
        if (this.#subs.has(channel))
            throw clientError('TSWS_ERR_CHANNEL_SUBSCRIBED_TWICE', { channel });
        const sub = { channel, opts: opts, read: new ReadPosition(channel, opts.since), members: [], active: true, retry: undefined, unavailable: 0 };
        this.#subs.set(channel, sub);
        if (this.#isOpen())
            this.#sendSubscribe(sub);
        return {
            channel,
            get position() { return sub.read.position; },
            get members() { return sub.members; },
            get active() { return sub.active; },
            unsubscribe: () => this.#unsubscribe(sub),
        };
    }
    /** Resolves with the position the server stored it at; rejects with a ChannelError (refused, failed, or the connection dropped before the answer). */
    publish(channel, data) {
        return new Promise((resolve, reject) => {
            if (this.#state.state === 'closed')
                return reject(clientError('TSWS_ERR_CHANNEL_CLOSED', { channel }));
            const pending = { frame: { ch: 'publish', channel, data, ref: String(++this.#refs) }, resolve, reject };
            if (this.#isOpen())
                this.#sendPublish(pending);
            else
                this.#unsent.push(pending);
        });
    }
    /** A message of the protocol's own; false when not open (nothing is queued: the protocol decides what a lost message means). */
    send(data) {
        if (!this.#isOpen())
            return false;
        this.#ws?.send(data);
        return true;
    }
    /** For good: no reconnect; publishes not yet answered reject with TSWS_ERR_CHANNEL_CLOSED. */
    close(code = 1000, reason = '') {
        if (this.#state.state === 'closed')
            return;
        this.#timers.clearTimeout(this.#timer);
        const ws = this.#ws;
        this.#detach();
        if (ws)
            ws.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
        for (const p of [...this.#unsent.splice(0), ...this.#inflight.values()])
            p.reject(clientError('TSWS_ERR_CHANNEL_CLOSED', { channel: p.frame.channel }));
        this.#inflight.clear();
        for (const sub of this.#subs.values()) {
            sub.active = false;
            this.#timers.clearTimeout(sub.retry);
        }
        this.#subs.clear();
        this.#setState({ state: 'closed', code, reason });
    }
    // ---- the socket -------------------------------------------------------------
    #open(attempt) {
        this.#setState({ state: 'connecting', attempt });
        let ws;
        try {
            ws = new this.#WebSocket(this.url, this.#protocols);
        }
        catch (err) {
            // A malformed URL throws at once and would throw again on every retry: connect() throws it; a
            // retry (in a timer, where a throw would end a Node process) closes the client with the reason.
            const reason = err instanceof Error ? err.message : String(err);
            if (attempt > 0)
                return this.close(1006, reason);
            this.#setState({ state: 'closed', code: 1006, reason });
            throw err;
        }
        this.#ws = ws;
        ws.binaryType = 'arraybuffer';
        this.#timer = this.#timers.setTimeout(() => {
            this.#detach();
            ws.close();
            this.#lost(attempt, 1006, `not open within ${this.#openTimeoutMs} ms`);
        }, this.#openTimeoutMs);
        ws.onopen = () => this.#opened();
        ws.onmessage = (ev) => this.#received(ev.data);
        ws.onclose = (ev) => {
            this.#detach();
            this.#lost(this.#state.state === 'open' ? 0 : attempt, ev.code, ev.reason);
        };
        ws.onerror = () => undefined; // close follows with the code; an error alone says less
    }
    #opened() {
        this.#timers.clearTimeout(this.#timer);
        this.#setState({ state: 'open' });
        for (const sub of this.#subs.values()) {
            // The reconnect's resubscribe asks again at once: a retry still waiting would ask twice.
            this.#timers.clearTimeout(sub.retry);
            sub.retry = undefined;
            this.#sendSubscribe(sub);
        }
        for (const p of this.#unsent.splice(0))
            this.#sendPublish(p);
    }
    #lost(attempt, code, reason) {
        this.#timers.clearTimeout(this.#timer);
        // Sent but unanswered: stored or not, nobody can say; resending could store it twice.
        for (const p of this.#inflight.values())
            p.reject(clientError('TSWS_ERR_CHANNEL_DISCONNECTED', { channel: p.frame.channel }));
        this.#inflight.clear();
        if (!this.#reconnect({ code, reason })) {
            this.close(code, reason);
            return;
        }
        const next = attempt + 1;
        const delayMs = backoffDelay(this.#backoff, next, this.#random);
        this.#setState({ state: 'reconnecting', attempt: next, delayMs, code, reason });
        this.#timer = this.#timers.setTimeout(() => this.#open(next), delayMs);
    }
    /** The socket is done with: no event of it may act on the client any more. */
    #detach() {
        const ws = this.#ws;
        if (!ws)
            return;
        ws.onopen = ws.onmessage = ws.onclose = null;
        ws.onerror = () => undefined; // ws emits 'error' for a socket closed while connecting; keep it handled
        this.#ws = undefined;
    }
    #isOpen() {
        return this.#state.state === 'open' && this.#ws?.readyState === OPEN;
    }
    #write(frame) {
        this.#ws?.send(JSON.stringify(frame));
    }
    #sendSubscribe(sub) {
        const since = sub.read.position;
        this.#write({ ch: 'subscribe', channel: sub.channel, ...(since ? { since } : {}), ...(sub.opts.presence ? { presence: true } : {}) });
    }
    #sendPublish(p) {
        this.#inflight.set(p.frame.ref ?? '', p);
        this.#write(p.frame);
    }
    #unsubscribe(sub) {
        if (!sub.active)
            return;
        sub.active = false;
        this.#timers.clearTimeout(sub.retry);
        this.#subs.delete(sub.channel);
        if (this.#isOpen())
            this.#write({ ch: 'unsubscribe', channel: sub.channel });
    }
    #setState(state) {
        this.#state = state;
        for (const fn of this.#listeners.state)
            fn(state);
    }
    /**
     * The server could not read the channel's store to resume (Redis away), or
     * refused the subscribe as unavailable: nothing is known lost yet, so no gap
     * is reported and the position stays. The subscribe is sent again with the
     * reconnect backoff until the store answers; its answer then recovers what
     * was missed, or reports the gap with its true reason.
     */
    #unavailable(sub) {
        sub.unavailable++;
        this.#timers.clearTimeout(sub.retry);
        sub.retry = this.#timers.setTimeout(() => {
            sub.retry = undefined;
            if (sub.active && this.#isOpen())
                this.#sendSubscribe(sub);
        }, backoffDelay(this.#backoff, sub.unavailable, this.#random));
    }
    // ---- frames in ----------------------------------------------------------------
    #received(data) {
        const frame = typeof data === 'string' ? parseServerFrame(data) : undefined;
        if (frame)
            return this.#frame(frame);
        const raw = typeof data === 'string' || data instanceof ArrayBuffer ? data : new Uint8Array(data).buffer;
        for (const fn of this.#listeners.message)
            fn(raw);
    }
    #frame(f) {
        switch (f.ch) {
            case 'published': {
                const p = this.#inflight.get(f.ref ?? '');
                if (!p)
                    return;
                this.#inflight.delete(f.ref ?? '');
                return p.resolve({ epoch: f.epoch, offset: f.offset });
            }
            case 'error': {
                const err = new ChannelError(f.code, f.message, f.channel);
                const p = f.ref === undefined ? undefined : this.#inflight.get(f.ref);
                if (p) {
                    this.#inflight.delete(f.ref ?? '');
                    return p.reject(err);
                }
                const sub = f.channel === undefined ? undefined : this.#subs.get(f.channel);
                // The store away (Redis) refused the subscribe for now: asked again with backoff, as an 'unavailable' resume.
                if (sub && f.code === 'TSWS_ERR_CHANNEL_UNAVAILABLE')
                    this.#unavailable(sub);
                const onError = sub?.opts.onError;
                if (onError)
                    return onError(err);
                for (const fn of this.#listeners.error)
                    fn(err);
                return;
            }
            case 'unsubscribed':
                return;
            default:
                break;
        }
        const sub = this.#subs.get(f.channel);
        if (!sub)
            return; // unsubscribed meanwhile: its last frames are still on the way
        switch (f.ch) {
            case 'subscribed': {
                if (f.members)
                    sub.members = [...f.members];
                if (f.recovered === false && f.reason === 'unavailable')
                    return this.#unavailable(sub);
                sub.unavailable = 0;
                const gap = sub.read.subscribed(f.epoch, f.offset, f.recovered, f.reason);
                if (gap)
                    sub.opts.onGap?.(gap);
                sub.opts.onSubscribed?.({ position: { epoch: f.epoch, offset: f.offset }, recovered: f.recovered, members: sub.members });
                return;
            }
            case 'message': {
                // Waiting to ask again: only what follows on is taken; the rest comes again with the retry's answer.
                if (sub.unavailable > 0 && !sub.read.follows(f.epoch, f.offset))
                    return;
                const verdict = sub.read.message(f.epoch, f.offset);
                if (!verdict.deliver)
                    return;
                if (verdict.gap)
                    sub.opts.onGap?.(verdict.gap);
                sub.opts.onMessage({ channel: f.channel, epoch: f.epoch, offset: f.offset, time: f.time, data: f.data });
                return;
            }
            case 'gap': {
                if (sub.unavailable > 0)
                    return;
                const gap = sub.read.gap(f.from, f.to, f.reason);
                if (gap)
                    sub.opts.onGap?.(gap);
                return;
            }
            case 'presence': {
                const others = sub.members.filter((m) => m.id !== f.member.id);
                sub.members = f.event === 'join' ? [...others, f.member] : others;
                sub.opts.onPresence?.({ channel: f.channel, event: f.event, member: f.member, members: sub.members });
                return;
            }
            default: {
                const never = f;
                return never;
            }
        }
    }
}
