-- The host's names for the report's themes of open text: a theme renamed, or several merged
-- by giving them one name. Not answers: kept after a purge, deleted with the event.
-- The PostgreSQL twin of ../0007_theme_names.sql.

CREATE TABLE theme_names (
    event TEXT COLLATE "C" NOT NULL REFERENCES events (code) ON DELETE CASCADE,
    theme TEXT COLLATE "C" NOT NULL,
    name  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (event, theme)
);
