//! An event's live state as the actor holds it, and how it is rebuilt from the database.
//!
//! Everything here reflects committed writes only (answers, questions, votes, cards), except
//! the control state the host sets (activity states, reveal, focus) and attendee profiles,
//! which apply at once and are written behind.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{NumMap, NumSet};
use crate::domain::card::Card;
use crate::domain::privacy::{self, NOT_GIVEN};
use crate::domain::safeguarding::{self, Concern};
use crate::domain::spec::{Activity, Moderation};
use crate::domain::{AnswerValue, Event, Tally};
use crate::protocol::server::{
    CardView, HostAttendance, HostQuestion, PresenterAttendance, PublicQuestion, Text, WallText,
};
use crate::protocol::tally::TallyView;
use crate::storage::LiveRows;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActState {
    Ready,
    Open,
    Closed,
}

impl ActState {
    pub fn as_str(self) -> &'static str {
        match self {
            ActState::Ready => "ready",
            ActState::Open => "open",
            ActState::Closed => "closed",
        }
    }

    fn parse(s: &str) -> ActState {
        match s {
            "open" => ActState::Open,
            "closed" => ActState::Closed,
            _ => ActState::Ready,
        }
    }
}

/// Moderation state of a question, text answer or card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Pending,
    Approved,
    Hidden,
    Answered,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Approved => "approved",
            ItemState::Hidden => "hidden",
            ItemState::Answered => "answered",
        }
    }

    pub fn parse(s: &str) -> ItemState {
        match s {
            "approved" => ItemState::Approved,
            "hidden" => ItemState::Hidden,
            "answered" => ItemState::Answered,
            _ => ItemState::Pending,
        }
    }

    /// The state a new item starts in under the event's moderation rule.
    pub fn initial(moderation: Moderation) -> ItemState {
        match moderation {
            Moderation::Pre => ItemState::Pending,
            Moderation::Post | Moderation::None => ItemState::Approved,
        }
    }

    /// The state a new item starts in: held `pending` for a person to read when it may
    /// disclose a risk ([`safeguarding`]), whatever the moderation rule, else as
    /// [`ItemState::initial`].
    pub fn held(moderation: Moderation, concern: Option<Concern>) -> ItemState {
        if concern.is_some() {
            ItemState::Pending
        } else {
            ItemState::initial(moderation)
        }
    }

    /// Whether attendees and the presenter may see an item in this state.
    pub fn visible(self) -> bool {
        matches!(self, ItemState::Approved | ItemState::Answered)
    }
}

/// The organisation and sector an answer was given under: where it counts, for good. A
/// profile changed later moves the attendee's attendance, never their answers
/// (docs/privacy.md), so a closed activity's breakdown by sector never changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Under {
    pub organisation: Option<String>,
    pub sector: Option<String>,
}

pub struct ActivityLive {
    pub state: ActState,
    pub revealed: bool,
    pub tally: Tally,
    /// The activity's wire definition, encoded once.
    pub json: Value,
}

pub struct Attendee {
    pub id: i64,
    pub token_hash: String,
    pub organisation: Option<String>,
    pub sector: Option<String>,
    pub room: Option<String>,
    /// Current committed answers by activity index.
    pub answers: NumMap<usize, AnswerValue>,
    /// Hashes of every message id committed for this attendee.
    pub seen: NumSet<u64>,
    /// Open connections (WebSocket or stream).
    pub conns: u32,
    pub voted: NumSet<usize>,
}

pub struct Question {
    pub id: String,
    pub seq: i64,
    pub text: String,
    pub state: ItemState,
    pub flagged: bool,
    /// A risk the text may disclose ([`safeguarding`]): held for the lead, never automatic.
    pub concern: Option<Concern>,
    pub votes: u64,
    /// The session it belongs to; `None`: the event as a whole.
    pub session: Option<String>,
    /// Asked before the live part.
    pub advance: bool,
}

impl Question {
    pub fn host_view(&self) -> HostQuestion<'_> {
        HostQuestion {
            concern: self.concern.map(Concern::as_str),
            flagged: self.flagged,
            id: &self.id,
            session: self.session.as_deref(),
            advance: self.advance,
            state: self.state.as_str(),
            text: &self.text,
            votes: self.votes,
        }
    }

    pub fn public_view(&self) -> PublicQuestion<'_> {
        PublicQuestion {
            advance: self.advance,
            answered: self.state == ItemState::Answered,
            id: &self.id,
            session: self.session.as_deref(),
            text: &self.text,
            votes: self.votes,
        }
    }
}

