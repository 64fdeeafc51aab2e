-- POST /api/v1/chat with no session_id: every request starts a new session (as the anchor's
-- post_chat.lua). compare.sh adds the bearer token with -H.
wrk.method = "POST"
wrk.body   = '{"message": "What time does the library open on weekends?"}'
wrk.headers["Content-Type"] = "application/json"
