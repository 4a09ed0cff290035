//! Event leases (PostgreSQL, cluster mode only): which node runs each live event, until
//! when, and the event's fencing number.
//!
//! One row of `event_owners` per event that has ever run in a cluster. A node may take an
//! event when its lease has run out (by the database's clock, so the nodes' clocks never
//! matter) or when the database session that took or last renewed it has ended (a node
//! killed, or whose session the database dropped: no need to wait for the lease then).
//! Taking adds one to the row's `epoch`, the event's *fencing number*: it changes at every
//! change of owner, even when the same node takes the event again. The owner renews its
//! leases every second; a renewal names the epoch it holds, so a node whose event was taken
//! meanwhile learns it then, from the rows its renewal did not touch.
//!
//! The epoch is what makes a stale owner harmless. Every write transaction of a clustered
//! event, just before its `COMMIT`, reads the epochs of its events `FOR KEY SHARE`
//! ([`stale`]) and rolls back if any is not the one its jobs were made under. A taker locks
//! the row `FOR UPDATE` before it changes the epoch, and those two locks conflict: a commit
//! that has checked its fence finishes before the take, so the new owner, which loads the
//! event after taking it, reads it; a commit that checks after the take sees the new epoch
//! and writes nothing. Renewals change neither key nor epoch: their `UPDATE` takes a lock
//! that `FOR KEY SHARE` does not wait for, so the writer's check never waits for them.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, Row};

use super::writer::Fence;
use crate::domain::EventCode;

/// How long a lease lasts after it is taken or renewed. Ownership of an event whose owner
/// stalls (frozen, cut from the database or from NATS) moves once this has run out.
pub const LEASE: Duration = Duration::from_secs(5);

/// What [`take`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This node owns the event now, under this fence.
    Taken(Fence),
    /// A live lease of `node` holds it (possibly this node's own, from an actor still
    /// stopping).
    Held { node: u32 },
    /// No event has this code.
    Unknown,
}

/// Opens the session a node takes and renews its leases on. PostgreSQL watches its TCP
/// connection (keepalives after 5 s idle, 3 probes 2 s apart; 10 s for data sent and never
/// acknowledged), so a vanished node's session ends in about 11 s and with it the node's
/// claim on its events; no statement waits for a lock more than a second or runs more
/// than two, and a transaction left open by a stalled node is ended after two.
pub async fn connect(url: &str) -> Result<Session, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?
        .application_name(&format!("joinup lease (pid {})", std::process::id()))
        .options([
            ("tcp_keepalives_idle", "5"),
            ("tcp_keepalives_interval", "2"),
            ("tcp_keepalives_count", "3"),
            ("tcp_user_timeout", "10000"),
            ("lock_timeout", "1000"),
            ("statement_timeout", "2000"),
            ("idle_in_transaction_session_timeout", "2000"),
        ]);
    Ok(Session(PgConnection::connect_with(&options).await?))
}

/// The database session a node takes and renews its leases on ([`connect`]). A lease whose
/// session has ended may be taken at once; see the module documentation.
pub struct Session(PgConnection);

impl Session {
    /// Ends the session (its leases may then be taken by any node at once).
    pub async fn close(self) -> Result<(), sqlx::Error> {
        self.0.close().await
    }
}

