//! `planwright-fill`: fills a Planwright database for the benchmarks in `bench/`, as the
//! anchor's `fill_db.py` fills its own: for the account with `--email`, `--events` events on the
//! built-in calendar (starting uniformly in [now − 180 days, now + 180 days) on 15-minute
//! boundaries, 15–180 minutes long, 5 % all-day; seeded, so every run is the same) and one chat
//! session of `--messages` messages. Prints the session id. Existing events of that calendar are
//! replaced.
//!
//! ```text
//! planwright-fill --database-url sqlite://./bench.db --email bench@example.com --events 10000 --messages 50
//! ```

#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use chrono::{NaiveTime, TimeDelta, Timelike, Utc};
use clap::Parser;
use planwright_domain::{ChatRole, Email, EventData, NewChatMessage};
use planwright_store::{
    Database,
    repo::{
        calendar::{self, EventChange},
        chat, users,
    },
};

#[derive(Debug, Parser)]
#[command(name = "planwright-fill", about = "Fills a Planwright database with benchmark data.")]
struct Args {
    /// The database (`sqlite://…` or `postgres://…`), already migrated.
    #[arg(long)]
    database_url: String,
    /// The account that owns the data (register it first).
    #[arg(long)]
    email: String,
    /// Events on the built-in calendar.
    #[arg(long, default_value_t = 10_000)]
    events: usize,
    /// Messages in the chat session (0: no session).
    #[arg(long, default_value_t = 50)]
    messages: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

const TITLES: [&str; 14] = [
    "Team stand-up",
    "Lecture: Data Structures",
    "Study group",
    "Office hours",
    "Project sync",
    "Gym",
    "Dentist",
    "Lab session",
    "1:1 with advisor",
    "Reading block",
    "Exam revision",
    "Seminar: Machine Learning",
    "Coffee chat",
    "Assignment deadline",
];
const WORDS: [&str; 20] = [
    "plan",
    "review",
    "discuss",
    "prepare",
    "notes",
    "slides",
    "draft",
    "chapter",
    "exercise",
    "problem",
    "set",
    "schedule",
    "agenda",
    "follow",
    "up",
    "outline",
    "summary",
    "questions",
    "feedback",
    "reading",
];

/// xorshift64*: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }

    fn sentence(&mut self, words: u64) -> String {
        let text: Vec<&str> = (0..words).map(|_| WORDS[self.below(20) as usize]).collect();
        format!("{}.", text.join(" "))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let db = Database::connect(&args.database_url, 2, Duration::from_secs(10)).await?;
    let email = Email::parse(&args.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let user = users::find_credentials(db.conn(), &email).await?.user;
    let local = calendar::ensure_local(db.conn(), user.id).await?;
    calendar::delete_all_events(db.conn(), local.id).await?;

    let mut rng = Rng(args.seed.max(1));
    let now = Utc::now().with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or_else(Utc::now);
    let base = now - TimeDelta::days(180);
    let slots = 360 * 24 * 4;
    let mut changes = Vec::with_capacity(500);
    for i in 0..args.events {
        let start = base + TimeDelta::minutes(15 * i64::try_from(rng.below(slots))?);
        let all_day = rng.below(100) < 5;
        let mut data = EventData {
            provider_event_id: format!("evt{i:07}"),
            ical_uid: None,
            title: TITLES[rng.below(14) as usize].to_owned(),
            description: (rng.below(10) < 7).then(|| {
                let words = 6 + rng.below(15);
                rng.sentence(words)
            }),
            location: None,
            start,
            end: start + TimeDelta::minutes(15 * (1 + i64::try_from(rng.below(12))?)),
            all_day,
            start_date: None,
            end_date: None,
            time_zone: None,
            recurrence: None,
            recurring_event_id: None,
            status: "confirmed".to_owned(),
            transparent: false,
            html_link: None,
            etag: None,
            provider_updated_at: None,
            plan_task_id: None,
            plan_id: None,
        };
        if all_day {
            let day = start.date_naive();
            data.start = day.and_time(NaiveTime::MIN).and_utc();
            data.end = data.start + TimeDelta::days(1);
            data.start_date = Some(day);
            data.end_date = day.succ_opt();
        }
        changes.push(EventChange::Upsert(Box::new(data)));
        if changes.len() == 500 {
            calendar::apply_changes(
                db.conn(),
                user.id,
                calendar::EventSource::target(&local),
                std::mem::take(&mut changes),
            )
            .await?;
        }
    }
    calendar::apply_changes(db.conn(), user.id, calendar::EventSource::target(&local), changes).await?;

    let mut session = None;
    for j in 0..args.messages {
        let (role, words) = if j % 2 == 0 {
            (ChatRole::User, 8 + rng.below(13))
        } else {
            (ChatRole::Assistant, 30 + rng.below(51))
        };
        let message = NewChatMessage {
            role,
            content: rng.sentence(words),
            sources: Vec::new(),
            usage: None,
            model: None,
        };
        session = Some(match session {
            None => chat::create_session(db.conn(), user.id, "Bench session".to_owned(), message).await?.0.id,
            Some(id) => {
                chat::add_message(db.conn(), user.id, id, message).await?;
                id
            }
        });
    }
    db.close().await?;
    eprintln!(
        "filled: {} events, {} messages in {:.2}s",
        args.events,
        args.messages,
        started.elapsed().as_secs_f64()
    );
    println!("{}", session.map(|id| id.to_string()).unwrap_or_default());
    Ok(())
}
