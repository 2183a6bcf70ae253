-- One request class of the read-API load (`python -m bench.api` runs one wrk per class).
--
-- Environment: API_BENCH_PATHS (the class's request paths, one a line, in mix proportions),
-- API_BENCH_OUT (where done() writes its tab-separated results), API_BENCH_RANGED ("1" for
-- the 30-day ranges: fingerprints are kept per date, since a range may see some of its dates
-- reloaded and others not yet), API_BENCH_RATE (requests/s of each connection; 0 or unset: as
-- fast as the answers come).
--
-- wrk runs with as many threads as connections: each thread (its own Lua state) drives one
-- connection, request and response strictly alternating, so response() knows the path it
-- answers. It checks invariants a torn date would break (counted at once) and records a
-- CRC-32 of every answer (of every row of a range) per path: the harness then counts the
-- answers that are neither the store's answer before the concurrent run nor after it.

local ffi = require("ffi")
ffi.cdef([[
unsigned long crc32(unsigned long crc, const char *buf, unsigned int len);
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]])
local zlib = ffi.load("libz.so.1")
local clock = ffi.new("bench_timespec")
local rate = tonumber(os.getenv("API_BENCH_RATE") or "0") or 0
local period_ms = rate > 0 and 1000 / rate or 0
local due_ms = nil -- when this connection's next request is due

local ranged = os.getenv("API_BENCH_RANGED") == "1"
local tid = 0 -- set by setup()
local paths, prepared, count, at = {}, {}, 0, 0
local last = ""
responses, non200, violations = 0, 0, 0
statuses, samples, seen = {}, {}, {}

local function crc(text)
  return tostring(tonumber(zlib.crc32(0, text, #text)))
end

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("API_BENCH_PATHS")) do
    count = count + 1
    paths[count] = line
    prepared[count] = wrk.format("GET", line)
  end
  math.randomseed(7919 * tid + 17)
  at = math.random(count) - 1 -- each connection starts elsewhere in the shuffled list
end

local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

-- Paced: one request every period_ms (connections start spread over a period); a request
-- that is late goes at once, and the schedule restarts from it (no burst to catch up).
if rate > 0 then
  function delay()
    local now = now_ms()
    due_ms = due_ms and math.max(due_ms + period_ms, now) or now + math.random() * period_ms
    return math.floor(due_ms - now + 0.5)
  end
end

function request()
  at = at % count + 1
  last = paths[at]
  return prepared[at]
end

local function note(key, text)
  local k = key .. "\t" .. crc(text)
  seen[k] = (seen[k] or 0) + 1
end

local function violation(why)
  violations = violations + 1
  if #samples < 5 then
    table.insert(samples, why .. ": " .. last)
  end
end

-- Ranks 1..k in order with no gap or duplicate (per genre for top_songs_daily).
local function ranks_ok(rows, per_genre)
  local expect, genre = 1, nil
  for _, row in ipairs(rows) do
    local g = per_genre and row:match('"genre":"([^"]*)"') or nil
    if g ~= genre then
      expect, genre = 1, g
    end
    if tonumber(row:match('"rank":(%d+)')) ~= expect then
      return false
    end
    expect = expect + 1
  end
  return true
end

local function hours_ok(rows)
  local prev = -1
  for _, row in ipairs(rows) do
    local hour = tonumber(row:match('"hour":(%d+)'))
    if hour == nil or hour <= prev or hour > 23 then
      return false
    end
    prev = hour
  end
  return true
end

local function day_of(row)
  return row:match('"report_date":"([^"]+)"') or row:match('"period_start":"([^"]+)"')
end

-- A date's answer: rows, all of that date, whole top-N lists, 24 hours at most.
local function check_date(tbl, rows)
  local day = last:match("date=([%d-]+)")
  if #rows == 0 and not last:find("genre=", 1, true) then -- a genre may have no plays that day
    return violation("no rows for a loaded date")
  end
  for _, row in ipairs(rows) do
    if day_of(row) ~= day then
      return violation("a row of another date")
    end
  end
  if tbl == "top_genres_daily" or tbl == "top_artists_daily" or tbl == "top_songs_daily" then
    if not ranks_ok(rows, tbl == "top_songs_daily") then
      violation("ranks not 1..k")
    end
  elseif tbl == "hourly_activity" and not hours_ok(rows) then
    violation("hours not distinct")
  end
end

-- A range's answer: dates strictly ascending, inside from..to.
local function check_range(rows)
  local first, final = last:match("from=([%d-]+)"), last:match("to=([%d-]+)")
  local prev = ""
  for _, row in ipairs(rows) do
    local day = day_of(row) or ""
    if day <= prev or day < first or day > final then
      return violation("range dates not ascending within from..to")
    end
    prev = day
  end
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
    statuses[status] = (statuses[status] or 0) + 1
    if #samples < 5 then
      table.insert(samples, "HTTP " .. status .. ": " .. last)
    end
    return
  end
  local tbl = body:match('^{"table":"([%w_]+)"')
  if tbl == nil then -- a song or a user: the object asked for
    local id = last:match("/v1/%a+/(.+)$")
    if not body:find('"' .. id .. '"', 1, true) then
      violation("another object")
    end
    return note(last, body)
  end
  local rows = {}
  for row in (body:match('"rows":%[(.*)%]}$') or ""):gmatch("{[^{}]*}") do
    rows[#rows + 1] = row
  end
  if not ranged then
    check_date(tbl, rows)
    return note(last, body)
  end
  check_range(rows)
  for _, row in ipairs(rows) do
    note(last .. "|" .. (day_of(row) or "?"), row)
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("API_BENCH_OUT"), "w"))
  local function put(...)
    out:write(table.concat({ ... }, "\t"), "\n")
  end
  put("stat", "requests", summary.requests)
  put("stat", "duration_us", summary.duration)
  put("stat", "bytes", summary.bytes)
  for _, kind in ipairs({ "connect", "read", "write", "status", "timeout" }) do
    put("stat", "socket_" .. kind, summary.errors[kind])
  end
  for _, p in ipairs({ 50, 90, 95, 99, 99.9 }) do
    put("latency_us", p, latency:percentile(p))
  end
  put("latency_us", "max", latency.max)
  put("latency_us", "mean", latency.mean)
  for _, thread in ipairs(threads) do
    put("stat", "responses", thread:get("responses"))
    put("stat", "non200", thread:get("non200"))
    put("stat", "violations", thread:get("violations"))
    for code, n in pairs(thread:get("statuses")) do
      put("status", code, n)
    end
    for _, text in ipairs(thread:get("samples")) do
      put("sample", text)
    end
    for key, n in pairs(thread:get("seen")) do
      put("seen", key, n)
    end
  end
  out:close()
end
