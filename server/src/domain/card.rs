//! Service cards for the event's directory ("phone-a-friend" list): an attendee's opt-in
//! description of their service, shared with the other attendees.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const MAX_FIELD: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub organisation: String,
    pub service: String,
    pub offer: String,
    pub referral: String,
    pub contact: String,
}

impl Card {
    /// Checks a card as sent: the required fields present and non-empty, every field at most
    /// [`MAX_FIELD`] characters; text is trimmed and blank optional fields dropped.
    pub fn parse(value: &Value) -> Result<Card, String> {
        let mut card: Card = serde_json::from_value(value.clone()).map_err(|e| {
            let text = e.to_string();
            format!("card: {}", text.split(" at line ").next().unwrap_or(&text))
        })?;
        for (field, text) in [
            ("organisation", &mut card.organisation),
            ("service", &mut card.service),
            ("offer", &mut card.offer),
            ("referral", &mut card.referral),
            ("contact", &mut card.contact),
        ] {
            *text = super::names::clean_text(text);
            if text.is_empty() {
                return Err(format!("card.{field} must not be empty"));
            }
            if text.chars().count() > MAX_FIELD {
                return Err(format!(
                    "card.{field} must be at most {MAX_FIELD} characters"
                ));
            }
        }
        for (field, text) in [("name", &mut card.name), ("role", &mut card.role)] {
            if let Some(t) = text {
                let trimmed = super::names::clean_text(t);
                if trimmed.chars().count() > MAX_FIELD {
                    return Err(format!(
                        "card.{field} must be at most {MAX_FIELD} characters"
                    ));
                }
                *text = (!trimmed.is_empty()).then_some(trimmed);
            }
        }
        Ok(card)
    }

    /// All the card's text, for the abuse check.
    pub fn all_text(&self) -> String {
        [
            self.name.as_deref().unwrap_or(""),
            self.role.as_deref().unwrap_or(""),
            &self.organisation,
            &self.service,
            &self.offer,
            &self.referral,
            &self.contact,
        ]
        .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn card() -> Value {
        json!({"organisation": "York Mind", "service": "Crisis café", "offer": "Evening drop-in",
               "referral": "Self-referral", "contact": "01904 000000"})
    }

    #[test]
    fn a_complete_card_is_accepted_and_trimmed() {
        let mut value = card();
        value["name"] = json!("  ");
        value["service"] = json!("  Crisis café ");
        let card = Card::parse(&value).expect("valid");
        assert_eq!(card.service, "Crisis café");
        assert_eq!(card.name, None);
    }

    #[test]
    fn missing_long_or_unknown_fields_are_refused() {
        let mut missing = card();
        missing.as_object_mut().map(|m| m.remove("contact"));
        assert!(Card::parse(&missing).unwrap_err().contains("contact"));
        let mut long = card();
        long["offer"] = json!("x".repeat(201));
        assert!(Card::parse(&long).unwrap_err().contains("card.offer"));
        let mut extra = card();
        extra["email"] = json!("a@b");
        assert!(Card::parse(&extra).is_err());
        assert!(Card::parse(&json!("card")).is_err());
    }
}
