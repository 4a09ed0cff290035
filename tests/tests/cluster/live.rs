//! A conference in miniature on three nodes: attendees spread over all of them, the host on
//! node 0 and the presenter on node 2 see one event. The host's live `tally` frames (not
//! just a fresh snapshot) must converge to the truth the test computes; reveals, questions,
//! moderation, the directory and closing reach attendees on every node.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Cluster, activity_commands, commands};
use crate::helpers::{Client, Rng, WAIT, fixture_2026};
use crate::host::HostWatch;
use crate::phone::{Crowd, Phone, assert_none_refused, fixture_phones, truth};
use crate::truth::{normalised_answers, random_value};

const ATTENDEES: usize = 60;

/// One of each kind: single and multiple choice, two scales, words, text, pledge.
const OPEN: &[&str] = &[
    "role",
    "barriers",
    "pre-prescribing",
    "usefulness",
    "barrier-word",
    "concern",
    "pledge",
];

/// Activities whose answers some attendees change.
const CHANGED: &[&str] = &["role", "barriers", "usefulness", "barrier-word"];

/// Indexes of the phones currently on `node`.
fn on_node(phones: &[Phone], node: usize) -> Vec<usize> {
    (0..phones.len())
        .filter(|&i| phones[i].node == node)
        .collect()
}

fn mentions(message: &Value, text: &str) -> bool {
    message.to_string().contains(text)
}

/// Sends `message` (an `ask` or a `card`) from a phone, which acknowledges it; the host
/// then gets the new `item` (`question`, `card`) that satisfies `predicate`, pending: the
/// host's message.
async fn submit(
    phone: &mut Phone,
    message: Value,
    host: &mut Client,
    item: &str,
    predicate: impl Fn(&Value) -> bool,
) -> Value {
    let reply = phone.request(message.clone()).await;
    assert_eq!(
        reply["type"], "ack",
        "{} on node {}: {message} got {reply}",
        phone.label, phone.node
    );
    let seen = host
        .recv_where(|m| m["type"] == item && predicate(&m[item]))
        .await;
    assert_eq!(seen[item]["state"], "pending", "{seen}");
    seen
}

