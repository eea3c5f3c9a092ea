-- wrk script: rotate over the requests listed in a file, one a line, each thread from its own
-- offset, and print the summary as one JSON line for bench/run.py.
-- A line is a path (a GET), or a logged-in buyer's request as tab-separated fields:
-- method, path, Cookie header, CSRF token, form body (bench/buyers.py writes them).
-- Usage: wrk -s bench/rotate.lua http://127.0.0.1:PORT -- paths.txt

local requests = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function parse(line)
  if not line:find("\t", 1, true) then
    return wrk.format("GET", line)
  end
  local method, path, cookie, csrf, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
  local headers = { ["Cookie"] = cookie, ["X-CSRFToken"] = csrf }
  if body == "" then
    body = nil
  else
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return wrk.format(method, path, headers, body)
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then
      table.insert(requests, parse(line))
    end
  end
  file:close()
  assert(#requests > 0, "no requests in " .. args[1])
  -- Spread the threads over the list so they do not request the same page in step.
  counter = math.floor((id or 0) * #requests / 7)
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