pub struct TextItem {
    pub id: String,
    pub attendee: usize,
    pub activity: usize,
    pub state: ItemState,
    pub flagged: bool,
    pub concern: Option<Concern>,
    /// When it arrived among the event's texts; stamped by [`EventState::add_text`].
    pub arrived: u64,
}

pub struct CardItem {
    pub id: String,
    pub seq: i64,
    pub card: Card,
    pub state: ItemState,
    pub flagged: bool,
    pub concern: Option<Concern>,
}

impl CardItem {
    pub fn public_view(&self) -> CardView<'_> {
        CardView::public(&self.card, &self.id)
    }

    pub fn host_view(&self) -> CardView<'_> {
        CardView::host(&self.card, &self.id, self.state.as_str(), self.flagged)
            .with_concern(self.concern)
    }
}

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
    pub fn load(event: &Event, ended: bool, focus: Option<&str>, rows: LiveRows) -> EventState {
        let mut activities: Vec<ActivityLive> = event
            .activities
            .iter()
            .map(|a| ActivityLive {
                state: ActState::Ready,
                revealed: false,
                tally: Tally::new(&a.kind),
                json: crate::protocol::event::activity(a),
            })
            .collect();
        for (key, state, revealed) in rows.activity_states {
            if let Some(&i) = event.index.get(&key) {
                activities[i].state = ActState::parse(&state);
                activities[i].revealed = revealed;
            }
        }
        let mut state = EventState {
            ended,
            focus: focus.and_then(|k| event.index.get(k).copied()),
            activities,
            attendees: Vec::with_capacity(rows.attendees.len()),
            by_token: HashMap::with_capacity(rows.attendees.len()),
            questions: Vec::new(),
            question_index: HashMap::new(),
            asked_by: NumMap::default(),
            texts: Vec::new(),
            text_index: HashMap::new(),
            text_of: NumMap::default(),
            texts_arrived: 0,
            cards: Vec::new(),
            card_index: HashMap::new(),
            card_of: NumMap::default(),
            other_organisations: HashMap::new(),
            other_sectors: HashMap::new(),
            by_organisation: BTreeMap::new(),
            by_sector: BTreeMap::new(),
            answered_under: NumMap::default(),
            answers_in_flight: NumMap::default(),
            present: 0,
            breakdown_generation: 0,
            breakdowns: RefCell::new(HashMap::new()),
            peak: u64::try_from(rows.peak_present).unwrap_or(0),
        };
        let mut by_id = HashMap::with_capacity(rows.attendees.len());
        for row in rows.attendees {
            let index = state.attendees.len();
            by_id.insert(row.id, index);
            state.by_token.insert(row.token_hash.clone(), index);
            if let Some(org) = &row.organisation
                && event.registered_organisation(org).is_none()
            {
                state
                    .other_organisations
                    .entry(crate::domain::names::fold(org))
                    .or_insert_with(|| org.clone());
            }
            if let Some(sector) = &row.sector
                && event.sector(sector).is_none()
            {
                state
                    .other_sectors
                    .entry(crate::domain::names::fold(sector))
                    .or_insert_with(|| sector.clone());
            }
            state.attendees.push(Attendee {
                id: row.id,
                token_hash: row.token_hash,
                organisation: row.organisation,
                sector: row.sector,
                room: row.room,
                answers: NumMap::default(),
                seen: NumSet::default(),
                conns: 0,
                voted: NumSet::default(),
            });
            state.count_profile(index, true);
        }
        for row in rows.answers {
            let (Some(&who), Some(&act)) =
                (by_id.get(&row.attendee), event.index.get(&row.activity))
            else {
                continue;
            };
            let Ok(json) = serde_json::from_str::<Value>(&row.value) else {
                continue;
            };
            let Some(value) = AnswerValue::from_stored(&event.activities[act].kind, &json) else {
                continue;
            };
            let org = state.attendees[who].organisation.clone();
            state.activities[act].tally.add(&value, org.as_deref());
            state.attendees[who].answers.insert(act, value);
            state.answered_under.insert(
                (who, act),
                Under {
                    organisation: row.organisation,
                    sector: row.sector,
                },
            );
            if let Some(item) = row.item {
                let concern = match state.attendees[who].answers.get(&act) {
                    Some(AnswerValue::Text(text)) => safeguarding::concern(text),
                    _ => None,
                };
                state.add_text(TextItem {
                    concern,
                    id: item,
                    attendee: who,
                    activity: act,
                    state: ItemState::parse(row.state.as_deref().unwrap_or("pending")),
                    flagged: row.flagged,
                    arrived: 0,
                });
            }
        }
        for (attendee, msg) in rows.receipts {
            if let Some(&who) = by_id.get(&attendee) {
                state.attendees[who].seen.insert(msg_hash(&msg));
            }
        }
        for row in rows.questions {
            if let Some(&who) = by_id.get(&row.attendee) {
                state
                    .asked_by
                    .entry(who)
                    .or_default()
                    .push(state.questions.len());
            }
            state
                .question_index
                .insert(row.id.clone(), state.questions.len());
            state.questions.push(Question {
                concern: safeguarding::concern(&row.text),
                id: row.id,
                seq: row.seq,
                text: row.text,
                state: ItemState::parse(&row.state),
                flagged: row.flagged,
                votes: 0,
                session: row.session,
                advance: row.advance,
            });
        }
        for (question, attendee) in rows.votes {
            if let (Some(&q), Some(&who)) =
                (state.question_index.get(&question), by_id.get(&attendee))
                && state.attendees[who].voted.insert(q)
            {
                state.questions[q].votes += 1;
            }
        }
        for row in rows.cards {
            let (Some(&who), Ok(card)) = (
                by_id.get(&row.attendee),
                serde_json::from_str::<Card>(&row.card),
            ) else {
                continue;
            };
            state.put_card(
                who,
                CardItem {
                    concern: safeguarding::concern(&card.all_text()),
                    id: row.id,
                    seq: row.seq,
                    card,
                    state: ItemState::parse(&row.state),
                    flagged: row.flagged,
                },
            );
        }
        state
    }

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

    /// Attendance as the presenter, seen by the whole room, gets it: the totals only
    /// (docs/privacy.md). A breakdown by organisation or sector of a handful of people would say who is
    /// in the room.
    pub fn presenter_attendance(&self) -> PresenterAttendance {
        PresenterAttendance {
            joined: self.attendees.len(),
            present: self.present,
        }
    }

    /// Attendance as hosts get it: totals, the peak, and joined attendees by their current
    /// organisation and sector, whole (attendance is not an answer).
    pub fn attendance(&self) -> HostAttendance<'_> {
        HostAttendance {
            by_organisation: &self.by_organisation,
            by_sector: &self.by_sector,
            joined: self.attendees.len(),
            peak: self.peak,
            present: self.present,
            rooms: super::rooms::present_by_room(&self.attendees),
        }
    }

    /// The tally as attendees and the presenter see it: never a breakdown by sector.
    pub fn public_tally(&self, act: usize) -> TallyView<'_> {
        TallyView::public(&self.activities[act].tally)
    }

    /// The tally as hosts see it: a closed choice or scale carries `by_sector`, with the
    /// small-group rule applied, each respondent counted in the sector they answered in,
    /// once none of its answers is still on its way to disk.
    pub fn host_tally(&self, event: &Event, act: usize) -> TallyView<'_> {
        let live = &self.activities[act];
        let mut view = TallyView::public(&live.tally);
        if live.state == ActState::Closed
            && event.activities[act].kind.has_breakdown()
            && !self.answers_in_flight.contains_key(&act)
        {
            let mut cache = self.breakdowns.borrow_mut();
            let generation = self.breakdown_generation;
            let by_sector = match cache.get(&act) {
                Some((at, groups)) if *at == generation => groups,
                _ => {
                    let groups = self.by_sector_tallies(&event.activities[act], act);
                    &cache
                        .entry(act)
                        .insert_entry((generation, groups))
                        .into_mut()
                        .1
                }
            };
            let k = u64::from(event.spec.min_group_size);
            view.by_sector = Some(privacy::breakdown(by_sector, k));
        }
        view
    }

    fn by_sector_tallies(&self, activity: &Activity, act: usize) -> Breakdown {
        let mut groups: BTreeMap<String, Tally> = BTreeMap::new();
        for (who, attendee) in self.attendees.iter().enumerate() {
            if let Some(value) = attendee.answers.get(&act) {
                let sector = self
                    .answered_under
                    .get(&(who, act))
                    .and_then(|u| u.sector.as_deref())
                    .unwrap_or(NOT_GIVEN);
                groups
                    .entry(sector.to_owned())
                    .or_insert_with(|| Tally::new(&activity.kind))
                    .add(value, attendee.organisation.as_deref());
            }
        }
        groups
    }

    /// Whether an attendee may see an activity: everyone for plenary sessions, only those in
    /// the room for a break-out.
    pub fn can_see(&self, attendee: usize, activity: &Activity) -> bool {
        activity.room.is_none() || activity.room == self.attendees[attendee].room
    }

    /// The questions attendees and the presenter are sent from `sessions` (keys, `None` for
    /// the event as a whole, in the order to list them): of those they may see (approved or
    /// answered), the [`QUESTIONS_SHOWN`] of each session with most votes, then oldest, at
    /// most [`QUESTIONS_LISTED`] in all; and how many they may see in those sessions. Hosts
    /// are sent every question.
    pub fn top_questions(&self, sessions: &[Option<&str>]) -> (Vec<PublicQuestion<'_>>, usize) {
        let mut total = 0;
        let mut shown = Vec::new();
        for &session in sessions {
            let mut visible: Vec<&Question> = self
                .questions
                .iter()
                .filter(|q| q.state.visible() && q.session.as_deref() == session)
                .collect();
            total += visible.len();
            let order =
                |a: &&Question, b: &&Question| b.votes.cmp(&a.votes).then(a.seq.cmp(&b.seq));
            if visible.len() > QUESTIONS_SHOWN {
                visible.select_nth_unstable_by(QUESTIONS_SHOWN, order);
                visible.truncate(QUESTIONS_SHOWN);
            }
            visible.sort_by(order);
            let room = QUESTIONS_LISTED.saturating_sub(shown.len());
            shown.extend(visible.iter().take(room).map(|q| q.public_view()));
        }
        (shown, total)
    }

    /// The text wall of one activity as the presenter shows it: its approved texts, newest
    /// first, at most [`WALL_SHOWN`]. Pending, hidden and flagged-but-unapproved texts never
    /// reach the projector.
    pub fn wall_texts<'a>(&'a self, event: &'a Event, act: usize) -> Vec<WallText<'a>> {
        let mut shown: Vec<&TextItem> = self
            .texts
            .iter()
            .filter(|item| item.activity == act && item.state.visible())
            .collect();
        shown.sort_unstable_by_key(|item| std::cmp::Reverse(item.arrived));
        shown.truncate(WALL_SHOWN);
        shown
            .into_iter()
            .map(|item| {
                let text = self.text_view(event, item, None);
                WallText {
                    id: text.id,
                    text: text.text,
                }
            })
            .collect()
    }

    pub fn visible_cards(&self) -> Vec<CardView<'_>> {
        let mut visible: Vec<&CardItem> = self.cards.iter().filter(|c| c.state.visible()).collect();
        visible.sort_by_key(|c| c.seq);
        visible.iter().map(|c| c.public_view()).collect()
    }

    /// Text answers as hosts see them: the current ones, with moderation state.
    pub fn text_view<'a>(
        &'a self,
        event: &'a Event,
        item: &'a TextItem,
        replaces: Option<&'a str>,
    ) -> Text<'a> {
        let text = match self.attendees[item.attendee].answers.get(&item.activity) {
            Some(AnswerValue::Text(t)) => t.as_str(),
            _ => "",
        };
        Text {
            activity: event.activities[item.activity].key.as_str(),
            concern: item.concern.map(Concern::as_str),
            flagged: item.flagged,
            id: &item.id,
            replaces,
            state: item.state.as_str(),
            text,
        }
    }

    /// The current texts, in the order they arrived.
    pub fn current_texts<'a>(&'a self, event: &'a Event) -> Vec<Text<'a>> {
        let mut current: Vec<&TextItem> = self.texts.iter().collect();
        current.sort_unstable_by_key(|item| item.arrived);
        current
            .into_iter()
            .map(|item| self.text_view(event, item, None))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::spec::{SpecFormat, parse_spec};

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
            include_str!("../../fixtures/dual-diagnosis-2026.json"),
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
