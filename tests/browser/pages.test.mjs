// Unit tests of the pages' shared pure logic: formatting and tables (web/common.js), the
// close codes (web/close-codes.js, against docs/protocol.md), the charts' data shaping
// (web/charts.js) and the presenter's fitting arithmetic (web/present-view.js). No browser,
// no server: none of these modules touches the DOM when imported.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { plural, table, own, backoff, indexEvent, kindName } from "../../web/common.js";
import * as codes from "../../web/close-codes.js";
import { pct, scaleLabels, fmtMean, fmtRank, bestIndex, wordColour, reactionKeys, reactionName, describeTally, REACTIONS } from "../../web/charts.js";
import { FIT, fitScales, moreText, roomActivity, stageView, countText } from "../../web/present-view.js";

describe("common.js", () => {
  it("says counts in words", () => {
    assert.equal(plural(1, "vote"), "1 vote");
    assert.equal(plural(0, "vote"), "0 votes");
    assert.equal(plural(2, "person", "people"), "2 people");
  });
  it("keeps keys a person typed as plain keys", () => {
    const t = table();
    assert.equal(own(t, "constructor"), undefined);
    t.__proto__ = 3;
    assert.equal(own(t, "__proto__"), 3);
    assert.equal(own({}, "toString"), undefined);
    assert.equal(own(null, "x"), undefined);
  });
  it("backs off 0.5 s, 1 s, 2 s ... to 30 s, each 50-100 % of that", () => {
    assert.equal(backoff(0, () => 0), 250);
    assert.equal(backoff(0, () => 1), 500);
    assert.equal(backoff(3, () => 1), 4000);
    assert.equal(backoff(20, () => 1), 30000);
    assert.equal(backoff(20, () => 0), 15000);
  });
  it("indexes an event's activities with their session and room", () => {
    const by = indexEvent({ sessions: [
      { title: "Opening", activities: [{ key: "a", kind: "choice" }] },
      { title: "Break-out", room: "Blue", activities: [{ key: "b", kind: "words" }, { key: "c", kind: "text", room: null }] },
    ] });
    assert.deepEqual(Object.keys(by), ["a", "b", "c"]);
    assert.equal(by.a.sessionTitle, "Opening");
    assert.equal(by.a.room, null);
    assert.equal(by.b.room, "Blue");
    assert.equal(by.c.room, null, "an activity's own room wins over its session's");
  });
  it("names kinds", () => {
    assert.equal(kindName({ kind: "choice", multiple: true }), "Multiple choice");
    assert.equal(kindName({ kind: "scale", min: 1, max: 5 }), "Scale 1 to 5");
    assert.equal(kindName({ kind: "ranking" }), "Ranking");
    assert.equal(kindName({ kind: "points" }), "Points");
    assert.equal(kindName({ kind: "future" }), "future");
  });
});

describe("close-codes.js", () => {
  it("names every code of docs/protocol.md's table, with its number", () => {
    const doc = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
    const section = doc.slice(doc.indexOf("## Close codes"));
    const documented = [...section.matchAll(/^\| (\d{4}) \|/gm)].map((m) => Number(m[1]));
    assert.ok(documented.length >= 6, "the table was found");
    const named = Object.values(codes.CLOSE);
    for (const n of documented) assert.ok(named.includes(n), `close code ${n} has no name in close-codes.js`);
    assert.equal(codes.EVENT_ENDED, 4000);
    assert.equal(codes.UNAUTHORIZED, 4001);
    assert.equal(codes.RESTARTING, 1012);
    assert.ok(Object.isFrozen(codes.CLOSE));
  });
  it("tells a staff page when to stop and when to try again", () => {
    assert.equal(codes.staffCloseAction(codes.UNAUTHORIZED), "unauthorized");
    assert.equal(codes.staffCloseAction(codes.EVENT_ENDED), "ended");
    for (const c of [codes.RESTARTING, codes.TOO_SLOW, codes.FLOODING, codes.ABNORMAL, 1000]) assert.equal(codes.staffCloseAction(c), "retry");
  });
  it("tells the server's own codes from the browser's", () => {
    assert.ok(codes.isApplicationCode(codes.TOO_LARGE));
    assert.ok(!codes.isApplicationCode(codes.ABNORMAL));
    assert.ok(!codes.isApplicationCode(codes.RESTARTING));
  });
  it("is the only place a page spells a close code", () => {
    const pages = ["common.js", "outbox.js", "attendee.js", "attendee-session.js", "host.js", "present.js", "host-moderation.js", "host-programme.js"];
    for (const f of pages) {
      const src = readFileSync(new URL(`../../web/${f}`, import.meta.url), "utf8");
      assert.doesNotMatch(src, /(?:code|c) *[=!<>]=+ *(?:1012|40\d\d)\b/, `${f} compares a close code by number`);
    }
  });
});

