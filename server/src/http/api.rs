//! The JSON API: events, health, metrics and the QR code.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{ApiError, AppState};
use crate::domain::link::LinkRole;
use crate::domain::phase::EventPhase;
use crate::domain::spec::parse_spec_value_all;
use crate::hub::{Command, EndError};
use crate::metrics::METRICS;

/// `ok`; in a cluster, 503 while this node cannot serve: it hears nothing from NATS, or its
/// lease session on the database has not answered lately (see `Cluster::healthy`).
pub async fn healthz(State(state): State<AppState>) -> Response {
    if state.hub().healthy() {
        "ok".into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "this cluster node cannot reach NATS or its database right now",
        )
        .into_response()
    }
}

/// Prometheus metrics, for the server's own network only: loopback and private addresses.
pub async fn metrics(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    let local = match peer.ip() {
        std::net::IpAddr::V4(ip) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        std::net::IpAddr::V6(ip) => {
            ip.is_loopback() || ip.is_unique_local() || ip.is_unicast_link_local()
        }
    };
    if !local {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "metrics are only served to the server's own network",
        )
        .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        METRICS.render(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "there is nothing at this address",
    )
}

/// Reads a JSON body with errors in the API's own shape.
pub fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is too large",
            )
        } else {
            ApiError::bad_request("bad_body", rejection.body_text())
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
    })
}

pub async fn create_event(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    super::organise::authorise(&app, &headers, true).map_err(|e| {
        if e.status == StatusCode::UNAUTHORIZED {
            ApiError::unauthorized("creating an event needs the organiser key as a Bearer token")
        } else {
            e
        }
    })?;
    let value = json_body(body)?;
    let event = match parse_spec_value_all(value) {
        Ok(event) => event,
        // `message` keeps its "path: what is wrong" form; `path` names the field alone; both
        // of the first rule broken, `errors` of each.
        Err(found) => {
            let first = found.first();
            return Ok((
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "error": "invalid_spec",
                    "message": first.map(ToString::to_string),
                    "path": first.map(|e| e.path.as_str()),
                    "errors": super::organise::error_list(&found),
                })),
            )
                .into_response());
        }
    };
    let created = crate::admin::create_event(app.hub().storage(), &event, app.public_url())
        .await
        .map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub async fn get_event(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let info = app.event(&code).await?.info();
    let stored = app
        .hub()
        .storage()
        .event(info.code)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::no_event(&code))?;
    let mut value = crate::protocol::event::public(&info.event);
    value["code"] = Value::from(info.code.as_str());
    let phase = stored.phase(&info.event.times);
    value["state"] = Value::from(phase.state());
    value["phase"] = Value::from(phase.as_str());
    value["attend_url"] = Value::from(format!("{}/e/{}", app.public_url(), info.code));
    Ok(Json(value))
}

/// The phase a request to end names as the one it leaves (`{"from": "live"}`), if any: an
/// empty body names none.
fn end_from(body: Result<Bytes, BytesRejection>) -> Result<Option<EventPhase>, ApiError> {
    if body
        .as_ref()
        .is_ok_and(|b| b.iter().all(u8::is_ascii_whitespace))
    {
        return Ok(None);
    }
    let body = json_body(body)?;
    let Some(fields) = body.as_object() else {
        return Err(ApiError::bad_request(
            "invalid_value",
            "expected an object such as {\"from\": \"live\"}, or no body",
        ));
    };
    if let Some(unknown) = fields.keys().find(|k| *k != "from") {
        return Err(ApiError::bad_request(
            "invalid_value",
            format!("{unknown}: not a field of an end; expected only from"),
        ));
    }
    match fields.get("from") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(from)) => EventPhase::parse(from).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_value",
                format!("from: {from:?} is not a phase: before, live, after or closed"),
            )
        }),
        Some(_) => Err(ApiError::bad_request(
            "invalid_value",
            "from: expected a phase as text: before, live, after or closed",
        )),
    }
}

