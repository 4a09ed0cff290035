//! axum glue: routes, the WebSocket and Server-Sent Events transports, error mapping and the
//! pages. Handlers parse and authorise at the edge, then talk to the hub.

mod api;
mod error;
mod fallback;
mod keys;
mod limits;
mod links;
mod organise;
mod pages;
mod privacy;
pub mod stall;
mod themes;
mod upgrade;
mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
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
    /// Whether the public URL was configured (`--public-url`), rather than made up from the
    /// bound address: without one, a page's origin is checked against its `Host` only when
    /// that names a loopback or an IP address, which DNS rebinding cannot forge.
    public_url_set: bool,
    organiser_key_hash: String,
    allowed_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed ([`AppState::client_ip`]).
    trusted_proxies: Vec<std::net::IpAddr>,
    limits: limits::Limits,
    write_stall: std::time::Duration,
    /// Organisers signed in with the organiser key ([`organise`]).
    sessions: organise::Sessions,
    /// Days after an event ends that its raw answers are purged, for the privacy notice.
    retention_days: Option<u32>,
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
                public_url_set: config.public_url.is_some(),
                organiser_key_hash: token::hash_token(organiser_key),
                allowed_origins,
                trusted_proxies: config.trusted_proxies.clone(),
                limits,
                write_stall: config.write_stall,
                sessions: organise::Sessions::default(),
                retention_days: config.retention_days,
            }),
        }
    }

    /// How long a write may wait for a client that reads nothing ([`Config::write_stall`]).
    pub fn write_stall(&self) -> std::time::Duration {
        self.inner.write_stall
    }

    /// The client's address for the per-address limits: the peer's, or, when the peer is a
    /// trusted proxy (loopback, or one in `--trusted-proxies`), the address its
    /// `X-Forwarded-For` gives: the last entry not itself a trusted proxy. Behind a proxy
    /// every client would otherwise be the proxy, and one client guessing codes or flooding
    /// joins would have the whole audience refused.
    pub fn client_ip(&self, peer: std::net::IpAddr, headers: &HeaderMap) -> std::net::IpAddr {
        forwarded_client(peer, headers, &self.inner.trusted_proxies)
    }

    /// Counts a join from `ip`: 429 with a retry hint past the address's allowance.
    pub fn join(&self, ip: std::net::IpAddr) -> Result<(), ApiError> {
        self.inner.limits.join(ip).map_err(ApiError::rate_limited)
    }

    /// A slot for one more open connection from `ip`, counted as unjoined until it joins.
    pub fn connection_slot(
        &self,
        ip: std::net::IpAddr,
    ) -> Result<limits::ConnectionSlot, ApiError> {
        self.inner
            .limits
            .connect(ip)
            .ok_or_else(|| ApiError::rate_limited(std::time::Duration::from_secs(5)))
    }

    /// A slot for one more open connection from `ip` that is authorised from the start (an
    /// attendee's event stream).
    pub fn joined_slot(&self, ip: std::net::IpAddr) -> Result<limits::ConnectionSlot, ApiError> {
        self.inner
            .limits
            .connect_joined(ip)
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

    /// A browser's `Origin` must be this server's public origin or in the allowlist; a client
    /// that sends none (not a browser) is accepted.
    ///
    /// The `Host` header is never trusted on its own: with DNS rebinding, a page on
    /// `evil.example` whose name now resolves to this server sends `Host: evil.example` and
    /// `Origin: http://evil.example`, which agree. Only where no public URL is configured
    /// does an origin that matches `Host` pass, and then only when that host is a loopback
    /// name or an IP address (`http://192.168.1.10:8080`, `http://localhost:8080`), which no
    /// DNS answer can stand for.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin
            .to_str()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let same_host = !self.inner.public_url_set
            && headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .is_some_and(|host| {
                    let host = host.to_ascii_lowercase();
                    (origin == format!("http://{host}") || origin == format!("https://{host}"))
                        && is_literal_or_loopback(&host)
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

    fn organiser_key_hash(&self) -> &str {
        &self.inner.organiser_key_hash
    }

    fn retention_days(&self) -> Option<u32> {
        self.inner.retention_days
    }

    fn sessions(&self) -> &organise::Sessions {
        &self.inner.sessions
    }

    /// Per-address limit on lookups of event codes that do not exist; see [`guard`].
    fn limits(&self) -> &limits::Limits {
        &self.inner.limits
    }
}

/// See [`AppState::client_ip`].
fn forwarded_client(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| ip.is_loopback() || trusted.contains(ip);
    if !is_trusted(&peer) {
        return peer;
    }
    // Each proxy appends the address it received from; read from the right, past the
    // proxies we trust, to the first address a trusted proxy vouches for.
    let mut client = peer;
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for entry in entries.iter().rev() {
        let Ok(ip) = entry.parse::<std::net::IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// Whether a `Host` value (`name[:port]`) names a loopback host or is an IP address.
fn is_literal_or_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name == "localhost" || name.ends_with(".localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// Whether a path names an event by its code, so that its answer (404 or not, or the
/// attendee page's framing policy) says whether the code exists.
fn names_an_event(path: &str) -> bool {
    path.strip_prefix("/api/events/")
        .is_some_and(|rest| !rest.is_empty())
        || path.starts_with("/ws/")
        || path.starts_with("/e/")
}

/// Every response: `X-Content-Type-Options: nosniff`. Requests that name an event code:
/// refused with 429 while their address has used up its allowance of codes that do not
/// exist, and each such miss counted (event codes are 6 characters, so guessing one is
/// only a matter of tries).
async fn guard(
    State(app): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let ip = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| app.client_ip(info.0.ip(), request.headers()));
    let lookup = ip.filter(|_| names_an_event(request.uri().path()));
    let mut response = match lookup.map(|ip| app.limits().may_look_up(ip)) {
        Some(Err(wait)) => ApiError::too_many_misses(wait).into_response(),
        _ => next.run(request).await,
    };
    if let Some(ip) = lookup
        && response.extensions().get::<error::EventMiss>().is_some()
    {
        app.limits().missed(ip);
    }
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(axum::http::HeaderValue::from_static("nosniff"));
    response
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
        .route("/host/{code}/themes", get(pages::themes))
        .route("/present/{code}", get(pages::present))
        .route("/organise", get(pages::organise))
        .route("/e/{code}/privacy", get(privacy::notice))
        .route("/api/events/{code}/records.html", get(privacy::records))
        .route("/assets/{*file}", get(pages::asset))
        .route("/sw.js", get(pages::service_worker))
        .route("/api/events/{code}/report.html", get(api::report_html))
        .route("/api/events/{code}/answers.csv", get(api::answers_csv))
        .route("/api/events/{code}/summary.json", get(api::summary_json))
        .layer(tower_http::compression::CompressionLayer::new());
    Router::new()
        .merge(compressed)
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/events", post(api::create_event).get(organise::list))
        .route("/api/events/{code}", get(api::get_event))
        .route(
            "/api/organiser/session",
            post(organise::sign_in)
                .get(organise::session)
                .delete(organise::sign_out),
        )
        .route("/api/spec/validate", post(organise::validate))
        .route(
            "/api/events/{code}/spec",
            get(organise::export).put(organise::update),
        )
        .route("/api/events/{code}/copy", post(organise::copy))
        .route("/api/events/{code}/rehearse", post(organise::rehearse))
        .route("/api/events/{code}/reset", post(organise::reset))
        .route(
            "/api/events/{code}/links",
            post(links::issue).get(links::list),
        )
        .route(
            "/api/events/{code}/links/{id}",
            axum::routing::delete(links::revoke),
        )
        .route("/api/events/{code}/end", post(api::end_event))
        .route(
            "/api/events/{code}/themes",
            get(themes::get).put(themes::put),
        )
        .route("/api/events/{code}/qr.svg", get(api::qr))
        .route("/api/events/{code}/report.pdf", get(api::report_pdf))
        .route("/api/events/{code}/messages", post(fallback::post_message))
        .route("/api/events/{code}/stream", get(fallback::stream))
        .route("/ws/e/{code}", get(ws::attendee))
        .route("/ws/host/{code}", get(ws::host))
        .route("/ws/present/{code}", get(ws::presenter))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
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
    fn only_loopback_names_and_ip_addresses_count_as_literal_hosts() {
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "localhost",
            "192.168.1.10",
            "[::1]:8080",
            "app.localhost:80",
        ] {
            assert!(is_literal_or_loopback(host), "{host}");
        }
        for host in ["evil.example", "evil.example:8080", "127.0.0.1.nip.io:80"] {
            assert!(!is_literal_or_loopback(host), "{host}");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "198.51.100.9, 203.0.113.5, 10.0.0.2"
                .parse()
                .expect("header"),
        );
        let trusted = [ip("10.0.0.2")];
        // A client that is not a proxy cannot choose its address.
        assert_eq!(
            forwarded_client(ip("192.0.2.7"), &headers, &trusted),
            ip("192.0.2.7")
        );
        // Through loopback and the trusted proxy 10.0.0.2: the address 10.0.0.2 received
        // from, never the one the client itself wrote first.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &headers, &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &headers, &[]),
            ip("10.0.0.2")
        );
        // Without the header, or with junk in it, the peer.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &HeaderMap::new(), &[]),
            ip("127.0.0.1")
        );
        let mut junk = HeaderMap::new();
        junk.insert("x-forwarded-for", "unknown".parse().expect("header"));
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &junk, &[]),
            ip("127.0.0.1")
        );
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
