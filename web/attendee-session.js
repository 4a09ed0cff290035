/* Joinup attendee page: the state its parts share (pageState) and the session: the link
   (outbox.js), what each server frame does, and the status line. Nothing runs on import
   (tests/browser/attendee-logic.test.mjs). */
import { Outbox, AnswerLog, Link, reason, retryable } from "./outbox.js";
import { CLOSE } from "./close-codes.js";
import { showSupport } from "./support.js";
import { ReactionsBar } from "./kinds.js";
import { t } from "./i18n.js";
import * as J from "./common.js";

const $ = J.$;

/** No ack this long with the link up: the network has gone unnoticed; say so, not "Sending…". */
export const ACK_PATIENCE_MS = 4000;

/** This phone's storage keys for an event. */
export function storageKeys(code) {
  return {
    token: "joinup.attendee." + code,
    outbox: "joinup.outbox." + code,
    profile: "joinup.profile." + code,
    log: "joinup.answers." + code,
    event: "joinup.event." + code
  };
}

/** The state the page's parts share: one object, handed to each. */
export function pageState(code, store) {
  const key = storageKeys(code);
  return {
    code, key,
    /** Public facts, then the welcome's event. */
    facts: null,
    /** Activities by key. */
    acts: J.table(),
    token: store.get(key.token) || null,
    outbox: new Outbox(store.get(key.outbox)),
    log: new AnswerLog(store.get(key.log)),
    /** {organisation, sector, room} or null. */
    profile: store.get(key.profile) || null,
    /** Activity key -> the answer the server holds. */
    answers: new Map(),
    questions: [],
    voted: new Set(),
    directory: [],
    welcomed: false,
    /** The profile form is open from "You". */
    editing: false,
    ended: false,
    /** outbox.js's Link, made by the session. */
    link: null
  };
}

/** Whether the event's questions (and cards) wait for a moderator. */
export function moderated(facts) { return !facts || !facts.qa || facts.qa.moderation === "pre"; }

/** The `hello`: the token, or on a first visit the join form's profile. */
export function helloMsg(token, profile) {
  const m = { type: "hello", attendee: token };
  if (!token && profile) {
    if (profile.organisation) m.organisation = profile.organisation;
    if (profile.sector) m.sector = profile.sector;
    if (profile.room) m.room = profile.room;
  }
  return m;
}

/** The status line, {state, key, vars} (key null: say nothing), from the link's flags,
 * ended, welcomed, offline, pending (outbox size) and stalled. */
export function connStatus(c) {
  const n = c.pending;
  if (c.stopped) return { state: c.ended ? "ended" : "stopped", key: c.ended ? "conn.ended" : "conn.stopped", vars: {} };
  if (c.ready && n && c.stalled) return { state: "offline", key: "card.offline", vars: {} };
  if (c.ready) return { state: n ? "waiting" : "live", key: n ? "conn.sending" : "conn.live", vars: {} };
  if (c.offline) return { state: "offline", key: n ? "conn.offline_pending" : "conn.offline", vars: n ? { n } : {} };
  if (!c.welcomed && !c.started) return { state: "waiting", key: null, vars: {} };
  if (!c.welcomed && !c.everReady) return { state: "waiting", key: "conn.connecting", vars: {} };
  return { state: "waiting", key: n ? "conn.reconnecting_pending" : "conn.reconnecting", vars: n ? { n } : {} };
}

/** The wait for acks: late() when the patience (from the last ack) runs out, checked
 * again after acks that came meanwhile, until nothing is pending or it is stalled. */
export function ackWatch(pending, late, clock) {
  let since = 0, timer = null;
  function watch() {
    if (!pending()) { since = 0; return; }
    if (!since) since = clock.now();
    if (timer) return;
    timer = clock.setTimeout(() => {
      timer = null;
      if (!pending()) return;
      late();
      if (!stalled()) watch();
    }, Math.max(0, since + ACK_PATIENCE_MS - clock.now()) + 50);
  }
  function stalled() { return !!pending() && !!since && clock.now() - since >= ACK_PATIENCE_MS; }
  function arrived() { since = pending() ? clock.now() : 0; watch(); }
  return { watch, stalled, arrived };
}

