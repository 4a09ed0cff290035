// Unit tests of the attendee page's outbox, answer record and link (web/outbox.js), with fake
// sockets, a fake fetch and a fake clock: no browser, no server.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Outbox, AnswerLog, Link, TIMING, CLOSE, reason } from "../../web/outbox.js";

const tick = () => new Promise((r) => setImmediate(r));

/** A clock, sockets, streams and fetch under the test's control. */
function fakeEnv({ http = "ok" } = {}) {
  let now = 0, seq = 0;
  const timers = new Map();
  const env = {
    sockets: [], streams: [], requests: [], stored: new Map(), http,
    now: () => now,
    random: () => 0.5,
    setTimeout(fn, ms) { const id = ++seq; timers.set(id, { at: now + ms, fn }); return id; },
    clearTimeout(id) { timers.delete(id); },
    wsUrl: (p) => "ws://test" + p,
    store: { get: (k) => env.stored.get(k), set: (k, v) => env.stored.set(k, v) },
    AbortController,
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        await tick();
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
      await tick();
    },
    fetch(url, init) {
      const req = { url, init: init || {}, resolve: null, reject: null };
      env.requests.push(req);
      return new Promise((resolve, reject) => {
        req.resolve = resolve;
        req.reject = reject;
        init?.signal?.addEventListener("abort", () => reject(new Error("aborted")));
        if (env.http === "ok" && !/\/messages$/.test(url)) resolve({ ok: true, status: 200, json: async () => ({}) });
        if (env.http === "down") reject(new Error("offline"));
      });
    },
  };
  env.WebSocket = class {
    constructor(url) { this.url = url; this.sent = []; this.readyState = 0; this.closed = false; env.sockets.push(this); }
    send(d) { this.sent.push(JSON.parse(d)); }
    close() { this.closed = true; this.readyState = 3; }
    open() { this.readyState = 1; this.onopen?.(); }
    receive(m) { this.onmessage?.({ data: JSON.stringify(m) }); }
    drop(code = 1006) { this.readyState = 3; this.onclose?.({ code }); }
  };
  env.EventSource = class {
    constructor(url) { this.url = url; this.closed = false; this.listeners = {}; env.streams.push(this); }
    addEventListener(t, f) { this.listeners[t] = f; }
    close() { this.closed = true; }
  };
  return env;
}

function fakeApp() {
  const app = { got: [], closes: [], pending: () => app.queue, queue: [], link: null };
  app.hello = () => ({ type: "hello", attendee: "t" });
  app.message = (m) => { app.got.push(m); if (m.type === "welcome") app.link.welcomed(); };
  app.closed = (c) => app.closes.push(c);
  app.changed = () => {};
  return app;
}

function start(envOpts, timing) {
  const env = fakeEnv(envOpts), app = fakeApp();
  const link = new Link("ABC234", env, app, timing);
  app.link = link;
  link.start();
  return { env, app, link };
}

const last = (a) => a[a.length - 1];

/** Lets the backoff run until the link opens its next socket. */
async function nextSocket(env) {
  const n = env.sockets.length;
  for (let waited = 0; env.sockets.length === n; waited += 50) {
    assert.ok(waited < 60000, "no new socket within a minute");
    await env.advance(50);
  }
}

describe("Outbox", () => {
  it("a newer answer to the same activity replaces the waiting one, whose late ack still counts", () => {
    const o = new Outbox([{ type: "answer", id: "a1", activity: "q", value: 1 }, { type: "ask", id: "k", text: "hi" }]);
    o.add({ type: "answer", id: "a2", activity: "q", value: 2 });
    o.add({ type: "answer", id: "b1", activity: "r", value: 3 });
    assert.deepEqual(o.values().map((m) => m.id), ["k", "a2", "b1"]);
    assert.equal(o.answerFor("q").id, "a2");
    assert.deepEqual(o.take("a1"), { msg: { type: "answer", id: "a1", activity: "q", value: 1 }, current: false });
    assert.equal(o.take("a2").current, true);
    assert.equal(o.take("a2"), null);
    assert.deepEqual(JSON.parse(JSON.stringify(o)).map((m) => m.id), ["k", "b1"]);
  });

  it("keys that are JavaScript built-ins are ordinary activities", () => {
    const o = new Outbox();
    for (const k of ["constructor", "__proto__", "toString"]) o.add({ type: "answer", id: k, activity: k, value: 1 });
    assert.equal(o.answerFor("__proto__").id, "__proto__");
    assert.equal(o.answerFor("valueOf"), null);
  });
});

