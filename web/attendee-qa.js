/* Joinup attendee page: the event's phase and its Q&A per session (issue 21). The phase
   banner (before: when the event starts and whether questions are open; after: "tell us how
   it went"), the questions grouped by session with "Now: <session>" first, the ask form's
   session picker (the current session by default, any session the person may see), and the
   prompt to choose a room when a break-out session starts and they have none.
   The ask form is here too. The logic is in phases.js; attendee.js hooks this in through
   `ctx` (the page's state, send() and whether the link is up). */
import * as J from "./common.js";
import { t, language } from "./i18n.js";
import { phaseOf, attendeeNotice, canAsk, advanceOpen, when, visibleSessions, currentOf, defaultSession, needsRoom, groupBySession } from "./phases.js";

const el = J.el, $ = J.$;

/**
 * ctx: {facts(), profile(), questions(), voted (Set), pendingVote(id), send(msg), ready(),
 * chooseRoom(room)}. Returns {setPhase(m), setCurrent(m), render(), renderQuestions(),
 * askInput(), refusal(phase), voteRefused(id, text), phase()}.
 */
export function qaView(ctx) {
  let phase = "live";
  let current = { plenary: null, rooms: {} };
  /** The session the person picked in the ask form, or undefined to follow the current one. */
  let picked;
  /** The room sessions already answered "not in a room" for: asked again when another starts. */
  let roomDeclined = "";
  const items = {};

  const banner = $("#phase-notice");
  const picker = $("#ask-session");
  picker.addEventListener("change", () => { picked = picker.value === "" ? null : picker.value; });

  /** The phase from `welcome`, a `phase` frame or the public facts. */
  function setPhase(m) {
    const was = phase;
    phase = phaseOf(m);
    if (phase !== was) {
      // What the form said of the last question belongs to the phase that is over.
      const st = $("#ask-state");
      st.textContent = "";
      st.removeAttribute("data-state");
    }
    // The page's CSS keeps the reactions bar for the live part only (the server takes
    // reactions only then).
    document.body.setAttribute("data-phase", phase);
    render();
  }

  /** The current sessions from `welcome` or a `session` frame. */
  function setCurrent(m) {
    const before = JSON.stringify(current);
    current = currentOf(m);
    // A new session started: the form follows it again, whatever was picked for the last one.
    if (JSON.stringify(current) !== before) picked = undefined;
    render();
  }

  /** Dates as the person's language writes them; English as in Britain ("23 November"). */
  function locale() { return language() === "en" ? "en-GB" : language(); }
  function room() { const p = ctx.profile(); return p && p.room ? p.room : null; }
  function facts() { return Object.assign({}, ctx.facts() || {}, { phase }); }
  /** A Q&A per session: the server says so with qa.scope (one that predates it has one Q&A). */
  function scoped() { const f = ctx.facts(); return !!(f && f.qa && f.qa.scope === "session"); }

  function render() {
    renderBanner();
    renderAsk();
    renderRoomPrompt();
    renderQuestions();
  }

  function renderBanner() {
    const notice = attendeeNotice(facts(), Date.now(), locale());
    banner.hidden = !notice || phase === "closed";
    banner.setAttribute("data-phase", phase);
    if (notice) J.setText(banner, t(notice.key, notice.vars));
  }

  /** The ask form: open while questions are taken, with a picker of the sessions the person
   * may see when the event has more than one place to ask. */
  function renderAsk() {
    const f = facts();
    const open = canAsk(f, Date.now());
    $("#ask-text").disabled = !open;
    // The Ask button follows the text again once questions are taken (askInput counts it).
    if (open) $("#ask-text").dispatchEvent(new Event("input"));
    else $("#ask-submit").disabled = true;
    const note = $("#ask-closed");
    note.hidden = open;
    if (!open) {
      const opens = phase === "before" && !advanceOpen(f, Date.now()) ? when(f.opens_at, locale()) : null;
      J.setText(note, phase === "after" ? t("qa.closed_after") : opens ? t("qa.opens_at", opens) : t("qa.closed_before"));
    }
    const sessions = visibleSessions(f.sessions, room());
    const field = $("#ask-session-field");
    field.hidden = !scoped() || !sessions.length || !open;
    if (field.hidden) return;
    const value = picked !== undefined ? picked : defaultSession(current, room());
    const want = [{ key: "", title: t("qa.whole_event") }].concat(sessions.map((s) => ({ key: s.key, title: s.title + (s.room ? " · " + s.room : "") })));
    const now = [current.plenary, room() && J.own(current.rooms, room())].filter(Boolean);
    const signature = want.map((o) => o.key + (now.indexOf(o.key) >= 0 ? "*" : "")).join("|") + language();
    if (picker.getAttribute("data-built") !== signature) {
      J.clear(picker);
      want.forEach((o) => picker.appendChild(el("option", { value: o.key, text: now.indexOf(o.key) >= 0 ? t("qa.now", { session: o.title }) : o.title })));
      picker.setAttribute("data-built", signature);
    }
    const known = want.some((o) => o.key === (value || ""));
    picker.value = known ? value || "" : "";
  }

  /** The session a new question goes to: the one the person picked, else absent, so the
   * server puts it in the current session as it is when the question arrives (under
   * qa.scope "event", always absent). */
  function askSession() {
    if (!scoped() || $("#ask-session-field").hidden || picked === undefined) return undefined;
    return picked;
  }

  function renderRoomPrompt() {
    const f = ctx.facts() || {};
    const box = $("#room-prompt");
    const roomSessions = Object.keys(current.rooms).map((r) => r + "=" + current.rooms[r]).join("|");
    const show = phase === "live" && needsRoom(current, room(), f.rooms) && roomDeclined !== roomSessions;
    box.hidden = !show;
    if (!show || box.getAttribute("data-for") === roomSessions + language()) return;
    box.setAttribute("data-for", roomSessions + language());
    const choices = el("div", { class: "row wrap" });
    (f.rooms || []).forEach((r) => choices.appendChild(el("button", { type: "button", class: "btn", text: r,
      onclick: () => { ctx.chooseRoom(r); box.hidden = true; } })));
    choices.appendChild(el("button", { type: "button", class: "btn secondary", text: t("profile.room_none"),
      onclick: () => { roomDeclined = roomSessions; box.hidden = true; } }));
    J.clear(box).append(el("h2", { id: "room-prompt-title", text: t("room.prompt_title") }),
      el("p", { text: t("room.prompt") }), choices);
  }

  function questionItem(q) {
    let item = items[q.id];
    if (!item) {
      const btn = el("button", { class: "btn secondary vote", type: "button", id: "vote-" + q.id });
      btn.addEventListener("click", () => {
        if (ctx.voted.has(q.id) || !canAsk(facts(), Date.now())) return;
        ctx.send({ type: "upvote", id: J.uuid(), question: q.id });
        renderQuestions();
      });
      item = items[q.id] = {
        li: el("li", { class: "card question" }),
        btn, n: el("span", { class: "n" }), w: el("span", { class: "w" }),
        text: el("p", { class: "qtext" }), badge: el("span", { class: "badge ok", "data-i18n": "qa.answered", text: t("qa.answered") }),
        refused: el("p", { class: "save-state", "data-state": "error", hidden: true })
      };
      btn.append(item.n, item.w);
      item.li.append(btn, el("div", { class: "qbody" }, item.text, item.badge, item.refused));
    }
    const pending = ctx.pendingVote(q.id);
    const mine = ctx.voted.has(q.id) || pending;
    J.setText(item.n, String(q.votes + (pending && !ctx.voted.has(q.id) ? 1 : 0)));
    J.setText(item.w, t(mine ? "qa.voted" : "qa.upvote"));
    item.btn.setAttribute("aria-pressed", mine ? "true" : "false");
    item.btn.setAttribute("aria-label", t(mine ? "qa.voted_label" : "qa.upvote_label", { n: q.votes }));
    item.btn.disabled = !mine && !canAsk(facts(), Date.now());
    J.setText(item.text, q.text);
    item.badge.hidden = !q.answered;
    return item;
  }

  /** The questions, by session: one list when there is only the event as a whole. */
  function renderQuestions() {
    const questions = ctx.questions();
    const box = $("#qlist");
    $("#no-questions").hidden = questions.length > 0;
    const groups = groupBySession(questions, (ctx.facts() || {}).sessions, current, room(), t("qa.whole_event"));
    const headed = groups.length > 1 || (groups.length === 1 && groups[0].session !== null);
    const seen = {};
    const sections = [];
    groups.forEach((g, gi) => {
      const id = "qg-" + gi;
      const heading = headed ? el("h4", { class: "qgroup-title", id: id + "-title", text: g.now ? t("qa.now", { session: g.title }) : g.title }) : null;
      const list = el("ol", { class: "qlist", "aria-labelledby": headed ? id + "-title" : "qlist-title", "data-session": g.session === null ? "" : g.session });
      g.questions.forEach((q) => { seen[q.id] = true; list.appendChild(questionItem(q).li); });
      sections.push(el("section", { class: "qgroup" + (g.now ? " now" : "") }, heading, list));
    });
    Object.keys(items).forEach((id) => { if (!seen[id]) delete items[id]; });
    const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement.id : null;
    J.clear(box);
    sections.forEach((s) => box.appendChild(s));
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }

  /** The question's counter, and the Ask button for 1 to 500 characters. */
  function askInput() {
    const n = Array.from($("#ask-text").value.trim()).length;
    J.setText($("#ask-count"), t("card.characters", { n: n, max: 500 }));
    $("#ask-submit").disabled = n < 1 || n > 500;
  }
  $("#ask-text").addEventListener("input", askInput);
  $("#ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("#ask-text").value.trim();
    if (!text) return;
    const ask = { type: "ask", id: J.uuid(), text: text };
    const session = askSession();
    if (session !== undefined) ask.session = session;
    ctx.send(ask);
    const st = $("#ask-state"), ready = ctx.ready();
    st.setAttribute("data-state", ready ? "pending" : "waiting");
    J.setText(st, t(ready ? "card.sending" : "qa.send_later"));
  });

  /** A refusal for the phase (`not_open`), in the person's words, by phase. */
  function refusal(phaseRefused) {
    return t(phaseRefused === "after" ? "err.not_open_after" : "err.not_open_before");
  }

  /** Shows a refused upvote beside its question. */
  function voteRefused(questionId, text) {
    const item = items[questionId];
    if (!item) return;
    item.refused.hidden = false;
    J.setText(item.refused, text);
  }

  return { setPhase, setCurrent, render, renderQuestions, askInput, refusal, voteRefused, phase: () => phase };
}
