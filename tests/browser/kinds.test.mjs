// More ways to take part, in Chromium: a ranking reordered with the keyboard only, 100 points
// shared with the budget said as it changes, and reactions from the phone to the host's
// counter and, once the host shows them, the presenter's screen. axe on each, and screenshots
// at phone, laptop and projector sizes.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { launch, createEvent, watch, axe, shot, within, joinAsAttendee, PHONE_390, SHOTS } from "./lib.mjs";
import { move, readPoints, describeKind } from "../../web/kinds.js";

const LAPTOP = { viewport: { width: 1440, height: 900 } };
const PROJECTORS = [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }];
const RANKING = "commissioner-priorities";
const POINTS = "network-budget";

describe("kinds.js logic", () => {
  it("moves an option without losing or repeating one", () => {
    assert.deepEqual(move([0, 1, 2, 3], 3, 0), [3, 0, 1, 2]);
    assert.deepEqual(move([0, 1, 2, 3], 1, 2), [0, 2, 1, 3]);
    assert.deepEqual(move([0, 1, 2], 0, -1), [0, 1, 2], "past the top: unchanged");
  });
  it("reads point fields: blanks are 0, anything but whole numbers is invalid", () => {
    assert.deepEqual(readPoints(["40", "", " 60 "]), { values: [40, 0, 60], spent: 100, valid: true });
    assert.equal(readPoints(["40", "-5", "65"]).valid, false);
    assert.equal(readPoints(["40.5", "59.5"]).valid, false);
    assert.equal(readPoints(["1e2"]).valid, false);
  });
  it("describes answers in words", () => {
    const a = { kind: "ranking", options: ["A", "B", "C"] };
    assert.equal(describeKind(a, [2, 0, 1]), "1. C, 2. A, 3. B");
    assert.equal(describeKind({ kind: "points", options: ["A", "B"] }, [70, 30]), "A: 70, B: 30");
    assert.equal(describeKind({ kind: "choice" }, [1]), null);
  });
});

async function openActivity(host, key) {
  await host.locator(`#h-${key}`).getByRole("button", { name: "Open", exact: true }).click();
  await within(5000, async () => !(await host.locator(`#h-${key} button[aria-busy]`).count()), `open ${key}`);
}

async function summary(ev) {
  const r = await fetch(`${new URL(ev.host_url).origin}/api/events/${ev.code}/summary.json`, {
    headers: { Authorization: `Bearer ${ev.host_token}` },
  });
  assert.equal(r.status, 200);
  return r.json();
}

