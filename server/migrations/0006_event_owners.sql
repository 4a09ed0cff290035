-- Which node of a cluster runs each live event, as in the PostgreSQL migration of the same
-- number. A cluster runs only on PostgreSQL, so on SQLite the table stays empty; it exists
-- so both schemas keep one numbering and one shape.

CREATE TABLE event_owners (
    event      TEXT PRIMARY KEY,
    epoch      INTEGER NOT NULL,
    node       INTEGER NOT NULL,
    holder     INTEGER NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
