/**
 * Lua scripts of the Upstash store. Each runs atomically in Redis, which is what makes the lease
 * and fencing sound: no other command runs between a script's check and its write.
 *
 * Replies are numbers, or JSON text built with `cjson` when they carry strings: `@upstash/redis`
 * JSON-parses string replies by default ("123" becomes 123, "true" becomes true), so raw strings
 * would come back altered; a JSON object text comes back as that object whatever the setting.
 */

/**
 * KEYS: lease, fence counter. ARGV: holder id, ttl ms, acquired-at time.
 * Returns the new token (INCR of the fence counter, so strictly increasing), or 0 when the lease
 * is held (the key exists until its PX expiry or a release).
 */
export const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', token, 'acquiredAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return token`;

/** KEYS: lease. ARGV: token, ttl ms. Extends the lease if the token is current: 1, else 0. */
export const RENEW = `
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** KEYS: lease. ARGV: token. Deletes the lease if the token is current: 1, else 0. */
export const RELEASE = `
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

/** KEYS: lease. Returns JSON {"holder","token","pttl"} or "{}" when nobody holds it. */
export const HOLDER = `
local holder = redis.call('HGET', KEYS[1], 'holder')
if not holder then return '{}' end
return cjson.encode({holder = holder, token = redis.call('HGET', KEYS[1], 'token'), pttl = redis.call('PTTL', KEYS[1])})`;

/**
 * The fenced write. KEYS: lease, target hash. ARGV: token, "replace" | "merge", then field/value
 * pairs. Writes only if the lease exists and carries exactly this token, in the same atomic step
 * as the check. Returns 0 when written, -1 when no lease is held, else the current lease's token.
 * "replace" deletes the hash first, so fields absent from the new value do not survive.
 */
export const FENCED_HSET = `
local current = redis.call('HGET', KEYS[1], 'token')
if not current then return -1 end
if current ~= ARGV[1] then return tonumber(current) end
if ARGV[2] == 'replace' then redis.call('DEL', KEYS[2]) end
if #ARGV > 2 then redis.call('HSET', KEYS[2], unpack(ARGV, 3)) end
return 0`;

/** KEYS: hashes. Returns a JSON array with one {field: value} object per key ({} when missing). */
export const READ_HASHES = `
local out = {}
for i, key in ipairs(KEYS) do
  local flat = redis.call('HGETALL', key)
  local map = {}
  for j = 1, #flat, 2 do map[flat[j]] = flat[j + 1] end
  out[i] = map
end
return cjson.encode(out)`;

/** KEYS: sorted set. Returns its members, oldest score first, as a JSON array ("{}" when empty). */
export const LIST = `return cjson.encode(redis.call('ZRANGE', KEYS[1], 0, -1))`;

/**
 * KEYS: bootstrap meta hash, bootstrap index (sorted set). ARGV: id, index, lsn, total,
 * started-at time, started-at epoch ms. Keeps the first start time when begun again.
 */
export const BEGIN_BOOTSTRAP = `
redis.call('HSETNX', KEYS[1], 'startedAt', ARGV[5])
redis.call('HSET', KEYS[1], 'index', ARGV[2], 'lsn', ARGV[3], 'total', ARGV[4])
redis.call('ZADD', KEYS[2], 'NX', ARGV[6], ARGV[1])
return 1`;

/** KEYS: ranges hash. ARGV: pending record, then range ids. HSETNX each: known ranges keep state. */
export const REGISTER_RANGES = `
local n = 0
for i = 2, #ARGV do n = n + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[1]) end
return n`;

/**
 * KEYS: bootstrap meta hash, ranges hash, done set. ARGV: range id, record JSON, status, now.
 * One HSET per range (never a read-modify-write of a shared blob), so concurrent consumers cannot
 * lose each other's ranges. `done` is final: a later running/failed mark of a done range (a
 * redelivered message) is ignored. When the done set reaches the total, completedAt is set once.
 * Returns {applied (1, 0 = done is final, -1 = unknown bootstrap), done, total, completed}.
 */
export const MARK_RANGE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0, 0, 0} end
local applied = 1
if ARGV[3] ~= 'done' and redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
  applied = 0
else
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  if ARGV[3] == 'done' then redis.call('SADD', KEYS[3], ARGV[1]) end
end
local done = redis.call('SCARD', KEYS[3])
local total = tonumber(redis.call('HGET', KEYS[1], 'total')) or 0
if total > 0 and done >= total then redis.call('HSETNX', KEYS[1], 'completedAt', ARGV[4]) end
return {applied, done, total, redis.call('HEXISTS', KEYS[1], 'completedAt')}`;
