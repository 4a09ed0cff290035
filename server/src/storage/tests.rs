//! The seam end to end, through the writer: the same writes leave the same rows on SQLite
//! (always) and on PostgreSQL (with `JOINUP_TEST_DATABASE=postgres`, on the server
//! [`services::postgres_server`] finds or starts, in a database of its own that is dropped
//! afterwards).

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;
use tokio::sync::mpsc;

use super::writer::ItemTable;
use super::*;

/// The PostgreSQL server and `nats-server` the tests need, found or started once.
#[path = "../../../tests/tests/it/services.rs"]
mod services;

fn on_postgres() -> bool {
    std::env::var("JOINUP_TEST_DATABASE").is_ok_and(|v| v.eq_ignore_ascii_case("postgres"))
}

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("{}_{nanos}", std::process::id())
}

pub(crate) enum TempDb {
    Sqlite(PathBuf),
    Postgres(String),
}

impl TempDb {
    pub(crate) fn url(&self) -> String {
        match self {
            TempDb::Sqlite(folder) => format!("sqlite://{}", folder.join("joinup.db").display()),
            TempDb::Postgres(name) => format!("{}/{name}", TempDb::server()),
        }
    }

    async fn admin(sql: String) {
        let mut admin =
            sqlx::postgres::PgConnection::connect(&format!("{}/postgres", TempDb::server()))
                .await
                .expect("connect to the PostgreSQL server");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .expect("admin statement");
        let _ = admin.close().await;
    }

    /// A SQLite database in a folder of its own.
    pub(crate) fn sqlite() -> TempDb {
        let folder = std::env::temp_dir().join(format!("joinup-storage-test-{}", unique()));
        std::fs::create_dir_all(&folder).expect("temp folder");
        TempDb::Sqlite(folder)
    }

    /// The PostgreSQL server, once [`TempDb::postgres`] has found it.
    fn server() -> &'static str {
        services::postgres_server().unwrap_or(services::LOCAL_POSTGRES)
    }

    /// A PostgreSQL database of its own on the test server ([`services::postgres_server`]);
    /// `None` when there is none and the tests that need one are skipped.
    pub(crate) async fn postgres() -> Option<TempDb> {
        // Finding (or starting) the server blocks: not on the runtime's thread.
        tokio::task::spawn_blocking(services::postgres_server)
            .await
            .expect("finding the PostgreSQL server")?;
        let name = format!("joinup_test_{}", unique());
        TempDb::admin(format!("CREATE DATABASE {name}")).await;
        Some(TempDb::Postgres(name))
    }

    /// Every database this run covers: SQLite, and PostgreSQL when asked for.
    async fn all() -> Vec<TempDb> {
        let mut dbs = vec![TempDb::sqlite()];
        if on_postgres()
            && let Some(db) = TempDb::postgres().await
        {
            dbs.push(db);
        }
        dbs
    }

    pub(crate) async fn remove(self) {
        match self {
            TempDb::Sqlite(folder) => {
                let _ = std::fs::remove_dir_all(folder);
            }
            TempDb::Postgres(name) => {
                TempDb::admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            }
        }
    }
}

pub(crate) fn code(text: &str) -> EventCode {
    EventCode::parse(text).expect("a valid event code")
}

pub(crate) fn stored(code: EventCode, created_at: &str) -> StoredEvent {
    StoredEvent {
        code,
        spec: "{}".to_owned(),
        host_token_hash: "host".to_owned(),
        presenter_token_hash: "presenter".to_owned(),
        state: "live".to_owned(),
        focus: None,
        created_at: created_at.to_owned(),
        ended_at: None,
        purged_at: None,
        started_at: None,
        current_sessions: None,
    }
}

pub(crate) fn answer(event: EventCode, attendee: i64, activity: &str, value: &str) -> Write {
    Write::Answer {
        event,
        attendee,
        activity: activity.to_owned(),
        value: value.to_owned(),
        item: None,
        state: None,
        flagged: false,
        msg: format!("{activity}-{attendee}-{value}"),
        organisation: None,
        sector: None,
    }
}

