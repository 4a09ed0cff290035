//! Three nodes on one address (SO_REUSEPORT): the kernel spreads connections over them, and
//! attendees who know nothing of the cluster are all welcomed, acknowledged and counted.

use crate::harness::{Cluster, free_port};
use crate::helpers::{Rng, WAIT};
use crate::host::HostWatch;
use crate::phone::{Crowd, Phone, assert_none_refused, fixture_phones, truth};
use crate::truth::random_value;

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
    let (spec, created, _host) = cluster.open_event(&["usefulness"]).await;
    let code = created.code.clone();
    let url = format!("ws://{addr}/ws/e/{code}");
    let watch = HostWatch::start(
        vec![(0, format!("ws://{addr}/ws/host/{code}"))],
        &created.host_token,
    );

    // One address for all: every phone is "on node 0".
    let phones = fixture_phones(&spec, ATTENDEES, &[url]);
    let crowd = Crowd::spawn(phones.into_iter().map(Phone::patient), |i, mut phone| {
        let spec = spec.clone();
        async move {
            phone.join().await;
            let mut rng = Rng::seeded(4000 + i as u64);
            phone
                .answer("usefulness", random_value(&spec, "usefulness", &mut rng))
                .await;
            phone.settle().await;
            phone
        }
    });
    let phones = crowd.finish().await;
    assert_none_refused(&phones);
    for phone in &phones {
        assert!(
            !phone.history.iter().any(|h| h.contains("closed")),
            "{}: a node closed its socket on a healthy cluster: {:?}",
            phone.label,
            phone.history
        );
    }
    let (expected, attendance) = truth(&spec, &phones, &["usefulness"], &[]);
    if let Err(why) = watch
        .converge(2 * WAIT, &expected, false, Some(&attendance))
        .await
    {
        panic!("a host on the shared port did not see all {ATTENDEES}:{why}");
    }
    for node in &mut cluster.nodes {
        assert!(node.running(), "node {} is still up", node.index);
    }
}