/** The tab's title: "(2) Event · Joinup" while two activities wait. */
export function pageTitle(title, n) {
  const base = title ? title + " · Joinup" : "Joinup";
  return n ? t("title.count", { n: n, title: base }) : base;
}

/** Refusals with their own words ("err.CODE"). */
const FRIENDLY = ["activity_closed", "unknown_activity", "not_available", "no_such_event"];
export function friendly(code) { return FRIENDLY.indexOf(code) >= 0 ? t("err." + code) : null; }

/** A save state's kind and words. */
export function mark(node, kind, text) {
  node.setAttribute("data-state", kind);
  J.setText(node, text);
}

/** The session; `ui` holds the page's other parts (attendee.js). */
export function attendeeSession(s, ui) {
  const store = J.store;
  function saveOutbox() { store.set(s.key.outbox, s.outbox.toJSON()); }
  function saveLog() { store.set(s.key.log, s.log.toJSON()); }
  function saveAll() { saveOutbox(); saveLog(); }
  function redraw() { setConn(); ui.cards.refreshAll(); ui.you.renderLog(); }

  const link = s.link = new Link(s.code, {
    WebSocket: window.WebSocket,
    EventSource: window.EventSource,
    fetch: window.fetch.bind(window),
    AbortController: window.AbortController,
    setTimeout: window.setTimeout.bind(window),
    clearTimeout: window.clearTimeout.bind(window),
    now: Date.now,
    random: Math.random,
    wsUrl: J.wsUrl,
    store: store
  }, {
    hello: () => helloMsg(s.token, s.profile),
    message: receive,
    closed: onClosed,
    pending: () => s.outbox.values(),
    changed: redraw
  });
  const acks = ackWatch(() => s.outbox.size, redraw, { now: Date.now, setTimeout: window.setTimeout.bind(window) });

  // Reactions go now or not at all: never through the outbox.
  const reactions = new ReactionsBar((msg) => {
    if (!link.ready) return false;
    link.transmit(msg);
    return true;
  });
  $("#view-app").appendChild(reactions.node);

  $("#error-retry").addEventListener("click", () => {
    link.stopped = false;
    ui.page.show("loading");
    if (s.facts) link.start(); else start();
  });
  window.addEventListener("online", () => { link.kick(); setConn(); });
  window.addEventListener("offline", redraw);

  function setConn() {
    const node = $("#conn");
    const c = connStatus({ stopped: link.stopped, ended: s.ended, ready: link.ready, started: link.started,
      everReady: link.everReady, welcomed: s.welcomed, offline: navigator.onLine === false,
      pending: s.outbox.size, stalled: acks.stalled() });
    const text = c.key ? t(c.key, c.vars) : "";
    J.setText(node, text);
    node.setAttribute("data-state", c.state);
    J.setText($("#you-conn"), link.mode === "sse" && link.ready ? t("conn.compat", { status: text }) : text);
    J.setText($("#none-open"), t(s.welcomed || link.ready ? "answer.none" : "answer.none_offline"));
    updateTitle();
  }

  function updateTitle() { document.title = pageTitle(s.facts && s.facts.title, ui.cards.unanswered()); }

  function send(msg) {
    s.outbox.add(msg);
    saveOutbox();
    link.transmit(msg);
    acks.watch();
    setConn();
  }

  function onClosed(c) {
    if (c === CLOSE.EVENT_ENDED) { endEvent(); return; }
    if (c === CLOSE.TOO_LARGE && link.lastSent) {
      const last = s.outbox.take(link.lastSent);
      if (last && last.current && last.msg.type === "answer") s.log.refused(last.msg.id, reason("too_large"));
      saveAll();
    }
    if (c === CLOSE.UNAUTHORIZED || c === CLOSE.TOO_LARGE) {
      link.stop();
      ui.page.showError(t(c === CLOSE.UNAUTHORIZED ? "err.unauthorized" : "err.too_large"));
    }
  }

  function receive(m) {
    switch (m.type) {
      case "welcome": onWelcome(m); break;
      case "event": onEvent(m.event); break;
      case "ack": onAck(m.id); break;
      case "error": onError(m); break;
      case "opened": ui.cards.add(m.activity); ui.cards.updateCount(); ui.you.renderLog(); break;
      case "closed": ui.cards.remove(m.activity); ui.cards.updateCount(); ui.you.renderLog(); break;
      case "results": ui.results.set(m.activity, m.tally, false); break;
      case "questions": s.questions = m.questions || []; ui.qa.renderQuestions(); break;
      case "phase": onPhase(m); break;
      case "session": ui.qa.setCurrent(m); break;
      case "directory": s.directory = m.cards || []; ui.directory.render(); break;
      case "support": showSupport(m.support); break;
      default: break;
    }
  }

  function onWelcome(m) {
    s.token = m.attendee;
    store.set(s.key.token, s.token);
    if (m.state === "ended") { endEvent(); return; }
    if (m.event) { useEvent(m.event); store.set(s.key.event, m.event); }
    if (m.profile) { s.profile = m.profile; store.set(s.key.profile, s.profile); }
    ui.you.renderProfile();
    s.answers = new Map(Object.entries(m.answers || {}));
    s.outbox.forgetReplaced();
    s.log.reconcile(m.answers || {}, s.outbox);
    saveLog();
    ui.cards.sync(m.open || []);
    ui.results.sync(m.results || {});
    s.questions = m.questions || [];
    s.voted.clear();
    (m.voted || []).forEach((id) => { s.voted.add(id); });
    ui.qa.setCurrent(m);
    ui.qa.setPhase(m);
    s.directory = m.directory || [];
    ui.directory.render();
    s.welcomed = true;
    if (!s.editing) ui.page.show("app");
    link.welcomed();
    setConn();
    ui.cards.refreshAll();
    ui.you.renderLog();
  }

  /** A `phase` frame: the banner, the ask form and the lists follow; closed ends the page. */
  function onPhase(m) {
    if (m.phase === "closed") { endEvent(); return; }
    if (s.facts) s.facts.closes_at = m.closes_at || s.facts.closes_at || null;
    ui.qa.setPhase(m);  // the notice is a status region: a screen reader hears the change
  }

  /** An edit while live: the new wording everywhere; what is typed or waiting stays. */
  function onEvent(ev) {
    if (!ev || !s.welcomed) return;
    useEvent(ev);
    s.acts = J.indexEvent(s.facts);
    store.set(s.key.event, ev);
    ui.you.rebuildProfileForm();
    ui.cards.respec();
    ui.results.respec();
    ui.cards.updateCount();
    ui.you.renderLog();
  }

  function onAck(id) {
    if (reactions.onAck(id)) return;
    const took = s.outbox.take(id);
    if (!took) return;
    acks.arrived();
    saveOutbox();
    const msg = took.msg;
    if (msg.type === "answer") {
      s.answers.set(msg.activity, msg.value);
      if (took.current) { s.log.saved(id); saveLog(); }
      ui.cards.refresh(msg.activity);
      ui.results.markMine(msg.activity);
      ui.you.renderLog();
      ui.cards.updateCount();
    } else if (msg.type === "ask") {
      const ta = $("#ask-text");
      if (ta.value.trim() === msg.text) { ta.value = ""; ui.qa.askInput(); }
      mark($("#ask-state"), "saved", t(moderated(s.facts) ? "qa.sent_moderated" : "qa.sent"));
    } else if (msg.type === "upvote") {
      s.voted.add(msg.question);
      ui.qa.renderQuestions();
    } else if (msg.type === "card") {
      ui.directory.shared();
    } else if (msg.type === "profile") {
      s.profile = { organisation: msg.organisation || null, sector: msg.sector || null, room: msg.room || null };
      store.set(s.key.profile, s.profile);
      ui.you.renderProfile();
      ui.qa.render();
      mark($("#profile-state"), "saved", t("profile.saved"));
      if (s.editing) { s.editing = false; ui.page.show("app"); ui.page.selectTab("you"); }
    }
    setConn();
  }

  function onError(m) {
    if (m.code === "event_ended") { endEvent(); return; }
    if (m.code === "no_such_event") { link.stop(); ui.page.showError(t("err.no_such_event")); return; }
    if (m.code === "not_joined") { link.start(); return; }
    if (m.id && reactions.onError(m)) return;
    if (m.id && !s.outbox.get(m.id)) {
      // A replaced answer's refusal: the newer one is the one that counts.
      s.outbox.take(m.id);
      if (m.code === "rate_limited") link.retryLater();
      return;
    }
    if (!m.id) { if (m.code === "rate_limited") link.retryLater(); return; }
    if (retryable(m.code)) { link.retryLater(); setConn(); return; }
    const msg = s.outbox.take(m.id).msg;
    saveOutbox();
    const text = m.code === "not_open" ? ui.qa.refusal(m.phase) : friendly(m.code) || m.message || t("err.not_saved");
    if (msg.type === "answer") {
      s.log.refused(msg.id, m.code === "not_open" ? text : reason(m.code, m.message));
      saveLog();
      ui.cards.refresh(msg.activity);
      ui.you.renderLog();
    } else if (msg.type === "ask") mark($("#ask-state"), "error", text);
    else if (msg.type === "card") mark($("#card-state"), "error", text);
    else if (msg.type === "profile") mark($("#profile-state"), "error", text);
    else if (msg.type === "upvote") { ui.qa.renderQuestions(); ui.qa.voteRefused(msg.question, text); }
    setConn();
  }

  function endEvent() {
    s.ended = true;
    $("#phase-notice").hidden = true;
    link.stop();
    let lost = 0;
    s.outbox.values().forEach((m) => {
      if (m.type !== "answer") return;
      lost++;
      s.log.refused(m.id, reason("event_ended"));
      s.outbox.take(m.id);
    });
    saveAll();
    J.setText($("#ended-text"), lost ? t("ended.lost", { n: lost }) : t("ended.text"));
    $("#ended-text").removeAttribute("data-i18n");
    ui.page.show("ended");
    setConn();
    ui.you.renderLog();
  }

  function useEvent(ev) {
    const f = s.facts;
    const fresh = !f || !f.sessions || !f.sessions.length || !f.sessions[0].activities;
    s.facts = Object.assign({}, f || {}, ev);
    if (fresh) s.acts = J.indexEvent(s.facts);
    $("#event-title").removeAttribute("data-i18n");
    J.setText($("#event-title"), s.facts.title || "Joinup");
    updateTitle();
    $("#tab-qa").hidden = !(s.facts.qa && s.facts.qa.enabled);
    $("#tab-directory").hidden = !(s.facts.directory && s.facts.directory.enabled);
    reactions.setKeys(s.facts.reactions);
    J.setText($("#ask-hint"), t(moderated(s.facts) ? "qa.moderated" : "qa.unmoderated"));
    ui.you.buildProfileForm();
    if (ev.phase) ui.qa.setPhase(ev);
  }

  /** Offline: the event as last seen, the outbox, what was saved. */
  function offlineShell() {
    const ev = store.get(s.key.event);
    if (ev) useEvent(ev);
    ui.you.renderProfile();
    ui.page.show("app");
    ui.cards.updateCount();
    setConn();
    ui.you.renderLog();
  }

  /** The public facts; then a newcomer joins, a known person connects. */
  function start() {
    const code = s.code;
    if (!code) { ui.page.showError(t("err.no_code")); return; }
    link.fetchTimed("/api/events/" + code).then((r) => {
      if (r.status === 404) { ui.page.showError(t("err.no_event", { code: code })); return null; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then((f) => {
      if (!f) return;
      useEvent(f);
      if (f.state === "ended") { endEvent(); return; }
      if (s.token) { link.start(); return; }
      $("#profile-title").removeAttribute("data-i18n");
      J.setText($("#profile-title"), t("profile.join_title", { title: f.title || t("profile.the_event") }));
      ui.page.show("profile");
      setConn();
    }).catch(() => {
      if (s.token) { offlineShell(); link.start(); return; }
      ui.page.showError(t("err.unreachable"));
    });
  }

  return { send, setConn, updateTitle, stalled: acks.stalled, start, saveLog };
}
