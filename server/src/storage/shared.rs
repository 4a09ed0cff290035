//! The reads and the event-level writes (creating, purging) that are the same SQL for both
//! backends, written once: [`shared_queries!`] expands them into `SqliteBackend` and
//! `PgBackend` alike (each has a `pool`). Placeholders are `$N`, which both SQLite and
//! PostgreSQL take; a read whose order matters says `ORDER BY`, as PostgreSQL needs. What
//! differs (the writer's SQL, how `live_rows` opens its snapshot) stays in each backend;
//! [`read_live_rows!`] is what `live_rows` reads inside it.

/// The methods both backends share, expanded inside each one's `impl` (`self.pool` is its
/// connection pool).
macro_rules! shared_queries {
    () => {
        /// Inserts a new event; `false` when the code is already taken.
        pub async fn insert_event(
            &self,
            e: &StoredEvent,
            title: &str,
            series: Option<&str>,
            starts_at: Option<&str>,
        ) -> Result<bool, StorageError> {
            let done = sqlx::query(
                "INSERT INTO events (code, title, series, spec, host_token_hash, presenter_token_hash, state, created_at, starts_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO NOTHING",
            )
            .bind(e.code.as_str().to_owned())
            .bind(title.to_owned())
            .bind(series.map(str::to_owned))
            .bind(e.spec.clone())
            .bind(e.host_token_hash.clone())
            .bind(e.presenter_token_hash.clone())
            .bind(e.state.clone())
            .bind(e.created_at.clone())
            .bind(starts_at.map(str::to_owned))
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        pub async fn event(&self, code: EventCode) -> Result<Option<StoredEvent>, StorageError> {
            let row = sqlx::query(
                "SELECT spec, host_token_hash, presenter_token_hash, state, focus, created_at, ended_at, purged_at,
                        started_at, current_sessions
                 FROM events WHERE code = $1",
            )
            .bind(code.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.map(|r| StoredEvent {
                code,
                spec: r.get(0),
                host_token_hash: r.get(1),
                presenter_token_hash: r.get(2),
                state: r.get(3),
                focus: r.get(4),
                created_at: r.get(5),
                ended_at: r.get(6),
                purged_at: r.get(7),
                started_at: r.get(8),
                current_sessions: r.get(9),
            }))
        }

        pub async fn set_tokens(
            &self,
            code: EventCode,
            host_hash: &str,
            presenter_hash: &str,
        ) -> Result<(), StorageError> {
            sqlx::query(
                "UPDATE events SET host_token_hash = $1, presenter_token_hash = $2 WHERE code = $3",
            )
            .bind(host_hash.to_owned())
            .bind(presenter_hash.to_owned())
            .bind(code.as_str().to_owned())
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        pub async fn setting(&self, key: &str) -> Result<Option<String>, StorageError> {
            Ok(
                sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                    .bind(key.to_owned())
                    .fetch_optional(&self.pool)
                    .await?,
            )
        }

        pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StorageError> {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key.to_owned())
                .bind(value.to_owned())
                .execute(&self.pool)
                .await?;
            Ok(())
        }

        /// Ended events not yet purged that ended at or before `cutoff` (RFC 3339, UTC).
        pub async fn ended_by(&self, cutoff: &str) -> Result<Vec<EventCode>, StorageError> {
            let codes: Vec<String> = sqlx::query_scalar(
                "SELECT code FROM events WHERE state IN ('ended', 'after') AND purged_at IS NULL AND ended_at <= $1
                 ORDER BY code",
            )
            .bind(cutoff.to_owned())
            .fetch_all(&self.pool)
            .await?;
            Ok(codes.iter().filter_map(|c| EventCode::parse(c)).collect())
        }

        /// Attendance samples, one a minute: (minute, present, peak, joined).
        pub async fn presence(
            &self,
            code: EventCode,
        ) -> Result<Vec<(String, i64, i64, i64)>, StorageError> {
            let rows = sqlx::query("SELECT minute, present, peak, joined FROM presence_samples WHERE event = $1 ORDER BY minute")
                .bind(code.as_str().to_owned())
                .fetch_all(&self.pool)
                .await?;
            Ok(rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect())
        }

        /// The edition this one compares with: the latest ended edition of the same series that
        /// started before this one (by `starts_at` when both have one, else by creation time;
        /// ties by end time, then code), never a rehearsal. `None` for a rehearsal itself.
        pub async fn previous_in_series(
            &self,
            code: EventCode,
            series: &str,
        ) -> Result<Option<EventCode>, StorageError> {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT other.code, other.spec, this.spec FROM events AS this JOIN events AS other
                   ON other.series = this.series AND other.code <> this.code
                 WHERE this.code = $1 AND this.series = $2 AND other.state = 'ended'
                   AND COALESCE(other.starts_at, other.created_at) < COALESCE(this.starts_at, this.created_at)
                 ORDER BY COALESCE(other.starts_at, other.created_at) DESC, other.ended_at DESC, other.code DESC",
            )
            .bind(code.as_str().to_owned())
            .bind(series.to_owned())
            .fetch_all(&self.pool)
            .await?;
            Ok(super::latest_not_rehearsal(&rows))
        }

        /// The summary kept when the event's raw answers were purged, with the purge time.
        pub async fn kept_summary(
            &self,
            code: EventCode,
        ) -> Result<Option<(String, String)>, StorageError> {
            let row = sqlx::query("SELECT summary, purged_at FROM summaries WHERE event = $1")
                .bind(code.as_str().to_owned())
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.map(|r| (r.get(0), r.get(1))))
        }

        /// Deletes the event's raw answers, attendees (and so their tokens), receipts,
        /// questions, votes, cards and attendance samples, keeping `summary` in their place.
        /// One transaction: either all of it happens or none.
        pub async fn purge(
            &self,
            code: EventCode,
            summary: &str,
            at: &str,
        ) -> Result<(), StorageError> {
            let code = code.as_str().to_owned();
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO summaries (event, summary, purged_at) VALUES ($1, $2, $3)
                 ON CONFLICT (event) DO UPDATE SET summary = excluded.summary, purged_at = excluded.purged_at",
            )
            .bind(code.clone())
            .bind(summary.to_owned())
            .bind(at.to_owned())
            .execute(&mut *tx)
            .await?;
            for table in [
                "answers",
                "receipts",
                "votes",
                "questions",
                "cards",
                "attendees",
                "presence_samples",
                "role_links",
            ] {
                let sql = format!("DELETE FROM {table} WHERE event = $1");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(code.clone())
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE events SET purged_at = $1 WHERE code = $2")
                .bind(at.to_owned())
                .bind(code)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }

        pub async fn list_events(&self) -> Result<Vec<super::EventRow>, StorageError> {
            let rows = sqlx::query(
                "SELECT code, spec, state, created_at, ended_at, purged_at,
                        (SELECT COUNT(*) FROM attendees WHERE attendees.event = events.code),
                        started_at
                 FROM events ORDER BY COALESCE(starts_at, created_at) DESC, code",
            )
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .iter()
                .map(|r| super::EventRow {
                    code: r.get(0),
                    spec: r.get(1),
                    state: r.get(2),
                    created_at: r.get(3),
                    ended_at: r.get(4),
                    purged_at: r.get(5),
                    joined: r.get(6),
                    started_at: r.get(7),
                })
                .collect())
        }

        pub async fn replace_spec(
            &self,
            code: EventCode,
            expected: &str,
            spec: &str,
            title: &str,
            series: Option<&str>,
            starts_at: Option<&str>,
        ) -> Result<bool, StorageError> {
            let done = sqlx::query(
                "UPDATE events SET spec = $1, title = $2, series = $3, starts_at = $4
                 WHERE code = $5 AND spec = $6",
            )
            .bind(spec.to_owned())
            .bind(title.to_owned())
            .bind(series.map(str::to_owned))
            .bind(starts_at.map(str::to_owned))
            .bind(code.as_str().to_owned())
            .bind(expected.to_owned())
            .execute(&self.pool)
            .await?;
            Ok(done.rows_affected() == 1)
        }

        pub async fn answered_activities(&self, code: EventCode) -> Result<Vec<String>, StorageError> {
            Ok(sqlx::query_scalar(
                "SELECT activity FROM answers WHERE event = $1
                     UNION SELECT activity FROM activity_states WHERE event = $2 AND state <> 'ready'",
            )
            .bind(code.as_str().to_owned())
            .bind(code.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?)
        }

        pub async fn reset_event(&self, code: EventCode) -> Result<(), StorageError> {
            let code = code.as_str().to_owned();
            let mut tx = self.pool.begin().await?;
            for table in [
                "answers",
                "receipts",
                "votes",
                "questions",
                "cards",
                "attendees",
                "presence_samples",
                "activity_states",
            ] {
                let sql = format!("DELETE FROM {table} WHERE event = $1");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(code.clone())
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE events SET state = 'live', focus = NULL, ended_at = NULL, purged_at = NULL,
                        started_at = NULL, current_sessions = NULL
                 WHERE code = $1",
            )
            .bind(code.clone())
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM summaries WHERE event = $1")
                .bind(code)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }

        /// The host's names for the report's themes, by theme id.
        pub async fn theme_names(
            &self,
            code: EventCode,
        ) -> Result<Vec<(String, String)>, StorageError> {
            let rows =
                sqlx::query("SELECT theme, name FROM theme_names WHERE event = $1 ORDER BY theme")
                    .bind(code.as_str().to_owned())
                    .fetch_all(&self.pool)
                    .await?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        }

        /// Replaces the host's names for the report's themes, in one transaction.
        pub async fn set_theme_names(
            &self,
            code: EventCode,
            names: &[(String, String)],
        ) -> Result<(), StorageError> {
            let code = code.as_str().to_owned();
            let mut tx = self.pool.begin().await?;
            sqlx::query("DELETE FROM theme_names WHERE event = $1")
                .bind(code.clone())
                .execute(&mut *tx)
                .await?;
            for (theme, name) in names {
                sqlx::query("INSERT INTO theme_names (event, theme, name) VALUES ($1, $2, $3)")
                    .bind(code.clone())
                    .bind(theme.clone())
                    .bind(name.clone())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        }

        /// Stores a new role link (its secret's hash only).
        pub async fn insert_role_link(
            &self,
            code: EventCode,
            link: &super::RoleLink,
            secret_hash: &str,
        ) -> Result<(), StorageError> {
            sqlx::query(
                "INSERT INTO role_links (id, event, role, label, room, secret_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(link.id.clone())
            .bind(code.as_str().to_owned())
            .bind(link.role.clone())
            .bind(link.label.clone())
            .bind(link.room.clone())
            .bind(secret_hash.to_owned())
            .bind(link.created_at.clone())
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        /// The event's role links, the oldest first, revoked ones included.
        pub async fn role_links(
            &self,
            code: EventCode,
        ) -> Result<Vec<super::RoleLink>, StorageError> {
            let rows = sqlx::query(
                "SELECT id, role, label, room, created_at, revoked_at FROM role_links
                 WHERE event = $1 ORDER BY created_at, id",
            )
            .bind(code.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.iter().map(super::role_link).collect())
        }

        /// The event's role link whose secret hashes to `secret_hash`, revoked or not.
        pub async fn role_link_by_secret(
            &self,
            code: EventCode,
            secret_hash: &str,
        ) -> Result<Option<super::RoleLink>, StorageError> {
            let row = sqlx::query(
                "SELECT id, role, label, room, created_at, revoked_at FROM role_links
                 WHERE event = $1 AND secret_hash = $2",
            )
            .bind(code.as_str().to_owned())
            .bind(secret_hash.to_owned())
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(super::role_link))
        }

        /// Marks a role link revoked at `at`, keeping an earlier revocation's time: the link
        /// as it now stands, or `None` when the event has no such link.
        pub async fn revoke_role_link(
            &self,
            code: EventCode,
            id: &str,
            at: &str,
        ) -> Result<Option<super::RoleLink>, StorageError> {
            let row = sqlx::query(
                "UPDATE role_links SET revoked_at = COALESCE(revoked_at, $1)
                 WHERE event = $2 AND id = $3
                 RETURNING id, role, label, room, created_at, revoked_at",
            )
            .bind(at.to_owned())
            .bind(code.as_str().to_owned())
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.as_ref().map(super::role_link))
        }
    };
}

