//! A host dashboard kept open in the background on one node (or a list of nodes to fall back
//! on): it tracks the newest tally of each activity and the newest attendance, and when its
//! socket is closed (1012 when the node relaying it lost the event's owner) it reconnects
//! and starts again from a fresh snapshot, as the real dashboard does.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::helpers::Attendance;
use crate::socket::{Recv, Socket};

/// What the host has seen so far.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The newest tally per activity: from the latest snapshot, then `tally` frames.
    pub tallies: BTreeMap<String, Value>,
    /// The newest tally per activity from live `tally` frames only (never a snapshot).
    pub live: BTreeMap<String, Value>,
    /// The newest attendance: from the latest snapshot, then `attendance` frames.
    pub attendance: Value,
    pub snapshots: usize,
    /// Connections lost and made, with the node.
    pub history: Vec<String>,
}

impl View {
    /// What a host sees in one snapshot (the host socket's first message).
    pub fn of_snapshot(snapshot: &Value) -> View {
        View {
            tallies: snapshot["activities"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|row| {
                    (
                        row["key"].as_str().unwrap_or_default().to_owned(),
                        row["tally"].clone(),
                    )
                })
                .collect(),
            attendance: snapshot["attendance"].clone(),
            snapshots: 1,
            ..View::default()
        }
    }

    /// Activities whose tally here differs from `expected`: (key, seen, expected).
    pub fn differences(
        &self,
        expected: &BTreeMap<String, Value>,
        live_only: bool,
    ) -> Vec<(String, Value, Value)> {
        let seen = if live_only { &self.live } else { &self.tallies };
        expected
            .iter()
            .filter(|(key, tally)| seen.get(*key) != Some(*tally))
            .map(|(key, tally)| {
                (
                    key.clone(),
                    seen.get(key).cloned().unwrap_or(Value::Null),
                    tally.clone(),
                )
            })
            .collect()
    }

    pub fn attendance_is(&self, expected: &Attendance) -> bool {
        expected.matches(&self.attendance)
    }

    /// A failure report: each tally that differs, the attendance, and the connection history.
    pub fn explain(
        &self,
        expected: &BTreeMap<String, Value>,
        live_only: bool,
        attendance: Option<&Attendance>,
    ) -> String {
        let mut out = String::new();
        for (key, seen, want) in self.differences(expected, live_only) {
            out.push_str(&format!(
                "\n  {key}: host saw {seen}\n  {key}: truth is {want}"
            ));
        }
        if let Some(attendance) = attendance
            && !self.attendance_is(attendance)
        {
            out.push_str(&format!(
                "\n  attendance: host saw {}\n  attendance: truth is {attendance:?}",
                self.attendance
            ));
        }
        out.push_str(&format!(
            "\n  ({} snapshots; connections: {:?})",
            self.snapshots, self.history
        ));
        out
    }
}

pub struct HostWatch {
    rx: watch::Receiver<View>,
    task: tokio::task::JoinHandle<()>,
}

impl HostWatch {
    /// Watches as host, connecting to `urls` in turn (node index, URL) until one gives a
    /// snapshot; after a close it tries the same list again from the start.
    pub fn start(urls: Vec<(usize, String)>, token: &str) -> HostWatch {
        let (tx, rx) = watch::channel(View::default());
        let token = token.to_owned();
        let task = tokio::spawn(async move {
            loop {
                for (node, url) in &urls {
                    watch_once(*node, url, &token, &tx).await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
        });
        HostWatch { rx, task }
    }

    pub fn view(&self) -> View {
        self.rx.borrow().clone()
    }

    /// Waits until the view shows the `expected` tallies (from live frames only, if
    /// `live_only`) and, if given, the `attendance`: `Ok` with the view, or `Err` with what
    /// still differs after `wait` ([`View::explain`]).
    pub async fn converge(
        &self,
        wait: Duration,
        expected: &BTreeMap<String, Value>,
        live_only: bool,
        attendance: Option<&Attendance>,
    ) -> Result<View, String> {
        self.until(wait, |v| {
            v.differences(expected, live_only).is_empty()
                && attendance.is_none_or(|a| v.attendance_is(a))
        })
        .await
        .map_err(|view| view.explain(expected, live_only, attendance))
    }

    /// Waits until the view satisfies `predicate`: `Ok` with it, or `Err` with the last
    /// view after `wait`.
    pub async fn until(
        &self,
        wait: Duration,
        predicate: impl Fn(&View) -> bool,
    ) -> Result<View, View> {
        let mut rx = self.rx.clone();
        let deadline = Instant::now() + wait;
        loop {
            {
                let view = rx.borrow_and_update();
                if predicate(&view) {
                    return Ok(view.clone());
                }
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return Err(self.view());
            }
        }
    }
}

impl Drop for HostWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One host connection, from auth until it ends.
async fn watch_once(node: usize, url: &str, token: &str, tx: &watch::Sender<View>) {
    let note = |what: String| tx.send_modify(|v| v.history.push(format!("node {node}: {what}")));
    let mut socket = match Socket::connect(url).await {
        Ok(socket) => socket,
        Err(e) => return note(e),
    };
    if !socket.send(&json!({"type": "auth", "token": token})).await {
        return note("could not send auth".into());
    }
    let snapshot = match socket
        .recv_where(Duration::from_secs(5), |m| m["type"] == "snapshot", |_| {})
        .await
    {
        Ok(snapshot) => snapshot,
        Err(why) => return note(format!("no snapshot: {why:?}")),
    };
    let fresh = View::of_snapshot(&snapshot);
    tx.send_modify(|view| {
        view.snapshots += 1;
        view.history.push(format!("node {node}: snapshot"));
        view.tallies = fresh.tallies;
        view.attendance = fresh.attendance;
    });
    loop {
        match socket.recv(Duration::from_secs(60)).await {
            Recv::Message(m) => tx.send_modify(|view| match m["type"].as_str() {
                Some("tally") => {
                    let key = m["activity"].as_str().unwrap_or_default().to_owned();
                    view.tallies.insert(key.clone(), m["tally"].clone());
                    view.live.insert(key, m["tally"].clone());
                }
                Some("attendance") => view.attendance = m.clone(),
                Some("snapshot") => {
                    view.snapshots += 1;
                    view.history.push(format!("node {node}: another snapshot"));
                    for row in m["activities"].as_array().into_iter().flatten() {
                        let key = row["key"].as_str().unwrap_or_default().to_owned();
                        view.tallies.insert(key, row["tally"].clone());
                    }
                    view.attendance = m["attendance"].clone();
                }
                _ => {}
            }),
            Recv::Closed(code) => return note(format!("closed with {code:?}")),
            Recv::Silent => {}
        }
    }
}
