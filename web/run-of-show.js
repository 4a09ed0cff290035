/* Run of show: where the day is. Each session is "done", "now", "next" or "later", from
   the activities' states and the Present mode position. Pure. */

function anyOpen(session, rows) {
  return (session.activities || []).some((a) => rows[a.key] && rows[a.key].state === "open");
}

/** Break-out sessions side by side (consecutive sessions each in a room) run together. */
function blockOf(sessions, i) {
  const inRoom = (s) => !!(s && s.room);
  if (!inRoom(sessions[i])) return [i];
  let from = i, to = i;
  while (inRoom(sessions[from - 1])) from--;
  while (inRoom(sessions[to + 1])) to++;
  const block = [];
  for (let k = from; k <= to; k++) block.push(k);
  return block;
}

/**
 * The state of each session: those with an open activity, or `current` (an index, or the
 * indices of the sessions the server has current: the plenary's and each room's), are "now"
 * (with their break-out siblings); those before the last "now" are "done"; the
 * first after it (with its siblings) is "next"; the rest "later". Before the start the
 * first session is next; once the event has ended, every session is done.
 */
export function sessionStates(sessions, rows, current, ended) {
  const list = sessions || [];
  if (ended) return list.map(() => "done");
  const now = new Set();
  list.forEach((s, i) => { if (anyOpen(s, rows || {})) now.add(i); });
  [].concat(current === null || current === undefined ? [] : current).forEach((c) => { if (c >= 0) now.add(c); });
  Array.from(now).forEach((i) => blockOf(list, i).forEach((k) => now.add(k)));
  const last = now.size ? Math.max(...now) : -1;
  const next = new Set(last + 1 < list.length ? blockOf(list, last + 1) : []);
  return list.map((_, i) => (now.has(i) ? "now" : i < last ? "done" : next.has(i) ? "next" : "later"));
}

/**
 * The state of each session after the live part, while the evaluation is open: every
 * session is "done" except those holding an open activity for after the event, which are
 * "now", so that the host finds its card unfolded (to show its results on the screens).
 */
export function afterStates(sessions, rows) {
  const r = rows || {};
  return (sessions || []).map((s) => ((s.activities || []).some((a) => a.window === "after" && r[a.key] && r[a.key].state === "open") ? "now" : "done"));
}

/** One line for a folded session: its activities and their responses. */
export function summary(session, rows) {
  const acts = session.activities || [];
  if (!acts.length) return "A talk";
  const responses = acts.reduce((n, a) => n + ((rows[a.key] && rows[a.key].total) || 0), 0);
  return acts.length + (acts.length === 1 ? " activity" : " activities") + " · " + responses + (responses === 1 ? " response" : " responses");
}
