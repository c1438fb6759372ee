-- Request script for wrk (bench/lib/wrk.ts): cycles through a file of prepared GET requests, one per line:
-- path<TAB>Header-Name: value<TAB>…  and prints the summary as one JSON line the harness parses.
-- A second argument paces the run: that many requests per second per thread, sent on a fixed schedule (below).
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } sprout_timespec;
  int clock_gettime(int clock, sprout_timespec *ts);
]]
local ts = ffi.new("sprout_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval_ms = nil
local next_at = 0
local prepared = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local fields = {}
    for field in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = field end
    local headers = {}
    for i = 2, #fields do
      local name, value = string.match(fields[i], "^([^:]+): (.*)$")
      headers[name] = value
    end
    prepared[#prepared + 1] = wrk.format("GET", fields[1], headers)
  end
  file:close()
  counter = offset or 0
  -- Defined only for paced runs: wrk checks for delay() after init, and with one every request takes an extra
  -- turn of its event loop, which unpaced runs must not pay.
  if args[2] then
    interval_ms = 1000 / tonumber(args[2])
    delay = paced_delay
  end
end

-- Paced runs: the thread's requests go out one per interval, whichever of its connections is free; a slot missed
-- while every connection waits is not made up (so the rate falls rather than bursting). wrk times a request from
-- when it is written, so the latencies are the service's at that rate, without queueing in front of it.
function paced_delay()
  local now = now_ms()
  if next_at < now then next_at = now end
  local wait = next_at - now
  next_at = next_at + interval_ms
  return wait
end

function request()
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"meanUs":%.1f,"p50Us":%d,"p90Us":%d,"p99Us":%d,"p999Us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
