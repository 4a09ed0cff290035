/* Joinup attendee page: the activities. The open ones, a card each in programme order,
   saying how the answer stands (a card closed or edited while typed in keeps the text);
   and the results, a chart each with the person's answer marked. Nothing runs on import
   (tests/browser/attendee-logic.test.mjs). */
import { makeControl, describe } from "./kinds.js";
import { mark } from "./attendee-session.js";
import { chart as resultChart, describeTally } from "./charts.js";
import { t } from "./i18n.js";
import * as J from "./common.js";

const el = J.el, $ = J.$;

/** What the server kept when the last answer was refused, in words. */
export function kept(a, answers) {
  return answers.has(a.key) ? t("card.kept_earlier", { answer: describe(a, answers.get(a.key)) })
    : t("card.kept_nothing");
}

/** The line above a prompt: session and room. */
export function eyebrow(a, acts) {
  const s = a.sessionTitle || (J.own(acts, a.key) && acts[a.key].sessionTitle) || "";
  return el("p", { class: "eyebrow", text: s + (a.room ? " · " + a.room : "") });
}

/** How a card looks from how its answer stands (`c`: kind, has = the server holds one,
 * pending, refused, dirty, unfolded, valid, ready = link up, late = ack overdue); its
 * status line is [data-state, catalogue key]. */
export function cardLook(c) {
  const pledge = c.kind === "pledge";
  // Answered and saved: the card folds to its prompt and "Saved", out of the way.
  const folded = c.has && !c.pending && !c.refused && !c.dirty && !c.unfolded;
  let status;
  if (c.late) status = ["offline", "card.offline"];
  else if (c.pending && c.ready) status = ["pending", "card.sending"];
  else if (c.pending) status = ["waiting", "card.not_sent"];
  else if (c.refused && !c.dirty) status = ["error", "card.not_saved"];
  else if (c.has && !c.dirty) status = ["saved", "card.saved"];
  else if ((c.has || c.refused) && c.dirty) status = ["", "card.changed"];
  else status = ["", null];
  return {
    state: c.pending ? "pending" : c.refused ? "refused" : c.has ? "saved" : "",
    folded: folded,
    submit: pledge ? "card.sign" : c.refused && !c.dirty ? "card.send_again" : c.has || c.pending ? "card.update" : "card.send",
    submitHidden: pledge ? c.has && !c.pending && !c.refused : folded,
    submitDisabled: !c.valid || (c.pending && !c.dirty && c.ready && !c.late),
    changeHidden: !folded || pledge,
    status: status
  };
}

