//! The organiser's API: a cookie session from the organiser key, the list of events, and
//! each event's spec read, checked, updated, copied, rehearsed and reset.
//!
//! Every route takes the organiser key as a Bearer token (scripts, the command line's
//! equivalent) or the session cookie `POST /api/organiser/session` sets (the `/organise`
//! page). The cookie is HttpOnly and SameSite=Strict, and a change made with it must also
//! carry an `Origin` this server accepts ([`AppState::check_origin`]): a page elsewhere can
//! neither read the cookie nor have a browser send it with a forged request. The key itself
//! is only ever sent once, in the sign-in's body. A handler asks for the organiser by
//! taking an [`Organiser`] or, for one event's route, an [`OrganiserEvent`]; the role links
//! ([`super::links`]) are behind the same check.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;

use crate::domain::phase::EventPhase;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::json_body;
use super::{ApiError, AppState};
use crate::admin::{self, CopyChanges, EditError};
use crate::domain::spec::parse_spec_value_all;
use crate::domain::{EventCode, SpecError, clock, token};
use crate::hub::RespecError;

const COOKIE: &str = "joinup_organiser";
/// How long a sign-in lasts: a working day.
const SESSION_FOR: Duration = Duration::from_secs(12 * 3600);
/// The most sessions open at once; past it the oldest is closed. Organisers are a handful.
const MOST_SESSIONS: usize = 256;

/// The open organiser sessions: the SHA-256 of each session token, to when it expires.
/// Kept in memory, so a restart signs every organiser out.
#[derive(Default)]
pub struct Sessions {
    open: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    /// A new session's token, valid for [`SESSION_FOR`].
    fn open(&self) -> String {
        let token = token::new_token();
        let now = Instant::now();
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|_, until| *until > now);
        if open.len() >= MOST_SESSIONS
            && let Some(oldest) = open
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(hash, _)| hash.clone())
        {
            open.remove(&oldest);
        }
        open.insert(token::hash_token(&token), now + SESSION_FOR);
        token
    }

    /// Seconds left of the session with `token`; `None` when there is no such session.
    fn left(&self, token: &str) -> Option<Duration> {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let until = open.get(&token::hash_token(token))?;
        until.checked_duration_since(Instant::now())
    }

    fn close(&self, token: &str) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.remove(&token::hash_token(token));
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether the request is the organiser's: the organiser key as a Bearer token, or a live
/// session cookie. `change`: the request changes something, so a cookie must come with an
/// `Origin` this server accepts (browsers send one with every POST, PUT and DELETE).
pub fn authorise(app: &AppState, headers: &HeaderMap, change: bool) -> Result<(), ApiError> {
    if app.is_organiser(headers) {
        return Ok(());
    }
    let session = cookie_token(headers).filter(|t| app.sessions().left(t).is_some());
    if session.is_none() {
        return Err(ApiError::unauthorized(
            "this needs the organiser: sign in at /organise, or send the organiser key as a Bearer token",
        ));
    }
    if change {
        if !headers.contains_key(header::ORIGIN) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_origin",
                "a change made with the organiser's session must come from this server's pages",
            ));
        }
        app.check_origin(headers)?;
    }
    Ok(())
}

/// The organiser, checked ([`authorise`]) before the handler runs: a handler that takes one
/// answers nobody else. `CHANGE`: the route changes something ([`CHANGES`] or [`READS`]).
pub struct Organiser<const CHANGE: bool>;

/// For [`Organiser`] and [`OrganiserEvent`]: the route only reads.
pub const READS: bool = false;
/// For [`Organiser`] and [`OrganiserEvent`]: the route changes something, so a session
/// cookie must come with this server's `Origin`.
pub const CHANGES: bool = true;

impl<const CHANGE: bool> FromRequestParts<AppState> for Organiser<CHANGE> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        authorise(app, &parts.headers, CHANGE)?;
        Ok(Organiser)
    }
}

