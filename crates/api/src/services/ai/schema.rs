//! The response schemas sent to Gemini, built per request so they say everything the validator
//! checks (the plan's days, the task cap, the lengths). Descriptions are written for the model.

use planwright_domain::PlanTaskDraft;
use serde_json::{Value, json};

use super::repair::{SUBTASKS, SUMMARY_MAX};

/// The schema of a plan of `days` days with at most `max_tasks` tasks.
pub fn plan(days: u16, max_tasks: usize) -> Value {
    let last_day = days.max(1) - 1;
    json!({
        "type": "object",
        "description": "A practical plan that reaches the user's goal in the given number of days.",
        "properties": {
            "summary": {
                "type": "string",
                "description": "A short, friendly Markdown overview of the plan: headings and bullet points, \
                                at most 300 words.",
                "minLength": 1,
                "maxLength": SUMMARY_MAX
            },
            "tasks": {
                "type": "array",
                "description": "Concrete work blocks in the order they should be done, spread over all the \
                                days, at most about 6 hours of work per day.",
                "minItems": 1,
                "maxItems": max_tasks,
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {
                            "type": "string",
                            "description": "A short imperative title, e.g. \"Build a CRUD endpoint\".",
                            "minLength": 1,
                            "maxLength": PlanTaskDraft::TITLE_MAX
                        },
                        "description": {
                            "type": "string",
                            "description": "What to do and what done looks like, in one to three sentences.",
                            "maxLength": PlanTaskDraft::DESCRIPTION_MAX
                        },
                        "day_offset": {
                            "type": "integer",
                            "description": format!(
                                "The day of the plan this task belongs to: 0 is the first day, {last_day} the last."
                            ),
                            "minimum": 0,
                            "maximum": last_day
                        },
                        "duration_minutes": {
                            "type": "integer",
                            "description": "Minutes of focused work this task takes.",
                            "minimum": PlanTaskDraft::MIN_MINUTES,
                            "maximum": PlanTaskDraft::MAX_MINUTES
                        }
                    },
                    "required": ["title", "description", "day_offset", "duration_minutes"]
                }
            }
        },
        "required": ["summary", "tasks"]
    })
}

/// The schema of a breakdown into 2–5 sub-tasks.
pub fn breakdown() -> Value {
    json!({
        "type": "object",
        "description": "The user's task broken into concrete, ordered sub-tasks.",
        "properties": {
            "subtasks": {
                "type": "array",
                "description": "Two to five sub-tasks in the order they should be done.",
                "minItems": SUBTASKS.start(),
                "maxItems": SUBTASKS.end(),
                "items": {
                    "type": "object",
                    "properties": {
                        "title": {
                            "type": "string",
                            "description": "A short imperative title.",
                            "minLength": 1,
                            "maxLength": PlanTaskDraft::TITLE_MAX
                        },
                        "description": {
                            "type": "string",
                            "description": "One or two sentences on what to do.",
                            "maxLength": PlanTaskDraft::DESCRIPTION_MAX
                        }
                    },
                    "required": ["title", "description"]
                }
            }
        },
        "required": ["subtasks"]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_schema_bounds_days_and_tasks_by_the_request() {
        let schema = plan(2, 16);
        let task = &schema["properties"]["tasks"]["items"]["properties"];
        assert_eq!(task["day_offset"]["maximum"], 1);
        assert_eq!(task["duration_minutes"]["minimum"], 15);
        assert_eq!(schema["properties"]["tasks"]["maxItems"], 16);
        assert_eq!(plan(1, 8)["properties"]["tasks"]["items"]["properties"]["day_offset"]["maximum"], 0);
    }
}
