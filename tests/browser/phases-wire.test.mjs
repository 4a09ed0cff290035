// The pages against the documented wire of issue 21 (docs/protocol.md "Phases ... and a Q&A
// per session"), frame by frame: each page talks to a real server through a relay that adds
// what the document says the server sends (phase, current, a question's session) and that
// can hand the page a frame the server sends only in a moment hard to reach on cue (a
// `not_open` refusal, a `session` frame with a room's session, the `phase` frame of the
// end of the live part). It checks what each page shows and what it sends back.
// tests/browser/phases.test.mjs walks the same phases against the server itself.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, createEvent, watch, axe, shot, within, joinAsAttendee, PHONE_390 } from "./lib.mjs";

const HOUR = 3600 * 1000;
const STARTS = "2026-12-09T09:30:00Z";
const CLOSES = "2026-12-10T17:00:00Z";

/** A page whose WebSocket goes through a relay: `sent` holds what the page sent, `hold`
 * decides which of its frames stay with the test, `give(m)` hands the page a frame. */
async function relayed(browser, options, url, { phase, current, facts = {} }) {
  // Dates are said in the phone's time zone: UTC here, so the test knows the words.
  const ctx = await browser.newContext({ ...options, timezoneId: "UTC" });
  const r = { sent: [], hold: () => false, page: null, socket: null, phase };
  const event = (e) => Object.assign(e, {
    opens_at: new Date(Date.now() - HOUR).toISOString(), starts_at: STARTS, closes_at: CLOSES,
    qa: Object.assign({}, e.qa, { scope: "session" }),
  }, facts);
  await ctx.route(/\/api\/events\/[A-Z0-9]+$/, async (route) => {
    const res = await route.fetch();
    const body = event(await res.json());
    body.phase = r.phase;
    await route.fulfill({ response: res, json: body });
  });
  await ctx.routeWebSocket(/\/ws\//, (ws) => {
    const server = ws.connectToServer();
    r.socket = ws;
    ws.onMessage((text) => {
      const m = JSON.parse(text);
      r.sent.push(m);
      if (!r.hold(m)) server.send(text);
    });
    server.onMessage((text) => {
      const m = JSON.parse(text);
      if (m.type === "welcome" || m.type === "snapshot") {
        Object.assign(m, { phase: r.phase, current });
        if (m.event) event(m.event);
      }
      ws.send(JSON.stringify(m));
    });
  });
  r.give = (m) => r.socket.send(JSON.stringify(m));
  r.page = await ctx.newPage();
  r.watch = watch(r.page);
  if (url) await r.page.goto(url);
  return r;
}

