//! `planwright backup` / `planwright restore` on SQLite: a copy taken while the server writes holds
//! every write acknowledged before it began, restores into a fresh database, and the encrypted
//! Google tokens in it still open with the same key.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use planwright::backup;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{BACKGROUND, TestApp, TestUser, app_with_google, poll_until, spawn_app_with};

fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Tasks created back to back by four writers until stopped, split by whether their 201 came
/// before the backup began (those must be in it).
struct Writes {
    started: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    before: Arc<Mutex<Vec<String>>>,
    after: Arc<Mutex<Vec<String>>>,
    writers: Vec<tokio::task::JoinHandle<()>>,
}

impl Writes {
    /// Starts the writers and returns once 40 tasks are acknowledged; the backup may begin.
    async fn start(app: &TestApp, token: &str) -> Self {
        let started = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let before = Arc::new(Mutex::new(Vec::<String>::new()));
        let after = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut writers = Vec::new();
        for writer in 0..4 {
            let (client, url, token) = (app.client.clone(), app.url("/api/v1/tasks"), token.to_owned());
            let (started, stop, before, after) =
                (started.clone(), stop.clone(), before.clone(), after.clone());
            writers.push(tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let body = json!({"title": format!("writer {writer} task {n}")});
                    let response = client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), StatusCode::CREATED);
                    let task: Value = response.json().await.unwrap();
                    let id = task["id"].as_str().unwrap().to_owned();
                    // The flag is read after the answer: a write acknowledged before the backup
                    // began was committed before the backup's snapshot.
                    let side = if started.load(Ordering::SeqCst) { &after } else { &before };
                    side.lock().unwrap().push(id);
                }
            }));
        }
        poll_until(BACKGROUND, "writes before the backup", || async { before.lock().unwrap().len() >= 40 })
            .await;
        started.store(true, Ordering::SeqCst);
        Self { started, stop, before, after, writers }
    }

    /// Waits for 20 writes after the backup, stops the writers and returns (before, after).
    async fn finish(self) -> (Vec<String>, Vec<String>) {
        assert!(self.started.load(Ordering::SeqCst));
        poll_until(BACKGROUND, "writes after the backup", || async {
            self.after.lock().unwrap().len() >= 20
        })
        .await;
        self.stop.store(true, Ordering::SeqCst);
        for writer in self.writers {
            writer.await.unwrap();
        }
        let before = self.before.lock().unwrap().clone();
        let after = self.after.lock().unwrap().clone();
        (before, after)
    }
}

/// On the restored app: every task acknowledged before the backup is there, no more tasks than
/// were written, the password still logs in and the Google tokens decrypt (a sync reaches Google).
async fn assert_restored(
    app: &TestApp,
    user: &TestUser,
    connection_id: &str,
    before: &[String],
    written: usize,
) {
    let token = user.access_token.as_str();
    for id in before {
        let response = app.get_task(id, token).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "task {id}, acknowledged before the backup, is missing"
        );
    }
    let mut listed = 0;
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=200&cursor={c}"),
            None => "limit=200".to_owned(),
        };
        let page: Value = app.list_tasks(&query, token).await.json().await.unwrap();
        listed += page["items"].as_array().unwrap().len();
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert!(listed >= before.len() && listed <= written, "{listed} tasks restored of {written} written");
    assert_eq!(app.login(&user.email, &user.password).await.status(), StatusCode::OK);
    let synced = app.sync_calendar_ok(&json!({"connection_id": connection_id}), token).await;
    assert_eq!(synced["results"][0]["status"], "ok", "the Google tokens do not open: {synced}");
}

