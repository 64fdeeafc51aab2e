-- POST /api/v1/plans, the anchor's plan body.
wrk.method = "POST"
wrk.body   = '{"goal": "Learn FastAPI in 2 days", "duration_days": 2, "context": {"notes": "I have some Python experience."}}'
wrk.headers["Content-Type"] = "application/json"
