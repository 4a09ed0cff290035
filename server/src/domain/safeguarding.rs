//! Safeguarding: free text (questions, text answers, cards) that may disclose a risk to
//! someone (self-harm, suicide, abuse, a person in danger), and the event's safeguarding
//! section (its lead, and the support card the writer is shown).
//!
//! Apart from [`super::moderation`]'s abuse check on purpose: a swear word is a matter of
//! taste, a disclosure is a matter for the safeguarding lead. A concern is never deleted
//! and never hidden automatically: it is held for a person to read (the hub keeps it
//! `pending` whatever the event's moderation rule), and its writer is shown the support card
//! at once. Pure and synchronous; the hub decides what to do with a match.

use serde::{Deserialize, Serialize};

/// What a matched phrase suggests. A hint for the lead, who reads the whole text anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Concern {
    SelfHarm,
    Suicide,
    Abuse,
    Danger,
}

impl Concern {
    pub fn as_str(self) -> &'static str {
        match self {
            Concern::SelfHarm => "self_harm",
            Concern::Suicide => "suicide",
            Concern::Abuse => "abuse",
            Concern::Danger => "danger",
        }
    }
}

/// The risk phrases, each a list of words matched as whole words in order, ignoring case.
/// A word ending in `*` matches any word it begins (`suicid*`: suicide, suicidal). Chosen
/// for disclosures, not for the field's vocabulary: "overdose", "abuse" or "risk" alone are
/// everyday words at a dual-diagnosis conference ("substance abuse", "overdose
/// prevention"), so they count only in a phrase that says someone is hurt or in danger.
/// "Suicide" and "self-harm" count alone: a professional writing about suicide prevention
/// is shown the support card too, which costs them a glance.
const PHRASES: &[(Concern, &str)] = &[
    (Concern::Suicide, "suicid*"),
    (Concern::Suicide, "kill myself"),
    (Concern::Suicide, "killing myself"),
    (Concern::Suicide, "end my life"),
    (Concern::Suicide, "ending my life"),
    (Concern::Suicide, "end it all"),
    (Concern::Suicide, "take my own life"),
    (Concern::Suicide, "took my own life"),
    (Concern::Suicide, "want to die"),
    (Concern::Suicide, "wanna die"),
    (Concern::Suicide, "better off dead"),
    (Concern::Suicide, "no reason to live"),
    (Concern::Suicide, "don't want to live"),
    (Concern::Suicide, "dont want to live"),
    (Concern::Suicide, "take an overdose"),
    (Concern::Suicide, "taking an overdose"),
    (Concern::SelfHarm, "self harm*"),
    (Concern::SelfHarm, "selfharm*"),
    (Concern::SelfHarm, "hurt myself"),
    (Concern::SelfHarm, "hurting myself"),
    (Concern::SelfHarm, "harm myself"),
    (Concern::SelfHarm, "harming myself"),
    (Concern::SelfHarm, "cut myself"),
    (Concern::SelfHarm, "cutting myself"),
    (Concern::SelfHarm, "burn myself"),
    (Concern::SelfHarm, "burning myself"),
    (Concern::Abuse, "abused me"),
    (Concern::Abuse, "abuses me"),
    (Concern::Abuse, "abusing me"),
    (Concern::Abuse, "being abused"),
    (Concern::Abuse, "was abused"),
    (Concern::Abuse, "were abused"),
    (Concern::Abuse, "is abused"),
    (Concern::Abuse, "sexually abused"),
    (Concern::Abuse, "raped"),
    (Concern::Abuse, "rape"),
    (Concern::Abuse, "groomed"),
    (Concern::Abuse, "grooming me"),
    (Concern::Abuse, "hits me"),
    (Concern::Abuse, "hitting me"),
    (Concern::Abuse, "beats me"),
    (Concern::Abuse, "beating me"),
    (Concern::Abuse, "hurts me"),
    (Concern::Abuse, "hurting me"),
    (Concern::Abuse, "touched me"),
    (Concern::Abuse, "scared of my partner"),
    (Concern::Abuse, "afraid of my partner"),
    (Concern::Abuse, "not safe at home"),
    (Concern::Abuse, "unsafe at home"),
    (Concern::Danger, "in danger"),
    (Concern::Danger, "at risk of harm"),
    (Concern::Danger, "going to hurt"),
    (Concern::Danger, "going to kill"),
    (Concern::Danger, "gonna kill"),
    (Concern::Danger, "threatened to kill"),
    (Concern::Danger, "threatening to kill"),
    (Concern::Danger, "will kill"),
    (Concern::Danger, "is not safe"),
    (Concern::Danger, "isn't safe"),
    (Concern::Danger, "isnt safe"),
    (Concern::Danger, "not safe tonight"),
];

