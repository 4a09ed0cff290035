//! Role links: what an organiser hands to the people who run an event with them (a host, a
//! moderator, a presenter), each with a label saying whose it is. The secret in a link is a
//! token like the event's own host token; only its hash is stored.

use serde::{Deserialize, Serialize};

/// The longest label, in characters.
pub const MAX_LABEL: usize = 80;

/// What a role link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkRole {
    /// Everything the event's own host token does.
    Host,
    /// A host who cannot change the event's phase (`end`) or download raw answers.
    Moderator,
    /// The presenter's screen, read-only.
    Presenter,
}

impl LinkRole {
    pub fn parse(text: &str) -> Option<LinkRole> {
        match text {
            "host" => Some(LinkRole::Host),
            "moderator" => Some(LinkRole::Moderator),
            "presenter" => Some(LinkRole::Presenter),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkRole::Host => "host",
            LinkRole::Moderator => "moderator",
            LinkRole::Presenter => "presenter",
        }
    }

    /// Whether the link opens the host's dashboard (else the presenter's screen).
    pub fn is_staff(self) -> bool {
        matches!(self, LinkRole::Host | LinkRole::Moderator)
    }
}

/// A role link as the organiser sees it, listed or just issued. Its secret is not part of it
/// once issued: only the secret's hash is stored, beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleLink {
    pub id: String,
    /// `host`, `moderator` or `presenter` ([`LinkRole::as_str`]).
    pub role: String,
    pub label: String,
    /// The break-out room whose screen a presenter link opens, if it was issued for one.
    pub room: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The link to hand over, its secret in the fragment: only in the answer that issues it.
    /// Never stored, so a link read back has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A label as given, trimmed: 1 to [`MAX_LABEL`] characters, on one line.
pub fn parse_label(text: &str) -> Result<String, String> {
    let label = text.trim();
    let length = label.chars().count();
    if length == 0 {
        return Err("label: say whose link this is, such as \"Room B moderator\"".to_owned());
    }
    if length > MAX_LABEL {
        return Err(format!(
            "label: at most {MAX_LABEL} characters, not {length}"
        ));
    }
    if label.chars().any(char::is_control) {
        return Err("label: one line of text, without control characters".to_owned());
    }
    Ok(label.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_ones_are_refused() {
        for role in [LinkRole::Host, LinkRole::Moderator, LinkRole::Presenter] {
            assert_eq!(LinkRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(LinkRole::parse("Host"), None);
        assert_eq!(LinkRole::parse("owner"), None);
        assert!(LinkRole::Moderator.is_staff());
        assert!(!LinkRole::Presenter.is_staff());
    }

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(
            parse_label("  Room B moderator "),
            Ok("Room B moderator".into())
        );
        assert!(parse_label("   ").is_err_and(|e| e.starts_with("label:")));
        assert!(parse_label(&"x".repeat(MAX_LABEL)).is_ok());
        let long = parse_label(&"é".repeat(MAX_LABEL + 1));
        assert!(long.is_err_and(|e| e.contains("81")));
        assert!(parse_label("Room\nB").is_err());
    }
}
