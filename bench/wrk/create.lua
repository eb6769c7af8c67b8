-- POST /api/conferences with the body in BENCH_BODY and, for the app, the app token in BENCH_TOKEN.
-- wrk -s bench/wrk/create.lua http://host:port   (the runner sets both variables)
package.path = "bench/wrk/?.lua;" .. package.path
require "common"

wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BENCH_TOKEN")
if token ~= nil and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
