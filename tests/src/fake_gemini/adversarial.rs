//! The adversarial mode: a random answer that is *valid* for whatever schema was sent, as a real
//! model may legitimately give it. Numbers anywhere in their range with the edges favoured,
//! strings of any allowed length (empty where allowed) drawn from all of Unicode including
//! control characters and U+0000, arrays of any allowed length up to the maximum, and JSON
//! answers sometimes wrapped in a Markdown code fence. Every draw comes from a seeded generator,
//! so a seed replays the same answers.

use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Map, Number, Value};

/// Past this depth nothing more is generated (recursive schemas end).
const MAX_DEPTH: usize = 24;
/// Longest array generated when the schema sets no `maxItems`.
const OPEN_ITEMS: u64 = 8;
/// Longest string generated when the schema sets no `maxLength`.
const OPEN_LENGTH: u64 = 300;
/// Largest magnitude of a number whose schema leaves that side open.
const OPEN_NUMBER: f64 = 1_000_000.0;

/// A random schema-valid value; `fenced` says whether to wrap the JSON text in a code fence.
pub(super) fn answer(schema: &Value, rng: &mut StdRng) -> String {
    let value = Generator { root: schema }.value(schema, rng, 0);
    let text = if rng.gen_bool(0.5) { value.to_string() } else { pretty(&value) };
    match rng.gen_range(0..8) {
        0 => format!("```json\n{text}\n```"),
        1 => format!("```\n{text}\n```\n"),
        _ => text,
    }
}

/// A random schema-valid value (function-call arguments, which are JSON, not text).
pub(super) fn value(schema: &Value, rng: &mut StdRng) -> Value {
    Generator { root: schema }.value(schema, rng, 0)
}

/// A random plain-text answer (no schema): any length from empty, any characters.
pub(super) fn text(rng: &mut StdRng) -> String {
    let len = edge_or_between(rng, 0, 400);
    random_string(rng, usize::try_from(len).unwrap_or(0))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

struct Generator<'a> {
    root: &'a Value,
}

impl Generator<'_> {
    fn value(&self, schema: &Value, rng: &mut StdRng, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        let Value::Object(map) = schema else {
            return Value::String(random_string(rng, 5));
        };
        if let Some(target) = map.get("$ref").and_then(Value::as_str).and_then(|r| self.resolve(r)) {
            return self.value(target, rng, depth + 1);
        }
        if let Some(constant) = map.get("const") {
            return constant.clone();
        }
        if let Some(values) = map.get("enum").and_then(Value::as_array).filter(|v| !v.is_empty()) {
            return values[rng.gen_range(0..values.len())].clone();
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(options) = map.get(keyword).and_then(Value::as_array).filter(|o| !o.is_empty()) {
                let option = &options[rng.gen_range(0..options.len())];
                return self.value(option, rng, depth + 1);
            }
        }
        match type_of(map, rng).as_deref() {
            Some("object") => self.object(map, rng, depth),
            Some("array") => self.array(map, rng, depth),
            Some("integer") => integer(map, rng),
            Some("number") => number(map, rng),
            Some("boolean") => Value::Bool(rng.gen_bool(0.5)),
            Some("null") => Value::Null,
            _ => string(map, rng),
        }
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() { Some(self.root) } else { self.root.pointer(pointer) }
    }

    /// Every required property, and each optional one with even odds.
    fn object(&self, map: &Map<String, Value>, rng: &mut StdRng, depth: usize) -> Value {
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut object = Map::new();
        for (key, property) in map.get("properties").and_then(Value::as_object).into_iter().flatten() {
            if required.contains(&key.as_str()) || rng.gen_bool(0.5) {
                object.insert(key.clone(), self.value(property, rng, depth + 1));
            }
        }
        Value::Object(object)
    }

    fn array(&self, map: &Map<String, Value>, rng: &mut StdRng, depth: usize) -> Value {
        let min = count(map, "minItems").unwrap_or(0);
        let max = count(map, "maxItems").unwrap_or(min.max(OPEN_ITEMS)).max(min);
        let len = edge_or_between(rng, min, max);
        let any = Value::Object(Map::new());
        let items = map.get("items").unwrap_or(&any);
        (0..len).map(|_| self.value(items, rng, depth + 1)).collect()
    }
}

/// The type; for a list of types, one of them at random.
fn type_of(map: &Map<String, Value>, rng: &mut StdRng) -> Option<String> {
    match map.get("type")? {
        Value::String(kind) => Some(kind.to_lowercase()),
        Value::Array(kinds) if !kinds.is_empty() => {
            kinds[rng.gen_range(0..kinds.len())].as_str().map(str::to_lowercase)
        }
        _ => None,
    }
}

fn numeric(map: &Map<String, Value>, key: &str) -> Option<f64> {
    match map.get(key)? {
        Value::Number(value) => value.as_f64(),
        Value::String(value) => value.trim().parse().ok(),
        _ => None,
    }
}

fn count(map: &Map<String, Value>, key: &str) -> Option<u64> {
    numeric(map, key).filter(|value| *value >= 0.0).map(|value| value as u64)
}

