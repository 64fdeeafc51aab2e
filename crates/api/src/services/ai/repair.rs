//! Repair before retry: what a model may legitimately answer (any value its schema allows, or a
//! slightly wrong one) is made usable here, deterministically, and every change is written down
//! as a note for the plan. Only an answer nothing can be made of is refused, with the problems
//! as sentences for the retry.
//!
//! Text is cleaned of control characters other than newline, tab and carriage return (U+0000
//! among them, which PostgreSQL refuses in text) before it is checked or stored.

use planwright_domain::{PlanTaskDraft, Subtask};

use super::{ProposedPlan, ProposedTask};

/// Longest summary a plan may carry.
pub const SUMMARY_MAX: usize = planwright_domain::PlanContent::SUMMARY_MAX;
/// Fewest and most steps a breakdown gives.
pub const SUBTASKS: std::ops::RangeInclusive<usize> = 2..=5;

/// A plan made usable: the summary, the tasks, and what was changed to get there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairedPlan {
    /// Markdown overview, cleaned and within [`SUMMARY_MAX`].
    pub summary: String,
    /// Valid tasks, in order.
    pub tasks: Vec<PlanTaskDraft>,
    /// One sentence per repair, e.g. `task 1: day_offset 6 is past the plan's last day; moved to
    /// day_offset 1`.
    pub notes: Vec<String>,
}

/// The answer text with a Markdown code fence (```` ```json … ``` ````) around it removed, and
/// surrounding whitespace trimmed. Text without a fence is returned trimmed.
pub fn unwrap_code_fence(text: &str) -> &str {
    let trimmed = text.trim();
    let Some(rest) = trimmed.strip_prefix("```") else { return trimmed };
    // The info string (`json`, `JSON`, nothing) runs to the end of the first line.
    let body = rest.split_once('\n').map_or("", |(_, body)| body);
    body.trim_end().strip_suffix("```").unwrap_or(body).trim()
}

/// `text` without control characters other than `\n`, `\t` and `\r`; the count removed is
/// added to `removed`.
pub fn clean_text(text: &str, removed: &mut usize) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && !matches!(c, '\n' | '\t' | '\r') {
            *removed += 1;
        } else {
            cleaned.push(c);
        }
    }
    cleaned
}

/// Cuts `text` to at most `max` characters (on a character boundary), trimmed.
fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect::<String>().trim().to_owned()
}

/// A title for an item whose own title is blank: the first words of its description, or
/// `fallback`.
fn title_from(description: &str, fallback: String) -> String {
    let words: Vec<&str> = description.split_whitespace().take(8).collect();
    if words.is_empty() {
        return fallback;
    }
    truncate(&words.join(" "), PlanTaskDraft::TITLE_MAX)
}

/// A cleaned title and description, with notes for what was filled in or cut.
fn repair_text(
    label: &str,
    title: &str,
    description: &str,
    fallback_title: String,
    notes: &mut Vec<String>,
    removed: &mut usize,
) -> (String, String) {
    let mut description = clean_text(description, removed).trim().to_owned();
    if description.chars().count() > PlanTaskDraft::DESCRIPTION_MAX {
        description = truncate(&description, PlanTaskDraft::DESCRIPTION_MAX);
        notes.push(format!("{label}: description cut to {} characters", PlanTaskDraft::DESCRIPTION_MAX));
    }
    let mut title = clean_text(title, removed).trim().to_owned();
    if title.is_empty() {
        title = title_from(&description, fallback_title);
        notes.push(format!("{label}: the title was blank; it was filled from the description"));
    } else if title.chars().count() > PlanTaskDraft::TITLE_MAX {
        title = truncate(&title, PlanTaskDraft::TITLE_MAX);
        notes.push(format!("{label}: title cut to {} characters", PlanTaskDraft::TITLE_MAX));
    }
    (title, description)
}

