//! Reactions: the small set of signals an attendee may send at any moment ("slow down",
//! "need a break", "agree"), counted for the host and never stored against a person.
//!
//! The catalogue is fixed here, so pages can label each key in every language; an event's
//! spec picks which of them its attendees see (`reactions`), in the order they show.

/// Every reaction an event may offer, by key.
pub const REACTIONS: &[&str] = &[
    "agree",
    "not_sure",
    "slow_down",
    "need_a_break",
    "cant_hear",
    "thanks",
];

/// The reactions of an event whose spec names none: what a room of practitioners, people
/// with lived experience and commissioners most often needs to say without interrupting.
pub const DEFAULT_REACTIONS: &[&str] = &["agree", "slow_down", "need_a_break", "cant_hear"];

pub fn default_reactions() -> Vec<String> {
    DEFAULT_REACTIONS.iter().map(|r| (*r).to_owned()).collect()
}

/// Checks a spec's `reactions`: known keys, none twice. The error is (a path suffix such as
/// `[2]`, or empty for the whole list; a message).
pub fn check_spec(reactions: &[String]) -> Result<(), (String, String)> {
    for (i, key) in reactions.iter().enumerate() {
        if !REACTIONS.contains(&key.as_str()) {
            return Err((
                format!("[{i}]"),
                format!(
                    "unknown reaction {key:?}; expected one of {}",
                    REACTIONS.join(", ")
                ),
            ));
        }
        if reactions[..i].contains(key) {
            return Err((
                format!("[{i}]"),
                format!("reaction {key:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_in_the_catalogue() {
        assert!(check_spec(&default_reactions()).is_ok());
        assert!(check_spec(&[]).is_ok());
    }

    #[test]
    fn unknown_and_repeated_reactions_are_refused_by_position() {
        let unknown = check_spec(&["agree".into(), "boo".into()]);
        assert_eq!(unknown.map_err(|e| e.0), Err("[1]".to_owned()));
        let twice = check_spec(&["agree".into(), "thanks".into(), "agree".into()]);
        assert_eq!(twice.map_err(|e| e.0), Err("[2]".to_owned()));
    }
}
