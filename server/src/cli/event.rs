//! The `joinup event` commands: create, list, export, update, copy, rehearse, reset, and
//! role links (list, issue, revoke). Each reads its input, calls `crate::admin` (which does
//! the work, shared with the API) and prints one result; failures name what is wrong.

use std::path::Path;

use anyhow::Context;

use super::{Failure, open, parse_code};
use crate::config;
use crate::domain::phase::EventPhase;
use crate::domain::spec::{SpecFormat, parse_spec};

/// Reads and validates a spec file (.json or .toml).
fn read_spec(file: &Path) -> Result<crate::domain::Event, Failure> {
    let name = file.display();
    let format = match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("json") => SpecFormat::Json,
        Some("toml") => SpecFormat::Toml,
        _ => {
            return Err(Failure::Input(format!(
                "{name}: a spec file ends in .json or .toml"
            )));
        }
    };
    let text = std::fs::read_to_string(file).map_err(|e| Failure::Input(format!("{name}: {e}")))?;
    parse_spec(&text, format).map_err(|e| Failure::Input(format!("{name}: {e}")))
}

fn public_url_or_default(public_url: Option<String>) -> String {
    public_url
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{}", config::DEFAULT_ADDR))
}

pub(super) async fn create(
    file: &Path,
    database: &str,
    public_url: Option<String>,
) -> Result<(), Failure> {
    let event = read_spec(file)?;
    let storage = open(database).await?;
    let created = crate::admin::create_event(&storage, &event, &public_url_or_default(public_url))
        .await
        .context("storing the event")?;
    storage.close().await;
    print_created(&created);
    Ok(())
}

fn print_created(created: &crate::admin::Created) {
    println!("code: {}", created.code);
    println!("host token: {}", created.host_token);
    println!("presenter token: {}", created.presenter_token);
    println!("attendees: {}", created.attend_url);
    println!("host: {}", created.host_url);
    println!("presenter: {}", created.present_url);
}

/// An edit that was not made, as one line naming what is wrong.
fn edit_failure(e: crate::admin::EditError, what: &str) -> Failure {
    use crate::admin::EditError;
    match e {
        EditError::Storage(e) => Failure::Other(anyhow::Error::new(e).context("the database")),
        EditError::Refused(e) => Failure::Input(format!("{what}: {e}")),
        e @ EditError::Unsafe(_) => Failure::Input(format!("{what}: {e}")),
        EditError::Stale(current) => Failure::Input(format!(
            "the event was changed since it was exported: its ETag is now {current}; export it again"
        )),
        other => Failure::Input(other.to_string()),
    }
}

pub(super) async fn list(database: &str) -> Result<(), Failure> {
    let storage = open(database).await?;
    let rows = storage.list_events().await.context("listing events")?;
    storage.close().await;
    for row in rows {
        let spec: serde_json::Value = serde_json::from_str(&row.spec).unwrap_or_default();
        let rehearsal = if spec["rehearsal"] == serde_json::Value::Bool(true) {
            " (rehearsal)"
        } else {
            ""
        };
        println!(
            "{}\t{}{rehearsal}\t{}\t{} joined\t{}",
            row.code,
            row.phase().as_str(),
            spec["starts_at"].as_str().unwrap_or("-"),
            row.joined,
            spec["title"].as_str().unwrap_or(""),
        );
    }
    Ok(())
}

pub(super) async fn export(code: &str, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let exported = crate::admin::export(&storage, code)
        .await
        .map_err(|e| edit_failure(e, code.as_str()))?;
    storage.close().await;
    let event = parse_spec(&exported.spec, SpecFormat::Json)
        .map_err(|e| Failure::Other(anyhow::anyhow!("event {code}'s stored spec: {e}")))?;
    let pretty = serde_json::to_string_pretty(&event.spec).context("writing the spec")?;
    println!("{pretty}");
    eprintln!("etag: {}", exported.etag);
    Ok(())
}

