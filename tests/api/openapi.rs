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
    assert_eq!(
        served,
        serde_json::to_value(planwright_api::openapi::document()).unwrap()
    );
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
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]
                            .get("application/problem+json")
                            .is_some(),
                        "{method} {path} {status} is not documented as problem+json"
                    );
                }
            }
            assert!(
                operation["description"].as_str().is_some()
                    || operation["summary"].as_str().is_some(),
                "{method} {path} has no description"
            );
        }
    }
}