/// Makes a proposed plan of `days` days usable: cleans text, fills blank titles and the summary,
/// clamps days and durations, drops tasks past `max_tasks`. `Err` holds the problems of an
/// answer that cannot be used (no tasks), as sentences for the retry.
pub fn plan(
    proposal: ProposedPlan,
    goal: &str,
    days: u16,
    max_tasks: usize,
) -> Result<RepairedPlan, Vec<String>> {
    if proposal.tasks.is_empty() {
        return Err(vec![format!("`tasks` was empty: give 1 to {max_tasks} tasks")]);
    }
    let mut notes = Vec::new();
    let mut removed = 0;
    let mut tasks = proposal.tasks;
    if tasks.len() > max_tasks {
        notes.push(format!(
            "{} tasks were proposed; the {} after the first {max_tasks} were dropped",
            tasks.len(),
            tasks.len() - max_tasks
        ));
        tasks.truncate(max_tasks);
    }
    let last_day = i64::from(days.max(1) - 1);
    let drafts = tasks
        .into_iter()
        .enumerate()
        .map(|(index, task)| repair_task(index, task, last_day, &mut notes, &mut removed))
        .collect();
    let mut summary = clean_text(&proposal.summary, &mut removed).trim().to_owned();
    if summary.is_empty() {
        summary = format!("## Plan: {goal}\n\n{days} day(s) of work, task by task below.");
        notes.push("the summary was blank; a short one was written".to_owned());
    } else if summary.chars().count() > SUMMARY_MAX {
        summary = truncate(&summary, SUMMARY_MAX);
        notes.push(format!("the summary was cut to {SUMMARY_MAX} characters"));
    }
    if removed > 0 {
        notes.push(format!("{removed} control character(s) were removed from the text"));
    }
    Ok(RepairedPlan { summary, tasks: drafts, notes })
}

fn repair_task(
    index: usize,
    task: ProposedTask,
    last_day: i64,
    notes: &mut Vec<String>,
    removed: &mut usize,
) -> PlanTaskDraft {
    let label = format!("task {}", index + 1);
    let (title, description) =
        repair_text(&label, &task.title, &task.description, format!("Task {}", index + 1), notes, removed);
    let day = task.day_offset.clamp(0, last_day);
    if day != task.day_offset {
        let reason =
            if task.day_offset < 0 { "is before the first day" } else { "is past the plan's last day" };
        notes.push(format!("{label}: day_offset {} {reason}; moved to day_offset {day}", task.day_offset));
    }
    let minutes = task.duration_minutes.clamp(PlanTaskDraft::MIN_MINUTES, PlanTaskDraft::MAX_MINUTES);
    if minutes != task.duration_minutes {
        notes.push(format!(
            "{label}: duration_minutes {} is outside {}–{}; set to {minutes}",
            task.duration_minutes,
            PlanTaskDraft::MIN_MINUTES,
            PlanTaskDraft::MAX_MINUTES
        ));
    }
    PlanTaskDraft {
        title,
        description,
        day_offset: u16::try_from(day).unwrap_or(0),
        duration_minutes: u16::try_from(minutes).unwrap_or(60),
    }
}

/// Makes proposed sub-tasks usable: cleans text, fills blank titles, keeps the first
/// [`SUBTASKS`]`.end()`. `Err` (a sentence for the retry) when fewer than two remain.
pub fn subtasks(proposed: Vec<Subtask>) -> Result<(Vec<Subtask>, Vec<String>), String> {
    let mut notes = Vec::new();
    let mut removed = 0;
    let given = proposed.len();
    if given < *SUBTASKS.start() {
        return Err(format!("{given} sub-task(s) were given: give 2 to 5 sub-tasks"));
    }
    let steps = proposed
        .into_iter()
        .take(*SUBTASKS.end())
        .enumerate()
        .map(|(index, step)| {
            let label = format!("step {}", index + 1);
            let (title, description) = repair_text(
                &label,
                &step.title,
                &step.description,
                format!("Step {}", index + 1),
                &mut notes,
                &mut removed,
            );
            Subtask { title, description }
        })
        .collect();
    if given > *SUBTASKS.end() {
        notes.push(format!("{given} sub-tasks were proposed; only the first {} were kept", SUBTASKS.end()));
    }
    if removed > 0 {
        notes.push(format!("{removed} control character(s) were removed from the text"));
    }
    Ok((steps, notes))
}

