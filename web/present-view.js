/* The presenter screen's pure logic (present.js is its DOM): what the stage shows, which
   activity a room's screen follows, and the arithmetic of fitting the stage to the screen.
   Free of the DOM so node:test drives it (tests/browser/present.test.mjs). */
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

/** The count line of an activity on screen: "12 responses so far", "3 signatures from
 * 2 organisations · closed". */
export function countText(kind, total, state, organisations) {
  var noun = kind === "pledge" ? (total === 1 ? "signature" : "signatures") : (total === 1 ? "response" : "responses");
  var from = kind === "pledge" && organisations !== undefined && organisations !== null ? " from " + plural(organisations, "organisation") : "";
  var when = state === "open" ? " so far" : state === "closed" ? " · closed" : " · not open yet";
  return " " + noun + from + when;
}
