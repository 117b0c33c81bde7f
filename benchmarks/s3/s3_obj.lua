-- wrk script: replay boto3's captured S3 PUT/GET requests (used by bench_s3.sh).
-- wrk ... -s s3_obj.lua http://host:port -- HEADS_FILE BODY_FILE|- [errors]
-- HEADS_FILE holds one signed request head per object key (capture.py: o0 .. o(N-1), each head
-- ending in CRLF CRLF); a PUT sends BODY_FILE, the body every head was signed over. Objects are
-- picked as swift_obj.lua picks them: a random start per thread, then the next key each request.
--
-- Expect: 100-continue (boto3 sends it on every PUT): the proxy answers "100 Continue" and then the
-- real response. wrk counts every HTTP message it parses as a response, so left alone it would
-- take the 100 as the answer and send the next request before the real one came back. wrk waits
-- for as many responses per write as the request() call it makes at setup (to check the script)
-- returned requests (its pipeline depth). That first call, on thread 1 only and never sent, returns
-- the request twice; from then on every write waits for its two messages, 100 and the final one,
-- and the latency is taken at the final one. response() counts the final answers (wrk does not
-- hand a 100 without headers to Lua, so the 100s are the rest of wrk's count) and those that are
-- not 2xx (wrk's own err_status only counts >= 400). done() prints requests = final answers and
-- no_continue = finals that came without their 100 (each stalls its connection: must be 0).
-- "errors" as third argument also collects the responses of GETs (slower for wrk: it then copies
-- every body into Lua) and prints the first non-2xx answer.
local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

local function count_response(status, headers, body)
  if status == 100 then return end
  finals = finals + 1
  if status < 200 or status > 299 then
    bad = bad + 1
    if first_error == "" then
      first_error = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function init(args)
  local all = slurp(args[1])
  heads = {}
  local pos = 1
  while pos <= #all do
    local e = string.find(all, "\r\n\r\n", pos, true)
    if not e then error("truncated head in " .. args[1]) end
    heads[#heads + 1] = string.sub(all, pos, e + 3)
    pos = e + 4
  end
  nobj = #heads
  body = ""
  if args[2] and args[2] ~= "-" then body = slurp(args[2]) end
  finals, bad, first_error = 0, 0, ""
  expect = string.find(string.lower(heads[1]), "\r\nexpect: 100-continue\r\n", 1, true) ~= nil
  verifying = expect and tid == 1
  expect_n = expect and 1 or 0
  counting = 0
  if expect or args[3] == "errors" then
    response = count_response
    counting = 1
  end
  math.randomseed(os.time() + tid)
  counter = math.random(0, nobj - 1)
end

function request()
  counter = counter + 1
  local r = heads[counter % nobj + 1] .. body
  if verifying then  -- wrk's setup check, never sent: sets its pipeline depth to 2 (see above)
    verifying = false
    return r .. r
  end
  return r
end

function done(summary, latency, requests)
  local finals, nbad, first, counted, expect_seen = 0, 0, "", 0, 0
  for _, t in ipairs(threads) do
    nbad = nbad + t:get("bad")
    finals = finals + t:get("finals")
    counted = t:get("counting")
    expect_seen = t:get("expect_n")
    if first == "" then first = t:get("first_error") end
  end
  local e = summary.errors
  local answered, no_continue = summary.requests, 0
  if counted == 1 then
    answered = finals
    -- wrk's count minus the finals = the 100s (plus at most one per connection still waiting
    -- for its final answer when the time ran out)
    if expect_seen == 1 then no_continue = math.max(0, 2 * finals - summary.requests) end
  end
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d mean_us=%.0f max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d " ..
    "no_continue=%d bad_status=%d counted=%d\n",
    answered, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout,
    no_continue, nbad, counted))
  if first ~= "" then io.write("FIRST_ERROR " .. string.gsub(first, "%s+", " ") .. "\n") end
end
