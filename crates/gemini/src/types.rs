//! Request and response types for the v1beta `generativelanguage` REST API.
//!
//! Field names follow the wire format (camelCase JSON). Every response type ignores fields it does
//! not know, and every enum keeps values it does not know in an `Unknown` variant, so a new field
//! or enum value from Google never turns into a decode error.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Declares a string-valued wire enum with an `Unknown(String)` fallback.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version of the crate does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The value exactly as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Ok(Self::from(value.as_str()))
            }
        }
    };
}
/// Lets other modules (`tools`, `embed`) declare wire enums the same way.
pub(crate) use wire_enum;

wire_enum! {
    /// Who produced a [`Content`]: the person (`user`) or the model (`model`).
    Role {
        /// The person talking to the model.
        User = "user",
        /// The model.
        Model = "model",
    }
}

wire_enum! {
    /// Why the model stopped generating a candidate (`Candidate.finishReason`).
    FinishReason {
        /// Not specified.
        Unspecified = "FINISH_REASON_UNSPECIFIED",
        /// A natural stop or a stop sequence.
        Stop = "STOP",
        /// `maxOutputTokens` was reached; the answer is cut off.
        MaxTokens = "MAX_TOKENS",
        /// Stopped by the safety filters.
        Safety = "SAFETY",
        /// Stopped because the output recited training data.
        Recitation = "RECITATION",
        /// Stopped because of an unsupported language.
        Language = "LANGUAGE",
        /// Some other reason.
        Other = "OTHER",
        /// The output contained a blocklisted term.
        Blocklist = "BLOCKLIST",
        /// The output may contain prohibited content.
        ProhibitedContent = "PROHIBITED_CONTENT",
        /// The output may contain sensitive personal information.
        Spii = "SPII",
        /// The model produced an invalid function call.
        MalformedFunctionCall = "MALFORMED_FUNCTION_CALL",
        /// A generated image was stopped by the safety filters.
        ImageSafety = "IMAGE_SAFETY",
    }
}

impl FinishReason {
    /// True for the reasons that mean "the output was withheld by a safety or policy filter":
    /// `SAFETY`, `PROHIBITED_CONTENT`, `BLOCKLIST`, `SPII`, `RECITATION` and `IMAGE_SAFETY`.
    pub fn is_blocked(&self) -> bool {
        matches!(
            self,
            Self::Safety
                | Self::ProhibitedContent
                | Self::Blocklist
                | Self::Spii
                | Self::Recitation
                | Self::ImageSafety
        )
    }
}

wire_enum! {
    /// Why the prompt itself was blocked (`promptFeedback.blockReason`).
    BlockReason {
        /// Not specified.
        Unspecified = "BLOCK_REASON_UNSPECIFIED",
        /// Blocked by the safety settings.
        Safety = "SAFETY",
        /// Blocked for an uncategorised reason.
        Other = "OTHER",
        /// The prompt contained a blocklisted term.
        Blocklist = "BLOCKLIST",
        /// The prompt contained prohibited content.
        ProhibitedContent = "PROHIBITED_CONTENT",
        /// An image in the prompt was blocked.
        ImageSafety = "IMAGE_SAFETY",
    }
}

wire_enum! {
    /// A safety category used in [`SafetySetting`] and [`SafetyRating`].
    HarmCategory {
        /// Not specified.
        Unspecified = "HARM_CATEGORY_UNSPECIFIED",
        /// Harassment.
        Harassment = "HARM_CATEGORY_HARASSMENT",
        /// Hate speech.
        HateSpeech = "HARM_CATEGORY_HATE_SPEECH",
        /// Sexually explicit content.
        SexuallyExplicit = "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        /// Dangerous content.
        DangerousContent = "HARM_CATEGORY_DANGEROUS_CONTENT",
        /// Content that may harm civic integrity.
        CivicIntegrity = "HARM_CATEGORY_CIVIC_INTEGRITY",
    }
}

