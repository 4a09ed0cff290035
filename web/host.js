/* Joinup host dashboard: the run of show with live results, Present mode (one key for the
   next step), attendance by room, moderation queues and the safeguarding view, reports, and
   ending the event. The host token comes from the URL fragment.
   The pure logic lives in present-mode.js, run-of-show.js, queues.js and room-rates.js; the
   run of show's DOM in host-programme.js, moderation's in host-moderation.js. */
import { steps, position, forward, back, describe, describeDone } from "./present-mode.js";
import { roomsNow } from "./room-rates.js";
import { buildProgramme, updateSessions } from "./host-programme.js";
import { moderation } from "./host-moderation.js";
import * as J from "./common.js";
import { describeTally, hostReactions } from "./charts.js";
import { phaseOf, currentOf, hostPhaseStep, hostPhaseName, when } from "./phases.js";

const el = J.el;
const $ = J.$;

const ctx = {
  code: J.codeFromPath(),
  event: { sessions: [], rooms: [] },
  acts: J.table(),
  rows: J.table(),
  ui: J.table(),
  sessionUI: [],
  sessionOf: J.table(),
  items: J.table(), // "question:ID" -> {kind, data, seq}
  focus: null,
  attendance: { present: 0, joined: 0, peak: 0, by_organisation: {}, by_sector: {}, rooms: {} },
  eventState: "live",
  /** The event's phase (before, live, after, closed) and its current sessions, from the server. */
  phase: "live",
  current: { plenary: null, rooms: {} },
  /** Whether the server speaks of phases and sessions (one that predates them does not). */
  phased: false,
  safeguarding: null,
  walk: [],
  row(key) { return J.own(ctx.rows, key) || { state: "ready", revealed: false, total: 0 }; },
  position() { return position(ctx.walk, ctx.rows, ctx.focus); },
  /** The session of the current Present mode step (-1 before the start). */
  currentSession() { const st = ctx.walk[ctx.position()]; return st ? st.session : -1; },
  command,
  renderFeed,
};
const token = J.fragmentToken();
let arrival = 0, nextId = 1, sock = null, presenting = false, stepping = false;
const pending = J.table(); // command id -> button
const mod = moderation(ctx);

J.setText($("#event-code"), ctx.code);

function fail(text) {
  const n = $("#host-error");
  J.setText(n, text);
  n.hidden = !text;
}

if (!token) {
  fail("This link has no access key. Open the host link exactly as it was given to you (the part after # is the key).");
  $("#conn").setAttribute("data-state", "stopped");
  J.setText($("#conn"), "Not connected");
  J.clear($("#programme"));
} else {
  sock = J.staffSocket("/ws/host/" + ctx.code, token, {
    status(s) {
      const c = $("#conn");
      const text = { connecting: "Connecting…", live: ctx.eventState === "ended" ? "Event ended" : "Live", reconnecting: "Reconnecting…", unauthorized: "Access key refused", ended: "Event ended" }[s] || s;
      J.setText(c, text);
      c.setAttribute("data-state", s === "live" && ctx.eventState !== "ended" ? "live" : s === "unauthorized" ? "stopped" : "waiting");
      if (s === "unauthorized") fail("The server refused this access key: it is not this event's, or it has been revoked. Ask the organiser for a new link.");
      if (s !== "live") Object.keys(pending).forEach(done);
      // Closed by the server because the event is over (a host's end, or the evaluation's
      // closes_at passing): the page says so, whoever ended it.
      if (s === "ended" && ctx.eventState !== "ended") { ctx.eventState = "ended"; ctx.phase = "closed"; applyEnded(); }
    },
    message: onMessage,
  });
}

function command(msg, btn) {
  msg.id = nextId++;
  if (!sock || !sock.send(msg)) { fail("Not connected right now: try again in a moment."); return false; }
  fail("");
  pending[msg.id] = btn || null;
  if (btn) { btn.disabled = true; btn.setAttribute("aria-busy", "true"); }
  return true;
}
function done(id) {
  const btn = pending[id];
  delete pending[id];
  if (btn) { btn.removeAttribute("aria-busy"); btn.disabled = ctx.eventState === "ended" && !btn.hasAttribute("data-always"); }
  if (!Object.keys(pending).length) stepping = false;
}

