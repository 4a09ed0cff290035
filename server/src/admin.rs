//! Organiser operations shared by the command line and the HTTP API: creating events, the
//! demo event, and the organiser key.

use std::path::Path;

use serde::Serialize;

use crate::domain::spec::Event;
use crate::domain::{EventCode, clock, token};
use crate::storage::{Storage, StorageError, StoredEvent};

/// The bundled demo: the 2026 edition of the dual diagnosis network's annual conference.
pub const DEMO_SPEC: &str = include_str!("../fixtures/dual-diagnosis-2026.json");
const DEMO_SETTING: &str = "demo_event_code";
const ORGANISER_KEY_FILE: &str = "organiser-key";

/// What creating an event gives back: the only time its tokens are shown.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub code: String,
    pub host_token: String,
    pub presenter_token: String,
    pub attend_url: String,
    pub host_url: String,
    pub present_url: String,
}

impl Created {
    fn new(
        code: EventCode,
        host_token: String,
        presenter_token: String,
        public_url: &str,
    ) -> Created {
        Created {
            code: code.to_string(),
            attend_url: format!("{public_url}/e/{code}"),
            host_url: format!("{public_url}/host/{code}#{host_token}"),
            present_url: format!("{public_url}/present/{code}#{presenter_token}"),
            host_token,
            presenter_token,
        }
    }
}

/// Stores a validated event under a fresh code, with fresh host and presenter tokens.
pub async fn create_event(
    storage: &Storage,
    event: &Event,
    public_url: &str,
) -> Result<Created, StorageError> {
    let spec =
        serde_json::to_string(&event.spec).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    loop {
        let code = EventCode::random();
        let host_token = token::new_token();
        let presenter_token = token::new_token();
        let stored = StoredEvent {
            code,
            spec: spec.clone(),
            host_token_hash: token::hash_token(&host_token),
            presenter_token_hash: token::hash_token(&presenter_token),
            state: "live".into(),
            focus: None,
            created_at: clock::now_rfc3339(),
            ended_at: None,
            purged_at: None,
        };
        // 31^6 codes: a clash is rare, and simply means another draw.
        if storage
            .insert_event(
                &stored,
                &event.spec.title,
                event.spec.series.as_deref(),
                event.spec.starts_at.as_deref(),
            )
            .await?
        {
            return Ok(Created::new(code, host_token, presenter_token, public_url));
        }
    }
}

/// Creates the demo event if this database has none; otherwise issues it fresh host and
/// presenter tokens (only their hashes are stored, so old links cannot be shown again).
pub async fn ensure_demo(storage: &Storage, public_url: &str) -> Result<Created, StorageError> {
    if let Some(code) = storage
        .setting(DEMO_SETTING)
        .await?
        .as_deref()
        .and_then(EventCode::parse)
        && storage.event(code).await?.is_some()
    {
        let host_token = token::new_token();
        let presenter_token = token::new_token();
        storage
            .set_tokens(
                code,
                &token::hash_token(&host_token),
                &token::hash_token(&presenter_token),
            )
            .await?;
        return Ok(Created::new(code, host_token, presenter_token, public_url));
    }
    let event = crate::domain::spec::parse_spec(DEMO_SPEC, crate::domain::spec::SpecFormat::Json)
        .map_err(|e| StorageError::Corrupt(format!("bundled demo spec: {e}")))?;
    let created = create_event(storage, &event, public_url).await?;
    storage.set_setting(DEMO_SETTING, &created.code).await?;
    Ok(created)
}

/// The organiser key: the configured one, or the one kept in the data folder, generated on
/// first start. Returns the key and whether it was just generated (to be printed once).
pub fn organiser_key(
    configured: Option<&str>,
    folder: Option<&Path>,
) -> std::io::Result<(String, bool)> {
    if let Some(key) = configured.filter(|k| !k.trim().is_empty()) {
        return Ok((key.trim().to_owned(), false));
    }
    let folder = folder.unwrap_or(Path::new("joinup-data"));
    let path = folder.join(ORGANISER_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(key) if !key.trim().is_empty() => return Ok((key.trim().to_owned(), false)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::create_dir_all(folder)?;
    let key = token::new_token();
    write_private(&path, &key)?;
    Ok((key, true))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
