/* Joinup attendee page: join, answer, ask, share a card, see results.
   The outbox, the record of what the person gave, and the connection (WebSocket, or POST +
   Server-Sent Events where WebSocket fails) live in outbox.js; this file is the page.
   Every answer ends, visibly, as saved (acknowledged) or not saved with the reason, on its
   card while the activity is open and under "You" always, across reloads. */
import { Outbox, AnswerLog, Link, reason, retryable } from "./outbox.js";
import { CLOSE } from "./close-codes.js";
import { showSupport } from "./support.js";
import { makeControl, describe, ReactionsBar } from "./kinds.js";
import { t, use, initial, remember, translatePage, LANGUAGES, language } from "./i18n.js";
import * as J from "./common.js";
import { chart as resultChart, describeTally, setTranslate } from "./charts.js";
import { qaView } from "./attendee-qa.js";

// The page's own words, in the person's language, before anything is shown.
await use(initial(navigator, safeStorage()));
translatePage(document);
setTranslate(t);  // the result charts (charts.js) speak the page's language too

/** localStorage, or null where the browser refuses it (a frame on another site may). */
function safeStorage() {
  try { var s = window.localStorage; s.getItem("joinup.lang"); return s; } catch (e) { return null; }
}

/** The event code of /e/CODE, however it was typed: lower case, with spaces or hyphens
 * ("/e/abc 234" is ABC234); the address then shows it as the server spells it. */
function codeFromAddress() {
  var m = /^\/e\/([^/]{1,40})\/?$/.exec(location.pathname);
  if (!m) return "";
  var raw;
  try { raw = decodeURIComponent(m[1]); } catch (e) { return ""; }
  var c = raw.replace(/[\s-]+/g, "").toUpperCase();
  if (!/^[A-Z0-9]{1,12}$/.test(c)) return "";
  if (m[1] !== c) history.replaceState(null, "", "/e/" + c + location.search + location.hash);
  return c;
}

