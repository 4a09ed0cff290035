//! The shared SQL of role links: storing one (its secret's hash only), listing an event's,
//! finding one by its secret's hash, revoking one. The link's type is
//! `domain::link::RoleLink`; checking a link against a connection is the HTTP layer's.

/// Role links, expanded by [`super::shared_queries!`].
macro_rules! link_queries {
    () => {
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

pub(crate) use link_queries;
