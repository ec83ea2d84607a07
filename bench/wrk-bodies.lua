-- wrk script for the token-endpoint benchmark: POSTs a form, either the same body every time
-- (WRK_BODY) or the next line of a file (WRK_BODIES), so that every client assertion is new.
-- Prints one line the benchmark reads: requests, microseconds, non-2xx answers, p99 in microseconds.
local bodies = {}
local file = os.getenv("WRK_BODIES")
if file then
  for line in io.lines(file) do bodies[#bodies + 1] = line end
end
local fixed = os.getenv("WRK_BODY")
local next_body = 0

request = function()
  next_body = next_body + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded" }, fixed or bodies[next_body])
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d\n", summary.requests, summary.duration, summary.errors.status, latency:percentile(99)))
end
