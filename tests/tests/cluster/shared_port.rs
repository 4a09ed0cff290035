//! Three nodes on one address (SO_REUSEPORT): the kernel spreads connections over them, and
//! attendees who know nothing of the cluster are all welcomed, acknowledged and counted.

use serde_json::json;

use crate::harness::{Cluster, commands, free_port};
use crate::helpers::{WAIT, fixture_2026};
use crate::host::HostWatch;
use crate::phone::Phone;
use crate::truth::{Attendance, Person, Rng, fixture_profile, random_value, tallies};

const ATTENDEES: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_one_port() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut cluster = Cluster::start_on(&vec![addr.clone(); 3]).await;
    for node in &mut cluster.nodes {
        assert_eq!(
            node.addr.port(),
            port,
            "node {} listens on {}",
            node.index,
            node.addr
        );
        assert!(node.running(), "node {} is up", node.index);
    }
    let spec = fixture_2026();
    let created = cluster.create_event(0, &spec).await;
    let code = created.code.clone();
    let (mut host, _) = cluster.host(0, &created).await;
    commands(
        &mut host,
        0,
        &[json!({"type": "open", "activity": "usefulness"})],
    )
    .await;
    let url = format!("ws://{addr}/ws/e/{code}");
    let watch = HostWatch::start(
        vec![(0, format!("ws://{addr}/ws/host/{code}"))],
        &created.host_token,
    );

    let mut tasks = Vec::new();
    for i in 0..ATTENDEES {
        let (hello, organisation, sector) = fixture_profile(&spec, i);
        let mut phone = Phone::new(
            format!("p{i}"),
            vec![url.clone()],
            0,
            hello,
            Some(&organisation),
            Some(&sector),
        )
        .patient();
        let spec = spec.clone();
        tasks.push(tokio::spawn(async move {
            phone.join().await;
            let mut rng = Rng::seeded(4000 + i as u64);
            phone
                .answer("usefulness", random_value(&spec, "usefulness", &mut rng))
                .await;
            phone.settle().await;
            phone
        }));
    }
    let mut phones = Vec::new();
    for task in tasks {
        phones.push(task.await.expect("attendee task"));
    }
    for phone in &phones {
        assert!(
            phone.refused.is_empty(),
            "{}: {:?}",
            phone.label,
            phone.refused
        );
        assert!(
            !phone.history.iter().any(|h| h.contains("closed")),
            "{}: a node closed its socket on a healthy cluster: {:?}",
            phone.label,
            phone.history
        );
    }
    let people: Vec<Person> = phones.iter().map(Phone::person).collect();
    let everyone: Vec<&Person> = people.iter().collect();
    let expected = tallies(&spec, &["usefulness"], &[], &everyone);
    let attendance = Attendance::all_present(&everyone);
    if let Err(view) = watch
        .until(2 * WAIT, |v| {
            v.differences(&expected, false).is_empty() && v.attendance_is(&attendance)
        })
        .await
    {
        panic!(
            "a host on the shared port did not see all {ATTENDEES}:{}",
            view.explain(&expected, false, Some(&attendance))
        );
    }
    for node in &mut cluster.nodes {
        assert!(node.running(), "node {} is still up", node.index);
    }
}