/// The words of `text` as the matcher sees them: split at anything that is not a letter
/// or digit, lower-cased.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The first risk `text` suggests, if any: a phrase of [`PHRASES`] found as whole words.
pub fn concern(text: &str) -> Option<Concern> {
    let words = words(text);
    PHRASES.iter().find_map(|&(concern, phrase)| {
        let terms: Vec<&str> = phrase
            .split(|c: char| !(c.is_alphanumeric() || c == '*'))
            .filter(|w| !w.is_empty())
            .collect();
        let found = (0..words.len()).any(|at| starts_with(&words[at..], &terms));
        found.then_some(concern)
    })
}

/// Whether `words` begin with `terms` (a term ending in `*` is a prefix).
fn starts_with(words: &[String], terms: &[&str]) -> bool {
    terms.len() <= words.len()
        && terms
            .iter()
            .zip(words)
            .all(|(term, word)| match term.strip_suffix('*') {
                Some(stem) => word.starts_with(stem),
                None => word == term,
            })
}

/// The spec's `safeguarding` section: who reads the concerns, and what the writer of one
/// is shown.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SafeguardingSpec {
    /// The event's safeguarding lead, by name (shown on the host dashboard's Safeguarding
    /// view, never to attendees).
    pub lead: String,
    /// How to reach the lead on the day (a phone number, "at the registration desk").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_contact: Option<String>,
    /// The support card shown to the writer of a concern.
    pub support: SupportCard,
}

