/* Joinup attendee page: the control for each kind of activity, {node, get() -> the value
   or null while not ready, set(value)}, and an answer in words. Choice, scale, words, text
   and pledge (below); a ranking (put every option in order, with buttons and the keyboard,
   never by dragging only) and 100 points (share a budget with number fields and steppers,
   the points left said as they change); and the reactions bar. attendee-cards.js hooks
   these in. Every string of ranking, points and reactions comes from STRINGS below, which
   takes it from the page's catalogue (web/i18n.js, keys "kinds.*") in the current language
   at the moment it is shown. The reactions' own names live in charts.js (REACTIONS, keys
   "reaction.*"), which the host's and the presenter's pages share in English. */
import { t, language } from "./i18n.js";
import { el, clear, setText, own, uuid } from "./common.js";
import { REACTIONS, reactionName } from "./charts.js";

/* A number in the current language's digits. */
function num(n) { return new Intl.NumberFormat(language()).format(n); }
/* Items as a list in the current language ("a, b, c"). */
function list(items) { return new Intl.ListFormat(language(), { type: "unit", style: "short" }).format(items); }

export const STRINGS = {
  rankingHint: () => t("kinds.ranking_hint"),
  moveUp: () => t("kinds.move_up"),
  moveDown: () => t("kinds.move_down"),
  moveUpLabel: (option) => t("kinds.move_up_label", { option }),
  moveDownLabel: (option) => t("kinds.move_down_label", { option }),
  moved: (option, rank, count) => t("kinds.moved", { option, rank, count }),
  // The answers in words: the options in their order, or each with its points.
  rankingGiven: (labels) => list(labels.map((l, i) => num(i + 1) + ". " + l)),
  pointsHint: (budget) => t("kinds.points_hint", { n: budget }),
  less: (step, option) => t("kinds.less", { n: step, option }),
  more: (step, option) => t("kinds.more", { n: step, option }),
  pointsLeft: (left) => t("kinds.points_left", { n: left }),
  pointsDone: () => t("kinds.points_done"),
  pointsOver: (over) => t("kinds.points_over", { n: over }),
  pointsBad: () => t("kinds.points_bad"),
  pointsGiven: (options, points) => list(options.map((o, i) => o + ": " + num(points[i] || 0))),
  reactionsTitle: () => t("kinds.reactions_title"),
  reactionsHint: () => t("kinds.reactions_hint"),
  reactionSent: (reaction) => t("kinds.reaction_sent", { reaction }),
  reactionWait: (reaction) => t("kinds.reaction_wait", { reaction }),
  reactionOffline: () => t("kinds.reaction_offline"),
  reactionRefused: (reaction) => t("kinds.reaction_refused", { reaction })
};

/* How long a reaction's button rests after it is sent: one counts every 5 seconds. */
const REACTION_REST_MS = 5000;
/* What a stepper button adds or takes. */
const STEP = 5;

/* The control for a ranking or points activity, or null for another kind. A control is
   {node, get() -> value or null when not ready, set(value)}. */
export function kindControl(a, id, changed) {
  if (a.kind === "ranking") return rankingControl(a, id, changed);
  if (a.kind === "points") return pointsControl(a, id, changed);
  return null;
}

/* The answer in words, or null for another kind. */
export function describeKind(a, v) {
  if (a.kind === "ranking") return STRINGS.rankingGiven((Array.isArray(v) ? v : []).map((i) => a.options[i]));
  if (a.kind === "points") return STRINGS.pointsGiven(a.options, Array.isArray(v) ? v : []);
  return null;
}

/* Moves the item at `from` to `to` in a copy of `order`. */
export function move(order, from, to) {
  const out = order.slice();
  if (from < 0 || from >= out.length || to < 0 || to >= out.length) return out;
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item);
  return out;
}

/* Reads point fields: {values, spent, valid} (valid: every field a whole number of 0 or more). */
export function readPoints(texts) {
  let spent = 0, valid = true;
  const values = texts.map((t) => {
    const s = String(t).trim();
    if (s === "") return 0;
    if (!/^\d+$/.test(s)) { valid = false; return 0; }
    const n = parseInt(s, 10);
    spent += n;
    return n;
  });
  return { values, spent, valid };
}

