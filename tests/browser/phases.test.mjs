// The event's phases on the three pages (issue 21): an event whose questions opened an hour
// ago and which starts tomorrow, with two break-out rooms, an activity for before the event,
// two for after it and an evaluation window. Three phones (Room A, Room B, no room yet), the
// host's dashboard and three presenter screens (main, Room A, Room B) walk it before ->
// live -> after -> closed. Each phase: what each page says, a room's questions stay in that
// room, the evaluation's results on the screens after the live part, axe finds nothing, and
// screenshots at 390x844 (phones), 1440x900 (host), 1920x1080
// (main screen) and 1280x720 (room screens).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, createEvent, watch, axe, shot, within, joinAsAttendee, network, PHONE_390 } from "./lib.mjs";

const HOUR = 3600 * 1000;
const LAPTOP = { viewport: { width: 1440, height: 900 } };
const MAIN_SCREEN = { viewport: { width: 1920, height: 1080 } };
const ROOM_SCREEN = { viewport: { width: 1280, height: 720 } };

/** The demo event, made to have phases: questions open an hour ago, it starts tomorrow,
 * its evaluation closes the day after; "pre-prescribing" opens before it, "usefulness" and
 * "next-year" after it. Questions appear without moderation, so each page shows them at once. */
function phased(spec) {
  const now = Date.now();
  spec.opens_at = new Date(now - HOUR).toISOString();
  spec.starts_at = new Date(now + 24 * HOUR).toISOString();
  spec.closes_at = new Date(now + 48 * HOUR).toISOString();
  spec.qa = { enabled: true, moderation: "none", scope: "session" };
  for (const s of spec.sessions) {
    for (const a of s.activities) {
      if (a.key === "pre-prescribing") a.window = "before";
      if (a.key === "usefulness" || a.key === "next-year") a.window = "after";
    }
  }
  return spec;
}