#[tokio::test]
async fn a_backup_under_concurrent_writes_restores_every_acknowledged_row_and_google_tokens_still_open() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live/planwright.db");
    let live_url = sqlite_url(&live);
    let (app, _fake) = app_with_google(move |s| s.database.url = live_url).await;
    let user = app.signed_in_user().await;
    let connection_id = app.connect_google(&user).await;

    let copy = dir.path().join("backups/planwright-backup.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let writes = Writes::start(&app, &user.access_token).await;
    let outcome = backup::backup(&app.settings.database, &copy).await.expect("backup succeeds");
    let (before, after) = writes.finish().await;
    assert!(outcome.migrations > 0 && outcome.bytes > 0, "{outcome:?}");
    assert!(copy.is_file());

    // A second backup to the same file is refused; so is a restore over the running server's
    // database (its write-ahead log is open).
    assert!(backup::backup(&app.settings.database, &copy).await.is_err());
    let refused = backup::restore(&app.settings.database, &copy, false).await.unwrap_err();
    assert!(format!("{refused:#}").contains("Stop every server"), "{refused:#}");

    // Restore into a fresh database, with the same settings (and so the same encryption key).
    let mut restored_settings = app.settings.clone();
    restored_settings.database.url = sqlite_url(&dir.path().join("restored/planwright.db"));
    let restored =
        backup::restore(&restored_settings.database, &copy, false).await.expect("restore succeeds");
    assert_eq!(restored.migrations, outcome.migrations);
    assert!(restored.kept.is_none(), "nothing was there to keep");
    let restored_app = spawn_app_with(move |s| *s = restored_settings).await;
    assert_restored(&restored_app, &user, &connection_id, &before, before.len() + after.len()).await;

    // Restoring again over the restored database keeps the replaced one beside it.
    restored_app.stop().await;
    restored_app.db.clone().close().await.unwrap();
    let again = backup::restore(&restored_app.settings.database, &copy, true).await.expect("second restore");
    assert!(again.kept.as_ref().is_some_and(|kept| kept.is_file()), "{again:?}");
}

/// The documented PostgreSQL procedure (docs/OPERATIONS.md): `pg_dump` while the server writes,
/// `pg_restore` into a fresh database. Runs with `TEST_DATABASE_URL` (the PostgreSQL suite).
#[tokio::test]
async fn pg_dump_under_concurrent_writes_and_pg_restore_bring_back_every_acknowledged_row() {
    let Some(admin_url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.trim().is_empty()) else {
        return;
    };
    let (app, _fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let connection_id = app.connect_google(&user).await;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("planwright.dump");

    let writes = Writes::start(&app, &user.access_token).await;
    let source_url = app.settings.database.url.clone();
    let dump_path = dump.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("pg_dump")
            .args(["--format=custom", "--no-owner", "-d", &source_url, "-f"])
            .arg(&dump_path)
            .output()
    })
    .await
    .unwrap()
    .expect("pg_dump runs");
    assert!(output.status.success(), "pg_dump: {}", String::from_utf8_lossy(&output.stderr));
    let (before, after) = writes.finish().await;

    let name = format!("pw_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let restored_url =
        format!("{}/{name}", admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base));
    let target = restored_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("pg_restore")
            .args(["--no-owner", "--exit-on-error", "-d", &target])
            .arg(&dump)
            .output()
    })
    .await
    .unwrap()
    .expect("pg_restore runs");
    assert!(output.status.success(), "pg_restore: {}", String::from_utf8_lossy(&output.stderr));

    let mut settings = app.settings.clone();
    settings.database.url = restored_url;
    let restored_app = spawn_app_with(move |s| *s = settings).await;
    assert_restored(&restored_app, &user, &connection_id, &before, before.len() + after.len()).await;
}

#[tokio::test]
async fn a_file_that_is_not_a_backup_is_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("planwright.db");
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not an SQLite database").unwrap();
    let mut settings = crate::helpers::test_settings();
    settings.database.url = sqlite_url(&target);
    let error = backup::restore(&settings.database, &garbage, false).await.unwrap_err();
    assert!(format!("{error:#}").contains("not a usable backup"), "{error:#}");
    assert!(!target.exists(), "nothing was restored");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no leftover files");
}

#[tokio::test]
async fn postgres_is_pointed_to_pg_dump() {
    let mut settings = crate::helpers::test_settings();
    settings.database.url = "postgres://postgres@127.0.0.1:5432/test".to_owned();
    let file = std::env::temp_dir().join(format!("never-written-{}.db", uuid::Uuid::new_v4()));
    let error = backup::backup(&settings.database, &file).await.unwrap_err();
    assert!(format!("{error:#}").contains("pg_dump"), "{error:#}");
    let error = backup::restore(&settings.database, &file, false).await.unwrap_err();
    assert!(format!("{error:#}").contains("pg_restore"), "{error:#}");
    assert!(!file.exists());
}
