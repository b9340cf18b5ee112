-- wrk script for `make bench`. Arguments after `--`:
--   1: a Lua file returning a list of {method=, path=, headers=, body=} requests
--   2: "fixed" (send the first request again and again) or "consume" (each request once,
--      from position 3 on: the quiz POSTs, one fresh draw each)
--   3: the first position to use (consume mode)
--   4: the status every response must have
--   5: a string the Location header must contain ("" for none)
-- Prints one line "BENCH requests=... seconds=... p50_us=... p99_us=... unexpected=... queries_min=..."
-- at the end (the X-Queries range over all responses).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local data = dofile(args[1])
   mode = args[2]
   first = tonumber(args[3]) or 0
   expected = tonumber(args[4])
   location = args[5] or ""
   prepared = {}
   for i, r in ipairs(data) do
      prepared[i] = wrk.format(r.method, r.path, r.headers, r.body)
   end
   position = first
   unexpected = 0
   exhausted = 0
   qmin = -1
   qmax = -1
end

function request()
   if mode == "fixed" then
      return prepared[1]
   end
   position = position + 1
   local r = prepared[position]
   if r == nil then
      exhausted = exhausted + 1
      return prepared[#prepared]
   end
   return r
end

function response(status, headers, body)
   local q = tonumber(headers["X-Queries"] or headers["x-queries"] or "")
   if q then
      if qmin < 0 or q < qmin then qmin = q end
      if q > qmax then qmax = q end
   end
   if status ~= expected then
      unexpected = unexpected + 1
   elseif location ~= "" then
      local where = headers["Location"] or headers["location"] or ""
      if not string.find(where, location, 1, true) then
         unexpected = unexpected + 1
      end
   end
end

function done(summary, latency, requests)
   local used, wrong, short, low, high = 0, 0, 0, -1, -1
   for _, thread in ipairs(threads) do
      used = used + (thread:get("position") - thread:get("first"))
      wrong = wrong + thread:get("unexpected")
      short = short + thread:get("exhausted")
      local tmin, tmax = thread:get("qmin"), thread:get("qmax")
      if tmin >= 0 and (low < 0 or tmin < low) then low = tmin end
      if tmax > high then high = tmax end
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d seconds=%.6f p50_us=%d p99_us=%d unexpected=%d used=%d exhausted=%d "
         .. "errors=%d queries_min=%d queries_max=%d\n",
      summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
      wrong, used, short, e.connect + e.read + e.write + e.status + e.timeout, low, high))
end
