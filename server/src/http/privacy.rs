//! The privacy notice attendees read (`/e/{code}/privacy`) and the organiser's draft records
//! (`/api/events/{code}/records.html`), both written from the event's stored settings.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::organise::{Organiser, READS};
use super::{ApiError, AppState};
use crate::domain::EventCode;
use crate::domain::spec::{Event, SpecFormat, parse_spec};

/// The stored event with `code`, as its spec now reads.
async fn stored(app: &AppState, code: &str) -> Result<(EventCode, Event), ApiError> {
    let parsed = EventCode::parse(code).ok_or_else(|| ApiError::no_event(code))?;
    let stored = app
        .hub()
        .storage()
        .event(parsed)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::no_event(code))?;
    let event = parse_spec(&stored.spec, SpecFormat::Json).map_err(ApiError::internal)?;
    Ok((parsed, event))
}

/// `GET /e/{code}/privacy`: the attendees' privacy notice, a page of its own.
pub async fn notice(
    State(app): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let (code, event) = stored(&app, &code).await?;
    let html = crate::notice::attendee_notice(&event, code, app.retention_days());
    Ok(super::pages::page_owned(html))
}

/// `GET /api/events/{code}/records.html`: the organiser's draft record of processing and
/// data-protection impact summary, as an attachment.
pub async fn records(
    State(app): State<AppState>,
    Path(code): Path<String>,
    _: Organiser<READS>,
) -> Result<Response, ApiError> {
    let (code, event) = stored(&app, &code).await?;
    let html = crate::notice::records(&event, code, app.retention_days(), app.public_url());
    let disposition = format!("attachment; filename=\"joinup-{code}-privacy-records.html\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Html(html),
    )
        .into_response())
}
