//! An event's spec changed while it may be live (an organiser's edit, already checked and
//! stored): bringing the live event up to date.

use super::Hub;
use crate::domain::EventCode;

impl Hub {
    /// The stored spec of `code` changed. A live event here is stopped (what is in flight
    /// committed first) and its hosts, presenters and phones closed with 1012: they
    /// reconnect at once to the event loaded afresh under the new spec, each with a new
    /// `welcome` or `snapshot`.
    pub async fn spec_changed(&self, code: EventCode) {
        self.unload(code).await;
    }
}
