//! The organiser's role links: `POST /api/events/{code}/links` issues one (host, moderator
//! or presenter, with a label), `GET` lists them (never a secret: only its hash is kept),
//! `DELETE /api/events/{code}/links/{id}` revokes one and closes at once (4001) every socket
//! it opened, on whichever node of a cluster the event runs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::json_body;
use super::organise::authorise;
use super::{ApiError, AppState};
use crate::admin::{self, LinkError, LinkRequest};
use crate::domain::EventCode;
use crate::hub::Command;

fn parse_code(code: &str) -> Result<EventCode, ApiError> {
    EventCode::parse(code).ok_or_else(|| ApiError::no_event(code))
}

fn link_error(e: LinkError) -> Response {
    match e {
        LinkError::NoEvent(code) => ApiError::no_event(code.as_str()).into_response(),
        LinkError::Invalid { path, message } => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_link", "message": message, "path": path})),
        )
            .into_response(),
        e @ LinkError::NoLink(..) => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()).into_response()
        }
        LinkError::Storage(e) => ApiError::internal(e).into_response(),
    }
}

/// A text field of the body: absent is `None`; anything but a string is refused naming it.
fn text<'a>(body: &'a Value, field: &'static str) -> Result<Option<&'a str>, LinkError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(LinkError::Invalid {
            path: field.to_owned(),
            message: format!("{field}: expected text"),
        }),
    }
}

fn request(body: &Value) -> Result<LinkRequest, LinkError> {
    if let Some(unknown) = body.as_object().and_then(|o| {
        o.keys()
            .find(|k| !matches!(k.as_str(), "role" | "label" | "room"))
    }) {
        return Err(LinkError::Invalid {
            path: unknown.clone(),
            message: format!("{unknown}: not a field of a link; expected role, label and room"),
        });
    }
    if !body.is_object() {
        return Err(LinkError::Invalid {
            path: "".to_owned(),
            message: "expected an object such as {\"role\": \"moderator\", \"label\": \"Room B moderator\"}".to_owned(),
        });
    }
    LinkRequest::parse(
        text(body, "role")?.unwrap_or(""),
        text(body, "label")?.unwrap_or(""),
        text(body, "room")?,
    )
}

/// `POST /api/events/{code}/links {"role", "label", "room"?}`: 201 with the link's `url`,
/// shown this once.
pub async fn issue(
    State(app): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorise(&app, &headers, true)?;
    let code = parse_code(&code)?;
    let body = json_body(body)?;
    let issued = match request(&body) {
        Ok(request) => {
            admin::issue_link(app.hub().storage(), code, request, app.public_url()).await
        }
        Err(e) => Err(e),
    };
    Ok(match issued {
        Ok(link) => {
            tracing::info!(event = %code, link = %link.id, role = %link.role, "role link issued");
            (StatusCode::CREATED, Json(link)).into_response()
        }
        Err(e) => link_error(e),
    })
}

/// `GET /api/events/{code}/links`: every link of the event, revoked ones included.
pub async fn list(
    State(app): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorise(&app, &headers, false)?;
    let code = parse_code(&code)?;
    Ok(match admin::links(app.hub().storage(), code).await {
        Ok(links) => Json(json!({ "links": links })).into_response(),
        Err(e) => link_error(e),
    })
}

/// `DELETE /api/events/{code}/links/{id}`: revokes the link; its sockets close with 4001.
pub async fn revoke(
    State(app): State<AppState>,
    Path((code, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorise(&app, &headers, true)?;
    let code = parse_code(&code)?;
    let link = match admin::revoke_link(app.hub().storage(), code, &id).await {
        Ok(link) => link,
        Err(e) => return Ok(link_error(e)),
    };
    tracing::info!(event = %code, link = %link.id, "role link revoked");
    // Stored first, so a key checked from now on is refused; then the live event closes
    // the sockets the link opened (the owner's, wherever they are relayed from). If the
    // event cannot be reached now, the link is revoked all the same, and each socket it
    // opened finds out at its next check (within 25 s).
    match app.hub().event(code).await {
        Ok(Some(handle)) => {
            let revoke = Command::Revoke {
                link: link.id.clone(),
            };
            if handle.send(revoke).await.is_err() {
                tracing::warn!(event = %code, link = %link.id, "the live event was gone before it could close the link's sockets");
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(event = %code, link = %link.id, error = %e, "could not reach the live event to close the link's sockets");
        }
    }
    Ok(Json(link).into_response())
}
