//! The fake's embedding routes (`embedContent`, `batchEmbedContents`) and the deterministic
//! vectors they return, built so that related texts are close and retrieval tests mean
//! something.
//!
//! How a text becomes a vector ([`fake_embedding`]):
//! 1. lower-case it and split it into words at anything that is not a letter or digit;
//! 2. stem each word crudely: plural `-s`/`-es`/`-ies`, then `-ing` and `-ed` (undoubling a final
//!    consonant, so `running` → `run`, `booked` → `book`);
//! 3. map words and two- or three-word phrases through [`SYNONYM_GROUPS`] to the first entry of
//!    their group (`sports centre`, `fitness` → `gym`; `sunday` → `weekend`; `opening hours` →
//!    `open`), longest phrase first;
//! 4. drop stop words (`the`, `can`, `when`, ...), unless nothing else is left;
//! 5. hash each canonical word (weight 1) and each pair of neighbours (weight ½) with FNV-1a
//!    into one of `outputDimensionality` buckets, with a sign from the hash;
//! 6. scale to unit length.
//!
//! So texts sharing meaning-bearing words or synonyms have a clearly positive cosine, and
//! unrelated texts are near 0. `taskType` is accepted and does not change the vector; a `title`
//! counts as part of the text. Like `gemini-embedding-001`, the answer has 3072 values by
//! default and, below 3072, is not unit length (it is scaled by √(n/3072), roughly what truncating
//! a unit vector gives), so clients must normalise; `gemini-embedding-2` answers unit vectors at
//! every size.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

use super::Fault;
use super::fault::google_error;

/// `models.embedContent`.
pub(super) const EMBED: &str = "embedContent";
/// `models.batchEmbedContents`.
pub(super) const BATCH_EMBED: &str = "batchEmbedContents";

/// Embedding models the fake serves (`embedContent`, `batchEmbedContents`, `models.get`).
pub const EMBEDDING_MODELS: [&str; 2] = ["gemini-embedding-001", "gemini-embedding-2"];

/// Values per embedding when the request sets no `outputDimensionality` (Google's default).
pub const DEFAULT_DIMENSIONS: usize = 3072;

/// Most requests one `batchEmbedContents` call may hold; more is a 400, as at Google.
pub const MAX_BATCH: usize = 100;

/// Words and phrases the fake treats as meaning the same thing; each maps to its group's first
/// entry. Entries go through the same lower-casing and stemming as the text, so list plain forms.
pub const SYNONYM_GROUPS: &[&[&str]] = &[
    &["gym", "fitness", "sports centre", "sports center", "leisure centre", "leisure center", "workout"],
    &["exercise", "training", "work out", "physical activity"],
    &["open", "opening hours", "opening times", "hours of operation", "available", "availability"],
    &["closed", "shut", "closure", "closing"],
    &["weekend", "saturday", "sunday", "sat", "sun"],
    &["weekday", "monday", "tuesday", "wednesday", "thursday", "friday", "workday", "working day"],
    &["doctor", "gp", "physician", "clinic", "medical", "surgery", "general practitioner"],
    &["dentist", "dental", "orthodontist", "teeth", "tooth"],
    &["appointment", "booking", "reservation", "slot", "check up", "checkup"],
    &["meeting", "standup", "sync", "catch up", "one on one", "1:1"],
    &["deadline", "due", "due date", "cutoff"],
    &["task", "todo", "chore", "errand", "action item"],
    &["plan", "schedule", "agenda", "timetable", "calendar", "roadmap"],
    &["study", "learn", "revise", "revision", "course", "lesson", "tutorial", "class"],
    &["exam", "test", "quiz", "assessment", "midterm", "final exam"],
    &["work", "job", "office", "shift", "workplace"],
    &["travel", "trip", "journey", "flight", "railway", "commute"],
    &["holiday", "vacation", "leave", "time off", "day off", "break"],
    &["shop", "store", "supermarket", "grocery", "market"],
    &["buy", "purchase", "order", "pick up"],
    &["meal", "food", "lunch", "dinner", "breakfast", "eat"],
    &["cook", "recipe", "bake", "meal prep"],
    &["run", "jog", "jogging", "running"],
    &["swim", "pool", "swimming", "lane"],
    &["yoga", "pilates", "stretch", "stretching", "mobility"],
    &["sleep", "rest", "nap", "bedtime", "bed"],
    &["morning", "early", "dawn", "sunrise"],
    &["evening", "night", "late", "tonight"],
    &["price", "cost", "fee", "membership", "subscription", "charge"],
    &["cancel", "cancellation", "refund", "reschedule"],
    &["email", "mail", "inbox", "message", "reply"],
    &["phone", "call", "ring", "mobile", "telephone"],
    &["child", "kid", "son", "daughter", "school run"],
    &["school", "university", "college", "campus", "lecture"],
    &["library", "reading", "read", "novel"],
    &["car", "drive", "vehicle", "parking", "garage"],
    &["bill", "invoice", "payment", "pay", "rent"],
    &["budget", "bank", "finance", "money", "savings", "expense"],
    &["birthday", "party", "celebration", "anniversary"],
    &["project", "milestone", "sprint", "deliverable"],
    &["code", "program", "programming", "software", "develop", "developer", "api"],
    &["write", "draft", "essay", "report", "document"],
    &["clean", "tidy", "laundry", "housework", "vacuum"],
    &["pet", "dog", "cat", "vet", "veterinarian"],
    &["health", "wellbeing", "wellness", "healthy"],
    &["location", "address", "directions", "venue", "place"],
];

