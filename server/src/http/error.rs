//! HTTP errors: `{"error": "snake_case_code", "message": "a sentence for a person"}` with a
//! 4xx status. A 500 is logged with its cause and never echoes it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::error;

use crate::hub::HubError;

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

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn no_event(code: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_event",
            format!("there is no event with code {code:?}"),
        )
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}