/// `POST /api/events/{code}/end`, optionally with `{"from": PHASE}`: moves the event one
/// step on (see the host's `end`); with `from`, only while the event is still in that
/// phase, else 409 `phase_changed` with the phase it is in, and nothing moves.
pub async fn end_event(
    State(app): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let handle = app.event(&code).await?;
    match super::keys::bearer_access(&app, &handle.info(), &headers).await? {
        Some(LinkRole::Host) => {}
        Some(LinkRole::Moderator) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "unauthorized",
                "a moderator link cannot end the event; ask the host or the organiser",
            ));
        }
        Some(LinkRole::Presenter) | None => {
            return Err(ApiError::unauthorized(
                "ending an event needs its host token as a Bearer token",
            ));
        }
    }
    let from = end_from(body)?;
    let (reply, wait) = oneshot::channel();
    handle.send(Command::End { from, reply }).await?;
    match wait.await {
        Ok(Ok(())) => {
            let info = handle.info();
            let stored = app
                .hub()
                .storage()
                .event(info.code)
                .await
                .map_err(ApiError::internal)?
                .ok_or_else(|| ApiError::no_event(&code))?;
            let phase = stored.phase(&info.event.times);
            Ok(Json(json!({
                "code": info.code.as_str(),
                "state": phase.state(),
                "phase": phase.as_str(),
            }))
            .into_response())
        }
        Ok(Err(EndError::Left(phase))) => {
            let from = from.map_or("", EventPhase::as_str);
            let message = format!(
                "this end was meant for the event while {from}, but it is {} now; nothing was changed",
                phase.as_str()
            );
            let body =
                json!({"error": "phase_changed", "message": message, "phase": phase.as_str()});
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Ok(Err(EndError::Failed(message))) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            message,
        )),
        Err(_) => Err(ApiError::unavailable()),
    }
}

pub async fn qr(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let handle = app.event(&code).await?;
    let url = format!("{}/e/{}", app.public_url(), handle.info().code);
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(ApiError::internal)?;
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        svg,
    )
        .into_response())
}

pub async fn report_html(
    app: State<AppState>,
    code: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    report(app, code, headers, "report.html").await
}

pub async fn report_pdf(
    app: State<AppState>,
    code: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    report(app, code, headers, "report.pdf").await
}

pub async fn answers_csv(
    app: State<AppState>,
    code: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    report(app, code, headers, "answers.csv").await
}

pub async fn summary_json(
    app: State<AppState>,
    code: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    report(app, code, headers, "summary.json").await
}

/// The documents that hold each attendee's answers row by row: never for a moderator.
const RAW_ANSWERS: &[&str] = &["answers.csv"];

/// One report document as it stands now, for the event's host.
async fn report(
    State(app): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    name: &'static str,
) -> Result<Response, ApiError> {
    let handle = app.event(&code).await?;
    if super::organise::authorise(&app, &headers, false).is_err() {
        match super::keys::bearer_access(&app, &handle.info(), &headers).await? {
            Some(LinkRole::Host) => {}
            Some(LinkRole::Moderator) if !RAW_ANSWERS.contains(&name) => {}
            Some(LinkRole::Moderator) => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "unauthorized",
                    format!(
                        "a moderator link cannot download raw answers ({name}); the report, its PDF and summary.json are open to it"
                    ),
                ));
            }
            Some(LinkRole::Presenter) | None => {
                return Err(ApiError::unauthorized(
                    "reports need the event's host token (or a host or moderator link's) as a Bearer token, or the organiser",
                ));
            }
        }
    }
    let storage = app.hub().storage().clone();
    let code = handle.info().code;
    let data = crate::report::load(&storage, code)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::no_event(code.as_str()))?;
    // Charts and the PDF are CPU work: off the async threads.
    let built = tokio::task::spawn_blocking(move || crate::report::document(&data, name))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let (bytes, content_type) = built.ok_or_else(|| ApiError::no_event(code.as_str()))?;
    let disposition = format!("attachment; filename=\"joinup-{code}-{name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
