/** @module The Lua scripts that make each shared-state operation atomic in Redis, and a typed runner for them. */
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * Key layout, every key under the cluster prefix P:
 *   P inst:<id>        heartbeat of an instance, PX ttl: gone means dead
 *   P instances        SET of instance ids that may own entries
 *   P own:<id>         SET of "<group key>\n<field>" an instance owns (for reaping)
 *   P pr:<scope>       HASH presence group: field → "<owner>\n<claim µs>\n<value>"
 *   P prl:<scope>      what to expire when that group empties: "<ms>\n<key>\n<key>..."
 *   P log:<scope>      STREAM of a shared log: entry ids "<n>-0", n consecutive from 1
 *   P logepoch:<scope> the log's epoch: a new one whenever an append finds the stream gone
 *   P bus:<topic>      pub/sub channel of a bus topic
 *   P rl:<a|u>:<vhost>/<address or subject>
 *                      HASH a shared rate-limit bucket: v tokens, t ms of Redis's clock; PX until it would be full
 * Scripts touch keys they compute (owners' heartbeats, linger targets): fine on a
 * standalone Redis or a primary with replicas, not on Redis Cluster.
 */

/** When a group empties: its linger targets expire after the configured ms (deleted at once for 0). */
const LINGER = `
local function linger(prefix, group)
  local cfgKey = prefix .. 'prl:' .. string.sub(group, #prefix + 4)
  local cfg = redis.call('GET', cfgKey)
  if not cfg then return end
  local ms = nil
  for part in string.gmatch(cfg, '[^\\n]+') do
    if ms == nil then ms = tonumber(part)
    elseif ms == 0 then redis.call('DEL', part)
    else redis.call('PEXPIRE', part, ms) end
  end
  redis.call('DEL', cfgKey)
end
local function ownerOf(v) return string.match(v, '^([^\\n]*)\\n') end
`;

/**
 * KEYS: group, own:me. ARGV: prefix, me, field, value, linger config or "", mode.
 * → 1 claimed, 0 held by a live instance. Mode "new" (a fresh claim) is refused
 * when this instance already holds the field too: two members of one instance
 * must not share a key. "keep" (a put, or restoring this instance's own claims
 * after Redis lost them) overwrites this instance's own entry.
 */
export const CLAIM = `${LINGER}
local prefix, me, field = ARGV[1], ARGV[2], ARGV[3]
local stamp = nil
local cur = redis.call('HGET', KEYS[1], field)
if cur then
  local owner = ownerOf(cur)
  if owner == me then
    if ARGV[6] == 'new' then return 0 end
    stamp = string.match(cur, '^[^\\n]*\\n([^\\n]*)\\n')
  elseif redis.call('EXISTS', prefix .. 'inst:' .. owner) == 1 then
    return 0
  else
    redis.call('SREM', prefix .. 'own:' .. owner, KEYS[1] .. '\\n' .. field)
  end
end
if not stamp then
  local t = redis.call('TIME')
  stamp = t[1] .. string.format('%06d', tonumber(t[2]))
end
redis.call('HSET', KEYS[1], field, me .. '\\n' .. stamp .. '\\n' .. ARGV[4])
redis.call('SADD', KEYS[2], KEYS[1] .. '\\n' .. field)
if ARGV[5] ~= '' then
  redis.call('SET', prefix .. 'prl:' .. string.sub(KEYS[1], #prefix + 4), ARGV[5])
  local first = true
  for part in string.gmatch(ARGV[5], '[^\\n]+') do
    if first then first = false else redis.call('PERSIST', part) end
  end
end
return 1
`;

/** KEYS: group, own:me. ARGV: prefix, me, field. → entries left in the group. */
export const RELEASE = `${LINGER}
local prefix, me, field = ARGV[1], ARGV[2], ARGV[3]
local cur = redis.call('HGET', KEYS[1], field)
if cur and ownerOf(cur) == me then redis.call('HDEL', KEYS[1], field) end
redis.call('SREM', KEYS[2], KEYS[1] .. '\\n' .. field)
local left = redis.call('HLEN', KEYS[1])
if left == 0 then linger(prefix, KEYS[1]) end
return left
`;

/** KEYS: group. ARGV: prefix. → flat [field, "<owner>\n<µs>\n<value>", ...] of live owners only. */
export const LIST = `${LINGER}
local out, alive = {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local owner = ownerOf(all[i + 1])
  if alive[owner] == nil then alive[owner] = redis.call('EXISTS', ARGV[1] .. 'inst:' .. owner) == 1 end
  if alive[owner] then out[#out + 1] = all[i]; out[#out + 1] = all[i + 1] end
end
return out
`;

/** KEYS: inst:me, instances. ARGV: me, ttl ms. → 1 when the heartbeat was still there, 0 when it had lapsed (or Redis lost it). */
export const HEARTBEAT = `
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
return existed
`;

/**
 * KEYS: instances. ARGV: prefix, an id to reap whatever its heartbeat says ("" for none), "1" to delete that id's heartbeat too (leaving).
 * Removes the entries of every instance whose heartbeat lapsed. → [removed count, group keys touched...].
 */
export const REAP = `${LINGER}
local prefix = ARGV[1]
local touched, seen, removed = {}, {}, 0
local function reap(id)
  local own = prefix .. 'own:' .. id
  for _, m in ipairs(redis.call('SMEMBERS', own)) do
    local g, f = string.match(m, '^(.*)\\n([^\\n]*)$')
    local cur = redis.call('HGET', g, f)
    if cur and ownerOf(cur) == id then
      redis.call('HDEL', g, f)
      removed = removed + 1
      if not seen[g] then seen[g] = true; touched[#touched + 1] = g end
      if redis.call('HLEN', g) == 0 then linger(prefix, g) end
    end
  end
  redis.call('DEL', own)
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', prefix .. 'inst:' .. id) == 0 then reap(id); redis.call('SREM', KEYS[1], id) end
end
if ARGV[2] ~= '' then reap(ARGV[2]) end
-- A live instance clearing leftovers at start stays in the set (its heartbeat is there); one leaving does not.
if ARGV[3] == '1' then redis.call('DEL', prefix .. 'inst:' .. ARGV[2]); redis.call('SREM', KEYS[1], ARGV[2]) end
table.insert(touched, 1, removed)
return touched
`;

/**
 * The epoch: made from Redis's clock by the append that finds the stream
 * missing (a new log, one that expired, or a Redis that lost its data), and
 * kept beside it. Ids start again at 1 only with a new epoch, so a reader
 * holding (epoch, id) can tell "seen" from "a new sequence" (the clock of a
 * restarted Redis has moved on). A stream found without its epoch (written
 * by an older tsws) gets one too.
 */
const EPOCH = `
local function epochOf(streamKey, epochKey, create)
  local epoch = false
  if redis.call('EXISTS', streamKey) == 1 then epoch = redis.call('GET', epochKey) end
  if not epoch and create then
    local t = redis.call('TIME')
    epoch = t[1] .. string.format('%06d', tonumber(t[2]))
    redis.call('SET', epochKey, epoch)
  end
  return epoch or ''
end
local function lastIdOf(streamKey)
  local info = redis.call('XINFO', 'STREAM', streamKey)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return tonumber(string.match(info[i + 1], '^(%d+)')) end
  end
  return 0
end
`;

/**
 * KEYS: stream, epoch. ARGV: max length, text before the id, text after it,
 * channel or "", the bus flags byte, "1" to splice the epoch in too, text
 * between the id and the epoch, instance id.
 * Assigns the next consecutive id (the stream remembers its last id through trimming),
 * stores "<before><id><after>" (or "<before><id><between><epoch><after>") as entry
 * "<id>-0" and, in the same step, publishes it with its position in the bus
 * header ("<instance>\n<epoch>:<id>", see RedisBus): every instance sees a
 * log's publications in id order, and can tell one it missed. → [id, text, epoch].
 */
export const APPEND = `${EPOCH}
local epoch = epochOf(KEYS[1], KEYS[2], true)
local last = 0
if redis.call('EXISTS', KEYS[1]) == 1 then last = lastIdOf(KEYS[1]) end
local id = string.format('%.0f', last + 1)
local text = ARGV[2] .. id .. ARGV[3]
if ARGV[6] == '1' then text = ARGV[2] .. id .. ARGV[7] .. epoch .. ARGV[3] end
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], id .. '-0', 'd', text)
if ARGV[4] ~= '' then
  local who = ARGV[8] .. '\\n' .. epoch .. ':' .. id
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. string.char(#who) .. who .. text)
end
return {id, text, epoch}
`;

/** KEYS: stream, epoch. → [first id or 0, last id, epoch] (0, 0, "" for a log never written). */
export const BOUNDS = `${EPOCH}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, ''} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local first, last = 0, 0
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = tonumber(string.match(info[i + 1], '^(%d+)')) end
  if info[i] == 'first-entry' and info[i + 1] then first = tonumber(string.match(info[i + 1][1], '^(%d+)')) end
end
return {first, last, epochOf(KEYS[1], KEYS[2], false)}
`;

/** KEYS: stream, epoch. ARGV: first id to read, count. → [epoch, last id, id, text, id, text...], the entries and their epoch read in one step. */
export const READ = `${EPOCH}
local exists = redis.call('EXISTS', KEYS[1]) == 1
local out = {epochOf(KEYS[1], KEYS[2], false), exists and lastIdOf(KEYS[1]) or 0}
for _, e in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])) do
  out[#out + 1] = tonumber(string.match(e[1], '^(%d+)'))
  out[#out + 1] = e[2][2] or ''
end
return out
`;

/**
 * KEYS: bucket. ARGV: tokens per ms, burst, spent. The bucket refills by
 * Redis's clock (instances' clocks never meet), loses what an instance spent
 * since its last call, and may go below zero, down to minus one burst: an
 * instance that spent ahead of the pool (see shared-limits.ts) leaves a debt
 * every instance then waits out. It expires when it would be full again, so
 * an idle key costs nothing. → tokens left, as text (Lua numbers are floats).
 */
export const SPEND = `
local rate, burst, spent = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cur = redis.call('HMGET', KEYS[1], 'v', 't')
local v = tonumber(cur[1]) or burst
local last = tonumber(cur[2]) or now
if now > last then v = math.min(burst, v + (now - last) * rate) end
v = math.max(v - spent, -burst)
redis.call('HSET', KEYS[1], 'v', tostring(v), 't', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - v) / rate) + 1000)
return tostring(v)
`;

/** Runs a script by its SHA, loading it once when Redis does not know it (first use, or after a restart). */
export class Script {
  readonly #lua: string;
  readonly #sha: string;

  constructor(lua: string) {
    this.#lua = lua;
    this.#sha = crypto.createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number | Buffer)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.#lua, keys.length, ...keys, ...args);
    }
  }
}
