//! The pages people use, embedded in the binary from `web/` so one file deploys Joinup.
//!
//! Pages refer to their scripts and styles as `/assets/NAME`; when a page is first served,
//! each such reference gains `?v=HASH` (a hash of the file's content), and a request for
//! that exact version may be cached for a year. Any other request for an asset must
//! revalidate (it carries an `ETag`), so a new binary never meets a stale script.
//!
//! Every page refuses to be framed (`frame-ancestors 'none'`) except the attendee page of an
//! event whose spec lists `embed.allowed_origins`: that page may sit in a frame on those
//! sites (beside the conference's video stream), and on Joinup's own.
//!
//! `/sw.js` is the attendee page's service worker (the offline shell, scope `/e/`). It is
//! served `no-cache`, so browsers check it on every visit and a new binary's worker replaces
//! the old one at once.

use std::sync::OnceLock;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::EventMiss;

const JOIN: &str = include_str!("../../../web/index.html");
const ATTENDEE: &str = include_str!("../../../web/attendee.html");
const HOST: &str = include_str!("../../../web/host.html");
const PRESENT: &str = include_str!("../../../web/present.html");
const ORGANISE: &str = include_str!("../../../web/organise.html");
const THEMES: &str = include_str!("../../../web/themes.html");
const SERVICE_WORKER: &[u8] = include_bytes!("../../../web/sw.js");

/// Pages allow scripts, styles and connections from this server only: no inline script or
/// style, no third-party host.
const CSP_BASE: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; ";

/// [`CSP_BASE`] for a page no site may frame.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of an attendee page that `origins` may frame (validated by the spec as exact
/// `scheme://host[:port]` origins, so each goes into the header as written).
fn framed_csp(origins: &[String]) -> String {
    if origins.is_empty() {
        return CSP.to_owned();
    }
    format!("{CSP_BASE}frame-ancestors 'self' {}", origins.join(" "))
}

/// A file under `/assets/`.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

/// An [`Asset`] for the file `web/NAME`, served with a content type.
macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../../../web/", $name)),
        }
    };
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

const ASSETS: &[Asset] = &[
    asset!("app.css", CSS),
    asset!("staff.css", CSS),
    asset!("common.js", JS),
    asset!("charts.js", JS),
    asset!("close-codes.js", JS),
    asset!("join.js", JS),
    asset!("attendee.js", JS),
    asset!("outbox.js", JS),
    asset!("i18n.js", JS),
    asset!("i18n/en.js", JS),
    asset!("i18n/pl.js", JS),
    asset!("i18n/ar.js", JS),
    asset!("host.js", JS),
    asset!("present.js", JS),
    asset!("present-view.js", JS),
    asset!("organise.css", CSS),
    asset!("organise.js", JS),
    asset!("organise-model.js", JS),
    asset!("organise-people.js", JS),
    asset!("themes.css", CSS),
    asset!("themes.js", JS),
    asset!("support.js", JS),
    asset!("present-mode.js", JS),
    asset!("run-of-show.js", JS),
    asset!("queues.js", JS),
    asset!("room-rates.js", JS),
    asset!("host-programme.js", JS),
    asset!("host-moderation.js", JS),
    asset!("kinds.js", JS),
    asset!("phases.js", JS),
    asset!("attendee-qa.js", JS),
    asset!("attendee-session.js", JS),
    asset!("attendee-cards.js", JS),
    asset!("attendee-you.js", JS),
    asset!("icon.svg", SVG),
];

/// The pages with versioned asset links, and each asset's version, computed once.
struct Built {
    join: String,
    attendee: String,
    host: String,
    present: String,
    organise: String,
    themes: String,
    versions: Vec<String>,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let versions: Vec<String> = ASSETS.iter().map(|a| version(a.body)).collect();
        let link = |html: &str| {
            let mut out = html.to_owned();
            for (asset, v) in ASSETS.iter().zip(&versions) {
                out = out.replace(
                    &format!("\"/assets/{}\"", asset.name),
                    &format!("\"/assets/{}?v={v}\"", asset.name),
                );
            }
            out
        };
        Built {
            join: link(JOIN),
            attendee: link(ATTENDEE),
            host: link(HOST),
            present: link(PRESENT),
            organise: link(ORGANISE),
            themes: link(THEMES),
            versions,
        }
    })
}

/// The first 16 hex characters of the content's SHA-256.
fn version(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn page(html: &'static str) -> Response {
    page_with_csp(html, HeaderValue::from_static(CSP))
}

fn page_with_csp<T>(html: T, csp: HeaderValue) -> Response
where
    Html<T>: IntoResponse,
{
    (
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, csp),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Html(html),
    )
        .into_response()
}

/// A page built for one request (the privacy notice), with the same headers as the others.
pub fn page_owned(html: String) -> Response {
    page_with_csp(html, HeaderValue::from_static(CSP))
}

pub async fn join() -> Response {
    page(&built().join)
}

