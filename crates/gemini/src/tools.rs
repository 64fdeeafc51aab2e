//! Function calling: tools declared from Rust types, the model's `functionCall` parts, the
//! `functionResponse` parts sent back, and the tool config (`AUTO`/`ANY`/`NONE`).
//!
//! A round trip: send a request with [`GenerateContentRequest::with_tools`]; read
//! [`GenerateContentResponse::function_calls`]; run them; append the model's content *exactly as
//! received* (Gemini 3 refuses a `functionCall` part whose `thoughtSignature` is missing) and a
//! user content of [`Content::function_responses`]; send again.

use std::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
// `Deserializer`, `Serializer` and `fmt` are used by the `wire_enum!` expansion.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::schema::response_schema_for;
use crate::types::{Content, GenerateContentRequest, GenerateContentResponse, Part, Role, wire_enum};

/// A function the model may ask you to call (`FunctionDeclaration`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct FunctionDeclaration {
    /// The name the model calls it by: letters, digits, `_`, `.`, `:` and `-`, at most 128
    /// characters, starting with a letter or `_`.
    pub name: String,
    /// What the function does and when to use it; the model decides from this text.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Parameters in Gemini's OpenAPI-subset `Schema` format. Exclusive with
    /// `parameters_json_schema`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Parameters as JSON Schema (an object schema). Exclusive with `parameters`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters_json_schema: Option<Value>,
}

impl FunctionDeclaration {
    /// A declaration that takes no parameters.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self { name: name.into(), description: description.into(), ..Self::default() }
    }

    /// A declaration whose parameters are the fields of `T`, as JSON Schema
    /// (`parametersJsonSchema`, adjusted like [`response_schema_for`]). Doc comments on the
    /// fields become descriptions the model reads; read the call back with
    /// [`FunctionCall::args_as::<T>`](FunctionCall::args_as).
    pub fn from_type<T: JsonSchema>(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self::new(name, description).with_parameters_json_schema(response_schema_for::<T>())
    }

    /// Sets `parametersJsonSchema` and clears `parameters`.
    pub fn with_parameters_json_schema(mut self, schema: Value) -> Self {
        self.parameters_json_schema = Some(schema);
        self.parameters = None;
        self
    }

    /// Sets `parameters` (Gemini `Schema` format) and clears `parametersJsonSchema`.
    pub fn with_parameters(mut self, schema: Value) -> Self {
        self.parameters = Some(schema);
        self.parameters_json_schema = None;
        self
    }
}

/// A set of tools for a request (`Tool`): function declarations, and any other tool kind
/// (e.g. `{"googleSearch": {}}`) kept verbatim in [`Tool::extra`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Tool {
    /// The functions the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub function_declarations: Vec<FunctionDeclaration>,
    /// Every other field of the tool, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Tool {
    /// A tool holding these function declarations.
    pub fn functions(declarations: impl IntoIterator<Item = FunctionDeclaration>) -> Self {
        Self { function_declarations: declarations.into_iter().collect(), extra: Map::new() }
    }
}

wire_enum! {
    /// How the model may use the declared functions (`FunctionCallingConfig.mode`).
    FunctionCallingMode {
        /// Not specified; Google treats it as `AUTO`.
        Unspecified = "MODE_UNSPECIFIED",
        /// The model chooses between answering in text and calling functions (the default).
        Auto = "AUTO",
        /// The model must call at least one function (restricted to the allowed names, if given).
        Any = "ANY",
        /// The model must not call functions, as if none were declared.
        None = "NONE",
        /// Like `AUTO`, but calls are constrained to the declared schemas.
        Validated = "VALIDATED",
    }
}

/// The function-calling part of a [`ToolConfig`] (`FunctionCallingConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FunctionCallingConfig {
    /// The mode.
    pub mode: FunctionCallingMode,
    /// With `ANY` (or `VALIDATED`), the only functions the model may call; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_function_names: Vec<String>,
}

