-- Which node of a cluster runs each live event, until when, and the event's fencing number
-- (`storage/lease.rs`). `epoch` goes up by one at every change of owner; every write
-- transaction of a clustered event checks it before its COMMIT. `holder` is the backend
-- pid of the session that took or last renewed the lease: once that session has ended,
-- another node may take the event without waiting for `expires_at`.

CREATE TABLE event_owners (
    event      TEXT COLLATE "C" PRIMARY KEY,
    epoch      BIGINT NOT NULL,
    node       BIGINT NOT NULL,
    holder     BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