describe("the phases of an event on the phones, the host's page and the screens", () => {
  let browser, ev, host, screens, phones, watchers;

  before(async () => {
    ev = await createEvent(undefined, phased);
    browser = await launch();
    watchers = [];
    const open = async (ctxOptions, url) => {
      const page = await (await browser.newContext(ctxOptions)).newPage();
      watchers.push(watch(page));
      await page.goto(url);
      return page;
    };
    host = await open(LAPTOP, ev.host_url);
    const roomUrl = (room) => ev.present_url.replace("#", "?room=" + encodeURIComponent(room) + "#");
    screens = {
      main: await open(MAIN_SCREEN, ev.present_url),
      "Room A": await open(ROOM_SCREEN, roomUrl("Room A")),
      "Room B": await open(ROOM_SCREEN, roomUrl("Room B")),
    };
    phones = {};
    for (const [name, room] of [["a", "Room A"], ["b", "Room B"], ["c", null]]) {
      const page = await (await browser.newContext(PHONE_390)).newPage();
      watchers.push(watch(page));
      await joinAsAttendee(page, ev.code, { room, viaForm: false });
      phones[name] = page;
    }
  });

  after(async () => {
    if (browser) await browser.close();
  });

  async function everyPage(phase) {
    for (const [name, page] of [["host", host], ...Object.entries(screens).map(([k, p]) => ["present-" + k.replace(" ", "-"), p]), ...Object.entries(phones).map(([k, p]) => ["phone-" + k, p])]) {
      await axe(page, `${name} (${phase})`);
      await shot(page, `phases-${phase}-${name}`, name.startsWith("phone") || name === "host");
    }
  }
  const stage = (room) => screens[room].locator("#stage").textContent();
  const tab = (page, name) => page.locator(`.tabs button[data-tab="${name}"]`).click();
  async function confirm(button, confirmLabel) {
    await host.locator(button).click();
    const dialog = host.getByRole("dialog");
    await dialog.waitFor();
    await dialog.getByRole("button", { name: confirmLabel, exact: true }).click();
  }

  it("before: the event says when it starts, takes questions and the before activity", async () => {
    const facts = await (await fetch(`${BASE}/api/events/${ev.code}`)).json();
    assert.equal(facts.phase, "before");
    for (const page of Object.values(phones)) {
      await within(5000, async () => /The event starts at .* you can send questions now/.test(await page.locator("#phase-notice").textContent()), "the phone says when it starts");
    }
    // The activity for before the event is open; the rest are not.
    const a = phones.a;
    const card = a.locator("#act-pre-prescribing");
    await card.waitFor();
    assert.equal(await a.locator("#open-list form").count(), 1, "only the before activity is open");
    await card.getByRole("radio").nth(3).check();
    await card.getByRole("button", { name: "Send answer" }).click();
    await within(5000, async () => /Saved/.test(await card.textContent()), "the before answer is saved");

    // A question in advance, for the welcome session, picked from the sessions A may see.
    await tab(a, "qa");
    const picker = a.getByLabel("Session");
    const options = await picker.locator("option").allTextContents();
    assert.ok(options.some((o) => /Break-out A/.test(o)), "A may ask in their room's session");
    assert.ok(!options.some((o) => /Break-out B/.test(o)), "A may not ask in another room's session");
    await picker.selectOption({ label: "Welcome and who is in the room" });
    await a.locator("#ask-text").fill("Will the slides from the welcome be shared?");
    await a.locator("#ask-submit").click();
    await within(5000, async () => /Sent/.test(await a.locator("#ask-state").textContent()), "the advance question is sent");
    // B sees it under its session and votes for it before the day.
    const b = phones.b;
    await tab(b, "qa");
    await b.locator("#qlist li", { hasText: "slides from the welcome" }).waitFor();
    assert.match(await b.locator("#qlist").textContent(), /Welcome and who is in the room/);
    await b.locator("#qlist li", { hasText: "slides from the welcome" }).getByRole("button").click();
    await within(5000, async () => /Voted/.test(await b.locator("#qlist li", { hasText: "slides" }).textContent()), "the vote is taken");

    // The host sees the phase, the start button, and the question marked as sent in advance.
    await within(5000, async () => /Before the event/.test(await host.locator("#phase-chip").textContent()), "the host's header says before");
    assert.equal(await host.locator("#phase-action").textContent(), "Start the event");
    const q = host.locator("#modlist li", { hasText: "slides from the welcome" });
    await q.waitFor();
    await within(5000, async () => /Sent in advance/.test(await q.textContent()) && /1 vote/.test(await q.textContent()), "advance question with its vote");
    assert.match(await q.textContent(), /Welcome and who is in the room/);

    // The screens: a join screen with the start time.
    await within(5000, async () => /Starts at/.test(await stage("main")), "the main screen says when it starts");
    assert.ok(await screens.main.locator("#qr").isVisible(), "the QR is on the main screen");
    await everyPage("before");
  });

  it("live: sessions start, each room's questions stay in that room, a phone without a room is asked for one", async () => {
    await confirm("#phase-action", "Start the event");
    await within(5000, async () => (await host.locator("#conn").textContent()) === "Live" && await host.locator("#phase-chip").isHidden(), "the host's header says live");
    for (const page of Object.values(phones)) {
      await within(5000, async () => await page.locator("#phase-notice").isHidden(), "no phase notice while live");
    }
    // The host starts both break-outs from the run of show.
    for (const key of ["breakout-a", "breakout-b"]) {
      const section = host.locator(".session", { has: host.locator(`#h-${key === "breakout-a" ? "partnership-priority" : "connected-word"}`) });
      await section.getByRole("button", { name: "Start this session" }).click();
      await within(5000, async () => await section.locator(".badge", { hasText: "Current session" }).isVisible(), `${key} is current`);
    }
    // C chose no room: asked to choose one, and picks Room B.
    const c = phones.c;
    await tab(c, "answer");
    const prompt = c.locator("#room-prompt");
    await within(5000, async () => await prompt.isVisible(), "the phone without a room is asked for one");
    await axe(c, "phone c with the room prompt");
    await shot(c, "phases-live-room-prompt", true);
    await prompt.getByRole("button", { name: "Room B", exact: true }).click();
    await within(5000, async () => await prompt.isHidden(), "the prompt goes once a room is chosen");
    await tab(c, "you");
    await within(5000, async () => /Room B/.test(await c.locator("#you-summary").textContent()), "the room shows under You");

    // Each room asks in its own session by default.
    const ask = async (page, text) => {
      await tab(page, "qa");
      await within(5000, async () => /Now: /.test(await page.getByLabel("Session").locator("option:checked").textContent()), "the current session is the default");
      await page.locator("#ask-text").fill(text);
      await page.locator("#ask-submit").click();
      await within(5000, async () => /Sent/.test(await page.locator("#ask-state").textContent()), `${text}: sent`);
    };
    await ask(phones.a, "Room A: who chairs the partnership board?");
    await ask(phones.b, "Room B: how do we keep connected after today?");
    await within(5000, async () => /who chairs/.test(await stage("Room A")), "Room A's screen shows Room A's question");
    await within(5000, async () => /keep connected/.test(await stage("Room B")), "Room B's screen shows Room B's question");
    assert.doesNotMatch(await stage("Room A"), /keep connected/, "Room B's question stays out of Room A");
    assert.doesNotMatch(await stage("Room B"), /who chairs/, "Room A's question stays out of Room B");
    assert.doesNotMatch(await stage("main"), /who chairs|keep connected/, "the main screen shows no room's questions");
    await within(5000, async () => /keep connected/.test(await phones.c.locator("#qlist").textContent()), "C, now in Room B, sees Room B's question");
    assert.doesNotMatch(await phones.a.locator("#qlist").textContent(), /keep connected/, "A never sees Room B's question");
    assert.match(await phones.a.locator("#qlist .qgroup-title").first().textContent(), /^Now: Break-out A/);

    // The host filters the queue by session; the current sessions come first.
    const filter = host.getByLabel("Session");
    await filter.selectOption({ index: [...(await filter.locator("option").allTextContents())].findIndex((o) => /Break-out B/.test(o)) });
    await within(5000, async () => (await host.locator("#modlist li").count()) === 1, "one question in Break-out B");
    assert.match(await host.locator("#modlist").textContent(), /keep connected/);
    await filter.selectOption("all");
    await everyPage("live");
  });

  it("after: the live part ends, the evaluation opens on the same link, the Q&A closes", async () => {
    await confirm("#phase-action", "End the live part");
    await within(5000, async () => /Evaluation open/.test(await host.locator("#phase-chip").textContent()), "the host's header says the evaluation is open");
    assert.equal(await host.locator("#phase-action").textContent(), "Close the evaluation…");
    for (const page of Object.values(phones)) {
      await within(5000, async () => /The event has ended: tell us how it went/.test(await page.locator("#phase-notice").textContent()), "the phone asks how it went");
    }
    const a = phones.a;
    await tab(a, "answer");
    await within(5000, async () => (await a.locator("#open-list form").count()) === 2, "the two after activities are open");
    await tab(a, "qa");
    assert.match(await a.locator("#ask-closed").textContent(), /Questions closed when the event ended/);
    assert.ok(await a.locator("#ask-text").isDisabled(), "no new question after the event");
    await within(5000, async () => /Tell us how it went/.test(await stage("main")), "the main screen asks how it went");
    assert.ok(await screens.main.locator("#qr").isVisible(), "with the QR");

    // The evaluation on the screens: its two activities take turns, nobody focusing them,
    // each with its count and, once the host reveals them, its results; the QR stays in the
    // join bar for latecomers.
    for (const [name, point] of [["a", 4], ["b", 5], ["c", 4]]) {
      const page = phones[name];
      await tab(page, "answer");
      const card = page.locator("#act-usefulness");
      await card.getByRole("radio").nth(point - 1).check();
      await card.getByRole("button", { name: "Send answer" }).click();
      await within(5000, async () => /Saved/.test(await card.textContent()), `${name}'s evaluation is saved`);
    }
    const useful = /Overall, how useful was today for your practice\?/;
    await within(20000, async () => useful.test(await stage("main")) && /3 responses so far/.test(await stage("main")), "the count follows on screen");
    assert.match(await stage("main"), /Results appear here when the host reveals them/, "no results before the reveal");
    assert.equal(await screens.main.locator("#stage .chart").count(), 0);
    // The live part's sessions are folded on the host's page, but the evaluation's.
    const closing = host.locator(".session", { has: host.locator("#h-usefulness") });
    assert.ok(await closing.locator("details.ros").evaluate((d) => d.open), "the evaluation's session is unfolded");
    await closing.locator("#h-usefulness").getByRole("button", { name: "Show results" }).click();
    await within(5000, async () => /Results shown/.test(await closing.locator("#h-usefulness").textContent()), "the host revealed it");
    // Caught at the start of its turn: the text activity's first, then the scale's again.
    const main = screens.main;
    await within(20000, async () => /What should next year's conference cover\?/.test(await stage("main")), "the second activity has its turn");
    assert.match(await stage("main"), /Tell us how it went · 2 of 2/);
    await within(20000, async () => useful.test(await stage("main")), "then the first again");
    await within(5000, async () => await main.locator("#stage .chart-scale").isVisible(), "with its results");
    assert.match(await stage("main"), /Tell us how it went · 1 of 2/);
    assert.match(await stage("main"), /3 responses so far/);
    assert.match(await main.locator("#stage .chart").textContent(), /Average 4\.3/, "the results are the three answers");
    assert.ok(await main.locator("#qr").isVisible(), "the QR stays for latecomers");
    assert.equal(await main.locator("body").getAttribute("data-mode"), "show");
    await axe(main, "main screen with the evaluation's results");
    await shot(main, "phases-after-evaluation-main", false);
    // A room's screen shows the evaluation too, never its room's last live activity.
    await within(20000, async () => /Tell us how it went/.test(await stage("Room A")), "Room A's screen shows the evaluation");
    assert.doesNotMatch(await stage("Room A"), /partnership working/);
    await everyPage("after");
  });

  it("closed: the evaluation closes and every page says thank you", async () => {
    await confirm("#phase-action", "Close the evaluation");
    for (const page of Object.values(phones)) {
      await within(5000, async () => await page.locator("#view-ended").isVisible(), "the phone says thank you");
    }
    for (const room of Object.keys(screens)) {
      await within(5000, async () => /Thank you for taking part/.test(await stage(room)), `${room}'s screen says thank you`);
    }
    await within(5000, async () => await host.locator("#ended-banner").isVisible(), "the host's page says it ended");
    await everyPage("closed");
    for (const w of watchers) w.assertClean("phases");
  });
});

// A refusal for the phase, for real: a question typed offline during the live part reaches
// the server after the live part has ended, and the phone says why it was not taken. Then
// the evaluation closes by itself at closes_at, with no host action, and every page says so.
describe("the phase refuses a late question, and the evaluation closes at closes_at", () => {
  let browser, ev, host, screen, phone, net, watchers, closesAt;
  const CLOSES_IN = 80000;

  before(async () => {
    ev = await createEvent(undefined, (spec) => {
      phased(spec);
      // The start is soon (the host starts it sooner still) and the end shortly after it:
      // closes_at must come after starts_at.
      spec.starts_at = new Date(Date.now() + CLOSES_IN / 2).toISOString();
      closesAt = Date.now() + CLOSES_IN;
      spec.closes_at = new Date(closesAt).toISOString();
      return spec;
    });
    browser = await launch();
    host = await (await browser.newContext(LAPTOP)).newPage();
    screen = await (await browser.newContext(MAIN_SCREEN)).newPage();
    const phoneContext = await browser.newContext(PHONE_390);
    net = await network(phoneContext);
    phone = await phoneContext.newPage();
    watchers = [watch(host), watch(screen), watch(phone, { allow: [/ERR_INTERNET_DISCONNECTED|net::ERR|WebSocket/] })];
    await host.goto(ev.host_url);
    await screen.goto(ev.present_url);
    await joinAsAttendee(phone, ev.code, { room: "Room A", viaForm: false });
  });

  after(async () => { if (browser) await browser.close(); });

  it("a question sent offline while live is refused after the live part, in words", async () => {
    await host.locator("#phase-action").click();
    await host.getByRole("dialog").getByRole("button", { name: "Start the event", exact: true }).click();
    await within(5000, async () => await phone.locator("#phase-notice").isHidden(), "live on the phone");
    await phone.locator('.tabs button[data-tab="qa"]').click();
    await net.offline(true);
    await phone.locator("#ask-text").fill("Typed on the train, sent too late?");
    await phone.locator("#ask-submit").click();
    await within(5000, async () => /when you're back online/.test(await phone.locator("#ask-state").textContent()), "kept for later");
    await host.locator("#phase-action").click();
    await host.getByRole("dialog").getByRole("button", { name: "End the live part", exact: true }).click();
    await within(5000, async () => /Evaluation open/.test(await host.locator("#phase-chip").textContent()), "the evaluation is open");
    await net.offline(false);
    await within(30000, async () => (await phone.locator("#ask-state").textContent()) === "Not taken: the event has ended, and only the evaluation is open.", "the refusal is said beside the form");
    assert.equal(await phone.locator("#ask-state").getAttribute("data-state"), "error");
    assert.match(await phone.locator("#phase-notice").textContent(), /tell us how it went/);
    await axe(phone, "phone with a refusal for the phase");
    await shot(phone, "phases-refused-after", true);
  });

  it("closes_at passing closes the evaluation on every page", async () => {
    const left = closesAt - Date.now();
    await within(Math.max(left, 0) + 20000, async () => await phone.locator("#view-ended").isVisible(), "the phone says thank you");
    await within(10000, async () => /Thank you for taking part/.test(await screen.locator("#stage").textContent()), "the screen says thank you");
    await within(10000, async () => await host.locator("#ended-banner").isVisible(), "the host's page says it ended");
    await axe(host, "host closed by closes_at");
    for (const w of watchers) w.assertClean("closes_at");
  });
});