pub(super) async fn update(
    code: &str,
    file: &Path,
    if_match: Option<&str>,
    database: &str,
) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let event = read_spec(file)?;
    let storage = open(database).await?;
    let updated = crate::admin::update(&storage, code, if_match, &event, &Default::default())
        .await
        .map_err(|e| edit_failure(e, &file.display().to_string()))?;
    storage.close().await;
    if updated.changed {
        println!("event {code} updated; etag: {}", updated.etag);
    } else {
        println!("event {code} already has this spec; etag: {}", updated.etag);
    }
    Ok(())
}

/// A copy (`changes`), or with `None` a rehearsal, of an event.
pub(super) async fn copy(
    code: &str,
    changes: Option<crate::admin::CopyChanges>,
    database: &str,
    public_url: Option<String>,
) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let public_url = public_url_or_default(public_url);
    let created = match changes {
        Some(changes) => crate::admin::copy(&storage, code, changes, &public_url).await,
        None => crate::admin::rehearse(&storage, code, &public_url).await,
    }
    .map_err(|e| edit_failure(e, code.as_str()))?;
    storage.close().await;
    print_created(&created);
    Ok(())
}

pub(super) async fn reset(code: &str, offline: bool, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    // A running server may hold a rehearsal that is not closed, with people connected, and
    // this command cannot reach its memory: unless told no server runs, only a closed one
    // is reset here (a server that still holds it unloads it when it sees the reset). A
    // real event is refused by `admin::reset`.
    let stored = storage.event(code).await.context("the database")?;
    if let Some(stored) = stored.filter(|_| !offline) {
        let event = parse_spec(&stored.spec, SpecFormat::Json)
            .map_err(|e| Failure::Other(anyhow::anyhow!("event {code}'s stored spec: {e}")))?;
        let phase = stored.phase(&event.times);
        if event.spec.rehearsal && phase != EventPhase::Closed {
            storage.close().await;
            return Err(Failure::Input(format!(
                "rehearsal {code} is {} and may be running on a server: reset it on the /organise page or with POST /api/events/{code}/reset, which stop it first (or, with no server running, add --offline)",
                phase.as_str()
            )));
        }
    }
    crate::admin::reset(&storage, code)
        .await
        .map_err(|e| edit_failure(e, code.as_str()))?;
    storage.close().await;
    println!("rehearsal {code} reset: no attendees, answers or questions; live again");
    Ok(())
}

/// A link that was not issued or revoked, as one line naming what is wrong.
pub(super) fn link_failure(e: crate::admin::LinkError) -> Failure {
    use crate::admin::LinkError;
    match e {
        LinkError::Storage(e) => Failure::Other(anyhow::Error::new(e).context("the database")),
        LinkError::Invalid { message, .. } => Failure::Input(format!("--{message}")),
        other => Failure::Input(other.to_string()),
    }
}

fn print_link(link: &crate::admin::Link) {
    println!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        link.id,
        link.role,
        link.label,
        link.room.as_deref().unwrap_or("-"),
        link.created_at,
        link.revoked_at
            .as_deref()
            .map_or("active".to_owned(), |at| format!("revoked {at}")),
    );
}

pub(super) async fn links(code: &str, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let links = crate::admin::links(&storage, code)
        .await
        .map_err(link_failure)?;
    storage.close().await;
    links.iter().for_each(print_link);
    Ok(())
}

pub(super) async fn link(
    code: &str,
    request: crate::admin::LinkRequest,
    database: &str,
    public_url: Option<String>,
) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let link =
        crate::admin::issue_link(&storage, code, request, &public_url_or_default(public_url))
            .await
            .map_err(link_failure)?;
    storage.close().await;
    print_link(&link);
    if let Some(url) = &link.url {
        println!("url: {url}");
    }
    Ok(())
}

pub(super) async fn revoke(code: &str, id: &str, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let link = crate::admin::revoke_link(&storage, code, id)
        .await
        .map_err(link_failure)?;
    storage.close().await;
    print_link(&link);
    Ok(())
}
