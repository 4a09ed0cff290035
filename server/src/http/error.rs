//! HTTP errors: `{"error": "snake_case_code", "message": "a sentence for a person"}` with a
//! 4xx status. A 500 is logged with its cause and never echoes it.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::error;

use crate::hub::HubError;

const NO_SUCH_EVENT: &str = "no_such_event";

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds after which a refused request may be retried (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429: too many joins or connections from one address; retry after `wait`.
    pub fn rate_limited(wait: std::time::Duration) -> ApiError {
        let seconds = wait.as_secs().max(1);
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "the server is busy with many people joining from your network; retrying in {seconds} s"
                ),
            )
        }
    }

    /// 429: this address looked up too many event codes that do not exist.
    pub fn too_many_misses(wait: std::time::Duration) -> ApiError {
        let seconds = wait.as_secs().max(1);
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many event codes that do not exist were tried from your network; check the code and try again in {seconds} s"
                ),
            )
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// An attendee past their message allowance (opening event streams over and over).
    pub fn too_many_messages() -> ApiError {
        ApiError {
            retry_after: Some(1),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many messages from this attendee; slow down and try again in 1 s",
            )
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn no_event(code: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            NO_SUCH_EVENT,
            format!("there is no event with code {code:?}"),
        )
    }

    /// Whether this error says the event code names no event.
    pub fn is_no_event(&self) -> bool {
        self.code == NO_SUCH_EVENT
    }

    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; it has been logged",
        )
    }

    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is restarting; try again in a moment",
        )
    }
}

impl From<HubError> for ApiError {
    fn from(error: HubError) -> ApiError {
        match error {
            HubError::ShuttingDown | HubError::Cluster(_) => ApiError::unavailable(),
            other => ApiError::internal(other),
        }
    }
}

/// Marks a response that said an event code does not exist, so the per-address limit on
/// such misses can count it ([`super::limits::Limits::missed`]).
#[derive(Debug, Clone, Copy)]
pub struct EventMiss;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({"error": self.code, "message": self.message})),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.code == NO_SUCH_EVENT {
            response.extensions_mut().insert(EventMiss);
        }
        response
    }
}

/// So that a handler whose refusals are not all [`ApiError`]s (a refused spec names its
/// fields) can still return one with `?`.
impl From<ApiError> for Response {
    fn from(error: ApiError) -> Response {
        error.into_response()
    }
}
