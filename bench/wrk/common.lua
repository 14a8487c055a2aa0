-- Shared by the scenario scripts of bench/load.py: thread numbering and one machine-readable
-- line of results (wrk's own summary has no 95th percentile).

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then
         table.insert(lines, line)
      end
   end
   return lines
end

function split_tabs(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      table.insert(fields, field)
   end
   return fields
end

function done(summary, latency, requests)
   local exhausted = 0
   for _, thread in ipairs(threads) do
      if thread:get("exhausted") then
         exhausted = exhausted + 1
      end
   end
   local errors = summary.errors
   io.write(string.format(
      'LOAD_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
      '"max_us":%d,"non_2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
      '"threads_out_of_pool":%d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max, errors.status, errors.connect, errors.read,
      errors.write, errors.timeout, exhausted))
end
