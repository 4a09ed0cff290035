//! The shared SQL of an event's own rows: creating and reading an event, its tokens, the
//! organiser's list, a new spec, a reset, the host's theme names, and the server-wide
//! settings. Role links are `links.rs`; retention (ending, purging) is `retention.rs`; the
//! writer's SQL is each backend's, never here.

/// The event's own rows, expanded by [`super::shared_queries!`]: creating, reading, listing,
/// respeccing and resetting an event, its tokens, the host's theme names, and the
/// server's settings.
macro_rules! event_queries {
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
    };
}

pub(crate) use event_queries;
