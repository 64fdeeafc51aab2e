use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn one_users_token_never_reads_or_changes_anothers_data() {
    let app = spawn_app().await;
    let alice = app.signed_in_user().await;
    let bob = app.signed_in_user().await;
    let bob_before: Value = app.get_me(&bob.access_token).await.json().await.unwrap();

    let alice_me: Value = app.get_me(&alice.access_token).await.json().await.unwrap();
    assert_eq!(alice_me["id"], alice.id.as_str());
    assert_ne!(alice_me["email"], bob_before["email"]);

    app.update_me(&json!({"name": "Alice", "timezone": "Europe/Paris"}), &alice.access_token).await;
    // Alice cannot sign Bob out with his refresh token.
    assert_eq!(app.logout(&bob.refresh_token, &alice.access_token).await.status(), StatusCode::NO_CONTENT);
    // Deleting Alice leaves Bob whole.
    assert_eq!(app.delete_me(&alice.access_token).await.status(), StatusCode::NO_CONTENT);

    let bob_after: Value = app.get_me(&bob.access_token).await.json().await.unwrap();
    assert_eq!(bob_before, bob_after);
    assert_eq!(app.refresh(&bob.refresh_token).await.status(), StatusCode::OK, "Bob's session survived");
}