describe("charts.js", () => {
  it("rounds percentages and means", () => {
    assert.equal(pct(1, 3), 33);
    assert.equal(pct(2, 3), 67);
    assert.equal(pct(5, 0), 0);
    assert.equal(fmtMean(3.25), "3.3");
    assert.equal(fmtMean(4), "4.0");
    assert.equal(fmtMean(null), "–");
    assert.equal(fmtRank(undefined), "–");
  });
  it("labels a scale's ends", () => {
    assert.deepEqual(scaleLabels({ min: 1, max: 3, labels: { min: "Poor", max: "Great" } }), ["1 · Poor", "2", "3 · Great"]);
    assert.deepEqual(scaleLabels({ min: 0, max: 2 }), ["0", "1", "2"]);
  });
  it("finds the best value, never a missing one", () => {
    const lower = (x, y) => x < y;
    assert.equal(bestIndex([2.5, null, 1.5], lower), 2);
    assert.equal(bestIndex([null, 3], lower), 1);
    assert.equal(bestIndex([], lower), 0);
    assert.equal(bestIndex([5, 9, 9], (x, y) => x > y), 1, "the first of equals");
  });
  it("gives a word the same colour wherever it ranks", () => {
    assert.equal(wordColour("housing"), wordColour("housing"));
    for (const w of ["a", "housing", "trust", "ça"]) assert.match(wordColour(w), /^[012]$/);
  });
  it("orders reactions as the catalogue does, unknown keys last", () => {
    assert.deepEqual(reactionKeys({ counts: { thanks: 1, zzz: 2, agree: 0 } }), ["agree", "thanks", "zzz"]);
    assert.deepEqual(reactionKeys(null), []);
    assert.equal(reactionName("slow_down"), REACTIONS.slow_down.label);
    assert.equal(reactionName("zzz"), "zzz");
  });
  it("describes a tally in one sentence", () => {
    const choice = { kind: "choice", prompt: "Lunch?", options: ["Yes", "No"] };
    assert.equal(describeTally(choice, { total: 3, counts: [1, 2] }), "Lunch?: 3 responses. Most chosen: No, 2.");
    assert.equal(describeTally({ kind: "scale", prompt: "Rate", max: 5 }, { total: 2, mean: 4.5 }), "Rate: 2 responses. Average 4.5 out of 5.");
    assert.equal(describeTally({ kind: "words", prompt: "W" }, { total: 1, top: [["a", 2], ["b", 1]] }), "W: 1 response. Top words: a, b.");
    assert.equal(describeTally(choice, null), "");
  });
});

describe("present-view.js", () => {
  it("shrinks the type in steps, less where a list can be shortened", () => {
    assert.deepEqual(fitScales(true), [1, 0.94, 0.88, 0.82, 0.76]);
    const alone = fitScales(false);
    assert.equal(alone[0], 1);
    assert.ok(alone[alone.length - 1] <= FIT.leastAlone && alone[alone.length - 2] > FIT.leastAlone);
  });
  it("says what a shortened list leaves out", () => {
    assert.equal(moreText("questions", 5, 5, 0), "");
    assert.equal(moreText("questions", 3, 5, 0), "and 2 more");
    assert.equal(moreText("questions", 5, 5, 7), "and 7 more", "those the server did not send count too");
    assert.equal(moreText("texts", 4, 10, 0), "4 of 10 answers, the next ones in a moment");
  });
  it("follows a room's open activity, else its last one opened", () => {
    const order = ["r1", "r2", "r3"];
    assert.equal(roomActivity(order, {}), null);
    assert.equal(roomActivity(order, { r1: { state: "closed" }, r2: { state: "ready" } }), "r1");
    assert.equal(roomActivity(order, { r1: { state: "open" }, r3: { state: "open" } }), "r3");
    assert.equal(roomActivity(order, { r1: { state: "open" }, r3: { state: "closed" } }), "r1");
  });
  it("picks the stage's view", () => {
    const acts = { a: {} };
    assert.equal(stageView(true, "a", acts, true), "ended");
    assert.equal(stageView(false, "a", acts, true), "activity:a");
    assert.equal(stageView(false, "gone", acts, true), "qa");
    assert.equal(stageView(false, null, acts, false), "welcome");
  });
  it("counts an activity's answers in words", () => {
    assert.equal(countText("choice", 1, "open"), " response so far");
    assert.equal(countText("words", 4, "closed"), " responses · closed");
    assert.equal(countText("pledge", 3, "open", 2), " signatures from 2 organisations so far");
    assert.equal(countText("text", 0, "ready"), " responses · not open yet");
  });
});