wire_enum! {
    /// The blocking threshold of a [`SafetySetting`].
    HarmBlockThreshold {
        /// Not specified.
        Unspecified = "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
        /// Block when the probability is low, medium or high.
        BlockLowAndAbove = "BLOCK_LOW_AND_ABOVE",
        /// Block when the probability is medium or high.
        BlockMediumAndAbove = "BLOCK_MEDIUM_AND_ABOVE",
        /// Block only when the probability is high.
        BlockOnlyHigh = "BLOCK_ONLY_HIGH",
        /// Never block, but still report ratings.
        BlockNone = "BLOCK_NONE",
        /// Turn the filter off.
        Off = "OFF",
    }
}

wire_enum! {
    /// How likely a piece of content is to be harmful, as rated by Gemini.
    HarmProbability {
        /// Not specified.
        Unspecified = "HARM_PROBABILITY_UNSPECIFIED",
        /// Negligible.
        Negligible = "NEGLIGIBLE",
        /// Low.
        Low = "LOW",
        /// Medium.
        Medium = "MEDIUM",
        /// High.
        High = "HIGH",
    }
}

/// Raw bytes sent inline in a [`Part`] (`inlineData`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Blob {
    /// IANA media type, e.g. `image/png`.
    pub mime_type: String,
    /// The bytes, base64-encoded.
    pub data: String,
}

/// A reference to an uploaded file in a [`Part`] (`fileData`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct FileData {
    /// IANA media type of the file, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// The file's URI, as returned by the Files API.
    pub file_uri: String,
}

/// One piece of a [`Content`]: text, inline data, a file reference, a function call or response,
/// or a kind this crate does not model (code execution, ...), which is kept in [`Part::extra`] so
/// a model turn can be sent back unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Part {
    /// Text, if this is a text part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// True when this part is the model's thinking rather than its answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub thought: bool,
    /// Opaque signature of the model's thinking; send it back unchanged in multi-turn chats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
    /// Inline bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<Blob>,
    /// A reference to an uploaded file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_data: Option<FileData>,
    /// A call the model asks you to run (see [`crate::FunctionCall`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_call: Option<crate::FunctionCall>,
    /// The result of a call, sent back to the model (see [`crate::FunctionResponse`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_response: Option<crate::FunctionResponse>,
    /// Every other field of the part, verbatim (e.g. `executableCode`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self { text: Some(text.into()), ..Self::default() }
    }

    /// An inline-data part from base64-encoded bytes.
    pub fn inline_data(mime_type: impl Into<String>, base64_data: impl Into<String>) -> Self {
        Self {
            inline_data: Some(Blob { mime_type: mime_type.into(), data: base64_data.into() }),
            ..Self::default()
        }
    }

    /// A part referring to a file uploaded through the Files API.
    pub fn file_data(mime_type: impl Into<String>, file_uri: impl Into<String>) -> Self {
        Self {
            file_data: Some(FileData { mime_type: Some(mime_type.into()), file_uri: file_uri.into() }),
            ..Self::default()
        }
    }

    /// The text of this part, if it is a text part (thought or not).
    pub fn as_text(&self) -> Option<&str> {
        self.text.as_deref()
    }
}

/// A message: a role and a list of parts (`Content`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Content {
    /// Who wrote it; omitted for a system instruction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The pieces of the message, in order.
    pub parts: Vec<Part>,
}

impl Content {
    /// A message with the given role and parts.
    pub fn new(role: Role, parts: Vec<Part>) -> Self {
        Self { role: Some(role), parts }
    }

    /// A user message holding one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, vec![Part::text(text)])
    }

    /// A model message holding one text part (for replaying chat history).
    pub fn model(text: impl Into<String>) -> Self {
        Self::new(Role::Model, vec![Part::text(text)])
    }

    /// A role-less content holding one text part, as used for `systemInstruction`.
    pub fn system(text: impl Into<String>) -> Self {
        Self { role: None, parts: vec![Part::text(text)] }
    }

    /// The non-thought text parts joined together.
    pub fn text(&self) -> String {
        self.parts.iter().filter(|part| !part.thought).filter_map(Part::as_text).collect()
    }
}