/// Words that carry little meaning, dropped unless a text has nothing else.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "before",
    "but", "by", "can", "could", "did", "do", "doe", "for", "from", "get", "had", "has", "have", "how", "i",
    "if", "in", "into", "is", "it", "its", "just", "me", "my", "no", "not", "of", "on", "or", "our",
    "please", "should", "so", "some", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "to", "up", "was", "we", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "would", "you", "your",
];

/// Longest phrase in [`SYNONYM_GROUPS`], in words.
const MAX_PHRASE_WORDS: usize = 3;

/// Stemmed word or phrase (words joined by a space) → its group's canonical stemmed form.
static CANONICAL: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for group in SYNONYM_GROUPS {
        let Some(first) = group.first() else { continue };
        let canonical = words(first).join(" ");
        for entry in *group {
            map.entry(words(entry).join(" ")).or_insert_with(|| canonical.clone());
        }
    }
    map
});

/// The fake's embedding of `text` with `dimensions` values, unit length (empty for 0
/// dimensions). Deterministic: the same text always gives the same vector.
pub fn fake_embedding(text: &str, dimensions: usize) -> Vec<f32> {
    if dimensions == 0 {
        return Vec::new();
    }
    let mut vector = vec![0.0_f64; dimensions];
    let terms = canonical_terms(text);
    let features = terms
        .iter()
        .map(|term| (format!("w:{term}"), 1.0))
        .chain(terms.windows(2).map(|pair| (format!("b:{} {}", pair[0], pair[1]), 0.5)));
    for (feature, weight) in features {
        let hash = fnv1a(feature.as_bytes());
        // The modulo is below `dimensions`, so it fits in usize.
        let bucket = usize::try_from(hash % dimensions as u64).unwrap_or(0);
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[bucket] += sign * weight;
    }
    let norm = vector.iter().map(|value| value * value).sum::<f64>().sqrt();
    if norm == 0.0 {
        // No features (or all cancelled out): a fixed direction rather than a zero vector.
        vector[usize::try_from(fnv1a(b"<empty>") % dimensions as u64).unwrap_or(0)] = 1.0;
        return vector.iter().map(|value| *value as f32).collect();
    }
    vector.iter().map(|value| (value / norm) as f32).collect()
}

