//! Example JSON generated from a response schema: JSON Schema (`responseJsonSchema`) or
//! Gemini's OpenAPI-subset `Schema` (`responseSchema`, upper-case types, `nullable`).
//!
//! The output is deterministic: the same schema and prompt give the same JSON.

use chrono::{Days, Utc};
use serde_json::{Map, Value};

/// Past this depth arrays get only `minItems` items and objects only their `required` properties,
/// so recursive schemas end.
const SHALLOW_DEPTH: usize = 6;
/// Past this depth nothing more is generated.
const MAX_DEPTH: usize = 24;
/// Items in an array whose schema does not say.
const DEFAULT_ITEMS: u64 = 3;

/// Title prefixes for the items of an array, by position.
const TITLES: [&str; 5] = ["Get started", "Core practice", "Build something", "Review the gaps", "Wrap up"];

/// Generates a value that fits `schema`. `prompt` is the user's last message: its words appear
/// in text fields, and a phrase like `day_offset 0 to 4` in it narrows that integer's range.
/// With `violate`, numbers and arrays are generated outside their bounds instead.
pub(super) fn sample(schema: &Value, prompt: &str, violate: bool) -> Value {
    let sampler = Sampler { root: schema, topic: topic_of(prompt), prompt, violate };
    sampler.value(schema, "", 0, 0)
}

/// The subject of the prompt: the text after `Goal:`/`Task:`/`Topic:`/`Question:` if a line
/// starts with one, otherwise the first line; at most eight words and 60 characters.
pub(super) fn topic_of(prompt: &str) -> String {
    const LABELS: [&str; 4] = ["goal:", "task:", "topic:", "question:"];
    let labelled = prompt.lines().find_map(|line| {
        let line = line.trim();
        let lower = line.to_lowercase();
        LABELS.iter().find(|label| lower.starts_with(*label)).map(|label| line[label.len()..].trim())
    });
    let line = labelled.or_else(|| prompt.lines().map(str::trim).find(|line| !line.is_empty())).unwrap_or("");
    let topic: String =
        line.split_whitespace().take(8).collect::<Vec<_>>().join(" ").chars().take(60).collect();
    let topic = topic.trim_end_matches(|c: char| c.is_ascii_punctuation()).trim();
    if topic.is_empty() { "your goal".to_owned() } else { topic.to_owned() }
}

struct Sampler<'a> {
    root: &'a Value,
    topic: String,
    prompt: &'a str,
    violate: bool,
}

