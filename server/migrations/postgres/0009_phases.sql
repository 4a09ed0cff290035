-- Phases and a Q&A per session (docs/protocol.md, "Phases").
-- The PostgreSQL twin of ../0009_phases.sql, which says what each column holds.

ALTER TABLE events ADD COLUMN started_at TEXT COLLATE "C";
ALTER TABLE events ADD COLUMN current_sessions TEXT COLLATE "C";
ALTER TABLE questions ADD COLUMN session TEXT COLLATE "C";
ALTER TABLE questions ADD COLUMN advance BIGINT NOT NULL DEFAULT 0;