/// One safety filter setting (`SafetySetting`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SafetySetting {
    /// The category this setting applies to.
    pub category: HarmCategory,
    /// The threshold at which content is blocked.
    pub threshold: HarmBlockThreshold,
}

impl SafetySetting {
    /// A setting for one category.
    pub fn new(category: HarmCategory, threshold: HarmBlockThreshold) -> Self {
        Self { category, threshold }
    }
}

wire_enum! {
    /// How much a Gemini 3 model thinks before answering (`ThinkingConfig.thinkingLevel`).
    /// Flash models accept all four; Pro models only `low` and `high`.
    ThinkingLevel {
        /// As little thinking as the model allows (Flash only); the closest to "off".
        Minimal = "minimal",
        /// Little thinking: lower latency and cost, for simple tasks.
        Low = "low",
        /// Balanced (Flash only).
        Medium = "medium",
        /// The deepest reasoning; the Gemini 3 default.
        High = "high",
    }
}

/// Thinking options for models that think (`ThinkingConfig`).
///
/// Gemini 3 models take a [`ThinkingLevel`], Gemini 2.5 models a token budget; a request that
/// carries both is refused with a 400. The constructors and setters here therefore keep at most
/// one of the two: setting one clears the other.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ThinkingConfig {
    /// Token budget for thinking (Gemini 2.5): `0` turns thinking off (where the model allows
    /// it), `-1` lets the model decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<i32>,
    /// Thinking level (Gemini 3 and later).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<ThinkingLevel>,
    /// Whether thought summaries are returned as parts with `thought: true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
}

impl ThinkingConfig {
    /// `thinkingLevel` only, for Gemini 3 models.
    pub fn level(level: ThinkingLevel) -> Self {
        Self::default().with_thinking_level(level)
    }

    /// `thinkingBudget` only, for Gemini 2.5 models.
    pub fn budget(tokens: i32) -> Self {
        Self::default().with_thinking_budget(tokens)
    }

    /// Sets `thinkingBudget` and clears `thinkingLevel` (never both).
    pub fn with_thinking_budget(mut self, tokens: i32) -> Self {
        self.thinking_budget = Some(tokens);
        self.thinking_level = None;
        self
    }

    /// Sets `thinkingLevel` and clears `thinkingBudget` (never both).
    pub fn with_thinking_level(mut self, level: ThinkingLevel) -> Self {
        self.thinking_level = Some(level);
        self.thinking_budget = None;
        self
    }

    /// Sets `includeThoughts`.
    pub fn with_include_thoughts(mut self, include: bool) -> Self {
        self.include_thoughts = Some(include);
        self
    }
}

/// Sampling and output options (`GenerationConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct GenerationConfig {
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling probability mass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Top-k sampling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Number of candidates to generate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate_count: Option<u32>,
    /// Maximum number of output tokens (thinking tokens count against it on thinking models).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Sequences that stop generation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    /// Output media type, e.g. `application/json` for structured output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<String>,
    /// Output schema in Gemini's OpenAPI-subset `Schema` format. Exclusive with
    /// `response_json_schema`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_schema: Option<Value>,
    /// Output schema as JSON Schema. Exclusive with `response_schema`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_json_schema: Option<Value>,
    /// Thinking options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_config: Option<ThinkingConfig>,
}

impl GenerationConfig {
    /// Sets `temperature`.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets `topP`.
    pub fn with_top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// Sets `topK`.
    pub fn with_top_k(mut self, top_k: u32) -> Self {
        self.top_k = Some(top_k);
        self
    }

    /// Sets `candidateCount`.
    pub fn with_candidate_count(mut self, count: u32) -> Self {
        self.candidate_count = Some(count);
        self
    }

    /// Sets `maxOutputTokens`.
    pub fn with_max_output_tokens(mut self, tokens: u32) -> Self {
        self.max_output_tokens = Some(tokens);
        self
    }

