// Unit tests of the attendee page's pure parts: the status line and the wait for acks
// (web/attendee-session.js), how an activity's card looks (attendee-cards.js), the values
// the controls send and answers in words (kinds.js), "Your answers" and the directory's
// cards (attendee-you.js). No browser, no server: the modules touch the DOM only when called.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { storageKeys, pageState, moderated, helloMsg, connStatus, ackWatch, pageTitle, friendly, ACK_PATIENCE_MS } from "../../web/attendee-session.js";
import { cardLook, minePicks } from "../../web/attendee-cards.js";
import { wordsValue, textLength, textValue, choiceValue, describe as say } from "../../web/kinds.js";
import { norm, sortOrganisations, profileRows, answerLines, cardFrom, cardComplete, cardRows, CARD_FIELDS } from "../../web/attendee-you.js";
import { Outbox, AnswerLog } from "../../web/outbox.js";

/** A clock whose timers run only when the test moves it on. */
function fakeClock() {
  let now = 1000;
  const timers = [];
  return {
    now: () => now,
    setTimeout(fn, ms) { timers.push({ at: now + ms, fn }); },
    pending: () => timers.length,
    advance(ms) {
      const end = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        if (!timers.length || timers[0].at > end) break;
        const t = timers.shift();
        now = t.at;
        t.fn();
      }
      now = end;
    },
  };
}

describe("the page's state", () => {
  it("keeps each event apart on the phone", () => {
    const k = storageKeys("ABC234");
    assert.deepEqual(Object.values(k).sort(), ["joinup.answers.ABC234", "joinup.attendee.ABC234", "joinup.event.ABC234", "joinup.outbox.ABC234", "joinup.profile.ABC234"]);
  });
  it("starts from what the phone kept", () => {
    const kept = new Map([["joinup.attendee.ABC", "tok"], ["joinup.profile.ABC", { organisation: "Shelter" }],
      ["joinup.outbox.ABC", [{ type: "answer", id: "m1", activity: "q1", value: [0] }]]]);
    const s = pageState("ABC", { get: (k) => kept.get(k) });
    assert.equal(s.token, "tok");
    assert.equal(s.profile.organisation, "Shelter");
    assert.equal(s.outbox.answerFor("q1").id, "m1");
    assert.equal(s.answers.size, 0);
    assert.ok(!s.welcomed && !s.ended && !s.editing && s.link === null);
    const fresh = pageState("NEW", { get: () => undefined });
    assert.equal(fresh.token, null);
    assert.equal(fresh.profile, null);
    assert.equal(fresh.outbox.size, 0);
  });
  it("says when questions wait for a moderator", () => {
    assert.ok(moderated(null));
    assert.ok(moderated({}));
    assert.ok(moderated({ qa: { moderation: "pre" } }));
    assert.ok(!moderated({ qa: { moderation: "post" } }));
  });
});

describe("hello", () => {
  it("sends the token, or on a first visit the profile given", () => {
    assert.deepEqual(helloMsg("tok", { organisation: "X", sector: "Y", room: "A" }), { type: "hello", attendee: "tok" });
    assert.deepEqual(helloMsg(null, { organisation: "X", sector: "", room: "A" }), { type: "hello", attendee: null, organisation: "X", room: "A" });
    assert.deepEqual(helloMsg(null, null), { type: "hello", attendee: null });
  });
});

describe("the status line", () => {
  const base = { stopped: false, ended: false, ready: false, started: true, everReady: true, welcomed: true, offline: false, pending: 0, stalled: false };
  const st = (over) => connStatus({ ...base, ...over });
  it("says live, sending, and offline once an ack is late", () => {
    assert.deepEqual(st({ ready: true }), { state: "live", key: "conn.live", vars: {} });
    assert.deepEqual(st({ ready: true, pending: 2 }), { state: "waiting", key: "conn.sending", vars: {} });
    assert.deepEqual(st({ ready: true, pending: 2, stalled: true }), { state: "offline", key: "card.offline", vars: {} });
    assert.equal(st({ ready: true, pending: 0, stalled: true }).key, "conn.live", "nothing waits: nothing is late");
  });
  it("counts what waits while offline or reconnecting", () => {
    assert.deepEqual(st({ offline: true, pending: 3 }), { state: "offline", key: "conn.offline_pending", vars: { n: 3 } });
    assert.deepEqual(st({ offline: true }), { state: "offline", key: "conn.offline", vars: {} });
    assert.deepEqual(st({ pending: 1 }), { state: "waiting", key: "conn.reconnecting_pending", vars: { n: 1 } });
    assert.equal(st({}).key, "conn.reconnecting");
  });
  it("says nothing before joining, then connecting", () => {
    assert.deepEqual(st({ welcomed: false, started: false, everReady: false }), { state: "waiting", key: null, vars: {} });
    assert.equal(st({ welcomed: false, everReady: false }).key, "conn.connecting");
  });
  it("says stopped, or ended, above all", () => {
    assert.deepEqual(st({ stopped: true, ready: true, pending: 4 }), { state: "stopped", key: "conn.stopped", vars: {} });
    assert.deepEqual(st({ stopped: true, ended: true, offline: true }), { state: "ended", key: "conn.ended", vars: {} });
  });
  it("titles the tab with what waits for an answer", () => {
    assert.equal(pageTitle("Dual diagnosis", 0), "Dual diagnosis · Joinup");
    assert.equal(pageTitle("Dual diagnosis", 2), "(2) Dual diagnosis · Joinup");
    assert.equal(pageTitle(null, 0), "Joinup");
  });
  it("gives its own words for the refusals a person may meet", () => {
    assert.equal(friendly("activity_closed"), "This has closed, so it was not saved.");
    assert.equal(friendly("rate_limited"), null);
  });
});

