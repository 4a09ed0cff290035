//! An event's live state as the actor holds it, and how it is rebuilt from the database.
//!
//! Everything here reflects committed writes only (answers, questions, votes, cards), except
//! the control state the host sets (activity states, reveal, focus) and attendee profiles,
//! which apply at once and are written behind.
//!
//! # Layout
//!
//! - `mod.rs` (here): [`EventState`] itself, and the changes that keep its indexes in step
//!   (a text taking over its slot, a card replacing the last, profile counts).
//! - `items.rs`: the pieces it holds: activity and moderation states, attendees, questions,
//!   texts, cards.
//! - `load.rs`: rebuilding it from the database.
//! - `views.rs`: what each audience is shown of it: attendance, tallies, questions, texts.
//!
//! What a command or a commit does to it is the actor's (`hub/event/`), not here.

mod items;
mod load;
mod views;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use super::NumMap;
use crate::domain::Tally;
use crate::domain::privacy::NOT_GIVEN;

pub use items::{ActState, ActivityLive, Attendee, CardItem, ItemState, Question, TextItem, Under};

/// How many questions attendees and the presenter are sent at most: what a phone receives
/// about questions each second stays bounded (about 30 KB at 500 characters each) however
/// many there are. 1,500 questions sent in full to every phone every second made 72 MB of
/// traffic to 20 listeners.
pub const QUESTIONS_SHOWN: usize = 50;

/// How many questions one list holds at most, whatever the number of sessions in it (a
/// phone before the event lists every session's).
pub const QUESTIONS_LISTED: usize = 200;

/// How many approved text answers the presenter's wall is sent at most (the newest).
pub const WALL_SHOWN: usize = 100;

/// Tallies by sector, before the small-group rule.
type Breakdown = BTreeMap<String, Tally>;

/// The committed state of one event.
pub struct EventState {
    pub ended: bool,
    pub focus: Option<usize>,
    pub activities: Vec<ActivityLive>,
    pub attendees: Vec<Attendee>,
    pub by_token: HashMap<String, usize>,
    pub questions: Vec<Question>,
    pub question_index: HashMap<String, usize>,
    /// The questions each attendee asked, by attendee index, for the cap on open ones.
    pub asked_by: NumMap<usize, Vec<usize>>,
    /// The current text answers with their moderation: one slot per attendee and activity,
    /// which a later text takes over.
    pub texts: Vec<TextItem>,
    /// The slot of a current text, by item id.
    pub text_index: HashMap<String, usize>,
    /// The slot of an (attendee, activity).
    pub text_of: NumMap<(usize, usize), usize>,
    /// Texts that have arrived, for their order.
    pub texts_arrived: u64,
    pub cards: Vec<CardItem>,
    pub card_index: HashMap<String, usize>,
    pub card_of: NumMap<usize, usize>,
    /// Typed organisation names not in the event's list, by their folded form.
    pub other_organisations: HashMap<String, String>,
    /// Sector names typed by attendees (the event having no list), by their folded form,
    /// for the cap on how many there may be.
    pub other_sectors: HashMap<String, String>,
    pub by_organisation: BTreeMap<String, u64>,
    pub by_sector: BTreeMap<String, u64>,
    /// The profile each current answer was given under, by (attendee, activity).
    pub answered_under: NumMap<(usize, usize), Under>,
    /// Answers on their way to disk, by activity. A closed activity's breakdown waits for
    /// them: shown at the close and again once a late answer lands, the two would differ by
    /// that one person, and give away their answer and sector.
    pub answers_in_flight: NumMap<usize, u32>,
    pub present: u64,
    pub peak: u64,
    /// Bumped by anything that can change a closed activity's breakdown by sector: an
    /// activity opened or closed, an answer committed after its activity closed. (A
    /// profile change cannot: answers count under the profile they were given with.)
    pub breakdown_generation: u64,
    /// Breakdowns by sector, by activity, with the generation they were computed at: a
    /// `welcome` after a reveal must not walk every attendee for every phone.
    breakdowns: RefCell<HashMap<usize, (u64, Breakdown)>>,
}

