/* The host's run of show: the sessions in order, each marked done, now, next or later.
   An activity not opened yet takes one line with its Open button, and gets its live chart
   once opened. A finished session folds: its header sums it up and each activity shrinks
   back to one line (state, responses, its buttons), so every control stays in reach; the
   host may fold a session away entirely, or open it, by its header. "Start this session"
   makes a session current (the `session` command: its Q&A, a room's screen); the server's
   current sessions are marked "Current", with "End this session" (a break-out's: "End this
   break-out") to clear it without starting another.
   `ctx` is the page's state and its command() (host.js). */
import { sessionStates, afterStates, summary } from "./run-of-show.js";
import { rate } from "./room-rates.js";
import * as J from "./common.js";
import { chart as resultChart } from "./charts.js";

const el = J.el;
const STATE_LABEL = { done: "Done", now: "Now", next: "Next", later: "Later" };

export function buildProgramme(ctx) {
  const ev = ctx.event;
  const box = J.clear(document.querySelector("#programme"));
  ctx.ui = J.table();
  ctx.sessionUI = [];
  ctx.sessionOf = J.table();
  let count = 0;
  (ev.sessions || []).forEach((s, si) => {
    const badge = el("span", { class: "badge ros-state" });
    const line = el("span", { class: "muted small ros-summary" });
    const details = el("details", { class: "ros", open: true },
      el("summary", {},
        el("h3", { id: "s-" + si },
          el("span", { class: "snum", text: String(si + 1) }),
          el("span", { class: "stitle", text: s.title }),
          s.room ? el("span", { class: "badge accent", text: s.room }) : null),
        badge, line));
    const body = el("div", { class: "ros-body" });
    details.appendChild(body);
    const currentBadge = el("span", { class: "badge ok", text: "Current session", hidden: true });
    const startBtn = el("button", { type: "button", class: "btn small secondary", "aria-describedby": "s-" + si, text: "Start this session" });
    startBtn.addEventListener("click", () => ctx.command({ type: "session", session: s.key }, startBtn));
    // Ends this session without starting another: a break-out room's alone (its phones and
    // its screen go back to the plenary's questions), or the plenary's.
    const endBtn = el("button", { type: "button", class: "btn small quiet", "aria-describedby": "s-" + si, text: s.room ? "End this break-out" : "End this session", hidden: true });
    endBtn.addEventListener("click", () => ctx.command(s.room ? { type: "session", session: null, room: s.room } : { type: "session", session: null }, endBtn));
    body.appendChild(el("div", { class: "row session-actions" }, startBtn, currentBadge, endBtn));
    if (!(s.activities || []).length) body.appendChild(el("p", { class: "muted nothing", text: "A talk: nothing to answer in this session." }));
    (s.activities || []).forEach((a) => {
      count++;
      const u = activityUI(ctx, ctx.acts[a.key]);
      ctx.ui[a.key] = u;
      body.appendChild(u.node);
    });
    ctx.sessionUI.push({ node: el("section", { class: "session", "aria-labelledby": "s-" + si }, details), details, badge, line, state: null, session: s, startBtn, currentBadge, endBtn });
    (s.activities || []).forEach((a) => { ctx.sessionOf[a.key] = si; });
    box.appendChild(ctx.sessionUI[si].node);
  });
  J.setText(document.querySelector("#prog-summary"), J.plural(ev.sessions.length, "session") + " · " + J.plural(count, "activity", "activities"));
  updateSessions(ctx);
  Object.keys(ctx.ui).forEach((k) => ctx.ui[k].update(true));
}

/** Marks each session done / now / next / later; a session folds as it becomes done and
    opens as it becomes now or next (the host may open or fold any by hand meanwhile). */
export function updateSessions(ctx) {
  const sessions = ctx.event.sessions || [];
  const c = ctx.current || { plenary: null, rooms: {} };
  const currentKeys = [c.plenary].concat(Object.values(c.rooms || {})).filter(Boolean);
  // The server's current session where there is one, else the Present mode step's.
  const serverNow = sessions.map((s, i) => (currentKeys.includes(s.key) ? i : -1)).filter((i) => i >= 0);
  // Once the live part has ended, every session is done (the evaluation is not a session),
  // but the one holding the open evaluation stays unfolded while it is open.
  const over = ctx.eventState === "ended" || ctx.phase === "after";
  const states = ctx.eventState !== "ended" && ctx.phase === "after" ? afterStates(sessions, ctx.rows)
    : sessionStates(sessions, ctx.rows, serverNow.length ? serverNow : ctx.currentSession(), over);
  ctx.sessionUI.forEach((u, i) => {
    const st = states[i];
    const isCurrent = !over && currentKeys.includes(u.session.key);
    u.currentBadge.hidden = !isCurrent;
    u.endBtn.hidden = !isCurrent || !ctx.phased;
    u.startBtn.hidden = !ctx.phased || isCurrent || ctx.eventState === "ended" || ctx.phase === "after";
    u.node.classList.toggle("is-current", isCurrent);
    J.setText(u.badge, STATE_LABEL[st]);
    u.badge.className = "badge ros-state " + st;
    u.node.setAttribute("data-state", st);
    J.setText(u.line, st === "done" ? summary(u.session, ctx.rows) : "");
    if (u.state !== st) {
      const folds = st === "done" || u.state === "done";
      if (st === "now") u.details.open = true;
      u.state = st;
      if (folds) (u.session.activities || []).forEach((a) => { if (ctx.ui[a.key]) ctx.ui[a.key].update(false); });
    }
  });
}

