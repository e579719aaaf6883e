import { LuaScript, REDIS_NOW } from './lua-script.js'

/**
 * Occupancy in Redis, one bucket at a time (layout: RedisKeys.occupancyBucket). Every change of
 * a bucket is one script, so transitions are atomic and numbered: each event gets the bucket's
 * next seq, goes into the bucket's log (for nodes that missed it) and out on its channel, in the
 * same step. A node's holdings and claims are listed under its id, and its id is in the
 * bucket's `x` with an expiry it refreshes (BEAT); whoever finds it expired removes what it held
 * and claimed, with the events that causes.
 *
 * Every script: KEYS[1] the bucket's `m`. ARGV [1] the bucket's key prefix, [2] its channel,
 * [3] PUBLISH | SPUBLISH, [4] a fresh epoch (used when the bucket has none: new, or lost in a
 * Redis restart), [5] the calling node's id, [6] its timeout (ms); then the script's own. The other keys are built
 * from the prefix (a dead node's sets are only known inside the script); the hash tag keeps
 * them in the slot of KEYS[1].
 *
 * Event wire form: `<epoch>\n<seq>\n<o|v|r>\n<field>\n<listenerId of a released claim, or empty>`.
 */

/** Events kept per bucket for nodes that missed some; one further behind reads the state instead. */
export const EVENT_LOG_SIZE = 2000

const PRELUDE = `local base, chan, pub, me, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[5], tonumber(ARGV[6])
local meta, log, held, owners, nodes = KEYS[1], base .. 'ev', base .. 'h', base .. 'o', base .. 'x'
local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  epoch = ARGV[4]
  redis.call('DEL', log)
  redis.call('HSET', meta, 'e', epoch, 's', 0)
end
local function emit(change, field, listener)
  local s = redis.call('HINCRBY', meta, 's', 1)
  local msg = epoch .. '\\n' .. s .. '\\n' .. change .. '\\n' .. field .. '\\n' .. (listener or '')
  redis.call('XADD', log, 'MAXLEN', '~', ${EVENT_LOG_SIZE}, '0-' .. s, 'm', msg)
  redis.call(pub, chan, msg)
end
local function seq()
  return tonumber(redis.call('HGET', meta, 's'))
end
-- Lists this node in the bucket if it is not (it was taken for dead, or Redis lost it), so what
-- it holds now expires if it dies before its next heartbeat; 2 if it had to, else 0.
local function listed()
  if redis.call('ZSCORE', nodes, me) then return 0 end
  local t = redis.call('TIME')
  redis.call('ZADD', nodes, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl, me)
  return 2
end
-- Drops a name's claim; returns the listener id that held it, or nil.
local function disown(field)
  local cur = redis.call('HGET', owners, field)
  if not cur then return nil end
  redis.call('HDEL', owners, field)
  local sp = string.find(cur, ' ', 1, true)
  redis.call('SREM', base .. 'c:' .. string.sub(cur, 1, sp - 1), field)
  return string.sub(cur, sp + 1)
end
-- A node starts holding a name; true when the name became occupied.
local function hold(node, field)
  if redis.call('SADD', base .. 'n:' .. node, field) == 0 then return false end
  if redis.call('HINCRBY', held, field, 1) > 1 then return false end
  emit('o', field)
  return true
end
-- A holder is gone (already out of its node's set); true when the name became vacant.
local function vacate(field)
  local n = redis.call('HINCRBY', held, field, -1)
  if n > 0 then return false end
  redis.call('HDEL', held, field)
  if n < 0 then return false end
  disown(field)
  emit('v', field)
  return true
end
local function unhold(node, field)
  if redis.call('SREM', base .. 'n:' .. node, field) == 0 then return false end
  return vacate(field)
end
-- Drops a claim; every node hears 'released' when the name stays occupied.
local function release(field)
  local listener = disown(field)
  if listener and redis.call('HEXISTS', held, field) == 1 then emit('r', field, listener) end
end
-- The claim on field if node holds it, else nil (and the node's list forgets the field).
local function claim_of(node, field)
  local cur = redis.call('HGET', owners, field)
  if cur and string.sub(cur, 1, #node + 1) == node .. ' ' then return cur end
  redis.call('SREM', base .. 'c:' .. node, field)
  return nil
end
-- Removes up to budget of a node's holdings and claims (appending the names vacated);
-- returns the budget left and whether nothing of the node remains.
local function clear(node, budget, vacated)
  local fields = redis.call('SPOP', base .. 'n:' .. node, budget)
  for _, f in ipairs(fields) do
    if vacate(f) then vacated[#vacated + 1] = f end
  end
  budget = budget - #fields
  if budget > 0 then
    local claimed = redis.call('SPOP', base .. 'c:' .. node, budget)
    for _, f in ipairs(claimed) do
      if claim_of(node, f) then release(f) end
    end
    budget = budget - #claimed
  end
  local empty = redis.call('EXISTS', base .. 'n:' .. node, base .. 'c:' .. node) == 0
  return budget, empty
end
`

function script(name: string, body: string): LuaScript {
  return new LuaScript(`occupancy-${name}`, `${PRELUDE}${body}`)
}

/** ARGV [7] field. Returns 1 when the name became occupied, + 2 when the node had to be listed again. */
export const ENTER = script(
  'enter',
  `local again = listed()
if hold(me, ARGV[7]) then return again + 1 end
return again`,
)

/** ARGV [7] field. Returns 1 when the name became vacant. */
export const LEAVE = script('leave', `if unhold(me, ARGV[7]) then return 1 end return 0`)

