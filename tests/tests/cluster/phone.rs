//! A resilient attendee, as a well-behaved phone app is: it keeps its token and the answers
//! not yet acknowledged; when its node closes the socket (1012), breaks, or leaves an answer
//! unacknowledged for [`ACK_WAIT`], it moves to the next node, resumes with `hello` and its
//! token, and sends the unacknowledged answers again with the same message ids.
//!
//! At most one answer per activity is in flight: a new answer to an activity waits for the
//! previous one's ack. So "the last value sent" is well defined, and it is what the phone
//! holds in [`Phone::answers`] once everything is acknowledged: the ground truth.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::helpers::{Attendance, Person, Rng, WAIT};
use crate::socket::{Recv, Socket};
use crate::truth::{fixture_profile, random_value, tallies};

/// How long a phone waits for an ack (or for a welcome when resuming) before it tries
/// another node.
pub const ACK_WAIT: Duration = Duration::from_secs(3);

/// How long a phone keeps trying before the test fails.
pub const RECOVER: Duration = Duration::from_secs(90);

#[derive(Debug, Clone)]
struct Pending {
    id: String,
    activity: String,
    value: Value,
}

impl Pending {
    fn frame(&self) -> Value {
        json!({"type": "answer", "id": self.id, "activity": self.activity, "value": self.value})
    }
}

pub struct Phone {
    /// `p7`: names the phone in failures and prefixes its message ids.
    pub label: String,
    /// The event's attendee URL on each node.
    urls: Vec<String>,
    /// The node in use (or to try next).
    pub node: usize,
    /// The profile fields of the first `hello`.
    hello: Value,
    /// The organisation and sector the server should hold (registered names).
    pub organisation: Option<String>,
    pub sector: Option<String>,
    pub token: Option<String>,
    /// The last `welcome`.
    pub welcome: Value,
    socket: Option<Socket>,
    pending: Vec<Pending>,
    /// When the oldest unacknowledged answer last saw progress (a send or an ack).
    waiting_since: Instant,
    /// How long to wait for an ack, or for the welcome when resuming, before moving on.
    ack_wait: Duration,
    /// Acknowledged answers, the newest per activity.
    pub answers: BTreeMap<String, Value>,
    /// The ids of acknowledged answers, oldest first, with their activity.
    pub acked: Vec<(String, String)>,
    /// Every other message received, in order, for later checks.
    pub inbox: Vec<Value>,
    /// Answers refused with an error other than `unavailable` or `rate_limited`.
    pub refused: Vec<Value>,
    /// What happened to the connection: every move to another node, and why.
    pub history: Vec<String>,
    /// How many times it moved to another node.
    moved: usize,
    next_id: u64,
}

impl Phone {
    /// A phone that will join on `node` with these `hello` profile fields; `organisation`
    /// and `sector` are what the server should make of them.
    pub fn new(
        label: impl Into<String>,
        urls: Vec<String>,
        node: usize,
        hello: Value,
        organisation: Option<&str>,
        sector: Option<&str>,
    ) -> Phone {
        Phone {
            label: label.into(),
            urls,
            node,
            hello,
            organisation: organisation.map(str::to_owned),
            sector: sector.map(str::to_owned),
            token: None,
            welcome: Value::Null,
            socket: None,
            pending: Vec::new(),
            waiting_since: Instant::now(),
            ack_wait: ACK_WAIT,
            answers: BTreeMap::new(),
            acked: Vec::new(),
            inbox: Vec::new(),
            refused: Vec::new(),
            history: Vec::new(),
            moved: 0,
            next_id: 0,
        }
    }

    /// Waits [`WAIT`] rather than [`ACK_WAIT`] before moving on: for a healthy cluster,
    /// where a slow ack on a busy machine is no reason to change node.
    pub fn patient(mut self) -> Phone {
        self.ack_wait = WAIT;
        self
    }

    /// What the ground truth needs of this attendee.
    pub fn person(&self) -> Person {
        Person {
            organisation: self.organisation.clone(),
            sector: self.sector.clone(),
            answers: self.answers.clone(),
        }
    }

