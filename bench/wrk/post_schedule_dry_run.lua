-- POST /api/v1/plans/{id}/schedule with dry_run: reads busy time on the built-in calendar and
-- places the plan, writing nothing. compare.sh writes the start date into BENCH_START_DATE.
wrk.method = "POST"
wrk.body   = '{"start_date": "' .. os.getenv("BENCH_START_DATE") .. '", "dry_run": true}'
wrk.headers["Content-Type"] = "application/json"
