// Unit tests of the phases and the Q&A per session as the pages read them (web/phases.js):
// the phase, what the attendee page says of it, the sessions an attendee may see and ask in,
// the questions grouped by session and what each presenter's screen shows. No browser.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { phaseOf, advanceOpen, when, attendeeNotice, canAsk, visibleSessions, currentOf, defaultSession,
  needsRoom, groupBySession, questionsFor, screenSession, hostQuestions, hostPhaseStep, hostPhaseName } from "../../web/phases.js";

const NOW = Date.parse("2026-11-20T12:00:00Z");
const sessions = [
  { key: "welcome", title: "Welcome", room: null },
  { key: "breakout-a", title: "Break-out A", room: "Room A" },
  { key: "breakout-b", title: "Break-out B", room: "Room B" },
  { key: "panel", title: "Panel", room: null },
];

describe("the phase", () => {
  it("reads the server's phase, or an old server's state", () => {
    for (const p of ["before", "live", "after", "closed"]) assert.equal(phaseOf({ phase: p }), p);
    assert.equal(phaseOf({ state: "ended" }), "closed");
    assert.equal(phaseOf({ state: "live" }), "live");
    assert.equal(phaseOf({ phase: "nonsense", state: "live" }), "live");
    assert.equal(phaseOf(null), "live");
  });
  it("takes questions before the start only from opens_at", () => {
    assert.ok(advanceOpen({ opens_at: "2026-11-20T11:59:59Z" }, NOW));
    assert.ok(!advanceOpen({ opens_at: "2026-11-20T12:00:01Z" }, NOW));
    assert.ok(!advanceOpen({}, NOW));
    assert.ok(!advanceOpen({ opens_at: "not a date" }, NOW));
    assert.ok(canAsk({ phase: "before", opens_at: "2026-11-19T09:00:00Z" }, NOW));
    assert.ok(!canAsk({ phase: "before" }, NOW));
    assert.ok(canAsk({ phase: "live" }, NOW));
    assert.ok(!canAsk({ phase: "after" }, NOW));
    assert.ok(!canAsk({ phase: "closed" }, NOW));
  });
  it("says a date as a person reads it, in their language", () => {
    assert.deepEqual(when("2026-11-23T09:30:00Z", "en-GB", "UTC"), { time: "09:30", date: "23 November" });
    assert.deepEqual(when("2026-11-23T09:30:00+01:00", "en-GB", "UTC"), { time: "08:30", date: "23 November" });
    assert.equal(when("2026-11-23T09:30:00Z", "pl", "UTC").date, "23 listopada");
    assert.equal(when(null, "en"), null);
    assert.equal(when("garbage", "en"), null);
  });
  it("tells the attendee what the phase means", () => {
    const before = { phase: "before", opens_at: "2026-11-19T09:00:00Z", starts_at: "2026-11-23T09:30:00Z" };
    assert.deepEqual(attendeeNotice(before, NOW, "en-GB", "UTC"), { key: "phase.before_open", vars: { time: "09:30", date: "23 November" } });
    const notYet = { phase: "before", opens_at: "2026-11-21T09:00:00Z", starts_at: "2026-11-23T09:30:00Z" };
    assert.deepEqual(attendeeNotice(notYet, NOW, "en-GB", "UTC"),
      { key: "phase.before_opens", vars: { time: "09:00", date: "21 November", start_time: "09:30", start_date: "23 November" } });
    assert.deepEqual(attendeeNotice({ phase: "before", starts_at: "2026-11-23T09:30:00Z" }, NOW, "en-GB", "UTC"), { key: "phase.before", vars: { time: "09:30", date: "23 November" } });
    assert.equal(attendeeNotice({ phase: "live" }, NOW, "en"), null);
    assert.deepEqual(attendeeNotice({ phase: "after", closes_at: "2026-11-24T17:00:00Z" }, NOW, "en-GB", "UTC"), { key: "phase.after_until", vars: { time: "17:00", date: "24 November" } });
    assert.deepEqual(attendeeNotice({ phase: "after" }, NOW, "en"), { key: "phase.after", vars: {} });
    assert.deepEqual(attendeeNotice({ phase: "closed" }, NOW, "en"), { key: "phase.closed", vars: {} });
  });
});

describe("sessions", () => {
  it("shows an attendee the plenary sessions and their room's", () => {
    assert.deepEqual(visibleSessions(sessions, null).map((s) => s.key), ["welcome", "panel"]);
    assert.deepEqual(visibleSessions(sessions, "Room A").map((s) => s.key), ["welcome", "breakout-a", "panel"]);
    assert.deepEqual(visibleSessions(undefined, "Room A"), []);
  });
  it("reads the current sessions, whatever is missing", () => {
    assert.deepEqual(currentOf({}), { plenary: null, rooms: {} });
    assert.deepEqual(currentOf({ current: { plenary: "welcome", rooms: { "Room A": "breakout-a" } } }), { plenary: "welcome", rooms: { "Room A": "breakout-a" } });
  });
  it("asks in the room's current session, else the plenary's, else the event as a whole", () => {
    const c = { plenary: "welcome", rooms: { "Room A": "breakout-a" } };
    assert.equal(defaultSession(c, "Room A"), "breakout-a");
    assert.equal(defaultSession(c, "Room B"), "welcome");
    assert.equal(defaultSession(c, null), "welcome");
    assert.equal(defaultSession({ plenary: null, rooms: {} }, "Room A"), null);
  });
  it("asks for a room only when a room session is on and none was chosen", () => {
    const on = { plenary: null, rooms: { "Room A": "breakout-a" } };
    assert.ok(needsRoom(on, null, ["Room A", "Room B"]));
    assert.ok(!needsRoom(on, "Room B", ["Room A", "Room B"]));
    assert.ok(!needsRoom({ plenary: "welcome", rooms: {} }, null, ["Room A"]));
    assert.ok(!needsRoom(on, null, []));
  });
});

