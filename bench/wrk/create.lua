-- POSTs of a new record each time, with an Idempotency-Key of its own:
-- wrk ... -s create.lua URL -- PATH BODY_FILE TOKEN RUN_TAG
-- "@NAME@" in the body becomes a name of letters no other request of any run uses (a fresh
-- child: no possible duplicate of an earlier one); "@AGE@" an age in months from 0 to 215,
-- spread over the requests as children's ages are (a kelurahan's children do not all share
-- one birth date).

dofile("common.lua")

local path, body, token, tag
local sent = 0

local function letters(number)
   local word = ""
   repeat
      word = string.char(97 + number % 26) .. word
      number = math.floor(number / 26)
   until number == 0
   return word
end

function init(args)
   path, token, tag = args[1], args[3], args[4]
   body = table.concat(read_lines(args[2]), "\n")
end

function request()
   sent = sent + 1
   local unique = tag .. " " .. letters(tid) .. " " .. letters(sent)
   local headers = {["Content-Type"] = "application/json", ["Accept"] = "application/json",
                    ["Idempotency-Key"] = tag .. "-" .. tid .. "-" .. sent}
   if token ~= "-" then
      headers["Authorization"] = "Bearer " .. token
   end
   local age = tostring((sent * 7 + tid * 13) % 216)
   return wrk.format("POST", path, headers, (body:gsub("@NAME@", unique):gsub("@AGE@", age)))
end
