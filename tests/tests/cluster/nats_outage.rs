//! NATS dies mid-event and comes back on the same port. Attendees whose answers go
//! unacknowledged time out, move to another node and resend; after NATS returns, a host on
//! every node converges to the truth, every answer is acknowledged, and PostgreSQL holds
//! exactly the last answer each attendee sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Cluster, commands};
use crate::helpers::fixture_2026;
use crate::host::HostWatch;
use crate::phone::Phone;
use crate::truth::{Attendance, Person, Rng, fixture_profile, random_value, tallies};

const PHONES: usize = 30;
const KEYS: &[&str] = &["role", "usefulness", "barrier-word"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_restarted_mid_event_the_cluster_converges() {
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
    // A host dashboard on each node, kept open throughout, reconnecting to its own node.
    let watches: Vec<HostWatch> = cluster
        .host_urls(&code)
        .into_iter()
        .enumerate()
        .map(|(node, url)| HostWatch::start(vec![(node, url)], &created.host_token))
        .collect();

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
        let spec = spec.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            phone.join().await;
            let mut rng = Rng::seeded(2000 + i as u64);
            for key in KEYS {
                phone.answer(key, random_value(&spec, key, &mut rng)).await;
            }
            phone.settle().await;
            // Keep changing answers, a few a second, through the outage and after.
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = KEYS[n % KEYS.len()];
                phone.answer(key, random_value(&spec, key, &mut rng)).await;
                n += 1;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            phone.settle().await;
            phone
        }));
    }

    tokio::time::sleep(Duration::from_millis(2000)).await;
    cluster.nats.kill().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.nats.restart().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut phones = Vec::new();
    for task in tasks {
        phones.push(task.await.expect("attendee task"));
    }
    let moved = phones.iter().filter(|p| p.moves() > 0).count();
    println!("NATS outage: {moved} of {PHONES} phones changed node");
    for phone in &phones {
        assert!(
            phone.refused.is_empty(),
            "{}: answers refused: {:?}",
            phone.label,
            phone.refused
        );
        assert!(phone.unacknowledged().is_empty());
    }

    crate::node_loss::stale_resends(&mut phones, &spec).await;

    let people: Vec<Person> = phones.iter().map(Phone::person).collect();
    let everyone: Vec<&Person> = people.iter().collect();
    let expected = tallies(&spec, KEYS, &[], &everyone);
    let attendance = Attendance::all_present(&everyone);
    let mut failures = Vec::new();
    for (node, watch) in watches.iter().enumerate() {
        if let Err(view) = watch
            .until(Duration::from_secs(20), |v| {
                v.differences(&expected, false).is_empty() && v.attendance_is(&attendance)
            })
            .await
        {
            failures.push(format!(
                "host on node {node}:{}",
                view.explain(&expected, false, Some(&attendance))
            ));
        }
    }
    for (node, watch) in watches.iter().enumerate() {
        let view = watch.view();
        println!(
            "host on node {node}: {} snapshots; {:?}",
            view.snapshots, view.history
        );
    }
    assert!(
        failures.is_empty(),
        "20 s after NATS came back, not every host shows the truth:\n{}",
        failures.join("\n")
    );
    for node in 0..3 {
        let (_host, snapshot) = cluster.host(node, &created).await;
        for row in snapshot["activities"].as_array().expect("rows") {
            let key = row["key"].as_str().expect("key");
            if let Some(tally) = expected.get(key) {
                assert_eq!(&row["tally"], tally, "fresh snapshot on node {node}: {key}");
            }
        }
    }
    let wrong = crate::stored::differences(&cluster.database, &code, &spec, &phones).await;
    assert!(
        wrong.is_empty(),
        "after the NATS outage, the database differs from what was sent:\n{}",
        wrong.join("\n")
    );
}