fn question(event: EventCode, id: &str, seq: i64) -> Write {
    Write::Question {
        event,
        id: id.to_owned(),
        seq,
        attendee: 1,
        text: "Who funds the link workers?".to_owned(),
        state: "visible",
        flagged: false,
        session: Some("keynote".to_owned()),
        advance: true,
    }
}

/// More rows than one statement carries, repeated writes to the same rows, every kind of
/// write; a job that fails on its own; then the reads, purge and settings.
async fn exercise(storage: &Storage, label: &str) {
    let event = code("ABCDEF");
    let next = code("BCDEFG");
    assert!(
        storage
            .insert_event(
                &stored(event, "2026-11-01T10:00:00Z"),
                "2025",
                Some("dual"),
                None
            )
            .await
            .expect("insert"),
        "{label}"
    );
    assert!(
        !storage
            .insert_event(&stored(event, "2026-11-01T10:00:00Z"), "again", None, None)
            .await
            .expect("insert"),
        "{label}: the code is taken"
    );
    assert!(
        storage
            .insert_event(
                &stored(next, "2026-10-01T10:00:00Z"),
                "2026",
                Some("dual"),
                Some("2026-12-01T09:00:00Z"),
            )
            .await
            .expect("insert"),
        "{label}"
    );

    const ATTENDEES: i64 = 3000;
    let mut writes = Vec::new();
    for id in 1..=ATTENDEES {
        writes.push(Write::Attendee {
            event,
            id,
            token_hash: format!("token-{id}"),
            organisation: None,
            sector: None,
            room: None,
        });
        writes.push(answer(event, id, "role", &format!("[{}]", id % 3)));
        writes.push(Write::Receipt {
            event,
            attendee: id,
            msg: format!("m{id}"),
        });
    }
    writes.extend([
        // Written again in the same batch: the token stays, the profile is the last one.
        Write::Attendee {
            event,
            id: 5,
            token_hash: "token-other".to_owned(),
            organisation: Some("Harbour Trust".to_owned()),
            sector: None,
            room: Some("B".to_owned()),
        },
        Write::Answer {
            event,
            attendee: 5,
            activity: "role".to_owned(),
            value: "[9]".to_owned(),
            item: None,
            state: None,
            flagged: true,
            msg: "m5-role".to_owned(),
            organisation: Some("Harbour Trust".to_owned()),
            sector: Some("Police".to_owned()),
        },
        Write::Receipt {
            event,
            attendee: 5,
            msg: "m5".to_owned(),
        },
        Write::Answer {
            event,
            attendee: 7,
            activity: "concern".to_owned(),
            value: "\"Housing\"".to_owned(),
            item: Some("item-1".to_owned()),
            state: Some("pending"),
            flagged: false,
            msg: "m7-concern".to_owned(),
            organisation: None,
            sector: None,
        },
        Write::ItemState {
            event,
            table: ItemTable::Answers,
            id: "item-1".to_owned(),
            state: "hidden",
        },
        question(event, "q1", 1),
        Write::Vote {
            event,
            question: "q1".to_owned(),
            attendee: 2,
        },
        Write::Vote {
            event,
            question: "q1".to_owned(),
            attendee: 2,
        },
        Write::Card {
            event,
            attendee: 3,
            id: "card-1".to_owned(),
            seq: 1,
            card: "{}".to_owned(),
            state: "visible",
            flagged: false,
        },
        Write::ActivityState {
            event,
            activity: "role".to_owned(),
            state: "open",
            revealed: true,
        },
        Write::Focus {
            event,
            activity: Some("role".to_owned()),
        },
        Write::Presence {
            event,
            minute: "2026-11-01T10:01".to_owned(),
            present: 10,
            peak: 12,
            joined: 20,
        },
        Write::Presence {
            event,
            minute: "2026-11-01T10:01".to_owned(),
            present: 8,
            peak: 9,
            joined: 21,
        },
    ]);
    let (reply, mut commits) = mpsc::unbounded_channel();
    let writer = storage.writer();
    let ticket = |seq| {
        Some(Ticket {
            reply: reply.clone(),
            seq,
        })
    };
    writer.submit(writes, ticket(1)).await.expect("submit");
    // A second attendee with an existing attendee's token breaks the unique token index:
    // that job fails on its own; the jobs around it commit.
    writer
        .submit(
            vec![Write::Attendee {
                event,
                id: 999_999,
                token_hash: "token-5".to_owned(),
                organisation: None,
                sector: None,
                room: None,
            }],
            ticket(2),
        )
        .await
        .expect("submit");
    // A question stored twice (a retried commit of unknown outcome) changes nothing.
    writer
        .submit(vec![question(event, "q1", 2)], None)
        .await
        .expect("submit");
    writer
        .submit(
            vec![Write::Vote {
                event,
                question: "q1".to_owned(),
                attendee: 3,
            }],
            ticket(3),
        )
        .await
        .expect("submit");
    writer.flush().await.expect("flush");
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    while let Ok(committed) = commits.try_recv() {
        ok.extend(committed.ok);
        failed.extend(committed.failed);
    }
    ok.sort_unstable();
    assert_eq!((ok, failed), (vec![1, 3], vec![2]), "{label}");

    let rows = storage.live_rows(event).await.expect("live rows");
    assert_eq!(rows.attendees.len(), ATTENDEES as usize, "{label}");
    let five = rows
        .attendees
        .iter()
        .find(|a| a.id == 5)
        .expect("attendee 5");
    assert_eq!(five.token_hash, "token-5", "{label}");
    assert_eq!(
        five.organisation.as_deref(),
        Some("Harbour Trust"),
        "{label}"
    );
    assert_eq!(five.room.as_deref(), Some("B"), "{label}");
    assert!(
        rows.attendees.windows(2).all(|w| w[0].id < w[1].id),
        "{label}: key order"
    );

    assert_eq!(rows.answers.len(), ATTENDEES as usize + 1, "{label}");
    let keys: Vec<(i64, &str)> = rows
        .answers
        .iter()
        .map(|a| (a.attendee, a.activity.as_str()))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{label}: key order");
    let role5 = rows
        .answers
        .iter()
        .find(|a| a.attendee == 5 && a.activity == "role")
        .expect("answer");
    assert_eq!(
        (role5.value.as_str(), role5.flagged),
        ("[9]", true),
        "{label}"
    );
    assert_eq!(
        (role5.organisation.as_deref(), role5.sector.as_deref()),
        (Some("Harbour Trust"), Some("Police")),
        "{label}: the profile an answer was given under is kept with it"
    );
    let concern = rows
        .answers
        .iter()
        .find(|a| a.activity == "concern")
        .expect("text answer");
    assert_eq!(concern.item.as_deref(), Some("item-1"), "{label}");
    assert_eq!(concern.state.as_deref(), Some("hidden"), "{label}");
    let zeros = rows.answers.iter().filter(|a| a.value == "[0]").count();
    assert_eq!(zeros, (ATTENDEES / 3) as usize, "{label}");

    // Every answer row is its message's receipt (3,000 + 2 answers); `receipts` holds the
    // other messages' (3,000).
    assert_eq!(rows.receipts.len(), 2 * ATTENDEES as usize + 2, "{label}");
    assert!(
        rows.receipts.contains(&(5, "m5-role".to_owned()))
            && rows.receipts.contains(&(5, "m5".to_owned())),
        "{label}: an answer's message id and another message's"
    );
    assert_eq!(rows.questions.len(), 1, "{label}");
    assert_eq!(
        (rows.questions[0].id.as_str(), rows.questions[0].seq),
        ("q1", 1),
        "{label}"
    );
    assert_eq!(
        rows.votes,
        vec![("q1".to_owned(), 2), ("q1".to_owned(), 3)],
        "{label}"
    );
    assert_eq!(rows.cards.len(), 1, "{label}");
    assert_eq!(
        rows.activity_states,
        vec![("role".to_owned(), "open".to_owned(), true)],
        "{label}"
    );
    assert_eq!(rows.peak_present, 12, "{label}: the peak never goes down");
    assert_eq!(
        storage.presence(event).await.expect("presence"),
        vec![("2026-11-01T10:01".to_owned(), 8, 12, 21)],
        "{label}"
    );
    let stored_event = storage.event(event).await.expect("event").expect("found");
    assert_eq!(stored_event.focus.as_deref(), Some("role"), "{label}");

    // An edition that has not ended is never "last year".
    assert_eq!(
        storage
            .previous_in_series(next, "dual")
            .await
            .expect("series"),
        None,
        "{label}"
    );

    assert_eq!(storage.setting("key").await.expect("setting"), None);
    storage.set_setting("key", "one").await.expect("set");
    storage.set_setting("key", "two").await.expect("set");
    assert_eq!(
        storage.setting("key").await.expect("setting").as_deref(),
        Some("two"),
        "{label}"
    );
    storage
        .set_tokens(event, "host-2", "presenter-2")
        .await
        .expect("tokens");

    writer
        .submit(
            vec![Write::EventEnded {
                event,
                at: "2026-11-01T18:00:00Z".to_owned(),
            }],
            None,
        )
        .await
        .expect("submit");
    writer.flush().await.expect("flush");
    assert!(
        storage
            .ended_by("2026-11-01T17:59:59Z")
            .await
            .expect("ended")
            .is_empty(),
        "{label}"
    );
    assert_eq!(
        storage
            .ended_by("2026-11-01T18:00:00Z")
            .await
            .expect("ended"),
        vec![event],
        "{label}"
    );
    // By `starts_at` where both have one, else by creation time: `next` was created first
    // but starts later.
    assert_eq!(
        storage
            .previous_in_series(next, "dual")
            .await
            .expect("series"),
        Some(event),
        "{label}"
    );
    assert_eq!(
        storage
            .previous_in_series(event, "dual")
            .await
            .expect("series"),
        None,
        "{label}"
    );
    storage
        .purge(event, "{\"kept\":true}", "2026-11-02T00:00:00Z")
        .await
        .expect("purge");
    assert_eq!(
        storage.kept_summary(event).await.expect("summary"),
        Some((
            "{\"kept\":true}".to_owned(),
            "2026-11-02T00:00:00Z".to_owned()
        )),
        "{label}"
    );
    let after = storage.live_rows(event).await.expect("live rows");
    assert!(
        after.attendees.is_empty() && after.answers.is_empty() && after.receipts.is_empty(),
        "{label}"
    );
    assert_eq!(after.peak_present, 0, "{label}");
    let purged = storage.event(event).await.expect("event").expect("kept");
    assert_eq!(purged.state, "ended", "{label}");
    assert_eq!(purged.host_token_hash, "host-2", "{label}");
    assert_eq!(
        purged.purged_at.as_deref(),
        Some("2026-11-02T00:00:00Z"),
        "{label}"
    );
    assert!(
        storage
            .ended_by("2026-11-03T00:00:00Z")
            .await
            .expect("ended")
            .is_empty(),
        "{label}: a purged event is not purged again"
    );
}