/// The inclusive integer range: `minimum`/`maximum`, or the exclusive forms moved in by one.
fn integer_range(map: &Map<String, Value>) -> (i64, i64) {
    let low = numeric(map, "minimum")
        .map(|v| v.ceil() as i64)
        .or_else(|| numeric(map, "exclusiveMinimum").map(|v| v.floor() as i64 + 1))
        .unwrap_or(-(OPEN_NUMBER as i64));
    let high = numeric(map, "maximum")
        .map(|v| v.floor() as i64)
        .or_else(|| numeric(map, "exclusiveMaximum").map(|v| v.ceil() as i64 - 1))
        .unwrap_or(OPEN_NUMBER as i64);
    (low, high.max(low))
}

fn integer(map: &Map<String, Value>, rng: &mut StdRng) -> Value {
    let (low, high) = integer_range(map);
    let value = match rng.gen_range(0..4) {
        0 => low,
        1 => high,
        _ => rng.gen_range(low..=high),
    };
    Value::from(value)
}

fn number(map: &Map<String, Value>, rng: &mut StdRng) -> Value {
    let low = numeric(map, "minimum").unwrap_or(-OPEN_NUMBER);
    let high = numeric(map, "maximum").unwrap_or(OPEN_NUMBER).max(low);
    let value = match rng.gen_range(0..4) {
        0 => low,
        1 => high,
        _ => rng.gen_range(low..=high),
    };
    Number::from_f64(value).map_or(Value::from(0), Value::Number)
}

fn string(map: &Map<String, Value>, rng: &mut StdRng) -> Value {
    let min = count(map, "minLength").unwrap_or(0);
    let max = count(map, "maxLength").unwrap_or(min.max(OPEN_LENGTH)).max(min);
    let len = edge_or_between(rng, min, max);
    Value::String(random_string(rng, usize::try_from(len).unwrap_or(0)))
}

/// `min` or `max` one time in four each, else anywhere between (favouring short).
fn edge_or_between(rng: &mut StdRng, min: u64, max: u64) -> u64 {
    match rng.gen_range(0..8) {
        0 | 1 => min,
        2 => max,
        3 => rng.gen_range(min..=max),
        // Short values are the common case; keep most answers small.
        _ => rng.gen_range(min..=max.min(min + 40)),
    }
}

/// `len` characters from a mix of alphabets: ASCII words, whitespace, control characters
/// (U+0000 included), accented Latin, right-to-left scripts, CJK, combining marks, emoji and
/// other characters outside the Basic Multilingual Plane.
fn random_string(rng: &mut StdRng, len: usize) -> String {
    const POOLS: [(u32, u32); 10] = [
        (0x61, 0x7A),       // a–z
        (0x20, 0x7E),       // printable ASCII
        (0x20, 0x20),       // space
        (0x00, 0x1F),       // C0 controls, U+0000 included
        (0x7F, 0x9F),       // DEL and C1 controls
        (0xC0, 0x24F),      // accented Latin
        (0x5D0, 0x6FF),     // Hebrew, Arabic
        (0x4E00, 0x9FFF),   // CJK
        (0x300, 0x36F),     // combining marks
        (0x1F300, 0x1FAFF), // emoji
    ];
    // Most strings are mostly readable; one in four is drawn from every pool evenly.
    let wild = rng.gen_bool(0.25);
    (0..len)
        .map(|_| {
            let pool =
                if wild || rng.gen_bool(0.1) { rng.gen_range(0..POOLS.len()) } else { rng.gen_range(0..3) };
            let (low, high) = POOLS[pool];
            char::from_u32(rng.gen_range(low..=high)).unwrap_or('?')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "summary": {"type": "string", "minLength": 1, "maxLength": 50},
                "tasks": {"type": "array", "minItems": 1, "maxItems": 4, "items": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string", "minLength": 1, "maxLength": 10},
                        "day_offset": {"type": "integer", "minimum": 0, "maximum": 1}
                    },
                    "required": ["title", "day_offset"]
                }}
            },
            "required": ["summary", "tasks"]
        })
    }

    fn unfenced(text: &str) -> &str {
        let text = text.trim();
        let Some(rest) = text.strip_prefix("```") else { return text };
        let body = rest.split_once('\n').map_or("", |(_, body)| body);
        body.trim_end().strip_suffix("```").unwrap_or(body).trim()
    }

    #[test]
    fn answers_fit_the_schema_and_replay_from_their_seed() {
        let mut edges = (false, false);
        for seed in 0..400 {
            let text = answer(&schema(), &mut StdRng::seed_from_u64(seed));
            assert_eq!(text, answer(&schema(), &mut StdRng::seed_from_u64(seed)), "seed {seed} replays");
            let value: Value = serde_json::from_str(unfenced(&text)).unwrap();
            let summary = value["summary"].as_str().unwrap();
            assert!((1..=50).contains(&summary.chars().count()), "seed {seed}: {summary:?}");
            let tasks = value["tasks"].as_array().unwrap();
            assert!((1..=4).contains(&tasks.len()), "seed {seed}");
            for task in tasks {
                let day = task["day_offset"].as_i64().unwrap();
                assert!((0..=1).contains(&day), "seed {seed}");
                assert!((1..=10).contains(&task["title"].as_str().unwrap().chars().count()));
            }
            edges.0 |= tasks.len() == 4;
            edges.1 |= text.contains("\\u0000");
        }
        assert!(edges.0 && edges.1, "the maximum item count and U+0000 both occur: {edges:?}");
    }
}