/// A chat answer cleaned of control characters; `None` when nothing readable is left.
pub fn chat_text(text: &str) -> Option<String> {
    let cleaned = clean_text(text, &mut 0);
    (!cleaned.trim().is_empty()).then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(title: &str, day: i64, minutes: i64) -> ProposedTask {
        ProposedTask {
            title: title.into(),
            description: "Read the tutorial".into(),
            day_offset: day,
            duration_minutes: minutes,
        }
    }

    #[test]
    fn days_past_the_plan_and_durations_out_of_range_are_clamped_with_notes() {
        let proposal = ProposedPlan {
            summary: "## Plan".into(),
            tasks: vec![task("Read", 6, 5), task("Build", 7, 600)],
        };
        let repaired = plan(proposal, "Learn FastAPI", 2, 10).unwrap_or_else(|p| panic!("{p:?}"));
        let days: Vec<u16> = repaired.tasks.iter().map(|t| t.day_offset).collect();
        let minutes: Vec<u16> = repaired.tasks.iter().map(|t| t.duration_minutes).collect();
        assert_eq!(days, [1, 1]);
        assert_eq!(minutes, [15, 480]);
        assert!(
            repaired.notes.contains(
                &"task 1: day_offset 6 is past the plan's last day; moved to day_offset 1".to_owned()
            ),
            "{:?}",
            repaired.notes
        );
        assert_eq!(repaired.notes.len(), 4, "{:?}", repaired.notes);
    }

    #[test]
    fn blank_titles_are_filled_surplus_dropped_and_control_characters_removed() {
        let mut tasks = vec![task(" \u{0} ", 0, 60)];
        tasks.extend((0..4).map(|_| task("Go\u{7}on", 0, 60)));
        let proposal = ProposedPlan { summary: "\u{0}".into(), tasks };
        let repaired = plan(proposal, "Learn", 1, 3).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(repaired.tasks.len(), 3);
        assert_eq!(repaired.tasks[0].title, "Read the tutorial");
        assert_eq!(repaired.tasks[1].title, "Goon");
        assert!(repaired.summary.starts_with("## Plan: Learn"));
        assert!(!repaired.summary.contains('\u{0}'));
        assert!(repaired.notes.iter().any(|n| n.contains("were dropped")), "{:?}", repaired.notes);
    }

    #[test]
    fn a_plan_without_tasks_cannot_be_repaired() {
        let proposal = ProposedPlan { summary: "## Plan".into(), tasks: vec![] };
        assert!(plan(proposal, "x", 2, 10).is_err());
    }

    #[test]
    fn code_fences_are_unwrapped() {
        assert_eq!(unwrap_code_fence("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(unwrap_code_fence("  ```\n[1]\n```  "), "[1]");
        assert_eq!(unwrap_code_fence("{\"a\": 1}"), "{\"a\": 1}");
        assert_eq!(
            unwrap_code_fence("```json\n{\"summary\": \"unterminated"),
            "{\"summary\": \"unterminated"
        );
    }

    #[test]
    fn breakdowns_keep_five_and_refuse_one() {
        let step = |title: &str| Subtask { title: title.into(), description: String::new() };
        let (steps, notes) = subtasks((0..7).map(|_| step("Do")).collect()).unwrap_or_default();
        assert_eq!(steps.len(), 5);
        assert_eq!(notes.len(), 1);
        let (steps, _) = subtasks(vec![step(""), step("\u{0}")]).unwrap_or_default();
        assert_eq!(steps.iter().map(|s| s.title.as_str()).collect::<Vec<_>>(), ["Step 1", "Step 2"]);
        assert!(subtasks(vec![step("Only")]).is_err());
    }

    #[test]
    fn chat_text_drops_nul_and_refuses_blank() {
        assert_eq!(chat_text("Hi\u{0} there\n").as_deref(), Some("Hi there\n"));
        assert_eq!(chat_text(" \u{0}\u{1} "), None);
    }
}