/// What the writer of a concern is shown at once on their phone.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SupportCard {
    /// A heading ("If you or someone else is not safe").
    pub title: String,
    /// A few sentences.
    pub text: String,
    /// 1 to 6 places to turn to: a crisis line, the local service.
    pub lines: Vec<SupportLine>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SupportLine {
    /// "Samaritans", "York crisis team".
    pub name: String,
    /// How to reach them: "116 123", "text SHOUT to 85258".
    pub contact: String,
    /// When, or for whom ("24 hours, free").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

const MAX_NAME: usize = 120;
const MAX_TEXT: usize = 600;
const MAX_LINES: usize = 6;

/// Checks the section; an error is `(path, message)` under `safeguarding`.
pub fn validate(spec: &SafeguardingSpec) -> Result<(), (String, String)> {
    let text = |path: &str, value: &str, max: usize| -> Result<(), (String, String)> {
        let len = value.trim().chars().count();
        if len == 0 {
            return Err((path.to_owned(), "must not be empty".to_owned()));
        }
        if value.chars().count() > max {
            return Err((path.to_owned(), format!("must be at most {max} characters")));
        }
        Ok(())
    };
    text("safeguarding.lead", &spec.lead, MAX_NAME)?;
    if let Some(contact) = &spec.lead_contact {
        text("safeguarding.lead_contact", contact, MAX_NAME)?;
    }
    text("safeguarding.support.title", &spec.support.title, MAX_NAME)?;
    text("safeguarding.support.text", &spec.support.text, MAX_TEXT)?;
    let lines = &spec.support.lines;
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err((
            "safeguarding.support.lines".to_owned(),
            format!(
                "needs 1 to {MAX_LINES} places to turn to, not {}",
                lines.len()
            ),
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        let path = format!("safeguarding.support.lines[{i}]");
        text(&format!("{path}.name"), &line.name, MAX_NAME)?;
        text(&format!("{path}.contact"), &line.contact, MAX_NAME)?;
        if let Some(note) = &line.note {
            text(&format!("{path}.note"), note, MAX_NAME)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_kind_of_risk() {
        assert_eq!(
            concern("I've been feeling suicidal"),
            Some(Concern::Suicide)
        );
        assert_eq!(concern("SUICIDE"), Some(Concern::Suicide));
        assert_eq!(
            concern("some days I want to end it all"),
            Some(Concern::Suicide)
        );
        assert_eq!(concern("I don't want to live"), Some(Concern::Suicide));
        assert_eq!(concern("I self-harm most weeks"), Some(Concern::SelfHarm));
        assert_eq!(concern("self harming again"), Some(Concern::SelfHarm));
        assert_eq!(concern("I keep cutting myself"), Some(Concern::SelfHarm));
        assert_eq!(concern("my partner hits me"), Some(Concern::Abuse));
        assert_eq!(concern("I was abused as a child"), Some(Concern::Abuse));
        assert_eq!(concern("Jo in Ward 3 is in danger"), Some(Concern::Danger));
        assert_eq!(
            concern("He threatened to kill her last night"),
            Some(Concern::Danger)
        );
    }

    #[test]
    fn matches_whole_words_only() {
        // "therapist" holds "rapist", "grapes" holds "rape", "Scunthorpe" holds worse.
        assert_eq!(concern("My therapist is great"), None);
        assert_eq!(concern("grapes and drapes"), None);
        assert_eq!(concern("Scunthorpe and Penistone services"), None);
        assert_eq!(concern("endangered species"), None);
        assert_eq!(concern("the selfish system"), None);
        assert_eq!(concern("harmony in the team"), None);
        // A phrase must be whole and in order.
        assert_eq!(concern("myself, I kill time on hold"), None);
        assert_eq!(concern("danger"), None);
    }

    #[test]
    fn leaves_the_fields_everyday_words_alone() {
        assert_eq!(concern("Substance abuse services need funding"), None);
        assert_eq!(concern("Overdose prevention and naloxone"), None);
        assert_eq!(concern("Risk assessment takes too long"), None);
        assert_eq!(concern("Waiting lists are too long"), None);
        assert_eq!(concern(""), None);
    }

    #[test]
    fn ignores_case_and_punctuation_between_words() {
        assert_eq!(concern("KILL... MYSELF"), Some(Concern::Suicide));
        assert_eq!(concern("in\ndanger"), Some(Concern::Danger));
        assert_eq!(concern("Ich bin in Danger!"), Some(Concern::Danger));
    }

    fn good() -> SafeguardingSpec {
        SafeguardingSpec {
            lead: "Sam Patel".into(),
            lead_contact: Some("07700 900123".into()),
            support: SupportCard {
                title: "If you or someone else is not safe".into(),
                text: "You are not alone.".into(),
                lines: vec![SupportLine {
                    name: "Samaritans".into(),
                    contact: "116 123".into(),
                    note: Some("24 hours, free".into()),
                }],
            },
        }
    }

    #[test]
    fn validates_the_section_naming_the_field() {
        assert_eq!(validate(&good()), Ok(()));
        let mut spec = good();
        spec.lead = " ".into();
        assert_eq!(validate(&spec).unwrap_err().0, "safeguarding.lead");
        let mut spec = good();
        spec.support.lines.clear();
        assert_eq!(validate(&spec).unwrap_err().0, "safeguarding.support.lines");
        let mut spec = good();
        spec.support.lines[0].contact = String::new();
        assert_eq!(
            validate(&spec).unwrap_err().0,
            "safeguarding.support.lines[0].contact"
        );
        let mut spec = good();
        spec.support.text = "x".repeat(MAX_TEXT + 1);
        assert_eq!(validate(&spec).unwrap_err().0, "safeguarding.support.text");
    }
}
