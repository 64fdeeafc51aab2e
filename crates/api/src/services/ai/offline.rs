//! A deterministic planner that needs no network: the same goal always gives the same plan.
//! It keeps the server's main job working out of the box and gives tests a stable answer.

use futures_util::stream;
use planwright_domain::{ChatRole, SourceKind, Subtask, TokenUsage};

use super::{
    BreakdownPrompt, ChatDelta, ChatPrompt, ChatStream, Generated, PlanPrompt, ProposedPlan, ProposedTask,
};

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
            model_version: None,
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
        Generated { value, model: MODEL.to_owned(), model_version: None, usage: TokenUsage::default() }
    }
}

impl OfflinePlanner {
    /// An answer put together from the retrieved material, saying plainly that no model wrote it.
    pub fn chat(&self, prompt: &ChatPrompt) -> Generated<String> {
        let question = prompt
            .turns
            .iter()
            .rev()
            .find(|turn| turn.role == ChatRole::User)
            .map(|turn| shorten(&turn.text.split_whitespace().collect::<Vec<_>>().join(" "), 200))
            .unwrap_or_default();
        let mut answer = String::from(
            "_Offline mode: no AI model is connected, so this answer is assembled from your knowledge \
             base, resources and plans rather than written by a model._\n\n",
        );
        if prompt.context.is_empty() {
            answer.push_str(&format!(
                "I found nothing in the knowledge base, your resources or your plans that matches \
                 \"{question}\". Try other words, or add a document to your knowledge base."
            ));
        } else {
            answer.push_str(&format!("Here is what I found for \"{question}\":\n"));
            for item in &prompt.context {
                let kind = match item.kind {
                    SourceKind::Knowledge => "knowledge base",
                    SourceKind::Resource => "your resources",
                    SourceKind::Plan => "your plans",
                };
                let excerpt = shorten(&item.excerpt.split_whitespace().collect::<Vec<_>>().join(" "), 300);
                answer.push_str(&format!("\n- **{}** ({kind}): {excerpt}", item.title));
            }
        }
        Generated {
            value: answer,
            model: MODEL.to_owned(),
            model_version: None,
            usage: TokenUsage::default(),
        }
    }

    /// [`OfflinePlanner::chat`] as a stream of a few words at a time, the way a model streams.
    pub fn chat_stream(&self, prompt: &ChatPrompt) -> ChatStream {
        let answer = self.chat(prompt).value;
        let mut pieces: Vec<String> = Vec::new();
        let mut piece = String::new();
        for (index, word) in answer.split_inclusive(' ').enumerate() {
            piece.push_str(word);
            if index % 8 == 7 {
                pieces.push(std::mem::take(&mut piece));
            }
        }
        pieces.push(piece);
        let last = pieces.len() - 1;
        let deltas = pieces.into_iter().enumerate().map(move |(index, text)| {
            Ok(ChatDelta { text, usage: (index == last).then(TokenUsage::default) })
        });
        Box::pin(stream::iter(deltas.collect::<Vec<_>>()))
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
            max_tasks: crate::services::plans::max_generated_tasks(days),
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

    fn chat_prompt(context: Vec<super::super::ContextItem>) -> ChatPrompt {
        ChatPrompt {
            instruction: String::new(),
            turns: vec![super::super::ChatTurn {
                role: ChatRole::User,
                text: "How do I revise graphs?".into(),
            }],
            context,
            max_output_tokens: 100,
        }
    }

    #[test]
    fn offline_chat_says_so_and_answers_from_the_sources() {
        let item = super::super::ContextItem {
            kind: SourceKind::Knowledge,
            title: "Spaced repetition".into(),
            excerpt: "Review graphs after one day, then three, then seven.".into(),
        };
        let answer = OfflinePlanner.chat(&chat_prompt(vec![item])).value;
        assert!(answer.contains("Offline mode"), "{answer}");
        assert!(answer.contains("**Spaced repetition** (knowledge base): Review graphs"), "{answer}");
        let empty = OfflinePlanner.chat(&chat_prompt(Vec::new())).value;
        assert!(empty.contains("found nothing") && empty.contains("How do I revise graphs?"), "{empty}");
    }

    #[tokio::test]
    async fn the_offline_stream_spells_out_the_same_answer() {
        use futures_util::StreamExt;
        let prompt = chat_prompt(Vec::new());
        let deltas: Vec<ChatDelta> =
            OfflinePlanner.chat_stream(&prompt).map(|delta| delta.unwrap()).collect().await;
        assert!(deltas.len() > 1);
        let text: String = deltas.iter().map(|delta| delta.text.as_str()).collect();
        assert_eq!(text, OfflinePlanner.chat(&prompt).value);
        assert!(deltas.last().and_then(|delta| delta.usage).is_some());
        assert!(deltas[..deltas.len() - 1].iter().all(|delta| delta.usage.is_none()));
    }

    #[test]
    fn breakdown_gives_three_steps_naming_the_task() {
        let steps = OfflinePlanner.propose_subtasks(&BreakdownPrompt {
            title: "Write report".into(),
            description: String::new(),
            corrections: Vec::new(),
        });
        assert_eq!(steps.value.len(), 3);
        assert!(steps.value.iter().all(|s| s.title.contains("Write report")));
    }
}