function rankingControl(a, id, changed) {
  const n = a.options.length;
  let order = a.options.map((o, i) => i);
  const hint = el("p", { class: "hint", id: id + "-hint", text: STRINGS.rankingHint() });
  const live = el("p", { class: "sr-only", "aria-live": "polite", id: id + "-live" });
  const list = el("ol", { class: "ranking", "aria-labelledby": id + "-title", "aria-describedby": id + "-hint" });

  function render(focusOption, which) {
    clear(list);
    order.forEach((option, pos) => {
      const label = a.options[option];
      const up = el("button", { type: "button", class: "btn secondary rank-move", "data-move": "up", "aria-label": STRINGS.moveUpLabel(label), disabled: pos === 0 },
        el("span", { "aria-hidden": "true", text: "▲" }), el("span", { class: "rank-move-text", text: STRINGS.moveUp() }));
      const down = el("button", { type: "button", class: "btn secondary rank-move", "data-move": "down", "aria-label": STRINGS.moveDownLabel(label), disabled: pos === n - 1 },
        el("span", { "aria-hidden": "true", text: "▼" }), el("span", { class: "rank-move-text", text: STRINGS.moveDown() }));
      const item = el("li", { class: "rank-item", "data-option": String(option) },
        el("span", { class: "rank-pos", "aria-hidden": "true", text: String(pos + 1) }),
        el("span", { class: "rank-label", text: label }),
        el("span", { class: "rank-buttons" }, up, down));
      list.appendChild(item);
      if (option === focusOption) {
        // Keep the focus on the moved option; at an end, on the button still usable.
        const target = which === "up" && pos === 0 ? down : which === "down" && pos === n - 1 ? up : which === "up" ? up : down;
        target.focus();
      }
    });
  }

  function shift(option, by) {
    const from = order.indexOf(option);
    const to = from + by;
    if (from < 0 || to < 0 || to >= n) return;
    order = move(order, from, to);
    render(option, by < 0 ? "up" : "down");
    setText(live, STRINGS.moved(a.options[option], to + 1, n));
    changed();
  }

  list.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-move]");
    if (!b) return;
    const option = parseInt(b.closest("li").getAttribute("data-option"), 10);
    shift(option, b.getAttribute("data-move") === "up" ? -1 : 1);
  });
  list.addEventListener("keydown", (e) => {
    if (!e.altKey || (e.key !== "ArrowUp" && e.key !== "ArrowDown")) return;
    const li = e.target.closest("li[data-option]");
    if (!li) return;
    e.preventDefault();
    shift(parseInt(li.getAttribute("data-option"), 10), e.key === "ArrowUp" ? -1 : 1);
  });
  render(null, null);

  return {
    node: el("div", {}, hint, list, live),
    get: () => order.slice(),
    set: (v) => {
      if (Array.isArray(v) && v.length === n && v.every((i) => Number.isInteger(i) && i >= 0 && i < n) && new Set(v).size === n) {
        order = v.slice();
        render(null, null);
      }
    }
  };
}