describe("the wait for acks", () => {
  it("is late after the patience, counted from the last ack", () => {
    const clock = fakeClock();
    let pending = 1, late = 0;
    const w = ackWatch(() => pending, () => { late++; }, clock);
    w.watch();
    clock.advance(ACK_PATIENCE_MS - 1);
    assert.ok(!w.stalled());
    assert.equal(late, 0);
    // An ack for another message: the network is alive, the patience starts again.
    w.arrived();
    clock.advance(ACK_PATIENCE_MS - 1);
    assert.ok(!w.stalled());
    clock.advance(100);
    assert.ok(w.stalled());
    assert.ok(late >= 1, "the page was told");
    assert.equal(clock.pending(), 0, "once stalled, no timer runs on");
  });
  it("is never late with nothing waiting", () => {
    const clock = fakeClock();
    let pending = 1, late = 0;
    const w = ackWatch(() => pending, () => { late++; }, clock);
    w.watch();
    pending = 0;
    w.arrived();
    clock.advance(ACK_PATIENCE_MS * 3);
    assert.ok(!w.stalled());
    assert.equal(late, 0);
  });
});

describe("an activity's card", () => {
  const base = { kind: "choice", has: false, pending: false, refused: false, dirty: false, unfolded: false, valid: false, ready: true, late: false };
  const look = (over) => cardLook({ ...base, ...over });
  it("asks, then sends, then folds once saved", () => {
    const fresh = look({});
    assert.equal(fresh.submit, "card.send");
    assert.ok(fresh.submitDisabled, "nothing chosen yet");
    assert.deepEqual(fresh.status, ["", null]);
    assert.ok(!look({ valid: true }).submitDisabled);
    const sending = look({ valid: true, pending: true });
    assert.deepEqual(sending.status, ["pending", "card.sending"]);
    assert.ok(sending.submitDisabled, "sending: not twice");
    assert.equal(sending.state, "pending");
    const saved = look({ valid: true, has: true });
    assert.ok(saved.folded && saved.submitHidden && !saved.changeHidden);
    assert.deepEqual(saved.status, ["saved", "card.saved"]);
  });
  it("says when an answer is not sent, late, refused or changed", () => {
    assert.deepEqual(look({ pending: true, ready: false }).status, ["waiting", "card.not_sent"]);
    const late = look({ pending: true, late: true, valid: true });
    assert.deepEqual(late.status, ["offline", "card.offline"]);
    assert.ok(!late.submitDisabled, "late: the person may send again");
    const refused = look({ refused: true, valid: true });
    assert.deepEqual(refused.status, ["error", "card.not_saved"]);
    assert.equal(refused.submit, "card.send_again");
    assert.equal(refused.state, "refused");
    assert.deepEqual(look({ has: true, dirty: true, valid: true }).status, ["", "card.changed"]);
    assert.equal(look({ has: true, dirty: true }).submit, "card.update");
    const unfolded = look({ has: true, unfolded: true });
    assert.ok(!unfolded.folded && !unfolded.submitHidden);
  });
  it("signs a pledge once, with no change", () => {
    const unsigned = look({ kind: "pledge", valid: true });
    assert.equal(unsigned.submit, "card.sign");
    assert.ok(!unsigned.submitHidden && unsigned.changeHidden);
    const signed = look({ kind: "pledge", valid: true, has: true });
    assert.ok(signed.submitHidden && signed.changeHidden);
  });
  it("marks the person's own bars on a result", () => {
    assert.deepEqual(minePicks({ kind: "choice" }, [0, 2]), [0, 2]);
    assert.deepEqual(minePicks({ kind: "scale", min: 1 }, 4), [3]);
    assert.deepEqual(minePicks({ kind: "scale", min: 0 }, null), []);
    assert.deepEqual(minePicks({ kind: "words" }, ["a"]), []);
  });
});