/// The attendee page, framable by the sites the event's spec allows, its privacy link
/// pointing at this event's notice. A code that names no event still gets the page (it says
/// so itself), counted as a miss like any other lookup.
pub async fn attendee(State(app): State<AppState>, Path(code): Path<String>) -> Response {
    let (origins, miss) = match app.event(&code).await {
        Ok(handle) => (
            handle.info().event.spec.embed.allowed_origins.clone(),
            false,
        ),
        Err(e) => (Vec::new(), e.is_no_event()),
    };
    let csp = HeaderValue::from_str(&framed_csp(&origins))
        .unwrap_or_else(|_| HeaderValue::from_static(CSP));
    let mut response = match crate::domain::EventCode::parse(&code) {
        Some(code) => page_with_csp(
            built()
                .attendee
                .replace(PRIVACY_LINK, &format!("href=\"/e/{code}/privacy\"")),
            csp,
        ),
        None => page_with_csp(built().attendee.as_str(), csp),
    };
    if miss {
        response.extensions_mut().insert(EventMiss);
    }
    response
}

/// The attendee page's link to the privacy notice, before the event's code is put in.
const PRIVACY_LINK: &str = "href=\"/privacy\"";

pub async fn host() -> Response {
    page(&built().host)
}

pub async fn present() -> Response {
    page(&built().present)
}

pub async fn organise() -> Response {
    page(&built().organise)
}

/// The host's page for the report's themes (`/host/{code}/themes`).
pub async fn themes() -> Response {
    page(&built().themes)
}

/// The attendee page's service worker. Its own path (`/sw.js`) allows any scope under `/`,
/// so it needs no `Service-Worker-Allowed`; the page registers it for `/e/`.
pub async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        SERVICE_WORKER,
    )
        .into_response()
}

/// Static assets (scripts, styles, the icon, the attendee page's catalogues under `i18n/`)
/// from `web/`, embedded in the binary; a name is only ever looked up in [`ASSETS`].
pub async fn asset(
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.name == file) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "no such asset",
        )
            .into_response();
    };
    let asset = &ASSETS[index];
    let v = &built().versions[index];
    let etag = format!("\"{v}\"");
    let versioned = query.as_deref() == Some(&format!("v={v}"));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(file: &str, query: Option<&str>, if_none_match: Option<&str>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(tag) = if_none_match {
            headers.insert(header::IF_NONE_MATCH, tag.parse().expect("header"));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(asset(
            Path(file.to_owned()),
            RawQuery(query.map(str::to_owned)),
            headers,
        ))
    }

    #[test]
    fn every_asset_a_page_links_is_embedded_and_versioned() {
        let b = built();
        for html in [&b.join, &b.attendee, &b.host, &b.present, &b.organise] {
            let mut rest = html.as_str();
            while let Some(at) = rest.find("\"/assets/") {
                let link = &rest[at + 9..];
                let end = link.find('"').expect("closing quote");
                let (name, query) = link[..end].split_once('?').expect("a version");
                let i = ASSETS
                    .iter()
                    .position(|a| a.name == name)
                    .unwrap_or_else(|| panic!("{name} is linked but not embedded"));
                assert_eq!(query, format!("v={}", b.versions[i]));
                rest = &link[end..];
            }
        }
    }

    #[test]
    fn pages_carry_no_inline_script_or_style() {
        for html in [JOIN, ATTENDEE, HOST, PRESENT, ORGANISE] {
            assert!(!html.contains("<script>"), "inline script");
            assert!(!html.contains("<style"), "inline style");
            assert!(!html.contains(" style="), "style attribute");
            let handler = html.split(" on").skip(1).any(|rest| {
                let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
                name_len > 0 && rest[name_len..].starts_with('=')
            });
            assert!(!handler, "inline event handler");
            assert!(!html.contains("http://") && !html.contains("https://"));
        }
        assert!(!CSP.contains("unsafe-inline"));
    }

    #[test]
    fn only_the_allowed_origins_may_frame_the_attendee_page() {
        assert_eq!(framed_csp(&[]), CSP);
        assert!(CSP.ends_with("frame-ancestors 'none'"));
        assert!(CSP.starts_with(CSP_BASE));
        let csp = framed_csp(&[
            "https://stream.example.org".to_owned(),
            "https://live.example.com:8443".to_owned(),
        ]);
        assert!(csp.starts_with(CSP_BASE));
        assert!(csp.ends_with(
            "frame-ancestors 'self' https://stream.example.org https://live.example.com:8443"
        ));
        assert_eq!(csp.matches("frame-ancestors").count(), 1);
    }

    #[test]
    fn assets_are_served_with_type_and_cache() {
        let v = version(ASSETS[0].body);
        let r = get("app.css", Some(&format!("v={v}")), None);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert!(
            r.headers()[header::CACHE_CONTROL]
                .to_str()
                .expect("ascii")
                .contains("immutable")
        );
        let r = get("attendee.js", None, None);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        let tag = r.headers()[header::ETAG]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(
            get("attendee.js", None, Some(&tag)).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            get("../Cargo.toml", None, None).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(get("nope.js", None, None).status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_service_worker_is_served_as_a_script_that_is_always_revalidated() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let r = runtime.block_on(service_worker());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    #[test]
    fn every_module_a_script_imports_is_embedded() {
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(asset.body).expect("utf-8");
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let from = line.split(" from \"./").nth(1).expect("a relative import");
                let name = &from[..from.find('"').expect("closing quote")];
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{} imports {name}, which is not embedded",
                    asset.name
                );
            }
        }
    }
}
