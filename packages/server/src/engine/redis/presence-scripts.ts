import { LuaScript, REDIS_NOW } from './lua-script.js'

/**
 * A room in Redis: `m`, a hash clientId → member JSON, and `x`, a sorted set clientId → expiry
 * (ms, Redis clock). Every entry has an expiry: nodes refresh their members, so the members of
 * a node that died run out. Expired entries are left out of every read and removed by `EXPIRED`;
 * both keys live at least as long as their longest-lived entry.
 */

const KEEP_KEYS = `for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ttl) end
end`

/** KEYS: m, x. ARGV: [1] clientId, [2] member JSON, [3] ttl ms. Returns 1 if it was a live member (updated), else 0. */
export const JOIN = new LuaScript(
  'presence-join',
  `${REDIS_NOW}
local ttl = tonumber(ARGV[3])
local old = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
${KEEP_KEYS}
if old and tonumber(old) > now then return 1 end
return 0`,
)

/** KEYS: m, x. ARGV: [1] ttl ms, then clientId, member JSON pairs. Refreshes (and restores) a node's members. */
export const REFRESH = new LuaScript(
  'presence-refresh',
  `${REDIS_NOW}
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[i])
end
${KEEP_KEYS}
return 0`,
)

/** KEYS: m, x. ARGV: [1] clientId. Returns the member JSON if it was a live member, else nil. */
export const LEAVE = new LuaScript(
  'presence-leave',
  `${REDIS_NOW}
local expiry = redis.call('ZSCORE', KEYS[2], ARGV[1])
local member = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) > now then return member end
return false`,
)

/** KEYS: m, x. Returns clientId, member JSON, … of the live members. */
export const MEMBERS = new LuaScript(
  'presence-members',
  `${REDIS_NOW}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')
local out = {}
for i = 1, #ids, 500 do
  local chunk = {unpack(ids, i, math.min(i + 499, #ids))}
  local members = redis.call('HMGET', KEYS[1], unpack(chunk))
  for j, id in ipairs(chunk) do
    if members[j] then
      out[#out + 1] = id
      out[#out + 1] = members[j]
    end
  end
end
return out`,
)

/** KEYS: x. Returns the number of live members. */
export const COUNT = new LuaScript(
  'presence-count',
  `${REDIS_NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')`,
)

/** KEYS: m, x. Removes up to 1000 expired members and returns their client ids. */
export const EXPIRED = new LuaScript(
  'presence-expired',
  `${REDIS_NOW}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
if #ids > 0 then
  redis.call('ZREM', KEYS[2], unpack(ids))
  redis.call('HDEL', KEYS[1], unpack(ids))
end
return ids`,
)
