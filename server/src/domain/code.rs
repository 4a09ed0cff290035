//! Validated identifiers: event codes and activity keys. Once built, always valid.

use std::fmt;

/// The alphabet of event codes: no 0/O, 1/I/L, so a code read aloud or off a slide is unambiguous.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 6;

/// An event's join code: six characters from [`CODE_ALPHABET`], stored upper-case.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventCode([u8; CODE_LEN]);

impl EventCode {
    /// Parses a code typed by a person: case-insensitive, surrounding spaces ignored.
    pub fn parse(input: &str) -> Option<EventCode> {
        let input = input.trim();
        if input.len() != CODE_LEN {
            return None;
        }
        let mut out = [0u8; CODE_LEN];
        for (slot, byte) in out.iter_mut().zip(input.bytes()) {
            let upper = byte.to_ascii_uppercase();
            if !CODE_ALPHABET.contains(&upper) {
                return None;
            }
            *slot = upper;
        }
        Some(EventCode(out))
    }

    /// A fresh random code.
    pub fn random() -> EventCode {
        let mut bytes = [0u8; CODE_LEN];
        super::token::fill_random(&mut bytes);
        let mut out = [0u8; CODE_LEN];
        for (slot, byte) in out.iter_mut().zip(bytes) {
            // 31 symbols: the modulo bias (256 % 31 = 8) is irrelevant for a join code.
            *slot = CODE_ALPHABET[usize::from(byte) % CODE_ALPHABET.len()];
        }
        EventCode(out)
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII from CODE_ALPHABET is ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??????")
    }
}

impl fmt::Display for EventCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for EventCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventCode({})", self.as_str())
    }
}

/// An activity's key: `[a-z0-9][a-z0-9-]{0,39}`, unique inside its event.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ActivityKey(String);

impl ActivityKey {
    pub fn parse(input: &str) -> Option<ActivityKey> {
        is_key(input).then(|| ActivityKey(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActivityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `s` has the shape of a key (used for activity and session keys).
pub fn is_key(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 40
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_case_insensitive_and_trimmed() {
        let code = EventCode::parse(" abc234 ").expect("valid code");
        assert_eq!(code.as_str(), "ABC234");
    }

    #[test]
    fn codes_refuse_ambiguous_characters_and_wrong_lengths() {
        for bad in [
            "ABC23O", "ABC231", "ABCDE", "ABCDEFG", "", "ABCDEI", "ÅBCDEF",
        ] {
            assert!(EventCode::parse(bad).is_none(), "{bad} should be refused");
        }
    }

    #[test]
    fn random_codes_parse_back() {
        for _ in 0..100 {
            let code = EventCode::random();
            assert_eq!(EventCode::parse(code.as_str()), Some(code));
        }
    }

    #[test]
    fn keys_follow_the_pattern() {
        assert!(ActivityKey::parse("pre-prescribing").is_some());
        assert!(ActivityKey::parse("9lives").is_some());
        assert!(ActivityKey::parse(&"a".repeat(40)).is_some());
        for bad in [
            "",
            "-lead",
            "Upper",
            "has space",
            "under_score",
            &"a".repeat(41),
        ] {
            assert!(
                ActivityKey::parse(bad).is_none(),
                "{bad:?} should be refused"
            );
        }
    }
}
