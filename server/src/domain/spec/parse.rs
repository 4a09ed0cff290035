//! Decoding a spec: from JSON or TOML text, or from a value already decoded (an API body),
//! each failure named by the path of the field decoding stopped at. The decoded spec then
//! goes through every rule (`validate.rs`); nothing here judges a value.

use serde_json::Value;

use super::validate::{validate, validate_all};
use super::{Event, EventSpec, SpecError};

/// Which format a spec file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecFormat {
    Json,
    Toml,
}

/// Parses and validates a spec written as JSON or TOML.
pub fn parse_spec(text: &str, format: SpecFormat) -> Result<Event, SpecError> {
    let spec: EventSpec = match format {
        SpecFormat::Json => {
            let de = &mut serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(de).map_err(|e| {
                SpecError::new(path_of(e.path()), describe_serde(&e.inner().to_string()))
            })?
        }
        SpecFormat::Toml => {
            let de = toml::Deserializer::parse(text)
                .map_err(|e| SpecError::new("", format!("not valid TOML: {}", e.message())))?;
            serde_path_to_error::deserialize(de)
                .map_err(|e| SpecError::new(path_of(e.path()), e.inner().message().to_owned()))?
        }
    };
    validate(spec)
}

/// Validates a spec already decoded (the body of `POST /api/events`).
pub fn parse_spec_value(value: Value) -> Result<Event, SpecError> {
    let spec: EventSpec = serde_path_to_error::deserialize(value)
        .map_err(|e| SpecError::new(path_of(e.path()), describe_serde(&e.inner().to_string())))?;
    validate(spec)
}

/// Like [`parse_spec_value`], with every rule broken ([`validate_all`]); a body that does
/// not decode as a spec gives the one error decoding stops at.
pub fn parse_spec_value_all(value: Value) -> Result<Event, Vec<SpecError>> {
    let spec: EventSpec = serde_path_to_error::deserialize(value).map_err(|e| {
        vec![SpecError::new(
            path_of(e.path()),
            describe_serde(&e.inner().to_string()),
        )]
    })?;
    validate_all(spec)
}

fn path_of(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { String::new() } else { text }
}

/// serde_json appends " at line L column C" to its messages; the path already says where.
fn describe_serde(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}
