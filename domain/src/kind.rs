//! Activity kinds: the kind as written in a spec ([`Kind`]) and, once checked, the kind
//! with its settings ([`ActivityKind`]), which is what the live hub and the report count by.
//!
//! The spec's parsing and validation stay with the server (`domain/spec.rs`); these types are
//! shared so the report counts the same kinds the hub does, typed rather than by name.

use serde::{Deserialize, Serialize};

/// An activity's `kind` as written in a spec, before the fields that go with it are
/// checked. Once checked, an activity's kind with its settings is an [`ActivityKind`]: the
/// rest of the server sees only that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Choice,
    Scale,
    Words,
    Text,
    Pledge,
    /// Put every option in order of preference.
    Ranking,
    /// Share a budget of points (100 by default) across the options.
    Points,
}

impl Kind {
    /// The kind named `name` as written (`"choice"`...); `None` for a name no kind has.
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "choice" => Kind::Choice,
            "scale" => Kind::Scale,
            "words" => Kind::Words,
            "text" => Kind::Text,
            "pledge" => Kind::Pledge,
            "ranking" => Kind::Ranking,
            "points" => Kind::Points,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Choice => "choice",
            Kind::Scale => "scale",
            Kind::Words => "words",
            Kind::Text => "text",
            Kind::Pledge => "pledge",
            Kind::Ranking => "ranking",
            Kind::Points => "points",
        }
    }

    /// Kinds whose closed tallies hosts see by sector, under the small-group rule.
    pub fn has_breakdown(self) -> bool {
        matches!(
            self,
            Kind::Choice | Kind::Scale | Kind::Ranking | Kind::Points
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Pre,
    Post,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pre => "pre",
            Phase::Post => "post",
        }
    }

    /// The phase named `name` (`"pre"` or `"post"`).
    pub fn parse(name: &str) -> Option<Phase> {
        match name {
            "pre" => Some(Phase::Pre),
            "post" => Some(Phase::Post),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
}

/// A checked activity's kind with its settings: what its answers may be, and what its
/// [`crate::Tally`] counts.
#[derive(Debug, Clone, PartialEq)]
pub enum ActivityKind {
    Choice {
        options: Vec<String>,
        multiple: bool,
        max_choices: Option<u32>,
    },
    Scale {
        min: i64,
        max: i64,
        labels: Option<Labels>,
        pair: Option<(String, Phase)>,
    },
    Words {
        max_words: u32,
    },
    Text {
        max_len: u32,
    },
    Pledge {
        text: String,
    },
    /// Every option put in order, first the most important.
    Ranking {
        options: Vec<String>,
    },
    /// `budget` points shared across the options, all of them spent.
    Points {
        options: Vec<String>,
        budget: u32,
    },
}

impl ActivityKind {
    /// The kind's name, as written in a spec and sent to clients: `"choice"`, `"scale"`...
    pub fn name(&self) -> &'static str {
        self.written().as_str()
    }

    /// Whether hosts see this kind's closed tallies by sector, under the small-group rule.
    pub fn has_breakdown(&self) -> bool {
        self.written().has_breakdown()
    }

    /// The kind as written in a spec.
    pub fn written(&self) -> Kind {
        match self {
            ActivityKind::Choice { .. } => Kind::Choice,
            ActivityKind::Scale { .. } => Kind::Scale,
            ActivityKind::Words { .. } => Kind::Words,
            ActivityKind::Text { .. } => Kind::Text,
            ActivityKind::Pledge { .. } => Kind::Pledge,
            ActivityKind::Ranking { .. } => Kind::Ranking,
            ActivityKind::Points { .. } => Kind::Points,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_phases_read_back_their_names() {
        for kind in [
            Kind::Choice,
            Kind::Scale,
            Kind::Words,
            Kind::Text,
            Kind::Pledge,
            Kind::Ranking,
            Kind::Points,
        ] {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("gain"), None);
        assert_eq!(Phase::parse("post"), Some(Phase::Post));
        assert_eq!(Phase::parse("Pre"), None);
    }
}