describe("AnswerLog", () => {
  it("only the record's own message makes it saved or refused; refused keeps its reason across a reload", () => {
    const log = new AnswerLog();
    log.gave({ id: "a1", activity: "q", value: [1] }, "Q?", "One");
    log.gave({ id: "a2", activity: "q", value: [2] }, "Q?", "Two");
    assert.equal(log.saved("a1"), null, "the ack of a replaced answer does not save the newer one");
    assert.equal(log.get("q").state, "pending");
    log.refused("a2", reason("activity_closed"));
    const again = new AnswerLog(JSON.parse(JSON.stringify(log)));
    assert.deepEqual(again.get("q"), { activity: "q", id: "a2", given: [2], text: "Two", prompt: "Q?", state: "refused",
      reason: "This question closed before your answer reached us." });
    assert.equal(again.get("constructor"), null);
  });

  it("a welcome corrects a saved record to what the server holds, and refuses a pending one that left the outbox", () => {
    const log = new AnswerLog();
    log.gave({ id: "a1", activity: "q", value: 1 }, "Q?", "1");
    log.saved("a1");
    log.gave({ id: "b1", activity: "r", value: 2 }, "R?", "2");
    log.reconcile({ q: 4 }, new Outbox());
    assert.equal(log.get("q").given, 4);
    assert.equal(log.get("q").state, "saved");
    assert.equal(log.get("r").state, "refused");
  });
});

