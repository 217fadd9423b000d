-- @eventbus/core: the history publish script, contract version 1.
--
-- Appends one event to a channel's history and publishes it live with its
-- position, in one atomic step. Shipped as `@eventbus/core/history-publish.lua`
-- so that services in other languages publish exactly as the library does;
-- docs/history.md describes the model and shows the Python recipe.
--
-- KEYS[1]  {<channel>}:history  Stream of the retained events: entry id <offset>-0, field d = data
-- KEYS[2]  {<channel>}:meta     hash: epoch, offset (the last offset given)
-- KEYS[3]  {<channel>}:ids      sorted set: event id scored by its offset (idempotency window)
-- ARGV[1]  channel              the Pub/Sub channel to publish on
-- ARGV[2]  data                 the event's JSON object, as the wire format writes it
-- ARGV[3]  event id             the idempotency key ("" for none)
-- ARGV[4]  max entries          events kept per channel, at least 1
-- ARGV[5]  ttl ms               the events expire this long after the last publish, at least 1
-- ARGV[6]  meta ttl ms          the epoch and counter expire this long after the last use, at least ttl ms
-- ARGV[7]  idempotency window   how many of the last event ids are remembered, 0 for none
-- ARGV[8]  publish command      optional: PUBLISH (the default) or SPUBLISH
--
-- Reply: { offset, epoch, duplicate }: the event's offset and epoch; duplicate
-- is 1 when the event id was within the window (nothing was stored or
-- published, and offset is the first publish's), else 0.
--
-- The message published is `data` with one more member at the end:
--   ,"_position":{"epoch":"<epoch>","offset":<offset>}
-- Keys name the channel in a hash tag, so they share its Redis Cluster slot.

local history_key, meta_key, ids_key = KEYS[1], KEYS[2], KEYS[3]
local channel, data, event_id = ARGV[1], ARGV[2], ARGV[3]
local max_entries, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local meta_ttl, window = tonumber(ARGV[6]), tonumber(ARGV[7])
local command = ARGV[8] or 'PUBLISH'

local function fail(message)
  return redis.error_reply('ERR eventbus history publish: ' .. message)
end
local function is_count(value, least)
  return value ~= nil and value >= least and value == math.floor(value)
end

if #KEYS ~= 3 or #ARGV < 7 or #ARGV > 8 then
  return fail('expected 3 keys and 7 or 8 arguments')
end
if not (is_count(max_entries, 1) and is_count(ttl, 1) and is_count(window, 0)) then
  return fail('max entries and ttl must be integers of at least 1, the window of at least 0')
end
if not is_count(meta_ttl, ttl) then
  return fail('meta ttl must be an integer of at least ttl')
end
if command ~= 'PUBLISH' and command ~= 'SPUBLISH' then
  return fail('the publish command must be PUBLISH or SPUBLISH')
end
if string.sub(data, -1) ~= '}' or not string.find(data, '^%s*{') or string.find(data, '^%s*{%s*}$') then
  return fail('data must be a non-empty JSON object')
end

local meta = redis.call('HMGET', meta_key, 'epoch', 'offset')
local epoch, last = meta[1], tonumber(meta[2]) or 0
if not epoch then
  -- A new lifetime of the channel's history: named after the key and the
  -- server's clock, with what an earlier lifetime left deleted (so XADD of
  -- offset 1 cannot collide with an old last id). The same block is in
  -- history-publish.lua and history-read.lua; a test keeps them equal.
  local now = redis.call('TIME')
  epoch = string.sub(redis.sha1hex(meta_key .. ':' .. now[1] .. ':' .. now[2]), 1, 12)
  last = 0
  redis.call('DEL', history_key, ids_key)
  redis.call('HSET', meta_key, 'epoch', epoch, 'offset', 0)
end

local deduplicate = event_id ~= '' and window > 0
if deduplicate then
  local seen = redis.call('ZSCORE', ids_key, event_id)
  if seen then
    return { tonumber(seen), epoch, 1 }
  end
end

local offset = last + 1
-- Numbers go to Redis as decimal strings: Lua would write large ones in exponent form.
local id = string.format('%d', offset)
-- XADD first: if it fails, nothing else has changed.
redis.call('XADD', history_key, 'MAXLEN', max_entries, id .. '-0', 'd', data)
redis.call('PEXPIRE', history_key, ttl)
redis.call('HSET', meta_key, 'offset', id)
redis.call('PEXPIRE', meta_key, meta_ttl)
if deduplicate then
  redis.call('ZADD', ids_key, id, event_id)
  redis.call('ZREMRANGEBYSCORE', ids_key, '-inf', string.format('%d', offset - window))
  redis.call('PEXPIRE', ids_key, ttl)
end
redis.call(command, channel,
  string.sub(data, 1, -2) .. ',"_position":{"epoch":"' .. epoch .. '","offset":' .. id .. '}}')
return { offset, epoch, 0 }
