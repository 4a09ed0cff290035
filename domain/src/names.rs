//! Normalising what people type: organisation names, words for word clouds.

/// Trims, collapses inner runs of whitespace to one space, and drops control characters
/// (a NUL or an escape sequence has no place in a name, and PostgreSQL cannot store NUL).
pub fn tidy(input: &str) -> String {
    input
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Free text (answers, card fields): trimmed, with control characters other than line
/// breaks and tabs removed.
pub fn clean_text(input: &str) -> String {
    input
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The comparison form of a name: tidied and lower-cased, so that "york mind " and
/// "York  Mind" are the same organisation.
pub fn fold(input: &str) -> String {
    tidy(input).to_lowercase()
}

/// A word-cloud entry as docs/protocol.md defines it: trimmed, inner whitespace collapsed,
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
    fn control_characters_never_survive() {
        assert_eq!(tidy("York\u{0}Mind\u{1b}[31m"), "York Mind [31m");
        assert_eq!(
            clean_text(" line one\nline\u{0} two\u{7} "),
            "line one\nline two"
        );
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
