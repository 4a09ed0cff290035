// Unit tests of the host dashboard's pure logic: Present mode's steps (web/present-mode.js),
// the run of show (web/run-of-show.js), the moderation queues (web/queues.js) and response
// rates by room (web/room-rates.js). No browser, no server.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { steps, position, forward, back, describe as say, describeDone } from "../../web/present-mode.js";
import { sessionStates, afterStates, summary } from "../../web/run-of-show.js";
import { queues, batchTargets, concernName } from "../../web/queues.js";
import { rate, presentIn, roomsNow } from "../../web/room-rates.js";

const spec = JSON.parse(readFileSync(new URL("../../server/fixtures/dual-diagnosis-2026.json", import.meta.url), "utf8"));
const sessions = spec.sessions;
const walk = steps(sessions);

/** Applies commands to a fake server state, as the real one would. */
function apply(state, commands) {
  for (const c of commands) {
    const r = state.rows[c.activity] || (state.rows[c.activity] = { state: "ready", revealed: false });
    if (c.type === "open") r.state = "open";
    else if (c.type === "close") r.state = "closed";
    else if (c.type === "reveal") r.revealed = c.show;
    else if (c.type === "focus") state.focus = c.activity;
  }
}
const fresh = () => ({ rows: {}, focus: null });
const press = (state, times = 1) => {
  for (let i = 0; i < times; i++) apply(state, forward(walk, position(walk, state.rows, state.focus), state.rows, state.focus));
};

describe("Present mode", () => {
  it("walks every activity in programme order, two steps each", () => {
    assert.equal(walk.length, 2 * sessions.reduce((n, s) => n + (s.activities || []).length, 0));
    assert.deepEqual(walk.slice(0, 3).map((s) => [s.key, s.action]), [["role", "open"], ["role", "reveal"], ["pre-prescribing", "open"]]);
    assert.equal(walk.find((s) => s.key === "connected-word").room, "Room B");
  });

  it("leaves out the activities for after the event: they open by themselves when the live part ends", () => {
    const withAfter = [{ key: "day", title: "The day", activities: [
      { key: "role", kind: "choice" },
      { key: "useful", kind: "scale", window: "after" },
    ] }];
    assert.deepEqual(steps(withAfter).map((s) => [s.key, s.action]), [["role", "open"], ["role", "reveal"]]);
  });

  it("opens and shows the next activity, then reveals it, closing the one before", () => {
    const state = fresh();
    assert.equal(position(walk, state.rows, state.focus), -1);
    press(state);
    assert.deepEqual(state.rows.role, { state: "open", revealed: false });
    assert.equal(state.focus, "role", "the room sees what was opened, not the previous chart");
    press(state);
    assert.equal(state.rows.role.revealed, true);
    press(state);
    assert.equal(state.rows.role.state, "closed");
    assert.equal(state.rows["pre-prescribing"].state, "open");
    assert.equal(state.focus, "pre-prescribing");
    assert.equal(position(walk, state.rows, state.focus), 2);
  });

  it("goes back a step: hides results, then closes and puts the previous activity back", () => {
    const state = fresh();
    press(state, 3);
    apply(state, back(walk, position(walk, state.rows, state.focus), state.rows, state.focus));
    assert.equal(state.rows["pre-prescribing"].state, "closed");
    assert.equal(state.focus, "role");
    assert.equal(position(walk, state.rows, state.focus), 1);
    apply(state, back(walk, 1, state.rows, state.focus));
    assert.equal(state.rows.role.revealed, false);
    assert.equal(position(walk, state.rows, state.focus), 0);
  });

  it("runs the break-outs side by side on their own screens, then returns to the main one", () => {
    const state = fresh();
    const at = walk.findIndex((s) => s.key === "partnership-priority");
    press(state, at + 1);
    assert.equal(state.rows["partnership-priority"].state, "open");
    assert.equal(state.rows.concern.state, "closed", "plenary closes when the break-outs start");
    assert.equal(state.focus, null, "the main screen leaves the plenary chart behind");
    press(state, 2);
    assert.equal(state.rows["connected-word"].state, "open");
    assert.equal(state.rows["partnership-priority"].state, "open", "Room B never closes Room A");
    press(state, 2);
    assert.equal(state.rows.pledge.state, "open");
    assert.equal(state.rows["partnership-priority"].state, "closed");
    assert.equal(state.rows["connected-word"].state, "closed");
    assert.equal(state.focus, "pledge");
  });

  it("does nothing past the end or before the start, and says what each step does", () => {
    const state = fresh();
    press(state, walk.length);
    assert.equal(position(walk, state.rows, state.focus), walk.length - 1);
    assert.deepEqual(forward(walk, walk.length - 1, state.rows, state.focus), []);
    assert.deepEqual(back(walk, -1, {}, null), []);
    assert.equal(say(walk[0], "Your role?"), "Open “Your role?” and show it");
    assert.equal(say(walk.find((s) => s.key === "connected-word" && s.action === "reveal"), "One word"), "Show the results of “One word” in Room B");
    assert.equal(say(undefined, ""), "End of the programme");
    assert.equal(describeDone(walk[0], "Your role?"), "“Your role?” is open and on screen");
    assert.equal(describeDone(walk[1], "Your role?"), "Results of “Your role?” showing");
    assert.equal(describeDone(walk.find((s) => s.key === "partnership-priority"), "Which change?"), "“Which change?” is open in Room A");
    assert.equal(describeDone(undefined, ""), "Nothing yet");
  });
});

