//! `GET`/`PUT /api/events/{code}/themes`: the host renames or merges the report's themes of
//! open text before the report is final. Names are stored per event and applied when the
//! report is built (`report::snapshot`); what the themes hold comes from the report itself,
//! small-group rule applied.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use joinup_reports::themes;
use serde_json::{Value, json};

use super::api::json_body;
use super::{ApiError, AppState};
use crate::domain::EventCode;
use crate::domain::link::LinkRole;

/// The longest name a theme may be given.
pub const MAX_THEME_NAME: usize = 80;

pub async fn get(
    State(app): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let code = host_event(&app, &code, &headers).await?;
    current(&app, code).await.map(Json)
}

pub async fn put(
    State(app): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let code = host_event(&app, &code, &headers).await?;
    let names = parse_names(&json_body(body)?)?;
    app.hub()
        .storage()
        .set_theme_names(code, &names)
        .await
        .map_err(ApiError::internal)?;
    current(&app, code).await.map(Json)
}

async fn host_event(
    app: &AppState,
    code: &str,
    headers: &HeaderMap,
) -> Result<EventCode, ApiError> {
    let handle = app.event(code).await?;
    let access = super::keys::bearer_access(app, &handle.info(), headers).await?;
    if !access.is_some_and(LinkRole::is_staff) {
        return Err(ApiError::unauthorized(
            "themes need the event's host token (or a host or moderator link's) as a Bearer token",
        ));
    }
    Ok(handle.info().code)
}

/// `{"names": {THEME_ID: NAME, ...}}`: every id a known theme, every name a non-blank string
/// of at most 80 characters. A theme left out (or given its default name) keeps its default.
fn parse_names(body: &Value) -> Result<Vec<(String, String)>, ApiError> {
    let bad = |m: String| ApiError::bad_request("bad_body", m);
    let Some(names) = body.get("names").and_then(Value::as_object) else {
        return Err(bad(
            "names: expected an object of theme id to name, such as {\"names\": {\"funding\": \"Money\"}}"
                .to_owned(),
        ));
    };
    let mut out = Vec::new();
    for (id, name) in names {
        if !themes::ids().any(|known| known == id) {
            let known: Vec<&str> = themes::ids().collect();
            return Err(bad(format!(
                "names.{id}: no such theme; the themes are {}",
                known.join(", ")
            )));
        }
        let Some(name) = name.as_str().map(str::trim) else {
            return Err(bad(format!("names.{id}: expected a string")));
        };
        if name.is_empty() {
            return Err(bad(format!("names.{id}: must not be blank")));
        }
        if name.chars().count() > MAX_THEME_NAME {
            return Err(bad(format!(
                "names.{id}: must be at most {MAX_THEME_NAME} characters"
            )));
        }
        if name != themes::default_name(id) {
            out.push((id.clone(), name.to_owned()));
        }
    }
    Ok(out)
}

/// Every theme with its default and current name, and the themes as the report shows them.
async fn current(app: &AppState, code: EventCode) -> Result<Value, ApiError> {
    let storage = app.hub().storage();
    let names: std::collections::BTreeMap<String, String> = storage
        .theme_names(code)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .collect();
    let data = crate::report::load(storage, code)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::no_event(code.as_str()))?;
    let list: Vec<Value> = themes::ids()
        .map(|id| {
            let default = themes::default_name(id);
            json!({
                "id": id,
                "default_name": default,
                "name": names.get(id).map_or(default, String::as_str),
            })
        })
        .collect();
    Ok(json!({
        "themes": list,
        "purged": data.summary.purged,
        "sets": data.summary.themes,
    }))
}
