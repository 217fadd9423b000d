-- @eventbus/core: the history read script, contract version 1.
--
-- Reads a channel's epoch, last offset and retained events in one consistent
-- step, starting an epoch if the channel has none (so an empty channel's
-- position stays valid once events arrive). Refreshes the meta's ttl, never
-- the events'. Keys as in history-publish.lua.
--
-- KEYS[1]  {<channel>}:history
-- KEYS[2]  {<channel>}:meta
-- KEYS[3]  {<channel>}:ids
-- ARGV[1]  mode            'after' (entries from an offset on) or 'latest' (the last ones)
-- ARGV[2]  epoch           'after': the epoch the offset belongs to; no entries are read if it is not the channel's
-- ARGV[3]  from            'after': the first offset to read
-- ARGV[4]  count           at most this many entries
-- ARGV[5]  meta ttl ms
--
-- Reply: { epoch, last offset, offset, data, offset, data, ... } in ascending offsets.

local history_key, meta_key, ids_key = KEYS[1], KEYS[2], KEYS[3]
local mode, since_epoch, from = ARGV[1], ARGV[2], ARGV[3]
local count, meta_ttl = ARGV[4], ARGV[5]

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
redis.call('PEXPIRE', meta_key, meta_ttl)

local reply = { epoch, last }
if mode == 'latest' then
  local entries = redis.call('XREVRANGE', history_key, '+', '-', 'COUNT', count)
  for index = #entries, 1, -1 do
    local entry = entries[index]
    reply[#reply + 1] = tonumber(string.match(entry[1], '^%d+'))
    reply[#reply + 1] = entry[2][2]
  end
elseif since_epoch == epoch then
  local entries = redis.call('XRANGE', history_key, from, '+', 'COUNT', count)
  for _, entry in ipairs(entries) do
    reply[#reply + 1] = tonumber(string.match(entry[1], '^%d+'))
    reply[#reply + 1] = entry[2][2]
  end
end
return reply