describe("Run of show", () => {
  it("before the start the first session is next", () => {
    const states = sessionStates(sessions, {}, -1, false);
    assert.equal(states[0], "next");
    assert.ok(states.slice(1).every((s) => s === "later"));
  });

  it("marks done, now and next, with a talk as next and break-outs together", () => {
    const rows = { role: { state: "closed", total: 30 }, barriers: { state: "closed", total: 12 }, concern: { state: "open", total: 5 } };
    const states = sessionStates(sessions, rows, 2, false);
    assert.deepEqual(states, ["done", "done", "now", "next", "later", "later", "later"]);
    const breakouts = sessionStates(sessions, { "partnership-priority": { state: "open" } }, 4, false);
    assert.deepEqual(breakouts.slice(3), ["done", "now", "now", "next"]);
    assert.ok(sessionStates(sessions, rows, 2, true).every((s) => s === "done"));
  });

  it("marks every session the server has current as now: the plenary's and a room's", () => {
    const states = sessionStates(sessions, {}, [1, 5], false);
    assert.deepEqual(states, ["done", "now", "done", "done", "now", "now", "next"]);
    assert.deepEqual(sessionStates(sessions, {}, [], false), sessionStates(sessions, {}, -1, false));
  });

  it("after the live part, only a session with an open activity for after the event stays unfolded", () => {
    const phased = sessions.map((s) => ({ ...s, activities: (s.activities || []).map((a) => (a.key === "usefulness" ? { ...a, window: "after" } : a)) }));
    const last = phased.length - 1;
    assert.ok(phased[last].activities.some((a) => a.key === "usefulness"), "the fixture's last session holds the evaluation");
    const rows = { role: { state: "closed" }, usefulness: { state: "open" } };
    assert.deepEqual(afterStates(phased, rows), phased.map((_, i) => (i === last ? "now" : "done")));
    // Closed early by a host, or not for after the event: folded like the rest.
    assert.ok(afterStates(phased, { usefulness: { state: "closed" } }).every((s) => s === "done"));
    assert.ok(afterStates(sessions, { usefulness: { state: "open" } }).every((s) => s === "done"));
    assert.deepEqual(afterStates(undefined, rows), []);
  });

  it("sums a folded session in a line", () => {
    assert.equal(summary(sessions[0], { role: { total: 30 }, "pre-prescribing": { total: 1 } }), "4 activities · 31 responses");
    assert.equal(summary(sessions[3], {}), "A talk");
  });
});

describe("Moderation queues", () => {
  const item = (kind, id, state, extra = {}, seq = 0) => ({ kind, seq, data: { id, state, ...extra } });
  const items = [
    item("question", "q1", "approved", { votes: 9 }, 1),
    item("question", "q2", "pending", { votes: 1 }, 2),
    item("question", "q3", "pending", { votes: 4 }, 3),
    item("question", "q4", "pending", { votes: 4, concern: "danger" }, 4),
    ...Array.from({ length: 40 }, (_, n) => item("text", "t" + n, n % 2 ? "pending" : "approved", {}, 10 + n)),
    item("card", "c1", "pending", {}, 60),
  ];

  it("keeps questions, texts, cards and concerns apart, questions by votes", () => {
    const q = queues(items);
    assert.deepEqual(q.question.map((i) => i.data.id), ["q3", "q2", "q1"]);
    assert.equal(q.text.length, 40);
    assert.equal(q.text[0].data.id, "t39", "waiting texts first, the newest first");
    assert.deepEqual(q.concern.map((i) => i.data.id), ["q4"]);
    assert.deepEqual(q.waiting, { question: 2, text: 20, card: 1, concern: 1 });
  });

  it("batches only what the action changes, and never a concern", () => {
    const q = queues(items);
    const selected = new Set(["q1", "q2", "q3", "q4"]);
    assert.deepEqual(batchTargets(q.question, selected, "approve"), ["q3", "q2"]);
    assert.deepEqual(batchTargets(q.question, selected, "hide"), ["q3", "q2", "q1"]);
    assert.equal(concernName("self_harm"), "self-harm");
  });
});

describe("Rates by room", () => {
  const attendance = { present: 42, rooms: { "Room A": 20, "Room B": 22 } };
  it("counts a break-out against its room and plenary against everyone", () => {
    assert.deepEqual(rate(13, attendance, null), { share: 31, label: "31% of 42 here now" });
    assert.deepEqual(rate(13, attendance, "Room A"), { share: 65, label: "65% of 20 in Room A now" });
    assert.deepEqual(rate(5, { present: 3 }, "Room B"), { share: 0, label: "nobody in Room B right now" });
    assert.equal(rate(50, attendance, "Room B").share, 100);
    assert.equal(presentIn(attendance, "constructor"), 0);
    assert.deepEqual(roomsNow(["Room A", "Room B"], attendance), [{ room: "Room A", present: 20 }, { room: "Room B", present: 22 }]);
  });
});