(function () {
  var el = J.el, $ = J.$;
  var code = codeFromAddress();
  var KEY = {
    token: "joinup.attendee." + code,
    outbox: "joinup.outbox." + code,
    profile: "joinup.profile." + code,
    log: "joinup.answers." + code,
    event: "joinup.event." + code
  };

  var facts = null;               // public facts, then the welcome's event
  var acts = J.table();           // activity definitions by key
  var token = J.store.get(KEY.token) || null;
  var outbox = new Outbox(J.store.get(KEY.outbox));
  var log = new AnswerLog(J.store.get(KEY.log));
  var profile = J.store.get(KEY.profile) || null;
  var open = new Map();           // key -> activity card
  var answers = new Map();        // key -> value the server holds
  var resultUI = new Map();       // key -> {node, chart}
  var questions = [], voted = new Set(), directory = [];
  var welcomed = false, editing = false, ended = false;

  // ------------------------------------------------------------------ views

  var views = ["loading", "error", "ended", "profile", "app"];
  function show(name) {
    views.forEach(function (v) { $("#view-" + v).hidden = v !== name; });
  }
  function showError(text) {
    J.setText($("#error-text"), text);
    show("error");
  }
  $("#error-retry").addEventListener("click", function () {
    link.stopped = false;
    show("loading");
    if (facts) link.start(); else init();
  });

  // ------------------------------------------------------------------ status line

  function offline() { return navigator.onLine === false; }
  function setConn() {
    var node = $("#conn"), you = $("#you-conn");
    var n = outbox.size, text, state;
    if (link.stopped) { text = t(ended ? "conn.ended" : "conn.stopped"); state = ended ? "ended" : "stopped"; }
    else if (link.ready && n && stalled()) { state = "offline"; text = t("card.offline"); }
    else if (link.ready) {
      state = n ? "waiting" : "live";
      text = t(n ? "conn.sending" : "conn.live");
    } else if (offline()) {
      state = "offline";
      text = n ? t("conn.offline_pending", { n: n }) : t("conn.offline");
    } else if (!welcomed && !link.started) { text = ""; state = "waiting"; }
    else if (!welcomed && !link.everReady) { text = t("conn.connecting"); state = "waiting"; }
    else {
      state = "waiting";
      text = n ? t("conn.reconnecting_pending", { n: n }) : t("conn.reconnecting");
    }
    J.setText(node, text);
    node.setAttribute("data-state", state);
    J.setText(you, link.mode === "sse" && link.ready ? t("conn.compat", { status: text }) : text);
    J.setText($("#none-open"), t(welcomed || link.ready ? "answer.none" : "answer.none_offline"));
    updateTitle();
  }

  // ------------------------------------------------------------------ transport

  function helloMsg() {
    var m = { type: "hello", attendee: token };
    if (!token && profile) {
      if (profile.organisation) m.organisation = profile.organisation;
      if (profile.sector) m.sector = profile.sector;
      if (profile.room) m.room = profile.room;
    }
    return m;
  }

  var link = new Link(code, {
    WebSocket: window.WebSocket,
    EventSource: window.EventSource,
    fetch: window.fetch.bind(window),
    AbortController: window.AbortController,
    setTimeout: window.setTimeout.bind(window),
    clearTimeout: window.clearTimeout.bind(window),
    now: Date.now,
    random: Math.random,
    wsUrl: J.wsUrl,
    store: J.store
  }, {
    hello: helloMsg,
    message: receive,
    closed: onClosed,
    pending: function () { return outbox.values(); },
    changed: function () { setConn(); refreshAll(); renderLog(); }
  });

  function onClosed(c) {
    if (c === CLOSE.EVENT_ENDED) { endEvent(); return; }
    if (c === CLOSE.TOO_LARGE && link.lastSent) {
      var last = outbox.take(link.lastSent);
      if (last && last.current && last.msg.type === "answer") log.refused(last.msg.id, reason("too_large"));
      saveAll();
    }
    if (c === CLOSE.UNAUTHORIZED || c === CLOSE.TOO_LARGE) {
      link.stop();
      showError(t(c === CLOSE.UNAUTHORIZED ? "err.unauthorized" : "err.too_large"));
    }
  }

  // Reactions go now or not at all: never through the outbox.
  var reactions = new ReactionsBar(function (msg) {
    if (!link.ready) return false;
    link.transmit(msg);
    return true;
  });
  $("#view-app").appendChild(reactions.node);

  function saveOutbox() { J.store.set(KEY.outbox, outbox.toJSON()); }
  function saveLog() { J.store.set(KEY.log, log.toJSON()); }
  function saveAll() { saveOutbox(); saveLog(); }

  function send(msg) {
    outbox.add(msg);
    saveOutbox();
    link.transmit(msg);
    watchAck();
    setConn();
  }

  // An answer given while the link looks up but with no ack for a few seconds: the network
  // has gone without the socket noticing yet. Say so plainly instead of "Sending…".
  var ACK_PATIENCE_MS = 4000;
  var waitingSince = 0, ackTimer = null;
  function watchAck() {
    if (!outbox.size) { waitingSince = 0; return; }
    if (!waitingSince) waitingSince = Date.now();
    if (ackTimer) return;
    // Wakes when the patience runs out (counted from the last sign of life), and again after
    // any ack that came meanwhile, until the outbox is empty or the page says "offline".
    ackTimer = setTimeout(function () {
      ackTimer = null;
      if (!outbox.size) return;
      setConn(); refreshAll(); renderLog();
      if (!stalled()) watchAck();
    }, Math.max(0, waitingSince + ACK_PATIENCE_MS - Date.now()) + 50);
  }
  function stalled() { return !!outbox.size && !!waitingSince && Date.now() - waitingSince >= ACK_PATIENCE_MS; }
  function ackArrived() { waitingSince = outbox.size ? Date.now() : 0; watchAck(); }

  window.addEventListener("online", function () { link.kick(); setConn(); });
  window.addEventListener("offline", function () { setConn(); refreshAll(); renderLog(); });

  // ------------------------------------------------------------------ server messages

  function receive(m) {
    switch (m.type) {
      case "welcome": onWelcome(m); break;
      case "event": onEvent(m.event); break;
      case "ack": onAck(m.id); break;
      case "error": onError(m); break;
      case "opened": addOpen(m.activity); updateOpenCount(); renderLog(); break;
      case "closed": removeOpen(m.activity); updateOpenCount(); renderLog(); break;
      case "results": setResults(m.activity, m.tally, false); break;
      case "questions": questions = m.questions || []; qa.renderQuestions(); break;
      case "phase": onPhase(m); break;
      case "session": qa.setCurrent(m); break;
      case "directory": directory = m.cards || []; renderCards(); break;
      case "support": showSupport(m.support); break;
      default: break;
    }
  }

  function onWelcome(m) {
    token = m.attendee;
    J.store.set(KEY.token, token);
    if (m.state === "ended") { endEvent(); return; }
    if (m.event) { useEvent(m.event); J.store.set(KEY.event, m.event); }
    if (m.profile) { profile = m.profile; J.store.set(KEY.profile, profile); }
    renderProfile();
    answers = new Map(Object.entries(m.answers || {}));
    outbox.forgetReplaced();
    log.reconcile(m.answers || {}, outbox);
    saveLog();
    var now = new Set((m.open || []).map(function (a) { return a.key; }));
    Array.from(open.keys()).forEach(function (k) { if (!now.has(k)) removeOpen(k); });
    (m.open || []).forEach(addOpen);
    open.forEach(function (ui) { ui.fromServer(); });
    updateOpenCount();
    var res = new Map(Object.entries(m.results || {}));
    Array.from(resultUI.keys()).forEach(function (k) { if (!res.has(k)) setResults(k, null, true); });
    res.forEach(function (tally, k) { setResults(k, tally, true); });
    questions = m.questions || [];
    voted.clear();
    (m.voted || []).forEach(function (id) { voted.add(id); });
    qa.setCurrent(m);
    qa.setPhase(m);
    directory = m.directory || [];
    renderCards();
    welcomed = true;
    if (!editing) show("app");
    link.welcomed();
    setConn();
    refreshAll();
    renderLog();
  }

  /** A `phase` frame: the banner, the ask form and the lists follow; closed ends the page. */
  function onPhase(m) {
    if (m.phase === "closed") { endEvent(); return; }
    if (facts) facts.closes_at = m.closes_at || facts.closes_at || null;
    qa.setPhase(m);  // the notice is a status region: a screen reader hears the change
  }

  /** The organisers edited the event while it runs: everything on screen takes the new
   * wording, and what the person is typing, or has sent and is waiting for, stays. */
  function onEvent(ev) {
    if (!ev || !welcomed) return;
    useEvent(ev);
    acts = J.indexEvent(facts);
    J.store.set(KEY.event, ev);
    rebuildProfileForm();
    Array.from(open.keys()).forEach(function (key) {
      var ui = open.get(key);
      var a = J.own(acts, key) ? acts[key] : null;
      if (!a) {
        open.delete(key);
        ui.gone();
        return;
      }
      var fresh = activityCard(a);
      fresh.takeOver(ui);
      open.set(key, fresh);
    });
    // A card left on screen after its activity closed keeps its text; it says so if the
    // activity is gone from the programme too.
    Array.prototype.forEach.call(document.querySelectorAll("#open-list [data-state=closed]"), function (node) {
      var key = node.getAttribute("data-key");
      if (!J.own(acts, key)) J.setText(node.querySelector(".save-state"), t("card.removed"));
    });
    Array.from(resultUI.keys()).forEach(function (key) {
      var tally = resultUI.get(key).tally;
      resultUI.get(key).node.remove();
      resultUI.delete(key);
      setResults(key, tally, true);
    });
    updateOpenCount();
    renderLog();
  }

  function onAck(id) {
    if (reactions.onAck(id)) return;
    var took = outbox.take(id);
    if (!took) return;
    ackArrived();
    saveOutbox();
    var msg = took.msg;
    if (msg.type === "answer") {
      answers.set(msg.activity, msg.value);
      if (took.current) { log.saved(id); saveLog(); }
      var ui = open.get(msg.activity);
      if (ui) ui.refresh();
      var res = resultUI.get(msg.activity);
      if (res) markMine(acts[msg.activity], res);
      renderLog();
      updateOpenCount();
    } else if (msg.type === "ask") {
      var ta = $("#ask-text");
      if (ta.value.trim() === msg.text) { ta.value = ""; askInput(); }
      state($("#ask-state"), "saved", t(moderated() ? "qa.sent_moderated" : "qa.sent"));
    } else if (msg.type === "upvote") {
      voted.add(msg.question);
      qa.renderQuestions();
    } else if (msg.type === "card") {
      state($("#card-state"), "saved", t(moderated() ? "dir.shared_moderated" : "dir.shared"));
      $("#card-summary").setAttribute("data-i18n", "dir.update");
      J.setText($("#card-summary"), t("dir.update"));
    } else if (msg.type === "profile") {
      profile = { organisation: msg.organisation || null, sector: msg.sector || null, room: msg.room || null };
      J.store.set(KEY.profile, profile);
      renderProfile();
      qa.render();
      state($("#profile-state"), "saved", t("profile.saved"));
      if (editing) { editing = false; show("app"); selectTab("you"); }
    }
    setConn();
  }

  /** Refusals the person may see, with their words in web/i18n/ ("err.CODE"). */
  var FRIENDLY = ["activity_closed", "unknown_activity", "not_available", "no_such_event"];
  function friendly(c) { return FRIENDLY.indexOf(c) >= 0 ? t("err." + c) : null; }

  function onError(m) {
    if (m.code === "event_ended") { endEvent(); return; }
    if (m.code === "no_such_event") { link.stop(); showError(t("err.no_such_event")); return; }
    if (m.code === "not_joined") { link.start(); return; }
    if (m.id && reactions.onError(m)) return;
    if (m.id && !outbox.get(m.id)) {
      // A replaced answer's refusal: the newer one is the one that counts.
      outbox.take(m.id);
      if (m.code === "rate_limited") link.retryLater();
      return;
    }
    if (!m.id) { if (m.code === "rate_limited") link.retryLater(); return; }
    if (retryable(m.code)) { link.retryLater(); setConn(); return; }
    var msg = outbox.take(m.id).msg;
    saveOutbox();
    var text = m.code === "not_open" ? qa.refusal(m.phase) : friendly(m.code) || m.message || t("err.not_saved");
    if (msg.type === "answer") {
      log.refused(msg.id, m.code === "not_open" ? text : reason(m.code, m.message));
      saveLog();
      var ui = open.get(msg.activity);
      if (ui) ui.refresh();
      renderLog();
    } else if (msg.type === "ask") state($("#ask-state"), "error", text);
    else if (msg.type === "card") state($("#card-state"), "error", text);
    else if (msg.type === "profile") state($("#profile-state"), "error", text);
    else if (msg.type === "upvote") { qa.renderQuestions(); qa.voteRefused(msg.question, text); }
    setConn();
  }

  function endEvent() {
    ended = true;
    $("#phase-notice").hidden = true;
    link.stop();
    var lost = 0;
    outbox.values().forEach(function (m) {
      if (m.type !== "answer") return;
      lost++;
      log.refused(m.id, reason("event_ended"));
      outbox.take(m.id);
    });
    saveAll();
    J.setText($("#ended-text"), lost ? t("ended.lost", { n: lost }) : t("ended.text"));
    $("#ended-text").removeAttribute("data-i18n");
    show("ended");
    setConn();
    renderLog();
  }

  function state(node, kind, text) {
    node.setAttribute("data-state", kind);
    J.setText(node, text);
  }

  function moderated() { return !facts || !facts.qa || facts.qa.moderation === "pre"; }

  // ------------------------------------------------------------------ the event

  function useEvent(ev) {
    var fresh = !facts || !facts.sessions || !facts.sessions.length || !facts.sessions[0].activities;
    facts = Object.assign({}, facts || {}, ev);
    if (fresh) acts = J.indexEvent(facts);
    $("#event-title").removeAttribute("data-i18n");
    J.setText($("#event-title"), facts.title || "Joinup");
    updateTitle();
    $("#tab-qa").hidden = !(facts.qa && facts.qa.enabled);
    $("#tab-directory").hidden = !(facts.directory && facts.directory.enabled);
    reactions.setKeys(facts.reactions);
    J.setText($("#ask-hint"), t(moderated() ? "qa.moderated" : "qa.unmoderated"));
    buildProfileForm();
    if (ev.phase) qa.setPhase(ev);
  }

  // ------------------------------------------------------------------ profile form

  var profileBuilt = false;
  function buildProfileForm() {
    if (profileBuilt || !facts) return;
    profileBuilt = true;
    var list = $("#org-list");
    var orgs = facts.organisations || [];
    // Alphabetical, whatever order the spec lists them in, so a name is where one looks.
    var sorted = orgs.slice().sort(function (x, y) { return x.name.localeCompare(y.name, undefined, { sensitivity: "base" }); });
    sorted.forEach(function (o, i) {
      list.appendChild(el("label", { class: "option", "data-search": norm(o.name + " " + (o.sector || "")) },
        el("input", { type: "radio", name: "org", value: o.name, id: "org-" + i }),
        el("span", {}, o.name, o.sector ? el("small", { text: o.sector }) : null)));
    });
    if (facts.allow_other_organisation !== false) {
      list.appendChild(el("label", { class: "option", "data-always": "1" },
        el("input", { type: "radio", name: "org", value: "", id: "org-other-choice" }),
        el("span", { "data-i18n": "profile.org_other_choice", text: t("profile.org_other_choice") })));
    }
    var sector = $("#sector");
    sector.appendChild(el("option", { value: "", "data-i18n": "profile.sector_choose", text: t("profile.sector_choose") }));
    (facts.sectors || []).forEach(function (s) { sector.appendChild(el("option", { value: s, text: s })); });
    var rooms = facts.rooms || [];
    if (rooms.length) {
      $("#room-fieldset").hidden = false;
      var rl = $("#room-list");
      rooms.forEach(function (r, i) {
        rl.appendChild(el("label", { class: "option" }, el("input", { type: "radio", name: "room", value: r, id: "room-" + i }), el("span", { text: r })));
      });
      rl.appendChild(el("label", { class: "option" }, el("input", { type: "radio", name: "room", value: "", id: "room-none" }), el("span", { "data-i18n": "profile.room_none", text: t("profile.room_none") })));
    }
    if (!profileWired) wireProfileForm();
    filterOrgs();
    fillProfileForm();
  }

  /** The event's lists changed (an organiser's edit): the form is built again from them,
   * unless the person is filling it in now (it is then built at its next opening). */
  function rebuildProfileForm() {
    if (editing) { profileStale = true; return; }
    profileStale = false;
    [$("#org-list"), $("#sector"), $("#room-list")].forEach(function (n) { J.clear(n); });
    profileBuilt = false;
    buildProfileForm();
  }

  var profileWired = false, profileStale = false;
  /** The form's listeners, once: building it again keeps them. */
  function wireProfileForm() {
    profileWired = true;
    var list = $("#org-list"), sector = $("#sector");
    list.addEventListener("change", function (e) {
      var input = e.target;
      if (input.name !== "org") return;
      var isOther = input.id === "org-other-choice";
      $("#org-other-field").hidden = !isOther;
      var match = (facts.organisations || []).filter(function (o) { return o.name === input.value; })[0];
      if (match && match.sector) sector.value = match.sector;
      if (isOther) {
        // What was typed in the search is, most likely, the name: keep it.
        var typed = $("#org-search").value.trim();
        if (typed && !$("#org-other").value.trim()) $("#org-other").value = typed;
        $("#org-other").focus();
      }
      fieldError(null);
    });
    $("#org-other").addEventListener("input", function () { fieldError(null); });
    $("#org-search").addEventListener("input", filterOrgs);
  }

  /** The error of the "not listed" name, shown under that field (null clears it). */
  function fieldError(text) {
    var node = $("#org-other-error"), input = $("#org-other");
    node.hidden = !text;
    J.setText(node, text || "");
    if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  function norm(s) { return s.toLowerCase().replace(/[^a-z0-9 ]+/g, " ").replace(/\s+/g, " ").trim(); }

  function filterOrgs() {
    var q = norm($("#org-search").value);
    var shown = 0;
    Array.prototype.forEach.call($("#org-list").children, function (label) {
      if (label.getAttribute("data-always")) return;
      var hit = !q || label.getAttribute("data-search").indexOf(q) >= 0;
      label.hidden = !hit;
      if (hit) shown++;
    });
    var total = (facts.organisations || []).length;
    J.setText($("#org-count"), q ? t("profile.org_match", { n: shown }) : t("profile.org_total", { n: total }));
  }

  function fillProfileForm() {
    var p = profile || {};
    var radios = document.querySelectorAll("#org-list input");
    var known = false;
    Array.prototype.forEach.call(radios, function (r) {
      r.checked = !!p.organisation && r.value === p.organisation;
      if (r.checked) known = true;
    });
    var other = $("#org-other-choice");
    if (p.organisation && !known && other) {
      other.checked = true;
      $("#org-other").value = p.organisation;
    }
    $("#org-other-field").hidden = !(other && other.checked);
    $("#sector").value = p.sector || "";
    Array.prototype.forEach.call(document.querySelectorAll("#room-list input"), function (r) {
      r.checked = r.value === (p.room || "") && (!!p.room || welcomed);
    });
  }

  function readProfileForm() {
    var chosen = document.querySelector("#org-list input:checked");
    var org = chosen ? (chosen.id === "org-other-choice" ? $("#org-other").value.trim() : chosen.value) : "";
    var room = document.querySelector("#room-list input:checked");
    return { organisation: org, sector: $("#sector").value, room: room ? room.value : "" };
  }

  $("#profile-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var p = readProfileForm();
    var other = $("#org-other-choice");
    if (other && other.checked && !p.organisation) {
      fieldError(t("profile.org_other_missing"));
      $("#org-other").focus();
      return;
    }
    if (!welcomed && !token) {
      profile = { organisation: p.organisation || null, sector: p.sector || null, room: p.room || null };
      J.store.set(KEY.profile, profile);
      state($("#profile-state"), "pending", t("profile.joining"));
      link.start();
      return;
    }
    state($("#profile-state"), link.ready ? "pending" : "waiting", t(link.ready ? "profile.saving" : "profile.save_later"));
    send({ type: "profile", id: J.uuid(), organisation: p.organisation, sector: p.sector, room: p.room });
  });

  $("#profile-cancel").addEventListener("click", function () {
    editing = false;
    show("app");
    selectTab("you");
    $("#edit-profile").focus();
  });

  $("#edit-profile").addEventListener("click", function () {
    if (profileStale) rebuildProfileForm();
    editing = true;
    fillProfileForm();
    $("#profile-title").setAttribute("data-i18n", "profile.edit_title");
    J.setText($("#profile-title"), t("profile.edit_title"));
    $("#profile-submit").setAttribute("data-i18n", "profile.save");
    J.setText($("#profile-submit"), t("profile.save"));
    $("#profile-cancel").hidden = false;
    state($("#profile-state"), "", "");
    show("profile");
    $("#profile-title").setAttribute("tabindex", "-1");
    $("#profile-title").focus();
  });

  function renderProfile() {
    var p = profile || {};
    var dl = J.clear($("#you-summary"));
    var hasRooms = !!(facts && facts.rooms && facts.rooms.length);
    [["you.organisation", p.organisation], ["you.sector", p.sector], ["you.room", hasRooms ? p.room || t("profile.room_none") : null]]
      .forEach(function (row) {
        if (row[0] === "you.room" && row[1] === null) return;
        dl.appendChild(el("dt", { text: t(row[0]) }));
        dl.appendChild(el("dd", { text: row[1] || t("you.not_given") }));
      });
    var org = $("#c-organisation");
    if (!org.value && p.organisation) org.value = p.organisation;
    refreshAll();
  }

  // ------------------------------------------------------------------ activities

  function eyebrow(a) {
    var s = a.sessionTitle || (J.own(acts, a.key) && acts[a.key].sessionTitle) || "";
    return el("p", { class: "eyebrow", text: s + (a.room ? " · " + a.room : "") });
  }

  function addOpen(a) {
    if (!a || open.has(a.key)) return;
    if (J.own(acts, a.key)) { a.sessionTitle = acts[a.key].sessionTitle; } else acts[a.key] = a;
    var stale = document.getElementById("act-" + a.key);
    if (stale) stale.remove();  // the same activity, closed while typing, open again
    var ui = activityCard(a);
    open.set(a.key, ui);
    var list = $("#open-list");
    // Keep the programme's order.
    var order = Object.keys(acts);
    var before = null;
    Array.prototype.some.call(list.children, function (n) {
      if (order.indexOf(n.getAttribute("data-key")) > order.indexOf(a.key)) { before = n; return true; }
      return false;
    });
    list.insertBefore(ui.node, before);
    if (welcomed) J.announce(t("answer.now_open", { prompt: a.prompt }));
  }

  function removeOpen(key) {
    var ui = open.get(key);
    if (!ui) return;
    open.delete(key);
    // A card closed while the person was typing keeps their text on screen.
    if (!ui.close()) ui.node.remove();
  }

  /** Open activities not yet answered (an answer waiting to be sent counts as given). */
  function unansweredCount() {
    var n = 0;
    open.forEach(function (ui) { if (!ui.answered()) n++; });
    return n;
  }

  function updateOpenCount() {
    var n = unansweredCount();
    var c = $("#open-count");
    c.hidden = !n;
    J.setText(c, String(n));
    c.setAttribute("aria-label", t("tabs.open_count", { n: n }));
    $("#none-open").hidden = open.size > 0 || !!$("#open-list [data-state=closed]");
    updateTitle();
    refreshAll();  // "Thanks, waiting for the next question" only when nothing else waits
  }

  /** The browser tab: "(2) Event · Joinup" while two open activities wait for an answer. */
  function updateTitle() {
    var base = (facts && facts.title ? facts.title : "Joinup") + (facts && facts.title ? " · Joinup" : "");
    var n = unansweredCount();
    document.title = n ? t("title.count", { n: n, title: base }) : base;
  }

  function refreshAll() { open.forEach(function (ui) { ui.refresh(); }); }

  // The card last answered here says "Thanks, waiting for the next question" once all are.
  var lastAnswered = null;

  function activityCard(a) {
    var id = "act-" + a.key;
    var title = el("h3", { class: "prompt", id: id + "-title", text: a.prompt });
    var status = el("p", { class: "save-state", id: id + "-state", "aria-live": "polite" });
    var submit = el("button", { class: "btn", type: "submit" });
    var thanks = el("p", { class: "thanks", id: id + "-thanks", hidden: true });
    var change = el("button", { class: "btn secondary", type: "button", id: id + "-change", hidden: true });
    var form = el("form", { class: "card activity", id: id, "data-key": a.key, "aria-labelledby": id + "-title", novalidate: true });
    var dirty = false, unfolded = false, closed = false;
    var control = makeControl(a, id, function () { dirty = true; refresh(); }, function () { return profile; });
    var actions = el("div", { class: "actions" }, submit, change, status);
    form.append(eyebrow(a), title, control.node, thanks, actions);

    change.addEventListener("click", function () {
      unfolded = true;
      refresh();
      var first = control.node.querySelector("input:not([disabled]), textarea");
      if (first) first.focus();
    });

    function refused() {
      var rec = log.get(a.key);
      return rec && rec.state === "refused" && !outbox.answerFor(a.key) ? rec : null;
    }

    function refresh() {
      if (closed) return;
      var pending = outbox.answerFor(a.key);
      var has = answers.has(a.key);
      var no = refused();
      var valid = control.get() !== null;
      var late = !!pending && link.ready && stalled();
      // Answered and saved: the card folds to its prompt and "Saved", out of the way.
      var folded = has && !pending && !no && !dirty && !unfolded;
      if (a.kind === "pledge") {
        J.setText(submit, t("card.sign"));
        submit.hidden = has && !pending && !no;
        control.sync(has || !!pending);
      } else {
        J.setText(submit, t(no && !dirty ? "card.send_again" : has || pending ? "card.update" : "card.send"));
        submit.hidden = folded;
      }
      control.node.hidden = folded;
      change.hidden = !folded || a.kind === "pledge";
      J.setText(change, t("card.change"));
      thanks.hidden = !folded || unansweredCount() > 0 || lastAnswered !== a.key;
      J.setText(thanks, t("card.thanks"));
      form.classList.toggle("folded", folded);
      submit.disabled = !valid || (!!pending && !dirty && link.ready && !late);
      form.setAttribute("data-state", pending ? "pending" : no ? "refused" : has ? "saved" : "");
      if (late) state(status, "offline", t("card.offline"));
      else if (pending && link.ready) state(status, "pending", t("card.sending"));
      else if (pending) state(status, "waiting", t("card.not_sent"));
      else if (no && !dirty) state(status, "error", t("card.not_saved", { reason: no.reason, kept: kept(a) }));
      else if (has && !dirty) state(status, "saved", a.kind === "pledge" && profile && profile.organisation
        ? t("card.saved_signed", { organisation: profile.organisation }) : t("card.saved"));
      else if ((has || no) && dirty) state(status, "", t("card.changed"));
      else state(status, "", "");
    }

    // What the control shows: the answer waiting to go, else the one last given and refused
    // (never an older one in its place), else the one the server holds.
    function showGiven() {
      var pending = outbox.answerFor(a.key), no = refused();
      if (pending) control.set(pending.value);
      else if (no) control.set(no.given);
      else if (answers.has(a.key)) control.set(answers.get(a.key));
    }

    /** The activity closed. Typed and not sent: the card stays, read-only, with its text,
     * saying so, until dismissed (true). Otherwise it goes (false). */
    function close() {
      var typing = dirty && control.get() !== null && !outbox.answerFor(a.key);
      if (!typing) return false;
      closed = true;
      form.setAttribute("data-state", "closed");
      Array.prototype.forEach.call(form.querySelectorAll("input, textarea"), function (x) {
        if (x.type === "radio" || x.type === "checkbox") x.disabled = true; else x.readOnly = true;
      });
      submit.hidden = true;
      change.hidden = true;
      thanks.hidden = true;
      state(status, "error", t("card.just_closed"));
      var dismiss = el("button", { class: "btn secondary", type: "button", text: t("card.dismiss") });
      dismiss.addEventListener("click", function () { form.remove(); updateOpenCount(); });
      actions.insertBefore(dismiss, status);
      return true;
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (closed) return;
      var v = control.get();
      if (v === null) return;
      dirty = false;
      unfolded = false;
      lastAnswered = a.key;
      var msg = { type: "answer", id: J.uuid(), activity: a.key, value: v };
      log.gave(msg, a.prompt, describe(a, v));
      saveLog();
      send(msg);
      refresh();
      renderLog();
      updateOpenCount();
    });

    showGiven();
    refresh();

    /** This card stands in for `old`, a card of the same activity drawn under the spec
     * before an edit: what was typed (and where) carries over, and the new card takes the
     * old one's place on screen. */
    function takeOver(old) {
      var was = old.typed();
      if (was.dirty && was.kind === a.kind) {
        if (was.value !== null) control.set(was.value);
        dirty = true;
      }
      unfolded = was.unfolded;
      old.node.replaceWith(form);
      // Text as typed, spaces and all (the control hands back a tidied value), and its
      // counter with it.
      if (was.dirty && was.kind === a.kind) {
        was.fields.forEach(function (f) {
          var input = document.getElementById(f.id);
          if (!input || !form.contains(input) || input.value === f.value) return;
          input.value = f.value;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        });
      }
      if (was.focus) {
        var input = document.getElementById(was.focus);
        if (input && form.contains(input)) {
          input.focus();
          if (was.selection && typeof input.setSelectionRange === "function") {
            try { input.setSelectionRange(was.selection[0], was.selection[1]); } catch (e) { /* not a text field */ }
          }
        }
      }
      refresh();
    }

    /** What the person has done in this card that is not the server's. */
    function typed() {
      var focused = document.activeElement;
      var inside = focused && form.contains(focused) && focused.id;
      var fields = Array.prototype.filter.call(form.querySelectorAll("textarea, input"), function (x) {
        return x.id && (x.tagName === "TEXTAREA" || x.type === "text");
      }).map(function (x) { return { id: x.id, value: x.value }; });
      return {
        kind: a.kind,
        fields: fields,
        dirty: dirty,
        unfolded: unfolded,
        value: control.get(),
        focus: inside ? focused.id : null,
        selection: inside && typeof focused.selectionStart === "number" ? [focused.selectionStart, focused.selectionEnd] : null
      };
    }

    /** The activity is gone from the programme: the card stays read-only with what was
     * typed, saying so, until dismissed. */
    function gone() {
      if (!close()) { form.remove(); return; }
      state(status, "error", t("card.removed"));
    }

    return {
      node: form,
      refresh: refresh,
      close: close,
      takeOver: takeOver,
      typed: typed,
      gone: gone,
      answered: function () { return answers.has(a.key) || !!outbox.answerFor(a.key); },
      editing: function () { return dirty; },
      fromServer: function () {
        if (!dirty) showGiven();
        refresh();
      }
    };
  }

  /** What the server kept for an activity whose last answer was refused. */
  function kept(a) {
    return answers.has(a.key) ? t("card.kept_earlier", { answer: describe(a, answers.get(a.key)) })
      : t("card.kept_nothing");
  }

  // ------------------------------------------------------------------ results

  function setResults(key, tally, quiet) {
    var a = J.own(acts, key);
    if (!a) return;
    var r = resultUI.get(key);
    if (tally === null || tally === undefined) {
      if (r) { r.node.remove(); resultUI.delete(key); }
    } else {
      if (!r) {
        var chart = resultChart(a);
        var mine = el("p", { class: "your-answer", id: "res-" + key + "-mine", hidden: true });
        var node = el("article", { class: "card result", id: "res-" + key, "aria-labelledby": "res-" + key + "-title" },
          eyebrow(a), el("h3", { id: "res-" + key + "-title", text: a.prompt }), mine, chart.node);
        $("#results-list").prepend(node);
        r = { node: node, chart: chart, mine: mine };
        resultUI.set(key, r);
      }
      r.chart.update(tally);
      r.tally = tally;
      markMine(a, r);
      if (!quiet) J.announce(t("answer.results_for", { summary: describeTally(a, tally) }));
    }
    $("#results-block").hidden = !resultUI.size;
  }

  /** A result shows the person's own answer: a line above the chart, and the bars (or words)
   * they chose marked "Your answer". */
  function markMine(a, r) {
    var v = answers.has(a.key) ? answers.get(a.key) : null;
    r.mine.hidden = v === null;
    J.clear(r.mine);
    if (v !== null) r.mine.append(el("span", { class: "muted", text: t("answer.your_answer") + ": " }), describe(a, v));
    var picked = [];
    if (a.kind === "choice" && Array.isArray(v)) picked = v;
    else if (a.kind === "scale" && typeof v === "number") picked = [v - a.min];
    Array.prototype.forEach.call(r.node.querySelectorAll(".bar-row"), function (row, i) {
      var on = picked.indexOf(i) >= 0;
      row.classList.toggle("mine", on);
      var tag = row.querySelector(".mine-tag");
      if (on && !tag) row.querySelector(".bar-label").prepend(el("span", { class: "mine-tag", text: t("answer.your_answer") }));
      else if (!on && tag) tag.remove();
      else if (tag) J.setText(tag, t("answer.your_answer"));
    });
    var words = a.kind === "words" && Array.isArray(v) ? v : [];
    Array.prototype.forEach.call(r.node.querySelectorAll(".cloud li"), function (li) {
      li.classList.toggle("mine", words.indexOf(li.firstChild.textContent) >= 0);
    });
  }
  function markAllMine() { resultUI.forEach(function (r, k) { var a = J.own(acts, k); if (a) markMine(a, r); }); }

  // ------------------------------------------------------------------ Q&A

  var qa = qaView({
    facts: function () { return facts; },
    profile: function () { return profile; },
    questions: function () { return questions; },
    voted: voted,
    pendingVote: function (id) {
      var pending = false;
      outbox.forEach(function (m) { if (m.type === "upvote" && m.question === id) pending = true; });
      return pending;
    },
    send: function (msg) { send(msg); },
    chooseRoom: function (room) {
      var p = profile || {};
      send({ type: "profile", id: J.uuid(), organisation: p.organisation || null, sector: p.sector || null, room: room });
    }
  });

  function askInput() {
    var ta = $("#ask-text");
    var n = Array.from(ta.value.trim()).length;
    J.setText($("#ask-count"), t("card.characters", { n: n, max: 500 }));
    $("#ask-submit").disabled = n < 1 || n > 500;
  }
  $("#ask-text").addEventListener("input", askInput);
  $("#ask-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("#ask-text").value.trim();
    if (!text) return;
    var ask = { type: "ask", id: J.uuid(), text: text };
    var session = qa.askSession();
    if (session !== undefined) ask.session = session;
    send(ask);
    state($("#ask-state"), link.ready ? "pending" : "waiting", t(link.ready ? "card.sending" : "qa.send_later"));
  });

  // ------------------------------------------------------------------ directory

  var CARD_FIELDS = ["organisation", "service", "offer", "referral", "contact", "name", "role"];
  function cardInput() {
    var ok = ["organisation", "service", "offer", "referral", "contact"].every(function (f) { return $("#c-" + f).value.trim(); });
    $("#card-submit").disabled = !(ok && $("#c-consent").checked);
  }
  $("#card-form").addEventListener("input", cardInput);
  $("#card-form").addEventListener("change", cardInput);
  $("#card-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!$("#c-consent").checked) return;
    var card = {};
    CARD_FIELDS.forEach(function (f) {
      var v = $("#c-" + f).value.trim();
      if (v) card[f] = v;
    });
    send({ type: "card", id: J.uuid(), card: card });
    state($("#card-state"), link.ready ? "pending" : "waiting", t(link.ready ? "dir.sharing" : "dir.share_later"));
  });

  function renderCards() {
    var list = J.clear($("#cards"));
    $("#no-cards").hidden = directory.length > 0;
    directory.forEach(function (c) {
      var dl = el("dl");
      [["dir.row_offer", c.offer], ["dir.row_referral", c.referral], ["dir.row_contact", c.contact], ["dir.row_person", [c.name, c.role].filter(Boolean).join(", ")]]
        .forEach(function (row) {
          if (!row[1]) return;
          dl.append(el("dt", { text: t(row[0]) }), el("dd", { text: row[1] }));
        });
      list.appendChild(el("li", { class: "card svc" },
        el("h4", { class: "prompt", text: c.service }), el("p", { class: "eyebrow", text: c.organisation }), dl));
    });
  }

  // ------------------------------------------------------------------ tabs

  function selectTab(name) {
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), function (b) {
      var on = b.getAttribute("data-tab") === name;
      if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
      $("#panel-" + b.getAttribute("data-tab")).hidden = !on;
    });
  }
  $(".tabs").addEventListener("click", function (e) {
    var b = e.target.closest("button[data-tab]");
    if (b) selectTab(b.getAttribute("data-tab"));
  });

  // ------------------------------------------------------------------ your answers

  /** Every answer the person gave, with how it ended: under "You", and a notice on the
   * Answer tab for those whose card is gone and that did not end saved. */
  function renderLog() {
    var keys = [];
    log.records().forEach(function (r) { keys.push(r.activity); });
    answers.forEach(function (v, k) { if (!log.get(k)) keys.push(k); });
    var order = Object.keys(acts);
    keys.sort(function (x, y) { return order.indexOf(x) - order.indexOf(y); });
    var list = J.clear($("#you-answers"));
    var waiting = 0, notSaved = 0;
    keys.forEach(function (k) {
      var a = J.own(acts, k), rec = log.get(k), pending = outbox.answerFor(k);
      var st = pending ? "pending" : rec ? rec.state : "saved";
      var given = pending ? describe(a, pending.value) : rec ? rec.text || describe(a, rec.given) : describe(a, answers.get(k));
      var line;
      if (st === "pending") line = link.ready && stalled() ? t("card.offline") : link.ready ? t("card.sending") : t("you.not_sent");
      else if (st === "refused") line = t("you.not_saved", { reason: rec.reason });
      else line = t("card.saved");
      if (!open.has(k)) { if (st === "pending") waiting++; else if (st === "refused") notSaved++; }
      var givenValue = pending ? pending.value : rec ? rec.given : answers.get(k);
      list.appendChild(el("li", { "data-activity": k, "data-state": st, "data-given": JSON.stringify(givenValue),
        "data-kept": answers.has(k) ? JSON.stringify(answers.get(k)) : null },
        el("p", { class: "prompt", text: (rec && rec.prompt) || (a && a.prompt) || k }),
        el("p", {}, el("span", { class: "muted", text: t("you.you_gave") }), given),
        el("p", { class: "save-state", "data-state": st === "refused" ? "error" : st === "pending" ? "waiting" : "saved", text: line }),
        st === "refused" ? el("p", { class: "hint", text: a ? kept(a) : t(answers.has(k) ? "card.kept_earlier_short" : "card.kept_nothing") }) : null));
    });
    $("#no-answers").hidden = keys.length > 0;
    var notice = $("#answer-notice");
    var parts = [];
    if (notSaved) parts.push(t("answer.not_saved_closed", { n: notSaved }));
    if (waiting) parts.push(t("answer.waiting_here", { n: waiting }));
    notice.hidden = !parts.length;
    notice.setAttribute("data-state", notSaved ? "error" : "waiting");
    J.setText($("#answer-notice-text"), parts.join(" "));
  }
  $("#answer-notice-go").addEventListener("click", function () {
    selectTab("you");
    $("#you-answers-title").setAttribute("tabindex", "-1");
    $("#you-answers-title").focus();
  });

  // ------------------------------------------------------------------ offline shell

  // A service worker keeps this page and its scripts, so a reload without a network shows
  // the page, its outbox and what was saved (from this phone's storage), not an error page.
  function keepOffline() {
    var sw = navigator.serviceWorker;
    if (!sw || !window.isSecureContext) return;
    sw.register("/sw.js", { scope: "/e/" }).then(function () { return sw.ready; }).then(function (reg) {
      var urls = [location.pathname];
      performance.getEntriesByType("resource").forEach(function (e) {
        var u = new URL(e.name);
        if (u.origin === location.origin && u.pathname.indexOf("/assets/") === 0) urls.push(u.pathname + u.search);
      });
      if (reg.active) reg.active.postMessage({ type: "keep", urls: urls });
    }).catch(function () { /* no offline shell: the page works as before */ });
  }

  /** Without the network: the event as last seen, what waits in the outbox, what was saved. */
  function offlineShell() {
    var ev = J.store.get(KEY.event);
    if (ev) useEvent(ev);
    renderProfile();
    show("app");
    updateOpenCount();
    setConn();
    renderLog();
  }

  // ------------------------------------------------------------------ start

  function init() {
    if (!code) { showError(t("err.no_code")); return; }
    link.fetchTimed("/api/events/" + code).then(function (r) {
      if (r.status === 404) { showError(t("err.no_event", { code: code })); return null; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (f) {
      if (!f) return;
      useEvent(f);
      if (f.state === "ended") { endEvent(); return; }
      if (token) { link.start(); return; }
      $("#profile-title").removeAttribute("data-i18n");
      J.setText($("#profile-title"), t("profile.join_title", { title: f.title || t("profile.the_event") }));
      show("profile");
      setConn();
    }).catch(function () {
      if (token) { offlineShell(); link.start(); return; }
      showError(t("err.unreachable"));
    });
  }
  // ------------------------------------------------------------------ language

  // The switch under "You": every language offered, by its own name. A change re-words the
  // page in place (typed text stays); the choice is kept on this device.
  function buildLanguageSwitch() {
    var select = $("#lang");
    LANGUAGES.forEach(function (l) {
      select.appendChild(el("option", { value: l.code, lang: l.code, dir: l.dir, text: l.name, selected: l.code === language() }));
    });
    select.value = language();
    select.addEventListener("change", function () {
      var chosen = select.value;
      use(chosen).then(function (lang) {
        remember(lang, safeStorage());
        rewordPage();
      });
    });
  }

  function rewordPage() {
    translatePage(document);
    qa.render();
    // Cards not being edited are rebuilt in the new language; one being typed in keeps its text.
    Array.from(open.keys()).forEach(function (k) {
      var ui = open.get(k);
      if (ui.editing()) return;
      var a = J.own(acts, k);
      var fresh = activityCard(a);
      ui.node.replaceWith(fresh.node);
      open.set(k, fresh);
    });
    if (facts) {
      J.setText($("#ask-hint"), t(moderated() ? "qa.moderated" : "qa.unmoderated"));
      if (profileBuilt) filterOrgs();
      if (!welcomed && !editing && facts.title && $("#view-profile").hidden === false) {
        J.setText($("#profile-title"), t("profile.join_title", { title: facts.title }));
      }
    }
    if (ended) J.setText($("#ended-text"), t("ended.text"));
    askInput();
    setConn();
    renderProfile();
    qa.renderQuestions();
    renderCards();
    renderLog();
    updateOpenCount();
    markAllMine();
  }

  // A frame on another site may be refused this phone's storage: the page then keeps the
  // token in memory only, and says what that means.
  var storageRefused = safeStorage() === null;
  $("#memory-only").hidden = !storageRefused;
  $("#memory-only-join").hidden = !storageRefused;

  // Outbox items of a previous visit keep the status line honest from the start.
  buildLanguageSwitch();
  askInput();
  setConn();
  renderLog();
  init();
  keepOffline();
})();