/// How the model may use the tools of a request (`ToolConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ToolConfig {
    /// Function-calling options.
    pub function_calling_config: FunctionCallingConfig,
}

impl ToolConfig {
    /// A config with the given mode and no name restriction.
    pub fn new(mode: FunctionCallingMode) -> Self {
        Self { function_calling_config: FunctionCallingConfig { mode, allowed_function_names: Vec::new() } }
    }

    /// `AUTO`: the model decides whether to call a function.
    pub fn auto() -> Self {
        Self::new(FunctionCallingMode::Auto)
    }

    /// `ANY`: the model must call a function.
    pub fn any() -> Self {
        Self::new(FunctionCallingMode::Any)
    }

    /// `NONE`: the model must not call functions.
    pub fn none() -> Self {
        Self::new(FunctionCallingMode::None)
    }

    /// `ANY`, restricted to the named functions.
    pub fn any_of<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        Self::any().with_allowed_function_names(names)
    }

    /// Sets `allowedFunctionNames` (Google accepts it only with `ANY` and `VALIDATED`).
    pub fn with_allowed_function_names<S: Into<String>>(
        mut self,
        names: impl IntoIterator<Item = S>,
    ) -> Self {
        self.function_calling_config.allowed_function_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// The mode.
    pub fn mode(&self) -> &FunctionCallingMode {
        &self.function_calling_config.mode
    }
}

/// A call the model asks you to make (`FunctionCall`), found in a [`Part::function_call`].
///
/// Send the model's content back unchanged after running it: on Gemini 3 the part carrying the
/// first call of a turn also carries a `thoughtSignature` ([`Part::thought_signature`]) that must
/// come back on that very part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct FunctionCall {
    /// The call's id, when the model gives one; echo it in the [`FunctionResponse`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The declared function's name.
    pub name: String,
    /// The arguments as a JSON object; absent when the model passed none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// Every other field of the call, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FunctionCall {
    /// A call of `name` with `args` (for building history or test fixtures).
    pub fn new(name: impl Into<String>, args: Value) -> Self {
        Self { id: None, name: name.into(), args: Some(args), extra: Map::new() }
    }

    /// Sets the call id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The arguments parsed as `T` (missing arguments parse as `{}`).
    ///
    /// # Errors
    /// [`Error::Decode`] holding the arguments' JSON text when they are not a valid `T`: the
    /// model may call a function with arguments that do not fit its declaration.
    pub fn args_as<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let args = self.args.clone().unwrap_or_else(|| json!({}));
        let body = args.to_string();
        serde_json::from_value(args).map_err(|source| Error::Decode { source, body })
    }
}

/// The result of a [`FunctionCall`], sent back to the model (`FunctionResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct FunctionResponse {
    /// The id of the call this answers, when the call had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name of the function that was called.
    pub name: String,
    /// The result as a JSON object; by convention `{"output": ...}` or `{"error": ...}`.
    pub response: Value,
    /// Every other field of the response, verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl FunctionResponse {
    /// The result of calling `name`. A `response` that is not a JSON object is wrapped as
    /// `{"output": response}`, because Gemini accepts only an object there.
    pub fn new(name: impl Into<String>, response: Value) -> Self {
        let response = if response.is_object() { response } else { json!({ "output": response }) };
        Self { id: None, name: name.into(), response, extra: Map::new() }
    }

    /// The result of `call`, carrying its name and id.
    pub fn for_call(call: &FunctionCall, response: Value) -> Self {
        let mut answer = Self::new(call.name.clone(), response);
        answer.id.clone_from(&call.id);
        answer
    }

    /// Sets the call id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

impl Part {
    /// A part holding a function call (for building history or test fixtures).
    pub fn function_call(call: FunctionCall) -> Self {
        Self { function_call: Some(call), ..Self::default() }
    }