#[tokio::test]
async fn the_same_writes_leave_the_same_rows_on_every_backend() {
    for db in TempDb::all().await {
        let url = db.url();
        let storage = Storage::open(&url).await.expect("open");
        match &db {
            TempDb::Sqlite(folder) => assert_eq!(storage.data_folder().as_ref(), Some(folder)),
            TempDb::Postgres(_) => assert_eq!(storage.data_folder(), None),
        }
        exercise(&storage, &url).await;
        storage.close().await;
        // Opening again applies no migration twice.
        Storage::open(&url).await.expect("reopen").close().await;
        db.remove().await;
    }
}

/// "Last year" is the latest edition of the series that started before this one and has
/// ended, never a rehearsal, never a copy still live; a rehearsal itself compares with none.
async fn previous_edition(storage: &Storage, label: &str) {
    let spec = |rehearsal: bool| {
        if rehearsal {
            r#"{"title":"t","rehearsal":true,"sessions":[]}"#.to_owned()
        } else {
            r#"{"title":"t","sessions":[]}"#.to_owned()
        }
    };
    // (code, starts_at, rehearsal, ended)
    let editions = [
        ("PRVAAA", "2024-11-20T09:00:00Z", false, true),
        ("PRVBBB", "2025-11-20T09:00:00Z", false, true),
        // A rehearsal of 2025, later and ended: never compared.
        ("PRVCCC", "2025-11-21T09:00:00Z", true, true),
        // A copy of 2025 that never ended, later still: never compared.
        ("PRVDDD", "2025-11-22T09:00:00Z", false, false),
        ("PRVEEE", "2026-11-23T09:00:00Z", false, false),
        // A rehearsal of 2026 itself.
        ("PRVFFF", "2026-11-24T09:00:00Z", true, false),
    ];
    let writer = storage.writer().clone();
    for (c, starts_at, rehearsal, ended) in editions {
        let mut e = stored(code(c), "2026-01-01T10:00:00Z");
        e.spec = spec(rehearsal);
        assert!(
            storage
                .insert_event(&e, c, Some("series-p"), Some(starts_at))
                .await
                .expect("insert"),
            "{label}"
        );
        if ended {
            writer
                .submit(
                    vec![Write::EventEnded {
                        event: code(c),
                        at: "2026-01-02T10:00:00Z".to_owned(),
                    }],
                    None,
                )
                .await
                .expect("submit");
        }
    }
    writer.flush().await.expect("flush");
    let previous = |c: &'static str| async move {
        storage
            .previous_in_series(code(c), "series-p")
            .await
            .expect("series")
    };
    assert_eq!(previous("PRVEEE").await, Some(code("PRVBBB")), "{label}");
    assert_eq!(previous("PRVDDD").await, Some(code("PRVBBB")), "{label}");
    assert_eq!(previous("PRVBBB").await, Some(code("PRVAAA")), "{label}");
    assert_eq!(previous("PRVAAA").await, None, "{label}");
    assert_eq!(
        previous("PRVFFF").await,
        None,
        "{label}: a rehearsal compares with none"
    );
}