function pointsControl(a, id, changed) {
  const budget = a.budget || 100;
  const inputs = [];
  const left = el("p", { class: "points-left", id: id + "-left", "aria-live": "polite" });
  const hint = el("p", { class: "hint", id: id + "-hint", text: STRINGS.pointsHint(budget) });
  const rows = el("div", { class: "points", role: "group", "aria-labelledby": id + "-title", "aria-describedby": id + "-hint " + id + "-left" });
  a.options.forEach((o, i) => {
    const input = el("input", { type: "number", id: id + "-p" + i, min: "0", max: String(budget), step: "1", inputmode: "numeric", value: "0", "aria-describedby": id + "-left" });
    const less = el("button", { type: "button", class: "btn secondary step", "aria-label": STRINGS.less(STEP, o), "aria-controls": input.id, text: "−" });
    const more = el("button", { type: "button", class: "btn secondary step", "aria-label": STRINGS.more(STEP, o), "aria-controls": input.id, text: "+" });
    less.addEventListener("click", () => bump(i, -STEP));
    more.addEventListener("click", () => bump(i, STEP));
    input.addEventListener("input", () => { update(); changed(); });
    inputs.push(input);
    rows.appendChild(el("div", { class: "points-row" },
      el("label", { for: input.id, class: "points-label", text: o }),
      el("span", { class: "points-input" }, less, input, more)));
  });

  function read() { return readPoints(inputs.map((x) => x.value)); }

  function bump(i, by) {
    const r = read();
    const current = r.valid ? r.values[i] : 0;
    // Never past the budget: a "+" stops at what is left.
    const room = Math.max(0, budget - (r.spent - current));
    inputs[i].value = String(Math.max(0, Math.min(current + by, room)));
    update();
    changed();
  }

  function update() {
    const r = read();
    let text, state;
    if (!r.valid) { text = STRINGS.pointsBad(); state = "over"; }
    else if (r.spent > budget) { text = STRINGS.pointsOver(r.spent - budget); state = "over"; }
    else if (r.spent === budget) { text = STRINGS.pointsDone(); state = "done"; }
    else { text = STRINGS.pointsLeft(budget - r.spent); state = "left"; }
    setText(left, text);
    left.setAttribute("data-state", state);
  }
  update();

  return {
    node: el("div", {}, hint, rows, left),
    get: () => {
      const r = read();
      return r.valid && r.spent === budget ? r.values : null;
    },
    set: (v) => {
      inputs.forEach((x, i) => { x.value = String(Array.isArray(v) && Number.isInteger(v[i]) ? v[i] : 0); });
      update();
    }
  };
}

/* The reactions bar: one button per reaction the event offers. `transmit(msg)` sends a
   message now and says whether it could (reactions never wait in the outbox: a "slow down"
   from two minutes ago means nothing). */
export class ReactionsBar {
  constructor(transmit) {
    this.transmit = transmit;
    this.keys = [];
    this.sent = new Map(); // message id -> key
    this.buttons = new Map();
    this.status = el("p", { class: "reactions-status", "aria-live": "polite", id: "reactions-status" });
    this.row = el("div", { class: "reactions-buttons" });
    this.node = el("section", { class: "reactions-bar", id: "reactions", "aria-labelledby": "reactions-title", hidden: true },
      // data-i18n: a change of language re-words the bar in place (i18n.js translatePage).
      el("h2", { id: "reactions-title", class: "reactions-title", "data-i18n": "kinds.reactions_title", text: STRINGS.reactionsTitle() }),
      el("p", { class: "sr-only", id: "reactions-hint", "data-i18n": "kinds.reactions_hint", text: STRINGS.reactionsHint() }),
      this.row, this.status);
  }

  setKeys(keys) {
    keys = Array.isArray(keys) ? keys : [];
    if (keys.join() === this.keys.join()) return;
    this.keys = keys;
    clear(this.row);
    this.buttons.clear();
    keys.forEach((k) => {
      const b = el("button", { type: "button", class: "reaction", "data-reaction": k, "aria-describedby": "reactions-hint",
        text: reactionName(k) });
      if (own(REACTIONS, k)) b.setAttribute("data-i18n", "reaction." + k);
      b.addEventListener("click", () => this.react(k));
      this.buttons.set(k, b);
      this.row.appendChild(b);
    });
    this.node.hidden = !keys.length;
  }

  react(key) {
    const name = reactionName(key);
    const msg = { type: "react", id: uuid(), reaction: key };
    if (!this.transmit(msg)) { setText(this.status, STRINGS.reactionOffline()); return; }
    this.sent.set(msg.id, key);
    this.rest(key);
  }

  /* A sent reaction's button rests, as the server counts one every few seconds. */
  rest(key) {
    const b = this.buttons.get(key);
    if (!b) return;
    b.disabled = true;
    b.setAttribute("data-state", "sent");
    setTimeout(() => { b.disabled = false; b.removeAttribute("data-state"); }, REACTION_REST_MS);
  }