describe("the controls' values", () => {
  it("sends words tidied, each once", () => {
    assert.deepEqual(wordsValue(["  Housing ", "housing", "mental   Health", ""]), ["housing", "mental health"]);
    assert.equal(wordsValue(["", "  "]), null);
  });
  it("counts a text's characters as a person does, and keeps it within its length", () => {
    assert.equal(textLength("  café 👍 "), 6);
    assert.equal(textValue("  hi  ", 10), "hi");
    assert.equal(textValue("   ", 10), null);
    assert.equal(textValue("abcdef", 5), null);
  });
  it("sends 1 to max choices", () => {
    assert.deepEqual(choiceValue([false, true, true], 2), [1, 2]);
    assert.equal(choiceValue([true, true, true], 2), null);
    assert.equal(choiceValue([false, false], 2), null);
  });
  it("puts an answer in words, whatever its kind", () => {
    assert.equal(say({ key: "c", kind: "choice", options: ["A", "B", "C"] }, [0, 2]), "A, C");
    assert.equal(say({ key: "s", kind: "scale", min: 1, max: 5 }, 4), "4 out of 5");
    assert.equal(say({ key: "w", kind: "words" }, ["a", "b"]), "a, b");
    assert.equal(say({ key: "p", kind: "pledge" }, true), "Signed");
    assert.equal(say({ key: "r", kind: "ranking", options: ["A", "B"] }, [1, 0]), "1. B, 2. A");
    assert.equal(say({ key: "t", kind: "text" }, "hello"), "hello");
    assert.equal(say(null, "gone"), "gone", "an activity no longer in the event");
    assert.equal(say(null, [1]), "[1]");
  });
});

describe("the person", () => {
  it("finds organisations however they are typed, listed alphabetically", () => {
    assert.equal(norm("  St. Mungo's — Leeds "), "st mungo s leeds");
    const sorted = sortOrganisations([{ name: "shelter" }, { name: "Age UK" }, { name: "Mind" }]).map((o) => o.name);
    assert.deepEqual(sorted, ["Age UK", "Mind", "shelter"]);
    assert.deepEqual(sortOrganisations(undefined), []);
  });
  it("summarises the profile, with the room only where there are rooms", () => {
    assert.deepEqual(profileRows({ organisation: "Mind", sector: "" }, false), [["you.organisation", "Mind"], ["you.sector", null]]);
    assert.deepEqual(profileRows({ room: "A" }, true)[2], ["you.room", "A"]);
  });
  it("lists every answer in programme order, and counts those that need a look", () => {
    const log = new AnswerLog();
    const outbox = new Outbox();
    log.gave({ activity: "q3", id: "m3", value: "late" }, "Q3", "late");
    log.refused("m3", "closed");
    log.gave({ activity: "q1", id: "m1", value: [0] }, "Q1", "A");
    log.refused("m1", "closed");
    for (const [key, value] of [["q2", 5], ["q5", 1]]) {
      const msg = { type: "answer", id: "m-" + key, activity: key, value };
      outbox.add(msg);
      log.gave(msg, key, String(value));
    }
    const answers = new Map([["q4", ["word"]]]);
    const open = (k) => k === "q2" || k === "q3";
    const got = answerLines(log, answers, ["q1", "q2", "q3", "q4", "q5"], (k) => outbox.answerFor(k), open);
    assert.deepEqual(got.lines.map((l) => [l.key, l.state]), [["q1", "refused"], ["q2", "pending"], ["q3", "refused"], ["q4", "saved"], ["q5", "pending"]]);
    assert.deepEqual(got.lines.map((l) => l.given), [[0], 5, "late", ["word"], 1]);
    assert.equal(got.notSaved, 1, "q1: its card is gone; q3's card says so itself");
    assert.equal(got.waiting, 1, "q5: its card is gone; q2 waits on its own card");
  });
  it("shares a card with its required fields, trimmed", () => {
    const typed = { organisation: " Mind ", service: "Advice", offer: "Talk", referral: "Self", contact: "0113", name: "", role: " " };
    const card = cardFrom((f) => typed[f]);
    assert.deepEqual(card, { organisation: "Mind", service: "Advice", offer: "Talk", referral: "Self", contact: "0113" });
    assert.ok(cardComplete(card));
    assert.ok(!cardComplete(cardFrom((f) => (f === "contact" ? "  " : typed[f]))));
    assert.equal(CARD_FIELDS.length, 7);
    assert.deepEqual(cardRows({ offer: "Talk", contact: "0113", name: "Sam", role: "" }),
      [["dir.row_offer", "Talk"], ["dir.row_contact", "0113"], ["dir.row_person", "Sam"]]);
  });
});