    /// Sets `stopSequences`.
    pub fn with_stop_sequences(mut self, sequences: Vec<String>) -> Self {
        self.stop_sequences = sequences;
        self
    }

    /// Sets `responseMimeType`.
    pub fn with_response_mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.response_mime_type = Some(mime_type.into());
        self
    }

    /// Sets `responseSchema` (Gemini `Schema` format) and clears `responseJsonSchema`.
    pub fn with_response_schema(mut self, schema: Value) -> Self {
        self.response_schema = Some(schema);
        self.response_json_schema = None;
        self
    }

    /// Sets `responseJsonSchema` (JSON Schema) and clears `responseSchema`.
    pub fn with_response_json_schema(mut self, schema: Value) -> Self {
        self.response_json_schema = Some(schema);
        self.response_schema = None;
        self
    }

    /// Sets `thinkingConfig`.
    pub fn with_thinking_config(mut self, thinking: ThinkingConfig) -> Self {
        self.thinking_config = Some(thinking);
        self
    }
}

/// The body of `models.generateContent` and `models.streamGenerateContent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct GenerateContentRequest {
    /// The conversation so far, oldest first; the last entry is usually the user's message.
    pub contents: Vec<Content>,
    /// Instructions the model follows for the whole conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content>,
    /// Sampling and output options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_config: Option<GenerationConfig>,
    /// Safety filter settings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub safety_settings: Vec<SafetySetting>,
    /// Tools (function declarations) the model may call; see [`crate::Tool`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<crate::Tool>,
    /// How the model may use `tools`; see [`crate::ToolConfig`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<crate::ToolConfig>,
}

impl GenerateContentRequest {
    /// A request with the given conversation.
    pub fn new(contents: Vec<Content>) -> Self {
        Self { contents, ..Self::default() }
    }

    /// A request holding a single user message.
    pub fn from_text(prompt: impl Into<String>) -> Self {
        Self::new(vec![Content::user(prompt)])
    }

    /// Appends a message to the conversation.
    pub fn with_content(mut self, content: Content) -> Self {
        self.contents.push(content);
        self
    }

    /// Sets `systemInstruction` to a single text part.
    pub fn with_system_instruction(mut self, instruction: impl Into<String>) -> Self {
        self.system_instruction = Some(Content::system(instruction));
        self
    }

    /// Sets `generationConfig`.
    pub fn with_generation_config(mut self, config: GenerationConfig) -> Self {
        self.generation_config = Some(config);
        self
    }

    /// Adds one safety setting.
    pub fn with_safety_setting(mut self, setting: SafetySetting) -> Self {
        self.safety_settings.push(setting);
        self
    }
}

/// A safety rating of a prompt or candidate (`SafetyRating`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SafetyRating {
    /// The category rated.
    pub category: HarmCategory,
    /// How likely the content is to be harmful in that category.
    pub probability: HarmProbability,
    /// Whether this rating caused the content to be blocked.
    #[serde(default)]
    pub blocked: bool,
}

/// One generated answer (`Candidate`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Candidate {
    /// The generated content; absent when a filter removed it, and in some stream chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Why generation stopped; absent on intermediate stream chunks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Safety ratings of this candidate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub safety_ratings: Vec<SafetyRating>,
    /// Index of this candidate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

impl Candidate {
    /// The non-thought text parts joined together (empty when there is no content).
    pub fn text(&self) -> String {
        self.content.as_ref().map(Content::text).unwrap_or_default()
    }
}

/// Feedback about the prompt (`promptFeedback`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct PromptFeedback {
    /// Set when the prompt was blocked; then there are no candidates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_reason: Option<BlockReason>,
    /// Safety ratings of the prompt.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub safety_ratings: Vec<SafetyRating>,
}

/// Token accounting for a call (`usageMetadata`). Missing counts are 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct UsageMetadata {
    /// Tokens in the prompt (including cached content).
    pub prompt_token_count: u32,
    /// Tokens across all generated candidates.
    pub candidates_token_count: u32,
    /// Tokens spent thinking.
    pub thoughts_token_count: u32,
    /// Tokens served from the context cache.
    pub cached_content_token_count: u32,
    /// Total tokens billed for the call.
    pub total_token_count: u32,
}