  /* True when the ack was for a reaction. */
  onAck(id) {
    const key = this.sent.get(id);
    if (key === undefined) return false;
    this.sent.delete(id);
    setText(this.status, STRINGS.reactionSent(reactionName(key)));
    return true;
  }

  /* True when the error was for a reaction. */
  onError(m) {
    const key = this.sent.get(m.id);
    if (key === undefined) return false;
    this.sent.delete(m.id);
    setText(this.status, m.code === "rate_limited"
      ? STRINGS.reactionWait(reactionName(key)) : STRINGS.reactionRefused(reactionName(key)));
    return true;
  }
}

// ------------------------------------------------------------------ choice, scale, words, text, pledge

/* Words as sent: trimmed, spaces collapsed, lower case, once each; null for none. */
export function wordsValue(typed) {
  const seen = new Set(), v = [];
  typed.forEach((x) => {
    const w = x.trim().replace(/\s+/g, " ").toLowerCase();
    if (w && !seen.has(w)) { seen.add(w); v.push(w); }
  });
  return v.length ? v : null;
}

/* Characters as a person counts them (an emoji is one), trimmed. */
export function textLength(typed) { return Array.from(typed.trim()).length; }

/* A text as sent: trimmed, 1 to `max` characters, else null. */
export function textValue(typed, max) {
  const n = textLength(typed);
  return n >= 1 && n <= max ? typed.trim() : null;
}

/* The indexes checked, when 1 to `max`; else null. */
export function choiceValue(checked, max) {
  const v = [];
  checked.forEach((on, i) => { if (on) v.push(i); });
  return v.length && v.length <= max ? v : null;
}

/* The answer in words, as the person chose it. */
export function describe(a, v) {
  if (!a) return typeof v === "string" ? v : JSON.stringify(v);
  const given = describeKind(a, v);
  if (given !== null) return given;
  if (a.kind === "choice") return (Array.isArray(v) ? v : []).map((i) => a.options[i]).join(", ");
  if (a.kind === "scale") return t("card.scale_value", { value: v, max: a.max });
  if (a.kind === "words") return (Array.isArray(v) ? v : []).join(", ");
  if (a.kind === "pledge") return t("card.signed");
  return String(v);
}

/* The control for any kind; `changed()` on every change, `profile()` for whom a pledge is
   signed. */
export function makeControl(a, id, changed, profile) {
  const more = kindControl(a, id, changed);
  if (more) return more;
  if (a.kind === "choice") return choiceControl(a, id, changed);
  if (a.kind === "scale") return scaleControl(a, id, changed);
  if (a.kind === "words") return wordsControl(a, id, changed);
  if (a.kind === "text") return textControl(a, id, changed);
  return pledgeControl(a, profile);
}

function choiceControl(a, id, changed) {
  const multiple = !!a.multiple;
  const max = multiple ? Math.min(a.max_choices || a.options.length, a.options.length) : 1;
  const hint = multiple ? el("p", { class: "hint", id: id + "-hint" }) : null;
  const inputs = [];
  const group = el("div", { class: "options", role: multiple ? "group" : "radiogroup", "aria-labelledby": id + "-title", "aria-describedby": hint ? id + "-hint" : null });
  a.options.forEach((o, i) => {
    const input = el("input", { type: multiple ? "checkbox" : "radio", name: id, value: String(i), id: id + "-" + i });
    inputs.push(input);
    group.appendChild(el("label", { class: "option", for: id + "-" + i }, input, el("span", { text: o })));
  });
  function limit() {
    if (!multiple) return;
    const n = inputs.filter((x) => x.checked).length;
    inputs.forEach((x) => { x.disabled = !x.checked && n >= max; });
    setText(hint, max < a.options.length ? t("card.choose_up_to", { max: max, n: n }) : t("card.choose_all", { n: n }));
  }
  group.addEventListener("change", () => { limit(); changed(); });
  limit();
  return {
    node: el("div", {}, hint, group),
    get: () => choiceValue(inputs.map((x) => x.checked), max),
    set: (v) => {
      inputs.forEach((x, i) => { x.checked = Array.isArray(v) && v.indexOf(i) >= 0; });
      limit();
    }
  };
}