describe("Link", () => {
  it("gives up a handshake that never completes and tries a new connection", async () => {
    const { env, link } = start();
    assert.equal(env.sockets.length, 1);
    await env.advance(TIMING.welcomeMs - 1);
    assert.equal(env.sockets[0].closed, false);
    await env.advance(1);
    assert.equal(env.sockets[0].closed, true, "the silent socket is closed");
    await env.advance(1000);
    assert.equal(env.sockets.length, 2, "a new connection");
    assert.equal(link.mode, "ws", "one failure is not a blocked network");
  });

  it("gives up a socket that opens but sends no welcome", async () => {
    const { env } = start();
    env.sockets[0].open();
    assert.deepEqual(env.sockets[0].sent, [{ type: "hello", attendee: "t" }]);
    await env.advance(TIMING.welcomeMs);
    assert.equal(env.sockets[0].closed, true);
    await env.advance(1000);
    assert.equal(env.sockets.length, 2);
  });

  it("falls back to POST + stream after failures in a row while HTTP works, even after WebSocket worked", async () => {
    const { env, app, link } = start();
    env.sockets[0].open();
    env.sockets[0].receive({ type: "welcome", attendee: "t" });
    assert.equal(link.ready, true);
    env.sockets[0].drop(1006);
    assert.deepEqual(app.closes, [1006]);
    for (let i = 0; i < TIMING.fallbackAfter; i++) {
      await nextSocket(env);
      assert.equal(link.mode, "ws", `after ${i} failures`);
      last(env.sockets).drop(1006);
    }
    await env.advance(100);
    assert.equal(link.mode, "sse", `after ${TIMING.fallbackAfter} failures`);
    const hello = env.requests.find((r) => /\/messages$/.test(r.url));
    assert.ok(hello, "hello is POSTed");
    assert.equal(JSON.parse(hello.init.body).type, "hello");
    hello.resolve({ ok: true, status: 200, json: async () => ({ type: "welcome", attendee: "t" }) });
    await env.advance(0);
    assert.equal(env.streams.length, 1, "the event stream opens");
    assert.equal(link.ready, true);
    assert.equal(env.stored.get("joinup.transport").mode, "sse", "a reload starts on the fallback");
  });

  it("keeps trying WebSocket when nothing answers (offline), and sends on the fallback later", async () => {
    const { env, link } = start({ http: "down" });
    for (let i = 0; i < 6; i++) { await nextSocket(env); last(env.sockets).drop(1006); }
    assert.equal(link.mode, "ws");
    assert.ok(env.sockets.length >= 6);
  });

  it("tries WebSocket again from the fallback and moves back when it works", async () => {
    const env = fakeEnv(), app = fakeApp();
    env.stored.set("joinup.transport", { mode: "sse", at: 0 });
    const link = new Link("ABC234", env, app);
    app.link = link;
    link.start();
    assert.equal(link.mode, "sse");
    env.requests[0].resolve({ ok: true, status: 200, json: async () => ({ type: "welcome", attendee: "t" }) });
    await env.advance(0);
    assert.equal(env.sockets.length, 0);
    await env.advance(TIMING.wsRetryMs);
    assert.equal(env.sockets.length, 1, "a WebSocket probe");
    env.sockets[0].open();
    env.sockets[0].receive({ type: "welcome", attendee: "t" });
    assert.equal(link.mode, "ws");
    assert.equal(env.streams[0].closed, true, "the stream is closed");
    app.queue = [{ type: "answer", id: "x", activity: "q", value: 1 }];
    link.flush();
    assert.deepEqual(env.sockets[0].sent.map((m) => m.type), ["hello", "answer"]);
    assert.equal(env.stored.get("joinup.transport"), null);
  });

  it("a WebSocket probe that fails leaves the fallback alone and waits twice as long for the next", async () => {
    const env = fakeEnv(), app = fakeApp();
    env.stored.set("joinup.transport", { mode: "sse", at: 0 });
    const link = new Link("ABC234", env, app);
    app.link = link;
    link.start();
    env.requests[0].resolve({ ok: true, status: 200, json: async () => ({ type: "welcome", attendee: "t" }) });
    await env.advance(TIMING.wsRetryMs);
    assert.equal(env.sockets.length, 1);
    env.sockets[0].drop(1006);
    assert.equal(link.mode, "sse");
    assert.equal(link.ready, true, "the fallback carries on");
    assert.equal(env.streams[0].closed, false);
    await env.advance(2 * TIMING.wsRetryMs - 1);
    assert.equal(env.sockets.length, 1, "not yet");
    await env.advance(1);
    assert.equal(env.sockets.length, 2, "the next probe");
  });

  it("gives up a POST with no reply and sends it again", async () => {
    const env = fakeEnv(), app = fakeApp();
    env.stored.set("joinup.transport", { mode: "sse", at: 0 });
    const link = new Link("ABC234", env, app);
    app.link = link;
    link.start();
    env.requests[0].resolve({ ok: true, status: 200, json: async () => ({ type: "welcome", attendee: "t" }) });
    await env.advance(0);
    app.queue = [{ type: "answer", id: "x", activity: "q", value: 1 }];
    link.transmit(app.queue[0]);
    const posts = () => env.requests.filter((r) => /\/messages$/.test(r.url) && JSON.parse(r.init.body).id === "x");
    assert.equal(posts().length, 1);
    await env.advance(TIMING.postMs + 5000);
    assert.equal(posts().length, 2, "sent again with the same id");
  });

  it("an error before the welcome goes to the page, and a socket that sends only errors is given up", async () => {
    const { env, app } = start();
    env.sockets[0].open();
    env.sockets[0].receive({ type: "error", code: "unavailable", message: "busy" });
    assert.deepEqual(app.got, [{ type: "error", code: "unavailable", message: "busy" }]);
    await env.advance(TIMING.welcomeMs);
    assert.equal(env.sockets[0].closed, true);
    await env.advance(1000);
    assert.equal(env.sockets.length, 2, "a new connection");
  });

  it("a close code of 4000 or more before the welcome goes to the page, not to the fallback", async () => {
    const { env, app } = start();
    env.sockets[0].drop(CLOSE.EVENT_ENDED);
    assert.deepEqual(app.closes, [CLOSE.EVENT_ENDED]);
  });
});
