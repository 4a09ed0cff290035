//! `joinup report` (every report document written to a folder) and `joinup purge` (an
//! ended event's raw answers deleted, its aggregates kept). The documents are
//! `crate::report`'s.

use std::path::Path;

use anyhow::Context;

use super::{Failure, open, parse_code};

pub(super) async fn report(code: &str, out: &Path, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let data = crate::report::load(&storage, code)
        .await
        .context("reading the event")?
        .ok_or_else(|| Failure::Input(format!("there is no event {code} in this database")))?;
    storage.close().await;
    std::fs::create_dir_all(out).map_err(|e| Failure::Input(format!("{}: {e}", out.display())))?;
    for name in crate::report::DOCUMENTS {
        let (bytes, _) = crate::report::document(&data, name)
            .with_context(|| format!("building {name}"))?
            .with_context(|| format!("no document {name}"))?;
        let path = out.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

pub(super) async fn purge(code: &str, database: &str) -> Result<(), Failure> {
    let code = parse_code(code)?;
    let storage = open(database).await?;
    let Some(stored) = storage.event(code).await.context("reading the event")? else {
        return Err(Failure::Input(format!(
            "there is no event {code} in this database"
        )));
    };
    let times = serde_json::from_str::<crate::domain::EventSpec>(&stored.spec)
        .map(|spec| crate::domain::phase::Times::of(&spec))
        .unwrap_or_default();
    if stored.phase(&times) != crate::domain::phase::EventPhase::Closed {
        return Err(Failure::Input(format!(
            "event {code} is still live: end it first (the host's End button, or POST /api/events/{code}/end)"
        )));
    }
    if stored.purged_at.is_some() {
        println!("event {code} was already purged; nothing to do");
        return Ok(());
    }
    crate::report::purge(&storage, code)
        .await
        .context("purging")?;
    storage.close().await;
    println!(
        "event {code}: raw answers and attendee tokens deleted; the report's aggregates are kept"
    );
    Ok(())
}