/// The `{code}` of an event route.
#[derive(serde::Deserialize)]
struct CodeParam {
    code: String,
}

/// An organiser's request about the event in the route's `{code}`: the path is read, then
/// the organiser checked (401 or 403 before anything is said about the event), then the
/// code parsed (404 `no_such_event` when it cannot name one).
pub struct OrganiserEvent<const CHANGE: bool>(pub EventCode);

impl<const CHANGE: bool> FromRequestParts<AppState> for OrganiserEvent<CHANGE> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let Path(CodeParam { code }) = Path::<CodeParam>::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        Organiser::<CHANGE>::from_request_parts(parts, app).await?;
        let parsed = EventCode::parse(&code).ok_or_else(|| ApiError::no_event(&code))?;
        Ok(OrganiserEvent(parsed))
    }
}

/// `response` with `etag` as its `ETag` header. Tags are quoted hex ([`admin::etag`]), so
/// always a valid header value; were one not, the response would go without the header.
fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

fn session_cookie(app: &AppState, value: &str, max_age: u64) -> Option<HeaderValue> {
    let secure = if app.public_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// `POST /api/organiser/session {"key": ...}`: the organiser key, once, for a session
/// cookie. Wrong keys count against the address like unknown event codes.
pub async fn sign_in(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    app.check_origin(&headers)?;
    let ip = app.client_ip(peer.ip(), &headers);
    app.limits()
        .may_look_up(ip)
        .map_err(ApiError::too_many_misses)?;
    let body = json_body(body)?;
    let key = body.get("key").and_then(Value::as_str).unwrap_or("");
    if !token::token_matches(key.trim(), app.organiser_key_hash()) {
        app.limits().missed(ip);
        return Err(ApiError::unauthorized("that is not the organiser key"));
    }
    let session = app.sessions().open();
    let mut response = (
        StatusCode::OK,
        Json(json!({"signed_in": true, "expires_in": SESSION_FOR.as_secs()})),
    )
        .into_response();
    if let Some(cookie) = session_cookie(&app, &session, SESSION_FOR.as_secs()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `GET /api/organiser/session`: whether this browser is signed in, and for how long more.
pub async fn session(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let left = cookie_token(&headers)
        .and_then(|t| app.sessions().left(t))
        .ok_or_else(|| ApiError::unauthorized("not signed in"))?;
    Ok(Json(
        json!({"signed_in": true, "expires_in": left.as_secs()}),
    ))
}

/// `DELETE /api/organiser/session`: signs out (the session ends on the server too).
pub async fn sign_out(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.check_origin(&headers)?;
    if let Some(token) = cookie_token(&headers) {
        app.sessions().close(token);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(cookie) = session_cookie(&app, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `GET /api/events`: every event, the latest first, with what the organiser's list shows.
pub async fn list(
    State(app): State<AppState>,
    _: Organiser<READS>,
) -> Result<Json<Value>, ApiError> {
    let rows = app
        .hub()
        .storage()
        .list_events()
        .await
        .map_err(ApiError::internal)?;
    let now = clock::now_rfc3339();
    let today = &now[..10];
    let events: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let spec: Value = serde_json::from_str(&row.spec).unwrap_or(Value::Null);
            let starts_at = spec.get("starts_at").and_then(Value::as_str);
            let phase = row.phase();
            let upcoming =
                phase != EventPhase::Closed && starts_at.is_some_and(|s| s.get(..10) > Some(today));
            let code = &row.code;
            json!({
                "code": code,
                "title": spec.get("title"),
                "series": spec.get("series"),
                "starts_at": starts_at,
                "rehearsal": spec.get("rehearsal").and_then(Value::as_bool).unwrap_or(false),
                "state": phase.state(),
                "phase": phase.as_str(),
                "upcoming": upcoming,
                "joined": row.joined,
                "created_at": row.created_at,
                "ended_at": row.ended_at,
                "purged": row.purged_at.is_some(),
                "attend_url": format!("{}/e/{code}", app.public_url()),
                "reports": {
                    "html": format!("/api/events/{code}/report.html"),
                    "pdf": format!("/api/events/{code}/report.pdf"),
                    "csv": format!("/api/events/{code}/answers.csv"),
                    "json": format!("/api/events/{code}/summary.json"),
                },
            })
        })
        .collect();
    Ok(Json(json!({ "events": events })))
}

/// A refused spec: `{"error", "message", "path"}`, `path` naming the field and `message`
/// saying what is wrong with it.
pub fn spec_refused(status: StatusCode, code: &'static str, e: &SpecError) -> Response {
    specs_refused(status, code, std::slice::from_ref(e))
}

/// A spec refused for every error in `found` (at least one): `message` and `path` are the
/// first's, for clients that show one; `errors` lists each.
fn specs_refused(status: StatusCode, code: &'static str, found: &[SpecError]) -> Response {
    let first = found.first();
    (
        status,
        Json(json!({
            "error": code,
            "message": first.map(|e| e.message.as_str()),
            "path": first.map(|e| e.path.as_str()),
            "errors": error_list(found),
        })),
    )
        .into_response()
}

/// `[{"path", "message"}]`, as the organise page shows them beside their fields.
pub(super) fn error_list(found: &[SpecError]) -> Value {
    found
        .iter()
        .map(|e| json!({"path": e.path, "message": e.message}))
        .collect()
}

fn edit_error(e: EditError) -> Response {
    match e {
        EditError::NoEvent(code) => ApiError::no_event(code.as_str()).into_response(),
        EditError::Stale(current) => {
            let response = (
                StatusCode::PRECONDITION_FAILED,
                Json(json!({
                    "error": "stale",
                    "message": "someone else changed this event since you opened it: reload it to see their change, then make yours again",
                    "etag": current,
                })),
            )
                .into_response();
            with_etag(response, &current)
        }
        EditError::Refused(e) => spec_refused(StatusCode::CONFLICT, "unsafe_edit", &e),
        EditError::Unsafe(found) => specs_refused(StatusCode::CONFLICT, "unsafe_edit", &found),
        other @ EditError::NotRehearsal(_) => {
            ApiError::new(StatusCode::CONFLICT, "not_rehearsal", other.to_string()).into_response()
        }
        EditError::Storage(e) => ApiError::internal(e).into_response(),
    }
}

/// An edit the event did not take, as [`edit_error`] answers it.
fn respec_error(code: EventCode, e: RespecError) -> Response {
    match e {
        RespecError::NoEvent => edit_error(EditError::NoEvent(code)),
        RespecError::Stale(current) => edit_error(EditError::Stale(current)),
        RespecError::Refused(found) => edit_error(EditError::Unsafe(found)),
        RespecError::Busy => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the event is busy writing answers and did not take the edit: send it again",
        )
        .into_response(),
        RespecError::Failed => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the edit could not be saved right now: send it again",
        )
        .into_response(),
    }
}

/// `GET /api/events/{code}/spec`: the spec as stored, with its `ETag`.
pub async fn export(
    State(app): State<AppState>,
    OrganiserEvent(code): OrganiserEvent<READS>,
) -> Result<Response, Response> {
    let exported = admin::export(app.hub().storage(), code)
        .await
        .map_err(edit_error)?;
    let response = (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        exported.spec,
    )
        .into_response();
    Ok(with_etag(response, &exported.etag))
}

/// `PUT /api/events/{code}/spec` with `If-Match`: replaces the spec, if nobody changed it
/// since it was read and the change keeps every stored answer's meaning; the live event
/// then carries on under the new spec.
pub async fn update(
    State(app): State<AppState>,
    OrganiserEvent(code): OrganiserEvent<CHANGES>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Response> {
    let Some(if_match) = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    else {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition_required",
            "an update names the version it replaces: send the ETag of GET /api/events/{code}/spec as If-Match",
        )
        .into());
    };
    let event = parse_spec_value_all(json_body(body)?)
        .map_err(|found| specs_refused(StatusCode::BAD_REQUEST, "invalid_spec", &found))?;
    let updated = app
        .hub()
        .respec(code, Some(if_match.to_owned()), event)
        .await
        .map_err(|e| respec_error(code, e))?;
    let response = Json(json!({"etag": updated.etag, "changed": updated.changed})).into_response();
    Ok(with_etag(response, &updated.etag))
}

/// `POST /api/spec/validate`: the one validator, for the page's form as it is typed in:
/// `{"valid": true, "errors": []}` or `{"valid": false, "path", "message", "errors": [{"path",
/// "message"}]}`: every rule broken, each with its field's path (the first also alone).
pub async fn validate(
    _: Organiser<READS>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let value = json_body(body)?;
    Ok(Json(match parse_spec_value_all(value) {
        Ok(_) => json!({"valid": true, "errors": []}),
        Err(found) => json!({
            "valid": false,
            "path": found.first().map(|e| e.path.as_str()),
            "message": found.first().map(|e| e.message.as_str()),
            "errors": error_list(&found),
        }),
    }))
}

/// `POST /api/events/{code}/copy {"title", "starts_at"}`: the next edition, with its tokens.
pub async fn copy(
    State(app): State<AppState>,
    OrganiserEvent(code): OrganiserEvent<CHANGES>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Response> {
    let changes: CopyChanges = serde_json::from_value(json_body(body)?)
        .map_err(|e| ApiError::bad_request("invalid_copy", e.to_string()))?;
    let created = admin::copy(app.hub().storage(), code, changes, app.public_url())
        .await
        .map_err(edit_error)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `POST /api/events/{code}/rehearse`: a practice copy, with its tokens.
pub async fn rehearse(
    State(app): State<AppState>,
    OrganiserEvent(code): OrganiserEvent<CHANGES>,
) -> Result<Response, Response> {
    let created = admin::rehearse(app.hub().storage(), code, app.public_url())
        .await
        .map_err(edit_error)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `POST /api/events/{code}/reset`: clears a rehearsal's answers, attendees and states.
pub async fn reset(
    State(app): State<AppState>,
    OrganiserEvent(code): OrganiserEvent<CHANGES>,
) -> Result<Response, Response> {
    // The live event stops first (what is in flight is committed), so nothing is written
    // after the reset; its phones, hosts and presenters reconnect to a fresh one.
    app.hub().unload(code).await;
    admin::reset(app.hub().storage(), code)
        .await
        .map_err(edit_error)?;
    // An event loaded again between the stop and the reset holds what was cleared.
    app.hub().unload(code).await;
    Ok(Json(json!({"code": code.as_str(), "state": "live", "reset": true})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_organiser_cookie_only() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "joinup_attendee=ffff; joinup_organiser=abc123"
                .parse()
                .expect("header"),
        );
        assert_eq!(cookie_token(&headers), Some("abc123"));
        headers.insert(
            header::COOKIE,
            "joinup_organiser=not hex!".parse().expect("header"),
        );
        assert_eq!(cookie_token(&headers), None);
    }

    #[test]
    fn sessions_open_check_and_close() {
        let sessions = Sessions::default();
        let token = sessions.open();
        assert!(sessions.left(&token).is_some_and(|d| d > SESSION_FOR / 2));
        assert!(sessions.left("0123").is_none());
        sessions.close(&token);
        assert!(sessions.left(&token).is_none());
        for _ in 0..MOST_SESSIONS + 10 {
            sessions.open();
        }
        let open = sessions.open.lock().expect("lock").len();
        assert_eq!(open, MOST_SESSIONS);
    }
}