/// The canonical, meaning-bearing terms of `text`, in order (steps 1 to 4 of the module docs).
pub fn canonical_terms(text: &str) -> Vec<String> {
    let words = words(text);
    let mut terms = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let longest = MAX_PHRASE_WORDS.min(words.len() - index);
        let matched = (1..=longest).rev().find_map(|length| {
            let phrase = words[index..index + length].join(" ");
            CANONICAL.get(&phrase).map(|canonical| (length, canonical.clone()))
        });
        match matched {
            Some((length, canonical)) => {
                terms.push((canonical, false));
                index += length;
            }
            None => {
                let word = words[index].clone();
                let stop = STOP_WORDS.contains(&word.as_str());
                terms.push((word, stop));
                index += 1;
            }
        }
    }
    let meaningful: Vec<String> =
        terms.iter().filter(|(_, stop)| !stop).map(|(term, _)| term.clone()).collect();
    if meaningful.is_empty() { terms.into_iter().map(|(term, _)| term).collect() } else { meaningful }
}

/// Lower-cased, stemmed words.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| stem(&word.to_lowercase()))
        .collect()
}

/// A deliberately crude English stemmer: plurals, then `-ing` / `-ed`.
fn stem(word: &str) -> String {
    let length = word.chars().count();
    if length <= 3 || !word.is_ascii() {
        return word.to_owned();
    }
    let mut stem = if let Some(base) = word.strip_suffix("ies").filter(|_| length > 4) {
        format!("{base}y")
    } else if ["sses", "ches", "shes", "xes"].iter().any(|suffix| word.ends_with(suffix)) {
        word[..word.len() - 2].to_owned()
    } else if word.ends_with('s') && !["ss", "us", "is"].iter().any(|suffix| word.ends_with(suffix)) {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    };
    for (suffix, min_length) in [("ing", 6), ("ed", 5)] {
        if stem.len() >= min_length
            && let Some(base) = stem.strip_suffix(suffix)
        {
            stem = undouble(base);
            break;
        }
    }
    stem
}

/// `runn` → `run`, `plann` → `plan`; keeps `ll`, `ss`, `zz` (`call`, `miss`).
fn undouble(word: &str) -> String {
    let bytes = word.as_bytes();
    match bytes {
        [.., a, b] if a == b && !b"aeiouylsz".contains(b) => word[..word.len() - 1].to_owned(),
        _ => word.to_owned(),
    }
}

/// 64-bit FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// How an adversarial embedding answer misbehaves (one of these per answer, drawn from the
/// seed). All are valid JSON with finite numbers, as Google's answers are; only
/// [`EmbeddingMisbehaviour::OddNorm`] is still usable (after normalising).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbeddingMisbehaviour {
    /// One embedding has another number of values than asked for (one more, one fewer, or
    /// double).
    WrongSize,
    /// One embedding, or all, are all zeros (no direction).
    ZeroVector,
    /// The right direction, scaled to a tiny (1e-20) or huge (1e20) length.
    OddNorm,
    /// One value is beyond the f32 range (`1e39`), so it reads as infinity.
    HugeValue,
    /// One embedding fewer than asked for (for `embedContent`: no values at all).
    Fewer,
    /// One embedding more than asked for (for `embedContent`: one value more).
    More,
}

impl EmbeddingMisbehaviour {
    /// Every misbehaviour, in the order the seed picks from.
    pub const ALL: [Self; 6] =
        [Self::WrongSize, Self::ZeroVector, Self::OddNorm, Self::HugeValue, Self::Fewer, Self::More];
}

