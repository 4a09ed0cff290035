/* The host's moderation: a queue each for questions (by votes, with the session they were
   asked in), text answers and cards, and a Safeguarding view for the event's lead with every
   item that may disclose a risk. Several items of a queue are approved or hidden at once
   (`moderate` with `targets`); a new question or concern shows on its queue's button and is
   announced. Questions are moderated per session: the current sessions' first, a filter for
   one session (or the event as a whole), each marked with its session and whether it was
   sent in advance (before the event started) with its votes. The list grows with "Show more", never in a box of its own that scrolls. */
import { queues, batchTargets, concernName } from "./queues.js";
import { hostQuestions } from "./phases.js";
import * as J from "./common.js";

const el = J.el;
const $ = J.$;
const PAGE = 20;
const STATE_TEXT = { pending: "Waiting", approved: "Visible", hidden: "Hidden", answered: "Answered" };
const KIND_TEXT = { question: "Question", text: "Text answer", card: "Service card" };
const QUEUE_NAME = { question: "questions", text: "text answers", card: "cards", concern: "safeguarding concerns" };
const ONE = { question: "question", text: "text answer", card: "card", concern: "safeguarding concern" };

export function moderation(ctx) {
  let queue = "question", shown = PAGE;
  const selected = new Set();
  const fresh = { question: 0, concern: 0 };
  const nodes = new Map();
  const list = $("#modlist");
  /** The question queue's session filter: "all", "" (the event as a whole) or a session key. */
  let sessionFilter = "all";
  const picker = $("#q-session");
  picker.addEventListener("change", () => { sessionFilter = picker.value; shown = PAGE; selected.clear(); render(); });

  function items() {
    return Object.keys(ctx.items).map((k) => ctx.items[k]);
  }

  function noteArrival(kind, data, isNew) {
    if (!isNew) return;
    if (data.concern) {
      if (queue !== "concern") fresh.concern++;
      J.announce("A possible safeguarding concern has arrived, in Safeguarding.");
    } else if (kind === "question") {
      if (queue !== "question") fresh.question++;
      J.announce("New question: " + data.text);
    }
  }

  function lead() {
    const box = $("#sg-lead");
    const sg = ctx.safeguarding;
    box.hidden = queue !== "concern";
    J.clear(box);
    box.append(el("p", {}, sg
      ? ["For ", el("strong", { text: sg.lead }), ", the event's safeguarding lead" + (sg.lead_contact ? " (" + sg.lead_contact + ")" : "") + ". "]
      : "This event names no safeguarding lead. ",
      "Items that may disclose a risk to someone (self-harm, suicide, abuse, someone in danger) wait here, whatever the moderation rule. They are never deleted, never shown on screen until approved, and their writer was shown the support card."));
  }

  /** A session's title by key; "The event as a whole" for none. */
  function sessionTitle(key) {
    const s = (ctx.event.sessions || []).find((x) => x.key === key);
    return s ? s.title + (s.room ? " · " + s.room : "") : "The event as a whole";
  }

  /** The session filter, shown on the question queue when the event has a Q&A per session. */
  function renderFilter() {
    const field = $("#q-session-field");
    const scoped = !!(ctx.event.qa && ctx.event.qa.scope === "session");
    field.hidden = queue !== "question" || !scoped;
    if (field.hidden) return;
    const counts = {};
    items().filter((i) => i.kind === "question" && !i.data.concern).forEach((i) => {
      const k = i.data.session || "";
      counts[k] = (counts[k] || 0) + 1;
    });
    const now = [ctx.current.plenary].concat(Object.values(ctx.current.rooms || {})).filter(Boolean);
    const options = [{ value: "all", text: "All sessions (current first)" }]
      .concat((ctx.event.sessions || []).map((s) => ({ value: s.key, text: (now.includes(s.key) ? "Now: " : "") + sessionTitle(s.key) + " (" + (counts[s.key] || 0) + ")" })))
      .concat([{ value: "", text: "The event as a whole (" + (counts[""] || 0) + ")" }]);
    const signature = options.map((o) => o.value + o.text).join("|");
    if (picker.getAttribute("data-built") !== signature) {
      J.clear(picker);
      options.forEach((o) => picker.appendChild(el("option", { value: o.value, text: o.text })));
      picker.setAttribute("data-built", signature);
    }
    picker.value = sessionFilter;
  }

  /** The items of the queue shown: a question queue only the filtered session's. */
  function shownQueue(q) {
    return queue === "question" ? hostQuestions(q.question, sessionFilter, ctx.current) : q[queue];
  }

  function render() {
    const q = queues(items());
    renderFilter();
    const current = shownQueue(q);
    Object.keys(QUEUE_NAME).forEach((k) => {
      const n = $("#q-" + k);
      const cue = fresh[k] ? " · " + fresh[k] + " new" : "";
      J.setText(n, q.waiting[k] ? " " + q.waiting[k] + cue : cue);
      n.setAttribute("aria-hidden", "true");
      n.className = "qcount" + (fresh[k] ? " fresh" : "") + (k === "concern" && q.waiting[k] ? " alert" : "");
    });
    lead();
    const waitingAll = Object.keys(QUEUE_NAME).filter((k) => q.waiting[k]).map((k) => J.plural(q.waiting[k], ONE[k], QUEUE_NAME[k]));
    J.setText($("#mod-summary"), (waitingAll.length ? "Waiting: " + waitingAll.join(", ") + "." : "Nothing is waiting.") +
      (current.length ? "" : " No " + QUEUE_NAME[queue] + " yet."));
    // Batches: never for concerns, which a person reads one by one.
    $("#batch").hidden = queue === "concern" || !current.length;
    Array.from(selected).forEach((id) => { if (!current.some((i) => i.data.id === id)) selected.delete(id); });
    const approvable = batchTargets(current, selected, "approve").length;
    const hideable = batchTargets(current, selected, "hide").length;
    J.setText($("#batch-approve"), "Approve selected" + (approvable ? " (" + approvable + ")" : ""));
    J.setText($("#batch-hide"), "Hide selected" + (hideable ? " (" + hideable + ")" : ""));
    $("#batch-approve").disabled = !approvable || ctx.eventState === "ended";
    $("#batch-hide").disabled = !hideable || ctx.eventState === "ended";
    const waiting = current.filter((i) => i.data.state === "pending");
    $("#sel-all").checked = waiting.length > 0 && waiting.every((i) => selected.has(i.data.id));
    $("#sel-all").disabled = !waiting.length;

    const active = document.activeElement && list.contains(document.activeElement) ? document.activeElement : null;
    const activeId = active && active.id;
    const activeItem = active && active.closest("li") ? active.closest("li").id : null;
    const visible = current.slice(0, shown);
    const keep = new Set();
    visible.forEach((i, idx) => {
      const key = i.kind + ":" + i.data.id;
      keep.add(key);
      const node = itemNode(i, nodes.get(key));
      nodes.set(key, node);
      if (list.children[idx] !== node) list.insertBefore(node, list.children[idx] || null);
    });
    Array.from(nodes.keys()).forEach((k) => { if (!keep.has(k)) { nodes.get(k).remove(); nodes.delete(k); } });
    const more = current.length - visible.length;
    $("#mod-more").hidden = more <= 0;
    J.setText($("#mod-more"), "Show " + Math.min(PAGE, more) + " more (" + more + " not shown)");
    if (active && !list.contains(document.activeElement)) {
      const again = activeId && document.getElementById(activeId);
      const item = activeItem && document.getElementById(activeItem);
      const target = again && !again.hidden ? again : item ? item.querySelector("button:not([hidden])") || item : $("#mod-title");
      if (target.id === "mod-title") target.setAttribute("tabindex", "-1");
      target.focus();
    }
  }

  function itemNode(i, node) {
    const d = i.data;
    const nid = "m-" + i.kind + "-" + d.id;
    if (!node) node = el("li", { class: "mod", id: nid, tabindex: "-1" });
    J.clear(node);
    node.classList.toggle("flagged", !!d.flagged);
    node.classList.toggle("concern", !!d.concern);
    const head = el("div", { class: "row" },
      queue !== "concern" && d.state === "pending"
        ? el("input", { type: "checkbox", class: "pick", id: nid + "-pick", "aria-label": "Select: " + (d.text || d.service || ""), checked: selected.has(d.id) })
        : null,
      el("span", { class: "badge", text: KIND_TEXT[i.kind] }),
      el("span", { class: "badge " + (d.state === "pending" ? "warn" : d.state === "hidden" ? "" : "ok"), text: STATE_TEXT[d.state] || d.state }),
      d.concern ? el("span", { class: "badge danger", text: "Possible disclosure: " + concernName(d.concern) }) : null,
      d.flagged ? el("span", { class: "badge danger", text: "⚑ Flagged: check before approving" }) : null,
      i.kind === "question" && d.advance ? el("span", { class: "badge accent", text: "Sent in advance" }) : null,
      i.kind === "question" ? el("span", { class: "muted small", text: J.plural(d.votes || 0, "vote") + " · " + sessionTitle(d.session || null) }) : null);
    const pick = head.querySelector(".pick");
    if (pick) pick.addEventListener("change", () => { if (pick.checked) selected.add(d.id); else selected.delete(d.id); render(); });
    let body;
    if (i.kind === "card") {
      body = el("div", { class: "mod-body" },
        el("p", { class: "strong", text: d.service + " · " + d.organisation }),
        el("p", { text: d.offer }),
        el("p", { class: "muted small", text: ["Referral: " + d.referral, "Contact: " + d.contact, [d.name, d.role].filter(Boolean).join(", ")].filter(Boolean).join(" · ") }));
    } else {
      body = el("div", { class: "mod-body" },
        i.kind === "text" && ctx.acts[d.activity] ? el("p", { class: "eyebrow", text: ctx.acts[d.activity].prompt }) : null,
        el("p", { class: "mod-text", text: d.text }));
    }
    const actions = el("div", { class: "row" });
    const act = (action, label, cls) => {
      const b = el("button", { type: "button", class: "btn small " + cls, id: nid + "-" + action, text: label, "aria-describedby": nid + "-desc" });
      b.disabled = ctx.eventState === "ended";
      b.addEventListener("click", () => ctx.command({ type: "moderate", item: i.kind, target: d.id, action }, b));
      actions.appendChild(b);
    };
    if (d.state !== "approved" && d.state !== "answered") act("approve", d.state === "hidden" ? "Show again" : "Approve", "");
    if (d.state !== "hidden") act("hide", "Hide", "quiet");
    if (i.kind === "question" && d.state !== "answered") act("answered", "Mark answered", "secondary");
    node.append(head, body, el("span", { class: "sr-only", id: nid + "-desc", text: KIND_TEXT[i.kind] + ": " + (d.text || d.service || "") }), actions);
    return node;
  }

  function batch(action, btn) {
    const current = shownQueue(queues(items()));
    const targets = batchTargets(current, selected, action);
    if (!targets.length) return;
    ctx.command({ type: "moderate", item: queue, targets, action }, btn);
    targets.forEach((id) => selected.delete(id));
  }

  document.querySelector(".filters").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-queue]");
    if (!b) return;
    queue = b.getAttribute("data-queue");
    shown = PAGE;
    selected.clear();
    if (queue in fresh) fresh[queue] = 0;
    document.querySelectorAll(".filters button").forEach((x) => x.setAttribute("aria-pressed", x === b ? "true" : "false"));
    render();
  });
  $("#sel-all").addEventListener("change", () => {
    const waiting = shownQueue(queues(items())).filter((i) => i.data.state === "pending");
    waiting.forEach((i) => { if ($("#sel-all").checked) selected.add(i.data.id); else selected.delete(i.data.id); });
    if ($("#sel-all").checked) shown = Math.max(shown, waiting.length);
    render();
  });
  $("#batch-approve").addEventListener("click", () => batch("approve", $("#batch-approve")));
  $("#batch-hide").addEventListener("click", () => batch("hide", $("#batch-hide")));
  $("#mod-more").addEventListener("click", () => {
    const first = list.children.length;
    shown += PAGE;
    render();
    const next = list.children[first];
    if (next) next.focus();
  });

  return { render, noteArrival };
}
