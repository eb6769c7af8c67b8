-- GET one page of the history: BENCH_PATH (e.g. /api/conferences?q=retro&page=3) with the app token.
package.path = "bench/wrk/?.lua;" .. package.path
require "common"

wrk.method = "GET"
wrk.path = os.getenv("BENCH_PATH")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
