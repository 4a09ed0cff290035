//! The organiser's role links: `POST /api/events/{code}/links` issues one (host, moderator
//! or presenter, with a label), `GET` lists them (never a secret: only its hash is kept),
//! `DELETE /api/events/{code}/links/{id}` revokes one and closes at once (4001) every socket
//! it opened, on whichever node of a cluster the event runs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::json_body;
use super::organise::{CHANGES, OrganiserEvent, READS};
use super::{ApiError, AppState};
use crate::admin::{self, LinkError, LinkRequest};
use crate::hub::Command;

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
    OrganiserEvent(code): OrganiserEvent<CHANGES>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Response> {
    let request = request(&json_body(body)?).map_err(link_error)?;
    let link = admin::issue_link(app.hub().storage(), code, request, app.public_url())
        .await
        .map_err(link_error)?;
    tracing::info!(event = %code, link = %link.id, role = %link.role, "role link issued");
    Ok((StatusCode::CREATED, Json(link)).into_response())
}

/// `GET /api/events/{code}/links`: every link of the event, revoked ones included.
pub async fn list(
    State(app): State<AppState>,
    OrganiserEvent(code): OrganiserEvent<READS>,
) -> Result<Response, Response> {
    let links = admin::links(app.hub().storage(), code)
        .await
        .map_err(link_error)?;
    Ok(Json(json!({ "links": links })).into_response())
}

/// The `{id}` of a link's route (its `{code}` is the [`OrganiserEvent`]'s).
#[derive(serde::Deserialize)]
pub struct LinkId {
    id: String,
}

/// `DELETE /api/events/{code}/links/{id}`: revokes the link; its sockets close with 4001.
pub async fn revoke(
    State(app): State<AppState>,
    OrganiserEvent(code): OrganiserEvent<CHANGES>,
    Path(LinkId { id }): Path<LinkId>,
) -> Result<Response, Response> {
    let link = admin::revoke_link(app.hub().storage(), code, &id)
        .await
        .map_err(link_error)?;
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
