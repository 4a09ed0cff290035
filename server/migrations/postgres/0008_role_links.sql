-- Role links: the revocable links an organiser issues to the people who run an event with
-- them (host, moderator, presenter), each with a label. Only the SHA-256 of each link's
-- secret is kept. The PostgreSQL twin of ../0008_role_links.sql.

CREATE TABLE role_links (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    event       TEXT COLLATE "C" NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    role        TEXT COLLATE "C" NOT NULL CHECK (role IN ('host', 'moderator', 'presenter')),
    label       TEXT COLLATE "C" NOT NULL,
    room        TEXT COLLATE "C",
    secret_hash TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at  TEXT COLLATE "C" NOT NULL,
    revoked_at  TEXT COLLATE "C"
);
CREATE INDEX role_links_by_event ON role_links (event, created_at);
