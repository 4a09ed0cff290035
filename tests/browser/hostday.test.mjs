// Running the day: the host dashboard at 1440×900 walks the whole programme in Present mode by
// keyboard while 44 phones (WebSockets from a driver page) answer, ask and write; the main
// presenter and each break-out room's own screen follow. Every state of the host page and the
// presenter screens is screenshotted at 1440×900, 1920×1080 and 1280×720, axe runs on each,
// and no presenter element clips its content. A concern written on a real phone shows that
// phone the support card, waits in the Safeguarding view and never reaches a screen.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BASE, FIXTURE, PHONE_390, launch, createEvent, watch, axe, shot, within, joinAsAttendee } from "./lib.mjs";

const SIZES = [[1440, 900], [1920, 1080], [1280, 720]];
const PHONES = 44;
const CONCERN = "My friend Jo is in danger at home and I don't know who to tell";
const SAFEGUARDING = {
  lead: "Sam Patel",
  lead_contact: "07700 900123",
  support: {
    title: "If you or someone else is not safe",
    text: "Thank you for telling us. The event's safeguarding lead will read this today. If someone is in danger now, call 999.",
    lines: [
      { name: "Samaritans", contact: "116 123", note: "24 hours, free" },
      { name: "North Yorkshire crisis team", contact: "0800 051 6171", note: "24 hours" },
    ],
  },
};

/* Runs in the driver page: the phones as WebSockets of the real protocol. */
function installPhones({ code }) {
  const wsUrl = (p) => (location.protocol === "https:" ? "wss://" : "ws://") + location.host + p;
  let seq = 0;
  const open = (path) => new Promise((res, rej) => {
    const ws = new WebSocket(wsUrl(path));
    ws.waiting = new Map();
    ws.frames = [];
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      ws.frames.push(m);
      const key = m.type === "ack" || m.type === "error" ? m.id : m.type === "welcome" ? "welcome" : null;
      if (key !== null && ws.waiting.has(key)) { ws.waiting.get(key)(m); ws.waiting.delete(key); }
    };
    ws.onopen = () => res(ws);
    ws.onerror = rej;
  });
  const ask = (ws, msg, key) => new Promise((res) => { ws.waiting.set(key, res); ws.send(JSON.stringify(msg)); });
  const d = window.phones = {
    all: [],
    async join(profiles) {
      d.all = await Promise.all(profiles.map(async (p) => {
        const ws = await open(`/ws/e/${code}`);
        const welcome = await ask(ws, { type: "hello", attendee: null, ...p }, "welcome");
        if (welcome.type !== "welcome") throw new Error(JSON.stringify(welcome));
        return ws;
      }));
    },
    async send(i, msg) {
      const id = `m${++seq}`;
      const reply = await ask(d.all[i], { ...msg, id }, id);
      if (reply.type !== "ack") throw new Error(`${msg.type}: ${JSON.stringify(reply)}`);
    },
    async answerAll(activity, values) {
      await Promise.all(values.map((v, i) => (v === undefined ? null : d.send(i, { type: "answer", activity, value: v }))));
    },
    supportFrames() { return d.all.map((ws) => ws.frames.filter((f) => f.type === "support").length); },
  };
}

/* Runs in a presenter page: what clips, what lies outside the screen. */
function layoutProblems() {
  const problems = [];
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\s+/).join(".") : "");
  // Inside a screen-reader-only box (clipped to nothing): read, never drawn.
  const hiddenForEyes = (e) => {
    for (let n = e; n && n.nodeType === 1; n = n.parentElement) if (getComputedStyle(n).clip === "rect(0px, 0px, 0px, 0px)") return true;
    return false;
  };
  const root = document.documentElement;
  if (root.scrollHeight > innerHeight + 1 || root.scrollWidth > innerWidth + 1) problems.push(`the page scrolls: ${root.scrollWidth}×${root.scrollHeight}`);
  for (const e of document.body.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    const cs = getComputedStyle(e);
    if (cs.visibility === "hidden" || hiddenForEyes(e)) continue;
    if ((cs.overflowX !== "visible" || cs.overflowY !== "visible") && (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)) {
      problems.push(`${name(e)} clips its content: ${e.scrollWidth}×${e.scrollHeight} in ${e.clientWidth}×${e.clientHeight}`);
    }
    if (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1) problems.push(`${name(e)} is outside the screen`);
  }
  return problems;
}

