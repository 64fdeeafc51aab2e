//! JSON Schemas for structured output, adjusted to what Gemini's `responseJsonSchema` accepts.

use schemars::JsonSchema;
use serde_json::Value;

/// The JSON Schema of `T` (from `schemars::schema_for!`), ready for
/// [`GenerationConfig::response_json_schema`](crate::GenerationConfig::response_json_schema).
///
/// Two adjustments are made: the root `$schema` keyword is removed, and in any sub-schema that has
/// a `$ref`, sibling keywords not starting with `$` (such as the `description` schemars copies
/// from a doc comment) are dropped, because Gemini rejects a `$ref` with such siblings.
pub fn response_schema_for<T: JsonSchema>() -> Value {
    let mut schema = schemars::schema_for!(T).to_value();
    if let Value::Object(root) = &mut schema {
        root.remove("$schema");
    }
    strip_ref_siblings(&mut schema);
    schema
}

fn strip_ref_siblings(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.contains_key("$ref") {
                map.retain(|key, _| key.starts_with('$'));
            }
            map.values_mut().for_each(strip_ref_siblings);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ref_siblings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
    }

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Outer {
        /// A documented nested field (schemars puts this description beside the `$ref`).
        inner: Inner,
        count: u32,
    }

    #[test]
    fn removes_dollar_schema_and_ref_siblings() {
        let schema = response_schema_for::<Outer>();
        assert!(schema.get("$schema").is_none());
        assert_eq!(schema["type"], "object");
        let inner = &schema["properties"]["inner"];
        assert_eq!(inner["$ref"], "#/$defs/Inner");
        assert!(inner.get("description").is_none(), "{inner}");
        assert_eq!(schema["$defs"]["Inner"]["type"], "object");
    }
}
