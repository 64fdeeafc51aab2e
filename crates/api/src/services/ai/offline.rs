//! A deterministic planner that needs no network: the same goal always gives the same plan.
//! It keeps the server's main job working out of the box and gives tests a stable answer.

use chrono::SecondsFormat;
use futures_util::stream;
use planwright_domain::{ChatRole, SourceKind, Subtask, TokenUsage};
use planwright_gemini::{Content, FunctionCall, Part, Role};
use serde_json::json;

use super::{
    BreakdownPrompt, ChatPrompt, Generated, PlanPrompt, ProposedPlan, ProposedTask, RoundDelta, RoundOutput,
    RoundStream, ToolCall, ToolRound, ToolTurn,
    intents::{self, Intent},
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
}

impl OfflinePlanner {
    /// One round of a chat with tools: a documented request (see [`intents`]) becomes the same
    /// tool calls a model would make (looking the task up with `list_tasks` first when one is
    /// named), and once the calls are answered, a text saying what awaits the person's confirm.
    /// Any other message gets [`OfflinePlanner::chat`]'s answer.
    pub fn chat_round(&self, prompt: &ChatPrompt, turn: ToolTurn<'_>) -> Generated<RoundOutput> {
        let message =
            prompt.turns.iter().rev().find(|t| t.role == ChatRole::User).map_or("", |t| t.text.as_str());
        let intent =
            (!turn.tools.is_empty()).then(|| intents::parse(message, prompt.now, prompt.time_zone)).flatten();
        let output = match intent {
            None => text_round(self.chat(prompt).value),
            Some(intent) => match (turn.rounds, turn.allow_calls) {
                ([], true) => calls_round(first_calls(&intent)),
                ([lookup], true) if is_lookup(&intent) => match found_task(&intent, lookup) {
                    Some(call) => calls_round(vec![call]),
                    None => text_round(format!(
                        "{OFFLINE_NOTE}I could not find a task matching \"{}\" among your open tasks. \
                         Check its title in your task list and try again.",
                        query_of(&intent)
                    )),
                },
                (rounds, _) => text_round(describe_proposals(rounds.last())),
            },
        };
        Generated {
            value: output,
            model: MODEL.to_owned(),
            model_version: None,
            usage: TokenUsage::default(),
        }
    }

    /// [`OfflinePlanner::chat_round`] as a stream: the calls in the first piece, the text a few
    /// words at a time.
    pub fn chat_round_stream(&self, prompt: &ChatPrompt, turn: ToolTurn<'_>) -> RoundStream {
        let output = self.chat_round(prompt, turn).value;
        let mut deltas = vec![RoundDelta { text: String::new(), parts: output.model.parts, usage: None }];
        let mut piece = String::new();
        for (index, word) in output.text.split_inclusive(' ').enumerate() {
            piece.push_str(word);
            if index % 8 == 7 {
                deltas.push(RoundDelta { text: std::mem::take(&mut piece), parts: Vec::new(), usage: None });
            }
        }
        deltas.push(RoundDelta { text: piece, parts: Vec::new(), usage: Some(TokenUsage::default()) });
        Box::pin(stream::iter(deltas.into_iter().map(Ok).collect::<Vec<_>>()))
    }
}

const OFFLINE_NOTE: &str = "_Offline mode: no AI model is connected; I understood this as one of the requests \
the offline assistant knows._\n\n";

fn text_round(text: String) -> RoundOutput {
    RoundOutput { model: Content::model(text.clone()), text, calls: Vec::new() }
}

fn calls_round(calls: Vec<ToolCall>) -> RoundOutput {
    let parts = calls
        .iter()
        .map(|call| {
            let mut wire = FunctionCall::new(call.name.clone(), call.args.clone());
            if let Some(id) = &call.id {
                wire = wire.with_id(id.clone());
            }
            Part::function_call(wire)
        })
        .collect();
    RoundOutput { text: String::new(), calls, model: Content::new(Role::Model, parts) }
}

