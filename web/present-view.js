/* The presenter screen's pure logic (present.js is its DOM): what the stage shows in each
   phase, which activity a room's screen follows, the evaluation's turn on screen after the
   live part, and the arithmetic of fitting the stage to the screen. Free of the DOM so
   node:test drives it (tests/browser/pages.test.mjs, tests/browser/present-logic.test.mjs). */
import { plural } from "./common.js";

/** Fitting: the type shrinks by `step` at a time, down to `leastWithLists` where a list can
 * show fewer items instead (it stays readable), else down to `leastAlone`. */
export const FIT = Object.freeze({ step: 0.06, leastWithLists: 0.8, leastAlone: 0.56 });

/** The type scales to try, largest first, for a stage with or without lists to shorten. */
export function fitScales(hasLists) {
  var least = hasLists ? FIT.leastWithLists : FIT.leastAlone;
  var scales = [1];
  for (var s = 1; s > least; ) {
    s -= FIT.step;
    scales.push(Number(s.toFixed(2)));
  }
  return scales;
}

/** The line under a shortened list: "and N more" (those hidden plus any the server did not
 * send), or for a text wall which page it is; "" when nothing is hidden. */
export function moreText(fitKind, visible, count, beyond) {
  var hidden = count - visible + (beyond || 0);
  if (fitKind === "texts") return visible + " of " + count + " answers, the next ones in a moment";
  return hidden ? "and " + hidden + " more" : "";
}

/** The activity a room's screen follows: the room's open one (the last in the programme if
 * several), else the last one that was opened; null when none has been. */
export function roomActivity(roomOrder, rows) {
  var open = roomOrder.filter(function (k) { return rows[k] && rows[k].state === "open"; });
  if (open.length) return open[open.length - 1];
  var touched = roomOrder.filter(function (k) { return rows[k] && rows[k].state === "closed"; });
  return touched.length ? touched[touched.length - 1] : null;
}

/** What the stage shows: "ended", "activity:KEY" (the focused activity), "qa" (questions
 * waiting) or "welcome". */
export function stageView(ended, focus, acts, openQuestions) {
  if (ended) return "ended";
  if (focus && acts[focus]) return "activity:" + focus;
  return openQuestions ? "qa" : "welcome";
}

/** How long each activity for after the event stays on screen when there are several. */
export const AFTER_TURN_MS = 15000;

/** The activities for after the event (`window: "after"`) a screen shows in the after phase,
 * in programme order: those opened (open, or closed early by a host), of the plenary and,
 * on a room's screen, of that room. `order` is every activity key in programme order. */
export function afterActivities(order, acts, rows, room) {
  return order.filter(function (k) {
    var a = acts[k], r = rows[k];
    if (!a || a.window !== "after" || !r || (r.state !== "open" && r.state !== "closed")) return false;
    return !a.room || a.room === (room || null);
  });
}

/** What the stage shows in the event's phase: "ended" (closed: thanks), "before" (when it
 * starts), then while live as [stageView] says. After the live part: the activity a host
 * focuses (the main screen), else the evaluation's activities in turn (`turn` counts the
 * turns taken), else "after" (the join screen asking how it went). `focus` is null on a
 * room's screen, which never follows the host's focus. */
export function screenView(phase, ended, focus, acts, openQuestions, afterKeys, turn) {
  if (ended || phase === "closed") return "ended";
  if (phase === "before") return "before";
  if (phase === "after") {
    if (focus && acts[focus]) return "activity:" + focus;
    if (afterKeys.length) return "activity:" + afterKeys[(turn || 0) % afterKeys.length];
    return "after";
  }
  return stageView(false, focus, acts, openQuestions);
}

/** The line above an activity on screen: its session (and room); in the after phase an
 * activity for after the event says it is the evaluation, and which of how many. */
export function eyebrowText(a, phase, afterKeys) {
  var at = phase === "after" ? afterKeys.indexOf(a.key) : -1;
  if (at >= 0) return "Tell us how it went" + (afterKeys.length > 1 ? " · " + (at + 1) + " of " + afterKeys.length : "");
  return (a.sessionTitle || "") + (a.room ? " · " + a.room : "");
}

/** The line on the stage where an activity's results are not shown: results the host has
 * not revealed, or a text activity's answers, which only the focused one's wall shows. */
export function waitingText(kind, state, revealed) {
  if (revealed && kind === "text") return state === "open" ? "Answer on your phone." : "Answers are closed.";
  return state === "open" ? "Answer on your phone. Results appear here when the host reveals them." : "Results appear here when the host reveals them.";
}

/** The count line of an activity on screen: "12 responses so far", "3 signatures from
 * 2 organisations · closed". */
export function countText(kind, total, state, organisations) {
  var noun = kind === "pledge" ? (total === 1 ? "signature" : "signatures") : (total === 1 ? "response" : "responses");
  var from = kind === "pledge" && organisations !== undefined && organisations !== null ? " from " + plural(organisations, "organisation") : "";
  var when = state === "open" ? " so far" : state === "closed" ? " · closed" : " · not open yet";
  return " " + noun + from + when;
}