/**
 * ARGV [7] listener id, [8] field. The name must be occupied and unclaimed (or claimed by that
 * listener). Returns { 1 if the listener owns it, epoch, seq (events after it came after),
 * 2 if the node had to be listed again }.
 */
export const CLAIM = script(
  'claim',
  `local field, mine = ARGV[8], me .. ' ' .. ARGV[7]
if redis.call('HEXISTS', held, field) == 0 then return {0, epoch, seq(), 0} end
local cur = redis.call('HGET', owners, field)
if cur then
  if cur == mine then return {1, epoch, seq(), 0} end
  return {0, epoch, seq(), 0}
end
local again = listed()
redis.call('HSET', owners, field, mine)
redis.call('SADD', base .. 'c:' .. me, field)
return {1, epoch, seq(), again}`,
)

/** ARGV [7] listener id, [8] field. Drops the claim if that listener holds it. */
export const RELEASE = script(
  'release',
  `local cur = redis.call('HGET', owners, ARGV[8])
if not cur or string.sub(cur, string.find(cur, ' ', 1, true) + 1) ~= ARGV[7] then return 0 end
release(ARGV[8])
return 1`,
)

/**
 * The node's heartbeat in this bucket: first removes (up to ARGV [7] entries) what expired nodes
 * held and claimed, this one included if it expired; then, when that work is done, extends this
 * node's expiry by its timeout. Returns { 1 if this node was listed and alive, 1 if done (else
 * call again), epoch, seq, {names vacated} }.
 */
export const BEAT = script(
  'beat',
  `${REDIS_NOW}
local score = redis.call('ZSCORE', nodes, me)
local alive = score and tonumber(score) > now
local budget, done, vacated = tonumber(ARGV[7]), true, {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', nodes, '-inf', now)) do
  local empty
  budget, empty = clear(node, budget, vacated)
  if not empty then
    done = false
    break
  end
  redis.call('ZREM', nodes, node)
end
if done then redis.call('ZADD', nodes, now + ttl, me) end
return {alive and 1 or 0, done and 1 or 0, epoch, seq(), vacated}`,
)

/**
 * Makes Redis agree with what this node holds and claims (after Redis lost it, the node was
 * taken for dead, or calls failed while Redis was away). ARGV [7] number of fields held, then
 * those fields, then field, listener id pairs of the claims this node believes it
 * has or is making. Holdings missing are added and extra ones dropped; claims Redis has and the
 * node does not are released; claims the node has and Redis does not are reported lost.
 * Returns { {names occupied}, {names vacated}, {fields of lost claims}, seq }.
 */
export const SYNC = script(
  'sync',
  `${REDIS_NOW}
local count = tonumber(ARGV[7])
local want, claims = {}, {}
for i = 8, 7 + count do want[ARGV[i]] = true end
for i = 8 + count, #ARGV, 2 do claims[ARGV[i]] = ARGV[i + 1] end
local occupied, vacated, lost = {}, {}, {}
for _, f in ipairs(redis.call('SMEMBERS', base .. 'n:' .. me)) do
  if not want[f] and unhold(me, f) then vacated[#vacated + 1] = f end
end
for i = 8, 7 + count do
  if hold(me, ARGV[i]) then occupied[#occupied + 1] = ARGV[i] end
end
for _, f in ipairs(redis.call('SMEMBERS', base .. 'c:' .. me)) do
  local cur = claim_of(me, f)
  if cur and (not claims[f] or cur ~= me .. ' ' .. claims[f]) then release(f) end
end
for i = 8 + count, #ARGV, 2 do
  if redis.call('HGET', owners, ARGV[i]) ~= me .. ' ' .. ARGV[i + 1] then lost[#lost + 1] = ARGV[i] end
end
redis.call('ZADD', nodes, now + ttl, me)
return {occupied, vacated, lost, seq()}`,
)

/**
 * A clean shutdown: removes up to ARGV [7] of this node's holdings and claims, with the events
 * that causes, and the node itself once nothing is left. Returns 1 when done (else call again).
 */
export const DROP = script(
  'drop',
  `local _, empty = clear(me, tonumber(ARGV[7]), {})
if not empty then return 0 end
redis.call('ZREM', nodes, me)
return 1`,
)

/**
 * Events after ARGV [7] seq of ARGV [8] epoch, at most ARGV [9]. Returns { epoch, seq, 1 if
 * the events listed are all there are from that point (else: another epoch, or trimmed), msg… }.
 */
export const CATCH_UP = script(
  'catch-up',
  `local s, after = seq(), tonumber(ARGV[7])
if ARGV[8] ~= epoch or after > s then return {epoch, s, 0} end
if after == s then return {epoch, s, 1} end
local entries = redis.call('XRANGE', log, '0-' .. (after + 1), '+', 'COUNT', tonumber(ARGV[9]))
if #entries == 0 or entries[1][1] ~= '0-' .. (after + 1) then return {epoch, s, 0} end
local out = {epoch, s, 1}
for _, entry in ipairs(entries) do out[#out + 1] = entry[2][2] end
return out`,
)

/**
 * The bucket's whole state, for a node that cannot catch up event by event. ARGV [7] '1' to
 * include names and claims. Returns { epoch, seq, {occupied fields}, {field, owner…} }.
 */
export const STATE = script(
  'state',
  `if ARGV[7] ~= '1' then return {epoch, seq(), {}, {}} end
return {epoch, seq(), redis.call('HKEYS', held), redis.call('HGETALL', owners)}`,
)
