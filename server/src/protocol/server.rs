//! Server messages, encoded once into frames. A broadcast frame is encoded once and shared
//! by reference count among every connection that receives it.

use bytes::Bytes;
use serde_json::{Value, json};

use super::codes::ErrorCode;

/// One encoded JSON text message, ready for a WebSocket text frame or an SSE `data:` line.
pub type Frame = Bytes;

pub fn frame(value: &Value) -> Frame {
    // Written straight into bytes: `to_string` goes through `Display`, a formatter call per
    // token. A `Value`'s keys are strings and a `Vec` takes every write, so this never fails.
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

pub fn ack(id: &str) -> Frame {
    let mut out = Vec::with_capacity(id.len() + 32);
    out.extend_from_slice(br#"{"type":"ack","id":"#);
    // The id as a JSON string, escaped; writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, id);
    out.push(b'}');
    Bytes::from(out)
}

pub fn error(id: Option<&Value>, code: ErrorCode, message: &str) -> Frame {
    let mut value = json!({"type": "error", "code": code.as_str(), "message": message});
    if let Some(id) = id {
        value["id"] = id.clone();
    }
    frame(&value)
}

pub fn ok(for_type: &str, id: Option<&Value>) -> Frame {
    let mut value = json!({"type": "ok", "for": for_type});
    if let Some(id) = id {
        value["id"] = id.clone();
    }
    frame(&value)
}

pub fn opened(activity: &Value) -> Frame {
    frame(&json!({"type": "opened", "activity": activity}))
}

pub fn closed(key: &str) -> Frame {
    frame(&json!({"type": "closed", "activity": key}))
}

pub fn results(key: &str, tally: Option<&Value>) -> Frame {
    frame(&json!({"type": "results", "activity": key, "tally": tally}))
}

pub fn tally(key: &str, tally: &Value) -> Frame {
    frame(&json!({"type": "tally", "activity": key, "tally": tally}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_the_value_as_compact_json() {
        let value = serde_json::json!({
            "type": "text",
            "text": "quotes \" and \\ and ünïcode and \n",
            "counts": [1, 2.5, -3],
            "flagged": false,
            "replaces": null,
        });
        assert_eq!(frame(&value), Bytes::from(value.to_string()));
    }

    #[test]
    fn an_ack_names_its_id_escaped() {
        assert_eq!(ack(r#"a"b"#), Bytes::from(r#"{"type":"ack","id":"a\"b"}"#));
    }
}
