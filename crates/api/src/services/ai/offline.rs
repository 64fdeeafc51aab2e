//! A deterministic planner that needs no network: the same goal always gives the same plan.
//! It keeps the server's main job working out of the box and gives tests a stable answer.

use planwright_domain::{Subtask, TokenUsage};

use super::{BreakdownPrompt, Generated, PlanPrompt, ProposedPlan, ProposedTask};

/// The model name offline answers carry.
pub const MODEL: &str = "offline";

/// The rule-based planner.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflinePlanner;

/// Phases a plan moves through, with the share of days each gets.
const PHASES: [(&str, &str); 4] = [
    (
        "Map out",
        "List what {goal} involves, gather the material you need and set a concrete target for each day.",
    ),
    ("Learn", "Work through the core material for {goal}, taking short notes on what is new."),
    (
        "Practise",
        "Apply what you learned to a small, real exercise towards {goal}; note where you get stuck.",
    ),
    ("Review", "Go over your notes and exercises for {goal}, fix the weak spots and decide the next step."),
];

/// Plans up to this many days get a short check-in at the end of each day.
const CHECK_IN_MAX_DAYS: i64 = 30;

impl OfflinePlanner {
    /// One block a day in the day's phase (plus a short check-in on plans of up to a month); the
    /// first day maps the work out and the last day reviews it.
    pub fn propose_plan(&self, prompt: &PlanPrompt) -> Generated<ProposedPlan> {
        let days = i64::from(prompt.duration_days.max(1));
        let goal = prompt.goal.trim();
        let mut tasks = Vec::new();
        for day in 0..days {
            let phase = phase_of(day, days);
            let (name, what) = PHASES[phase];
            tasks.push(ProposedTask {
                title: format!("{name}: {}", shorten(goal, 150)),
                description: what.replace("{goal}", goal),
                day_offset: day,
                duration_minutes: if phase == 1 || phase == 2 { 90 } else { 60 },
            });
            // Daily check-ins suit short plans; a long one would drown in them.
            if days > 1 && days <= CHECK_IN_MAX_DAYS && day + 1 < days {
                tasks.push(ProposedTask {
                    title: format!("Day {} check-in", day + 1),
                    description:
                        "Spend a few minutes writing down what you finished today and what comes next."
                            .to_owned(),
                    day_offset: day,
                    duration_minutes: 15,
                });
            }
        }
        let mut summary =
            format!("## Plan: {goal}\n\n{days} day{} in four phases:\n\n", if days == 1 { "" } else { "s" });
        for (index, (name, what)) in PHASES.iter().enumerate() {
            let span: Vec<i64> = (0..days).filter(|d| phase_of(*d, days) == index).collect();
            if let (Some(first), Some(last)) = (span.first(), span.last()) {
                let when = if first == last {
                    format!("day {}", first + 1)
                } else {
                    format!("days {}–{}", first + 1, last + 1)
                };
                summary
                    .push_str(&format!("- **{name}** ({when}): {}\n", what.replace("{goal}", "your goal")));
            }
        }
        if let Some(notes) = prompt.notes.as_deref().filter(|n| !n.trim().is_empty()) {
            summary.push_str(&format!("\nYour notes: {}\n", notes.trim()));
        }
        summary
            .push_str("\n_Written by the built-in offline planner; connect Gemini for a tailored plan._\n");
        Generated {
            value: ProposedPlan { summary, tasks },
            model: MODEL.to_owned(),
            usage: TokenUsage::default(),
        }
    }

    /// Three steps: prepare, do, check.
    pub fn propose_subtasks(&self, prompt: &BreakdownPrompt) -> Generated<Vec<Subtask>> {
        let title = shorten(prompt.title.trim(), 150);
        let value = vec![
            Subtask {
                title: format!("Prepare: {title}"),
                description: format!("Gather what \"{title}\" needs and decide what done looks like."),
            },
            Subtask {
                title: format!("Do: {title}"),
                description: if prompt.description.trim().is_empty() {
                    format!("Work on \"{title}\" in one focused block.")
                } else {
                    format!("Work on it in one focused block: {}", shorten(prompt.description.trim(), 1500))
                },
            },
            Subtask {
                title: format!("Check: {title}"),
                description: "Compare the result with what done looks like and note any follow-up."
                    .to_owned(),
            },
        ];
        Generated { value, model: MODEL.to_owned(), usage: TokenUsage::default() }
    }
}

/// Which of the four phases day `day` of `days` belongs to.
fn phase_of(day: i64, days: i64) -> usize {
    match days {
        1 => 1,
        2 => usize::from(day == 1) * 3,
        _ if day == 0 => 0,
        _ if day == days - 1 => 3,
        // The middle days: the first half learns, the second half practises.
        _ => {
            if (day - 1) * 2 < days - 2 {
                1
            } else {
                2
            }
        }
    }
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(days: u16) -> PlanPrompt {
        PlanPrompt {
            goal: "learn FastAPI".to_owned(),
            duration_days: days,
            notes: None,
            corrections: Vec::new(),
        }
    }

    #[test]
    fn plans_are_deterministic_and_fit_their_days() {
        for days in [1u16, 2, 3, 7, 30, 365] {
            let a = OfflinePlanner.propose_plan(&prompt(days));
            let b = OfflinePlanner.propose_plan(&prompt(days));
            assert_eq!(a.value, b.value);
            assert_eq!(a.model, "offline");
            assert!(a.value.tasks.iter().all(|t| (0..i64::from(days)).contains(&t.day_offset)), "{days}");
            assert!(a.value.tasks.iter().all(|t| (15..=480).contains(&t.duration_minutes)), "{days}");
            assert!(a.value.tasks.len() <= crate::services::plans::TASKS_MAX, "{days}");
            let covered: std::collections::BTreeSet<i64> =
                a.value.tasks.iter().map(|t| t.day_offset).collect();
            assert_eq!(covered.len(), usize::from(days), "every day has work");
        }
    }

    #[test]
    fn a_long_plan_moves_through_all_phases_in_order() {
        let phases: Vec<usize> = (0..10).map(|d| phase_of(d, 10)).collect();
        assert_eq!(phases.first(), Some(&0));
        assert_eq!(phases.last(), Some(&3));
        assert!(phases.windows(2).all(|w| w[0] <= w[1]), "{phases:?}");
        assert!(phases.contains(&1) && phases.contains(&2));
    }

    #[test]
    fn breakdown_gives_three_steps_naming_the_task() {
        let steps = OfflinePlanner
            .propose_subtasks(&BreakdownPrompt { title: "Write report".into(), description: String::new() });
        assert_eq!(steps.value.len(), 3);
        assert!(steps.value.iter().all(|s| s.title.contains("Write report")));
    }
}
