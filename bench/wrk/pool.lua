-- Requests read from a pool file, one a line, tab-separated:
--   METHOD  PATH  TOKEN  IF-MATCH  BODY  COOKIE     ("-" for none; COOKIE may be left off)
-- A line with a COOKIE is a web page's request (a signed-in browser): it asks for HTML.
-- wrk ... -s pool.lua URL -- POOL_FILE MODE THREADS
-- MODE "random": any line, any number of times (reads of random ids, sync cursors);
-- MODE "once": each line used once, the lines shared out between the threads (a pending
-- referral accepted twice would be refused); a thread whose share is used up stops.

dofile("common.lua")

local pool = {}
local mode = "random"
local next_index = 1

function init(args)
   mode = args[2]
   local threads = tonumber(args[3])
   math.randomseed(os.time() + 7919 * tid)
   for index, line in ipairs(read_lines(args[1])) do
      if mode == "random" or (index - 1) % threads == tid then
         local fields = split_tabs(line)
         local headers = {["Accept"] = "application/json"}
         if fields[3] ~= "-" then
            headers["Authorization"] = "Bearer " .. fields[3]
         end
         if fields[4] ~= "-" then
            headers["If-Match"] = fields[4]
         end
         if fields[6] ~= nil and fields[6] ~= "-" then
            headers["Cookie"] = fields[6]
            headers["Accept"] = "text/html"
         end
         local body = nil
         if fields[5] ~= "-" then
            body = fields[5]
            headers["Content-Type"] = "application/json"
         end
         table.insert(pool, wrk.format(fields[1], fields[2], headers, body))
      end
   end
end

function request()
   if mode == "random" then
      return pool[math.random(#pool)]
   end
   if next_index > #pool then
      -- sent, but the loop stops before its answer is read: it is not counted
      wrk.thread:set("exhausted", true)
      wrk.thread:stop()
      return wrk.format("GET", "/api/v1/health/live")
   end
   next_index = next_index + 1
   return pool[next_index - 1]
end