impl Sampler<'_> {
    fn value(&self, schema: &Value, name: &str, index: usize, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let Value::Object(map) = schema else {
            // `true` (anything) or `false` (nothing).
            return if schema.as_bool() == Some(false) {
                Value::Null
            } else {
                self.string(map_empty(), name, index)
            };
        };
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            return match self.resolve(reference) {
                Some(target) => self.value(target, name, index, depth + 1),
                None => self.string(map_empty(), name, index),
            };
        }
        if let Some(constant) = map.get("const") {
            return constant.clone();
        }
        if let Some(values) = map.get("enum").and_then(Value::as_array)
            && let Some(first) = values.iter().find(|value| !value.is_null()).or(values.first())
        {
            return first.clone();
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(options) = map.get(keyword).and_then(Value::as_array) {
                let option = options.iter().find(|option| !self.is_null_schema(option)).or(options.first());
                if let Some(option) = option {
                    return self.value(option, name, index, depth + 1);
                }
            }
        }
        if let Some(parts) = map.get("allOf").and_then(Value::as_array) {
            let merged = self.merge_all_of(map, parts);
            return self.value(&merged, name, index, depth + 1);
        }
        match type_of(map).as_deref() {
            Some("object") => self.object(map, index, depth),
            Some("array") => self.array(map, name, depth),
            Some("integer") => self.integer(map, name, index),
            Some("number") => self.number(map, name, index),
            Some("boolean") => Value::Bool(true),
            Some("null") => Value::Null,
            Some(_) => self.string(map, name, index),
            None if map.contains_key("properties") => self.object(map, index, depth),
            None if map.contains_key("items") || map.contains_key("prefixItems") => {
                self.array(map, name, depth)
            }
            None => self.string(map, name, index),
        }
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() { Some(self.root) } else { self.root.pointer(pointer) }
    }

    fn is_null_schema(&self, schema: &Value) -> bool {
        let schema = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.resolve(reference).unwrap_or(schema),
            None => schema,
        };
        schema.as_object().and_then(type_of).as_deref() == Some("null")
    }

    /// One schema with the properties and `required` of every `allOf` part.
    fn merge_all_of(&self, outer: &Map<String, Value>, parts: &[Value]) -> Value {
        let mut merged: Map<String, Value> = outer
            .iter()
            .filter(|(key, _)| key.as_str() != "allOf")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for part in parts {
            let part = match part.get("$ref").and_then(Value::as_str) {
                Some(reference) => self.resolve(reference).unwrap_or(part),
                None => part,
            };
            let Some(part) = part.as_object() else { continue };
            for (key, value) in part {
                match (key.as_str(), merged.get_mut(key), value) {
                    ("properties", Some(Value::Object(into)), Value::Object(from)) => {
                        into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    ("required", Some(Value::Array(into)), Value::Array(from)) => {
                        into.extend(from.iter().cloned())
                    }
                    (_, None, _) => {
                        merged.insert(key.clone(), value.clone());
                    }
                    _ => {}
                }
            }
        }
        Value::Object(merged)
    }

    /// Every property (past [`SHALLOW_DEPTH`] only the required ones); `index` is the object's
    /// position in its array, passed on so the items of an array differ.
    fn object(&self, map: &Map<String, Value>, index: usize, depth: usize) -> Value {
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut object = Map::new();
        if let Some(properties) = map.get("properties").and_then(Value::as_object) {
            for (key, property) in properties {
                if depth <= SHALLOW_DEPTH || required.contains(&key.as_str()) {
                    object.insert(key.clone(), self.value(property, key, index, depth + 1));
                }
            }
        }
        Value::Object(object)
    }

    fn array(&self, map: &Map<String, Value>, name: &str, depth: usize) -> Value {
        let min = count(map, "minItems");
        let max = count(map, "maxItems");
        let len = if self.violate && min.is_some_and(|min| min > 0) {
            min.unwrap_or(1) - 1
        } else if self.violate && max.is_some() {
            max.unwrap_or(0) + 1
        } else if depth > SHALLOW_DEPTH {
            min.unwrap_or(0)
        } else {
            let len = DEFAULT_ITEMS.max(min.unwrap_or(0));
            max.map_or(len, |max| len.min(max))
        };
        let prefix = map.get("prefixItems").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let any = Value::Object(Map::new());
        let (tuple, items) = match map.get("items") {
            Some(Value::Array(tuple)) => (tuple.as_slice(), map.get("additionalItems").unwrap_or(&any)),
            Some(items) => (prefix, items),
            None => (prefix, &any),
        };
        let item_name = singular(name);
        let len = usize::try_from(len).unwrap_or(usize::MAX).min(64);
        (0..len)
            .map(|index| self.value(tuple.get(index).unwrap_or(items), &item_name, index, depth + 1))
            .collect()
    }

    fn integer(&self, map: &Map<String, Value>, name: &str, index: usize) -> Value {
        let (mut low, mut high) =
            (bound(map, "minimum", "exclusiveMinimum", 1.0), bound(map, "maximum", "exclusiveMaximum", -1.0));
        if self.violate {
            return Value::from(match (low, high) {
                (Some(low), Some(_)) => low.ceil() as i64 - 10,
                (None, Some(high)) => high.floor() as i64 + 10,
                _ => 9999,
            });
        }
        if let Some((from, to)) = range_in_prompt(self.prompt, name) {
            low = Some(low.map_or(from, |low| low.max(from)));
            high = Some(high.map_or(to, |high| high.min(to)));
        }
        let low = low.map(f64::ceil);
        let high = high.map(f64::floor);
        let preferred = preferred_number(name, index, low, high);
        let mut value = clamp(preferred.round(), low, high);
        if let Some(step) = number(map, "multipleOf").filter(|step| *step >= 1.0) {
            value = (value / step).ceil() * step;
            if high.is_some_and(|high| value > high) {
                value -= step;
            }
        }
        Value::from(value as i64)
    }

    fn number(&self, map: &Map<String, Value>, name: &str, index: usize) -> Value {
        let low = bound(map, "minimum", "exclusiveMinimum", 0.5);
        let high = bound(map, "maximum", "exclusiveMaximum", -0.5);
        if self.violate {
            return Value::from(match (low, high) {
                (Some(low), Some(_)) => low - 10.0,
                (None, Some(high)) => high + 10.0,
                _ => 9999.0,
            });
        }
        let value = clamp(preferred_number(name, index, low, high), low, high);
        serde_json::Number::from_f64(value).map_or(Value::from(0), Value::Number)
    }

    fn string(&self, map: &Map<String, Value>, name: &str, index: usize) -> Value {
        let text = match map.get("format").and_then(Value::as_str) {
            Some("date-time") => {
                let at = Utc::now().checked_add_days(Days::new(index as u64 + 1)).unwrap_or_else(Utc::now);
                at.format("%Y-%m-%dT09:00:00Z").to_string()
            }
            Some("date") => {
                let day = Utc::now().date_naive().checked_add_days(Days::new(index as u64 + 1));
                day.map_or_else(|| "2030-01-01".to_owned(), |day| day.to_string())
            }
            Some("time") => "09:00:00".to_owned(),
            Some("email") => format!("person{}@example.com", index + 1),
            Some("uri" | "url") => format!("https://example.com/{}/{}", slug(name), index + 1),
            Some("uuid") => uuid::Uuid::new_v4().to_string(),
            _ => self.text(name, index),
        };
        let min = count(map, "minLength").map_or(0, |min| usize::try_from(min).unwrap_or(usize::MAX));
        let max = count(map, "maxLength").map(|max| usize::try_from(max).unwrap_or(usize::MAX));
        Value::String(fit_length(text, min, max))
    }

    /// Readable text chosen by the property's name.
    fn text(&self, name: &str, index: usize) -> String {
        let topic = &self.topic;
        let key = name.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|word| key.contains(word));
        if has(&["title", "name", "heading", "label", "subject"]) {
            let title = TITLES[index % TITLES.len()];
            if index < TITLES.len() {
                format!("{title}: {topic}")
            } else {
                format!("{title} ({}): {topic}", index / TITLES.len() + 1)
            }
        } else if has(&["summary", "overview", "abstract"]) {
            format!(
                "A practical plan for \"{topic}\": get oriented first, work through the core ideas with small \
                 exercises, then build something and review what is still unclear."
            )
        } else if has(&[
            "description",
            "detail",
            "note",
            "body",
            "content",
            "text",
            "answer",
            "reply",
            "message",
        ]) {
            format!(
                "Step {} of \"{topic}\": set aside focused time, work through one concrete exercise, and write \
                 down what is still unclear. Done when the exercise works end to end.",
                index + 1
            )
        } else if key.is_empty() {
            format!("Here is a short answer about \"{topic}\".")
        } else {
            format!("{} {} for \"{topic}\"", humanize(&key), index + 1)
        }
    }
}

