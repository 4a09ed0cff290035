/* Joinup presenter screen: the join code and QR (a join bar once something is on screen),
   the activity the host focuses with its response count and its results once revealed (a
   wall of approved texts, a pledge's wording and who signed it), the questions from the room
   when nothing is focused, and thanks once the event has ended. Read-only.
   It never scrolls and never cuts: after each change fit() shrinks the type, then shows the
   top of each long list with "and N more" (a text wall pages through instead).
   With ?room=NAME it is that break-out room's screen: it follows the room's own activity
   (the open one, else the last one opened) instead of the host's focus, and shows the
   room's current session's questions, never the plenary's. A presenter link issued for a
   room binds the screen to that room on the server: the `authorised` frame names it, and
   it wins over whatever ?room= the address says.
   The event's phase decides the rest: before, a join screen with when it starts; after the
   live part, the evaluation's activities (`window: "after"`) in turn, each with its count
   and its results once revealed, the QR in the join bar for latecomers ("Tell us how it
   went" with the QR while none is open; the host's focus still wins on the main screen);
   closed, thanks. */
import * as J from "./common.js";
import { chart as resultChart, describeTally, presentReactions } from "./charts.js";
import { fitScales, moreText, roomActivity, screenView, afterActivities, eyebrowText, waitingText, countText, AFTER_TURN_MS } from "./present-view.js";
import { phaseOf, currentOf, questionsFor, screenSession, when } from "./phases.js";

var el = J.el, $ = J.$;
var code = J.codeFromPath();
var token = J.fragmentToken();
var acts = J.table(), rows = J.table(), focus = null, questions = [], questionsTotal = 0;
var title = "", ended = false, wall = { activity: null, texts: [] }, wallFrom = 0, wallTimer = null;
var shown = { key: undefined, chart: null, count: null, body: null, hasChart: false, note: null };
/* The activity on the stage (the focus, a room's own, or the evaluation's turn), or null. */
var onStage = null;
/* After the live part: how many turns the evaluation's activities have taken on screen. */
var afterTurn = 0, afterTimer = null;
/* How long one page of a text wall stays up when there are more than fit. */
var WALL_PAGE_MS = 12000;
/* A break-out room's screen (?room=NAME, or the room the link is bound to), or null for
   the main screen. */
var room = new URLSearchParams(location.search).get("room") || null;
/* Whether the server bound this screen to `room` (it then sends only that room's
   questions, in the snapshot too). */
var bound = false;
var roomOrder = [];
/** The event's phase, its current sessions, its sessions by key and its start and end. */
var phase = "live", current = { plenary: null, rooms: {} }, sessionsByKey = J.table(), eventFacts = {};
var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

