/* Joinup attendee page: the outbox, the record of every answer given, and the link to the
   server (WebSocket, or POST + Server-Sent Events), free of the DOM so `node:test` can drive
   them with fake sockets and clocks (tests/browser/outbox.test.mjs).

   The promise they keep: every answer the person gives ends as "saved" (the server's ack
   arrived) or "not saved, and why" (the server refused it), and never silently; until then
   it waits in the outbox, which survives reloads, and is sent again with the same id. */
import { t } from "./i18n.js";

/** WebSocket close codes (and the same codes in the stream's `close` event), by name. */
import { CLOSE, isApplicationCode } from "./close-codes.js";
export { CLOSE };

export const TIMING = Object.freeze({
  /** A WebSocket whose handshake and `welcome` have not both come by then is given up. */
  welcomeMs: 5000,
  /** A POST (hello or message) with no reply by then is given up. */
  postMs: 8000,
  /** WebSocket attempts that fail in a row before the page tries POST + event stream. */
  fallbackAfter: 3,
  /** On the fallback, how soon WebSocket is tried again (doubling up to `wsRetryMaxMs`). */
  wsRetryMs: 30000,
  wsRetryMaxMs: 300000,
  /** A reload within this long after a fallback starts on the fallback. */
  rememberFallbackMs: 600000,
});

/** The refusals the person may see, each with its words in web/i18n/ ("reason.CODE"). */
const REASONS = Object.freeze(["activity_closed", "unknown_activity", "not_available", "event_ended",
  "invalid_value", "invalid_message", "too_large"]);

/** Why the server refused an answer, in words (the current language) for the person who
 * gave it. */
export function reason(code, message) {
  if (REASONS.indexOf(code) >= 0) return t("reason." + code);
  return message ? t("reason.message", { message: message }) : t("reason.other");
}

/** Errors after which a message is worth sending again as it is. */
export function retryable(code) { return code === "rate_limited" || code === "unavailable"; }

/** Exponential backoff with jitter (common.js), shared with the staff pages' socket. */
import { backoff } from "./common.js";
export { backoff };