describe("the pages against the documented wire of phases and sessions", () => {
  let browser, ev;
  before(async () => {
    ev = await createEvent();
    browser = await launch();
  });
  after(async () => { if (browser) await browser.close(); });

  it("attendee: before, a question for a chosen session, a refusal in words, a room prompt, the end of the live part", async () => {
    const phone = await relayed(browser, PHONE_390, null, { phase: "before", current: { plenary: null, rooms: {} } });
    const page = phone.page;
    await joinAsAttendee(page, ev.code, { room: "Room A", viaForm: false });
    await within(5000, async () => /The event starts at 09:30 on 9 December; you can send questions now\./.test(await page.locator("#phase-notice").textContent()), "the phone says when it starts");
    assert.ok(await page.locator("#reactions").isHidden(), "no reactions before the event");

    // The picker offers the sessions this person may see: the plenary ones and Room A's.
    await page.locator('.tabs button[data-tab="qa"]').click();
    const options = await page.getByLabel("Session").locator("option").allTextContents();
    assert.equal(options[0], "The event as a whole");
    assert.ok(options.includes("Break-out A: partnership working for better outcomes · Room A"));
    assert.ok(!options.some((o) => /Break-out B/.test(o)), "never another room's session");
    await axe(page, "attendee before, Q&A");
    await shot(page, "phases-wire-attendee-before", true);

    // A question sent for the welcome session carries it; the server's refusal for the
    // phase is said beside the form, in words.
    phone.hold = (m) => m.type === "ask";
    await page.getByLabel("Session").selectOption({ label: "Welcome and who is in the room" });
    await page.locator("#ask-text").fill("Will the slides be shared?");
    await page.locator("#ask-submit").click();
    await within(5000, async () => phone.sent.some((m) => m.type === "ask"), "the ask is sent");
    const ask = phone.sent.find((m) => m.type === "ask");
    assert.equal(ask.session, "welcome");
    assert.equal(ask.text, "Will the slides be shared?");
    phone.give({ type: "error", id: ask.id, code: "not_open", phase: "before", message: "the event has not started: questions open at 2026-11-20T09:00:00Z" });
    await within(5000, async () => (await page.locator("#ask-state").textContent()) === "Not yet: this opens when the event starts.", "the refusal is said");
    assert.equal(await page.locator("#ask-state").getAttribute("data-state"), "error");

    // Live: Room B's break-out starts; this person is in Room A, so no prompt.
    phone.give({ type: "phase", phase: "live" });
    phone.give({ type: "session", current: { plenary: null, rooms: { "Room A": "breakout-a", "Room B": "breakout-b" } } });
    await within(5000, async () => await page.locator("#phase-notice").isHidden(), "no notice while live");
    assert.ok(await page.locator("#room-prompt").isHidden(), "someone with a room is not asked for one");
    await within(5000, async () => /^Now: Break-out A/.test(await page.getByLabel("Session").locator("option:checked").textContent()), "the room's current session is the default");

    // The questions, grouped by session, the room's current one first.
    phone.give({ type: "questions", total: 3, questions: [
      { id: "q1", text: "Whole-event question", votes: 5, answered: false, session: null },
      { id: "q2", text: "Room A question", votes: 1, answered: false, session: "breakout-a" },
      { id: "q3", text: "Welcome question", votes: 2, answered: true, session: "welcome", advance: true },
    ] });
    await within(5000, async () => (await page.locator("#qlist li").count()) === 3, "three questions");
    assert.deepEqual(await page.locator("#qlist .qgroup-title").allTextContents(),
      ["Now: Break-out A: partnership working for better outcomes", "Welcome and who is in the room", "The event as a whole"]);
    await axe(page, "attendee live, questions by session");
    await shot(page, "phases-wire-attendee-live", true);

    // The end of the live part: the evaluation, the Q&A closed.
    phone.give({ type: "phase", phase: "after", closes_at: CLOSES });
    await within(5000, async () => (await page.locator("#phase-notice").textContent()) === "The event has ended: tell us how it went, until 17:00 on 10 December.", "the phone asks how it went");
    assert.equal(await page.locator("#ask-closed").textContent(), "Questions closed when the event ended.");
    assert.ok(await page.locator("#ask-text").isDisabled());
    assert.ok(await page.locator("#ask-submit").isDisabled(), "Ask is off, whatever was typed");
    assert.equal(await page.locator("#ask-state").textContent(), "", "the refusal of the phase before is gone");
    assert.ok(await page.locator("#vote-q1").isDisabled(), "no votes after the event");
    await axe(page, "attendee after");
    await shot(page, "phases-wire-attendee-after", true);
    phone.watch.assertClean("attendee");
  });

  it("attendee without a room: asked to choose one when a room's session starts, and it is sent", async () => {
    const phone = await relayed(browser, PHONE_390, null, { phase: "live", current: { plenary: "welcome", rooms: {} } });
    const page = phone.page;
    await joinAsAttendee(page, ev.code, { room: null, viaForm: false });
    assert.ok(await page.locator("#room-prompt").isHidden(), "no prompt while only a plenary session is on");
    phone.give({ type: "session", current: { plenary: "welcome", rooms: { "Room B": "breakout-b" } } });
    const prompt = page.getByRole("region", { name: "A break-out session has started" });
    await prompt.waitFor();
    await axe(page, "attendee room prompt");
    await shot(page, "phases-wire-room-prompt", false);
    await prompt.getByRole("button", { name: "Room B", exact: true }).click();
    await within(5000, async () => phone.sent.some((m) => m.type === "profile" && m.room === "Room B"), "the room is sent");
    await within(5000, async () => await page.locator("#room-prompt").isHidden(), "the prompt goes");
    await page.locator('.tabs button[data-tab="you"]').click();
    await within(5000, async () => /Room B/.test(await page.locator("#you-summary").textContent()), "and shows under You, where it can change");
    phone.watch.assertClean("attendee without a room");
  });

  it("host: the phase in the header, its step confirmed, the queue per session, a session started", async () => {
    const host = await relayed(browser, { viewport: { width: 1440, height: 900 } }, ev.host_url, { phase: "before", current: { plenary: null, rooms: {} } });
    const page = host.page;
    await within(5000, async () => /Before the event · starts 09:30, 9 December/.test(await page.locator("#phase-chip").textContent()), "the header says before");
    assert.equal(await page.locator("#conn").textContent(), "Connected");
    host.hold = (m) => m.type === "start" || m.type === "session" || m.type === "end";
    await page.getByRole("button", { name: "Start the event" }).click();
    const dialog = page.getByRole("dialog", { name: "Start the event now?" });
    await dialog.waitFor();
    await axe(page, "host start dialog");
    await dialog.getByRole("button", { name: "Start the event" }).click();
    await within(5000, async () => host.sent.some((m) => m.type === "start"), "start is sent");
    const start = host.sent.find((m) => m.type === "start");
    host.give({ type: "ok", id: start.id, for: "start" });
    host.give({ type: "phase", phase: "live" });
    await within(5000, async () => (await page.locator("#conn").textContent()) === "Live" && await page.locator("#phase-chip").isHidden(), "live: the connection says it");
    assert.equal(await page.locator("#phase-action").textContent(), "End the live part…");

    // Questions arrive with their session; advance ones are marked, the filter narrows.
    host.give({ type: "question", question: { id: "a1", text: "Sent before the day", votes: 3, state: "approved", flagged: false, session: "welcome", advance: true } });
    host.give({ type: "question", question: { id: "b1", text: "Asked in Room B", votes: 0, state: "pending", flagged: false, session: "breakout-b", advance: false } });
    host.give({ type: "session", current: { plenary: null, rooms: { "Room B": "breakout-b" } } });
    await within(5000, async () => (await page.locator("#modlist li").count()) === 2, "both questions queued");
    assert.match(await page.locator("#modlist li").first().textContent(), /Asked in Room B/, "the current session's question comes first");
    assert.match(await page.locator("#m-question-a1").textContent(), /Sent in advance.*3 votes · Welcome and who is in the room/);
    await page.getByLabel("Session").selectOption("welcome");
    await within(5000, async () => (await page.locator("#modlist li").count()) === 1, "the filter keeps one session");
    await axe(page, "host live, queue per session");

    // "Start this session" from the run of show sends the session command.
    const section = page.locator(".session", { has: page.locator("#h-barriers") });
    await section.getByRole("button", { name: "Start this session" }).click();
    await within(5000, async () => host.sent.some((m) => m.type === "session" && m.session === "prescribing"), "the session command is sent");
    const cmd = host.sent.find((m) => m.type === "session");
    host.give({ type: "ok", id: cmd.id, for: "session" });
    host.give({ type: "session", current: { plenary: "prescribing", rooms: {} } });
    await within(5000, async () => await section.getByText("Current session").isVisible(), "marked current");
    await shot(page, "phases-wire-host-live", false);

    // A current break-out can be ended on its own: `session: null` for its room.
    const roomB = page.locator(".session", { has: page.getByRole("heading", { name: /Room B/ }) });
    host.give({ type: "session", current: { plenary: "prescribing", rooms: { "Room B": "breakout-b" } } });
    await within(5000, async () => await roomB.getByRole("button", { name: "End this break-out" }).isVisible(), "a current break-out can be ended");
    assert.ok(await section.getByRole("button", { name: "End this session" }).isVisible(), "and the current plenary session");
    await roomB.scrollIntoViewIfNeeded();
    await shot(page, "phases-wire-host-end-breakout", false);
    await roomB.getByRole("button", { name: "End this break-out" }).click();
    await within(5000, async () => host.sent.some((m) => m.type === "session" && m.session === null && m.room === "Room B"), "the break-out's end is sent for its room");
    const endRoom = host.sent.find((m) => m.type === "session" && m.room === "Room B");
    host.give({ type: "ok", id: endRoom.id, for: "session" });
    host.give({ type: "session", current: { plenary: "prescribing", rooms: {} } });
    await within(5000, async () => await roomB.getByRole("button", { name: "End this break-out" }).isHidden(), "an ended break-out offers no end");
    assert.ok(await roomB.getByRole("button", { name: "Start this session" }).isVisible(), "and may start again");
    assert.ok(await section.getByText("Current session").isVisible(), "the plenary session carries on");

    // Ending the live part of an event with an evaluation: confirmed, then the evaluation.
    await page.locator("#phase-action").click();
    const end = page.getByRole("dialog", { name: "End the live part now?" });
    await end.getByRole("button", { name: "End the live part" }).click();
    await within(5000, async () => host.sent.some((m) => m.type === "end"), "end is sent");
    const endCmd = host.sent.find((m) => m.type === "end");
    host.give({ type: "phase", phase: "after", closes_at: CLOSES });
    host.give({ type: "ok", id: endCmd.id, for: "end" });
    await within(5000, async () => (await page.locator("#phase-name").textContent()) === "Evaluation open", "the evaluation is open");
    assert.ok(await page.locator("#ended-banner").isHidden(), "the event has not ended");
    assert.equal(await page.locator("#phase-action").textContent(), "Close the evaluation…");
    await axe(page, "host after");
    await shot(page, "phases-wire-host-after", false);
    host.watch.assertClean("host");
  });

  it("presenter: before, a room's screen shows only its room's questions, after", async () => {
    const roomUrl = ev.present_url.replace("#", "?room=" + encodeURIComponent("Room A") + "#");
    const screen = await relayed(browser, { viewport: { width: 1280, height: 720 } }, roomUrl, { phase: "before", current: { plenary: null, rooms: {} } });
    const page = screen.page;
    const stage = () => page.locator("#stage").textContent();
    await within(5000, async () => /Starts at 09:30 on 9\u00a0December/.test(await stage()), "a join screen with the start");
    assert.ok(await page.locator("#qr").isVisible());
    await axe(page, "room screen before");
    await shot(page, "phases-wire-room-screen-before", false);
    screen.give({ type: "phase", phase: "live" });
    screen.give({ type: "session", current: { plenary: "welcome", rooms: { "Room A": "breakout-a", "Room B": "breakout-b" } } });
    screen.give({ type: "questions", session: "welcome", room: null, total: 1, questions: [{ id: "p", text: "A plenary question", votes: 9, answered: false }] });
    screen.give({ type: "questions", session: "breakout-b", room: "Room B", total: 1, questions: [{ id: "b", text: "A Room B question", votes: 4, answered: false }] });
    screen.give({ type: "questions", session: "breakout-a", room: "Room A", total: 1, questions: [{ id: "a", text: "A Room A question", votes: 1, answered: false }] });
    await within(5000, async () => /A Room A question/.test(await stage()), "Room A's question is on Room A's screen");
    assert.doesNotMatch(await stage(), /plenary question|Room B question/, "and nobody else's");
    assert.match(await stage(), /Q&A · Break-out A/);
    await axe(page, "room screen live");
    await shot(page, "phases-wire-room-screen-live", false);
    screen.give({ type: "phase", phase: "after", closes_at: CLOSES });
    await within(5000, async () => /Tell us how it went/.test(await stage()), "after: tell us how it went");
    assert.ok(await page.locator("#qr").isVisible(), "with the QR");
    await axe(page, "room screen after");
    screen.watch.assertClean("presenter");
  });
});