/// The response of `models.generateContent`, and each chunk of `models.streamGenerateContent`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct GenerateContentResponse {
    /// The generated candidates (usually one); empty when the prompt was blocked and in
    /// usage-only stream chunks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// Feedback about the prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt_feedback: Option<PromptFeedback>,
    /// Token accounting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_metadata: Option<UsageMetadata>,
    /// The exact model version that answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// Google's id for this response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
}

impl GenerateContentResponse {
    /// The non-thought text parts of the first candidate joined together; empty when there is
    /// no candidate or no text.
    pub fn text(&self) -> String {
        self.candidates.first().map(Candidate::text).unwrap_or_default()
    }

    /// The thought-summary text parts of the first candidate joined together.
    pub fn thoughts(&self) -> String {
        self.candidates
            .first()
            .and_then(|candidate| candidate.content.as_ref())
            .map(|content| {
                content.parts.iter().filter(|part| part.thought).filter_map(Part::as_text).collect()
            })
            .unwrap_or_default()
    }

    /// The finish reason of the first candidate, if any.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.candidates.first()?.finish_reason.as_ref()
    }

    /// The prompt's block reason, if the prompt was blocked.
    pub fn block_reason(&self) -> Option<&BlockReason> {
        self.prompt_feedback.as_ref()?.block_reason.as_ref()
    }
}

/// The body of `models.countTokens`: either bare contents, or a whole generate request (which
/// also counts the system instruction).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CountTokensRequest {
    /// Contents to count, used when `generate_content_request` is `None`.
    pub contents: Vec<Content>,
    /// A full request to count; the client fills in its `model` field.
    pub generate_content_request: Option<GenerateContentRequest>,
}

impl CountTokensRequest {
    /// Counts the given contents.
    pub fn from_contents(contents: Vec<Content>) -> Self {
        Self { contents, generate_content_request: None }
    }

    /// Counts everything a generate request would send, system instruction included.
    pub fn from_request(request: GenerateContentRequest) -> Self {
        Self { contents: Vec::new(), generate_content_request: Some(request) }
    }
}

impl From<GenerateContentRequest> for CountTokensRequest {
    fn from(request: GenerateContentRequest) -> Self {
        Self::from_request(request)
    }
}

/// Token count of one modality (`ModalityTokenCount`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ModalityTokenCount {
    /// `TEXT`, `IMAGE`, `AUDIO`, `VIDEO`, ...
    pub modality: String,
    /// Tokens of that modality.
    pub token_count: u32,
}