fn call(name: &str, args: serde_json::Value) -> ToolCall {
    ToolCall { id: Some(format!("offline_{name}")), name: name.to_owned(), args }
}

fn is_lookup(intent: &Intent) -> bool {
    matches!(intent, Intent::MarkDone { .. } | Intent::Move { .. } | Intent::BreakDown { .. })
}

fn query_of(intent: &Intent) -> &str {
    match intent {
        Intent::MarkDone { query } | Intent::Move { query, .. } | Intent::BreakDown { query } => query,
        _ => "",
    }
}

/// The first round: the write itself, or the look-up of the task it names.
fn first_calls(intent: &Intent) -> Vec<ToolCall> {
    match intent {
        Intent::AddTask { title, estimate_minutes, due_at } => {
            let mut args = json!({ "title": title });
            if let Some(minutes) = estimate_minutes {
                args["estimate_minutes"] = json!(minutes);
            }
            if let Some(due_at) = due_at {
                args["due_at"] = json!(due_at.to_rfc3339_opts(SecondsFormat::Secs, true));
            }
            vec![call("create_task", args)]
        }
        Intent::ScheduleWeek { until } => {
            vec![call("schedule", json!({ "until": until.to_rfc3339_opts(SecondsFormat::Secs, true) }))]
        }
        _ => vec![call("list_tasks", json!({ "query": query_of(intent) }))],
    }
}

/// The write on the best-matching task the look-up found (open tasks first), if any matched.
fn found_task(intent: &Intent, lookup: &ToolRound) -> Option<ToolCall> {
    let query = query_of(intent);
    let tasks = lookup.results.first()?.1.get("tasks")?.as_array()?;
    let best = tasks
        .iter()
        .filter_map(|task| {
            let title = task.get("title")?.as_str()?;
            let open = task.get("status").and_then(|s| s.as_str()) != Some("done");
            let score = intents::score(query, title);
            (score > 0).then_some((score, open, task.get("id")?.clone()))
        })
        // The first of the best: `max_by_key` keeps the last, so go through them reversed.
        .rev()
        .max_by_key(|(score, open, _)| (*score, *open))?;
    let task_id = best.2;
    Some(match intent {
        Intent::MarkDone { .. } => call("update_task", json!({ "task_id": task_id, "status": "done" })),
        Intent::Move { due_at, .. } => call(
            "update_task",
            json!({ "task_id": task_id, "due_at": due_at.to_rfc3339_opts(SecondsFormat::Secs, true) }),
        ),
        _ => call("break_down_task", json!({ "task_id": task_id })),
    })
}

/// What the last round proposed (or why it could not), for the person.
fn describe_proposals(last: Option<&ToolRound>) -> String {
    let mut proposed = Vec::new();
    let mut failed = Vec::new();
    for (_, result) in last.map(|round| round.results.as_slice()).unwrap_or_default() {
        match (result.get("summary").and_then(|s| s.as_str()), result.get("error").and_then(|e| e.as_str())) {
            (Some(summary), _) => proposed.push(format!("- {summary}")),
            (None, Some(error)) => failed.push(format!("- {error}")),
            _ => {}
        }
    }
    let mut text = OFFLINE_NOTE.to_owned();
    if !proposed.is_empty() {
        text.push_str("I have prepared this for you; nothing changes until you confirm it:\n");
        text.push_str(&proposed.join("\n"));
    }
    if !failed.is_empty() {
        if !proposed.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str("I could not prepare that:\n");
        text.push_str(&failed.join("\n"));
    }
    if proposed.is_empty() && failed.is_empty() {
        text.push_str("There was nothing to do.");
    }
    text
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
            now: chrono::Utc::now(),
            time_zone: chrono_tz::UTC,
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
        let turn = ToolTurn { tools: &[], rounds: &[], allow_calls: false };
        let deltas: Vec<RoundDelta> =
            OfflinePlanner.chat_round_stream(&prompt, turn).map(|delta| delta.unwrap()).collect().await;
        assert!(deltas.len() > 2);
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
