import { LuaScript, REDIS_NOW } from './lua-script.js'

/**
 * A stream in Redis: `meta` hash { e: epoch, o: last offset, h: 1 when history may exist, x:
 * when its keys expire, y: when the history list expires (both in ms; absent when the keys are
 * kept for good) } and `hist`, a list of `<ms> <payload>` holding offsets (o - len + 1 … o),
 * oldest first (`<ms>` is 0 for channels without ttl: only a ttl needs the time). Every
 * publication either enters the list or (history off) drops it, so the list stays contiguous
 * and a position maps to an index without storing offsets.
 *
 * A stream whose meta is missing (never used, expired, or lost in a Redis restart without
 * persistence) starts over with the caller's fresh epoch: a recovering client that still holds
 * the old epoch is told `complete: false` instead of being handed a silent gap.
 */

/**
 * Publish: offset, history and broadcast in one atomic step, so every node receives one order
 * and a publish that resolved is in history.
 *
 * KEYS: meta, hist, and with an idempotency key its key. ARGV: [1] fresh epoch, [2] payload, [3]
 * size, [4] ttl ms, [5] retain ms of the meta (0 = forever), [6] pub/sub channel, [7] PUBLISH |
 * SPUBLISH, [8] '1' = also classic PUBLISH (cluster pattern subscribers), [9] the idempotency
 * window in ms, [10] the node's clock (ms). Returns { offset, epoch }: a key already there
 * answers its first publication's position and publishes nothing (checked and published in the
 * same atomic step).
 *
 * Expiries are renewed lazily: each is set a quarter longer than needed and renewed only once
 * less than what is needed is left, so in the steady state a publication costs Redis four calls
 * inside the script (HMGET, HINCRBY, PUBLISH and, with history, RPUSH; LTRIM once the list is
 * full; with a ttl, TIME and LINDEX) instead of a PEXPIRE per key per publication. The time is
 * Redis's when the stream has a ttl (its entries are stamped with it anyway); otherwise the only
 * expiry is the idle meta's (an hour), and the node's clock is close enough for that.
 */
export const PUBLISH_SCRIPT = new LuaScript(
  'publish',
  `if KEYS[3] then
  local first = redis.call('GET', KEYS[3])
  if first then
    local sp = string.find(first, ' ', 1, true)
    return {tonumber(string.sub(first, 1, sp - 1)), string.sub(first, sp + 1)}
  end
end
local m = redis.call('HMGET', KEYS[1], 'e', 'h', 'x', 'y')
local e, h, x, y = m[1], m[2], tonumber(m[3]), tonumber(m[4])
if not e then
  e = ARGV[1]
  h = false
  x = nil
  y = nil
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', e, 'o', 0)
end
local o = redis.call('HINCRBY', KEYS[1], 'o', 1)
local size = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local retain = tonumber(ARGV[5])
local now = tonumber(ARGV[10])
if size > 0 then
  if not h then redis.call('HSET', KEYS[1], 'h', 1) end
  local stamp = 0
  if ttl > 0 then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    stamp = now
  end
  if redis.call('RPUSH', KEYS[2], stamp .. ' ' .. ARGV[2]) > size then redis.call('LTRIM', KEYS[2], -size, -1) end
  if ttl > 0 then
    for i = 1, 8 do
      local head = redis.call('LINDEX', KEYS[2], 0)
      if not head or now - tonumber(string.sub(head, 1, string.find(head, ' ', 1, true) - 1)) <= ttl then break end
      redis.call('LPOP', KEYS[2])
    end
    if not y or y - now < ttl then
      y = now + ttl + math.ceil(ttl / 4)
      redis.call('PEXPIRE', KEYS[2], y - now)
      redis.call('HSET', KEYS[1], 'y', y)
    end
  end
elseif h then
  redis.call('DEL', KEYS[2])
  redis.call('HDEL', KEYS[1], 'h', 'y')
end
if retain > 0 then
  if not x or x - now < retain then
    x = now + retain + math.ceil(retain / 4)
    redis.call('PEXPIRE', KEYS[1], x - now)
    redis.call('HSET', KEYS[1], 'x', x)
  end
elseif x then
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
  redis.call('HDEL', KEYS[1], 'x', 'y')
end
local msg = o .. ' ' .. e .. ' ' .. ARGV[2]
redis.call(ARGV[7], ARGV[6], msg)
if ARGV[8] == '1' then redis.call('PUBLISH', ARGV[6], msg) end
if KEYS[3] then redis.call('SET', KEYS[3], o .. ' ' .. e, 'PX', tonumber(ARGV[9])) end
return {o, e}`,
)

/**
 * History and position, read together so they agree.
 *
 * KEYS: meta, hist. ARGV: [1] fresh epoch (for a stream never seen), [2] how long such a new
 * stream is kept unless published to (> 0), [3] size, [4] ttl ms, [5] since offset (-1: none), [6] since epoch, [7] limit.
 * Returns { offset, epoch, offset of the first payload, payload… }: without since the newest
 * `limit`, with since the oldest `limit` after it; expired entries left out.
 */
export const HISTORY_SCRIPT = new LuaScript(
  'history',
  `local m = redis.call('HMGET', KEYS[1], 'e', 'o')
local e, o = m[1], tonumber(m[2])
if not e then
  e = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', e, 'o', 0, 'x', 1)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return {0, e, 0}
end
local size, ttl, since, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7])
if limit <= 0 or size <= 0 or o == 0 then return {o, e, 0} end
if since >= 0 and (ARGV[6] ~= e or since >= o) then return {o, e, 0} end
local len = redis.call('LLEN', KEYS[2])
if len == 0 then return {o, e, 0} end
local first = o - len + 1
local start = math.max(first, o - size + 1)
if since >= 0 then start = math.max(start, since + 1) else start = math.max(start, o - limit + 1) end
local stop = math.min(o, start + limit - 1)
if start > stop then return {o, e, 0} end
local items = redis.call('LRANGE', KEYS[2], start - first, stop - first)
local out = {o, e, start}
local fresh = ttl <= 0
${REDIS_NOW}
for _, item in ipairs(items) do
  local sp = string.find(item, ' ', 1, true)
  if not fresh and now - tonumber(string.sub(item, 1, sp - 1)) <= ttl then fresh = true end
  if fresh then out[#out + 1] = string.sub(item, sp + 1) else out[3] = out[3] + 1 end
end
return out`,
)