function activityUI(ctx, a) {
  const id = "h-" + a.key;
  const stateBadge = el("span", { class: "badge" });
  const revealBadge = el("span", { class: "badge accent", text: "Results shown" });
  const focusBadge = el("span", { class: "badge ok", text: "On screen" });
  const roomBadge = a.room ? el("span", { class: "badge", text: a.room + "’s screen follows" }) : null;
  const windowBadge = a.window ? el("span", { class: "badge accent", text: a.window === "before" ? "Opens before the event" : "For after the event" }) : null;
  const rateText = el("p", { class: "rate" });
  const lineCount = el("span", { class: "muted small line-count" });
  const meterFill = el("span", { class: "bar-fill" });
  const openBtn = el("button", { class: "btn small", type: "button", "aria-describedby": id + "-title" });
  const revealBtn = el("button", { class: "btn small secondary", type: "button", "aria-describedby": id + "-title" });
  const focusBtn = el("button", { class: "btn small quiet", type: "button", "aria-describedby": id + "-title", text: "Show on screen" });
  const live = el("div", { class: "act-live" },
    el("div", { class: "act-rate" }, rateText, el("span", { class: "bar-track", "aria-hidden": "true" }, meterFill)));
  const buttons = el("div", { class: "row act-buttons" }, openBtn, revealBtn, focusBtn);
  const node = el("article", { class: "act", id, "aria-labelledby": id + "-title" },
    el("div", { class: "act-head" },
      el("div", { class: "row" }, el("span", { class: "badge", text: J.kindName(a) }), stateBadge, revealBadge, focusBadge, roomBadge, windowBadge, lineCount),
      el("h4", { id: id + "-title", text: a.prompt })),
    live, buttons);
  let chart = null, feed = null;

  openBtn.addEventListener("click", () => {
    const r = ctx.row(a.key);
    ctx.command({ type: r.state === "open" ? "close" : "open", activity: a.key }, openBtn);
  });
  revealBtn.addEventListener("click", () => ctx.command({ type: "reveal", activity: a.key, show: !ctx.row(a.key).revealed }, revealBtn));
  focusBtn.addEventListener("click", () => ctx.command({ type: "focus", activity: ctx.focus === a.key ? null : a.key }, focusBtn));

  return {
    node,
    get feed() { return feed; },
    update(withTally) {
      const r = ctx.row(a.key);
      const st = r.state;
      const opened = st !== "ready";
      const session = ctx.sessionUI[ctx.sessionOf[a.key]];
      const folded = opened && !!session && session.state === "done";
      // Not opened yet, or its session done: one line. Else the live card, its chart built once.
      node.classList.toggle("is-line", !opened || folded);
      node.classList.toggle("is-folded", folded);
      live.hidden = !opened || folded;
      lineCount.hidden = !folded;
      J.setText(lineCount, J.plural(r.total || 0, a.kind === "pledge" ? "signature" : "response"));
      revealBtn.hidden = !opened;
      if (opened && !chart) {
        chart = resultChart(a);
        feed = a.kind === "text" ? el("ul", { class: "feed", "aria-label": "Latest answers" }) : null;
        node.append(chart.node);
        if (feed) node.append(feed);
        ctx.renderFeed(a.key);
        withTally = true;
      }
      J.setText(stateBadge, st === "open" ? "Open" : st === "closed" ? "Closed" : "Not opened yet");
      stateBadge.className = "badge " + (st === "open" ? "ok" : st === "closed" ? "" : "warn");
      stateBadge.hidden = !opened;
      revealBadge.hidden = !r.revealed;
      focusBadge.hidden = ctx.focus !== a.key;
      node.classList.toggle("is-open", st === "open");
      node.classList.toggle("is-focus", ctx.focus === a.key);
      J.setText(openBtn, st === "open" ? "Close" : st === "closed" ? "Reopen" : "Open");
      // The server opens an activity for after the event only in the after phase, and in the
      // after phase nothing else: no button the server would refuse.
      openBtn.hidden = st !== "open" && !!ctx.phased && (a.window === "after") !== (ctx.phase === "after");
      openBtn.className = "btn small" + (st === "open" ? " danger-outline" : "");
      J.setText(revealBtn, r.revealed ? "Hide results" : "Show results");
      focusBtn.setAttribute("aria-pressed", ctx.focus === a.key ? "true" : "false");
      const total = r.total || 0;
      const rt = rate(total, ctx.attendance, a.room);
      J.setText(rateText, J.plural(total, a.kind === "pledge" ? "signature" : "response") + " · " + rt.label);
      meterFill.style.width = rt.share + "%";
      if (withTally && chart) chart.update(r.tally || { total });
    }
  };
}