    /// Answers `keys` in turn with random values, one every `pause`, until `stop` is set and
    /// at least `at_least` were sent; then waits until every answer is acknowledged.
    pub async fn answer_until(
        &mut self,
        spec: &Value,
        keys: &[&str],
        rng: &mut Rng,
        at_least: usize,
        pause: Duration,
        stop: &AtomicBool,
    ) {
        let mut n = 0;
        while n < at_least || !stop.load(Ordering::Relaxed) {
            let key = keys[n % keys.len()];
            self.answer(key, random_value(spec, key, rng)).await;
            n += 1;
            tokio::time::sleep(pause).await;
        }
        self.settle().await;
    }

    /// How many times this phone had to move to another node.
    pub fn moves(&self) -> usize {
        self.moved
    }

    fn note(&mut self, what: String) {
        self.history.push(what);
    }

    fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{}", self.label, self.next_id)
    }

    /// Joins (or resumes, once it has a token) on the current node, moving on to the next
    /// node until one welcomes it.
    pub async fn join(&mut self) {
        let deadline = Instant::now() + RECOVER;
        loop {
            let node = self.node;
            match self.try_join(node).await {
                Ok(()) => return,
                Err(why) => {
                    self.note(format!("join on node {node}: {why}"));
                    self.node = (self.node + 1) % self.urls.len();
                    self.moved += 1;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{}: no node welcomed it within {RECOVER:?}; history: {:#?}",
                self.label,
                self.history
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn try_join(&mut self, node: usize) -> Result<(), String> {
        let mut socket = Socket::connect(&self.urls[node]).await?;
        let mut hello = if self.token.is_none() {
            self.hello.clone()
        } else {
            json!({})
        };
        hello["type"] = json!("hello");
        hello["attendee"] = json!(self.token);
        if !socket.send(&hello).await {
            return Err("could not send hello".into());
        }
        // A first hello is never abandoned early: the server may be creating the attendee,
        // and a second hello elsewhere would make two.
        let wait = if self.token.is_none() {
            WAIT.max(self.ack_wait)
        } else {
            self.ack_wait
        };
        let mut before = Vec::new();
        let welcome = socket
            .recv_where(
                wait,
                |m| m["type"] == "welcome" || m["type"] == "error",
                |m| before.push(m),
            )
            .await
            .map_err(|r| format!("no welcome: {r:?}"))?;
        if welcome["type"] == "error" {
            assert_ne!(welcome["code"], "event_ended", "{}: {welcome}", self.label);
            return Err(format!("error instead of welcome: {welcome}"));
        }
        let token = welcome["attendee"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: welcome without a token: {welcome}", self.label))
            .to_owned();
        if let Some(known) = &self.token {
            assert_eq!(
                &token, known,
                "{}: resuming on node {node} with its token started a new attendee",
                self.label
            );
        }
        self.token = Some(token);
        self.inbox.extend(before);
        self.welcome = welcome;
        for pending in self.pending.clone() {
            if !socket.send(&pending.frame()).await {
                return Err(format!("could not resend {}", pending.id));
            }
        }
        self.waiting_since = Instant::now();
        self.socket = Some(socket);
        Ok(())
    }

    /// Closes the socket (as a phone put away) and sets the node the next [`join`] uses.
    ///
    /// [`join`]: Phone::join
    pub async fn leave(&mut self, next_node: usize) {
        if let Some(socket) = self.socket.take() {
            socket.close().await;
        }
        self.node = next_node;
    }

    /// Sends an answer without waiting for its ack (but after the previous answer to the
    /// same activity is acknowledged). Returns its message id.
    pub async fn answer(&mut self, activity: &str, value: Value) -> String {
        if self.pending.iter().any(|p| p.activity == activity) {
            self.pump_until(|p| p.pending.iter().all(|q| q.activity != activity))
                .await;
        }
        let pending = Pending {
            id: self.next_id(),
            activity: activity.to_owned(),
            value,
        };
        if self.pending.is_empty() {
            self.waiting_since = Instant::now();
        }
        self.pending.push(pending.clone());
        // Without a socket it goes out with the resends after the next welcome.
        if let Some(socket) = self.socket.as_mut()
            && !socket.send(&pending.frame()).await
        {
            self.drop_link(format!("could not send {}", pending.id));
        }
        pending.id
    }

    /// Waits until every answer sent is acknowledged, moving between nodes as needed.
    pub async fn settle(&mut self) {
        self.pump_until(|p| p.pending.is_empty()).await;
    }

    /// Whether any answer still waits for its ack.
    pub fn unacknowledged(&self) -> Vec<String> {
        self.pending.iter().map(|p| p.id.clone()).collect()
    }

    fn drop_link(&mut self, why: String) {
        self.note(format!("node {}: {why}", self.node));
        self.socket = None;
        self.node = (self.node + 1) % self.urls.len();
        self.moved += 1;
    }

    async fn pump_until(&mut self, done: impl Fn(&Phone) -> bool) {
        let deadline = Instant::now() + RECOVER;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "{}: answers {:?} still unacknowledged after {RECOVER:?}; history: {:#?}",
                self.label,
                self.unacknowledged(),
                self.history
            );
            if self.socket.is_none() {
                self.join().await;
                continue;
            }
            let left = self.ack_wait.saturating_sub(self.waiting_since.elapsed());
            if left.is_zero() {
                let ids = self.unacknowledged();
                let wait = self.ack_wait;
                self.drop_link(format!("no ack for {ids:?} within {wait:?}"));
                continue;
            }
            let socket = self.socket.as_mut().expect("socket");
            match socket.recv(left).await {
                Recv::Message(m) => {
                    if let Some(other) = self.handle(m).await {
                        self.inbox.push(other);
                    }
                }
                Recv::Closed(code) => {
                    assert!(
                        !matches!(code, Some(4000 | 4001)),
                        "{}: node {} closed the socket with {code:?}",
                        self.label,
                        self.node
                    );
                    self.drop_link(format!("closed with {code:?}"));
                }
                Recv::Silent => {}
            }
        }
    }

    /// Takes in an ack or error for a pending answer; any other message is returned.
    async fn handle(&mut self, message: Value) -> Option<Value> {
        let at = self
            .pending
            .iter()
            .position(|p| message["id"] == p.id.as_str());
        let Some(at) = at else {
            return Some(message);
        };
        match message["type"].as_str() {
            Some("ack") => {
                let done = self.pending.remove(at);
                self.acked.push((done.id, done.activity.clone()));
                self.answers.insert(done.activity, done.value);
                self.waiting_since = Instant::now();
                None
            }
            Some("error")
                if matches!(
                    message["code"].as_str(),
                    Some("unavailable" | "rate_limited")
                ) =>
            {
                // Not stored: send it again a little later (same id).
                self.note(format!("node {}: {message}", self.node));
                tokio::time::sleep(Duration::from_millis(300)).await;
                let frame = self.pending[at].frame();
                if let Some(socket) = self.socket.as_mut()
                    && !socket.send(&frame).await
                {
                    self.drop_link("could not resend after an error".into());
                }
                self.waiting_since = Instant::now();
                None
            }
            Some("error") => {
                let refused = self.pending.remove(at);
                self.refused
                    .push(json!({"answer": refused.frame(), "error": message, "node": self.node}));
                None
            }
            _ => Some(message),
        }
    }

    /// Waits for a message that satisfies `predicate` (looking first at what already
    /// arrived) on the current socket, without moving: `None` on silence or a close.
    pub async fn wait_for(
        &mut self,
        wait: Duration,
        predicate: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        if let Some(at) = self.inbox.iter().position(&predicate) {
            return Some(self.inbox.remove(at));
        }
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let socket = self.socket.as_mut()?;
            match socket.recv(left).await {
                Recv::Message(m) => {
                    if let Some(m) = self.handle(m).await {
                        if predicate(&m) {
                            return Some(m);
                        }
                        self.inbox.push(m);
                    }
                }
                Recv::Closed(code) => {
                    self.note(format!(
                        "node {}: closed with {code:?} while waiting",
                        self.node
                    ));
                    self.socket = None;
                    return None;
                }
                Recv::Silent => return None,
            }
        }
    }

    /// Sends its first acknowledged answer's id again, with another value, as a late resend
    /// from a confused phone: the reply (which must be an ack, with no effect).
    pub async fn resend_first_answer(&mut self, value: Value) -> Value {
        let (id, activity) = self.acked.first().cloned().expect("an acknowledged answer");
        self.request(json!({"type": "answer", "id": id, "activity": activity, "value": value}))
            .await
    }

    /// Sends a message (with a fresh id unless it has one: an `ask`, `upvote`, `card`, or an
    /// answer that is expected to be refused) and waits for its ack or error, on this node.
    pub async fn request(&mut self, mut message: Value) -> Value {
        let id = match message["id"].as_str() {
            Some(id) => id.to_owned(),
            None => self.next_id(),
        };
        message["id"] = json!(id);
        let socket = self
            .socket
            .as_mut()
            .unwrap_or_else(|| panic!("{}: not connected", self.label));
        assert!(
            socket.send(&message).await,
            "{}: send {message}",
            self.label
        );
        let node = self.node;
        self.wait_for(WAIT, |m| {
            m["id"] == id.as_str() && (m["type"] == "ack" || m["type"] == "error")
        })
        .await
        .unwrap_or_else(|| panic!("{}: no reply on node {node} to {message}", self.label))
    }
}

/// `n` attendees from the fixture's organisations ([`fixture_profile`]), `p0`, `p1`, …,
/// spread over the nodes: `p{i}` joins on node `i % urls.len()`.
pub fn fixture_phones(spec: &Value, n: usize, urls: &[String]) -> Vec<Phone> {
    (0..n)
        .map(|i| {
            let (hello, organisation, sector) = fixture_profile(spec, i);
            Phone::new(
                format!("p{i}"),
                urls.to_vec(),
                i % urls.len(),
                hello,
                Some(&organisation),
                Some(&sector),
            )
        })
        .collect()
}

/// Phones that each run a script of their own, all at once, on tasks of their own.
pub struct Crowd(Vec<JoinHandle<Phone>>);

impl Crowd {
    /// Starts `script(i, phone)` for the `i`-th phone.
    pub fn spawn<F, Fut>(phones: impl IntoIterator<Item = Phone>, script: F) -> Crowd
    where
        F: Fn(usize, Phone) -> Fut,
        Fut: Future<Output = Phone> + Send + 'static,
    {
        let tasks = phones
            .into_iter()
            .enumerate()
            .map(|(i, phone)| tokio::spawn(script(i, phone)))
            .collect();
        Crowd(tasks)
    }

    /// The phones, in order, once every script has ended (a script that failed fails the
    /// test).
    pub async fn finish(self) -> Vec<Phone> {
        let mut phones = Vec::new();
        for task in self.0 {
            phones.push(task.await.expect("attendee task"));
        }
        phones
    }
}

/// Phones that join, answer every one of `keys`, then keep changing their answers a few
/// times a second until `stop` is set: the crowd that lives through an outage.
pub fn answering_until_stopped(
    spec: &Value,
    phones: Vec<Phone>,
    keys: &'static [&'static str],
    seed: u64,
    stop: &Arc<AtomicBool>,
) -> Crowd {
    Crowd::spawn(phones, |i, mut phone| {
        let spec = spec.clone();
        let stop = stop.clone();
        async move {
            phone.join().await;
            let mut rng = Rng::seeded(seed + i as u64);
            for key in keys {
                phone.answer(key, random_value(&spec, key, &mut rng)).await;
            }
            phone.settle().await;
            let pause = Duration::from_millis(300);
            phone
                .answer_until(&spec, keys, &mut rng, 0, pause, &stop)
                .await;
            phone
        }
    })
}

/// Stops a crowd from [`answering_until_stopped`] after an outage: every phone's answers
/// were in the end acknowledged, none refused.
pub async fn stop_after_outage(crowd: Crowd, stop: &AtomicBool, outage: &str) -> Vec<Phone> {
    stop.store(true, Ordering::Relaxed);
    let phones = crowd.finish().await;
    let moved = phones.iter().filter(|p| p.moves() > 0).count();
    println!("{outage}: {moved} of {} phones changed node", phones.len());
    assert_none_refused(&phones);
    for phone in &phones {
        assert!(
            phone.unacknowledged().is_empty(),
            "{} after {outage}: {:?}",
            phone.label,
            phone.history
        );
    }
    phones
}

/// Fails the test if an answer of any phone was refused.
pub fn assert_none_refused(phones: &[Phone]) {
    for phone in phones {
        assert!(
            phone.refused.is_empty(),
            "{}: answers refused: {:?}",
            phone.label,
            phone.refused
        );
    }
}

/// The ground truth from what `phones` sent: the expected tally of each of `keys` (closed
/// for those in `closed`), and the attendance once all of them are connected.
pub fn truth(
    spec: &Value,
    phones: &[Phone],
    keys: &[&str],
    closed: &[&str],
) -> (BTreeMap<String, Value>, Attendance) {
    let people: Vec<Person> = phones.iter().map(Phone::person).collect();
    let everyone: Vec<&Person> = people.iter().collect();
    (
        tallies(spec, keys, closed, &everyone),
        Attendance::all_present(&everyone),
    )
}
