// Generated from server/client-lib by scripts/client-js.ts: edit the TypeScript, then run it.
const isPosition = (v) => typeof v === 'object' && v !== null && typeof v.epoch === 'string' && typeof v.offset === 'number';
const isMember = (v) => typeof v === 'object' && v !== null && typeof v.id === 'string';
/** The members each frame must carry, beyond "ch": a frame missing one is not taken for a channel frame. */
const SHAPES = {
    subscribed: (f) => typeof f.channel === 'string' && isPosition(f) && (f.members === undefined || (Array.isArray(f.members) && f.members.every(isMember))),
    message: (f) => typeof f.channel === 'string' && isPosition(f) && typeof f.time === 'number' && 'data' in f,
    gap: (f) => typeof f.channel === 'string' && isPosition(f.from) && isPosition(f.to) && typeof f.reason === 'string',
    presence: (f) => typeof f.channel === 'string' && (f.event === 'join' || f.event === 'leave') && isMember(f.member),
    published: (f) => typeof f.channel === 'string' && isPosition(f),
    unsubscribed: (f) => typeof f.channel === 'string',
    error: (f) => typeof f.code === 'string' && typeof f.message === 'string',
};
export function parseServerFrame(text) {
    if (text.charCodeAt(0) !== 0x7b /* { */)
        return undefined;
    let value;
    try {
        value = JSON.parse(text);
    }
    catch {
        return undefined;
    }
    if (typeof value !== 'object' || value === null)
        return undefined;
    const f = value;
    const check = typeof f.ch === 'string' && Object.hasOwn(SHAPES, f.ch) ? SHAPES[f.ch] : undefined;
    return check?.(f) ? f : undefined;
}