/// Answers `embedContent` or `batchEmbedContents` for `model` (already checked to be served);
/// in the adversarial embedding mode, a seeded misbehaving answer (logged in `state`).
pub(super) fn answer(
    model: &str,
    action: &str,
    body: &Value,
    fault: Option<&Fault>,
    state: &super::FakeState,
) -> HttpResponse {
    if let Some(response) = fault.and_then(Fault::error_response) {
        return response;
    }
    let adversarial = state.next_embedding_seed();
    let spoil = |embeddings: &mut Vec<Value>, seed: u64| {
        let kind = misbehave(embeddings, seed);
        super::lock(&state.embedding_misbehaviours).push(kind);
    };
    let result = if action == BATCH_EMBED {
        batch(model, body).map(|mut embeddings| {
            if let Some(seed) = adversarial {
                spoil(&mut embeddings, seed);
            }
            json!({ "embeddings": embeddings })
        })
    } else {
        embed_one(model, body, "EmbedContentRequest").map(|embedding| {
            let mut embeddings = vec![embedding];
            if let Some(seed) = adversarial {
                spoil(&mut embeddings, seed);
            }
            // `embedContent` holds exactly one embedding: "fewer" empties it, "more" grows it.
            let embedding = match embeddings.len() {
                0 => json!({ "values": [] }),
                1 => embeddings.remove(0),
                _ => {
                    let mut first = embeddings.remove(0);
                    if let Some(values) = first.get_mut("values").and_then(Value::as_array_mut) {
                        values.push(json!(0.5));
                    }
                    first
                }
            };
            json!({ "embedding": embedding })
        })
    };
    match result {
        Ok(_) if fault == Some(&Fault::MalformedJson) => HttpResponse::Ok()
            .content_type("application/json; charset=UTF-8")
            .body("{\"embedding\": {\"values\": [0.01"),
        Ok(answer) => {
            HttpResponse::Ok().content_type("application/json; charset=UTF-8").body(answer.to_string())
        }
        Err(message) => google_error(StatusCode::BAD_REQUEST, &message, "INVALID_ARGUMENT", None),
    }
}

/// Spoils `embeddings` (`{"values": [...]}` each) in one of the [`EmbeddingMisbehaviour`] ways
/// drawn from `seed`, and says which.
fn misbehave(embeddings: &mut Vec<Value>, seed: u64) -> EmbeddingMisbehaviour {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let kind = EmbeddingMisbehaviour::ALL[rng.gen_range(0..EmbeddingMisbehaviour::ALL.len())];
    if embeddings.is_empty() {
        return kind;
    }
    let victim = rng.gen_range(0..embeddings.len());
    let values_of = |embedding: &mut Value| -> Vec<f64> {
        embedding
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .collect()
    };
    match kind {
        EmbeddingMisbehaviour::WrongSize => {
            let mut values = values_of(&mut embeddings[victim]);
            match rng.gen_range(0..3) {
                0 => values.push(0.1),
                1 => {
                    values.pop();
                }
                _ => values.extend(values.clone()),
            }
            embeddings[victim] = json!({ "values": values });
        }
        EmbeddingMisbehaviour::ZeroVector => {
            let all = rng.gen_bool(0.5);
            for (index, embedding) in embeddings.iter_mut().enumerate() {
                if all || index == victim {
                    let zeros = vec![0.0; values_of(embedding).len()];
                    *embedding = json!({ "values": zeros });
                }
            }
        }
        EmbeddingMisbehaviour::OddNorm => {
            let scale = if rng.gen_bool(0.5) { 1e-20 } else { 1e20 };
            for embedding in embeddings.iter_mut() {
                let values: Vec<f64> = values_of(embedding).into_iter().map(|value| value * scale).collect();
                *embedding = json!({ "values": values });
            }
        }
        EmbeddingMisbehaviour::HugeValue => {
            let values = values_of(&mut embeddings[victim]);
            let at = rng.gen_range(0..values.len().max(1));
            let text: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(index, value)| if index == at { "1e39".to_owned() } else { value.to_string() })
                .collect();
            // serde_json keeps 1e39 as an f64; the client reads it into f32, where it overflows.
            embeddings[victim] = serde_json::from_str(&format!("{{\"values\": [{}]}}", text.join(",")))
                .unwrap_or_else(|_| json!({ "values": [] }));
        }
        EmbeddingMisbehaviour::Fewer => {
            embeddings.remove(victim);
        }
        EmbeddingMisbehaviour::More => {
            let extra = embeddings[victim].clone();
            embeddings.push(extra);
        }
    }
    kind
}

