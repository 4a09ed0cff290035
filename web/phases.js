/* The event's phases (before, live, after, closed) and its Q&A per session, as the three
   pages read them from the wire (docs/protocol.md "Phases ... and a Q&A per session"):
   which phase an event is in, what the attendee may do in it, the sessions an attendee may
   see and ask in, and the questions grouped by session. Pure: the pages put the words on
   it (the attendee's through web/i18n.js), and node:test drives it
   (tests/browser/phases-logic.test.mjs). */

export const PHASES = Object.freeze(["before", "live", "after", "closed"]);

/** obj[key] if it is obj's own (a room or session named "constructor" is just a name). */
function own(obj, key) {
  return obj && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** The phase of an event from what the server said (`phase` in GET /api/events/{code},
 * `welcome`, `snapshot` and the `phase` frame); a server that predates phases says only
 * `state`, which is "ended" once closed. */
export function phaseOf(facts) {
  if (facts && PHASES.indexOf(facts.phase) >= 0) return facts.phase;
  return facts && facts.state === "ended" ? "closed" : "live";
}

/** Whether questions are taken now in the `before` phase: from `opens_at` (an event without
 * one takes none before it starts). */
export function advanceOpen(facts, now) {
  if (!facts || !facts.opens_at) return false;
  var at = Date.parse(facts.opens_at);
  return !isNaN(at) && at <= now;
}

/** A date and time as a person reads it, in their language and time zone:
 * {time: "09:30", date: "23 November"}; null for no date. */
export function when(iso, lang, timeZone) {
  var at = iso ? new Date(iso) : null;
  if (!at || isNaN(at.getTime())) return null;
  var zone = timeZone ? { timeZone: timeZone } : {};
  return {
    time: new Intl.DateTimeFormat(lang, Object.assign({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, zone)).format(at),
    date: new Intl.DateTimeFormat(lang, Object.assign({ day: "numeric", month: "long" }, zone)).format(at)
  };
}

/** What the attendee's page says of the phase, as a catalogue key and its values:
 * before: when the event starts and whether questions are open yet; after: the evaluation;
 * closed: thanks. null while live (nothing to say). */
export function attendeeNotice(facts, now, lang, timeZone) {
  var phase = phaseOf(facts);
  if (phase === "live") return null;
  if (phase === "closed") return { key: "phase.closed", vars: {} };
  if (phase === "after") {
    var until = when(facts.closes_at, lang, timeZone);
    return until ? { key: "phase.after_until", vars: until } : { key: "phase.after", vars: {} };
  }
  var starts = when(facts.starts_at, lang, timeZone);
  if (advanceOpen(facts, now)) {
    return starts ? { key: "phase.before_open", vars: starts } : { key: "phase.before_open_soon", vars: {} };
  }
  var opens = when(facts.opens_at, lang, timeZone);
  if (opens) return { key: "phase.before_opens", vars: { time: opens.time, date: opens.date, start_time: starts ? starts.time : "", start_date: starts ? starts.date : "" } };
  return starts ? { key: "phase.before", vars: starts } : { key: "phase.before_soon", vars: {} };
}

/** Whether the attendee may ask (and upvote) in this phase. */
export function canAsk(facts, now) {
  var phase = phaseOf(facts);
  return phase === "live" || (phase === "before" && advanceOpen(facts, now));
}

/** The sessions an attendee may see: the plenary ones and those of their room, in
 * programme order. */
export function visibleSessions(sessions, room) {
  return (sessions || []).filter(function (s) { return !s.room || (room && s.room === room); });
}

/** The current sessions as the wire gives them (`current` of welcome, snapshot and the
 * `session` frame), never undefined. */
export function currentOf(m) {
  var c = (m && m.current) || {};
  return { plenary: c.plenary || null, rooms: c.rooms && typeof c.rooms === "object" ? c.rooms : {} };
}

/** The session a question goes to by default, as the server picks it: the attendee's
 * room's current session, else the plenary's, else none (the event as a whole). */
export function defaultSession(current, room) {
  var c = current || { plenary: null, rooms: {} };
  return (room && own(c.rooms, room)) || c.plenary || null;
}

/** Whether to ask the attendee to choose a room: a room session is current, the event has
 * rooms and they chose none. */
export function needsRoom(current, room, rooms) {
  if (room || !rooms || !rooms.length || !current || !current.rooms) return false;
  return Object.keys(current.rooms).some(function (r) { return !!current.rooms[r]; });
}

/** Questions grouped by session: the current ones first (the attendee's room's, then the
 * plenary's), then the others in programme order, then the event as a whole (`session:
 * null`). Each group: {session, title, room, now, questions}, questions most votes first
 * (then in the order given). A question of a session not in `sessions` joins the event as a
 * whole. `wholeTitle` names that group. */
export function groupBySession(questions, sessions, current, room, wholeTitle) {
  var byKey = Object.create(null);
  (sessions || []).forEach(function (s, i) { byKey[s.key] = { s: s, i: i }; });
  var nowKeys = [];
  var c = current || { plenary: null, rooms: {} };
  if (room && own(c.rooms, room)) nowKeys.push(own(c.rooms, room));
  if (c.plenary && nowKeys.indexOf(c.plenary) < 0) nowKeys.push(c.plenary);
  var groups = Object.create(null);
  (questions || []).forEach(function (q, order) {
    var key = q.session && byKey[q.session] ? q.session : null;
    var id = key === null ? "" : key;
    if (!groups[id]) {
      var s = key === null ? null : byKey[key].s;
      groups[id] = { session: key, title: s ? s.title : wholeTitle, room: s ? s.room || null : null, now: nowKeys.indexOf(key) >= 0, questions: [] };
    }
    groups[id].questions.push({ q: q, order: order });
  });
  var list = Object.keys(groups).map(function (id) { return groups[id]; });
  list.forEach(function (g) {
    g.questions = g.questions.sort(function (x, y) { return (y.q.votes || 0) - (x.q.votes || 0) || x.order - y.order; })
      .map(function (x) { return x.q; });
  });
  var rank = function (g) {
    var n = nowKeys.indexOf(g.session);
    if (n >= 0) return n;
    if (g.session === null) return 1e6;
    return 1000 + byKey[g.session].i;
  };
  return list.sort(function (x, y) { return rank(x) - rank(y); });
}

/** Whether a presenter's screen shows a `questions` frame: the main screen (room null)
 * takes the plenary's (room null or absent), a room's screen only its room's. */
export function questionsFor(frame, room) {
  var r = frame && frame.room ? frame.room : null;
  return r === (room || null);
}

/** The session a presenter's screen shows questions of: the room's current one on a room's
 * screen, else the plenary's; null when none is current. */
export function screenSession(current, room) {
  var c = current || { plenary: null, rooms: {} };
  if (room) return own(c.rooms, room) || null;
  return c.plenary || null;
}

/** The host's question queue for one session filter: `filter` is "all", "" (the event as a
 * whole) or a session key. Under "all", the current sessions' questions come first (in the
 * queue's own order within them), then the rest. `items` are queues.js's question items. */
export function hostQuestions(items, filter, current) {
  var c = current || { plenary: null, rooms: {} };
  var now = [c.plenary].concat(Object.keys(c.rooms || {}).map(function (r) { return c.rooms[r]; })).filter(Boolean);
  var sessionOf = function (i) { return i.data.session || ""; };
  if (filter !== "all") return items.filter(function (i) { return sessionOf(i) === filter; });
  var first = items.filter(function (i) { return now.indexOf(sessionOf(i)) >= 0; });
  return first.concat(items.filter(function (i) { return now.indexOf(sessionOf(i)) < 0; }));
}

/** The host's phase step: the header's button, its confirmation and the command it sends.
 * `closesAt` (ISO or null) decides whether ending the live part leads to an evaluation. */
export function hostPhaseStep(phase, closesAt, now) {
  var evaluation = !!closesAt && Date.parse(closesAt) > now;
  if (phase === "before") return { command: "start", label: "Start the event", title: "Start the event now?",
    text: "The event goes live for everyone: attendees can answer what you open, and the questions sent in advance wait for their sessions.", confirm: "Start the event" };
  if (phase === "live" && evaluation) return { command: "end", label: "End the live part…", title: "End the live part now?",
    text: "Every open activity closes, the Q&A closes, and the activities for after the event open on attendees' phones until the evaluation closes.", confirm: "End the live part" };
  if (phase === "live") return { command: "end", label: "End the event…", title: "End the event now?",
    text: "Every open activity closes, attendees see a thank-you, and nobody can answer any more. This cannot be undone.", confirm: "End the event" };
  if (phase === "after") return { command: "end", label: "Close the evaluation…", title: "Close the evaluation now?",
    text: "The activities for after the event close, attendees see a thank-you, and nobody can answer any more. This cannot be undone.", confirm: "Close the evaluation" };
  return null;
}

/** The phase in the host's words, for the sticky header. */
export function hostPhaseName(phase) {
  return { before: "Before the event", live: "Live", after: "Evaluation open", closed: "Closed" }[phase] || phase;
}
