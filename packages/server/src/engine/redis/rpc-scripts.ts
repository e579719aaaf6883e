import { LuaScript } from './lua-script.js'

/**
 * An RPC name in Redis: `p`, a hash providerId → nodeId, and `rr`, the provider picked last.
 * Round-robin goes through the provider ids in sorted order, starting after the last one picked,
 * so providers that come and go do not upset the rotation of the others.
 */

/** KEYS: p, rr. ARGV: excluded provider ids. Returns { providerId, nodeId } or nil. */
export const PICK = new LuaScript(
  'rpc-pick',
  `local ids = redis.call('HKEYS', KEYS[1])
local n = #ids
if n == 0 then return false end
table.sort(ids)
local skip = {}
for i = 1, #ARGV do skip[ARGV[i]] = true end
local last = redis.call('GET', KEYS[2])
local start = 1
if last then
  for i = 1, n do
    if ids[i] > last then
      start = i
      break
    end
    if i == n then start = 1 end
  end
end
for k = 0, n - 1 do
  local id = ids[((start - 1 + k) % n) + 1]
  if not skip[id] then
    redis.call('SET', KEYS[2], id)
    return {id, redis.call('HGET', KEYS[1], id)}
  end
end
return false`,
)

/** KEYS: p, rr. ARGV: provider ids to remove. Drops the cursor with the last provider. */
export const UNREGISTER = new LuaScript(
  'rpc-unregister',
  `redis.call('HDEL', KEYS[1], unpack(ARGV))
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[2]) end
return 0`,
)