function onMessage(m) {
  switch (m.type) {
    case "authorised": applyRole(m); break;
    case "snapshot": onSnapshot(m); break;
    case "tally":
      if (!J.own(ctx.rows, m.activity)) return;
      ctx.rows[m.activity].tally = m.tally;
      ctx.rows[m.activity].total = m.tally ? m.tally.total : 0;
      updateActivity(m.activity, true);
      break;
    case "activity":
      if (!J.own(ctx.rows, m.activity)) return;
      Object.assign(ctx.rows[m.activity], { state: m.state, revealed: m.revealed, total: m.total });
      updateActivity(m.activity, false);
      updateRun();
      break;
    case "focus":
      ctx.focus = m.activity ? m.activity.key : null;
      Object.keys(ctx.ui).forEach((k) => updateActivity(k, false));
      updateRun();
      break;
    case "attendance": ctx.attendance = m; renderAttendance(); break;
    case "question": upsert("question", m.question, true); mod.render(); break;
    case "text":
      if (m.replaces) delete ctx.items["text:" + m.replaces];
      upsert("text", m, true);
      mod.render();
      renderFeed(m.activity);
      break;
    case "card": upsert("card", m.card, true); mod.render(); break;
    case "reactions": hostReactions(m, (on, btn) => command({ type: "show_reactions", show: on }, btn)); break;
    case "phase":
      ctx.phased = true;
      ctx.phase = phaseOf(m);
      if (m.closes_at) ctx.event.closes_at = m.closes_at;
      if (ctx.phase === "closed") ctx.eventState = "ended";
      J.announce("The event is now: " + hostPhaseName(ctx.phase) + ".");
      applyEnded();
      Object.keys(ctx.ui).forEach((k) => ctx.ui[k].update(false));
      break;
    case "session":
      ctx.current = currentOf(m);
      updateRun();
      mod.render();
      break;
    case "ok":
      done(m.id);
      // An end with an evaluation to follow moves the event to its after phase (a `phase`
      // frame says so); otherwise, or from the after phase, it is over.
      if (m["for"] === "end" && !endLeadsToEvaluation) {
        ctx.eventState = "ended";
        ctx.phase = "closed";
        applyEnded();
      }
      break;
    case "error":
      if (m.id !== undefined) done(m.id);
      fail(m.message || "That did not work (" + m.code + ").");
      break;
    default: break;
  }
}

/** What this dashboard's key allows: a moderator's hides what it cannot use. */
function applyRole(m) {
  const moderator = m.role === "moderator";
  $("#end-card").hidden = moderator;
  $("#moderator-note").hidden = !moderator;
  const csv = document.querySelector('[data-report="answers.csv"]');
  if (csv) csv.hidden = moderator;
  const chip = $("#role-chip");
  const name = { host: "Host", moderator: "Moderator", presenter: "Presenter" }[m.role] || "";
  J.setText(chip, m.label ? name + ": " + m.label : moderator ? name : "");
  chip.hidden = !chip.textContent;
}

function onSnapshot(m) {
  ctx.eventState = m.state || "live";
  ctx.phase = phaseOf(m);
  ctx.phased = m.phase !== undefined;
  ctx.current = currentOf(m);
  ctx.event = m.event;
  ctx.acts = J.indexEvent(m.event);
  ctx.walk = steps(m.event.sessions);
  ctx.safeguarding = m.safeguarding || null;
  J.setText($("#event-title"), m.event.title);
  document.title = m.event.title + " · Host · Joinup";
  ctx.rows = J.table();
  (m.activities || []).forEach((r) => { ctx.rows[r.key] = r; });
  ctx.focus = m.focus || null;
  ctx.attendance = m.attendance || ctx.attendance;
  ctx.items = J.table();
  (m.questions || []).forEach((q) => upsert("question", q, false));
  (m.texts || []).forEach((t) => upsert("text", t, false));
  (m.cards || []).forEach((c) => upsert("card", c, false));
  buildProgramme(ctx);
  renderScreens();
  renderAttendance();
  mod.render();
  updateRun();
  applyEnded();
  fail("");
}

function applyEnded() {
  const ended = ctx.eventState === "ended";
  renderPhase();
  $("#ended-banner").hidden = !ended;
  $("#end-open").disabled = ended;
  $("#pm-toggle").disabled = ended;
  if (ended) { J.setText($("#conn"), "Event ended"); $("#conn").setAttribute("data-state", "waiting"); }
  if (ended && presenting) setPresenting(false);
  document.querySelectorAll("#programme button, #modlist button, #batch button").forEach((b) => { if (ended) b.disabled = true; });
  updateSessions(ctx);
}

