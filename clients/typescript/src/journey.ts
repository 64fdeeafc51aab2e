// A journey through the Planwright API as a frontend makes it, with the client generated from the
// server's own OpenAPI document (openapi-typescript types, openapi-fetch calls). It type-checks
// under `tsc --strict` — so a document that a generator cannot turn into usable types fails the
// build — and then runs against a live server:
//
//   node dist/journey.js http://127.0.0.1:8080
//
// Each check prints one line; the last line is "N passed, M failed" and the exit status is 0 only
// when every check passed. The server must run with the offline AI and the built-in calendar (the
// defaults) and load the repository's knowledge/ folder.

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];

const baseUrl = (process.argv[2] ?? process.env.PLANWRIGHT_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");

let passed = 0;
let failed = 0;

function check(condition: boolean, what: string, detail?: unknown): boolean {
  if (condition) {
    passed += 1;
    console.log(`  ok    ${what}`);
  } else {
    failed += 1;
    console.log(`  FAIL  ${what}`);
    if (detail !== undefined) console.log(`        ${JSON.stringify(detail).slice(0, 500)}`);
  }
  return condition;
}

/** Stops the journey: a later step cannot run without this one. */
class Fatal extends Error {}

function need<T>(value: T | undefined, what: string, detail?: unknown): T {
  if (!check(value !== undefined, what, detail) || value === undefined) throw new Fatal(what);
  return value;
}

let accessToken: string | undefined;
const auth: Middleware = {
  onRequest({ request }) {
    if (accessToken !== undefined) request.headers.set("Authorization", `Bearer ${accessToken}`);
    return request;
  },
};

const api = createClient<paths>({ baseUrl });
api.use(auth);

function isProblem(response: Response, problem: Problem | undefined, status: number): boolean {
  return (
    response.status === status &&
    (response.headers.get("content-type") ?? "").startsWith("application/problem+json") &&
    problem !== undefined &&
    problem.status === status &&
    typeof problem.detail === "string" &&
    problem.detail.length > 0
  );
}

/** A date `days` from today, `YYYY-MM-DD`. */
function dateInDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

interface SseEvent {
  event: string;
  data: string;
}

/** Splits a complete `text/event-stream` body into its events (comments skipped). */
function parseSse(body: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of body.replace(/\r\n/g, "\n").split("\n\n")) {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return events;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

async function system(): Promise<void> {
  console.log("system");
  const health = await api.GET("/health");
  check(health.data?.status === "ok", "GET /health -> ok", health.error);
  const ready = await api.GET("/ready");
  check(ready.response.status === 200, "GET /ready -> 200", ready.error);
}

async function account(): Promise<void> {
  console.log("account");
  const email = `journey-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  const registered = await api.POST("/api/v1/auth/register", {
    body: { email, password: "correct horse battery staple", name: "Journey", timezone: "Europe/Berlin" },
  });
  const tokens = need(registered.data, "register -> 201 with tokens", registered.error);
  check(registered.response.status === 201, "register answers 201");
  check(tokens.token_type === "Bearer" && tokens.user.email === email, "the tokens carry the new user");
  accessToken = tokens.access_token;

  const me = await api.GET("/api/v1/me");
  check(me.data?.timezone === "Europe/Berlin", "GET /me shows the time zone", me.error);

  const updated = await api.PATCH("/api/v1/me", {
    body: { working_hours: { start: "08:00", end: "18:00", days: [1, 2, 3, 4, 5, 6, 7] } },
  });
  check(updated.data?.working_hours.start === "08:00", "PATCH /me sets working hours every day", updated.error);
}

async function plans(): Promise<string> {
  console.log("plans");
  const created = await api.POST("/api/v1/plans", {
    body: {
      goal: "Learn FastAPI in 2 days",
      duration_days: 2,
      context: { notes: "I know Python; evenings only" },
    },
  });
  const plan = need(created.data, "POST /plans -> 201 with a plan", created.error);
  check(created.response.status === 201, "plan creation answers 201");
  check(plan.tasks.length >= 1 && plan.status === "draft", "the plan has tasks and is a draft", plan);
  check(plan.context?.notes === "I know Python; evenings only", "the plan keeps its context notes", plan.context);

  const [first, ...rest] = plan.tasks;
  const edited = await api.PATCH("/api/v1/plans/{id}", {
    params: { path: { id: plan.id } },
    body: {
      summary: "My edited plan",
      tasks: [
        {
          id: first?.id,
          title: "Read the FastAPI tutorial",
          description: "Up to dependencies",
          day_offset: 0,
          duration_minutes: 60,
        },
        ...rest.map((task) => ({
          id: task.id,
          title: task.title,
          description: task.description,
          day_offset: task.day_offset,
          duration_minutes: task.duration_minutes,
        })),
      ],
    },
  });
  check(
    edited.data?.summary === "My edited plan" && edited.data.tasks[0]?.title === "Read the FastAPI tutorial",
    "PATCH /plans/{id} edits the summary and the first task",
    edited.error,
  );
  const listed = await api.GET("/api/v1/plans", { params: { query: { limit: 10 } } });
  check(listed.data?.items.some((item) => item.id === plan.id) === true, "GET /plans lists the plan", listed.error);
  return plan.id;
}

async function tasks(planId: string): Promise<void> {
  console.log("tasks and breakdown");
  const created = await api.POST("/api/v1/tasks", {
    body: { title: "Write the project report", description: "Ten pages", estimate_minutes: 240, plan_id: planId },
  });
  const task = need(created.data, "POST /tasks -> 201", created.error);
  check(task.status === "todo" && task.plan_id === planId, "the task is open and belongs to the plan", task);

  const proposed = await api.POST("/api/v1/tasks/{id}/breakdown", {
    params: { path: { id: task.id } },
    body: {},
  });
  const subtasks = proposed.data?.subtasks ?? [];
  check(subtasks.length >= 2 && subtasks.length <= 5, "breakdown proposes 2-5 sub-tasks", proposed.error);

  const saved = await api.POST("/api/v1/tasks/{id}/breakdown", {
    params: { path: { id: task.id } },
    body: { save: true },
  });
  const children = saved.data?.tasks ?? [];
  check(
    saved.response.status === 201 && children.length >= 2 && children.every((child) => child.parent_id === task.id),
    "breakdown with save -> 201 and child tasks",
    saved.error,
  );
  const listed = await api.GET("/api/v1/tasks", { params: { query: { parent_id: task.id } } });
  check(listed.data?.items.length === children.length, "GET /tasks?parent_id= lists the children", listed.error);

  const done = await api.PATCH("/api/v1/tasks/{id}", {
    params: { path: { id: task.id } },
    body: { status: "done" },
  });
  check(done.data?.status === "done", "PATCH /tasks/{id} ticks the task off", done.error);

  const stateless = await api.POST("/api/v1/ai/breakdown", { body: { title: "Plan a birthday party" } });
  check((stateless.data?.length ?? 0) >= 2, "POST /ai/breakdown -> sub-tasks", stateless.error);
}

async function chat(): Promise<void> {
  console.log("chat");
  const doc = await api.POST("/api/v1/knowledge", {
    body: {
      title: "Sports centre opening hours",
      content: "The sports centre opens at 07:00 on weekdays and at 10:00 on Sundays.",
      tags: ["campus"],
    },
  });
  const docId = need(doc.data?.id, "POST /knowledge -> 201", doc.error);

  const answer = await api.POST("/api/v1/chat", {
    body: { message: "When does the sports centre open on Sundays?" },
  });
  const reply = need(answer.data, "POST /chat -> 200", answer.error);
  check(reply.response.length > 0, "the chat answers");
  check(
    reply.sources.some((source) => source.kind === "knowledge" && source.id === docId),
    "the answer names the knowledge document as a source",
    reply.sources,
  );

  const streamed = await api.POST("/api/v1/chat/stream", {
    body: { message: "And on weekdays?", session_id: reply.session_id },
    parseAs: "stream",
  });
  check(
    (streamed.response.headers.get("content-type") ?? "").startsWith("text/event-stream"),
    "POST /chat/stream answers text/event-stream",
  );
  const body = streamed.data ? await readAll(streamed.data) : "";
  const events = parseSse(body);
  const names = events.map((event) => event.event);
  check(names[0] === "session", "the stream starts with a session event", names);
  check(names.includes("delta"), "the stream carries deltas", names);
  check(names[names.length - 1] === "done", "the stream ends with done", names);

  const history = await api.GET("/api/v1/chat/{session_id}/history", {
    params: { path: { session_id: reply.session_id } },
  });
  check((history.data?.messages.length ?? 0) === 4, "the history holds both turns of both messages", history.data);
}

async function calendarSelection(): Promise<void> {
  console.log("calendar selection");
  const connections = await api.GET("/api/v1/calendar/connections");
  const local = need(
    connections.data?.items.find((connection) => connection.provider === "local"),
    "GET /calendar/connections lists the built-in calendar",
    connections.error ?? connections.data,
  );
  const path = { params: { path: { id: local.id } } };
  const listed = await api.GET("/api/v1/calendar/connections/{id}/calendars", path);
  const items = need(listed.data?.items, "GET /calendar/connections/{id}/calendars -> 200", listed.error);
  const own = items[0];
  check(
    items.length === 1 && own?.id === "local" && own.busy && own.target && own.writable,
    "the built-in calendar lists its one calendar, busy, writable and the target",
    items,
  );
  const chosen = await api.PATCH("/api/v1/calendar/connections/{id}/calendars", {
    ...path,
    body: { busy: ["local"], target: "local" },
  });
  check(
    chosen.data?.items.length === 1 && chosen.data.items[0]?.busy === true && chosen.data.items[0].target === true,
    "PATCH /calendar/connections/{id}/calendars keeps it busy and the target",
    chosen.error ?? chosen.data,
  );
  const unknown = await api.PATCH("/api/v1/calendar/connections/{id}/calendars", {
    ...path,
    body: { busy: ["elsewhere"] },
  });
  check(isProblem(unknown.response, unknown.error, 422), "choosing an unknown calendar -> 422 problem+json", unknown.error);
  const fields = (unknown.error?.errors ?? []).map((error) => error.field);
  check(fields.length === 1 && fields[0] === "busy[0]", "the 422 names busy[0]", fields);
}

async function calendar(planId: string): Promise<void> {
  console.log("schedule and calendar");
  const startDate = dateInDays(1);
  const dry = await api.POST("/api/v1/plans/{id}/schedule", {
    params: { path: { id: planId } },
    body: { start_date: startDate, dry_run: true },
  });
  const preview = need(dry.data, "schedule dry run -> 200", dry.error);
  check(preview.dry_run && preview.placements.length >= 1 && preview.events.length === 0, "the dry run places and writes nothing", preview);
  check(
    preview.placements.every((placement) => !placement.pinned),
    "no block was moved by hand yet: nothing is pinned",
    preview.placements,
  );

  const real = await api.POST("/api/v1/plans/{id}/schedule", {
    params: { path: { id: planId } },
    body: { start_date: startDate },
  });
  const schedule = need(real.data, "schedule -> 200", real.error);
  check(
    schedule.events.length === schedule.placements.length && schedule.events.every((event) => event.status === "created"),
    "every placement got a new event",
    schedule.events,
  );
  const again = await api.POST("/api/v1/plans/{id}/schedule", {
    params: { path: { id: planId } },
    body: { start_date: startDate },
  });
  check(
    again.data?.events.every((event) => event.status === "unchanged") === true,
    "scheduling again changes nothing (no duplicate)",
    again.data?.events,
  );

  const upcoming = await api.GET("/api/v1/calendar/events/upcoming", { params: { query: { limit: 50, days: 7 } } });
  const events = upcoming.data?.events ?? [];
  check(
    events.some((event) => event.plan_task_id !== null && event.plan_task_id !== undefined),
    "upcoming events include the scheduled tasks",
    upcoming.error ?? events.length,
  );

  const feed = await api.POST("/api/v1/calendar/feed");
  const url = need(feed.data?.url, "POST /calendar/feed -> a URL", feed.error);
  const ics = await fetch(url);
  const text = await ics.text();
  check(
    ics.status === 200 && text.startsWith("BEGIN:VCALENDAR") && text.includes("BEGIN:VEVENT"),
    "the feed URL serves the scheduled tasks as iCalendar",
    text.slice(0, 200),
  );
}

async function errors(): Promise<void> {
  console.log("errors");
  const invalid = await api.POST("/api/v1/plans", { body: { goal: "", duration_days: 0 } });
  check(isProblem(invalid.response, invalid.error, 422), "an invalid plan -> 422 problem+json", invalid.error);
  const fields = (invalid.error?.errors ?? []).map((error) => error.field);
  check(fields.includes("goal") && fields.includes("duration_days"), "the 422 names both fields", fields);

  const missing = await api.GET("/api/v1/plans/{id}", {
    params: { path: { id: "00000000-0000-4000-8000-000000000000" } },
  });
  check(isProblem(missing.response, missing.error, 404), "an unknown plan -> 404 problem+json", missing.error);

  const token = accessToken;
  accessToken = undefined;
  const anonymous = await api.GET("/api/v1/me");
  accessToken = token;
  check(isProblem(anonymous.response, anonymous.error, 401), "no token -> 401 problem+json", anonymous.error);
}

async function main(): Promise<void> {
  console.log(`journey against ${baseUrl}`);
  try {
    await system();
    await account();
    const planId = await plans();
    await tasks(planId);
    await chat();
    await calendarSelection();
    await calendar(planId);
    await errors();
  } catch (error) {
    if (!(error instanceof Fatal)) {
      failed += 1;
      console.log(`  FAIL  unexpected error: ${String(error)}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

await main();
