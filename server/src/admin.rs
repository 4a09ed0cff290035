//! Organiser operations shared by the command line and the HTTP API: creating, exporting,
//! updating, copying, rehearsing and resetting events, issuing and revoking role links, the
//! demo event, and the organiser key.

use std::collections::HashSet;
use std::path::Path;

use serde::Serialize;

use crate::domain::SpecError;
use crate::domain::edit::check_edit;
use crate::domain::link::{self, LinkRole};
use crate::domain::spec::{Event, MAX_TITLE, SpecFormat, parse_spec, validate};
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
    let spec = spec_text(event)?;
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
            started_at: None,
            current_sessions: None,
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

/// An event's spec as stored, with its entity tag: what `export` gives and what an
/// `update` must name to replace.
#[derive(Debug, Clone)]
pub struct Exported {
    pub spec: String,
    pub etag: String,
}

/// The entity tag of a stored spec: a quoted prefix of its SHA-256, so two organisers who
/// read the same spec hold the same tag and a changed spec has a new one.
pub fn etag(spec: &str) -> String {
    format!("\"{}\"", &token::hash_token(spec)[..32])
}

/// Why an edit was not made.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("there is no event {0}")]
    NoEvent(EventCode),
    /// Someone else changed the spec since it was read: the current tag.
    #[error("the event was changed by someone else since it was read")]
    Stale(String),
    /// The spec is invalid.
    #[error("{0}")]
    Refused(SpecError),
    /// The change would misread stored answers: each reason ([`check_edit`]).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Unsafe(Vec<SpecError>),
    /// Only a rehearsal may be reset.
    #[error("only a rehearsal can be reset; {0} is a real event")]
    NotRehearsal(EventCode),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// An event's stored spec and its tag.
pub async fn export(storage: &Storage, code: EventCode) -> Result<Exported, EditError> {
    let stored = storage.event(code).await?.ok_or(EditError::NoEvent(code))?;
    Ok(Exported {
        etag: etag(&stored.spec),
        spec: stored.spec,
    })
}

/// What an update did.
#[derive(Debug, Clone)]
pub struct Updated {
    pub etag: String,
    /// `false` when the new spec is the stored one (nothing was written).
    pub changed: bool,
}

/// Replaces an event's spec with `new`, if it is still the one tagged `if_match` (any, when
/// `None`: the command line, which has no one to race) and the change keeps every stored
/// answer's meaning ([`check_edit`]). `live`: what the running event's actor knows to be
/// open or answered beyond what is stored (a state written behind, an answer on its way to
/// disk); the actor calls this itself, between two commands, then applies the new spec.
pub async fn update(
    storage: &Storage,
    code: EventCode,
    if_match: Option<&str>,
    new: &Event,
    live: &HashSet<String>,
) -> Result<Updated, EditError> {
    let stored = storage.event(code).await?.ok_or(EditError::NoEvent(code))?;
    let current = etag(&stored.spec);
    if if_match.is_some_and(|tag| tag != current) {
        return Err(EditError::Stale(current));
    }
    let old = parse_spec(&stored.spec, SpecFormat::Json)
        .map_err(|e| StorageError::Corrupt(format!("event {code}'s stored spec: {e}")))?;
    let mut answered: HashSet<String> = storage
        .answered_activities(code)
        .await?
        .into_iter()
        .collect();
    answered.extend(live.iter().cloned());
    check_edit(&old, new, &answered).map_err(EditError::Unsafe)?;
    let text = spec_text(new)?;
    if text == stored.spec {
        return Ok(Updated {
            etag: current,
            changed: false,
        });
    }
    let replaced = storage
        .replace_spec(
            code,
            &stored.spec,
            &text,
            &new.spec.title,
            new.spec.series.as_deref(),
            new.spec.starts_at.as_deref(),
        )
        .await?;
    if !replaced {
        let now = storage.event(code).await?.ok_or(EditError::NoEvent(code))?;
        return Err(EditError::Stale(etag(&now.spec)));
    }
    Ok(Updated {
        etag: etag(&text),
        changed: true,
    })
}