/// The response of `models.countTokens`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct CountTokensResponse {
    /// Tokens the prompt is split into.
    pub total_tokens: u32,
    /// Tokens of the prompt served from the context cache.
    pub cached_content_token_count: u32,
    /// Per-modality breakdown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prompt_tokens_details: Vec<ModalityTokenCount>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thinking_level_and_budget_are_never_sent_together() {
        let configs = [
            ThinkingConfig::level(ThinkingLevel::Low),
            ThinkingConfig::budget(0),
            ThinkingConfig::budget(1024).with_thinking_level(ThinkingLevel::Minimal),
            ThinkingConfig::level(ThinkingLevel::High).with_thinking_budget(-1),
            ThinkingConfig::level(ThinkingLevel::Medium).with_include_thoughts(true),
        ];
        for config in configs {
            let wire = serde_json::to_value(GenerationConfig::default().with_thinking_config(config))
                .unwrap_or_default();
            let thinking = &wire["thinkingConfig"];
            assert!(
                thinking.get("thinkingLevel").is_some() != thinking.get("thinkingBudget").is_some(),
                "exactly one of level and budget: {wire}"
            );
        }
        let wire = serde_json::to_value(ThinkingConfig::level(ThinkingLevel::Minimal)).unwrap_or_default();
        assert_eq!(wire, json!({"thinkingLevel": "minimal"}));
        let wire = serde_json::to_value(ThinkingConfig::budget(0)).unwrap_or_default();
        assert_eq!(wire, json!({"thinkingBudget": 0}));
    }

    #[test]
    fn model_metadata_decodes_from_models_get() {
        let model: Model = serde_json::from_value(json!({
            "name": "models/gemini-3.5-flash",
            "baseModelId": "gemini-3.5-flash",
            "version": "3.5",
            "displayName": "Gemini 3.5 Flash",
            "inputTokenLimit": 1048576,
            "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens"],
            "temperature": 1.0,
            "thinking": true,
            "somethingNew": {"a": 1}
        }))
        .unwrap_or_default();
        assert_eq!(model.name, "models/gemini-3.5-flash");
        assert_eq!(model.output_token_limit, 65536);
        assert!(model.thinking);
        assert_eq!(model.supported_generation_methods.len(), 2);
    }

    #[test]
    fn request_serialises_to_camel_case_and_skips_empty_fields() {
        let request = GenerateContentRequest::from_text("hi")
            .with_system_instruction("be brief")
            .with_generation_config(
                GenerationConfig::default()
                    .with_temperature(0.5)
                    .with_max_output_tokens(64)
                    .with_thinking_config(
                        ThinkingConfig::default().with_thinking_budget(0).with_include_thoughts(false),
                    ),
            )
            .with_safety_setting(SafetySetting::new(
                HarmCategory::Harassment,
                HarmBlockThreshold::BlockOnlyHigh,
            ));
        let value = serde_json::to_value(&request).unwrap();
        assert_eq!(
            value,
            json!({
                "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                "systemInstruction": {"parts": [{"text": "be brief"}]},
                "generationConfig": {
                    "temperature": 0.5,
                    "maxOutputTokens": 64,
                    "thinkingConfig": {"thinkingBudget": 0, "includeThoughts": false}
                },
                "safetySettings": [
                    {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
                ]
            })
        );
    }

    #[test]
    fn unknown_enum_values_and_part_kinds_survive_a_round_trip() {
        let raw = json!({
            "candidates": [{
                "content": {"role": "model", "parts": [
                    {"executableCode": {"language": "PYTHON", "code": "print(1)"}},
                    {"text": "ok"}
                ]},
                "finishReason": "SOMETHING_NEW"
            }]
        });
        let response: GenerateContentResponse = serde_json::from_value(raw).unwrap();
        assert_eq!(response.finish_reason(), Some(&FinishReason::Unknown("SOMETHING_NEW".into())));
        let parts = &response.candidates[0].content.as_ref().unwrap().parts;
        assert!(parts[0].extra.contains_key("executableCode"));
        let back = serde_json::to_value(&response.candidates[0].content).unwrap();
        assert_eq!(back["parts"][0]["executableCode"]["code"], "print(1)");
    }

    #[test]
    fn text_skips_thoughts_and_joins_fragments() {
        let mut thought = Part::text("thinking...");
        thought.thought = true;
        let content = Content::new(Role::Model, vec![thought, Part::text("Hello, "), Part::text("world")]);
        let response = GenerateContentResponse {
            candidates: vec![Candidate { content: Some(content), ..Candidate::default() }],
            ..GenerateContentResponse::default()
        };
        assert_eq!(response.text(), "Hello, world");
        assert_eq!(response.thoughts(), "thinking...");
    }
}

/// A model's metadata, as `models.get` returns it (`Model`). Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Model {
    /// Resource name, `models/{model}`.
    pub name: String,
    /// The base model's id, e.g. `gemini-3.5-flash`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub base_model_id: String,
    /// Version, e.g. `3.5`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Human-readable name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// Short description.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Most input tokens a request may have.
    pub input_token_limit: u32,
    /// Most output tokens a response may have.
    pub output_token_limit: u32,
    /// Methods the model supports, e.g. `generateContent`, `countTokens`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supported_generation_methods: Vec<String>,
    /// Whether the model thinks.
    pub thinking: bool,
}