/// Takes the lease on `code` for `node` if it is free: the session that holds it has ended,
/// or it has run out and `may_take_expired` agrees for the node that holds it (a node that
/// has only just heard again from a stalled owner should wait and see whether that owner
/// renews, rather than take its events over).
pub async fn take(
    session: &mut Session,
    code: EventCode,
    node: u32,
    may_take_expired: impl Fn(u32) -> bool,
) -> Result<Claim, sqlx::Error> {
    let conn = &mut session.0;
    // The owner, whether its lease has run out, and whether its session has ended.
    const HELD: &str = "SELECT node, expires_at <= clock_timestamp(),
            NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = holder)
        FROM event_owners WHERE event = $1";
    const HELD_LOCKED: &str = "SELECT node, expires_at <= clock_timestamp(),
            NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = holder)
        FROM event_owners WHERE event = $1 FOR UPDATE OF event_owners";
    let held = |row: &sqlx::postgres::PgRow| -> Option<Claim> {
        let holder = node_of(row.get(0));
        let (expired, orphaned): (bool, bool) = (row.get(1), row.get(2));
        let free = orphaned || (expired && may_take_expired(holder));
        (!free).then_some(Claim::Held { node: holder })
    };
    let code_text = code.as_str().to_owned();
    // Without a lock first: a live lease, the usual answer, then costs one read that waits
    // for no commit.
    if let Some(row) = sqlx::query(HELD)
        .bind(code_text.clone())
        .fetch_optional(&mut *conn)
        .await?
        && let Some(claim) = held(&row)
    {
        return Ok(claim);
    }
    let mut tx = conn.begin().await?;
    // A first lease for an event that exists; nothing for a code nobody created.
    sqlx::query(
        "INSERT INTO event_owners (event, epoch, node, holder, expires_at)
         SELECT code, 0, 0, 0, '-infinity' FROM events WHERE code = $1
         ON CONFLICT (event) DO NOTHING",
    )
    .bind(code_text.clone())
    .execute(&mut *tx)
    .await?;
    let Some(row) = sqlx::query(HELD_LOCKED)
        .bind(code_text.clone())
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(Claim::Unknown);
    };
    if let Some(claim) = held(&row) {
        return Ok(claim);
    }
    let epoch: i64 = sqlx::query_scalar(
        "UPDATE event_owners SET epoch = epoch + 1, node = $2, holder = pg_backend_pid(),
             expires_at = clock_timestamp() + make_interval(secs => $3)
         WHERE event = $1 RETURNING epoch",
    )
    .bind(code_text)
    .bind(i64::from(node))
    .bind(LEASE.as_secs_f64())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Claim::Taken(Fence { event: code, epoch }))
}

/// Renews the leases `held` (each event under the fence it was taken with) for another
/// [`LEASE`], on this session: the events whose lease it renewed. An event missing from the
/// answer has been taken by another node (or again by this one) since.
pub async fn renew(session: &mut Session, held: &[Fence]) -> Result<Vec<EventCode>, sqlx::Error> {
    let conn = &mut session.0;
    if held.is_empty() {
        // Still a round trip: the caller learns whether the session is alive.
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        return Ok(Vec::new());
    }
    let events: Vec<String> = held.iter().map(|f| f.event.as_str().to_owned()).collect();
    let epochs: Vec<i64> = held.iter().map(|f| f.epoch).collect();
    let renewed: Vec<String> = sqlx::query_scalar(
        "UPDATE event_owners AS o
         SET expires_at = clock_timestamp() + make_interval(secs => $3), holder = pg_backend_pid()
         FROM unnest($1::text[], $2::bigint[]) AS h(event, epoch)
         WHERE o.event = h.event AND o.epoch = h.epoch
         RETURNING o.event",
    )
    .bind(events)
    .bind(epochs)
    .bind(LEASE.as_secs_f64())
    .fetch_all(&mut *conn)
    .await?;
    Ok(renewed.iter().filter_map(|c| EventCode::parse(c)).collect())
}

/// Which of `held` are still this node's (their epoch unchanged), renewing nothing: what a
/// node cut off from NATS asks, so it keeps running its events while nobody else can take
/// them (all of NATS down), and learns within a second when another node has.
pub async fn current(session: &mut Session, held: &[Fence]) -> Result<Vec<EventCode>, sqlx::Error> {
    let conn = &mut session.0;
    let events: Vec<String> = held.iter().map(|f| f.event.as_str().to_owned()).collect();
    let epochs: Vec<i64> = held.iter().map(|f| f.epoch).collect();
    let current: Vec<String> = sqlx::query_scalar(
        "SELECT o.event FROM event_owners AS o
         JOIN unnest($1::text[], $2::bigint[]) AS h(event, epoch)
           ON o.event = h.event AND o.epoch = h.epoch",
    )
    .bind(events)
    .bind(epochs)
    .fetch_all(&mut *conn)
    .await?;
    Ok(current.iter().filter_map(|c| EventCode::parse(c)).collect())
}