/// What changes in a copy of an edition; the rest of the spec is copied as it is.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyChanges {
    #[serde(default)]
    pub title: Option<String>,
    /// The new edition's start (RFC 3339); the copy has none when not given.
    #[serde(default)]
    pub starts_at: Option<String>,
}

/// A new event (new code, new tokens, no answers) from an existing one's spec, with a new
/// title and start date: the next edition of a series.
pub async fn copy(
    storage: &Storage,
    code: EventCode,
    changes: CopyChanges,
    public_url: &str,
) -> Result<Created, EditError> {
    let stored = storage.event(code).await?.ok_or(EditError::NoEvent(code))?;
    let mut spec = parse_spec(&stored.spec, SpecFormat::Json)
        .map_err(|e| StorageError::Corrupt(format!("event {code}'s stored spec: {e}")))?
        .spec;
    if let Some(title) = changes.title {
        spec.title = title;
    }
    spec.starts_at = changes.starts_at;
    spec.rehearsal = false;
    let event = validate(spec).map_err(EditError::Refused)?;
    Ok(create_event(storage, &event, public_url).await?)
}

/// A practice copy of an event: the same spec marked as a rehearsal (never compared with
/// other editions of its series), under a new code with new tokens.
pub async fn rehearse(
    storage: &Storage,
    code: EventCode,
    public_url: &str,
) -> Result<Created, EditError> {
    let stored = storage.event(code).await?.ok_or(EditError::NoEvent(code))?;
    let mut spec = parse_spec(&stored.spec, SpecFormat::Json)
        .map_err(|e| StorageError::Corrupt(format!("event {code}'s stored spec: {e}")))?
        .spec;
    const SUFFIX: &str = " (rehearsal)";
    if !spec.rehearsal {
        let room = MAX_TITLE - SUFFIX.len();
        spec.title = format!(
            "{}{SUFFIX}",
            spec.title.chars().take(room).collect::<String>()
        );
    }
    spec.rehearsal = true;
    let event = validate(spec).map_err(EditError::Refused)?;
    Ok(create_event(storage, &event, public_url).await?)
}

/// Clears everything a rehearsal collected, so it can be run again; refused for a real
/// event. The caller stops the live event first and loads it afresh after.
pub async fn reset(storage: &Storage, code: EventCode) -> Result<(), EditError> {
    let stored = storage.event(code).await?.ok_or(EditError::NoEvent(code))?;
    let event = parse_spec(&stored.spec, SpecFormat::Json)
        .map_err(|e| StorageError::Corrupt(format!("event {code}'s stored spec: {e}")))?;
    if !event.spec.rehearsal {
        return Err(EditError::NotRehearsal(code));
    }
    storage.reset_event(code).await?;
    Ok(())
}

/// The form a spec is stored in (and exported as): the validated spec with every default
/// written out, so a spec exported and imported again is the same text.
pub fn spec_text(event: &Event) -> Result<String, StorageError> {
    serde_json::to_string(&event.spec).map_err(|e| StorageError::Corrupt(e.to_string()))
}

/// A role link as the organiser sees it: the one type storage reads and writes, here under
/// the name the command line and the HTTP API give it.
pub use crate::domain::link::RoleLink as Link;

/// What a new role link is: its role, label and (presenter links only) room.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    pub role: LinkRole,
    pub label: String,
    pub room: Option<String>,
}