export function sameValue(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

// ------------------------------------------------------------------ outbox

/** Messages waiting for their ack, in the order given. A newer answer to the same activity
 * (or a newer card or profile) replaces the one still waiting. An answer already sent when it
 * was replaced is remembered, so its late ack still tells what the server holds. */
export class Outbox {
  constructor(items) {
    this.items = new Map();
    this.replaced = new Map();
    (items || []).forEach((m) => { if (m && typeof m.id === "string") this.items.set(m.id, m); });
  }
  get size() { return this.items.size; }
  get(id) { return this.items.get(id) || null; }
  values() { return Array.from(this.items.values()); }
  forEach(fn) { this.items.forEach(fn); }
  add(msg) {
    if (msg.type === "answer" || msg.type === "card" || msg.type === "profile") {
      for (const [id, o] of this.items) {
        if (o.type === msg.type && (msg.type !== "answer" || o.activity === msg.activity)) {
          this.items.delete(id);
          if (o.type === "answer") this.replaced.set(id, o);
        }
      }
    }
    this.items.set(msg.id, msg);
  }
  /** Takes the message with this id out: the waiting one, or an answer it replaced. */
  take(id) {
    const m = this.items.get(id);
    if (m) { this.items.delete(id); return { msg: m, current: true }; }
    const r = this.replaced.get(id);
    if (r) { this.replaced.delete(id); return { msg: r, current: false }; }
    return null;
  }
  /** A fresh welcome says what the server holds: replaced answers have nothing more to say. */
  forgetReplaced() { this.replaced.clear(); }
  answerFor(key) {
    let found = null;
    this.items.forEach((m) => { if (m.type === "answer" && m.activity === key) found = m; });
    return found;
  }
  latest(type) {
    let found = null;
    this.items.forEach((m) => { if (m.type === type) found = m; });
    return found;
  }
  toJSON() { return this.values(); }
}

// ------------------------------------------------------------------ what the person gave

/** One record per activity: the last answer given there, how it ended, and enough words to
 * show it without the event (a reload while offline). States: `pending` (in the outbox),
 * `saved` (acknowledged), `refused` (the server said no: `reason`). */
export class AnswerLog {
  constructor(entries) {
    this.map = new Map();
    (entries || []).forEach((r) => {
      if (r && typeof r.activity === "string" && typeof r.id === "string") this.map.set(r.activity, r);
    });
  }
  get(key) { return this.map.get(key) || null; }
  records() { return Array.from(this.map.values()); }
  gave(msg, prompt, text) {
    const r = { activity: msg.activity, id: msg.id, given: msg.value, text: text, prompt: prompt, state: "pending", reason: "" };
    this.map.set(msg.activity, r);
    return r;
  }
  /** The ack of message `id` arrived. Only the record's own message makes it saved. */
  saved(id) {
    for (const r of this.map.values()) {
      if (r.id === id) { r.state = "saved"; r.reason = ""; return r; }
    }
    return null;
  }
  refused(id, why) {
    for (const r of this.map.values()) {
      if (r.id === id) { r.state = "refused"; r.reason = why; return r; }
    }
    return null;
  }
  /** After a welcome: a saved record is what the server holds. A pending record whose
   * message left the outbox without an ack (dropped by hand) is refused. */
  reconcile(serverAnswers, outbox) {
    for (const r of this.map.values()) {
      if (r.state === "pending" && !outbox.get(r.id)) { r.state = "refused"; r.reason = reason(""); }
      if (r.state === "saved" && Object.prototype.hasOwnProperty.call(serverAnswers, r.activity)
        && !sameValue(serverAnswers[r.activity], r.given)) {
        r.given = serverAnswers[r.activity];
        r.text = null;
      }
    }
  }
  toJSON() { return this.records(); }
}

// ------------------------------------------------------------------ the link

/**
 * The connection to the event: WebSocket first; POST + Server-Sent Events when WebSocket
 * fails `fallbackAfter` times in a row while plain HTTP works (whether or not it worked
 * before); WebSocket again later. A handshake or `welcome` that does not come within
 * `welcomeMs` is a failure, and the next attempt is a new connection.
 *
 * env: { WebSocket, EventSource, fetch, AbortController, setTimeout, clearTimeout, now,
 *        random, wsUrl(path), store: {get, set} }
 * app: { hello(), message(m), closed(code), pending(), changed() }
 */
export class Link {
  constructor(code, env, app, timing) {
    this.code = code;
    this.env = env;
    this.app = app;
    this.t = Object.assign({}, TIMING, timing || {});
    this.mode = "ws";
    this.ready = false;
    this.everReady = false;
    this.started = false;
    this.stopped = false;
    this.failures = 0;
    this.attempt = 0;
    this.ws = null;
    this.es = null;
    this.probe = null;
    this.timer = null;
    this.retryTimer = null;
    this.probeTimer = null;
    this.probeDelay = this.t.wsRetryMs;
    this.inflight = new Set();
    this.lastSent = null;
    this.gen = 0;
    const pref = env.store && env.store.get("joinup.transport");
    if (pref && pref.mode === "sse" && env.now() - pref.at < this.t.rememberFallbackMs) this.mode = "sse";
  }

  start() {
    this.env.clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    this.drop();
    this.started = true;
    this.app.changed();
    const gen = ++this.gen;
    if (this.mode === "ws") this.openWs(gen, false); else this.openSse(gen);
  }

  /** Back online, or asked to: try now rather than at the end of the backoff. */
  kick() {
    if (this.ready || this.stopped) return;
    this.attempt = 0;
    this.start();
  }

  stop() {
    this.stopped = true;
    this.drop();
    this.env.clearTimeout(this.timer);
    this.env.clearTimeout(this.retryTimer);
    this.env.clearTimeout(this.probeTimer);
    this.app.changed();
  }

  drop() {
    this.gen++;
    this.ready = false;
    if (this.ws) { const w = this.ws; this.ws = null; quietClose(w); }
    if (this.es) { this.es.close(); this.es = null; }
    if (this.probe) { const p = this.probe; this.probe = null; quietClose(p); }
    this.env.clearTimeout(this.probeTimer);
    this.probeTimer = null;
    this.inflight.clear();
  }

  later() {
    this.ready = false;
    if (this.stopped) return;
    this.env.clearTimeout(this.timer);
    this.timer = this.env.setTimeout(() => this.start(), backoff(this.attempt++, this.env.random));
    this.app.changed();
  }

  // -------------------------------------------------------------- WebSocket

  /** Opens a socket and sends hello. `probe`: a trial while the fallback carries on. */
  openWs(gen, probe) {
    const env = this.env;
    let ws = null, welcomed = false, over = false;
    const give = (hard) => {
      if (over) return;
      over = true;
      env.clearTimeout(guard);
      if (ws) quietClose(ws);
      if (probe) {
        if (this.probe === ws) {
          this.probe = null;
          this.probeDelay = Math.min(this.t.wsRetryMaxMs, this.probeDelay * 2);
          this.scheduleProbe();
        }
        return;
      }
      if (gen !== this.gen) return;
      this.ws = null;
      this.wsFailed(hard, gen);
    };
    const guard = env.setTimeout(() => give(false), this.t.welcomeMs);
    try {
      if (typeof env.WebSocket !== "function") throw new Error("no WebSocket");
      ws = new env.WebSocket(env.wsUrl("/ws/e/" + this.code));
    } catch (e) { ws = null; give(true); return; }
    if (probe) this.probe = ws; else this.ws = ws;
    ws.onopen = () => { if (ws.readyState === 1) ws.send(JSON.stringify(this.app.hello())); };
    ws.onmessage = (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (!welcomed) {
        // An error before the welcome (the event ended, the server busy) goes to the page;
        // only a welcome ends the wait, so a socket that answers only errors is given up.
        if (m.type === "error") { if (!probe && gen === this.gen) this.app.message(m); return; }
        if (m.type !== "welcome") return;
        welcomed = true;
        over = true;
        env.clearTimeout(guard);
        if (probe) {
          if (this.probe !== ws) { quietClose(ws); return; }
          // WebSocket works again: leave the fallback.
          this.probe = null;
          this.drop();
          this.ws = ws;
          gen = this.gen;
          this.mode = "ws";
          if (env.store) env.store.set("joinup.transport", null);
        } else if (gen !== this.gen) { quietClose(ws); return; }
        this.failures = 0;
      }
      if (gen !== this.gen && this.ws !== ws) return;
      this.app.message(m);
    };
    ws.onclose = (ev) => {
      if (!welcomed) {
        if (!probe && isApplicationCode(ev.code) && gen === this.gen) {
          over = true;
          env.clearTimeout(guard);
          this.ws = null;
          this.closed(ev.code);
        } else give(false);
        return;
      }
      if (this.ws !== ws) return;
      this.ws = null;
      this.closed(ev.code);
    };
  }

  /** A WebSocket attempt failed. After `fallbackAfter` in a row (or at once if the browser has
   * no WebSocket), ask plain HTTP: if it answers, WebSocket is what is blocked. */
  wsFailed(hard, gen) {
    this.ready = false;
    this.failures++;
    if (!hard && this.failures < this.t.fallbackAfter) { this.later(); return; }
    this.fetchTimed("/api/events/" + this.code).then((r) => {
      if (gen !== this.gen || this.stopped) return;
      if (r.ok || r.status === 404) { this.useFallback(); this.start(); } else this.later();
    }, () => { if (gen === this.gen) this.later(); });
  }

  useFallback() {
    this.mode = "sse";
    this.attempt = 0;
    this.probeDelay = this.t.wsRetryMs;
    if (this.env.store) this.env.store.set("joinup.transport", { mode: "sse", at: this.env.now() });
  }

  scheduleProbe() {
    if (this.stopped || this.mode !== "sse" || this.probeTimer || this.probe) return;
    this.probeTimer = this.env.setTimeout(() => {
      this.probeTimer = null;
      if (this.stopped || this.mode !== "sse") return;
      if (!this.ready) { this.scheduleProbe(); return; }
      this.openWs(this.gen, true);
    }, this.probeDelay);
  }

  // -------------------------------------------------------------- POST + event stream

  /** fetch with a deadline: a frozen server is given up, like a silent WebSocket. */
  fetchTimed(url, init) {
    const env = this.env;
    const ctl = typeof env.AbortController === "function" ? new env.AbortController() : null;
    let timer = null;
    const deadline = new Promise((_, reject) => {
      timer = env.setTimeout(() => { if (ctl) ctl.abort(); reject(new Error("timed out")); }, this.t.postMs);
    });
    const req = env.fetch(url, Object.assign({ cache: "no-store", signal: ctl ? ctl.signal : undefined }, init || {}));
    return Promise.race([req, deadline]).then((v) => { env.clearTimeout(timer); return v; },
      (e) => { env.clearTimeout(timer); throw e; });
  }

  post(msg) {
    return this.fetchTimed("/api/events/" + this.code + "/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(msg),
      credentials: "same-origin",
    }).then((r) => {
      if (r.status === 404) return { type: "error", code: "no_such_event" };
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  openSse(gen) {
    this.post(this.app.hello()).then((m) => {
      if (gen !== this.gen || this.stopped) return;
      this.app.message(m);
      if (m.type !== "welcome") { if (!this.stopped && gen === this.gen) this.later(); return; }
      this.openStream(gen);
    }, () => { if (gen === this.gen) this.later(); });
  }

  openStream(gen) {
    const es = new this.env.EventSource("/api/events/" + this.code + "/stream");
    this.es = es;
    es.onmessage = (ev) => {
      if (this.es !== es) return;
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      this.app.message(m);
    };
    es.addEventListener("close", (ev) => {
      let c = CLOSE.ABNORMAL;
      try { c = JSON.parse(ev.data).code; } catch (e) { /* keep 1006 */ }
      es.close();
      if (this.es === es) { this.es = null; this.closed(c); }
    });
    es.onerror = () => {
      es.close();
      if (this.es === es) { this.es = null; this.closed(CLOSE.ABNORMAL); }
    };
    this.scheduleProbe();
  }

  // -------------------------------------------------------------- both

  /** The app's welcome handler calls this once it has taken the welcome in. */
  welcomed() {
    this.ready = true;
    this.everReady = true;
    this.attempt = 0;
    if (this.mode === "sse") this.scheduleProbe();
    this.flush();
  }

  closed(code) {
    this.ready = false;
    this.gen++;
    if (this.stopped) return;
    this.app.closed(code);
    if (!this.stopped) this.later();
  }

  transmit(msg) {
    if (!this.ready || this.stopped) return;
    if (this.mode === "ws") {
      if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(msg)); this.lastSent = msg.id; }
      return;
    }
    if (this.inflight.has(msg.id)) return;
    this.inflight.add(msg.id);
    const gen = this.gen;
    this.post(msg).then((reply) => {
      this.inflight.delete(msg.id);
      if (gen === this.gen) this.app.message(reply);
    }, () => {
      this.inflight.delete(msg.id);
      if (gen === this.gen) this.retryLater();
    });
  }

  flush() { this.app.pending().forEach((m) => this.transmit(m)); }

  retryLater() {
    if (this.retryTimer) return;
    this.retryTimer = this.env.setTimeout(() => {
      this.retryTimer = null;
      if (this.ready) this.flush();
    }, 2000 + (this.env.random || Math.random)() * 3000);
  }
}

function quietClose(ws) {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  try { ws.close(); } catch (e) { /* gone */ }
}