/** The Answer tab's open activities. */
export function activityCards(s, ui) {
  /** Activity key -> its card. */
  const open = new Map();
  // The card last answered here says "Thanks, waiting for the next question" once all are.
  let lastAnswered = null;

  function add(a) {
    if (!a || open.has(a.key)) return;
    if (J.own(s.acts, a.key)) { a.sessionTitle = s.acts[a.key].sessionTitle; } else s.acts[a.key] = a;
    const stale = document.getElementById("act-" + a.key);
    if (stale) stale.remove();  // the same activity, closed while typing, open again
    const card = activityCard(a);
    open.set(a.key, card);
    const list = $("#open-list");
    // Keep the programme's order.
    const order = Object.keys(s.acts);
    let before = null;
    Array.prototype.some.call(list.children, (n) => {
      if (order.indexOf(n.getAttribute("data-key")) > order.indexOf(a.key)) { before = n; return true; }
      return false;
    });
    list.insertBefore(card.node, before);
    if (s.welcomed) J.announce(t("answer.now_open", { prompt: a.prompt }));
  }

  function remove(key) {
    const card = open.get(key);
    if (!card) return;
    open.delete(key);
    // A card closed while the person was typing keeps their text on screen.
    if (!card.close()) card.node.remove();
  }

  /** The welcome's open activities; every card shows what the server holds. */
  function sync(list) {
    const now = new Set(list.map((a) => a.key));
    Array.from(open.keys()).forEach((k) => { if (!now.has(k)) remove(k); });
    list.forEach(add);
    open.forEach((card) => { card.fromServer(); });
    updateCount();
  }

  /** An edit: each card drawn again, taking over what was typed. */
  function respec() {
    Array.from(open.keys()).forEach((key) => {
      const card = open.get(key);
      const a = J.own(s.acts, key) ? s.acts[key] : null;
      if (!a) {
        open.delete(key);
        card.gone();
        return;
      }
      const fresh = activityCard(a);
      fresh.takeOver(card);
      open.set(key, fresh);
    });
    // A card left on screen after its activity closed keeps its text; it says so if the
    // activity is gone from the programme too.
    Array.prototype.forEach.call(document.querySelectorAll("#open-list [data-state=closed]"), (node) => {
      const key = node.getAttribute("data-key");
      if (!J.own(s.acts, key)) J.setText(node.querySelector(".save-state"), t("card.removed"));
    });
  }

  /** A new language: cards not being typed in are drawn again. */
  function reword() {
    Array.from(open.keys()).forEach((k) => {
      const card = open.get(k);
      if (card.editing()) return;
      const fresh = activityCard(J.own(s.acts, k));
      card.node.replaceWith(fresh.node);
      open.set(k, fresh);
    });
  }

  /** Open activities not yet answered (an answer waiting to be sent counts as given). */
  function unanswered() {
    let n = 0;
    open.forEach((card) => { if (!card.answered()) n++; });
    return n;
  }

  function updateCount() {
    const n = unanswered();
    const c = $("#open-count");
    c.hidden = !n;
    J.setText(c, String(n));
    c.setAttribute("aria-label", t("tabs.open_count", { n: n }));
    $("#none-open").hidden = open.size > 0 || !!$("#open-list [data-state=closed]");
    ui.session.updateTitle();
    refreshAll();  // "Thanks, waiting for the next question" only when nothing else waits
  }

  function refreshAll() { open.forEach((card) => { card.refresh(); }); }
  function refresh(key) { const card = open.get(key); if (card) card.refresh(); }
  function isOpen(key) { return open.has(key); }

  function activityCard(a) {
    const id = "act-" + a.key;
    const title = el("h3", { class: "prompt", id: id + "-title", text: a.prompt });
    const status = el("p", { class: "save-state", id: id + "-state", "aria-live": "polite" });
    const submit = el("button", { class: "btn", type: "submit" });
    const thanks = el("p", { class: "thanks", id: id + "-thanks", hidden: true });
    const change = el("button", { class: "btn secondary", type: "button", id: id + "-change", hidden: true });
    const form = el("form", { class: "card activity", id: id, "data-key": a.key, "aria-labelledby": id + "-title", novalidate: true });
    let dirty = false, unfolded = false, closed = false;
    const control = makeControl(a, id, () => { dirty = true; refresh(); }, () => s.profile);
    const actions = el("div", { class: "actions" }, submit, change, status);
    form.append(eyebrow(a, s.acts), title, control.node, thanks, actions);

    change.addEventListener("click", () => {
      unfolded = true;
      refresh();
      const first = control.node.querySelector("input:not([disabled]), textarea");
      if (first) first.focus();
    });

    function refused() {
      const rec = s.log.get(a.key);
      return rec && rec.state === "refused" && !s.outbox.answerFor(a.key) ? rec : null;
    }

    function refresh() {
      if (closed) return;
      const pending = !!s.outbox.answerFor(a.key);
      const has = s.answers.has(a.key);
      const no = refused();
      const ready = s.link.ready;
      const look = cardLook({ kind: a.kind, has, pending, refused: !!no, dirty, unfolded, ready,
        valid: control.get() !== null, late: pending && ready && ui.session.stalled() });
      J.setText(submit, t(look.submit));
      submit.hidden = look.submitHidden;
      if (a.kind === "pledge") control.sync(has || pending);
      control.node.hidden = look.folded;
      change.hidden = look.changeHidden;
      J.setText(change, t("card.change"));
      thanks.hidden = !look.folded || unanswered() > 0 || lastAnswered !== a.key;
      J.setText(thanks, t("card.thanks"));
      form.classList.toggle("folded", look.folded);
      submit.disabled = look.submitDisabled;
      form.setAttribute("data-state", look.state);
      const org = s.profile && s.profile.organisation;
      const key = look.status[1];
      let text = "";
      if (key === "card.not_saved") text = t(key, { reason: no.reason, kept: kept(a, s.answers) });
      else if (key === "card.saved" && a.kind === "pledge" && org) text = t("card.saved_signed", { organisation: org });
      else if (key) text = t(key);
      mark(status, look.status[0], text);
    }

    // What the control shows: the answer waiting to go, else the one last given and refused
    // (never an older one in its place), else the one the server holds.
    function showGiven() {
      const pending = s.outbox.answerFor(a.key), no = refused();
      if (pending) control.set(pending.value);
      else if (no) control.set(no.given);
      else if (s.answers.has(a.key)) control.set(s.answers.get(a.key));
    }

    /** The activity closed. Typed and not sent: the card stays, read-only, with its text,
     * saying so, until dismissed (true). Otherwise it goes (false). */
    function close() {
      const typing = dirty && control.get() !== null && !s.outbox.answerFor(a.key);
      if (!typing) return false;
      closed = true;
      form.setAttribute("data-state", "closed");
      Array.prototype.forEach.call(form.querySelectorAll("input, textarea"), (x) => {
        if (x.type === "radio" || x.type === "checkbox") x.disabled = true; else x.readOnly = true;
      });
      submit.hidden = true;
      change.hidden = true;
      thanks.hidden = true;
      mark(status, "error", t("card.just_closed"));
      const dismiss = el("button", { class: "btn secondary", type: "button", text: t("card.dismiss") });
      dismiss.addEventListener("click", () => { form.remove(); updateCount(); });
      actions.insertBefore(dismiss, status);
      return true;
    }

    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (closed) return;
      const v = control.get();
      if (v === null) return;
      dirty = false;
      unfolded = false;
      lastAnswered = a.key;
      const msg = { type: "answer", id: J.uuid(), activity: a.key, value: v };
      s.log.gave(msg, a.prompt, describe(a, v));
      ui.session.saveLog();
      ui.session.send(msg);
      refresh();
      ui.you.renderLog();
      updateCount();
    });

    showGiven();
    refresh();

    /** This card stands in for `old`, a card of the same activity drawn under the spec
     * before an edit: what was typed (and where) carries over, and the new card takes the
     * old one's place on screen. */
    function takeOver(old) {
      const was = old.typed();
      const same = was.dirty && was.kind === a.kind;
      if (same) {
        if (was.value !== null) control.set(was.value);
        dirty = true;
      }
      unfolded = was.unfolded;
      old.node.replaceWith(form);
      // Text as typed, spaces and all (the control hands back a tidied value), and its
      // counter with it.
      if (same) {
        was.fields.forEach((f) => {
          const input = document.getElementById(f.id);
          if (!input || !form.contains(input) || input.value === f.value) return;
          input.value = f.value;
          input.dispatchEvent(new Event("input", { bubbles: true }));
        });
      }
      const input = was.focus ? document.getElementById(was.focus) : null;
      if (input && form.contains(input)) {
        input.focus();
        if (was.selection && typeof input.setSelectionRange === "function") {
          try { input.setSelectionRange(was.selection[0], was.selection[1]); } catch (e) { /* not a text field */ }
        }
      }
      refresh();
    }

    /** What the person has done in this card that is not the server's. */
    function typed() {
      const focused = document.activeElement;
      const inside = focused && form.contains(focused) && focused.id;
      const fields = Array.prototype.filter.call(form.querySelectorAll("textarea, input"), (x) => {
        return x.id && (x.tagName === "TEXTAREA" || x.type === "text");
      }).map((x) => { return { id: x.id, value: x.value }; });
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
      mark(status, "error", t("card.removed"));
    }

    return {
      node: form,
      refresh: refresh,
      close: close,
      takeOver: takeOver,
      typed: typed,
      gone: gone,
      answered: () => s.answers.has(a.key) || !!s.outbox.answerFor(a.key),
      editing: () => dirty,
      fromServer: () => {
        if (!dirty) showGiven();
        refresh();
      }
    };
  }

  return { add, remove, sync, respec, reword, refresh, refreshAll, isOpen, unanswered, updateCount };
}