describe("questions by session", () => {
  const q = (id, session, votes) => ({ id, text: id, session, votes });
  it("puts the current sessions first, then the programme, then the event as a whole", () => {
    const groups = groupBySession([q("a", "welcome", 1), q("b", null, 9), q("c", "panel", 2), q("d", "breakout-a", 0), q("e", "panel", 5)],
      sessions, { plenary: "panel", rooms: { "Room A": "breakout-a" } }, "Room A", "The event as a whole");
    assert.deepEqual(groups.map((g) => g.session), ["breakout-a", "panel", "welcome", null]);
    assert.deepEqual(groups.map((g) => g.now), [true, true, false, false]);
    assert.deepEqual(groups[1].questions.map((x) => x.id), ["e", "c"], "most votes first");
    assert.equal(groups[3].title, "The event as a whole");
    assert.equal(groups[0].room, "Room A");
  });
  it("keeps the order given among equal votes, and files unknown sessions under the whole event", () => {
    const groups = groupBySession([q("x", "gone", 1), q("y", "welcome", 1), q("z", "welcome", 1)], sessions, null, null, "Whole");
    assert.deepEqual(groups.map((g) => g.session), ["welcome", null]);
    assert.deepEqual(groups[0].questions.map((x) => x.id), ["y", "z"]);
    assert.deepEqual(groups[1].questions.map((x) => x.id), ["x"]);
    assert.deepEqual(groupBySession([], sessions, null, null, "Whole"), []);
  });
  it("sends each presenter's screen only its own room's questions", () => {
    assert.ok(questionsFor({ room: null }, null));
    assert.ok(questionsFor({}, null));
    assert.ok(!questionsFor({ room: "Room A" }, null));
    assert.ok(questionsFor({ room: "Room A" }, "Room A"));
    assert.ok(!questionsFor({ room: "Room B" }, "Room A"));
    assert.ok(!questionsFor({ room: null }, "Room A"));
    const c = { plenary: "welcome", rooms: { "Room A": "breakout-a" } };
    assert.equal(screenSession(c, null), "welcome");
    assert.equal(screenSession(c, "Room A"), "breakout-a");
    assert.equal(screenSession(c, "Room B"), null);
  });
});

describe("the host's view of phases and sessions", () => {
  const item = (id, session, state = "pending") => ({ kind: "question", data: { id, session, state } });
  it("puts the current sessions' questions first and filters by session", () => {
    const items = [item("a", "welcome"), item("b", null), item("c", "breakout-a"), item("d", "panel")];
    const current = { plenary: "panel", rooms: { "Room A": "breakout-a" } };
    assert.deepEqual(hostQuestions(items, "all", current).map((i) => i.data.id), ["c", "d", "a", "b"]);
    assert.deepEqual(hostQuestions(items, "", current).map((i) => i.data.id), ["b"]);
    assert.deepEqual(hostQuestions(items, "welcome", null).map((i) => i.data.id), ["a"]);
    assert.deepEqual(hostQuestions(items, "all", null).map((i) => i.data.id), ["a", "b", "c", "d"]);
  });
  it("offers the one next step, with its confirmation", () => {
    assert.equal(hostPhaseStep("before", null, NOW).command, "start");
    assert.equal(hostPhaseStep("live", "2026-11-24T17:00:00Z", NOW).label, "End the live part…");
    assert.equal(hostPhaseStep("live", "2026-11-19T17:00:00Z", NOW).label, "End the event…", "an evaluation already past is no evaluation");
    assert.equal(hostPhaseStep("live", null, NOW).command, "end");
    assert.equal(hostPhaseStep("after", "2026-11-24T17:00:00Z", NOW).label, "Close the evaluation…");
    assert.equal(hostPhaseStep("closed", null, NOW), null);
    assert.equal(hostPhaseName("after"), "Evaluation open");
  });
});

describe("built-in names as rooms and sessions", () => {
  it("are just names", () => {
    const weird = [{ key: "constructor", title: "C", room: "__proto__" }, { key: "toString", title: "T", room: null }];
    const current = { plenary: "toString", rooms: JSON.parse('{"__proto__": "constructor"}') };
    assert.equal(defaultSession(current, "__proto__"), "constructor");
    assert.equal(defaultSession(current, "constructor"), "toString", "a room with no current session is not Object's constructor");
    assert.equal(screenSession(current, "hasOwnProperty"), null);
    const groups = groupBySession([{ id: "1", session: "constructor", votes: 0 }, { id: "2", session: "valueOf", votes: 0 }], weird, current, "constructor", "Whole");
    assert.deepEqual(groups.map((g) => [g.session, g.now]), [["constructor", false], [null, false]]);
  });
});