describe("ranking, points and reactions on the pages", () => {
  let browser, ev, host, phone, presenter, watches;

  before(async () => {
    ev = await createEvent();
    browser = await launch();
    host = await (await browser.newContext(LAPTOP)).newPage();
    phone = await (await browser.newContext(PHONE_390)).newPage();
    presenter = await (await browser.newContext({ viewport: PROJECTORS[0] })).newPage();
    watches = [watch(host), watch(phone), watch(presenter)];
    await host.goto(ev.host_url);
    await host.locator(`#h-${RANKING}`).waitFor();
    await openActivity(host, RANKING);
    await openActivity(host, POINTS);
    await presenter.goto(ev.present_url);
    await joinAsAttendee(phone, ev.code, { search: "police", org: "North Yorkshire Police", room: null });
  });

  after(async () => {
    watches?.forEach((w, i) => w.assertClean(["host", "phone", "presenter"][i]));
    await browser?.close();
  });

  it("a ranking is reordered with the keyboard alone and saved in that order", async () => {
    const card = phone.locator(`#act-${RANKING}`);
    await card.waitFor();
    const labels = async () => card.locator(".rank-label").allTextContents();
    const before = await labels();
    assert.equal(before.length, 5);
    // The last option to the top: focus its "Move up" button and press Enter four times.
    const last = before[4];
    await card.getByRole("button", { name: `Move “${last}” up` }).focus();
    for (let i = 0; i < 4; i++) await phone.keyboard.press("Enter");
    assert.deepEqual(await labels(), [last, ...before.slice(0, 4)]);
    assert.equal(await card.locator("[aria-live]").first().textContent(), `“${last}” is now 1 of 5.`);
    // Focus stays with the moved option (now first: its "Move down" button).
    assert.equal(await phone.evaluate(() => document.activeElement.getAttribute("aria-label")), `Move “${last}” down`);
    // Alt+ArrowDown on the second option moves it to third.
    await card.getByRole("button", { name: `Move “${before[0]}” down` }).focus();
    await phone.keyboard.press("Alt+ArrowDown");
    const order = await labels();
    assert.deepEqual(order, [last, before[1], before[0], before[2], before[3]]);
    await axe(phone, "attendee: a ranking");
    await card.getByRole("button", { name: "Send answer" }).click();
    await within(5000, async () => /Saved/.test(await phone.locator(`#act-${RANKING}-state`).textContent()), "ranking saved");
    await card.scrollIntoViewIfNeeded();
    await shot(phone, "kinds-attendee-ranking", false);

    const s = await summary(ev);
    const result = s.activities.find((a) => a.key === RANKING).result;
    const ranks = order.map((label, pos) => [result.options.indexOf(label), pos + 1]);
    ranks.forEach(([option, rank]) => assert.equal(result.mean_rank[option], rank));
    assert.equal(result.first[result.options.indexOf(last)], 1);
  });

  it("100 points: the points left are said as they change and only a spent budget sends", async () => {
    const card = phone.locator(`#act-${POINTS}`);
    await card.scrollIntoViewIfNeeded();
    const send = card.getByRole("button", { name: "Send answer" });
    const left = card.locator(".points-left");
    assert.equal(await left.textContent(), "100 points left to share");
    assert.equal(await left.getAttribute("aria-live"), "polite");
    assert.equal(await send.isDisabled(), true, "nothing shared yet");
    const fields = card.getByRole("spinbutton");
    assert.equal(await fields.count(), 5);
    await fields.nth(0).fill("60");
    await fields.nth(1).fill("50");
    assert.match(await left.textContent(), /^10 too many/);
    assert.equal(await send.isDisabled(), true, "overspent");
    await fields.nth(1).fill("30");
    assert.equal(await left.textContent(), "10 points left to share");
    // Two presses of a "+" stepper (5 each) by keyboard spend the rest.
    const option = (await card.locator(".points-label").nth(3).textContent()).trim();
    await card.getByRole("button", { name: `5 more for “${option}”` }).focus();
    await phone.keyboard.press("Enter");
    await phone.keyboard.press("Enter");
    await phone.keyboard.press("Enter");
    assert.equal(await fields.nth(3).inputValue(), "10", "a stepper stops at the budget");
    assert.equal(await left.textContent(), "All points shared: ready to send");
    await axe(phone, "attendee: 100 points");
    await send.click();
    await within(5000, async () => /Saved/.test(await phone.locator(`#act-${POINTS}-state`).textContent()), "points saved");
    await shot(phone, "kinds-attendee-points", false);
    const s = await summary(ev);
    assert.deepEqual(s.activities.find((a) => a.key === POINTS).result.points, [60, 30, 0, 10, 0]);
  });

  it("a reaction reaches the host's counter, and the presenter once the host shows it", async () => {
    const bar = phone.locator("#reactions");
    await bar.scrollIntoViewIfNeeded();
    const slow = bar.getByRole("button", { name: "Slow down" });
    await slow.click();
    await within(5000, async () => (await phone.locator("#reactions-status").textContent()) === "Slow down: sent.", "reaction acknowledged");
    assert.equal(await slow.isDisabled(), true, "the button rests while it would not count");
    await shot(phone, "kinds-attendee-reactions", false);
    await axe(phone, "attendee: reactions bar");

    const counter = host.locator('#host-reactions li[data-key="slow_down"] .reaction-n');
    await within(5000, async () => (await counter.textContent()) === "1", "host counter");
    await axe(host, "host: reactions");
    await host.locator("#host-reactions").screenshot({ path: join(SHOTS, "kinds-host-reactions.png") });

    assert.equal(await presenter.locator(".present-reactions").count(), 0, "hidden until the host shows it");
    const toggle = host.getByRole("button", { name: "Show on the presenter's screen" });
    await toggle.click();
    await within(5000, async () => (await toggle.getAttribute("aria-pressed")) === "true", "toggle pressed");
    const strip = presenter.locator(".present-reactions");
    await within(5000, async () => (await strip.count()) === 1 && await strip.isVisible(), "presenter shows reactions");
    assert.equal(await strip.locator('li[data-key="slow_down"] .reaction-n').textContent(), "1");
    for (const size of PROJECTORS) {
      await presenter.setViewportSize(size);
      await presenter.waitForTimeout(300);
      await shot(presenter, `kinds-presenter-reactions-${size.width}x${size.height}`, false);
      const overflow = await presenter.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(overflow, false, `no sideways scroll at ${size.width}x${size.height}`);
    }
    await axe(presenter, "presenter: reactions shown");
    await toggle.click();
    await within(5000, async () => !(await strip.isVisible()), "presenter hides reactions");
  });

  it("the host's and the presenter's charts show a ranking and points", async () => {
    await host.locator(`#h-${RANKING} .chart-ranking`).waitFor();
    await within(5000, async () => /rank 1\.0/.test(await host.locator(`#h-${RANKING} .chart-ranking`).textContent()), "host ranking chart");
    await within(5000, async () => /60 pts · 60%/.test(await host.locator(`#h-${POINTS} .chart-points`).textContent()), "host points chart");
    await host.locator(`#h-${POINTS}`).scrollIntoViewIfNeeded();
    await shot(host, "kinds-host-charts", true);
    await axe(host, "host: ranking and points charts");
    // The presenter: focus and reveal the ranking.
    await host.locator(`#h-${RANKING}`).getByRole("button", { name: /Show on screen|Focus/ }).first().click();
    await host.locator(`#h-${RANKING}`).getByRole("button", { name: /Reveal|Show results/ }).first().click();
    await within(5000, async () => (await presenter.locator(".stage-card .chart-ranking").count()) === 1, "presenter ranking chart");
    for (const size of PROJECTORS) {
      await presenter.setViewportSize(size);
      await presenter.waitForTimeout(600);
      await shot(presenter, `kinds-presenter-ranking-${size.width}x${size.height}`, false);
    }
    await axe(presenter, "presenter: ranking");
  });
});