pub(super) use shared_queries;

/// One event's live state, read inside the snapshot transaction `$tx` each backend opens
/// its own way (SQLite's read transaction, PostgreSQL's repeatable read): the same queries,
/// in the same order, for both. Evaluates to the rows, as stored (the latest answer per
/// attendee and activity is picked by the caller).
macro_rules! read_live_rows {
    ($tx:ident, $code:ident) => {{
            let mut rows = super::LiveRows::default();
            for r in sqlx::query(
                "SELECT activity, state, revealed FROM activity_states WHERE event = $1 ORDER BY activity",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.activity_states
                    .push((r.get(0), r.get(1), r.get::<i64, _>(2) != 0));
            }
            for r in sqlx::query(
                "SELECT id, token_hash, organisation, sector, room FROM attendees WHERE event = $1 ORDER BY id",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.attendees.push(super::AttendeeRow {
                    id: r.get(0),
                    token_hash: r.get(1),
                    organisation: r.get(2),
                    sector: r.get(3),
                    room: r.get(4),
                });
            }
            for r in sqlx::query(
                "SELECT attendee, activity, value, item, state, flagged, msg, organisation, sector
                 FROM answers WHERE event = $1 ORDER BY id",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.answers.push(super::AnswerRow {
                    attendee: r.get(0),
                    activity: r.get(1),
                    value: r.get(2),
                    item: r.get(3),
                    state: r.get(4),
                    flagged: r.get::<i64, _>(5) != 0,
                    organisation: r.get(7),
                    sector: r.get(8),
                });
                // An answer row is its message's receipt (since migration 0004).
                if let Some(msg) = r.get::<Option<String>, _>(6) {
                    rows.receipts.push((r.get(0), msg));
                }
            }
            for r in sqlx::query("SELECT attendee, msg FROM receipts WHERE event = $1 ORDER BY id")
                .bind($code.clone())
                .fetch_all(&mut *$tx)
                .await?
            {
                rows.receipts.push((r.get(0), r.get(1)));
            }
            for r in sqlx::query(
                "SELECT id, seq, attendee, text, state, flagged, session, advance FROM questions WHERE event = $1 ORDER BY seq",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.questions.push(super::QuestionRow {
                    id: r.get(0),
                    seq: r.get(1),
                    attendee: r.get(2),
                    text: r.get(3),
                    state: r.get(4),
                    flagged: r.get::<i64, _>(5) != 0,
                    session: r.get(6),
                    advance: r.get::<i64, _>(7) != 0,
                });
            }
            for r in sqlx::query(
                "SELECT question, attendee FROM votes WHERE event = $1 ORDER BY question, attendee",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.votes.push((r.get(0), r.get(1)));
            }
            for r in sqlx::query(
                "SELECT attendee, id, seq, card, state, flagged FROM cards WHERE event = $1 ORDER BY seq",
            )
            .bind($code.clone())
            .fetch_all(&mut *$tx)
            .await?
            {
                rows.cards.push(super::CardRow {
                    attendee: r.get(0),
                    id: r.get(1),
                    seq: r.get(2),
                    card: r.get(3),
                    state: r.get(4),
                    flagged: r.get::<i64, _>(5) != 0,
                });
            }
            rows.peak_present = sqlx::query_scalar(
                "SELECT COALESCE(MAX(peak), 0) FROM presence_samples WHERE event = $1",
            )
            .bind($code)
            .fetch_one(&mut *$tx)
            .await?;
            rows
    }};
}

pub(super) use read_live_rows;