/// The host command that approves a pending question or card.
fn approve(item: &str, target: &Value) -> Value {
    json!({"type": "moderate", "item": item, "target": target, "action": "approve"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attendees_on_three_nodes_host_on_one_sees_the_truth() {
    let cluster = Cluster::start(3).await;
    let spec = fixture_2026();
    // Created over HTTP on node 1; every node knows it at once.
    let created = cluster.create_event(1, &spec).await;
    let code = created.code.clone();
    for node in 0..3 {
        let (status, facts) = cluster.get_json(node, &format!("/api/events/{code}")).await;
        assert_eq!(
            (status, facts["code"].as_str(), facts["state"].as_str()),
            (200, Some(code.as_str()), Some("live")),
            "GET /api/events/{code} on node {node}: {facts}"
        );
    }
    let (mut host, _) = cluster.host(0, &created).await;
    // The dashboard, watched on node 0 and on node 2 (where it is relayed, if node 0 owns
    // the event, or local if not: either way one of them crosses nodes).
    let watches: Vec<(usize, HostWatch)> = [0, 2]
        .into_iter()
        .map(|node| {
            let url = cluster.host_urls(&code)[node].clone();
            (
                node,
                HostWatch::start(vec![(node, url)], &created.host_token),
            )
        })
        .collect();
    let (mut presenter, _) = cluster.presenter(2, &created).await;
    commands(&mut host, 0, &activity_commands("open", OPEN)).await;

    let phones = fixture_phones(&spec, ATTENDEES, &cluster.attendee_urls(&code));
    let crowd = Crowd::spawn(phones.into_iter().map(Phone::patient), |i, mut phone| {
        let spec = spec.clone();
        async move {
            let mut rng = Rng::seeded(i as u64);
            phone.join().await;
            let open: BTreeSet<&str> = phone.welcome["open"]
                .as_array()
                .expect("open")
                .iter()
                .filter_map(|a| a["key"].as_str())
                .collect();
            assert_eq!(
                open,
                OPEN.iter().copied().collect::<BTreeSet<_>>(),
                "{}: the welcome on node {} lists these open activities",
                phone.label,
                phone.node
            );
            for key in OPEN {
                phone.answer(key, random_value(&spec, key, &mut rng)).await;
            }
            for key in CHANGED {
                if rng.below(2) == 0 {
                    phone.answer(key, random_value(&spec, key, &mut rng)).await;
                }
            }
            phone.settle().await;
            // Every fifth moves to the next node, finds its answers there, changes one.
            if i % 5 == 0 {
                let next = (phone.node + 1) % 3;
                phone.leave(next).await;
                phone.join().await;
                assert_eq!(
                    phone.welcome["answers"],
                    normalised_answers(&spec, &phone.person()),
                    "{}: its answers in the welcome on node {}",
                    phone.label,
                    phone.node
                );
                let value = random_value(&spec, "usefulness", &mut rng);
                phone.answer("usefulness", value).await;
                phone.settle().await;
            }
            phone
        }
    });
    let mut phones = crowd.finish().await;
    assert_none_refused(&phones);
    let moved: Vec<(&str, &Vec<String>)> = phones
        .iter()
        .filter(|p| p.moves() > 0)
        .map(|p| (p.label.as_str(), &p.history))
        .collect();
    if !moved.is_empty() {
        println!("note: phones that had to change node on a healthy cluster: {moved:?}");
    }

    // The host's live frames converge to the truth; attendance too.
    let (expected, attendance) = truth(&spec, &phones, OPEN, &[]);
    for (node, watch) in &watches {
        let wait = Duration::from_secs(20);
        if let Err(why) = watch
            .converge(wait, &expected, true, Some(&attendance))
            .await
        {
            panic!("the host on node {node} did not converge to the truth from live frames:{why}");
        }
    }
    // And a host that connects now, on each node, sees the same in its snapshot.
    for node in 0..3 {
        let view = cluster.host_view(node, &created).await;
        assert!(
            view.differences(&expected, false).is_empty() && view.attendance_is(&attendance),
            "snapshot on node {node}:{}",
            view.explain(&expected, false, Some(&attendance))
        );
    }

    // A reveal on node 0 reaches every attendee on every node, and the presenter on node 2.
    commands(
        &mut host,
        0,
        &[
            json!({"type": "focus", "activity": "role"}),
            json!({"type": "reveal", "activity": "role", "show": true}),
        ],
    )
    .await;
    let role = expected["role"].clone();
    let mut missing = Vec::new();
    for phone in &mut phones {
        let seen = phone
            .wait_for(WAIT, |m| {
                m["type"] == "results" && m["activity"] == "role" && m["tally"] == role
            })
            .await;
        if seen.is_none() {
            let results: Vec<&Value> = phone
                .inbox
                .iter()
                .filter(|m| m["type"] == "results")
                .collect();
            missing.push(format!(
                "{} on node {}: results received {results:?}",
                phone.label, phone.node
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "the revealed role tally {role} did not reach:\n{}",
        missing.join("\n")
    );
    presenter
        .recv_where(|m| {
            (m["type"] == "results" && m["activity"] == "role" && m["tally"] == role)
                || (m["type"] == "focus"
                    && m["activity"]["key"] == "role"
                    && m["activity"]["tally"] == role)
        })
        .await;

    // A question asked on node 1 reaches the host on node 0 as pending; attendees on
    // node 2 see it only once the host approves it; an upvote from node 2 counts.
    let text = "How do we share care plans across services?";
    let asker = on_node(&phones, 1)[0];
    let ask = json!({"type": "ask", "text": text});
    let question = submit(&mut phones[asker], ask, &mut host, "question", |q| {
        q["text"] == text
    })
    .await;
    let question_id = question["question"]["id"].clone();
    let node_2 = on_node(&phones, 2);
    let early = phones[node_2[0]]
        .wait_for(Duration::from_millis(1500), |m| mentions(m, text))
        .await;
    assert!(
        early.is_none(),
        "a pending question reached an attendee on node 2: {early:?}"
    );
    commands(&mut host, 0, &[approve("question", &question_id)]).await;
    for &i in &node_2 {
        let seen = phones[i]
            .wait_for(WAIT, |m| m["type"] == "questions" && mentions(m, text))
            .await;
        assert!(
            seen.is_some(),
            "{} on node 2 never saw the approved question",
            phones[i].label
        );
    }
    let vote = phones[node_2[0]]
        .request(json!({"type": "upvote", "question": question_id}))
        .await;
    assert_eq!(vote["type"], "ack", "upvote on node 2: {vote}");
    host.recv_where(|m| {
        m["type"] == "question" && m["question"]["id"] == question_id && m["question"]["votes"] == 1
    })
    .await;

    // A service card from node 0, approved on node 0, reaches the directory on node 1.
    let card = json!({"name": "Sam", "organisation": "York Mind", "service": "Crisis café",
        "offer": "Evening drop-in", "referral": "Self-referral", "contact": "01904 000000"});
    let sharer = on_node(&phones, 0)[0];
    let share = json!({"type": "card", "card": card});
    let card = submit(&mut phones[sharer], share, &mut host, "card", |c| {
        c["service"] == "Crisis café"
    })
    .await;
    commands(&mut host, 0, &[approve("card", &card["card"]["id"])]).await;
    let reader = on_node(&phones, 1)[0];
    let directory = phones[reader]
        .wait_for(WAIT, |m| {
            m["type"] == "directory" && mentions(m, "Crisis café")
        })
        .await;
    assert!(
        directory.is_some(),
        "{} on node 1 never saw the approved card",
        phones[reader].label
    );

    // Closing on node 0 closes it everywhere; the final tally carries the breakdown.
    commands(
        &mut host,
        0,
        &[json!({"type": "close", "activity": "usefulness"})],
    )
    .await;
    let (closed, _) = truth(&spec, &phones, &["usefulness"], &["usefulness"]);
    for (node, watch) in &watches {
        if let Err(why) = watch.converge(WAIT, &closed, true, None).await {
            panic!("the closed usefulness tally on node {node}:{why}");
        }
    }
    let mut not_closed = Vec::new();
    for phone in &mut phones {
        let seen = phone
            .wait_for(WAIT, |m| {
                m["type"] == "closed" && m["activity"] == "usefulness"
            })
            .await;
        if seen.is_none() {
            not_closed.push(format!("{} on node {}", phone.label, phone.node));
        }
    }
    assert!(
        not_closed.is_empty(),
        "no `closed` for usefulness reached: {not_closed:?}"
    );
    let late = on_node(&phones, 1)[1];
    let refused = phones[late]
        .request(json!({"type": "answer", "activity": "usefulness", "value": 3}))
        .await;
    assert_eq!(refused["code"], "activity_closed", "on node 1: {refused}");
}