/// Why a role link was not issued or revoked.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("there is no event {0}")]
    NoEvent(EventCode),
    /// A field of the request is wrong: the field, and what is wrong with it.
    #[error("{message}")]
    Invalid { path: String, message: String },
    #[error("event {0} has no link {1}")]
    NoLink(EventCode, String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl LinkRequest {
    /// A request as given (`{"role", "label", "room"}` over HTTP, flags on the command
    /// line), every field checked; the room against the event's.
    pub fn parse(role: &str, label: &str, room: Option<&str>) -> Result<LinkRequest, LinkError> {
        let role = LinkRole::parse(role).ok_or_else(|| LinkError::Invalid {
            path: "role".to_owned(),
            message: format!("role: one of host, moderator, presenter, not {role:?}"),
        })?;
        let label = link::parse_label(label).map_err(|message| LinkError::Invalid {
            path: "label".to_owned(),
            message,
        })?;
        let room = room.map(str::trim).filter(|r| !r.is_empty());
        if room.is_some() && role != LinkRole::Presenter {
            return Err(LinkError::Invalid {
                path: "room".to_owned(),
                message: "room: only a presenter link opens a room's screen".to_owned(),
            });
        }
        Ok(LinkRequest {
            role,
            label,
            room: room.map(str::to_owned),
        })
    }
}

/// Issues a role link: a fresh secret, of which only the hash is kept, in a URL of the
/// host's page (host and moderator) or the presenter's (with `?room=` for a room's screen).
pub async fn issue_link(
    storage: &Storage,
    code: EventCode,
    request: LinkRequest,
    public_url: &str,
) -> Result<Link, LinkError> {
    let stored = storage.event(code).await?.ok_or(LinkError::NoEvent(code))?;
    if let Some(room) = &request.room {
        let event = parse_spec(&stored.spec, SpecFormat::Json)
            .map_err(|e| StorageError::Corrupt(format!("event {code}'s stored spec: {e}")))?;
        if !event.rooms.contains(room) {
            return Err(LinkError::Invalid {
                path: "room".to_owned(),
                message: format!(
                    "room: the event has no room {room:?}; its rooms are {:?}",
                    event.rooms
                ),
            });
        }
    }
    let secret = token::new_token();
    let mut link = Link {
        id: token::new_item_id(),
        role: request.role.as_str().to_owned(),
        label: request.label,
        room: request.room,
        created_at: clock::now_rfc3339(),
        revoked_at: None,
        url: None,
    };
    storage
        .insert_role_link(code, &link, &token::hash_token(&secret))
        .await?;
    let page = if request.role.is_staff() {
        "host"
    } else {
        "present"
    };
    let query = link
        .room
        .as_deref()
        .map(|room| format!("?room={}", url_encode(room)))
        .unwrap_or_default();
    link.url = Some(format!("{public_url}/{page}/{code}{query}#{secret}"));
    Ok(link)
}

/// The event's role links, the oldest first, revoked ones included; never their secrets.
pub async fn links(storage: &Storage, code: EventCode) -> Result<Vec<Link>, LinkError> {
    storage.event(code).await?.ok_or(LinkError::NoEvent(code))?;
    Ok(storage.role_links(code).await?)
}

/// Marks a role link revoked (again is harmless): from now on its secret opens nothing.
/// The caller closes the connections it opened.
pub async fn revoke_link(storage: &Storage, code: EventCode, id: &str) -> Result<Link, LinkError> {
    storage.event(code).await?.ok_or(LinkError::NoEvent(code))?;
    storage
        .revoke_role_link(code, id, &clock::now_rfc3339())
        .await?
        .ok_or_else(|| LinkError::NoLink(code, id.to_owned()))
}

/// Percent-encodes a room name for a query string: everything but unreserved characters.
fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_encoded_for_a_query_string() {
        assert_eq!(url_encode("Room B"), "Room%20B");
        assert_eq!(url_encode("Café & co"), "Caf%C3%A9%20%26%20co");
    }

    #[test]
    fn link_requests_name_the_field_at_fault() {
        let ok = LinkRequest::parse("moderator", " Room B moderator ", None);
        assert!(ok.is_ok_and(|r| r.label == "Room B moderator" && r.role == LinkRole::Moderator));
        let path = |r: Result<LinkRequest, LinkError>| match r {
            Err(LinkError::Invalid { path, .. }) => path,
            _ => "none".to_owned(),
        };
        assert_eq!(path(LinkRequest::parse("owner", "x", None)), "role");
        assert_eq!(path(LinkRequest::parse("host", "", None)), "label");
        assert_eq!(
            path(LinkRequest::parse("host", "x", Some("Room B"))),
            "room"
        );
        assert!(LinkRequest::parse("presenter", "x", Some("Room B")).is_ok());
    }
}