/// The embeddings of a batch, or the 400 message Google would send.
fn batch(model: &str, body: &Value) -> Result<Vec<Value>, String> {
    let requests = body.get("requests").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if requests.is_empty() {
        return Err("* BatchEmbedContentsRequest.requests: requests is not specified\n".to_owned());
    }
    if requests.len() > MAX_BATCH {
        return Err(format!(
            "* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests can be in one batch\n"
        ));
    }
    let resource = format!("models/{model}");
    requests
        .iter()
        .enumerate()
        .map(|(index, request)| {
            let field = format!("BatchEmbedContentsRequest.requests[{index}]");
            match request.get("model").and_then(Value::as_str) {
                Some(named) if named == resource || named == model => embed_one(model, request, &field),
                Some(named) => Err(format!(
                    "* {field}.model: the model of each request ({named}) must match the batch's model \
                     ({resource})\n"
                )),
                None => Err(format!("* {field}.model: model is not specified\n")),
            }
        })
        .collect()
}

/// One `ContentEmbedding` (`{"values": [...]}`), or the 400 message for a bad request.
fn embed_one(model: &str, request: &Value, field: &str) -> Result<Value, String> {
    let text = content_text(request.get("content").unwrap_or(&Value::Null));
    if text.trim().is_empty() {
        return Err(format!("* {field}.content: content is not specified\n"));
    }
    let dimensions =
        match request.get("outputDimensionality").or_else(|| request.get("output_dimensionality")) {
            None | Some(Value::Null) => DEFAULT_DIMENSIONS,
            Some(value) => match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
                Some(n) if (1..=DEFAULT_DIMENSIONS).contains(&n) => n,
                _ => {
                    return Err(format!(
                        "* {field}.output_dimensionality: must be between 1 and {DEFAULT_DIMENSIONS}, \
                     got {value}\n"
                    ));
                }
            },
        };
    let title = request.get("title").and_then(Value::as_str).unwrap_or_default();
    let mut values = fake_embedding(&format!("{title} {text}"), dimensions);
    if model == "gemini-embedding-001" && dimensions < DEFAULT_DIMENSIONS {
        // A truncated unit vector of 3072 values is about this long; Google leaves it unnormalised.
        let scale = (dimensions as f64 / DEFAULT_DIMENSIONS as f64).sqrt() as f32;
        values.iter_mut().for_each(|value| *value *= scale);
    }
    Ok(json!({ "values": values }))
}