/// A message id's 64-bit hash, what an attendee's `seen` set keeps. Seeded once per process
/// (the sets are rebuilt from the stored ids at every load), so nobody can choose two ids
/// that collide.
pub fn msg_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    static SEED: std::sync::OnceLock<foldhash::quality::RandomState> = std::sync::OnceLock::new();
    SEED.get_or_init(Default::default).hash_one(id)
}

impl EventState {
    /// Drops the breakdowns by sector computed so far (the activities changed).
    pub fn forget_breakdowns(&mut self) {
        self.breakdowns.get_mut().clear();
        self.breakdown_generation += 1;
    }

    /// Adds a text answer; it takes over the slot of the attendee's earlier text to the same
    /// activity, whose id it returns. Returns the slot too. So the texts kept are the
    /// current ones, however often attendees change them.
    pub fn add_text(&mut self, mut item: TextItem) -> (usize, Option<String>) {
        item.arrived = self.texts_arrived;
        self.texts_arrived += 1;
        let key = (item.attendee, item.activity);
        match self.text_of.get(&key).copied() {
            Some(slot) => {
                let old = std::mem::replace(&mut self.texts[slot], item);
                self.text_index.remove(&old.id);
                self.text_index.insert(self.texts[slot].id.clone(), slot);
                (slot, Some(old.id))
            }
            None => {
                let slot = self.texts.len();
                self.text_index.insert(item.id.clone(), slot);
                self.text_of.insert(key, slot);
                self.texts.push(item);
                (slot, None)
            }
        }
    }

    pub fn put_card(&mut self, attendee: usize, item: CardItem) {
        match self.card_of.get(&attendee).copied() {
            Some(i) => {
                let old = std::mem::replace(&mut self.cards[i], item);
                self.card_index.remove(&old.id);
                self.card_index.insert(self.cards[i].id.clone(), i);
            }
            None => {
                let i = self.cards.len();
                self.card_index.insert(item.id.clone(), i);
                self.card_of.insert(attendee, i);
                self.cards.push(item);
            }
        }
    }

    /// Adds (or, with `add` false, removes) an attendee's profile from the joined counts.
    pub fn count_profile(&mut self, index: usize, add: bool) {
        let attendee = &self.attendees[index];
        let org = attendee
            .organisation
            .clone()
            .unwrap_or_else(|| NOT_GIVEN.to_owned());
        let sector = attendee
            .sector
            .clone()
            .unwrap_or_else(|| NOT_GIVEN.to_owned());
        for (map, key) in [
            (&mut self.by_organisation, org),
            (&mut self.by_sector, sector),
        ] {
            if add {
                *map.entry(key).or_insert(0) += 1;
            } else if let Some(n) = map.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::{SpecFormat, parse_spec};
    use crate::storage::LiveRows;

    fn text(id: &str, attendee: usize, activity: usize) -> TextItem {
        TextItem {
            id: id.to_owned(),
            attendee,
            activity,
            state: ItemState::Pending,
            flagged: false,
            concern: None,
            arrived: 0,
        }
    }

    #[test]
    fn a_later_text_takes_over_the_slot_and_the_current_ones_keep_their_order() {
        let event = parse_spec(
            include_str!("../../../fixtures/dual-diagnosis-2026.json"),
            SpecFormat::Json,
        )
        .expect("fixture");
        let rows = LiveRows {
            attendees: (1..=2)
                .map(|id| crate::storage::AttendeeRow {
                    id,
                    token_hash: format!("hash{id}"),
                    organisation: None,
                    sector: None,
                    room: None,
                })
                .collect(),
            ..LiveRows::default()
        };
        let mut state = EventState::load(&event, false, None, rows);
        assert_eq!(state.add_text(text("a", 0, 1)), (0, None));
        assert_eq!(state.add_text(text("b", 1, 1)), (1, None));
        assert_eq!(state.add_text(text("c", 0, 2)), (2, None));
        // Attendee 0 changes the first text: same slot, the old id is gone.
        assert_eq!(state.add_text(text("d", 0, 1)), (0, Some("a".to_owned())));
        assert_eq!(state.texts.len(), 3);
        assert!(!state.text_index.contains_key("a"));
        assert_eq!(state.text_index.get("d"), Some(&0));
        let order: Vec<String> = state
            .current_texts(&event)
            .iter()
            .map(|t| t.id.to_owned())
            .collect();
        assert_eq!(order, ["b", "c", "d"]);
    }
}
