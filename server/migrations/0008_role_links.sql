-- Role links: the revocable links an organiser issues to the people who run an event with
-- them (host, moderator, presenter), each with a label. Only the SHA-256 of each link's
-- secret is kept, as for the event's own host and presenter tokens. A revoked link keeps its
-- row (the organiser's list says when it was revoked) and opens nothing.

CREATE TABLE role_links (
    id          TEXT PRIMARY KEY NOT NULL,
    event       TEXT NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('host', 'moderator', 'presenter')),
    label       TEXT NOT NULL,
    room        TEXT,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX role_links_by_event ON role_links (event, created_at);
