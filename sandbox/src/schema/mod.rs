//! Structural schemas of CustomResourceDefinitions, applied to custom objects as
//! kube-apiserver applies them: fields the schema does not declare are pruned (dropped
//! silently, or named in a `Warning`, or refused under `fieldValidation=Strict`), and values
//! are validated against the OpenAPI v3 rules (422 Invalid, every cause listed).
//!
//! Modelled: the keywords the KubeSphere 3.4 and kubefed CRDs use — `type`, `properties`,
//! `additionalProperties`, `items`, `required`, `enum`, `pattern`, `format` (`date-time`,
//! `byte`, `int32`, `int64`), length, range and item-count limits, `nullable`,
//! `x-kubernetes-preserve-unknown-fields`, `x-kubernetes-embedded-resource`,
//! `x-kubernetes-int-or-string`. Not modelled (README lists it): CEL rules
//! (`x-kubernetes-validations`), `allOf`/`anyOf`/`oneOf`/`not`, defaults, list-type and
//! map-type semantics.

mod prune;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;

use serde_json::Value;

pub use prune::{prune, unknown_fields};
pub use validate::{FieldError, validate};

/// The JSON type a schema node requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
}

impl JsonType {
    fn parse(name: &str) -> Result<Self, String> {
        Ok(match name {
            "object" => Self::Object,
            "array" => Self::Array,
            "string" => Self::String,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            other => return Err(format!("type: Unsupported value: {other:?}")),
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Object => "object",
            Self::Array => "array",
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
        }
    }

    /// The OpenAPI type name of a JSON value, as kube-apiserver's messages say it.
    fn of(value: &Value) -> &'static str {
        match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// A regular expression of a `pattern`; compared by its source.
#[derive(Debug, Clone)]
pub struct Pattern(regex::Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// One node of a structural schema.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    pub json_type: Option<JsonType>,
    pub properties: BTreeMap<String, Schema>,
    pub additional_properties: Option<Box<Schema>>,
    pub items: Option<Box<Schema>>,
    pub preserve_unknown_fields: bool,
    pub embedded_resource: bool,
    pub int_or_string: bool,
    pub nullable: bool,
    pub required: Vec<String>,
    pub enumeration: Vec<Value>,
    pub pattern: Option<Pattern>,
    pub format: Option<String>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
}

impl Schema {
    /// Reads an `openAPIV3Schema` (or any node of one). Keywords outside the modelled set
    /// are ignored; a pattern that does not compile or an unknown type is an error, as
    /// kube-apiserver refuses such a CRD.
    pub fn parse(node: &Value) -> Result<Self, String> {
        Self::parse_at(node, "openAPIV3Schema")
    }

    fn parse_at(node: &Value, path: &str) -> Result<Self, String> {
        let flag = |key: &str| node[key] == Value::Bool(true);
        let number = |key: &str| node[key].as_u64();
        let mut schema = Self {
            json_type: node["type"]
                .as_str()
                .map(JsonType::parse)
                .transpose()
                .map_err(|e| format!("{path}.{e}"))?,
            preserve_unknown_fields: flag("x-kubernetes-preserve-unknown-fields"),
            embedded_resource: flag("x-kubernetes-embedded-resource"),
            int_or_string: flag("x-kubernetes-int-or-string"),
            nullable: flag("nullable"),
            required: node["required"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            enumeration: node["enum"].as_array().cloned().unwrap_or_default(),
            format: node["format"].as_str().map(String::from),
            min_length: number("minLength"),
            max_length: number("maxLength"),
            minimum: node["minimum"].as_f64(),
            maximum: node["maximum"].as_f64(),
            min_items: number("minItems"),
            max_items: number("maxItems"),
            ..Self::default()
        };
        if let Some(pattern) = node["pattern"].as_str() {
            let compiled = regex::Regex::new(pattern)
                .map_err(|e| format!("{path}.pattern: Invalid value: {pattern:?}: {e}"))?;
            schema.pattern = Some(Pattern(compiled));
        }
        if let Some(properties) = node["properties"].as_object() {
            for (name, child) in properties {
                let child = Self::parse_at(child, &format!("{path}.properties[{name}]"))?;
                schema.properties.insert(name.clone(), child);
            }
        }
        if node["additionalProperties"].is_object() {
            let child = Self::parse_at(
                &node["additionalProperties"],
                &format!("{path}.additionalProperties"),
            )?;
            schema.additional_properties = Some(Box::new(child));
        }
        if node["items"].is_object() {
            let child = Self::parse_at(&node["items"], &format!("{path}.items"))?;
            schema.items = Some(Box::new(child));
        }
        Ok(schema)
    }

    /// A schema that keeps and accepts anything, as `x-kubernetes-preserve-unknown-fields`
    /// on the root does.
    pub fn open() -> Self {
        Self {
            json_type: Some(JsonType::Object),
            preserve_unknown_fields: true,
            ..Self::default()
        }
    }
}

/// `parent.child`, or `child` at the root, as kube-apiserver writes field paths.
fn child_path(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// The fields of `ObjectMeta`: what survives in the `metadata` of a custom object (or of an
/// embedded resource); anything else there is pruned as an unknown field.
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];