/// The text parts of a `Content`, joined by spaces.
fn content_text(content: &Value) -> String {
    content
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|part| part.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `models.get` for an embedding model, as Google describes `gemini-embedding-001`.
pub(super) fn model_metadata(model: &str) -> Value {
    let (display, input_limit) = if model == "gemini-embedding-2" {
        ("Gemini Embedding 2", 8192)
    } else {
        ("Gemini Embedding 001", 2048)
    };
    json!({
        "name": format!("models/{model}"),
        "baseModelId": model,
        "version": if model == "gemini-embedding-2" { "2" } else { "001" },
        "displayName": display,
        "description": format!("{display} (fake): deterministic word-and-synonym hash embeddings"),
        "inputTokenLimit": input_limit,
        "outputTokenLimit": 1,
        "supportedGenerationMethods": ["embedContent", "batchEmbedContents"]
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use planwright_gemini::{
        Client, Config, ContentEmbedding, EmbedContentRequest, Error, RetryPolicy, cosine_similarity,
    };
    use reqwest::StatusCode;

    use super::super::{FakeGemini, Fault};
    use super::*;

    const QUESTION: &str = "When can I use the gym on Sunday?";
    const SPORTS_CENTRE: &str =
        "Sports centre opening hours: 7am to 10pm on weekdays, 9am to 6pm at weekends.";
    const UNRELATED: &str = "Dentist check-up on Tuesday at 3pm; bring the insurance card.";

    fn cosine(a: &str, b: &str) -> f32 {
        cosine_similarity(&fake_embedding(a, DEFAULT_DIMENSIONS), &fake_embedding(b, DEFAULT_DIMENSIONS))
            .unwrap_or(f32::NAN)
    }

    fn norm(values: &[f32]) -> f32 {
        values.iter().map(|value| value * value).sum::<f32>().sqrt()
    }

    fn embed_client(fake: &FakeGemini, embedding_model: &str) -> Client {
        let config = Config::new()
            .with_base_url(fake.base_url())
            .with_api_key(fake.api_key().to_owned())
            .with_embedding_model(embedding_model)
            .with_retry_policy(
                RetryPolicy::default()
                    .with_initial_backoff(Duration::from_millis(1))
                    .with_max_backoff(Duration::from_millis(5)),
            );
        Client::new(config).unwrap()
    }

    async fn post(fake: &FakeGemini, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/v1beta/models/{path}", fake.base_url()))
            .header("x-goog-api-key", fake.api_key())
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    fn text_request(text: &str) -> Value {
        json!({ "model": "models/gemini-embedding-001", "content": { "parts": [{ "text": text }] } })
    }

    #[test]
    fn the_gym_on_sunday_is_closer_to_sports_centre_hours_than_to_an_unrelated_text() {
        let related = cosine(QUESTION, SPORTS_CENTRE);
        let unrelated = cosine(QUESTION, UNRELATED);
        assert!(related > 0.3, "related texts should be clearly close: {related}");
        assert!(unrelated.abs() < 0.15, "unrelated texts should be near 0: {unrelated}");
        assert!(related > unrelated + 0.2, "{related} vs {unrelated}");
    }

    #[test]
    fn each_question_retrieves_its_own_document_from_a_small_corpus() {
        let corpus = [
            SPORTS_CENTRE,
            UNRELATED,
            "GP surgery: the physician sees patients without an appointment on Monday mornings.",
            "Essay deadline: the history report is due on Friday.",
            "Swimming pool lanes are reserved for lessons in the evening.",
            "Monthly budget: rent, bills and savings.",
        ];
        let questions = [
            ("Is the fitness centre open at the weekend?", 0),
            ("I need to see a dentist about my teeth", 1),
            ("When does the doctor see people?", 2),
            ("When do I have to hand in my essay?", 3),
            ("Can I swim tonight?", 4),
            ("How much money goes on paying the rent?", 5),
        ];
        for (question, expected) in questions {
            let scores: Vec<f32> = corpus.iter().map(|document| cosine(question, document)).collect();
            let best = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(index, _)| index);
            assert_eq!(best, Some(expected), "{question}: {scores:?}");
        }
    }

    #[test]
    fn words_are_stemmed_mapped_to_synonyms_and_stripped_of_stop_words() {
        assert_eq!(canonical_terms(QUESTION), ["use", "gym", "weekend"]);
        assert_eq!(canonical_terms("Sports Centre opening hours, weekends!"), ["gym", "open", "weekend"]);
        assert_eq!(canonical_terms("running and swimming classes"), ["run", "swim", "study"]);
        assert_eq!(canonical_terms("Booked the GP"), ["appointment", "doctor"]);
        assert_eq!(canonical_terms("the and of"), ["the", "and", "of"], "all stop words: keep them");
    }

    #[test]
    fn every_synonym_maps_to_the_first_entry_of_its_own_group() {
        for group in SYNONYM_GROUPS {
            let canonical = canonical_terms(group[0]).join(" ");
            for entry in *group {
                assert_eq!(canonical_terms(entry).join(" "), canonical, "{entry:?} in {group:?}");
            }
        }
    }

    #[test]
    fn embeddings_are_deterministic_unit_vectors_of_the_requested_size() {
        for dimensions in [1, 8, 768, DEFAULT_DIMENSIONS] {
            let vector = fake_embedding(SPORTS_CENTRE, dimensions);
            assert_eq!(vector.len(), dimensions);
            assert!((norm(&vector) - 1.0).abs() < 1e-4, "{dimensions}: {}", norm(&vector));
            assert_eq!(vector, fake_embedding(SPORTS_CENTRE, dimensions));
        }
        assert!(fake_embedding("x", 0).is_empty());
        assert!((norm(&fake_embedding("?!", 16)) - 1.0).abs() < 1e-6, "no words still gives a unit vector");
        assert_ne!(fake_embedding("gym", 64), fake_embedding("dentist", 64));
    }

    #[tokio::test]
    async fn the_client_embeds_with_google_sizes_and_normalisation() {
        let fake = FakeGemini::start().await;
        let client = embed_client(&fake, "gemini-embedding-001");

        let full = client.embed_content(EmbedContentRequest::query(QUESTION)).await.unwrap();
        let short = client
            .embed_content(EmbedContentRequest::query(QUESTION).with_output_dimensionality(768))
            .await
            .unwrap();
        let unit = client
            .for_model("gemini-3.5-pro")
            .embed_content(EmbedContentRequest::new(QUESTION).with_output_dimensionality(768))
            .await
            .unwrap();

        assert_eq!(full.dimensions(), DEFAULT_DIMENSIONS);
        assert!((norm(&full.values) - 1.0).abs() < 1e-4);
        assert_eq!(short.dimensions(), 768);
        assert!(
            (norm(&short.values) - 0.5).abs() < 1e-4,
            "truncated, not normalised: {}",
            norm(&short.values)
        );
        assert!((norm(&short.normalized()) - 1.0).abs() < 1e-4);
        assert_eq!(unit.values, short.values, "taskType and the generation model do not change it");
        let request = fake.last_request().unwrap();
        assert_eq!(request.path, "/v1beta/models/gemini-embedding-001:embedContent");
        assert_eq!(request.body["outputDimensionality"], 768);

        let v2 = embed_client(&fake, "gemini-embedding-2")
            .embed_content(EmbedContentRequest::new(QUESTION).with_output_dimensionality(768))
            .await
            .unwrap();
        assert!((norm(&v2.values) - 1.0).abs() < 1e-4, "gemini-embedding-2 normalises at every size");
        assert_eq!(fake.request_count(), 4);
    }

    #[tokio::test]
    async fn a_batch_over_the_fake_keeps_order_and_titles_count() {
        let fake = FakeGemini::start().await;
        let client = embed_client(&fake, "gemini-embedding-001");
        let texts: Vec<String> =
            (0..150).map(|index| format!("task number {index} for the project")).collect();

        let embeddings = client
            .batch_embed_contents(
                texts.iter().map(|text| EmbedContentRequest::document(text.as_str())).collect(),
            )
            .await
            .unwrap();

        assert_eq!(embeddings.len(), 150);
        let single = client.embed_content(EmbedContentRequest::new(texts[120].as_str())).await.unwrap();
        assert_eq!(embeddings[120], single, "the 121st answer belongs to the 121st text");
        assert_eq!(fake.request_count(), 3, "two batch calls (100 + 50), then one single call");

        let titled = client
            .batch_embed_contents(vec![
                EmbedContentRequest::document("7am to 10pm").with_title("Sports centre"),
            ])
            .await
            .unwrap();
        let query = ContentEmbedding::new(fake_embedding("sports centre", DEFAULT_DIMENSIONS));
        let untitled = ContentEmbedding::new(fake_embedding("7am to 10pm", DEFAULT_DIMENSIONS));
        let with_title = titled[0].cosine_similarity(&query).unwrap_or(0.0);
        assert!(with_title > untitled.cosine_similarity(&query).unwrap_or(0.0) + 0.3, "{with_title}");
    }

    #[tokio::test]
    async fn faults_and_retries_work_on_the_embedding_routes() {
        let fake = FakeGemini::start().await;
        let client = embed_client(&fake, "gemini-embedding-001");
        fake.push_many([Fault::Unavailable, Fault::RateLimited { retry_delay: Duration::from_millis(5) }]);

        let embedding = client.embed_content(EmbedContentRequest::new("gym")).await.unwrap();

        assert_eq!(embedding.dimensions(), DEFAULT_DIMENSIONS);
        let faults: Vec<_> = fake.requests().into_iter().map(|request| request.fault).collect();
        assert_eq!(
            faults,
            [
                Some(Fault::Unavailable),
                Some(Fault::RateLimited { retry_delay: Duration::from_millis(5) }),
                None
            ]
        );

        fake.push(Fault::DailyQuota);
        let error = client.batch_embed_contents(vec![EmbedContentRequest::new("gym")]).await.unwrap_err();
        assert!(matches!(error, Error::RateLimited { quota_per_day: true, .. }), "{error:?}");

        fake.push(Fault::MalformedJson);
        let error = client.embed_content(EmbedContentRequest::new("gym")).await.unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{error:?}");
        assert!(fake.pending_faults().is_empty());

        fake.set_latency(Duration::from_millis(60));
        let started = std::time::Instant::now();
        client.batch_embed_contents(vec![EmbedContentRequest::new("gym")]).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(60), "latency applies: {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn bad_embedding_requests_get_googles_errors() {
        let fake = FakeGemini::start().await;
        let content = json!({ "parts": [{ "text": "a" }] });
        let too_many: Vec<Value> = (0..=MAX_BATCH).map(|index| text_request(&format!("t{index}"))).collect();
        let cases = [
            (
                "gemini-embedding-001:batchEmbedContents",
                json!({ "requests": too_many }),
                "at most 100 requests",
            ),
            (
                "gemini-embedding-001:batchEmbedContents",
                json!({ "requests": [{ "model": "models/gemini-embedding-2", "content": content }] }),
                "must match",
            ),
            (
                "gemini-embedding-001:batchEmbedContents",
                json!({ "requests": [{ "content": { "parts": [{ "text": "a" }] } }] }),
                "model is not specified",
            ),
            (
                "gemini-embedding-001:embedContent",
                json!({ "content": { "parts": [{ "text": "a" }] }, "outputDimensionality": 0 }),
                "output_dimensionality",
            ),
            (
                "gemini-embedding-001:embedContent",
                json!({ "content": { "parts": [{ "text": "a" }] }, "outputDimensionality": 4096 }),
                "output_dimensionality",
            ),
            (
                "gemini-embedding-001:embedContent",
                json!({ "content": { "parts": [] } }),
                "content is not specified",
            ),
        ];
        for (path, body, message) in cases {
            let (status, answer) = post(&fake, path, &body).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
            assert_eq!(answer["error"]["status"], "INVALID_ARGUMENT");
            let text = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(text.contains(message), "{text:?} should contain {message:?}");
        }

        let one = json!({ "content": { "parts": [{ "text": "a" }] } });
        let (status, _) = post(&fake, "gemini-3.5-flash:embedContent", &one).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a generation model does not embed");
        let generate = json!({ "contents": [{ "role": "user", "parts": [{ "text": "a" }] }] });
        let (status, _) = post(&fake, "gemini-embedding-001:generateContent", &generate).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "an embedding model does not generate");
        fake.retire_model("gemini-embedding-2");
        let (status, _) = post(&fake, "gemini-embedding-2:embedContent", &one).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a retired embedding model is gone");
        let (status, answer) = post(&fake, "gemini-embedding-001:embedContent", &one).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer["embedding"]["values"].as_array().map(Vec::len), Some(DEFAULT_DIMENSIONS));
    }

    #[tokio::test]
    async fn models_get_describes_the_embedding_models() {
        let fake = FakeGemini::start().await;

        let model =
            embed_client(&fake, "unused").for_model("gemini-embedding-001").get_model().await.unwrap();

        assert_eq!(model.name, "models/gemini-embedding-001");
        assert_eq!(model.supported_generation_methods, ["embedContent", "batchEmbedContents"]);
        assert_eq!(model.input_token_limit, 2048);
    }
}
