use serde_json::Value;

use crate::helpers::spawn_app;

#[test]
fn openapi_document_matches_the_snapshot() {
    let document = serde_json::to_value(planwright_api::openapi::document()).unwrap();
    insta::assert_json_snapshot!("openapi", document);
}

#[tokio::test]
async fn served_document_is_the_generated_one() {
    let app = spawn_app().await;
    let served: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert_eq!(served, serde_json::to_value(planwright_api::openapi::document()).unwrap());
}

#[test]
fn every_operation_documents_its_problem_responses() {
    let document = serde_json::to_value(planwright_api::openapi::document()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let protected = operation.get("security").is_some();
            if protected {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path} lacks {status}");
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"].get("application/problem+json").is_some(),
                        "{method} {path} {status} is not documented as problem+json"
                    );
                }
            }
            assert!(
                operation["description"].as_str().is_some() || operation["summary"].as_str().is_some(),
                "{method} {path} has no description"
            );
        }
    }
}

/// The hand-written section of `docs/API.md` on blocks moved by hand.
const PINNED_BLOCKS: &str = r#"
## Scheduling: blocks moved by hand

A task's blocks (`blocks` of a task, `placements` of a scheduling run) are its calendar events.
When the person moves, lengthens or shortens one at Google, the block follows its event and becomes
`pinned`. A pinned block is never moved, updated or deleted by Planwright: automatic re-planning
leaves its whole task where it is, and a scheduling run (`POST /api/v1/schedule`,
`POST /api/v1/plans/{id}/schedule`) keeps the block as it is and lists it in `placements` with
`pinned: true`. Its minutes count toward the task's estimate, so a run places only the rest
(`estimate − pinned minutes`, nothing when the pinned blocks cover it) as new chunks; their chunk
numbers, and so their event ids, skip the pinned ones. A pinned block is busy time, with the
buffer, for every other chunk and counts toward its day's focus cap; `events` of a run lists only
the chunks it wrote.
"#;

/// The hand-written section of `docs/API.md` on chat actions and the offline phrases.
const CHAT_ACTIONS: &str = r#"
## Chat actions (propose, then confirm)

The chat can read and propose changes to the caller's own data. Read tools (`search_knowledge`,
`list_tasks`, `list_upcoming`, `get_plan`) run at once and their results go back to the model.
`search_knowledge` ranks the same sources as the chat's grounding: knowledge documents (global and
the caller's own), the caller's resources and the caller's plans, each kind by words and meaning
(hybrid), never another user's; each source names its `kind`, `id`, `title` (with the chunk that
matched, e.g. "Leisure card › Weekend") and the `chunk`'s text.
Write tools (`create_task`, `update_task`, `break_down_task`, `create_plan`, `schedule`) are never
performed by the model: their arguments are checked with the same rules as the routes, and each
becomes a proposed action `{id, kind, status, summary, arguments, preview, result}` stored with the
answer. Actions appear in `actions` of `POST /api/v1/chat`, of each message in the history, and as
`event: action` in `POST /api/v1/chat/stream` (before `done`). For `schedule` the preview is the
dry run (`placements`, `unscheduled`, `at_risk`); for `break_down_task` it is the steps that will
be added.

`POST /api/v1/chat/{session_id}/actions/{action_id}/confirm` performs an action once, through the
same services as the routes, and stores its `result`; confirming again answers the same result.
A 409 `action_stale` means what it changes was edited or deleted since the proposal (it stays
proposed); `.../reject` discards it. Another user's action is a 404. Knowledge documents, resources
and tool results can never cause a write: only a confirm does. A message may use at most
`chat.max_tool_rounds` rounds of tool calls (default 4), each counted in the AI budget; a model
asking for an unknown tool or with invalid arguments gets an error result, never a 5xx.

### Offline phrases

With the `offline` provider (no Gemini key), the chat recognises these requests in the latest
message (case-insensitive, an optional leading "please") and proposes the same actions, so the
confirm flow can be built with no key:

| message | proposes |
| --- | --- |
| `add a task <title>[, <N> minutes\|hours][, before\|by <day>]` (also `add a task to …`, `add a task: …`) | `create_task`; `before <day>` is due at the start of that day, `by <day>` at its end (23:59), in the caller's time zone |
| `mark <task> done`, `mark <task> as done` | `update_task` with `status: done` |
| `move <task> to <day>` | `update_task` with `due_at` at the end of that day |
| `break down <task>` | `break_down_task` with the steps as preview |
| `schedule my week` | `schedule` of the open tasks with an estimate over the next seven days, with the dry run as preview |

A `<day>` is `today`, `tomorrow`, a weekday (`friday`, `fri`, `next friday`: the next one after
today) or `YYYY-MM-DD`. A `<task>` is found among the caller's tasks by the words of its title
(the look-up is a `list_tasks` call, as a model would make); when none matches, the answer says so
and proposes nothing.
"#;

/// `docs/API.md` is generated from the document; `UPDATE_DOCS=1 cargo test -p planwright-tests
/// api_summary` rewrites it after a change.
#[test]
fn api_summary_matches_the_document() {
    let document = serde_json::to_value(planwright_api::openapi::document()).unwrap();
    let mut rows = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let access = if operation.get("security").is_some() { "bearer" } else { "public" };
            let summary =
                operation["summary"].as_str().unwrap_or_default().replace('|', "\\|").replace('\n', " ");
            let statuses: Vec<&str> =
                operation["responses"].as_object().unwrap().keys().map(String::as_str).collect();
            rows.push(format!(
                "| `{} {path}` | {access} | {summary} | {} |",
                method.to_uppercase(),
                statuses.join(", ")
            ));
        }
    }
    let summary = format!(
        "# API summary\n\n\
         Generated from the OpenAPI document by `tests/api/openapi.rs` (`UPDATE_DOCS=1 cargo test -p \
         planwright-tests api_summary`); do not edit by hand. The full contract, with schemas and \
         examples, is `/openapi.json` on a running server, browsable at `/docs`.\n\n\
         Conventions: every 201 carries `Location`, the absolute path of what was created. \
         `HEAD` is answered wherever `GET` is, with the same status and headers and no body. \
         A request body whose fields are all optional (documented as not required) may be left \
         out, with or without a `Content-Type`: no body reads as `{{}}`. \
         `POST /api/v1/plans` accepts an `Idempotency-Key` header (1–255 visible ASCII characters): \
         a retry with the same key and body within 24 hours answers the first response again, with \
         `Idempotent-Replayed: true`, instead of making a second plan; the same key with another \
         body is a 422 naming the header, and a retry while the first request still runs is a 409 \
         `idempotency_in_progress`.\n\n\
         | operation | access | summary | statuses |\n| --- | --- | --- | --- |\n{}\n{PINNED_BLOCKS}{CHAT_ACTIONS}",
        rows.join("\n")
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/API.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &summary).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == summary,
        "docs/API.md is out of date: run `UPDATE_DOCS=1 cargo test -p planwright-tests api_summary`"
    );
}
