//! A node killed with SIGKILL in the middle of a burst of answers: every attendee moves to a
//! surviving node, resumes, resends what was not acknowledged, and in the end the survivors
//! and PostgreSQL hold exactly the last answer each attendee sent, once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Cluster, commands};
use crate::helpers::{Created, WAIT, fixture_2026};
use crate::host::HostWatch;
use crate::phone::Phone;
use crate::truth::{Attendance, Person, Rng, fixture_profile, random_value, tallies};

const PHONES: usize = 45;
const KEYS: &[&str] = &["role", "pre-prescribing", "barrier-word"];

/// Which node dies.
#[derive(Debug, Clone, Copy)]
enum Victim {
    /// The node that owns the event (by its `/metrics`; if that cannot be told, node 0,
    /// which had the first host and served the first attendee).
    Owner,
    /// A node that only relays attendees to the owner.
    NotOwner,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_burst_loses_nothing_acknowledged() {
    burst_and_kill(Victim::Owner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_owner_node_killed_mid_burst_loses_nothing_acknowledged() {
    burst_and_kill(Victim::NotOwner).await;
}

async fn burst_and_kill(victim: Victim) {
    let mut cluster = Cluster::start(3).await;
    let spec = fixture_2026();
    let created = cluster.create_event(0, &spec).await;
    let code = created.code.clone();
    let (mut host, _) = cluster.host(0, &created).await;
    let opens: Vec<Value> = KEYS
        .iter()
        .map(|key| json!({"type": "open", "activity": key}))
        .collect();
    commands(&mut host, 0, &opens).await;
    host.close().await;

    // The first attendee joins on node 0 before anyone else; then all answer in a burst,
    // each with up to one answer per activity in flight, until told to stop.
    let urls = cluster.attendee_urls(&code);
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..PHONES {
        let (hello, organisation, sector) = fixture_profile(&spec, i);
        let mut phone = Phone::new(
            format!("p{i}"),
            urls.clone(),
            i % 3,
            hello,
            Some(&organisation),
            Some(&sector),
        );
        if i == 0 {
            phone.join().await;
        }
        let spec = spec.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            if phone.token.is_none() {
                phone.join().await;
            }
            let mut rng = Rng::seeded(1000 + i as u64);
            let mut n = 0;
            while n < 2 * KEYS.len() || !stop.load(Ordering::Relaxed) {
                let key = KEYS[n % KEYS.len()];
                phone.answer(key, random_value(&spec, key, &mut rng)).await;
                n += 1;
                // About 15 answers a second: a burst, within the documented rate limit.
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
            phone.settle().await;
            phone
        }));
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let owner = cluster.owner().await;
    println!("the event's owner, by /metrics: {owner:?}");
    let owner = owner.unwrap_or(0);
    let victim = match victim {
        Victim::Owner => owner,
        Victim::NotOwner => (owner + 2) % 3,
    };
    cluster.nodes[victim].kill_9().await;
    // The burst goes on through the failover (3 s to declare the node gone) and after.
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, Ordering::Relaxed);
    let mut phones = Vec::new();
    for task in tasks {
        phones.push(task.await.expect("attendee task"));
    }
    let survivors: Vec<usize> = (0..3).filter(|&n| n != victim).collect();
    report_moves(&phones, victim);
    stale_resends(&mut phones, &spec).await;
    check_truth(&cluster, &created, &spec, &phones, &survivors, victim).await;
}

fn report_moves(phones: &[Phone], victim: usize) {
    let moved = phones.iter().filter(|p| p.moves() > 0).count();
    println!(
        "node {victim} killed: {moved} of {} phones changed node",
        phones.len()
    );
    for phone in phones.iter().filter(|p| p.moves() > 0) {
        println!("  {}: {:?}", phone.label, phone.history);
    }
    assert!(
        moved > 0,
        "nobody noticed node {victim} die: the kill was not mid-burst"
    );
    for phone in phones {
        assert!(
            phone.refused.is_empty(),
            "{}: answers refused: {:?}",
            phone.label,
            phone.refused
        );
        assert_ne!(
            phone.node, victim,
            "{} ended on the killed node",
            phone.label
        );
        assert_eq!(
            phone.answers.len(),
            KEYS.len(),
            "{}: answered {:?}",
            phone.label,
            phone.answers.keys()
        );
    }
}

/// Every phone sends its first acknowledged id again, with another value, on the node it
/// ended on: acknowledged again, and (as the checks that follow show) without effect.
pub async fn stale_resends(phones: &mut [Phone], spec: &Value) {
    for phone in phones {
        let (_, activity) = phone.acked[0].clone();
        let stale = random_value(spec, &activity, &mut Rng::seeded(99));
        let reply = phone.resend_first_answer(stale).await;
        assert_eq!(
            reply["type"], "ack",
            "{} on node {}: a resent, already acknowledged id: {reply}",
            phone.label, phone.node
        );
    }
}

async fn check_truth(
    cluster: &Cluster,
    created: &Created,
    spec: &Value,
    phones: &[Phone],
    survivors: &[usize],
    victim: usize,
) {
    let people: Vec<Person> = phones.iter().map(Phone::person).collect();
    let everyone: Vec<&Person> = people.iter().collect();
    let expected = tallies(spec, KEYS, &[], &everyone);

    // A fresh snapshot on every surviving node equals the truth.
    for &node in survivors {
        let (_host, snapshot) = cluster.host(node, created).await;
        let mut wrong = Vec::new();
        for row in snapshot["activities"].as_array().expect("rows") {
            let key = row["key"].as_str().expect("key");
            if let Some(tally) = expected.get(key)
                && &row["tally"] != tally
            {
                wrong.push(format!(
                    "\n  {key}: snapshot {}\n  {key}: truth    {tally}",
                    row["tally"]
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "after node {victim} died, a fresh host snapshot on node {node} differs from the truth:{}",
            wrong.concat()
        );
    }

    // Attendance forgets the dead node's connections and counts each attendee once.
    let attendance = Attendance::all_present(&everyone);
    let urls: Vec<(usize, String)> = survivors
        .iter()
        .map(|&n| (n, cluster.host_urls(&created.code)[n].clone()))
        .collect();
    let watch = HostWatch::start(urls, &created.host_token);
    if let Err(view) = watch
        .until(2 * WAIT, |v| {
            v.differences(&expected, false).is_empty() && v.attendance_is(&attendance)
        })
        .await
    {
        panic!(
            "after node {victim} died, the host on a survivor did not converge:{}",
            view.explain(&expected, false, Some(&attendance))
        );
    }

    // PostgreSQL: one attendee row per phone, one answer row per (attendee, activity),
    // holding the last value sent.
    let wrong = crate::stored::differences(&cluster.database, &created.code, spec, phones).await;
    assert!(
        wrong.is_empty(),
        "after node {victim} died, the database differs from what was sent:\n{}",
        wrong.join("\n")
    );
}
