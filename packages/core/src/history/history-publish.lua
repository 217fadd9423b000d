-- @eventbus/core: the history publish script, contract version 2 (a version 1
-- caller, with one event, runs unchanged).
--
-- Appends events to a channel's history and publishes each live with its
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
-- ARGV[8]  publish command      PUBLISH (the default) or SPUBLISH; required when more events follow
-- ARGV[9...] more events        optional pairs of data and event id, appended after the first, in order
--
-- Reply: { offset, epoch, duplicate } for the first event, then offset,
-- duplicate for each further one: the event's offset (in epoch); duplicate is
-- 1 when its id was within the window (nothing was stored or published, and
-- offset is the first publish's), else 0. If appending an event fails, the
-- events before it stay appended and published and the script answers the
-- error: retry them all with the same ids.
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

if #KEYS ~= 3 or #ARGV < 7 or (#ARGV > 8 and #ARGV % 2 ~= 0) then
  return fail('expected 3 keys, 7 or 8 arguments, then pairs of data and event id')
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
local events = { data, event_id }
for index = 9, #ARGV do
  events[#events + 1] = ARGV[index]
end
for index = 1, #events, 2 do
  local text = events[index]
  if string.sub(text, -1) ~= '}' or not string.find(text, '^%s*{') or string.find(text, '^%s*{%s*}$') then
    return fail('data must be a non-empty JSON object')
  end
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

local reply = {}
local first = last
local remembered = false
local failure
for index = 1, #events, 2 do
  local text, key = events[index], events[index + 1]
  local deduplicate = key ~= '' and window > 0
  local seen = deduplicate and redis.call('ZSCORE', ids_key, key)
  if seen then
    reply[#reply + 1] = tonumber(seen)
    reply[#reply + 1] = 1
  else
    local offset = last + 1
    -- Numbers go to Redis as decimal strings: Lua would write large ones in exponent form.
    local id = string.format('%d', offset)
    -- XADD first: if it fails, this event changed nothing.
    local added = redis.pcall('XADD', history_key, 'MAXLEN', max_entries, id .. '-0', 'd', text)
    if type(added) == 'table' and added.err then
      failure = added
      break
    end
    last = offset
    if deduplicate then
      redis.call('ZADD', ids_key, id, key)
      remembered = true
    end
    redis.call(command, channel,
      string.sub(text, 1, -2) .. ',"_position":{"epoch":"' .. epoch .. '","offset":' .. id .. '}}')
    reply[#reply + 1] = offset
    reply[#reply + 1] = 0
  end
end
-- Once per run, for every event it appended: the counter, the ttls, the id window.
if last > first then
  local id = string.format('%d', last)
  redis.call('PEXPIRE', history_key, ttl)
  redis.call('HSET', meta_key, 'offset', id)
  redis.call('PEXPIRE', meta_key, meta_ttl)
  if remembered then
    redis.call('ZREMRANGEBYSCORE', ids_key, '-inf', string.format('%d', last - window))
    redis.call('PEXPIRE', ids_key, ttl)
  end
end
if failure then
  return failure
end
table.insert(reply, 2, epoch)
return reply