function upsert(kind, data, live) {
  const key = kind + ":" + data.id;
  const old = ctx.items[key];
  ctx.items[key] = { kind, data, seq: old ? old.seq : arrival++ };
  mod.noteArrival(kind, data, live && !old);
}

// ------------------------------------------------------------------ run of show

let lastSpoken = null;
function updateActivity(key, withTally) {
  const u = ctx.ui[key];
  if (!u) return;
  u.update(withTally);
  const r = ctx.rows[key];
  if (withTally && r && r.tally && (ctx.focus === key || !ctx.focus) && r.state === "open") {
    const text = describeTally(ctx.acts[key], r.tally);
    if (text !== lastSpoken) { lastSpoken = text; J.announce(text); }
  }
}

function updateRun() {
  if (!ctx.sessionUI.length) return;
  updateSessions(ctx);
  const pos = ctx.position();
  const prompt = (st) => (st && ctx.acts[st.key] ? ctx.acts[st.key].prompt : "");
  const now = ctx.walk[pos], next = ctx.walk[pos + 1];
  J.setText($("#pm-now"), describeDone(now, prompt(now)));
  J.setText($("#pm-next"), describe(next, prompt(next)));
  $("#pm-forward").disabled = !next || ctx.eventState === "ended";
  $("#pm-back").disabled = !now || ctx.eventState === "ended";
}

function renderFeed(activity) {
  const u = ctx.ui[activity];
  if (!u || !u.feed) return;
  const list = J.clear(u.feed);
  const texts = Object.keys(ctx.items).map((k) => ctx.items[k])
    .filter((i) => i.kind === "text" && i.data.activity === activity)
    .sort((x, y) => y.seq - x.seq);
  texts.slice(0, 6).forEach((i) => {
    const d = i.data;
    list.appendChild(el("li", { class: d.concern ? "concern" : d.flagged ? "flagged" : null },
      d.concern ? el("span", { class: "badge danger", text: "Safeguarding" }) : d.flagged ? el("span", { class: "badge danger", text: "⚑ Flagged" }) : null,
      d.state === "hidden" ? el("span", { class: "badge", text: "Hidden" }) : null,
      " ", el("span", { text: d.concern ? "Held for the safeguarding lead (see Moderation)" : d.text })));
  });
  if (texts.length > 6) list.appendChild(el("li", { class: "muted", text: "and " + (texts.length - 6) + " more in Moderation" }));
}

// ------------------------------------------------------------------ Present mode

function setPresenting(on) {
  presenting = on;
  $("#pm-bar").hidden = !on;
  $("#pm-toggle").setAttribute("aria-pressed", on ? "true" : "false");
  document.body.classList.toggle("presenting", on);
  if (on) updateRun();
}

