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
         | operation | access | summary | statuses |\n| --- | --- | --- | --- |\n{}\n",
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