fn map_empty() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

/// The schema's type, lower-cased; for a list of types (`["string", "null"]`) the first that is
/// not `null`.
fn type_of(map: &Map<String, Value>) -> Option<String> {
    match map.get("type")? {
        Value::String(kind) => Some(kind.to_lowercase()),
        Value::Array(kinds) => {
            let kinds: Vec<String> = kinds.iter().filter_map(Value::as_str).map(str::to_lowercase).collect();
            kinds.iter().find(|kind| *kind != "null").or(kinds.first()).cloned()
        }
        _ => None,
    }
}

/// A numeric keyword, given as a number or (Gemini's proto JSON for int64) a string.
fn number(map: &Map<String, Value>, key: &str) -> Option<f64> {
    match map.get(key)? {
        Value::Number(value) => value.as_f64(),
        Value::String(value) => value.trim().parse().ok(),
        _ => None,
    }
}

fn count(map: &Map<String, Value>, key: &str) -> Option<u64> {
    number(map, key).filter(|value| *value >= 0.0).map(|value| value as u64)
}

/// An inclusive bound from `minimum`/`maximum` and the exclusive form (a number in JSON Schema
/// 2020-12, a boolean beside the inclusive one in draft 4), nudged inwards by `nudge`.
fn bound(map: &Map<String, Value>, inclusive: &str, exclusive: &str, nudge: f64) -> Option<f64> {
    match (number(map, inclusive), map.get(exclusive)) {
        (Some(value), Some(Value::Bool(true))) => Some(value + nudge),
        (Some(value), _) => Some(value),
        (None, Some(Value::Number(value))) => value.as_f64().map(|value| value + nudge),
        _ => None,
    }
}

