-- POST /api/v1/ai/breakdown, the anchor's breakdown body.
wrk.method = "POST"
wrk.body   = '{"title": "Write the project report", "description": "Final report for the software engineering course, due in two weeks."}'
wrk.headers["Content-Type"] = "application/json"