    /// A part holding a function's result.
    pub fn function_response(response: FunctionResponse) -> Self {
        Self { function_response: Some(response), ..Self::default() }
    }

    /// Sets `thoughtSignature` (normally you only ever copy one from the model's own part).
    pub fn with_thought_signature(mut self, signature: impl Into<String>) -> Self {
        self.thought_signature = Some(signature.into());
        self
    }
}

impl Content {
    /// A `user` message holding one `functionResponse` part per result, in order.
    pub fn function_responses(responses: impl IntoIterator<Item = FunctionResponse>) -> Self {
        Self::new(Role::User, responses.into_iter().map(Part::function_response).collect())
    }

    /// The function calls in this content, in order.
    pub fn function_calls(&self) -> impl Iterator<Item = &FunctionCall> {
        self.parts.iter().filter_map(|part| part.function_call.as_ref())
    }

    /// The model's content from the chunks of a stream, all parts concatenated in order and none
    /// merged, so every `thoughtSignature` stays on the part it came on. Send this back as the
    /// model turn, as you would the content of a unary response.
    pub fn from_chunks<'a>(chunks: impl IntoIterator<Item = &'a GenerateContentResponse>) -> Self {
        let parts = chunks
            .into_iter()
            .filter_map(|chunk| chunk.candidates.first()?.content.as_ref())
            .flat_map(|content| content.parts.iter().cloned())
            .collect();
        Self::new(Role::Model, parts)
    }
}

impl GenerateContentRequest {
    /// Adds tools the model may call.
    pub fn with_tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
        self.tools.extend(tools);
        self
    }

    /// Sets `toolConfig`.
    pub fn with_tool_config(mut self, config: ToolConfig) -> Self {
        self.tool_config = Some(config);
        self
    }
}

impl GenerateContentResponse {
    /// The function calls of the first candidate, in order (several when the model calls
    /// functions in parallel).
    pub fn function_calls(&self) -> impl Iterator<Item = &FunctionCall> {
        self.content().into_iter().flat_map(Content::function_calls)
    }

    /// The content of the first candidate, if any: what to append to the history as the
    /// model's turn, unchanged.
    pub fn content(&self) -> Option<&Content> {
        self.candidates.first()?.content.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Lookup {
        /// The city.
        city: String,
        days: Option<u8>,
    }

    #[test]
    fn declaration_from_type_sends_parameters_json_schema() {
        let declaration = FunctionDeclaration::from_type::<Lookup>("get_weather", "Weather for a city");
        let wire = serde_json::to_value(&declaration).unwrap();
        assert_eq!(wire["name"], "get_weather");
        assert_eq!(wire["description"], "Weather for a city");
        assert!(wire.get("parameters").is_none(), "{wire}");
        let schema = &wire["parametersJsonSchema"];
        assert!(schema.get("$schema").is_none());
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["city"]));
        assert_eq!(schema["properties"]["city"]["description"], "The city.");
    }

    #[test]
    fn non_object_function_results_are_wrapped() {
        assert_eq!(FunctionResponse::new("f", json!(3)).response, json!({"output": 3}));
        assert_eq!(FunctionResponse::new("f", json!({"a": 1})).response, json!({"a": 1}));
    }

    #[test]
    fn args_as_reports_the_raw_arguments() {
        let call = FunctionCall::new("get_weather", json!({"city": 7}));
        match call.args_as::<Lookup>() {
            Err(Error::Decode { body, .. }) => assert_eq!(body, r#"{"city":7}"#),
            other => panic!("expected Decode, got {other:?}"),
        }
        let call = FunctionCall { name: "get_weather".into(), ..FunctionCall::default() };
        assert!(call.args_as::<Lookup>().is_err(), "a required field is missing");
        let ok: Lookup = FunctionCall::new("get_weather", json!({"city": "Oslo"})).args_as().unwrap();
        assert_eq!(ok.city, "Oslo");
    }
}
