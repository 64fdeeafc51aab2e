//! Planwright's domain: the validated types every other crate speaks in.
//!
//! Values here are parsed, not validated after the fact: an [`Email`], a [`TimeZone`] or a
//! [`WorkingHours`] that exists is valid, so invalid input never reaches the store or a client.
//! Plans, tasks and their limits live here too, and the scheduler that puts a plan's tasks into free
//! working time.
//! This crate does no I/O and knows nothing of HTTP, databases or upstream APIs.

mod calendar;
mod chat;
mod chat_action;
mod error;
pub mod input;
mod knowledge;
mod plan;
mod replan;
mod resource;
mod schedule;
mod task;
mod user;

pub use calendar::{
    BusyCalendar, CalendarConnection, CalendarEvent, CalendarProvider, ConnectionStatus, EncryptedTokens,
    EventData, EventSpan, ListedEvent, WatchChannel, WritesPaused, local_ical_uid, parse_event_description,
    parse_event_summary,
};
pub use chat::{
    CHAT_MESSAGE_MAX, CHAT_TITLE_MAX, ChatMessage, ChatRole, ChatSession, ChatSource, NewChatMessage,
    SourceKind, parse_chat_message, session_title,
};
pub use chat_action::{ActionKind, ActionStatus, ChatAction, NewChatAction};
pub use error::{FieldError, ValidationErrors};
pub use knowledge::{
    KNOWLEDGE_CONTENT_MAX, KNOWLEDGE_TAGS_MAX, KnowledgeChanges, KnowledgeDoc, KnowledgeHit, NewKnowledgeDoc,
    parse_knowledge_content, parse_knowledge_tags, parse_knowledge_title,
};
pub use plan::{
    DurationDays, Goal, NewPlan, Notes, Plan, PlanChanges, PlanContent, PlanStatus, PlanTask, PlanTaskDraft,
    PlanTaskEdit, PlanTaskEditFields, PlanTaskFields, PlanTaskPatch, TokenUsage,
};
pub use replan::{ChangeReason, ScheduleChange, tasks_to_replan};
pub use resource::{
    NewResource, RESOURCE_CONTENT_MAX_BYTES, Resource, ResourceChanges, check_resource_content,
    parse_class_id, parse_resource_name, parse_resource_type,
};
pub use schedule::{
    AtRisk, BusyInterval, OvercommittedDay, PinnedBlock, Placement, Priority, START_MARK_MINUTES,
    ScheduleOutcome, SchedulePreferences, ScheduleRequest, TaskToPlace, Unscheduled, UnscheduledReason,
    event_id_for_chunk, event_id_for_task, is_settled, next_start_mark, schedule, start_of_day,
};
pub use task::{
    DEFAULT_MIN_CHUNK_MINUTES, NewTask, ScheduledBlock, Subtask, Task, TaskChanges, TaskStatus,
    parse_description, parse_estimate, parse_min_chunk, parse_title,
};
pub use user::{
    DisplayName, Email, NewUser, Password, RefreshTokenRecord, TimeZone, User, UserChanges, WorkingHours,
};
