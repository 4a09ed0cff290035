//! Normalising what people type: organisation names, words for word clouds.

/// Trims and collapses inner runs of whitespace to one space.
pub fn tidy(input: &str) -> String {
    input.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The comparison form of a name: tidied and lower-cased, so that "york mind " and
/// "York  Mind" are the same organisation.
pub fn fold(input: &str) -> String {
    tidy(input).to_lowercase()
}

/// A word-cloud entry as the contract defines it: trimmed, inner whitespace collapsed,
/// lower-cased, 1 to 25 characters, never split. `None` when it does not fit.
pub fn normalise_word(input: &str) -> Option<String> {
    let word = fold(input);
    let len = word.chars().count();
    (1..=25).contains(&len).then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_case_and_spacing() {
        assert_eq!(fold("  york   Mind "), fold("York Mind"));
        assert_eq!(tidy("  York \t Mind\n"), "York Mind");
    }

    #[test]
    fn words_are_normalised_and_bounded() {
        assert_eq!(
            normalise_word("  Waiting   Lists "),
            Some("waiting lists".to_owned())
        );
        assert_eq!(normalise_word("   "), None);
        assert_eq!(normalise_word(&"a".repeat(25)), Some("a".repeat(25)));
        assert_eq!(normalise_word(&"a".repeat(26)), None);
        assert_eq!(normalise_word("ÉQUIPE"), Some("équipe".to_owned()));
    }
}
