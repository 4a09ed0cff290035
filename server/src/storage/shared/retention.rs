//! The shared SQL of what happens after an event: which ended events are due for purging,
//! the purge that keeps a summary in place of the raw rows, the kept summary, attendance
//! samples, and the earlier edition of a series a report compares with. Nothing here runs
//! while an event is live.

/// Retention, expanded by [`super::shared_queries!`]: which events are due, what is kept,
/// the purge itself, and the comparisons that read older editions.
macro_rules! retention_queries {
    () => {
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
    };
}

pub(crate) use retention_queries;