/// Ends the lease `fence` names, if it is still the event's: the next node asked for the
/// event takes it at once (no session has pid 0).
pub async fn release(session: &mut Session, fence: Fence) -> Result<(), sqlx::Error> {
    let conn = &mut session.0;
    sqlx::query(
        "UPDATE event_owners SET expires_at = '-infinity', holder = 0
         WHERE event = $1 AND epoch = $2",
    )
    .bind(fence.event.as_str().to_owned())
    .bind(fence.epoch)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Inside a write transaction, just before its `COMMIT`: which of `fences` are stale (their
/// event's epoch has moved on). Their rows stay locked `FOR KEY SHARE` until the
/// transaction ends, so no take can change an epoch between this check and the commit.
pub async fn stale(conn: &mut PgConnection, fences: &[Fence]) -> Result<Vec<Fence>, sqlx::Error> {
    let events: Vec<String> = fences.iter().map(|f| f.event.as_str().to_owned()).collect();
    let rows = sqlx::query(
        "SELECT event, epoch FROM event_owners WHERE event = ANY($1) ORDER BY event FOR KEY SHARE",
    )
    .bind(events)
    .fetch_all(&mut *conn)
    .await?;
    let current: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(fences
        .iter()
        .filter(|f| {
            !current
                .iter()
                .any(|(event, epoch)| event == f.event.as_str() && *epoch == f.epoch)
        })
        .copied()
        .collect())
}

/// A node number as stored (a `u32` in a BIGINT).
fn node_of(stored: i64) -> u32 {
    u32::try_from(stored).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    //! Need the PostgreSQL server every cluster test uses; each test has a database of its own.

    use sqlx::Connection;
    use tokio::sync::mpsc;

    use super::*;
    use crate::storage::tests::{TempDb, answer, code, stored};
    use crate::storage::{Storage, Ticket};

    async fn event_in(storage: &Storage, text: &str) -> EventCode {
        let event = code(text);
        let row = stored(event, "2026-11-01T10:00:00Z");
        let inserted = storage.insert_event(&row, "t", None, None).await;
        assert!(inserted.expect("insert"));
        event
    }

    /// One answer of `attendee` through `storage`'s writer: whether it was committed.
    async fn write(storage: &Storage, event: EventCode, attendee: i64) -> bool {
        let (reply, mut told) = mpsc::unbounded_channel();
        let ticket = Ticket { reply, seq: 1 };
        let writes = vec![answer(event, attendee, "role", "[1]")];
        storage
            .writer()
            .submit(writes, Some(ticket))
            .await
            .expect("submit");
        let committed = told.recv().await.expect("told");
        committed.ok == [1]
    }

    /// PostgreSQL watches the lease session's connection and bounds its statements.
    #[tokio::test]
    async fn the_lease_session_is_watched_and_bounded_by_the_database() {
        let Some(db) = TempDb::postgres().await else {
            return;
        };
        let mut session = connect(&db.url()).await.expect("a lease session");
        for (setting, value) in [
            ("tcp_keepalives_idle", "5"),
            ("tcp_keepalives_interval", "2"),
            ("tcp_keepalives_count", "3"),
            ("tcp_user_timeout", "10000"),
            ("lock_timeout", "1s"),
            ("statement_timeout", "2s"),
            ("idle_in_transaction_session_timeout", "2s"),
        ] {
            let shown: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SHOW {setting}")))
                .fetch_one(&mut session.0)
                .await
                .expect("show");
            assert_eq!(shown, value, "{setting}");
        }
        session.close().await.expect("close");
        db.remove().await;
    }

    #[tokio::test]
    async fn a_stale_owners_writes_are_refused_and_the_new_owners_stored() {
        let Some(db) = TempDb::postgres().await else {
            return;
        };
        let url = db.url();
        let storage = Storage::open(&url).await.expect("open");
        let event = event_in(&storage, "ABCDEF").await;
        let mut a = connect(&url).await.expect("session a");
        let mut b = connect(&url).await.expect("session b");

        let Claim::Taken(first) = take(&mut a, event, 1, |_| true).await.expect("take") else {
            panic!("a free event is taken");
        };
        assert_eq!(
            take(&mut b, event, 2, |_| true).await.expect("take"),
            Claim::Held { node: 1 }
        );
        let nobody = code("BCDFGH");
        assert_eq!(
            take(&mut b, nobody, 2, |_| true).await.expect("take"),
            Claim::Unknown
        );
        assert!(write(&storage.fenced(first), event, 1).await);

        // A's session ends (its node killed, or its session dropped by the database): B may
        // take the event at once, under a new fencing number.
        a.close().await.expect("close");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let second = loop {
            match take(&mut b, event, 2, |_| true).await.expect("take") {
                Claim::Taken(fence) => break fence,
                held => assert!(tokio::time::Instant::now() < deadline, "{held:?}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(second.epoch, first.epoch + 1);

        // A's actor, still running, writes nothing more; B's does.
        assert!(!write(&storage.fenced(first), event, 2).await);
        assert!(write(&storage.fenced(second), event, 3).await);
        let rows = storage.live_rows(event).await.expect("rows");
        let attendees: Vec<i64> = rows.answers.iter().map(|a| a.attendee).collect();
        assert_eq!(attendees, [1, 3]);

        // A learns it lost the event at its next renewal; B keeps it.
        let mut a = connect(&url).await.expect("session a again");
        assert!(renew(&mut a, &[first]).await.expect("renew").is_empty());
        assert_eq!(renew(&mut b, &[second]).await.expect("renew"), [event]);

        // Run out while B's session lives: taken only if the taker agrees it may (B is not
        // heard from any more, say).
        sqlx::query("UPDATE event_owners SET expires_at = clock_timestamp() - interval '1 s'")
            .execute(&mut a.0)
            .await
            .expect("run the lease out");
        let waits = take(&mut a, event, 1, |holder| holder != 2).await;
        assert_eq!(waits.expect("take"), Claim::Held { node: 2 });
        let Claim::Taken(third) = take(&mut a, event, 1, |_| true).await.expect("take") else {
            panic!("a run-out lease is taken");
        };
        assert_eq!(third.epoch, second.epoch + 1);

        // Given back, it is taken at once, under yet another number.
        release(&mut a, third).await.expect("release");
        let Claim::Taken(fourth) = take(&mut b, event, 2, |_| false).await.expect("take") else {
            panic!("a released event is taken");
        };
        assert_eq!(fourth.epoch, third.epoch + 1);
        storage.close().await;
        db.remove().await;
    }

    /// The writer's check and a take exclude each other: a commit that has checked its
    /// fence finishes before the take (the taker waits, and gives up after `lock_timeout`),
    /// and a check after the take sees the new number.
    #[tokio::test]
    async fn a_commit_that_checked_its_fence_finishes_before_a_take() {
        let Some(db) = TempDb::postgres().await else {
            return;
        };
        let url = db.url();
        let storage = Storage::open(&url).await.expect("open");
        let event = event_in(&storage, "ABCDEF").await;
        let mut owner = connect(&url).await.expect("owner");
        let Claim::Taken(fence) = take(&mut owner, event, 1, |_| true).await.expect("take") else {
            panic!("a free event is taken");
        };
        release(&mut owner, fence).await.expect("release");

        let mut writer = PgConnection::connect(&url).await.expect("writer");
        sqlx::query("BEGIN")
            .execute(&mut writer)
            .await
            .expect("begin");
        assert!(
            stale(&mut writer, &[fence])
                .await
                .expect("check")
                .is_empty()
        );
        let mut taker = connect(&url).await.expect("taker");
        let waited = take(&mut taker, event, 2, |_| true).await;
        assert!(
            waited.is_err(),
            "a take went through while a checked commit was open: {waited:?}"
        );
        sqlx::query("COMMIT")
            .execute(&mut writer)
            .await
            .expect("commit");

        let mut taker = connect(&url).await.expect("taker again");
        let Claim::Taken(next) = take(&mut taker, event, 2, |_| true).await.expect("take") else {
            panic!("the event is taken once the commit is done");
        };
        assert_eq!(next.epoch, fence.epoch + 1);
        sqlx::query("BEGIN")
            .execute(&mut writer)
            .await
            .expect("begin");
        assert_eq!(stale(&mut writer, &[fence]).await.expect("check"), [fence]);
        sqlx::query("ROLLBACK")
            .execute(&mut writer)
            .await
            .expect("rollback");
        storage.close().await;
        db.remove().await;
    }
}