fn clamp(value: f64, low: Option<f64>, high: Option<f64>) -> f64 {
    let value = low.map_or(value, |low| value.max(low));
    high.map_or(value, |high| value.min(high))
}

/// A sensible value for a number called `name` at position `index` of its array.
fn preferred_number(name: &str, index: usize, low: Option<f64>, high: Option<f64>) -> f64 {
    let key = name.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| key.contains(word));
    if has(&["offset", "day", "index", "position", "order", "step", "rank"]) {
        // Spread items over the range when there is one; otherwise stay at the start, which is
        // valid however short the real range is.
        let start = low.unwrap_or(0.0);
        return if high.is_some() { start + index as f64 } else { start };
    }
    if has(&["minute"]) {
        60.0
    } else if has(&["percent"]) {
        50.0
    } else if has(&["count", "number", "quantity", "total"]) {
        3.0
    } else {
        match (low, high) {
            (Some(low), Some(high)) if high - low < 1.0 => (low + high) / 2.0,
            (Some(low), _) => low.max(1.0),
            _ => 1.0,
        }
    }
}

/// `NAME A to B` in the prompt (e.g. "day_offset 0 to 4"), as an inclusive range.
fn range_in_prompt(prompt: &str, name: &str) -> Option<(f64, f64)> {
    if name.is_empty() {
        return None;
    }
    prompt.match_indices(name).find_map(|(at, _)| {
        let mut words = prompt[at + name.len()..].split_whitespace();
        let from =
            words.next()?.trim_matches(|c: char| !c.is_ascii_digit() && c != '-').parse::<f64>().ok()?;
        (words.next()? == "to").then_some(())?;
        let to = words.next()?.trim_matches(|c: char| !c.is_ascii_digit() && c != '-').parse::<f64>().ok()?;
        (from <= to).then_some((from, to))
    })
}

/// Pads with spaces-separated filler or cuts (on a char boundary) to fit the length bounds.
fn fit_length(mut text: String, min: usize, max: Option<usize>) -> String {
    while text.chars().count() < min {
        text.push_str(if text.is_empty() { "x" } else { " more" });
    }
    if let Some(max) = max
        && text.chars().count() > max
    {
        text = text.chars().take(max).collect::<String>().trim_end().to_owned();
        while text.chars().count() < min {
            text.push('x');
        }
    }
    text
}

/// `subtasks` → `subtask`, `entries` → `entry`; used to name array items.
fn singular(name: &str) -> String {
    if let Some(stem) = name.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = name.strip_suffix('s').filter(|stem| !stem.ends_with('s')) {
        stem.to_owned()
    } else {
        name.to_owned()
    }
}

fn humanize(key: &str) -> String {
    let words = key.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

fn slug(name: &str) -> String {
    let slug: String = name.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    if slug.is_empty() { "item".to_owned() } else { slug }
}