#[tokio::test]
async fn last_year_is_the_latest_ended_edition_and_never_a_rehearsal() {
    for db in TempDb::all().await {
        let url = db.url();
        let storage = Storage::open(&url).await.expect("open");
        previous_edition(&storage, &url).await;
        storage.close().await;
        db.remove().await;
    }
}

/// A job whose actor has gone is never committed, not even on the first attempt: nobody
/// could be told, and in a cluster the event may already run elsewhere. The others of its
/// batch are.
#[tokio::test]
async fn a_job_whose_actor_has_gone_is_never_committed() {
    for db in TempDb::all().await {
        let url = db.url();
        let storage = Storage::open(&url).await.expect("open");
        let event = code("ABCDEF");
        let row = stored(event, "2026-11-01T10:00:00Z");
        let inserted = storage.insert_event(&row, "t", None, None).await;
        assert!(inserted.expect("insert"));
        let (gone, stopped) = mpsc::unbounded_channel();
        drop(stopped);
        let (live, mut told) = mpsc::unbounded_channel();
        for (attendee, reply) in [(1, gone), (2, live)] {
            let ticket = Ticket { reply, seq: 7 };
            let writes = vec![answer(event, attendee, "role", "[1]")];
            storage
                .writer()
                .submit(writes, Some(ticket))
                .await
                .expect("submit");
        }
        storage.writer().flush().await.expect("flush");
        let committed = told.recv().await.expect("the live actor is told");
        assert_eq!(committed.ok, [7], "{url}");
        let rows = storage.live_rows(event).await.expect("rows");
        let attendees: Vec<i64> = rows.answers.iter().map(|a| a.attendee).collect();
        assert_eq!(
            attendees,
            [2],
            "{url}: only the live actor's answer is stored"
        );
        storage.close().await;
        db.remove().await;
    }
}