function step(dir) {
  if (stepping || ctx.eventState === "ended") return;
  const pos = ctx.position();
  const commands = dir > 0 ? forward(ctx.walk, pos, ctx.rows, ctx.focus) : back(ctx.walk, pos, ctx.rows, ctx.focus);
  if (!commands.length) return;
  const target = ctx.walk[dir > 0 ? pos + 1 : pos];
  stepping = true;
  if (!commands.every((c) => command(c, null))) { stepping = false; return; }
  const prompt = target && ctx.acts[target.key] ? ctx.acts[target.key].prompt : "";
  J.announce(dir > 0 ? describe(target, prompt).replace(/^Open/, "Opened").replace(/^Show/, "Showing") : "Back: " + describe(target, prompt) + " undone");
  const u = ctx.ui[target.key];
  if (u) u.node.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

$("#pm-toggle").addEventListener("click", () => setPresenting(!presenting));
$("#pm-forward").addEventListener("click", () => step(1));
$("#pm-back").addEventListener("click", () => step(-1));
document.addEventListener("keydown", (e) => {
  if (!presenting || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
  const t = e.target;
  const typing = t && (t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName) ||
    (t.tagName === "INPUT" && !/^(checkbox|radio|button|submit)$/.test(t.type)));
  // Space keeps its meaning on a control that has focus (it presses that button).
  const control = t && /^(BUTTON|A|SUMMARY|INPUT|TEXTAREA|SELECT)$/.test(t.tagName);
  if (typing || document.querySelector("dialog[open]")) return;
  if (e.key === "ArrowRight" || (e.key === " " && !control)) { e.preventDefault(); step(1); }
  else if (e.key === "ArrowLeft") { e.preventDefault(); step(-1); }
});

// ------------------------------------------------------------------ attendance and screens

const breakdowns = J.table();
function breakdown(box, map, caption) {
  let b = breakdowns[box];
  if (!b) {
    b = breakdowns[box] = { list: el("ul", { class: "bars" }), rows: new Map(), body: el("tbody") };
    $(box).append(b.list, el("details", { class: "table-alt" }, el("summary", { text: "Show as a table" }),
      el("table", {}, el("caption", { text: caption }),
        el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Name" }), el("th", { scope: "col", class: "n", text: "People" }))), b.body)));
  }
  const count = new Map(Object.entries(map));
  const names = Array.from(count.keys()).sort((x, y) => count.get(y) - count.get(x) || x.localeCompare(y));
  let max = 1;
  names.forEach((n) => { max = Math.max(max, count.get(n)); });
  names.forEach((n) => {
    let r = b.rows.get(n);
    if (!r) {
      r = { value: el("span", { class: "bar-value" }), fill: el("span", { class: "bar-fill" }) };
      b.rows.set(n, r);
      r.li = el("li", { class: "bar-row" }, el("span", { class: "bar-label", text: n }), r.value,
        el("span", { class: "bar-track", "aria-hidden": "true" }, r.fill));
    }
    J.setText(r.value, String(count.get(n)));
    r.fill.style.width = Math.round((count.get(n) * 100) / max) + "%";
    if (b.list.lastChild !== r.li) b.list.appendChild(r.li);
  });
  Array.from(b.rows.keys()).forEach((n) => { if (!count.has(n)) { b.rows.get(n).li.remove(); b.rows.delete(n); } });
  J.clear(b.body);
  names.forEach((n) => b.body.appendChild(el("tr", {}, el("th", { scope: "row", text: n }), el("td", { class: "n", text: String(count.get(n)) }))));
  if (!names.length && !b.none) { b.none = el("p", { class: "muted", text: "Nobody yet." }); $(box).prepend(b.none); }
  if (b.none) b.none.hidden = names.length > 0;
}

function renderAttendance() {
  const a = ctx.attendance;
  J.setText($("#att-present"), String(a.present || 0));
  J.setText($("#att-here"), String(a.present || 0));
  J.setText($("#att-joined"), String(a.joined || 0));
  J.setText($("#att-peak"), String(a.peak || a.present || 0));
  const rooms = roomsNow(ctx.event.rooms, a);
  const header = J.clear($("#rooms-now"));
  rooms.forEach((r) => header.appendChild(el("li", {}, r.room + " ", el("strong", { text: String(r.present) }))));
  const side = J.clear($("#att-rooms"));
  if (rooms.length) {
    side.appendChild(el("ul", { class: "room-stats", "aria-label": "In each room now" },
      rooms.map((r) => el("li", {}, el("span", { class: "stat-label", text: r.room }), " ", el("strong", { text: String(r.present) })))));
  }
  breakdown("#att-sector", a.by_sector || {}, "Joined by sector");
  breakdown("#att-org", a.by_organisation || {}, "Joined by organisation");
  Object.keys(ctx.ui).forEach((k) => ctx.ui[k].update(false));
}

function renderScreens() {
  const list = J.clear($("#screens"));
  const path = "/present/" + ctx.code;
  list.appendChild(el("li", {}, el("strong", { text: "Main screen" }), " ", el("code", { text: path + "#…" })));
  (ctx.event.rooms || []).forEach((room) => {
    list.appendChild(el("li", {}, el("strong", { text: room }), " ", el("code", { text: path + "?room=" + encodeURIComponent(room) + "#…" })));
  });
}

// ------------------------------------------------------------------ reports

// The themes page takes the same access key, in its fragment (never sent to the server).
const themesLink = document.getElementById("themes-link");
if (themesLink && token) {
  themesLink.href = "/host/" + encodeURIComponent(ctx.code) + "/themes#" + encodeURIComponent(token);
}

document.querySelectorAll("[data-report]").forEach((b) => {
  b.setAttribute("data-always", "1");
  b.addEventListener("click", () => {
    const file = b.getAttribute("data-report");
    const st = $("#rep-state");
    st.setAttribute("data-state", "pending");
    J.setText(st, "Preparing " + file + "…");
    b.disabled = true;
    fetch("/api/events/" + ctx.code + "/" + file, { headers: { Authorization: "Bearer " + token }, cache: "no-store" })
      .then((r) => {
        if (!r.ok) throw new Error(r.status === 401 ? "the access key was refused" : r.status === 404 ? "it is not available on this server yet" : "the server answered " + r.status);
        return r.blob();
      })
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        const a = el("a", { href: url, download: "joinup-" + ctx.code + "-" + file });
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
        st.setAttribute("data-state", "saved");
        J.setText(st, "Downloaded " + file + " ✓");
      })
      .catch((e) => {
        st.setAttribute("data-state", "error");
        J.setText(st, "Could not download " + file + ": " + (e && e.message ? e.message : "network error") + ".");
      })
      .then(() => { b.disabled = false; });
  });
});

// ------------------------------------------------------------------ phases and the end

/** The phase in the sticky header, with its one next step (start, end the live part, close
 * the evaluation); the side card's button ends the live part or the event. */
function renderPhase() {
  const phase = ctx.eventState === "ended" ? "closed" : ctx.phase;
  const chip = $("#phase-chip");
  // While live, the connection's "Live" says it already; before, after and closed say more.
  chip.hidden = !ctx.phased || phase === "live";
  // "Live" is the connection's word while the event is live; before or after it, "Connected".
  const conn = $("#conn");
  if (ctx.phased && conn.getAttribute("data-state") === "live") J.setText(conn, phase === "live" ? "Live" : "Connected");
  chip.setAttribute("data-phase", phase);
  J.setText($("#phase-name"), hostPhaseName(phase));
  const ev = ctx.event || {};
  const at = phase === "before" ? when(ev.starts_at, "en-GB") : phase === "after" ? when(ev.closes_at, "en-GB") : null;
  J.setText($("#phase-when"), at ? (phase === "before" ? " · starts " : " · until ") + at.time + ", " + at.date : "");
  const step = hostPhaseStep(phase, ev.closes_at, Date.now());
  const action = $("#phase-action");
  // Ending an event with no evaluation stays in the side card, as it always was.
  action.hidden = !ctx.phased || !step || (phase === "live" && step.label === "End the event…");
  if (step) {
    J.setText(action, step.label);
    action.className = "btn small" + (step.command === "end" ? " danger-outline" : "");
  }
  const end = hostPhaseStep(phase === "before" ? "live" : phase, ev.closes_at, Date.now());
  if (end) {
    J.setText($("#end-open"), end.label);
    J.setText($("#end-title"), phase === "after" ? "Close the evaluation" : "End the event");
    J.setText($("#end-hint"), end.text);
  } else if (ctx.phased) {
    J.setText($("#end-open"), "End the event…");
    J.setText($("#end-title"), "End the event");
    J.setText($("#end-hint"), "The event has ended: nobody can answer any more.");
  }
}

const dialog = $("#end-dialog");
let confirming = null;
/** Whether the last `end` sent moves the event to its evaluation rather than closing it. */
let endLeadsToEvaluation = false;
function sendStep(step, btn) {
  if (step.command === "end") endLeadsToEvaluation = ctx.phase !== "after" && !!ctx.event.closes_at && Date.parse(ctx.event.closes_at) > Date.now();
  // `from`: a second press or a retry after the event moved on takes no second step.
  command(step.command === "end" ? { type: "end", from: ctx.phase } : { type: step.command }, btn);
}
function confirmStep(useEnd, btn) {
  const phase = ctx.phase;
  const step = useEnd ? hostPhaseStep(phase === "before" ? "live" : phase, ctx.event.closes_at, Date.now()) : hostPhaseStep(phase, ctx.event.closes_at, Date.now());
  if (!step) return;
  confirming = { step, btn };
  J.setText($("#end-dialog-title"), step.title);
  J.setText($("#end-dialog-text"), step.text);
  J.setText($("#end-confirm"), step.confirm);
  J.setText($("#end-cancel"), step.command === "start" ? "Not yet" : "Keep it running");
  $("#end-confirm").className = "btn " + (step.command === "start" ? "" : "danger");
  if (typeof dialog.showModal === "function") dialog.showModal();
  else if (window.confirm(step.title)) sendStep(step, btn);
}
$("#end-open").addEventListener("click", () => confirmStep(true, $("#end-open")));
$("#phase-action").addEventListener("click", () => confirmStep(false, $("#phase-action")));
$("#end-cancel").addEventListener("click", () => { dialog.close(); if (confirming) confirming.btn.focus(); });
$("#end-confirm").addEventListener("click", () => {
  dialog.close();
  if (confirming) sendStep(confirming.step, confirming.btn);
});
