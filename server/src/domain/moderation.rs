//! A first check of free text (questions, text answers, cards) for abuse, so that the host's
//! moderation queue can mark it. Flagged items are never deleted automatically: a person
//! decides.

/// Terms that flag an item for review. Deliberately short and conservative: words that are
/// almost never needed in a professional conference answer. Matching is on whole words,
/// so "Scunthorpe" or "assessment" are not flagged.
const FLAGGED_TERMS: &[&[&str]] = &[
    &["fuck"],
    &["fucking"],
    &["fucked"],
    &["fucker"],
    &["shit"],
    &["shitty"],
    &["cunt"],
    &["bastard"],
    &["bastards"],
    &["bitch"],
    &["wanker"],
    &["wankers"],
    &["twat"],
    &["dickhead"],
    &["arsehole"],
    &["asshole"],
    &["prick"],
    &["bollocks"],
    &["retard"],
    &["retarded"],
    &["nigger"],
    &["faggot"],
    &["spastic"],
    &["slag"],
    &["whore"],
    &["kill", "yourself"],
    &["kys"],
];

/// Whether `text` contains a flagged term as a whole word or phrase, ignoring case (the
/// terms are ASCII, so ASCII case is all there is to ignore).
pub fn is_flagged(text: &str) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    (0..words.len()).any(|at| {
        FLAGGED_TERMS
            .iter()
            .any(|term| starts_with_phrase(&words[at..], term))
    })
}

/// Whether `words` begin with the words of `phrase`.
fn starts_with_phrase(words: &[&str], phrase: &[&str]) -> bool {
    phrase.len() <= words.len()
        && phrase
            .iter()
            .zip(words)
            .all(|(term, word)| word.eq_ignore_ascii_case(term))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_whole_words_only() {
        assert!(is_flagged("This is SHIT."));
        assert!(is_flagged("just kill yourself"));
        assert!(is_flagged("Kill... yourself!"));
        assert!(!is_flagged("kill"));
        assert!(!is_flagged("yourself kill"));
        assert!(!is_flagged(""));
        assert!(!is_flagged("Scunthorpe assessment of class"));
        assert!(!is_flagged("Waiting lists are too long"));
    }
}