/** The indexes of the bars that are the person's answer `v`. */
export function minePicks(a, v) {
  if (a.kind === "choice" && Array.isArray(v)) return v;
  if (a.kind === "scale" && typeof v === "number") return [v - a.min];
  return [];
}

/** The results, newest first. */
export function resultsView(s) {
  const shown = new Map();

  /** A result shown or updated (announced unless `quiet`); no tally takes it away. */
  function set(key, tally, quiet) {
    const a = J.own(s.acts, key);
    if (!a) return;
    let r = shown.get(key);
    if (tally === null || tally === undefined) {
      if (r) { r.node.remove(); shown.delete(key); }
    } else {
      if (!r) {
        const chart = resultChart(a);
        const mine = el("p", { class: "your-answer", id: "res-" + key + "-mine", hidden: true });
        const node = el("article", { class: "card result", id: "res-" + key, "aria-labelledby": "res-" + key + "-title" },
          eyebrow(a, s.acts), el("h3", { id: "res-" + key + "-title", text: a.prompt }), mine, chart.node);
        $("#results-list").prepend(node);
        r = { node: node, chart: chart, mine: mine };
        shown.set(key, r);
      }
      r.chart.update(tally);
      r.tally = tally;
      mark(a, r);
      if (!quiet) J.announce(t("answer.results_for", { summary: describeTally(a, tally) }));
    }
    $("#results-block").hidden = !shown.size;
  }

  /** The welcome's results: those not in it go. */
  function sync(results) {
    const res = new Map(Object.entries(results));
    Array.from(shown.keys()).forEach((k) => { if (!res.has(k)) set(k, null, true); });
    res.forEach((tally, k) => { set(k, tally, true); });
  }

  /** An edit: each result drawn again. */
  function respec() {
    Array.from(shown.keys()).forEach((key) => {
      const tally = shown.get(key).tally;
      shown.get(key).node.remove();
      shown.delete(key);
      set(key, tally, true);
    });
  }

  /** A result shows the person's own answer: a line above the chart, and the bars (or
   * words) they chose marked "Your answer". */
  function mark(a, r) {
    const v = s.answers.has(a.key) ? s.answers.get(a.key) : null;
    r.mine.hidden = v === null;
    J.clear(r.mine);
    if (v !== null) r.mine.append(el("span", { class: "muted", text: t("answer.your_answer") + ": " }), describe(a, v));
    const picked = minePicks(a, v);
    Array.prototype.forEach.call(r.node.querySelectorAll(".bar-row"), (row, i) => {
      const on = picked.indexOf(i) >= 0;
      row.classList.toggle("mine", on);
      const tag = row.querySelector(".mine-tag");
      if (on && !tag) row.querySelector(".bar-label").prepend(el("span", { class: "mine-tag", text: t("answer.your_answer") }));
      else if (!on && tag) tag.remove();
      else if (tag) J.setText(tag, t("answer.your_answer"));
    });
    const words = a.kind === "words" && Array.isArray(v) ? v : [];
    Array.prototype.forEach.call(r.node.querySelectorAll(".cloud li"), (li) => {
      li.classList.toggle("mine", words.indexOf(li.firstChild.textContent) >= 0);
    });
  }

  function markMine(key) {
    const r = shown.get(key), a = J.own(s.acts, key);
    if (r && a) mark(a, r);
  }
  function markAll() { shown.forEach((r, k) => { markMine(k); }); }

  return { set, sync, respec, markMine, markAll };
}
