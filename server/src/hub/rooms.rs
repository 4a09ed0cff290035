//! Break-out rooms in the live layer: who is in each room now, and what a room's own
//! presenter screen is sent.
//!
//! A room's screen (`/present/{code}?room=NAME`) follows its room's activity by itself:
//! every presenter is told each activity's state and reveal (`activity`), and, for the
//! activities of a break-out session, their response count (`count`) and revealed results
//! (`results`) as they move, not only for the focused one. The main screen keeps following
//! the host's focus and ignores the rest.

use std::collections::BTreeMap;

use super::state::Attendee;
use crate::domain::Activity;

/// Whether presenters follow `activity`'s count and results whatever the focus: it belongs
/// to a break-out room, whose own screen shows it.
pub fn follows(activity: &Activity) -> bool {
    activity.room.is_some()
}

/// Attendees connected now, by the room they chose; those who chose none are not counted.
pub fn present_by_room(attendees: &[Attendee]) -> BTreeMap<String, u64> {
    let mut rooms = BTreeMap::new();
    for attendee in attendees.iter().filter(|a| a.conns > 0) {
        if let Some(room) = &attendee.room {
            *rooms.entry(room.clone()).or_insert(0) += 1;
        }
    }
    rooms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attendee(room: Option<&str>, conns: u32) -> Attendee {
        Attendee {
            id: 1,
            token_hash: String::new(),
            organisation: None,
            sector: None,
            room: room.map(str::to_owned),
            answers: Default::default(),
            seen: Default::default(),
            conns,
            voted: Default::default(),
        }
    }

    #[test]
    fn counts_the_connected_attendees_of_each_room() {
        let people = [
            attendee(Some("Room A"), 1),
            attendee(Some("Room A"), 2),
            attendee(Some("Room A"), 0),
            attendee(Some("Room B"), 1),
            attendee(None, 1),
        ];
        let rooms = present_by_room(&people);
        assert_eq!(
            rooms.into_iter().collect::<Vec<_>>(),
            vec![("Room A".to_owned(), 2), ("Room B".to_owned(), 1)]
        );
        assert!(present_by_room(&[attendee(None, 3)]).is_empty());
    }
}
