//! What a host's or presenter's key opens: the event's own host and presenter tokens, or
//! a role link the organiser issued (host, moderator or presenter) and has not revoked.
//!
//! The event's own tokens are checked against the hashes loaded with the event; role links
//! against the database on every check, so a link revoked on any node of a cluster opens
//! nothing anywhere from that moment on.

use axum::http::HeaderMap;

use super::{ApiError, AppState};
use crate::domain::link::{LinkRole, RoleLink};
use crate::domain::token;
use crate::hub::EventInfo;
use crate::storage::{Storage, StorageError};

/// What a key lets its holder do, and the role link it is, if it is one.
#[derive(Debug, Clone)]
pub struct KeyAccess {
    pub role: LinkRole,
    pub link: Option<RoleLink>,
}

impl KeyAccess {
    pub fn label(&self) -> Option<&str> {
        self.link.as_ref().map(|l| l.label.as_str())
    }
}

/// The access `key` gives to the event, `None` when it opens nothing (unknown, or a revoked
/// link's). Never logs the key.
pub async fn access(
    storage: &Storage,
    info: &EventInfo,
    key: &str,
) -> Result<Option<KeyAccess>, StorageError> {
    if info.is_host(key) {
        return Ok(Some(KeyAccess {
            role: LinkRole::Host,
            link: None,
        }));
    }
    if info.is_presenter(key) {
        return Ok(Some(KeyAccess {
            role: LinkRole::Presenter,
            link: None,
        }));
    }
    // Links carry tokens of one shape: anything else is not worth a query.
    if !token::is_token(key) {
        return Ok(None);
    }
    let Some(link) = storage
        .role_link_by_secret(info.code, &token::hash_token(key))
        .await?
    else {
        return Ok(None);
    };
    if link.revoked_at.is_some() {
        return Ok(None);
    }
    let Some(role) = LinkRole::parse(&link.role) else {
        return Err(StorageError::Corrupt(format!(
            "role link {} has the unknown role {:?}",
            link.id, link.role
        )));
    };
    Ok(Some(KeyAccess {
        role,
        link: Some(link),
    }))
}

/// The role the request's `Authorization: Bearer KEY` gives for the event, if any.
pub async fn bearer_access(
    app: &AppState,
    info: &EventInfo,
    headers: &HeaderMap,
) -> Result<Option<LinkRole>, ApiError> {
    let Some(key) = super::bearer(headers) else {
        return Ok(None);
    };
    let found = access(app.hub().storage(), info, key)
        .await
        .map_err(ApiError::internal)?;
    Ok(found.map(|a| a.role))
}
