//! axum glue: routes, the WebSocket and Server-Sent Events transports, error mapping and the
//! pages. Handlers parse and authorise at the edge, then talk to the hub.

mod api;
mod error;
mod fallback;
mod limits;
mod pages;
pub mod stall;
mod upgrade;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};

pub use error::ApiError;

use crate::Config;
use crate::domain::{EventCode, token};
use crate::hub::{EventHandle, Hub};

/// The largest request body accepted (an event spec).
const MAX_BODY: usize = 256 * 1024;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<AppInner>,
}

struct AppInner {
    hub: Hub,
    public_url: String,
    organiser_key_hash: String,
    allowed_origins: Vec<String>,
    limits: limits::Limits,
    write_stall: std::time::Duration,
}

impl AppState {
    pub fn new(hub: Hub, config: &Config, bound: SocketAddr, organiser_key: &str) -> AppState {
        let public_url = config.public_url(bound);
        let mut allowed_origins: Vec<String> = config
            .allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        allowed_origins.push(origin_of(&public_url));
        let limits = limits::Limits::default();
        let sweeper = limits.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                sweeper.sweep();
            }
        });
        AppState {
            inner: Arc::new(AppInner {
                hub,
                public_url,
                organiser_key_hash: token::hash_token(organiser_key),
                allowed_origins,
                limits,
                write_stall: config.write_stall,
            }),
        }
    }

    /// How long a write may wait for a client that reads nothing ([`Config::write_stall`]).
    pub fn write_stall(&self) -> std::time::Duration {
        self.inner.write_stall
    }

    /// Counts a join from `ip`: 429 with a retry hint past the address's allowance.
    pub fn join(&self, ip: std::net::IpAddr) -> Result<(), ApiError> {
        self.inner.limits.join(ip).map_err(ApiError::rate_limited)
    }

    /// A slot for one more open connection from `ip`.
    pub fn connection_slot(
        &self,
        ip: std::net::IpAddr,
    ) -> Result<limits::ConnectionSlot, ApiError> {
        self.inner
            .limits
            .connect(ip)
            .ok_or_else(|| ApiError::rate_limited(std::time::Duration::from_secs(5)))
    }

    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// The live event for a code as typed in a URL; 404 when there is none.
    pub async fn event(&self, code: &str) -> Result<EventHandle, ApiError> {
        let parsed = EventCode::parse(code).ok_or_else(|| ApiError::no_event(code))?;
        self.hub()
            .event(parsed)
            .await?
            .ok_or_else(|| ApiError::no_event(code))
    }

    pub fn is_organiser(&self, headers: &HeaderMap) -> bool {
        bearer(headers).is_some_and(|key| token::token_matches(key, &self.inner.organiser_key_hash))
    }

    /// A browser's `Origin` must be this server's own or in the allowlist; a client that
    /// sends none (not a browser) is accepted.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin
            .to_str()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let same_host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|host| {
                let host = host.to_ascii_lowercase();
                origin == format!("http://{host}") || origin == format!("https://{host}")
            });
        if same_host || self.inner.allowed_origins.contains(&origin) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                format!("pages from {origin:?} may not connect to this server"),
            ))
        }
    }
}

/// `scheme://host[:port]` of a URL, lower-cased.
fn origin_of(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    match lower.find("://") {
        Some(i) => match lower[i + 3..].find('/') {
            Some(j) => lower[..i + 3 + j].to_owned(),
            None => lower,
        },
        None => lower,
    }
}

/// The token of an `Authorization: Bearer TOKEN` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

pub fn router(state: AppState) -> Router {
    // Pages, assets and report documents are compressed (the attendee page fits its budget
    // only compressed); sockets and the event stream are not, so nothing is buffered.
    let compressed = Router::new()
        .route("/", get(pages::join))
        .route("/e/{code}", get(pages::attendee))
        .route("/host/{code}", get(pages::host))
        .route("/present/{code}", get(pages::present))
        .route("/assets/{file}", get(pages::asset))
        .route("/sw.js", get(pages::service_worker))
        .route("/api/events/{code}/report.html", get(api::report_html))
        .route("/api/events/{code}/answers.csv", get(api::answers_csv))
        .route("/api/events/{code}/summary.json", get(api::summary_json))
        .layer(tower_http::compression::CompressionLayer::new());
    Router::new()
        .merge(compressed)
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/events", post(api::create_event))
        .route("/api/events/{code}", get(api::get_event))
        .route("/api/events/{code}/end", post(api::end_event))
        .route("/api/events/{code}/qr.svg", get(api::qr))
        .route("/api/events/{code}/report.pdf", get(api::report_pdf))
        .route("/api/events/{code}/messages", post(fallback::post_message))
        .route("/api/events/{code}/stream", get(fallback::stream))
        .route("/ws/e/{code}", get(ws::attendee))
        .route("/ws/host/{code}", get(ws::host))
        .route("/ws/present/{code}", get(ws::presenter))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_and_host() {
        assert_eq!(
            origin_of("https://Joinup.example.org/path"),
            "https://joinup.example.org"
        );
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn bearer_tokens_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().expect("header"));
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().expect("header"));
        assert_eq!(bearer(&headers), None);
    }
}
