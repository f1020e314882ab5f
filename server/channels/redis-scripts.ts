/** @module The Lua script a channel on Redis reads with (its appends use the shared log's APPEND, server/cluster/scripts.ts). */
import { Script } from '../cluster/scripts.ts';

/**
 * KEYS: stream, epoch. ARGV: first id to read, count (0: none).
 * → [epoch, last id, text, text...]. A channel never written (or lost with
 * Redis's data) is made here, empty, with a new epoch from Redis's clock, so
 * that a position read before the first publication is already in the epoch
 * the publications will have: a reader at (epoch, 0) then resumes without a
 * false 'epoch-changed'. XGROUP CREATE ... MKSTREAM is the one way to make an
 * empty stream; the group is dropped at once. The shared log's APPEND keeps
 * the epoch it finds beside an existing stream.
 */
export const CHANNEL_READ = new Script(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], 'tsws-made', '$', 'MKSTREAM')
  redis.call('XGROUP', 'DESTROY', KEYS[1], 'tsws-made')
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], t[1] .. string.format('%06d', tonumber(t[2])))
end
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  local t = redis.call('TIME')
  epoch = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', KEYS[2], epoch)
end
local last = 0
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info, 2 do
  if info[i] == 'last-generated-id' then last = tonumber(string.match(info[i + 1], '^(%d+)')) end
end
local out = {epoch, last}
if tonumber(ARGV[2]) > 0 then
  for _, e in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])) do
    out[#out + 1] = e[2][2] or ''
  end
end
return out
`);