function scaleControl(a, id, changed) {
  const inputs = [];
  const group = el("div", { class: "scale", role: "radiogroup", "aria-labelledby": id + "-title" });
  for (let v = a.min; v <= a.max; v++) {
    const end = v === a.min && a.labels && a.labels.min ? a.labels.min : v === a.max && a.labels && a.labels.max ? a.labels.max : "";
    const input = el("input", { type: "radio", name: id, value: String(v), id: id + "-" + v });
    inputs.push(input);
    group.appendChild(el("label", { class: "option", for: id + "-" + v }, input, el("span", { text: String(v) }),
      end ? el("span", { class: "sr-only", text: " " + end }) : null));
  }
  group.addEventListener("change", changed);
  const ends = a.labels ? el("p", { class: "scale-ends", "aria-hidden": "true" },
    el("span", { text: a.min + " = " + (a.labels.min || "") }), el("span", { text: a.max + " = " + (a.labels.max || "") })) : null;
  return {
    node: el("div", {}, group, ends),
    get: () => {
      const c = inputs.filter((x) => x.checked)[0];
      return c ? parseInt(c.value, 10) : null;
    },
    set: (val) => { inputs.forEach((x) => { x.checked = parseInt(x.value, 10) === val; }); }
  };
}

function wordsControl(a, id, changed) {
  const max = a.max_words || 1;
  const inputs = [];
  const box = el("div", { class: "words", role: "group", "aria-labelledby": id + "-title", "aria-describedby": id + "-hint" });
  for (let i = 0; i < max; i++) {
    const input = el("input", { type: "text", id: id + "-w" + i, maxlength: "25", autocomplete: "off", autocapitalize: "none", enterkeyhint: i + 1 < max ? "next" : "send" });
    input.addEventListener("input", changed);
    inputs.push(input);
    box.appendChild(el("div", {},
      el("label", { for: input.id, class: max > 1 ? null : "sr-only", text: max > 1 ? t(i ? "card.word_n_optional" : "card.word_n", { i: i + 1 }) : t("card.word_one") }), input));
  }
  const hint = el("p", { class: "hint", id: id + "-hint", text: max > 1 ? t("card.words_hint", { max: max }) : t("card.word_hint") });
  return {
    node: el("div", {}, hint, box),
    get: () => wordsValue(inputs.map((x) => x.value)),
    set: (v) => { inputs.forEach((x, i) => { x.value = (v && v[i]) || ""; }); }
  };
}

function textControl(a, id, changed) {
  const max = a.max_len || 1000;
  const ta = el("textarea", { id: id + "-text", maxlength: String(max), rows: "4", "aria-labelledby": id + "-title", "aria-describedby": id + "-count" });
  const count = el("p", { class: "counter", id: id + "-count" });
  function update() {
    const n = textLength(ta.value);
    setText(count, t("card.characters", { n: n, max: max }));
    count.classList.toggle("over", n > max);
  }
  ta.addEventListener("input", () => { update(); changed(); });
  update();
  return {
    node: el("div", {}, ta, count),
    get: () => textValue(ta.value, max),
    set: (v) => { ta.value = typeof v === "string" ? v : ""; update(); }
  };
}

function pledgeControl(a, profile) {
  const who = el("p", { class: "hint" });
  return {
    node: el("div", {}, el("blockquote", { class: "pledge-text", text: a.text || "" }), who),
    get: () => true,
    set: () => { /* a pledge is only ever signed */ },
    sync: (signed) => {
      const p = profile();
      const org = p && p.organisation;
      setText(who, signed ? "" : org ? t("card.sign_for", { organisation: org }) : t("card.sign_add_org"));
      who.hidden = signed;
    }
  };
}