#[tokio::test]
async fn other_urls_are_refused() {
    for url in ["mysql://localhost/joinup", "joinup.db"] {
        assert!(
            matches!(
                Storage::open(url).await,
                Err(StorageError::UnsupportedUrl(_))
            ),
            "{url}"
        );
    }
    assert!(is_postgres_url("postgres://u@h/db") && is_postgres_url("postgresql://h/db"));
    assert!(!is_postgres_url("sqlite://joinup-data/joinup.db"));
}

#[test]
fn postgres_migrations_are_numbered_as_the_sqlite_ones() {
    let numbering = |m: &sqlx::migrate::Migrator| -> Vec<(i64, String)> {
        m.iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    };
    let sqlite = numbering(&sqlite::MIGRATOR);
    assert!(!sqlite.is_empty());
    assert_eq!(numbering(&postgres::MIGRATOR), sqlite);
}

/// Runs one test of this binary in a child process with `env` set: its exit status, stdout
/// and stderr.
fn run_alone(test: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let exe = std::env::current_exe().expect("this test binary");
    let mut command = std::process::Command::new(exe);
    command
        .args(["--exact", test, "--test-threads", "1"])
        .env_remove("JOINUP_TEST_SKIP_MISSING")
        .env_remove("JOINUP_TEST_POSTGRES");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("run the test binary");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

const NEEDS_POSTGRES: &str =
    "storage::lease::tests::the_lease_session_is_watched_and_bounded_by_the_database";

/// With no PostgreSQL where the tests look, a test that needs it ends the run with one line
/// saying what to do (not a panic inside the test), or passes without running when asked
/// to skip.
#[test]
fn a_missing_postgres_server_is_one_line_or_a_skip() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let nowhere = format!("postgres://postgres@127.0.0.1:{closed}");
    let (status, _, stderr) = run_alone(NEEDS_POSTGRES, &[("JOINUP_TEST_POSTGRES", &nowhere)]);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(said.len(), 1, "one line: {stderr}");
    assert!(
        said[0].starts_with(&format!(
            "error: JOINUP_TEST_POSTGRES={nowhere}: no PostgreSQL"
        )) && said[0].contains("JOINUP_TEST_SKIP_MISSING=1"),
        "{stderr}"
    );

    let skip = [
        ("JOINUP_TEST_POSTGRES", nowhere.as_str()),
        ("JOINUP_TEST_SKIP_MISSING", "1"),
    ];
    let (status, stdout, stderr) = run_alone(NEEDS_POSTGRES, &skip);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        stderr.contains("note: skipping the tests that need it"),
        "{stderr}"
    );
}

/// With `initdb` at hand, the tests start a PostgreSQL server of their own (here asked for
/// with `JOINUP_TEST_POSTGRES=private`; without it, when nothing answers on 5432).
#[test]
fn a_private_postgres_server_is_started_from_initdb() {
    if services::postgres_server().is_none() {
        return; // skipping: no PostgreSQL at all (the note said so)
    }
    let (status, stdout, stderr) =
        run_alone(NEEDS_POSTGRES, &[("JOINUP_TEST_POSTGRES", "private")]);
    assert_eq!(status, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}");
    let started = "note: the tests started a private PostgreSQL at postgres://postgres@127.0.0.1:";
    assert!(stderr.contains(started), "{stderr}");
}
