// Unit tests of what the presenter's screen shows in each phase (web/present-view.js): after
// the live part, the evaluation's activities (`window: "after"`) take turns on the main screen
// and each room's, the host's focus still wins on the main screen, their results show only
// once revealed, and the closed event says thanks. No browser:
// `node --test tests/browser/present-logic.test.mjs`.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { afterActivities, screenView, eyebrowText, waitingText, AFTER_TURN_MS } from "../../web/present-view.js";

// The programme: a live poll, a Room A activity, and three for after the event: a plenary
// scale, a plenary text and one in Room A's session.
const acts = {
  poll: { key: "poll", kind: "choice", sessionTitle: "Welcome", room: null },
  "a-word": { key: "a-word", kind: "words", sessionTitle: "Break-out A", room: "Room A" },
  usefulness: { key: "usefulness", kind: "scale", sessionTitle: "Close", room: null, window: "after" },
  "next-year": { key: "next-year", kind: "text", sessionTitle: "Close", room: null, window: "after" },
  "a-after": { key: "a-after", kind: "choice", sessionTitle: "Break-out A", room: "Room A", window: "after" },
};
const order = Object.keys(acts);
const afterEnd = {
  poll: { state: "closed", revealed: true },
  "a-word": { state: "closed" },
  usefulness: { state: "open", revealed: false, total: 4 },
  "next-year": { state: "open" },
  "a-after": { state: "open" },
};

describe("the evaluation's activities on the screens", () => {
  it("are those for after the event that have opened, in programme order, the room's on its own screen only", () => {
    assert.deepEqual(afterActivities(order, acts, afterEnd, null), ["usefulness", "next-year"]);
    assert.deepEqual(afterActivities(order, acts, afterEnd, "Room A"), ["usefulness", "next-year", "a-after"]);
    assert.deepEqual(afterActivities(order, acts, afterEnd, "Room B"), ["usefulness", "next-year"]);
  });
  it("keep one a host closed early, never one not opened yet or unknown", () => {
    const rows = { ...afterEnd, usefulness: { state: "closed", revealed: true }, "next-year": { state: "ready" } };
    assert.deepEqual(afterActivities(order, acts, rows, null), ["usefulness"]);
    assert.deepEqual(afterActivities(order, acts, {}, null), []);
    assert.deepEqual(afterActivities(["gone", ...order], acts, { gone: { state: "open" }, ...afterEnd }, null), ["usefulness", "next-year"]);
  });
});

describe("what the stage shows in each phase", () => {
  const keys = ["usefulness", "next-year"];
  it("before: when it starts, whatever is focused; closed or ended: thanks", () => {
    assert.equal(screenView("before", false, "poll", acts, true, [], 0), "before");
    assert.equal(screenView("closed", false, "usefulness", acts, true, keys, 0), "ended");
    assert.equal(screenView("live", true, "poll", acts, true, [], 0), "ended");
    assert.equal(screenView("after", true, null, acts, false, keys, 0), "ended");
  });
  it("live: the focus, else the questions, else a welcome", () => {
    assert.equal(screenView("live", false, "poll", acts, true, [], 0), "activity:poll");
    assert.equal(screenView("live", false, null, acts, true, [], 0), "qa");
    assert.equal(screenView("live", false, "gone", acts, false, [], 0), "welcome");
  });
  it("after: the evaluation's activities take turns, round and round", () => {
    assert.equal(screenView("after", false, null, acts, false, keys, 0), "activity:usefulness");
    assert.equal(screenView("after", false, null, acts, false, keys, 1), "activity:next-year");
    assert.equal(screenView("after", false, null, acts, false, keys, 2), "activity:usefulness");
    assert.equal(screenView("after", false, null, acts, false, ["usefulness"], 7), "activity:usefulness");
    // The questions are closed after the live part: never the Q&A instead.
    assert.equal(screenView("after", false, null, acts, true, keys, 0), "activity:usefulness");
  });
  it("after: a host's focus still wins; with no evaluation open, the join screen asks how it went", () => {
    assert.equal(screenView("after", false, "poll", acts, false, keys, 1), "activity:poll");
    assert.equal(screenView("after", false, "gone", acts, false, keys, 1), "activity:next-year");
    assert.equal(screenView("after", false, null, acts, true, [], 3), "after");
  });
  it("each activity stays up long enough to read and answer", () => {
    assert.ok(AFTER_TURN_MS >= 10000 && AFTER_TURN_MS <= 30000, String(AFTER_TURN_MS));
  });
});

describe("the words around an activity on screen", () => {
  const keys = ["usefulness", "next-year"];
  it("after the live part, an evaluation activity says which of how many it is", () => {
    assert.equal(eyebrowText(acts.usefulness, "after", keys), "Tell us how it went · 1 of 2");
    assert.equal(eyebrowText(acts["next-year"], "after", keys), "Tell us how it went · 2 of 2");
    assert.equal(eyebrowText(acts.usefulness, "after", ["usefulness"]), "Tell us how it went");
  });
  it("otherwise its session and room, as while live", () => {
    assert.equal(eyebrowText(acts.poll, "after", keys), "Welcome");
    assert.equal(eyebrowText(acts["a-word"], "live", []), "Break-out A · Room A");
    assert.equal(eyebrowText(acts.usefulness, "live", []), "Close");
  });
  it("results not revealed wait for the host; a text's answers stay off screen", () => {
    assert.equal(waitingText("scale", "open", false), "Answer on your phone. Results appear here when the host reveals them.");
    assert.equal(waitingText("scale", "closed", false), "Results appear here when the host reveals them.");
    // Revealed, a text's answers show only on the focused activity's wall.
    assert.equal(waitingText("text", "open", true), "Answer on your phone.");
    assert.equal(waitingText("text", "closed", true), "Answers are closed.");
    assert.equal(waitingText("text", "open", false), "Answer on your phone. Results appear here when the host reveals them.");
  });
});