J.setText($("#join-code"), code);
J.setText($("#join-url"), location.host);
$("#qr").src = "/api/events/" + code + "/qr.svg";
// The address inside the QR is the server's public URL, which may differ from the one
// this screen was opened at: show the same one in words.
fetch("/api/events/" + code).then(function (r) { return r.ok ? r.json() : null; }).then(function (facts) {
  if (facts && facts.attend_url) {
    J.setText($("#join-url"), facts.attend_url.replace(/^https?:\/\//, "").replace(/\/e\/[A-Za-z0-9]+$/, ""));
    fitSoon();
  }
}).catch(function () {});
window.addEventListener("resize", fitSoon);

if (!token) {
  J.setText($("#stage-waiting"), "This link has no access key. Open the presenter link exactly as it was given to you.");
  J.setText($("#conn"), "Not connected");
  $("#conn").setAttribute("data-state", "stopped");
} else J.staffSocket("/ws/present/" + code, token, {
  status: function (s) {
    var text = { connecting: "Connecting…", live: ended ? "Event ended" : "Live", reconnecting: "Reconnecting…", unauthorized: "Access key refused", ended: "Event ended" }[s] || s;
    J.setText($("#conn"), text);
    $("#conn").setAttribute("data-state", s === "live" && !ended ? "live" : s === "unauthorized" ? "stopped" : "waiting");
    if (s === "unauthorized") J.setText($("#stage-waiting"), "The server refused this access key.");
    if (s === "ended" && !ended) { ended = true; render(); }
  },
  message: function (m) {
    switch (m.type) {
      case "authorised":
        if (m.room) { room = m.room; bound = true; }
        break;
      case "snapshot":
        acts = J.indexEvent(m.event);
        roomOrder = Object.keys(acts).filter(function (k) { return acts[k].room === room; });
        title = m.event.title + (room ? " · " + room : "");
        ended = m.state === "ended";
        phase = ended ? "closed" : phaseOf(m);
        current = currentOf(m);
        eventFacts = m.event;
        sessionsByKey = J.table();
        (m.event.sessions || []).forEach(function (s) { sessionsByKey[s.key] = s; });
        J.setText($("#event-title"), title);
        document.title = title + " · Presenter · Joinup";
        if (ended) { J.setText($("#conn"), "Event ended"); $("#conn").setAttribute("data-state", "waiting"); }
        rows = J.table();
        (m.activities || []).forEach(function (r) { rows[r.key] = r; });
        focus = m.focus || null;
        // The snapshot's questions are the main screen's (a room's follow in their own
        // frame), or the room's when the server bound this screen to it.
        var mine = !room || bound;
        questions = mine ? m.questions || [] : [];
        questionsTotal = !mine ? 0 : m.questions_total === undefined ? questions.length : m.questions_total;
        count(m.attendance);
        shown.key = undefined;
        render();
        break;
      case "focus":
        if (room) {
          if (m.activity) rows[m.activity.key] = Object.assign(rows[m.activity.key] || {}, m.activity);
          render();
          break;
        }
        focus = m.activity ? m.activity.key : null;
        if (m.activity) rows[focus] = Object.assign(rows[focus] || {}, m.activity);
        render();
        break;
      case "count":
        if (rows[m.activity]) rows[m.activity].total = m.total;
        render();
        break;
      case "results":
        if (rows[m.activity]) { rows[m.activity].tally = m.tally; rows[m.activity].revealed = !!m.tally; }
        render();
        if (m.tally && m.activity === onStage) J.announce("Results. " + describeTally(acts[onStage], m.tally));
        break;
      case "activity":
        if (room && !rows[m.activity] && acts[m.activity]) rows[m.activity] = {};
        if (rows[m.activity]) {
          rows[m.activity].state = m.state;
          rows[m.activity].revealed = m.revealed;
          rows[m.activity].total = m.total;
          if (!m.revealed) rows[m.activity].tally = null;
        }
        render();
        break;
      case "wall":
        if (wall.activity !== m.activity) wallFrom = 0;
        wall = { activity: m.activity, texts: m.texts || [] };
        if (shown.wall) { shown.wall = null; shown.hasChart = false; }
        render();
        break;
      case "questions":
        if (!questionsFor(m, room)) break;
        questions = m.questions || [];
        questionsTotal = m.total === undefined ? questions.length : m.total;
        render();
        break;
      case "phase":
        phase = phaseOf(m);
        if (m.closes_at) eventFacts.closes_at = m.closes_at;
        if (phase === "closed") ended = true;
        render();
        break;
      case "session":
        current = currentOf(m);
        shown.key = undefined;
        render();
        break;
      case "attendance": count(m); break;
      case "reactions": presentReactions(m); break;
      default: break;
    }
  }
});

function count(att) {
  if (!att) return;
  // A room's screen says nothing of the whole event's numbers.
  J.setText($("#present-count"), ended || room ? "" : J.plural(att.present || 0, "person", "people") + " here");
}

function setMode(mode) {
  document.body.setAttribute("data-mode", mode);
  $("#join").hidden = mode === "ended";
}

/* What the stage shows: an ended event, the focused activity (a room's own, on a room's
   screen; after the live part, the evaluation's activities in turn), the questions, or a
   welcome. */
function render() {
  var openQuestions = questions.filter(function (q) { return !q.answered; });
  var afterKeys = phase === "after" && !ended ? afterActivities(Object.keys(acts), acts, rows, room) : [];
  // A room's screen follows its room's activity while live; after it, the evaluation.
  if (room) focus = phase === "after" ? null : roomActivity(roomOrder, rows);
  var view = screenView(phase, ended, focus, acts, openQuestions.length > 0, afterKeys, afterTurn);
  onStage = view.indexOf("activity:") === 0 ? view.slice("activity:".length) : null;
  // The evaluation's "1 of 2" changes when another of its activities opens.
  var frame = view + (afterKeys.indexOf(onStage) >= 0 ? "/" + afterKeys.length : "");
  if (shown.key !== frame) {
    J.clear($("#stage"));
    stopWall();
    shown = { key: frame, chart: null, count: null, body: null, hasChart: false, wall: null, note: null };
    if (view === "ended") renderEnded();
    else if (view === "before") renderBefore();
    else if (view === "after") renderAfter();
    else if (view === "welcome") renderWelcome();
    else if (view === "qa") shown.qa = renderQaFrame();
    else renderActivityFrame(acts[onStage], eyebrowText(acts[onStage], phase, afterKeys));
  }
  setMode(view === "ended" ? "ended" : view === "welcome" || view === "before" || view === "after" ? "join" : "show");
  if ($("#conn").getAttribute("data-state") === "live") J.setText($("#conn"), phase === "live" ? "Live" : "Connected");
  if (view === "qa") renderQa(openQuestions);
  else if (onStage) renderActivity(acts[onStage], rows[onStage] || {});
  // Several activities for after the event and none focused: each has its turn.
  if (onStage && onStage !== focus && afterKeys.length > 1) turnSoon();
  else stopTurn();
  fitSoon();
}

function turnSoon() {
  if (afterTimer) return;
  afterTimer = setTimeout(function () {
    afterTimer = null;
    afterTurn += 1;
    render();
  }, AFTER_TURN_MS);
}

function stopTurn() {
  if (afterTimer) { clearTimeout(afterTimer); afterTimer = null; }
}

function renderEnded() {
  $("#stage").append(el("h2", { id: "stage-title", class: "welcome-title", text: "Thank you for taking part" }),
    el("p", { class: "ended-event", text: title }),
    el("p", { class: "waiting", text: "This event has ended. Thank you for your answers and your questions." }));
}

/* Before the event: the join screen says when it starts, and that questions may be sent. */
function renderBefore() {
  var at = when(eventFacts.starts_at, "en-GB");
  if (at) at.date = at.date.replace(/ /g, "\u00a0");
  var open = eventFacts.opens_at && Date.parse(eventFacts.opens_at) <= Date.now();
  $("#stage").append(el("p", { class: "eyebrow", text: "Before the event" }),
    el("h2", { id: "stage-title", class: "welcome-title", text: at ? "Starts at " + at.time + " on " + at.date : "Starting soon" }),
    el("p", { class: "waiting", text: open ? "Join now: you can send your questions and vote on others' before we start." : "Join now: questions and results appear here once we start." }));
}

/* After the live part: the evaluation, on the same link. */
function renderAfter() {
  var until = when(eventFacts.closes_at, "en-GB");
  if (until) until.date = until.date.replace(/ /g, "\u00a0");
  $("#stage").append(el("p", { class: "eyebrow", text: "After the event" }),
    el("h2", { id: "stage-title", class: "welcome-title", text: "Tell us how it went" }),
    el("p", { class: "waiting", text: "Scan the code or open the link on your phone: a few questions about the day" + (until ? ", open until " + until.time + " on " + until.date : "") + "." }));
}

function renderWelcome() {
  if (room && acts && !roomOrder.length && Object.keys(acts).length) {
    $("#stage").append(el("h2", { id: "stage-title", class: "welcome-title", text: "No room called “" + room + "”" }),
      el("p", { class: "waiting", text: "Check the room's name in this screen's link against the programme." }));
    return;
  }
  $("#stage").append(el("h2", { id: "stage-title", class: "welcome-title", text: title || "Welcome" }),
    el("p", { class: "waiting", text: room ? "Join now: this room's questions and results appear here." : "Join now: questions and results appear here as the session goes on." }));
}

function renderQaFrame() {
  var list = el("ol", { id: "pq-list", class: "qa-list", "data-fit": "questions" });
  var more = el("p", { class: "more" });
  var summary = el("p", { class: "count" });
  var session = sessionsByKey[screenSession(current, room)];
  $("#stage").append(el("p", { class: "eyebrow", text: session ? "Q&A · " + session.title : "Q&A" }),
    el("h2", { id: "stage-title", text: "Questions from the room" }), summary, list, more);
  return { list: list, more: more, summary: summary };
}

function renderQa(open) {
  var answered = questions.length - open.length;
  J.setText(shown.qa.summary, "Top questions by votes" + (answered ? " · " + answered + " answered" : ""));
  var list = J.clear(shown.qa.list);
  shown.qa.more.setAttribute("data-beyond", String(Math.max(0, questionsTotal - questions.length)));
  open.forEach(function (q, i) {
    list.appendChild(el("li", { class: i === 0 ? "qa-now" : null },
      i === 0 ? el("span", { class: "qa-badge", text: "Being answered" }) : null,
      el("span", { class: "votes", text: J.plural(q.votes, "vote") }),
      el("span", { class: "qa-text", text: q.text })));
  });
}

function renderActivityFrame(a, eyebrow) {
  var stage = $("#stage");
  shown.count = el("p", { class: "count" });
  shown.body = el("div", { class: "stage-body" });
  stage.append(el("p", { class: "eyebrow", text: eyebrow }),
    el("h2", { id: "stage-title", text: a.prompt }));
  if (a.kind === "pledge" && a.text) stage.append(el("blockquote", { class: "pledge-text" }, el("p", { text: a.text })));
  stage.append(shown.count, shown.body);
}

function renderActivity(a, r) {
  var total = r.total || 0;
  J.clear(shown.count);
  shown.count.append(el("strong", { text: String(total) }),
    countText(a.kind, total, r.state, r.tally && r.tally.organisations ? r.tally.organisations.length : null));
  var revealed = r.revealed && r.tally;
  // A text activity's answers show on its wall, which only the focused one has.
  if (revealed && a.kind === "text" && a.key === focus) {
    if (!shown.wall) {
      J.clear(shown.body);
      shown.note = null;
      shown.wall = renderWall();
      shown.hasChart = true;
    }
  } else if (revealed && a.kind !== "text") {
    if (!shown.hasChart) {
      J.clear(shown.body);
      shown.note = null;
      shown.chart = resultChart(a);
      // On the projector the tables are read by screen readers, never drawn (see
      // staff.css): out of their "Show as a table" disclosure, which nobody can see to use.
      var details = shown.chart.node.querySelector(".table-alt");
      if (details) {
        var tables = el("div", { class: "table-alt" });
        Array.prototype.slice.call(details.querySelectorAll("table")).forEach(function (t) { tables.appendChild(t); });
        details.replaceWith(tables);
      }
      shown.body.append(shown.chart.node);
      shown.hasChart = true;
      if (!reduceMotion) {
        // Results build up: drawn empty first, so the bars grow and the words arrive.
        shown.chart.update({ total: 0, counts: [], top: [], organisations: [], signatures: {} });
        void shown.chart.node.offsetWidth;
        shown.chart.node.classList.add("build");
      }
    }
    shown.chart.update(r.tally);
    markFitLists(shown.chart.node);
  } else {
    if (shown.hasChart || !shown.note) {
      J.clear(shown.body);
      stopWall();
      shown.hasChart = false;
      shown.wall = null;
      shown.note = el("p", { class: "waiting" });
      shown.body.append(shown.note);
    }
    J.setText(shown.note, waitingText(a.kind, r.state, !!revealed));
  }
}

/* Long lists inside a chart: the word cloud and a pledge's organisations. */
function markFitLists(node) {
  [".cloud", ".chart-pledge .bars"].forEach(function (sel) {
    var list = node.querySelector(sel);
    if (list && !list.hasAttribute("data-fit")) {
      list.setAttribute("data-fit", sel === ".cloud" ? "words" : "organisations");
      list.after(el("p", { class: "more" }));
    }
  });
}

/* The approved texts, newest first, as many as fit; more than fit page by themselves. */
function renderWall() {
  var texts = wall.activity === focus ? wall.texts : [];
  var list = el("ul", { class: "wall", "data-fit": "texts" });
  var more = el("p", { class: "more" });
  if (!texts.length) {
    shown.body.append(el("p", { class: "waiting", text: "Approved answers appear here." }));
    return { list: list, more: more };
  }
  if (wallFrom >= texts.length) wallFrom = 0;
  texts.slice(wallFrom).concat(texts.slice(0, wallFrom)).forEach(function (t, i) {
    var li = el("li", { text: t.text });
    li.style.setProperty("--i", String(i));
    list.appendChild(li);
  });
  shown.body.append(list, more);
  return { list: list, more: more };
}

function stopWall() {
  if (wallTimer) { clearTimeout(wallTimer); wallTimer = null; }
}

/* A page of the wall stays up for a while, then the next one starts where it stopped. */
function pageWall(visible) {
  var n = wall.texts.length;
  if (!shown.wall || visible >= n) { stopWall(); return; }
  if (wallTimer) return;
  wallTimer = setTimeout(function () {
    wallTimer = null;
    wallFrom = (wallFrom + visible) % n;
    // Fitted at once, not at the next frame: the new page never shows unfitted.
    if (shown.wall) { shown.wall = null; shown.hasChart = false; render(); fit(); }
  }, WALL_PAGE_MS);
}

var fitQueued = false;
function fitSoon() {
  if (fitQueued) return;
  fitQueued = true;
  (window.requestAnimationFrame || setTimeout)(function () { fitQueued = false; fit(); });
}

function overflows(node) {
  return node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1;
}

/*
 * Fits the stage to the screen: first the type shrinks (to 80 % where there is a list to
 * shorten, else to 56 %), then each long list shows
 * only its first items, with "and N more" (the text wall pages instead).
 */
function fit() {
  var stage = $("#stage");
  var lists = Array.prototype.slice.call(stage.querySelectorAll("[data-fit]"));
  lists.forEach(function (list) {
    Array.prototype.forEach.call(list.children, function (li) { li.hidden = false; });
    var more = list.nextElementSibling;
    if (more && more.classList.contains("more")) { J.setText(more, ""); more.hidden = true; }
  });
  // Type shrinks less where a list can show fewer items instead: it stays readable.
  var scales = fitScales(lists.length > 0);
  stage.style.setProperty("--fit", "1");
  for (var i = 1; i < scales.length && overflows(stage); i++) stage.style.setProperty("--fit", scales[i].toFixed(2));
  lists.forEach(function (list) {
    var items = list.children, visible = items.length;
    var more = list.nextElementSibling;
    var beyond = more ? Number(more.getAttribute("data-beyond") || 0) : 0;
    var label = function () {
      if (!more || !more.classList.contains("more")) return;
      more.hidden = items.length - visible + beyond === 0;
      J.setText(more, moreText(list.getAttribute("data-fit"), visible, items.length, beyond));
    };
    label();
    while (overflows(stage) && visible > 1) {
      visible -= 1;
      items[visible].hidden = true;
      label();
    }
    if (list.getAttribute("data-fit") === "texts") pageWall(visible);
  });
}
