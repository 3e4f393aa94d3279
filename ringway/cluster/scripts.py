"""The Lua that makes the lease and every leader write atomic and fenced.

Each script runs whole or not at all with nothing interleaved (Redis runs one
script at a time). Checks come before the first write, so a refused call
changes nothing. Loaded with ``register_script``: EVALSHA, reloaded by redis-py
after a Redis restart empties the script cache.
"""

from __future__ import annotations

# KEYS: lease, epoch. ARGV: node, lease_ms.
# The holder may re-acquire its own lease (a restart of the same node): it still
# gets a new epoch, so writes of its previous incarnation are fenced off.
ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {0, 0, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local epoch = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
return {epoch, tonumber(t[1]), tonumber(t[2])}
"""

# KEYS: lease, epoch. ARGV: node, lease_ms, token.
# Compare-and-pexpire. A lease that lapsed with nobody taking it (a Redis restart
# longer than the lease) is taken back only while the epoch is still ours: no
# other node led in between, so our in-memory state is still the latest.
RENEW = """
if redis.call('GET', KEYS[2]) ~= ARGV[3] then return {0, 0, 0} end
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {0, 0, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local t = redis.call('TIME')
return {1, tonumber(t[1]), tonumber(t[2])}
"""

# KEYS: lease, epoch. ARGV: node, token. A clean stop hands over at once.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# One batch of leader changes.
# KEYS: 1 epoch, 2 commit, 3 seq, 4 contacts, 5 finished, 6 finished_order, 7 agents,
#       8 reservations, 9 events, 10 command cursor, 11 snapshot, 12 commands,
#       13.. reply streams.
# ARGV: 1 token, 2 batch number, 3 seq before, 4 seq after, 5 events JSON ('' = none),
#       6 oldest seq to keep, 7 finished to keep, 8 command cursor ('' = unchanged),
#       9 snapshot JSON ('' = unchanged), 10..16 counts (live, finished, agents,
#       agents deleted, reservations, reservations deleted, reply streams),
#       then the records as id/JSON pairs (deletions as ids) in that order, then per
#       reply stream: a count and that many request-id/reply pairs.
# Returns 'OK', or 'DUP' when this batch was written already (a retry after a lost
# reply), or an error: FENCED (a newer epoch exists) or SEQ (event numbering broke).
FLUSH = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FENCED epoch is ' .. tostring(redis.call('GET', KEYS[1])))
end
local commit = ARGV[1] .. ':' .. ARGV[2]
if redis.call('GET', KEYS[2]) == commit then return 'DUP' end
local seq = redis.call('GET', KEYS[3])
if seq and tonumber(seq) ~= tonumber(ARGV[3]) then
  return redis.error_reply('SEQ store is at ' .. seq .. ', batch follows ' .. ARGV[3])
end
local i = 17
local function pairs_into(key, n)
  local done = 0
  while done < n do
    local take = math.min(n - done, 200)
    redis.call('HSET', key, unpack(ARGV, i, i + 2 * take - 1))
    i = i + 2 * take
    done = done + take
  end
end
local function delete_from(key, n)
  for _ = 1, n do redis.call('HDEL', key, ARGV[i]); i = i + 1 end
end
pairs_into(KEYS[4], tonumber(ARGV[10]))
-- Finished contacts come in finishing order; each finish emitted an event, so
-- seq before + j stays within this batch's seqs and the newest are kept exactly.
for j = 1, tonumber(ARGV[11]) do
  redis.call('HDEL', KEYS[4], ARGV[i])
  redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[6], tonumber(ARGV[3]) + j, ARGV[i])
  i = i + 2
end
local extra = redis.call('ZCARD', KEYS[6]) - tonumber(ARGV[7])
if extra > 0 then
  local old = redis.call('ZPOPMIN', KEYS[6], extra)
  for j = 1, #old, 2 do redis.call('HDEL', KEYS[5], old[j]) end
end
pairs_into(KEYS[7], tonumber(ARGV[12]))
delete_from(KEYS[7], tonumber(ARGV[13]))
pairs_into(KEYS[8], tonumber(ARGV[14]))
delete_from(KEYS[8], tonumber(ARGV[15]))
if ARGV[5] ~= '' then
  redis.call('XADD', KEYS[9], 'MINID', '~', ARGV[6], ARGV[4] .. '-0', 'e', ARGV[5])
  redis.call('SET', KEYS[3], ARGV[4])
end
if ARGV[8] ~= '' then
  redis.call('SET', KEYS[10], ARGV[8])
  -- Applied commands are not needed again (and carry callers' tokens): drop them.
  redis.call('XTRIM', KEYS[12], 'MINID', '~', ARGV[8])
end
if ARGV[9] ~= '' then redis.call('SET', KEYS[11], ARGV[9]) end
for r = 1, tonumber(ARGV[16]) do
  local n = tonumber(ARGV[i])
  i = i + 1
  local done = 0
  while done < n do
    local take = math.min(n - done, 200)
    redis.call('XADD', KEYS[12 + r], 'MAXLEN', '~', 10000, '*', unpack(ARGV, i, i + 2 * take - 1))
    i = i + 2 * take
    done = done + take
  end
end
redis.call('SET', KEYS[2], commit)
return 'OK'
"""
