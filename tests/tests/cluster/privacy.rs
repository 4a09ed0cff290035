//! An attendee's state follows its token from node to node; and the small-group rule holds
//! for answers that came in over different nodes (each counted in the sector it was given in,
//! whatever sector its attendee moves to on another node); attendees get no breakdown.

use serde_json::json;

use crate::harness::{Cluster, activity_commands, commands};
use crate::helpers::{Rng, WAIT};
use crate::host::HostWatch;
use crate::phone::{Phone, truth};
use crate::truth::{OTHER_GROUP, random_value};

const KEYS: &[&str] = &["role", "usefulness", "pre-prescribing", "barrier-word"];

/// Who takes part, by registered organisation and sector (`None`: "Not given"), and how
/// many of each: with k = 5, Police, Commissioning, Education and "Not given" are small.
const GROUPS: &[(&str, Option<&str>, usize)] = &[
    ("York Mind", Some("Mental health"), 5),
    ("Humankind", Some("Drug and alcohol"), 5),
    ("North Yorkshire Police", Some("Police"), 2),
    (
        "NHS Humber and North Yorkshire Integrated Care Board",
        Some("Commissioning"),
        2,
    ),
    ("University of York", Some("Education"), 1),
    ("Selby Recovery Café", None, 1),
];

/// Puts the phone away and brings it back on `node`, which must welcome it.
async fn resume_on(phone: &mut Phone, node: usize) {
    phone.leave(node).await;
    phone.join().await;
    assert_eq!(
        phone.node, node,
        "{} could not resume on node {node}: {:?}",
        phone.label, phone.history
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_group_rule_and_resume_across_nodes() {
    let cluster = Cluster::start(3).await;
    let (spec, created, mut host) = cluster.open_event(KEYS).await;
    let k = spec["min_group_size"].as_u64().expect("k");
    let code = created.code.clone();
    let watch = HostWatch::start(
        vec![(1, cluster.host_urls(&code)[1].clone())],
        &created.host_token,
    );
    let urls = cluster.attendee_urls(&code);

    // Ann answers on node 0, puts her phone away, and comes back on node 2, then node 1.
    let mut ann = Phone::new(
        "ann",
        urls.clone(),
        0,
        json!({"organisation": "york mind"}),
        Some("York Mind"),
        Some("Mental health"),
    )
    .patient();
    ann.join().await;
    ann.answer("role", json!([2])).await;
    ann.answer("usefulness", json!(4)).await;
    ann.answer("pre-prescribing", json!(2)).await;
    ann.answer("barrier-word", json!(["Waiting  Lists", " trust"]))
        .await;
    ann.settle().await;
    let token = ann.token.clone();
    resume_on(&mut ann, 2).await;
    assert_eq!(ann.token, token, "the same attendee on node 2");
    assert_eq!(
        ann.welcome["answers"],
        json!({"role": [2], "usefulness": 4, "pre-prescribing": 2, "barrier-word": ["waiting lists", "trust"]}),
        "ann's answers in her welcome on node 2"
    );
    assert_eq!(ann.welcome["profile"]["organisation"], "York Mind");
    ann.answer("role", json!([1])).await;
    ann.settle().await;
    resume_on(&mut ann, 1).await;
    assert_eq!(
        ann.welcome["answers"]["role"],
        json!([1]),
        "the answer changed on node 2, in the welcome on node 1"
    );

    // The others, round-robin over the nodes.
    let mut phones = vec![ann];
    let mut j = 0;
    for &(organisation, sector, count) in GROUPS {
        for _ in 0..count {
            let mut hello = json!({"organisation": organisation});
            if let Some(sector) = sector {
                hello["sector"] = json!(sector);
            }
            let mut phone = Phone::new(
                format!("g{j}"),
                urls.clone(),
                j % 3,
                hello,
                Some(organisation),
                sector,
            )
            .patient();
            phone.join().await;
            let mut rng = Rng::seeded(3000 + j as u64);
            for key in ["role", "usefulness", "barrier-word"] {
                phone.answer(key, random_value(&spec, key, &mut rng)).await;
            }
            // Only Mental health and Commissioning answer this one: Commissioning is
            // too small on its own, and merged there is one group: no breakdown at all.
            if matches!(sector, Some("Mental health" | "Commissioning")) {
                phone
                    .answer(
                        "pre-prescribing",
                        random_value(&spec, "pre-prescribing", &mut rng),
                    )
                    .await;
            }
            phone.settle().await;
            phones.push(phone);
            j += 1;
        }
    }
    // One police officer moves to another node and changes organisation and sector there:
    // the answers already given still count where they were given (Police), on every node.
    let mover = phones
        .iter()
        .position(|p| p.sector.as_deref() == Some("Police"))
        .expect("police");
    let next = (phones[mover].node + 1) % 3;
    phones[mover].leave(next).await;
    phones[mover].join().await;
    let changed = phones[mover]
        .request(json!({"type": "profile", "organisation": "Changing Lives", "sector": "Drug and alcohol"}))
        .await;
    assert_eq!(changed["type"], "ack", "profile on node {next}: {changed}");
    phones[mover].organisation = Some("Changing Lives".into());

    commands(&mut host, 0, &activity_commands("close", KEYS)).await;

    let (expected, _) = truth(&spec, &phones, KEYS, KEYS);
    // The truth itself exercises the rule: small groups merged, and one breakdown withheld.
    assert!(expected["role"]["by_sector"].get(OTHER_GROUP).is_some());
    assert_eq!(expected["pre-prescribing"]["by_sector"], json!({}));
    assert!(expected["barrier-word"].get("by_sector").is_none());

    let view = watch
        .converge(2 * WAIT, &expected, true, None)
        .await
        .unwrap_or_else(|why| {
            panic!("the final tallies a host on node 1 saw after closing on node 0:{why}")
        });
    // Whatever the arithmetic, no group shown is smaller than k, and they add up.
    for key in ["role", "usefulness"] {
        let tally = &view.live[key];
        let groups = tally["by_sector"].as_object().expect("by_sector");
        let total: u64 = groups
            .values()
            .map(|g| g["total"].as_u64().expect("total"))
            .sum();
        assert_eq!(
            total,
            tally["total"].as_u64().expect("total"),
            "{key}: {tally}"
        );
        for (name, group) in groups {
            assert!(
                group["total"].as_u64().expect("total") >= k,
                "{key}: {name} is below k: {tally}"
            );
        }
    }

    // Revealed after closing, an attendee on node 2 gets the same tally, without the
    // breakdown: only hosts get one.
    commands(
        &mut host,
        0,
        &[json!({"type": "reveal", "activity": "role", "show": true})],
    )
    .await;
    let on_2 = phones
        .iter()
        .position(|p| p.node == 2)
        .expect("a phone on node 2");
    let mut role = expected["role"].clone();
    if let Some(tally) = role.as_object_mut() {
        tally.remove("by_sector");
    }
    let seen = phones[on_2]
        .wait_for(WAIT, |m| m["type"] == "results" && m["activity"] == "role")
        .await
        .unwrap_or_else(|| panic!("{} on node 2 got no results for role", phones[on_2].label));
    assert_eq!(seen["tally"], role, "revealed closed role on node 2");
}