/* Runs in the host page: boxes that scroll on their own (keyboard users cannot reach them). */
function nestedScrollers() {
  return Array.from(document.querySelectorAll("main *")).filter((e) => {
    const cs = getComputedStyle(e);
    return /(auto|scroll)/.test(cs.overflowY + cs.overflowX) && (e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1);
  }).map((e) => e.id || e.className);
}

describe("running the day: run of show, Present mode, rooms, moderation, safeguarding", () => {
  let browser, ev, driver, host, screens, phone, watched = [];

  before(async () => {
    ev = await createEvent(BASE, (spec) => ({ ...spec, safeguarding: SAFEGUARDING }));
    browser = await launch();
    driver = await (await browser.newContext()).newPage();
    await driver.goto(`${BASE}/`);
    await driver.evaluate(installPhones, { code: ev.code });
    const names = JSON.parse(readFileSync(FIXTURE, "utf8")).organisations.map((o) => o.name);
    // 22 in Room A, 20 in Room B, 2 who chose no room.
    const profiles = Array.from({ length: PHONES }, (_, i) => ({
      organisation: names[i % names.length],
      ...(i < 42 ? { room: i % 2 ? "Room B" : "Room A" } : {}),
    }));
    profiles[0].room = "Room A"; profiles[1].room = "Room A";
    await driver.evaluate((p) => window.phones.join(p), profiles);

    host = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    watched.push(watch(host));
    await host.goto(ev.host_url);
    await host.locator("#conn[data-state=live]").waitFor();
    const present = (room, size) => async () => {
      const page = await (await browser.newContext({ viewport: size })).newPage();
      watched.push(watch(page));
      const url = room ? ev.present_url.replace("#", "?room=" + encodeURIComponent(room) + "#") : ev.present_url;
      await page.goto(url);
      await page.locator("#conn[data-state=live]").waitFor();
      return page;
    };
    screens = {
      main: await present(null, { width: 1920, height: 1080 })(),
      "Room A": await present("Room A", { width: 1280, height: 720 })(),
      "Room B": await present("Room B", { width: 1280, height: 720 })(),
    };
  });

  after(async () => { await browser?.close(); });

  const drive = (fn, arg) => driver.evaluate(fn, arg);
  const stage = (screen) => screens[screen].locator("#stage").textContent();
  const settle = (page) => page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime)).map((a) => a.finished.catch(() => {}))));

  /* Every page at every size: axe, layout, a screenshot. */
  async function everything(state) {
    for (const [width, height] of SIZES) {
      await host.setViewportSize({ width, height });
      await settle(host);
      assert.deepEqual(await host.evaluate(nestedScrollers), [], `host ${state} at ${width}×${height}: no box scrolls on its own`);
      await axe(host, `host ${state} at ${width}×${height}`);
      // What the host sees (scrolled to the current activity).
      await shot(host, `day-host-${state}-${width}x${height}`, false);
    }
    await host.setViewportSize({ width: 1440, height: 900 });
    // And the whole page from the top (a full-page capture scrolled down would draw the
    // sticky header half-way).
    const scrolled = await host.evaluate(() => scrollY);
    await host.evaluate(() => scrollTo(0, 0));
    await shot(host, `day-host-${state}-1440x900-page`, true);
    await host.evaluate((y) => scrollTo(0, y), scrolled);
    for (const [name, page] of Object.entries(screens)) {
      for (const [width, height] of SIZES) {
        await page.setViewportSize({ width, height });
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        await page.waitForTimeout(width === 1920 ? 1300 : 50);
        await settle(page);
        const label = `presenter ${name} ${state} at ${width}×${height}`;
        assert.deepEqual(await page.evaluate(layoutProblems), [], `${label}: nothing clipped, nothing off screen`);
        // A text wall turns its page every 12 s and fades the next one in: a turn during
        // the check measures a blended colour. Once more, settled, after such a turn.
        await settle(page);
        await axe(page, label).catch(async () => { await page.waitForTimeout(600); await settle(page); await axe(page, label); });
        await shot(page, `day-present-${name.replace(" ", "-").toLowerCase()}-${state}-${width}x${height}`, false);
      }
    }
  }

  const press = async (key) => {
    await host.keyboard.press(key);
    await host.waitForTimeout(50);
  };
  /* Presses → until `check` holds, waiting for each step to land. */
  async function stepTo(check, what) {
    for (let i = 0; i < 24; i++) {
      if (await check()) return;
      const before = await host.locator("#pm-now").textContent();
      await press("ArrowRight");
      await within(5000, async () => (await host.locator("#pm-now").textContent()) !== before, `${what}: a step was taken`);
    }
    assert.fail(`${what}: not reached`);
  }
  const hostState = (key) => host.locator(`#h-${key} .badge`).nth(1).textContent();

  it("before the start: a short run of show, who is here and in each room", async () => {
    const height = await host.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(height < 2600, `the page is short before the start (${height} px; it was 4,700)`);
    assert.equal(await host.locator("#h-role.is-line").count(), 1, "an unopened activity takes a line");
    assert.equal(await host.locator("#h-role .chart").count(), 0, "no empty chart");
    assert.match(await host.locator(".session").first().textContent(), /Next/);
    await within(5000, async () => (await host.locator("#att-present").textContent()) === String(PHONES), "44 here");
    assert.match(await host.locator("#rooms-now").textContent(), /Room A\s*22.*Room B\s*20/);
    for (const s of Object.keys(screens)) assert.match(await stage(s), /Join now/, `${s} waits`);
    await everything("start");
  });

  it("Present mode walks the programme by keyboard: open and show, reveal, next; ← goes back", async () => {
    await host.getByRole("button", { name: "Present mode" }).click();
    await host.locator("#pm-bar").waitFor();
    assert.match(await host.locator("#pm-next").textContent(), /Open “What best describes your role/);
    await host.evaluate(() => document.activeElement.blur());
    await press("ArrowRight");
    await within(5000, async () => (await hostState("role")) === "Open", "role opens");
    await within(5000, async () => /best describes your role/.test(await stage("main")), "the room sees the activity just opened");
    await drive((n) => window.phones.answerAll("role", Array.from({ length: n }, (_, i) => [i % 6])), PHONES);
    await press(" ");
    await within(5000, async () => (await screens.main.locator("#stage .bar-row").count()) === 6, "results revealed on screen");
    await press("ArrowRight");
    await within(5000, async () => /confident/i.test(await stage("main")), "next activity on screen");
    assert.equal(await hostState("role"), "Closed", "the previous one closed");
    await press("ArrowLeft");
    await within(5000, async () => (await screens.main.locator("#stage .bar-row").count()) === 6, "back: the role results are on screen again");
    assert.equal(await hostState("pre-prescribing"), "Closed");
    await press("ArrowRight");
    await within(5000, async () => (await hostState("pre-prescribing")) === "Open", "reopened going forward again");
    await drive((n) => window.phones.answerAll("pre-prescribing", Array.from({ length: n }, (_, i) => 1 + (i % 5))), PHONES);
    await press("ArrowRight");
    await within(5000, async () => /Average/.test(await stage("main")), "the mean is on screen");
    await everything("scale");
  });

  it("texts and questions go to separate queues; a batch approves forty texts at once", async () => {
    // On through the welcome session to the text activity.
    await stepTo(async () => (await hostState("concern")) === "Open", "the text activity opens");
    const texts = Array.from({ length: PHONES }, (_, i) => `Answer ${i + 1}: ${["Waiting lists are far too long", "Nobody picks up the phone at night", "Housing first", "Shared care plans everyone can read"][i % 4]}`);
    await drive((v) => window.phones.answerAll("concern", v), texts);
    await drive(async () => {
      for (let i = 0; i < 12; i++) await window.phones.send(i, { type: "ask", text: `Question ${i + 1}: who funds the link workers in ${["York", "Selby", "Whitby"][i % 3]}?` });
    });
    await host.getByRole("button", { name: "Texts", exact: true }).click();
    await within(5000, async () => /44 text answers/.test(await host.locator("#mod-summary").textContent()), "44 texts wait");
    assert.equal(await host.locator("#modlist li").count(), 20, "the list grows by pages, not in a box of its own");
    await host.getByRole("button", { name: "Questions", exact: true }).click();
    assert.equal(await host.locator("#modlist li").count(), 12, "questions are not swamped by texts");
    await host.getByRole("button", { name: "Texts", exact: true }).click();
    await host.getByLabel("Select all waiting").check();
    await host.getByRole("button", { name: "Approve selected (44)" }).click();
    await within(5000, async () => /Waiting: 12 questions\./.test(await host.locator("#mod-summary").textContent()), "all texts approved in one go");
    await press("ArrowRight");
    await within(5000, async () => (await screens.main.locator("#stage .wall li").count()) > 4, "the wall of approved texts");
    // A new question while the host looks at texts: a cue on the Questions button.
    await drive(() => window.phones.send(20, { type: "ask", text: "Can we get the slides afterwards?" }));
    await within(5000, async () => /1 new/.test(await host.locator("#q-question").textContent()), "a new question is cued");
    await host.getByRole("button", { name: "Questions", exact: true }).click();
    assert.doesNotMatch(await host.locator("#q-question").textContent(), /new/, "seen once the queue is open");
    await everything("texts");
  });

  it("a concern: the writer's phone shows the support card; the lead's view holds it; no screen shows it", async () => {
    phone = await (await browser.newContext(PHONE_390)).newPage();
    watched.push(watch(phone));
    await phone.goto(ev.attend_url);
    await joinAsAttendee(phone, ev.code, { viaForm: false });
    const card = phone.locator("#act-concern");
    await card.getByRole("textbox").fill(CONCERN);
    await card.getByRole("button", { name: "Send answer" }).click();
    const dialog = phone.getByRole("dialog", { name: SAFEGUARDING.support.title });
    await dialog.waitFor();
    assert.match(await dialog.textContent(), /116 123/);
    assert.equal(await dialog.getByRole("link", { name: "116 123" }).getAttribute("href"), "tel:116123");
    await axe(phone, "attendee with the support card");
    await shot(phone, "day-phone-support-card", false);
    await dialog.getByRole("button", { name: "Close" }).click();
    assert.deepEqual(await drive(() => window.phones.supportFrames()), Array(PHONES).fill(0), "nobody else is sent the card");

    await within(5000, async () => /Safeguarding\s*1/.test(await host.locator("[data-queue=concern]").textContent()), "the Safeguarding queue counts it");
    await host.getByRole("button", { name: "Safeguarding", exact: true }).click();
    assert.match(await host.locator("#sg-lead").textContent(), /Sam Patel/);
    const item = host.locator("#modlist li.concern");
    assert.equal(await item.count(), 1);
    assert.match(await item.textContent(), /Possible disclosure: someone in danger/);
    assert.match(await item.textContent(), /Waiting/);
    assert.doesNotMatch(await host.locator("#h-concern .feed").textContent(), /in danger/, "the live feed keeps it out of sight");
    await screens.main.waitForTimeout(1500);
    for (const s of Object.keys(screens)) assert.doesNotMatch(await stage(s), /in danger at home/, `${s} never shows it`);
    await everything("safeguarding");
  });

  it("break-outs: each room's screen shows its own activity; rates count the room", async () => {
    await stepTo(async () => (await hostState("partnership-priority")) === "Open", "the break-outs start");
    await within(5000, async () => /partnership/i.test(await stage("Room A")), "Room A's screen follows its activity");
    assert.match(await stage("Room B"), /Join now/, "Room B's screen does not show Room A");
    assert.doesNotMatch(await stage("main"), /partnership/i, "the main screen leaves it to the room");
    const roomA = Array.from({ length: PHONES }, (_, i) => (i < 42 && i % 2 === 0 ? [i % 5] : undefined));
    await drive((v) => window.phones.answerAll("partnership-priority", v), roomA);
    await within(5000, async () => /21 responses · 91% of 23 in Room A now/.test(await host.locator("#h-partnership-priority .rate").textContent()), "the rate counts Room A");
    await press("ArrowRight");
    await within(5000, async () => (await screens["Room A"].locator("#stage .bar-row").count()) === 5, "Room A's results");
    await press("ArrowRight");
    await within(5000, async () => /connected/.test(await stage("Room B")), "Room B's screen shows its own activity");
    assert.equal(await hostState("partnership-priority"), "Open", "Room B never closes Room A");
    assert.match(await stage("Room A"), /Shared care plans/, "Room A keeps its own");
    const roomB = Array.from({ length: PHONES }, (_, i) => (i < 42 && i % 2 === 1 && i !== 1 ? [["trust", "time", "honesty"][i % 3]] : undefined));
    await drive((v) => window.phones.answerAll("connected-word", v), roomB);
    await press("ArrowRight");
    await within(5000, async () => (await screens["Room B"].locator("#stage .cloud li").count()) === 3, "Room B's word cloud");
    await everything("breakouts");
  });

  it("the last session: done sessions fold, the page stays short; the end thanks everyone", async () => {
    await press("ArrowRight");
    await within(5000, async () => (await hostState("pledge")) === "Open", "the pledge opens");
    assert.equal(await hostState("partnership-priority"), "Closed", "the break-outs close as plenary resumes");
    await drive((n) => window.phones.answerAll("pledge", Array.from({ length: n }, () => true)), PHONES);
    await press("ArrowRight");
    await within(5000, async () => /signatures from/.test(await stage("main")), "the pledge on screen");
    const done = await host.locator(".session[data-state=done]").count();
    assert.equal(done, 6, "every session before the last is done");
    assert.equal(await host.locator(".session[data-state=done] .act:not(.is-line)").count(), 0, "finished sessions fold to a line per activity");
    assert.equal(await host.locator(".session[data-state=done] .act .chart:visible").count(), 0, "no chart in a finished session");
    assert.match(await host.locator("#h-role").textContent(), /44 responses/, "a folded activity still says how many answered");
    assert.ok(await host.locator("#h-role").getByRole("button", { name: "Reopen" }).isVisible(), "and keeps its controls in reach");
    const height = await host.evaluate(() => document.documentElement.scrollHeight);
    assert.ok(height < 5000, `the page stays short at the end (${height} px; it was 11,000)`);
    await everything("close");
    await host.getByRole("button", { name: "End the event…" }).click();
    await host.getByRole("button", { name: "End the event", exact: true }).click();
    await within(5000, async () => /Thank you/.test(await stage("main")), "thanks on the main screen");
    await within(5000, async () => /Thank you/.test(await stage("Room A")), "and in the rooms");
    assert.equal(await host.locator("#conn").textContent(), "Event ended", "the host's header says so");
    await everything("ended");
    for (const w of watched) w.assertClean("day pages");
  });
});
