//! Named cases of the scheduler's rules.

use chrono::Days;

use super::*;

pub(super) fn utc(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

fn date(raw: &str) -> NaiveDate {
    raw.parse().unwrap()
}

/// The plan the tasks of [`task`] belong to.
const PLAN: Uuid = Uuid::from_u128(0x91a2);

/// Task `n` of [`PLAN`] at position `n`: one block of `minutes`, no deadline, normal priority.
fn task(n: u128, minutes: u32) -> TaskToPlace {
    TaskToPlace {
        id: Uuid::from_u128(n),
        estimate_minutes: minutes,
        due_at: None,
        priority: Priority::Normal,
        earliest_start: None,
        min_chunk_minutes: None,
        done: false,
        sequence: Some((PLAN, u32::try_from(n).unwrap())),
    }
}

/// Task `n` on its own (no plan) of `minutes`, cut into pieces of at least `min_chunk`.
fn loose(n: u128, minutes: u32, min_chunk: Option<u16>) -> TaskToPlace {
    TaskToPlace { min_chunk_minutes: min_chunk, sequence: None, ..task(n, minutes) }
}

fn busy(start: &str, end: &str) -> BusyInterval {
    BusyInterval { start: utc(start), end: utc(end) }
}

fn preferences(buffer: i64, cap: i64) -> SchedulePreferences {
    SchedulePreferences::parse(buffer, cap, 60).unwrap()
}

/// 09:00–17:00 Monday to Friday in `zone`, default preferences, nothing busy, from the start of
/// `start_date` for 62 days.
fn request(zone: &str, start_date: &str, tasks: Vec<TaskToPlace>) -> ScheduleRequest {
    let time_zone = TimeZone::parse(zone).unwrap();
    let from = start_of_day(date(start_date), &time_zone);
    ScheduleRequest {
        tasks,
        time_zone,
        working_hours: WorkingHours::default(),
        busy: Vec::new(),
        pinned: Vec::new(),
        preferences: SchedulePreferences::default(),
        from,
        until: start_of_day(date(start_date) + Days::new(62), &TimeZone::parse(zone).unwrap()),
    }
}

/// The start of `from`'s day plus `days`, in the request's zone (a plan task's day).
fn day(req: &ScheduleRequest, days: u64) -> DateTime<Utc> {
    let first = req.from.with_timezone(&req.time_zone.tz()).date_naive();
    start_of_day(first + Days::new(days), &req.time_zone)
}

fn placed(outcome: &ScheduleOutcome) -> Vec<(u128, DateTime<Utc>, DateTime<Utc>)> {
    outcome.placements.iter().map(|p| (p.task_id.as_u128(), p.start, p.end)).collect()
}

/// A placement as `(task, chunk, chunks, start, end)`.
type Piece = (u128, u16, u16, DateTime<Utc>, DateTime<Utc>);

fn pieces(outcome: &ScheduleOutcome) -> Vec<Piece> {
    outcome.placements.iter().map(|p| (p.task_id.as_u128(), p.chunk, p.chunks, p.start, p.end)).collect()
}

fn left_out(outcome: &ScheduleOutcome) -> Vec<(u128, UnscheduledReason)> {
    outcome.unscheduled.iter().map(|u| (u.task_id.as_u128(), u.reason)).collect()
}

#[test]
fn tasks_fill_the_day_in_order_with_a_buffer_between_them() {
    // 2026-06-15 is a Monday; Berlin is on summer time (UTC+2).
    let outcome = schedule(&request("Europe/Berlin", "2026-06-15", vec![task(2, 30), task(1, 60)]));
    assert_eq!(
        placed(&outcome),
        [
            (1, utc("2026-06-15T07:00:00Z"), utc("2026-06-15T08:00:00Z")),
            (2, utc("2026-06-15T08:10:00Z"), utc("2026-06-15T08:40:00Z")),
        ]
    );
    assert!(outcome.unscheduled.is_empty() && outcome.at_risk.is_empty());
}

#[test]
fn position_orders_tasks_within_a_plan_and_id_breaks_ties() {
    let mut tasks = vec![task(1, 15), task(2, 15), task(3, 15)];
    tasks[0].sequence = Some((PLAN, 9));
    tasks[1].sequence = Some((PLAN, 0));
    tasks[2].sequence = Some((PLAN, 0));
    let outcome = schedule(&request("UTC", "2026-06-15", tasks));
    let order: Vec<u128> = placed(&outcome).iter().map(|p| p.0).collect();
    assert_eq!(order, [2, 3, 1]);
}

#[test]
fn busy_time_is_avoided_with_the_buffer_on_both_sides() {
    let mut req = request("UTC", "2026-06-15", vec![task(1, 60), task(2, 45)]);
    req.busy = vec![
        busy("2026-06-15T10:30:00Z", "2026-06-15T11:00:00Z"),
        // Overlapping and out of order.
        busy("2026-06-15T09:30:00Z", "2026-06-15T10:00:00Z"),
        busy("2026-06-15T09:45:00Z", "2026-06-15T10:15:00Z"),
    ];
    let outcome = schedule(&req);
    // 09:00–09:20 is too short, and the buffers leave no gap between the meetings.
    assert_eq!(
        placed(&outcome),
        [
            (1, utc("2026-06-15T11:10:00Z"), utc("2026-06-15T12:10:00Z")),
            (2, utc("2026-06-15T12:20:00Z"), utc("2026-06-15T13:05:00Z")),
        ]
    );
}

#[test]
fn a_block_may_end_exactly_where_the_buffer_before_busy_time_begins() {
    let mut req = request("UTC", "2026-06-15", vec![task(1, 50)]);
    req.busy = vec![busy("2026-06-15T10:00:00Z", "2026-06-15T11:00:00Z")];
    assert_eq!(placed(&schedule(&req)), [(1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T09:50:00Z"))]);
}

#[test]
fn the_buffer_does_not_apply_at_the_edges_of_working_hours() {
    let mut req = request("UTC", "2026-06-15", vec![task(1, 480)]);
    req.preferences = preferences(10, 480);
    req.busy = vec![busy("2026-06-15T08:00:00Z", "2026-06-15T09:00:00Z")];
    // Busy time just before the day starts does push the block by the buffer.
    assert_eq!(placed(&schedule(&req)), [(1, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T17:00:00Z"))]);
    req.busy.clear();
    assert_eq!(placed(&schedule(&req)), [(1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T17:00:00Z"))]);
}

#[test]
fn a_task_on_a_weekend_moves_to_the_next_working_day() {
    // 2026-06-20 is a Saturday; task 2 belongs to the Sunday.
    let mut req = request("UTC", "2026-06-20", vec![task(1, 60), task(2, 60)]);
    req.tasks[1].earliest_start = Some(day(&req, 1));
    assert_eq!(
        placed(&schedule(&req)),
        [
            (1, utc("2026-06-22T09:00:00Z"), utc("2026-06-22T10:00:00Z")),
            (2, utc("2026-06-22T10:10:00Z"), utc("2026-06-22T11:10:00Z")),
        ]
    );
}

#[test]
fn nothing_starts_before_the_earliest_start() {
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 60, None), loose(2, 60, Some(30))]);
    req.tasks[0].earliest_start = Some(utc("2026-06-17T13:00:00Z"));
    req.tasks[1].earliest_start = Some(utc("2026-06-15T16:30:00Z"));
    assert_eq!(
        pieces(&schedule(&req)),
        [
            (2, 0, 2, utc("2026-06-15T16:30:00Z"), utc("2026-06-15T17:00:00Z")),
            (2, 1, 2, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T09:30:00Z")),
            (1, 0, 1, utc("2026-06-17T13:00:00Z"), utc("2026-06-17T14:00:00Z")),
        ]
    );
}

#[test]
fn the_daily_cap_moves_work_to_the_next_day() {
    let mut req = request("UTC", "2026-06-15", vec![task(1, 120), task(2, 120), task(3, 60)]);
    req.preferences = preferences(0, 240);
    assert_eq!(
        placed(&schedule(&req)),
        [
            (1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T11:00:00Z")),
            (2, utc("2026-06-15T11:00:00Z"), utc("2026-06-15T13:00:00Z")),
            (3, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T10:00:00Z")),
        ]
    );
}

#[test]
fn the_daily_cap_cuts_a_split_task_across_days() {
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 300, Some(30))]);
    req.preferences = preferences(0, 240);
    assert_eq!(
        pieces(&schedule(&req)),
        [
            (1, 0, 2, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T13:00:00Z")),
            (1, 1, 2, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T10:00:00Z")),
        ]
    );
}

#[test]
fn a_later_task_never_jumps_ahead_of_an_earlier_one() {
    // Task 1 only fits after the meeting; task 2 would fit before it but must follow task 1.
    let mut req = request("UTC", "2026-06-15", vec![task(1, 240), task(2, 30)]);
    req.busy = vec![busy("2026-06-15T11:00:00Z", "2026-06-15T12:00:00Z")];
    assert_eq!(
        placed(&schedule(&req)),
        [
            (1, utc("2026-06-15T12:10:00Z"), utc("2026-06-15T16:10:00Z")),
            (2, utc("2026-06-15T16:20:00Z"), utc("2026-06-15T16:50:00Z")),
        ]
    );
}

#[test]
fn plan_order_holds_across_pieces_and_over_priority() {
    // Task 1 is cut around the meeting; task 2 (urgent, but after task 1 in the plan) waits for its
    // last piece, while an unrelated task takes the free time before.
    let mut req = request("UTC", "2026-06-15", vec![task(1, 300), task(2, 30), loose(3, 30, None)]);
    req.tasks[0].min_chunk_minutes = Some(60);
    req.tasks[0].priority = Priority::Low;
    req.tasks[1].priority = Priority::Urgent;
    req.tasks[2].priority = Priority::Low;
    req.busy = vec![busy("2026-06-15T11:00:00Z", "2026-06-15T12:00:00Z")];
    assert_eq!(
        pieces(&schedule(&req)),
        [
            (3, 0, 1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T09:30:00Z")),
            (1, 0, 2, utc("2026-06-15T09:40:00Z"), utc("2026-06-15T10:50:00Z")),
            (1, 1, 2, utc("2026-06-15T12:10:00Z"), utc("2026-06-15T16:00:00Z")),
            (2, 0, 1, utc("2026-06-15T16:10:00Z"), utc("2026-06-15T16:40:00Z")),
        ]
    );
}

#[test]
fn a_task_whose_day_is_full_goes_to_the_nearest_later_working_day() {
    let mut req = request("UTC", "2026-06-19", vec![task(1, 60)]);
    req.busy = vec![busy("2026-06-19T09:00:00Z", "2026-06-19T16:30:00Z")];
    // Friday is full; Saturday and Sunday are not working days.
    assert_eq!(placed(&schedule(&req)), [(1, utc("2026-06-22T09:00:00Z"), utc("2026-06-22T10:00:00Z"))]);
}

#[test]
fn tasks_that_cannot_fit_are_left_out_with_a_reason_and_do_not_block_the_rest() {
    let mut req =
        request("UTC", "2026-06-15", vec![task(1, 0), task(2, 481), task(3, 420), task(4, 60), task(5, 30)]);
    req.tasks[4].earliest_start = Some(day(&req, 1));
    let mut blocked = req.clone();
    let outcome = schedule(&req);
    assert_eq!(
        left_out(&outcome),
        [
            (1, UnscheduledReason::NoDuration),
            (2, UnscheduledReason::LongerThanWorkingDay),
            (3, UnscheduledReason::LongerThanDailyCap),
        ]
    );
    assert_eq!(outcome.placements.len(), 2);

    blocked.until = day(&blocked, 3);
    blocked.busy = vec![busy("2026-06-01T00:00:00Z", "2026-06-20T00:00:00Z")];
    let outcome = schedule(&blocked);
    assert!(outcome.placements.is_empty());
    assert_eq!(
        left_out(&outcome)[3..],
        [(4, UnscheduledReason::NoFreeSlotWithinHorizon), (5, UnscheduledReason::NoFreeSlotWithinHorizon)]
    );
}

#[test]
fn a_split_task_is_left_out_only_when_its_smallest_piece_cannot_fit() {
    let mut req = request(
        "UTC",
        "2026-06-15",
        vec![
            loose(1, 2000, Some(60)),
            loose(2, 2000, Some(481)),
            loose(3, 900, Some(420)),
            loose(4, 450, Some(300)),
        ],
    );
    req.preferences = preferences(10, 400);
    let outcome = schedule(&req);
    // Task 4 cannot be cut: one piece is longer than the cap, two of at least 300 minutes too long.
    assert_eq!(
        left_out(&outcome),
        [
            (2, UnscheduledReason::LongerThanWorkingDay),
            (3, UnscheduledReason::LongerThanDailyCap),
            (4, UnscheduledReason::LongerThanDailyCap),
        ]
    );
    let minutes: i64 = outcome.placements.iter().map(|p| (p.end - p.start).num_minutes()).sum();
    assert_eq!(minutes, 2000);
    assert!(outcome.placements.iter().all(|p| p.task_id == Uuid::from_u128(1) && p.chunks == 5));
}

#[test]
fn nothing_ends_after_until() {
    let mut req = request("UTC", "2026-06-15", vec![task(1, 60), task(2, 60)]);
    req.tasks[1].earliest_start = Some(day(&req, 2));
    // Busy Monday to Friday: nothing fits before Monday 2026-06-22 10:00.
    req.busy = vec![busy("2026-06-15T00:00:00Z", "2026-06-20T00:00:00Z")];
    req.until = utc("2026-06-22T10:00:00Z");
    let outcome = schedule(&req);
    assert_eq!(placed(&outcome), [(1, utc("2026-06-22T09:00:00Z"), utc("2026-06-22T10:00:00Z"))]);
    assert_eq!(left_out(&outcome), [(2, UnscheduledReason::NoFreeSlotWithinHorizon)]);
    req.until = utc("2026-06-22T11:10:00Z");
    assert_eq!(
        placed(&schedule(&req)),
        [
            (1, utc("2026-06-22T09:00:00Z"), utc("2026-06-22T10:00:00Z")),
            (2, utc("2026-06-22T10:10:00Z"), utc("2026-06-22T11:10:00Z")),
        ]
    );
}

#[test]
fn nothing_is_placed_before_from() {
    let mut req = request("UTC", "2026-06-15", vec![task(1, 60), task(2, 360)]);
    req.from = utc("2026-06-15T13:07:00Z");
    assert_eq!(
        placed(&schedule(&req)),
        [
            (1, utc("2026-06-15T13:07:00Z"), utc("2026-06-15T14:07:00Z")),
            (2, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T15:00:00Z")),
        ]
    );
}

#[test]
fn an_empty_request_gives_an_empty_outcome() {
    assert_eq!(schedule(&request("UTC", "2026-06-15", Vec::new())), ScheduleOutcome::default());
}

#[test]
fn dates_at_the_end_of_the_calendar_do_not_panic() {
    let mut req =
        request("Europe/Berlin", "2026-06-15", vec![task(1, 60), task(2, 60), loose(3, 600, Some(15))]);
    req.tasks[1].earliest_start = Some(DateTime::<Utc>::MAX_UTC);
    req.tasks[2].due_at = Some(DateTime::<Utc>::MAX_UTC);
    req.from = (NaiveDate::MAX - Days::new(3)).and_time(chrono::NaiveTime::MIN).and_utc();
    req.until = DateTime::<Utc>::MAX_UTC;
    req.busy = vec![BusyInterval { start: DateTime::<Utc>::MIN_UTC, end: DateTime::<Utc>::MAX_UTC }];
    assert_eq!(schedule(&req).unscheduled.len(), 3);
    req.busy.clear();
    let outcome = schedule(&req);
    assert_eq!(outcome.unscheduled.len() + outcome.placements.iter().filter(|p| p.chunk == 0).count(), 3);
    req.from = DateTime::<Utc>::MIN_UTC;
    req.until = (NaiveDate::MIN + Days::new(3)).and_time(chrono::NaiveTime::MIN).and_utc();
    req.tasks[2].due_at = Some(DateTime::<Utc>::MIN_UTC);
    let outcome = schedule(&req);
    assert_eq!(outcome.unscheduled.len() + outcome.placements.iter().filter(|p| p.chunk == 0).count(), 3);
}

// Deadlines, priorities and pieces.

#[test]
fn an_earlier_deadline_goes_before_a_higher_priority() {
    // Each task needs most of a day's cap: the normal one due tomorrow goes first.
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 300, None), loose(2, 300, None)]);
    req.tasks[0].priority = Priority::High;
    req.tasks[0].due_at = Some(utc("2026-06-22T17:00:00Z"));
    req.tasks[1].due_at = Some(utc("2026-06-16T17:00:00Z"));
    let outcome = schedule(&req);
    assert_eq!(
        placed(&outcome),
        [
            (2, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T14:00:00Z")),
            (1, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T14:00:00Z")),
        ]
    );
    assert!(outcome.at_risk.is_empty());
    // Without deadlines, priority decides.
    req.tasks.iter_mut().for_each(|task| task.due_at = None);
    assert_eq!(placed(&schedule(&req))[0].0, 1);
}

#[test]
fn urgent_work_goes_before_an_earlier_deadline() {
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 300, None), loose(2, 300, None)]);
    req.tasks[0].priority = Priority::Urgent;
    req.tasks[1].due_at = Some(utc("2026-06-16T17:00:00Z"));
    assert_eq!(
        placed(&schedule(&req)),
        [
            (1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T14:00:00Z")),
            (2, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T14:00:00Z")),
        ]
    );
}

#[test]
fn a_long_task_is_split_around_meetings() {
    let meetings = vec![
        busy("2026-06-15T10:00:00Z", "2026-06-15T11:00:00Z"),
        busy("2026-06-15T12:00:00Z", "2026-06-15T12:30:00Z"),
        busy("2026-06-15T14:00:00Z", "2026-06-15T15:00:00Z"),
    ];
    // Free: 09:00–09:50 (50), 11:10–11:50 (40), 12:40–13:50 (70), 15:10–17:00 (110).
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 240, Some(30))]);
    req.busy = meetings;
    assert_eq!(
        pieces(&schedule(&req)),
        [
            (1, 0, 4, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T09:50:00Z")),
            (1, 1, 4, utc("2026-06-15T11:10:00Z"), utc("2026-06-15T11:50:00Z")),
            (1, 2, 4, utc("2026-06-15T12:40:00Z"), utc("2026-06-15T13:50:00Z")),
            (1, 3, 4, utc("2026-06-15T15:10:00Z"), utc("2026-06-15T16:30:00Z")),
        ]
    );
    // Hour-long pieces skip the short gaps, and the last hour goes to Tuesday.
    req.tasks[0].min_chunk_minutes = Some(60);
    assert_eq!(
        pieces(&schedule(&req)),
        [
            (1, 0, 3, utc("2026-06-15T12:40:00Z"), utc("2026-06-15T13:50:00Z")),
            (1, 1, 3, utc("2026-06-15T15:10:00Z"), utc("2026-06-15T17:00:00Z")),
            (1, 2, 3, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T10:00:00Z")),
        ]
    );
}

#[test]
fn a_piece_is_shortened_rather_than_leave_a_remainder_shorter_than_the_smallest_piece() {
    // 80 free minutes before the meeting: 90 minutes in pieces of 30 become 60 + 30, not 80 + 10.
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 90, Some(30))]);
    req.busy = vec![busy("2026-06-15T10:30:00Z", "2026-06-15T17:00:00Z")];
    assert_eq!(
        pieces(&schedule(&req)),
        [
            (1, 0, 2, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T10:00:00Z")),
            (1, 1, 2, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T09:30:00Z")),
        ]
    );
    // 50 minutes fit the 80 whole.
    req.tasks[0].estimate_minutes = 50;
    assert_eq!(
        pieces(&schedule(&req)),
        [(1, 0, 1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T09:50:00Z"))]
    );
    // 50 minutes do not fit 40: the stretch is skipped rather than leave 10.
    req.busy[0].start = utc("2026-06-15T09:50:00Z");
    assert_eq!(
        pieces(&schedule(&req)),
        [(1, 0, 1, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T09:50:00Z"))]
    );
    // A task shorter than its smallest piece is one block.
    req.tasks[0].estimate_minutes = 20;
    assert_eq!(
        pieces(&schedule(&req)),
        [(1, 0, 1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T09:20:00Z"))]
    );
}

#[test]
fn at_risk_counts_the_minutes_missing_exactly() {
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 240, Some(30))]);
    req.tasks[0].due_at = Some(utc("2026-06-15T12:00:00Z"));
    req.busy = vec![busy("2026-06-15T10:00:00Z", "2026-06-15T11:00:00Z")];
    let outcome = schedule(&req);
    // 09:00–09:50 and 11:10–12:00 are before the deadline: 100 of 240 minutes.
    assert_eq!(
        pieces(&outcome),
        [
            (1, 0, 2, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T09:50:00Z")),
            (1, 1, 2, utc("2026-06-15T11:10:00Z"), utc("2026-06-15T14:20:00Z")),
        ]
    );
    let risk = AtRisk {
        task_id: Uuid::from_u128(1),
        due_at: utc("2026-06-15T12:00:00Z"),
        minutes_missing: 140,
        minutes_unplaced: 0,
    };
    assert_eq!(outcome.at_risk, [risk]);
    assert!(outcome.unscheduled.is_empty());

    // When the window ends at 13:00, 80 minutes are not placed at all.
    req.until = utc("2026-06-15T13:00:00Z");
    let outcome = schedule(&req);
    assert_eq!(outcome.placements.last().map(|p| p.end), Some(utc("2026-06-15T13:00:00Z")));
    assert_eq!(outcome.at_risk, [AtRisk { minutes_unplaced: 80, ..risk }]);
}

#[test]
fn a_task_without_a_deadline_is_placed_whole_or_not_at_all() {
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 600, Some(30))]);
    req.until = utc("2026-06-15T17:00:00Z");
    let outcome = schedule(&req);
    assert!(outcome.placements.is_empty());
    assert_eq!(left_out(&outcome), [(1, UnscheduledReason::NoFreeSlotWithinHorizon)]);
    // A deadline at or after `until` says nothing about what could be done by it.
    req.tasks[0].due_at = Some(req.until);
    assert_eq!(left_out(&schedule(&req)), [(1, UnscheduledReason::NoFreeSlotWithinHorizon)]);
    // With a deadline before `until`, the part that fits is placed and the task is at risk.
    req.tasks[0].due_at = Some(utc("2026-06-15T16:00:00Z"));
    let outcome = schedule(&req);
    assert_eq!(pieces(&outcome), [(1, 0, 1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T15:00:00Z"))]);
    assert_eq!(
        outcome.at_risk,
        [AtRisk {
            task_id: Uuid::from_u128(1),
            due_at: utc("2026-06-15T16:00:00Z"),
            minutes_missing: 240,
            minutes_unplaced: 240
        }]
    );
}

#[test]
fn a_deadline_with_no_time_before_it_is_unreachable() {
    let mut req =
        request("UTC", "2026-06-15", vec![loose(1, 60, None), loose(2, 60, Some(30)), loose(3, 30, None)]);
    // Due before `from`.
    req.tasks[0].due_at = Some(utc("2026-06-14T12:00:00Z"));
    // Due at 09:20, but the only time before it (09:00–09:10) is too short for a piece.
    req.tasks[1].due_at = Some(utc("2026-06-15T09:20:00Z"));
    req.tasks[2].due_at = Some(utc("2026-06-22T09:00:00Z"));
    req.busy = vec![busy("2026-06-15T09:20:00Z", "2026-06-15T12:00:00Z")];
    let outcome = schedule(&req);
    assert_eq!(
        left_out(&outcome),
        [(1, UnscheduledReason::DeadlineUnreachable), (2, UnscheduledReason::DeadlineUnreachable)]
    );
    assert_eq!(placed(&outcome), [(3, utc("2026-06-15T12:10:00Z"), utc("2026-06-15T12:40:00Z"))]);
}

#[test]
fn done_tasks_are_never_placed_and_never_hold_back_their_plan() {
    let mut req = request("UTC", "2026-06-15", vec![task(1, 60), task(2, 60), loose(3, 0, None)]);
    req.tasks[0].done = true;
    req.tasks[2].done = true;
    let outcome = schedule(&req);
    assert_eq!(placed(&outcome), [(2, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T10:00:00Z"))]);
    // Decided in turn: the task outside any plan ranks first.
    assert_eq!(left_out(&outcome), [(3, UnscheduledReason::Done), (1, UnscheduledReason::Done)]);
}

#[test]
fn a_day_that_asks_for_more_than_the_cap_is_overcommitted() {
    // Task 1 fills Monday's cap, so tasks 2 and 3, due at the end of Monday, cannot be done in time:
    // Monday asks for 360 + 90 + 30 minutes.
    let mut req = request(
        "Europe/Berlin",
        "2026-06-15",
        vec![loose(1, 360, None), loose(2, 90, Some(30)), loose(3, 30, None), loose(4, 60, None)],
    );
    req.tasks[0].priority = Priority::Urgent;
    // 2026-06-16 00:00 in Berlin: the end of Monday.
    req.tasks[1].due_at = Some(utc("2026-06-15T22:00:00Z"));
    req.tasks[2].due_at = Some(utc("2026-06-15T22:00:00Z"));
    req.tasks[3].due_at = Some(utc("2026-06-17T08:00:00Z"));
    let outcome = schedule(&req);
    assert_eq!(
        left_out(&outcome),
        [(2, UnscheduledReason::DeadlineUnreachable), (3, UnscheduledReason::DeadlineUnreachable)]
    );
    let monday = OvercommittedDay { date: date("2026-06-15"), load_minutes: 480, cap_minutes: 360 };
    assert_eq!(outcome.overcommitted_days, [monday]);
    assert_eq!(
        monday.detail(),
        "2026-06-15 asks for 480 minutes of focused work, 120 minutes more than your daily limit of 360 \
         minutes; move deadlines or raise the limit."
    );
    // Deadlines already past when the run starts are not reported as overcommitted days.
    req.from = utc("2026-06-16T06:00:00Z");
    assert!(schedule(&req).overcommitted_days.is_empty());
}

#[test]
fn details_are_sentences() {
    let risk = AtRisk {
        task_id: Uuid::nil(),
        due_at: utc("2026-06-15T17:00:00Z"),
        minutes_missing: 45,
        minutes_unplaced: 15,
    };
    assert_eq!(
        risk.detail(),
        "45 minutes of this task cannot be done before its deadline (2026-06-15 17:00 UTC); 15 of them \
         found no free time within the scheduling window. Free some time earlier, lower other work's \
         priority or move the deadline."
    );
    let one = AtRisk { minutes_missing: 1, minutes_unplaced: 0, ..risk };
    assert!(one.detail().starts_with("1 minute of this task cannot be done before its deadline (2026-06-15"));
    let unscheduled = Unscheduled { task_id: Uuid::nil(), reason: UnscheduledReason::DeadlineUnreachable };
    assert_eq!(unscheduled.detail(), UnscheduledReason::DeadlineUnreachable.message());
}

#[test]
fn priorities_parse_and_print_their_wire_names() {
    for priority in [Priority::Urgent, Priority::High, Priority::Normal, Priority::Low] {
        assert_eq!(Priority::parse("priority", priority.as_str()), Ok(priority));
        assert_eq!(serde_json::to_value(priority).unwrap(), priority.as_str());
    }
    assert_eq!(Priority::default(), Priority::Normal);
    let error = Priority::parse("tasks[0].priority", "asap").unwrap_err();
    assert_eq!(error.field, "tasks[0].priority");
    assert_eq!(error.message, "'asap' is not one of urgent, high, normal, low.");
}

// Named clock-change cases: a 09:00–17:00 day on each change has the right UTC instants.

fn whole_day(zone: &str, day: &str) -> Vec<(u128, DateTime<Utc>, DateTime<Utc>)> {
    let mut req = request(zone, day, vec![task(1, 480)]);
    req.working_hours = WorkingHours::parse("09:00", "17:00", &[1, 2, 3, 4, 5, 6, 7]).unwrap();
    req.preferences = preferences(0, 480);
    req.until = start_of_day(date(day) + Days::new(1), &req.time_zone);
    placed(&schedule(&req))
}

#[test]
fn berlin_spring_forward_day_is_seven_to_fifteen_utc() {
    assert_eq!(
        whole_day("Europe/Berlin", "2026-03-28"),
        [(1, utc("2026-03-28T08:00:00Z"), utc("2026-03-28T16:00:00Z"))]
    );
    assert_eq!(
        whole_day("Europe/Berlin", "2026-03-29"),
        [(1, utc("2026-03-29T07:00:00Z"), utc("2026-03-29T15:00:00Z"))]
    );
}

#[test]
fn berlin_fall_back_day_is_eight_to_sixteen_utc() {
    assert_eq!(
        whole_day("Europe/Berlin", "2026-10-24"),
        [(1, utc("2026-10-24T07:00:00Z"), utc("2026-10-24T15:00:00Z"))]
    );
    assert_eq!(
        whole_day("Europe/Berlin", "2026-10-25"),
        [(1, utc("2026-10-25T08:00:00Z"), utc("2026-10-25T16:00:00Z"))]
    );
}

#[test]
fn new_york_spring_forward_day_is_thirteen_to_twenty_one_utc() {
    assert_eq!(
        whole_day("America/New_York", "2026-03-07"),
        [(1, utc("2026-03-07T14:00:00Z"), utc("2026-03-07T22:00:00Z"))]
    );
    assert_eq!(
        whole_day("America/New_York", "2026-03-08"),
        [(1, utc("2026-03-08T13:00:00Z"), utc("2026-03-08T21:00:00Z"))]
    );
}

#[test]
fn new_york_fall_back_day_is_fourteen_to_twenty_two_utc() {
    assert_eq!(
        whole_day("America/New_York", "2026-10-31"),
        [(1, utc("2026-10-31T13:00:00Z"), utc("2026-10-31T21:00:00Z"))]
    );
    assert_eq!(
        whole_day("America/New_York", "2026-11-01"),
        [(1, utc("2026-11-01T14:00:00Z"), utc("2026-11-01T22:00:00Z"))]
    );
}

fn night(zone: &str, day: &str, start: &str, end: &str, tasks: Vec<TaskToPlace>) -> ScheduleOutcome {
    let mut req = request(zone, day, tasks);
    req.working_hours = WorkingHours::parse(start, end, &[1, 2, 3, 4, 5, 6, 7]).unwrap();
    req.preferences = preferences(0, 1440);
    req.until = start_of_day(date(day) + Days::new(6), &req.time_zone);
    schedule(&req)
}

#[test]
fn berlin_spring_forward_night_has_one_hour_less() {
    // 01:00–05:00 lasts 3 hours on 2026-03-29, so a 4-hour task waits a day.
    let outcome = night("Europe/Berlin", "2026-03-29", "01:00", "05:00", vec![task(1, 180), task(2, 240)]);
    assert_eq!(
        placed(&outcome),
        [
            (1, utc("2026-03-29T00:00:00Z"), utc("2026-03-29T03:00:00Z")),
            (2, utc("2026-03-29T23:00:00Z"), utc("2026-03-30T03:00:00Z")),
        ]
    );
    // A window that falls inside the skipped hour does not exist that day.
    let outcome = night("Europe/Berlin", "2026-03-29", "02:00", "02:45", vec![task(1, 15)]);
    assert_eq!(placed(&outcome), [(1, utc("2026-03-30T00:00:00Z"), utc("2026-03-30T00:15:00Z"))]);
}

#[test]
fn berlin_fall_back_night_uses_both_passes_through_the_repeated_hour() {
    // 02:00–02:30 happens at 00:00Z (summer time) and again at 01:00Z (winter time).
    let outcome =
        night("Europe/Berlin", "2026-10-25", "02:00", "02:30", vec![task(1, 20), task(2, 20), task(3, 20)]);
    assert_eq!(
        placed(&outcome),
        [
            (1, utc("2026-10-25T00:00:00Z"), utc("2026-10-25T00:20:00Z")),
            (2, utc("2026-10-25T01:00:00Z"), utc("2026-10-25T01:20:00Z")),
            (3, utc("2026-10-26T01:00:00Z"), utc("2026-10-26T01:20:00Z")),
        ]
    );
    // A task cut into pieces uses both passes, never the gap between them.
    let outcome = night("Europe/Berlin", "2026-10-25", "02:00", "02:30", vec![loose(1, 50, Some(20))]);
    assert_eq!(
        pieces(&outcome),
        [
            (1, 0, 2, utc("2026-10-25T00:00:00Z"), utc("2026-10-25T00:30:00Z")),
            (1, 1, 2, utc("2026-10-25T01:00:00Z"), utc("2026-10-25T01:20:00Z")),
        ]
    );
    // 01:00–05:00 lasts 5 hours that night: the whole stretch is one window.
    let outcome = night("Europe/Berlin", "2026-10-25", "01:00", "05:00", vec![task(1, 240), task(2, 60)]);
    assert_eq!(
        placed(&outcome),
        [
            (1, utc("2026-10-24T23:00:00Z"), utc("2026-10-25T03:00:00Z")),
            (2, utc("2026-10-25T03:00:00Z"), utc("2026-10-25T04:00:00Z")),
        ]
    );
}

#[test]
fn new_york_spring_forward_starts_at_the_first_instant_after_the_gap() {
    // 02:30 does not exist on 2026-03-08: the day starts at 03:00 EDT (07:00Z).
    let outcome = night("America/New_York", "2026-03-08", "02:30", "04:00", vec![task(1, 60), task(2, 30)]);
    assert_eq!(
        placed(&outcome),
        [
            (1, utc("2026-03-08T07:00:00Z"), utc("2026-03-08T08:00:00Z")),
            (2, utc("2026-03-09T06:30:00Z"), utc("2026-03-09T07:00:00Z")),
        ]
    );
}

#[test]
fn new_york_fall_back_never_places_work_in_the_repeat_before_the_start() {
    // 01:30–03:00 on 2026-11-01: 01:30 EDT is 05:30Z, clocks go back at 06:00Z to 01:00 EST,
    // which reads before 01:30 until 06:30Z.
    let outcome = night("America/New_York", "2026-11-01", "01:30", "03:00", vec![task(1, 30), task(2, 60)]);
    assert_eq!(
        placed(&outcome),
        [
            (1, utc("2026-11-01T05:30:00Z"), utc("2026-11-01T06:00:00Z")),
            (2, utc("2026-11-01T06:30:00Z"), utc("2026-11-01T07:30:00Z")),
        ]
    );
}

#[test]
fn preferences_default_and_parse_within_their_ranges() {
    let defaults = SchedulePreferences::default();
    assert_eq!(
        (defaults.buffer_minutes(), defaults.daily_focus_cap_minutes(), defaults.horizon_days()),
        (10, 360, 60)
    );
    assert_eq!(SchedulePreferences::parse(0, 15, 0).map(|p| p.buffer_minutes()), Ok(0));
    assert!(SchedulePreferences::parse(120, 1440, 365).is_ok());
    let errors = SchedulePreferences::parse(-1, 14, 366).unwrap_err();
    let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "schedule_preferences.buffer_minutes",
            "schedule_preferences.daily_focus_cap_minutes",
            "schedule_preferences.horizon_days"
        ]
    );
}

#[test]
fn preferences_round_trip_through_json_and_fill_in_defaults() {
    let preferences = SchedulePreferences::parse(15, 240, 30).unwrap();
    let json = serde_json::to_string(&preferences).unwrap();
    assert_eq!(
        json,
        r#"{"buffer_minutes":15,"daily_focus_cap_minutes":240,"horizon_days":30,"auto_replan":true,"focus_time":false}"#
    );
    let back: SchedulePreferences = serde_json::from_str(&json).unwrap();
    assert_eq!(back, preferences);
    let partial: SchedulePreferences = serde_json::from_str(r#"{"buffer_minutes":5}"#).unwrap();
    assert_eq!(partial, SchedulePreferences::parse(5, 360, 60).unwrap());
    assert!(serde_json::from_str::<SchedulePreferences>(r#"{"buffer_minutes":500}"#).is_err());
}

#[test]
fn auto_replan_defaults_on_and_stored_json_without_it_still_reads() {
    assert!(SchedulePreferences::default().auto_replan());
    let stored: SchedulePreferences =
        serde_json::from_str(r#"{"buffer_minutes":15,"daily_focus_cap_minutes":240,"horizon_days":30}"#)
            .unwrap();
    assert!(stored.auto_replan(), "a missing key means on");
    let off: SchedulePreferences = serde_json::from_str(r#"{"auto_replan":false}"#).unwrap();
    assert!(!off.auto_replan());
    assert_eq!(off.buffer_minutes(), SchedulePreferences::DEFAULT_BUFFER_MINUTES);
    let back: SchedulePreferences = serde_json::from_str(&serde_json::to_string(&off).unwrap()).unwrap();
    assert_eq!(back, off);
}

#[test]
fn outcome_serialises_in_the_api_shape() {
    let outcome = ScheduleOutcome {
        placements: vec![Placement {
            task_id: Uuid::nil(),
            chunk: 1,
            chunks: 2,
            start: utc("2026-06-15T09:00:00Z"),
            end: utc("2026-06-15T10:00:00Z"),
            pinned: false,
        }],
        unscheduled: vec![Unscheduled {
            task_id: Uuid::max(),
            reason: UnscheduledReason::LongerThanDailyCap,
        }],
        at_risk: vec![AtRisk {
            task_id: Uuid::nil(),
            due_at: utc("2026-06-15T09:30:00Z"),
            minutes_missing: 30,
            minutes_unplaced: 0,
        }],
        overcommitted_days: vec![OvercommittedDay {
            date: date("2026-06-15"),
            load_minutes: 400,
            cap_minutes: 360,
        }],
    };
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "placements": [{
                "task_id": "00000000-0000-0000-0000-000000000000",
                "chunk": 1,
                "chunks": 2,
                "start": "2026-06-15T09:00:00Z",
                "end": "2026-06-15T10:00:00Z",
                "pinned": false
            }],
            "unscheduled": [{"task_id": "ffffffff-ffff-ffff-ffff-ffffffffffff", "reason": "longer_than_daily_cap"}],
            "at_risk": [{
                "task_id": "00000000-0000-0000-0000-000000000000",
                "due_at": "2026-06-15T09:30:00Z",
                "minutes_missing": 30,
                "minutes_unplaced": 0
            }],
            "overcommitted_days": [{"date": "2026-06-15", "load_minutes": 400, "cap_minutes": 360}]
        })
    );
    assert_eq!(serde_json::from_value::<ScheduleOutcome>(json).unwrap(), outcome);
    for reason in [
        UnscheduledReason::NoDuration,
        UnscheduledReason::LongerThanWorkingDay,
        UnscheduledReason::LongerThanDailyCap,
        UnscheduledReason::NoFreeSlotWithinHorizon,
        UnscheduledReason::DeadlineUnreachable,
        UnscheduledReason::Done,
    ] {
        assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        assert!(reason.to_string().ends_with('.'));
    }
}

#[test]
fn focus_time_defaults_off_and_round_trips() {
    assert!(!SchedulePreferences::default().focus_time());
    let stored: SchedulePreferences = serde_json::from_str(r#"{"buffer_minutes":15}"#).unwrap();
    assert!(!stored.focus_time(), "a missing key means off");
    let on: SchedulePreferences = serde_json::from_str(r#"{"focus_time":true}"#).unwrap();
    assert!(on.focus_time() && on.auto_replan());
    let json = serde_json::to_value(on).unwrap();
    assert_eq!(json["focus_time"], serde_json::json!(true));
    assert_eq!(serde_json::from_value::<SchedulePreferences>(json).unwrap(), on);
}

#[test]
fn a_run_asked_for_now_starts_on_the_next_five_minute_mark() {
    assert_eq!(next_start_mark(utc("2026-12-01T10:21:25.190027470Z")), utc("2026-12-01T10:25:00Z"));
    assert_eq!(next_start_mark(utc("2026-12-01T10:25:00.000000001Z")), utc("2026-12-01T10:30:00Z"));
    assert_eq!(next_start_mark(utc("2026-12-01T10:25:00Z")), utc("2026-12-01T10:25:00Z"));
    assert_eq!(next_start_mark(utc("2026-12-31T23:58:00Z")), utc("2027-01-01T00:00:00Z"));
}

fn pin(n: u128, chunk: u16, start: &str, end: &str) -> PinnedBlock {
    PinnedBlock { task_id: Uuid::from_u128(n), chunk, start: utc(start), end: utc(end) }
}

/// A placement as `(task, chunk, chunks, start, end, pinned)`.
type PinnedPiece = (u128, u16, u16, DateTime<Utc>, DateTime<Utc>, bool);

fn pieces_with_pins(outcome: &ScheduleOutcome) -> Vec<PinnedPiece> {
    outcome
        .placements
        .iter()
        .map(|p| (p.task_id.as_u128(), p.chunk, p.chunks, p.start, p.end, p.pinned))
        .collect()
}

#[test]
fn a_pinned_block_covering_the_estimate_leaves_nothing_to_place() {
    // 2026-06-15 is a Monday. The person lengthened the block to 2 hours in the evening.
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 120, Some(30))]);
    req.pinned = vec![pin(1, 0, "2026-06-15T18:00:00Z", "2026-06-15T20:00:00Z")];
    let outcome = schedule(&req);
    assert_eq!(
        pieces_with_pins(&outcome),
        [(1, 0, 1, utc("2026-06-15T18:00:00Z"), utc("2026-06-15T20:00:00Z"), true)]
    );
    assert!(outcome.unscheduled.is_empty() && outcome.at_risk.is_empty());
    // Longer than the estimate: still nothing more, and the block stays as it is.
    req.pinned = vec![pin(1, 3, "2026-06-15T09:00:00Z", "2026-06-15T12:00:00Z")];
    let outcome = schedule(&req);
    assert_eq!(
        pieces_with_pins(&outcome),
        [(1, 3, 1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T12:00:00Z"), true)]
    );
    assert!(outcome.unscheduled.is_empty());
}

#[test]
fn a_shortened_pinned_block_gets_the_missing_minutes_placed_around_it() {
    // Shortened by hand to 09:00–10:00 of a 2-hour task that may not be split: the other hour is
    // one new block, clear of the pinned one and its buffer, with the next free chunk number.
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 120, None), loose(2, 30, None)]);
    req.pinned = vec![pin(1, 0, "2026-06-15T09:00:00Z", "2026-06-15T10:00:00Z")];
    let outcome = schedule(&req);
    assert_eq!(
        pieces_with_pins(&outcome),
        [
            (1, 0, 2, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T10:00:00Z"), true),
            (1, 1, 2, utc("2026-06-15T10:10:00Z"), utc("2026-06-15T11:10:00Z"), false),
            (2, 0, 1, utc("2026-06-15T11:20:00Z"), utc("2026-06-15T11:50:00Z"), false),
        ]
    );
    // A pinned chunk 1 (chunk 0 was the one left to move): the new piece takes chunk 0.
    req.pinned = vec![pin(1, 1, "2026-06-15T09:00:00Z", "2026-06-15T10:00:00Z")];
    let outcome = schedule(&req);
    assert_eq!(pieces(&outcome)[1], (1, 0, 2, utc("2026-06-15T10:10:00Z"), utc("2026-06-15T11:10:00Z")));
}

#[test]
fn pinned_blocks_are_busy_count_toward_the_cap_and_the_deadline() {
    // Another task's pinned block in the middle of the morning: a 90-minute task goes around it.
    let mut req = request("UTC", "2026-06-15", vec![loose(1, 60, None), loose(2, 90, None)]);
    req.pinned = vec![pin(1, 0, "2026-06-15T10:00:00Z", "2026-06-15T11:00:00Z")];
    let outcome = schedule(&req);
    assert_eq!(placed(&outcome)[1], (2, utc("2026-06-15T11:10:00Z"), utc("2026-06-15T12:40:00Z")));
    // Pinned minutes fill the day's cap: the rest goes to the next working day.
    req.preferences = preferences(10, 120);
    req.tasks = vec![loose(1, 150, Some(30)), loose(2, 60, None)];
    req.pinned = vec![pin(1, 0, "2026-06-15T13:00:00Z", "2026-06-15T14:30:00Z")];
    let outcome = schedule(&req);
    assert_eq!(
        pieces(&outcome),
        [
            (1, 1, 3, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T09:30:00Z")),
            (1, 0, 3, utc("2026-06-15T13:00:00Z"), utc("2026-06-15T14:30:00Z")),
            (1, 2, 3, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T09:30:00Z")),
            (2, 0, 1, utc("2026-06-16T09:40:00Z"), utc("2026-06-16T10:40:00Z")),
        ]
    );
    // The pinned minutes before a deadline count as done: only the rest may be at risk.
    let mut due = loose(3, 120, None);
    due.due_at = Some(utc("2026-06-15T10:30:00Z"));
    req = request("UTC", "2026-06-15", vec![due]);
    req.pinned = vec![pin(3, 0, "2026-06-15T09:00:00Z", "2026-06-15T10:00:00Z")];
    let outcome = schedule(&req);
    assert!(outcome.unscheduled.is_empty(), "{outcome:?}");
    assert_eq!(outcome.at_risk.len(), 1);
    // Done by 10:30: the pinned hour and 10:10–10:30 of the new block (10:10–11:10).
    assert_eq!(outcome.at_risk[0].minutes_missing, 40);
    assert_eq!(placed(&outcome)[1], (3, utc("2026-06-15T10:10:00Z"), utc("2026-06-15T11:10:00Z")));
}

#[test]
fn pinned_blocks_of_done_tasks_and_of_tasks_not_in_the_run_are_ignored() {
    let mut done = loose(1, 60, None);
    done.done = true;
    let mut req = request("UTC", "2026-06-15", vec![done, loose(2, 60, None)]);
    req.pinned = vec![
        pin(1, 0, "2026-06-15T09:00:00Z", "2026-06-15T10:00:00Z"),
        pin(9, 0, "2026-06-15T09:00:00Z", "2026-06-15T10:00:00Z"),
    ];
    let outcome = schedule(&req);
    assert_eq!(placed(&outcome), [(2, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T10:00:00Z"))]);
    assert_eq!(left_out(&outcome), [(1, UnscheduledReason::Done)]);
}
