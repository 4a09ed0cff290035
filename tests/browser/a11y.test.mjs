// Accessibility beyond the main journey: dark mode, error states, keyboard only, reflow at
// 320 px (200 % zoom of a 640 px window), and the size of every target.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, PHONE, DESKTOP, PROJECTOR, launch, createEvent, watch, axe, shot, within, joinAsAttendee } from "./lib.mjs";

/** Presses Tab until the focused element matches `selector`. */
async function tabTo(page, selector, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
  }
  assert.fail(`Tab never reached ${selector}`);
}

/** No horizontal scrolling, and every visible control is at least 24 x 24 px. */
async function reflowsAndTargets(page, label) {
  const r = await page.evaluate(() => {
    const small = [];
    for (const e of document.querySelectorAll("button, select, textarea, input:not([type=radio]):not([type=checkbox]), summary, label.option, .consent input")) {
      const b = e.getBoundingClientRect();
      if (!b.width || !b.height || e.closest("[hidden]")) continue;
      if (b.width < 24 || b.height < 24) small.push(`${e.tagName.toLowerCase()}#${e.id} ${Math.round(b.width)}x${Math.round(b.height)}`);
    }
    return { overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth, small };
  });
  assert.ok(r.overflow <= 0, `${label}: scrolls sideways by ${r.overflow}px`);
  assert.deepEqual(r.small, [], `${label}: targets smaller than 24 px`);
}

describe("accessibility in every state", () => {
  let browser, ev;

  before(async () => {
    ev = await createEvent();
    browser = await launch();
  });
  after(async () => { await browser?.close(); });

  it("error states are clear and pass axe", async () => {
    const page = await (await browser.newContext(PHONE)).newPage();
    await page.goto(`${BASE}/`);
    await page.getByLabel("Event code").fill("12");
    await page.getByRole("button", { name: "Join" }).click();
    assert.match(await page.locator("#code-error").textContent(), /doesn't look like an event code/);
    assert.equal(await page.getByLabel("Event code").getAttribute("aria-invalid"), "true");
    await axe(page, "join page, invalid code");
    await page.getByLabel("Event code").fill("ZZZZZZ");
    await page.getByRole("button", { name: "Join" }).click();
    await within(3000, async () => /No event has the code ZZZZZZ/.test(await page.locator("#code-error").textContent()), "unknown code");
    await axe(page, "join page, unknown code");
    await shot(page, "join-error", false);

    await page.goto(`${BASE}/e/ZZZZZZ`);
    await page.getByRole("heading", { name: "Something went wrong" }).waitFor();
    assert.match(await page.locator("#error-text").textContent(), /No event has the code ZZZZZZ/);
    await axe(page, "attendee, unknown event");

    const desk = await (await browser.newContext(DESKTOP)).newPage();
    await desk.goto(`${BASE}/host/${ev.code}`);
    assert.match(await desk.locator("#host-error").textContent(), /no access key/);
    await axe(desk, "host without a token");
    const wrong = await desk.context().newPage();
    await wrong.goto(`${BASE}/host/${ev.code}#${"0".repeat(48)}`);
    await within(5000, async () => /refused/.test(await wrong.locator("#host-error").textContent()), "a wrong token is refused");
    assert.equal(await wrong.locator("#conn").textContent(), "Access key refused");
    await axe(wrong, "host with a wrong token");
  });

  it("keyboard only: join, choose an organisation and room, answer, see Saved", async () => {
    const host = await (await browser.newContext(DESKTOP)).newPage();
    await host.goto(ev.host_url);
    await host.locator("#h-role").getByRole("button", { name: "Open", exact: true }).click();
    await host.locator("#h-partnership-priority").getByRole("button", { name: "Open", exact: true }).click();

    const page = await (await browser.newContext(PHONE)).newPage();
    const w = watch(page);
    await page.goto(`${BASE}/`);
    await tabTo(page, "#code");
    await page.keyboard.type(ev.code);
    await page.keyboard.press("Enter");
    await page.waitForURL(`**/e/${ev.code}`);
    await page.locator("#org-search").waitFor();
    await tabTo(page, "#org-search");
    await page.keyboard.type("humankind");
    await tabTo(page, "#org-list input");
    await page.keyboard.press("Space");
    assert.equal(await page.evaluate(() => document.activeElement.value), "Humankind");
    assert.equal(await page.getByLabel("Your sector").inputValue(), "Drug and alcohol");
    await tabTo(page, "#room-list input");
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.evaluate(() => document.querySelector("#room-list input:checked").value), "Room B");
    await page.keyboard.press("ArrowUp");
    await tabTo(page, "#profile-submit");
    await page.keyboard.press("Enter");
    await page.locator("#act-role").waitFor();
    await page.locator("#act-partnership-priority").waitFor();

    await tabTo(page, "#act-role input");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowUp");
    await page.keyboard.press("Space");
    await tabTo(page, "#act-role button[type=submit]");
    await page.keyboard.press("Enter");
    await within(5000, async () => /Saved/.test(await page.locator("#act-role-state").textContent()), "Saved by keyboard");
    assert.equal(await page.locator("#act-role input:checked").getAttribute("value"), "0");

    // Tabs by keyboard.
    await tabTo(page, ".tabs button[data-tab=qa]");
    await page.keyboard.press("Enter");
    assert.equal(await page.locator("#panel-qa").isVisible(), true);
    await tabTo(page, "#ask-text");
    await page.keyboard.type("Can slides be shared afterwards?");
    await tabTo(page, "#ask-submit");
    await page.keyboard.press("Enter");
    await within(5000, async () => /Sent/.test(await page.locator("#ask-state").textContent()), "asked by keyboard");
    w.assertClean("keyboard");
  });

  it("dark mode on every page passes axe", async () => {
    const host = await (await browser.newContext({ ...DESKTOP, colorScheme: "dark" })).newPage();
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
    await host.locator("#h-barrier-word").getByRole("button", { name: "Open", exact: true }).click();
    await host.locator("#h-pledge").getByRole("button", { name: "Open", exact: true }).click();

    const phone = await (await browser.newContext({ ...PHONE, colorScheme: "dark" })).newPage();
    await phone.goto(`${BASE}/`);
    await axe(phone, "join page (dark)");
    await phone.goto(`${BASE}/e/${ev.code}`);
    await phone.locator("#org-search").waitFor();
    await axe(phone, "profile form (dark)");
    await joinAsAttendee(phone, ev.code, { viaForm: false, search: "arc", org: "Arc Light", room: "Room B" });
    await phone.locator("#act-barrier-word").getByLabel("Word or phrase 1").fill("housing");
    await phone.locator("#act-barrier-word").getByRole("button", { name: "Send answer" }).click();
    await phone.locator("#act-pledge").getByRole("button", { name: "Sign the pledge" }).click();
    await within(5000, async () => /Saved/.test(await phone.locator("#act-pledge-state").textContent()), "pledge saved");
    await host.locator("#h-role").getByRole("button", { name: "Show results" }).click();
    await host.locator("#h-pledge").getByRole("button", { name: "Show results" }).click();
    await host.locator("#h-pledge").getByRole("button", { name: "Show on screen" }).click();
    await phone.locator("#res-pledge").waitFor();
    await axe(phone, "attendee with answers and results (dark)");
    await shot(phone, "attendee-dark");
    await phone.getByRole("button", { name: "You" }).click();
    await axe(phone, "attendee You panel (dark)");
    await phone.getByRole("button", { name: "Change details" }).click();
    await phone.getByRole("heading", { name: "Change your details" }).waitFor();
    await axe(phone, "profile change form (dark)");

    await axe(host, "host (dark)");
    await shot(host, "host-dark", false);
    const presenter = await (await browser.newContext({ ...PROJECTOR, colorScheme: "dark" })).newPage();
    await presenter.goto(ev.present_url);
    await presenter.locator("#stage .bars").waitFor();
    await axe(presenter, "presenter with pledge results (dark)");
    await shot(presenter, "presenter-dark", false);
  });

  it("reflows at 320 px and 200 % zoom, with targets of at least 24 px", async () => {
    const host = await (await browser.newContext({ viewport: { width: 640, height: 800 } })).newPage();
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
    await reflowsAndTargets(host, "host at 200 % zoom");
    await axe(host, "host at 200 % zoom");
    await shot(host, "host-zoom-200", false);

    const phone = await (await browser.newContext({ viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true })).newPage();
    await phone.goto(`${BASE}/`);
    await reflowsAndTargets(phone, "join page at 320 px");
    await phone.goto(`${BASE}/e/${ev.code}`);
    await phone.locator("#org-search").waitFor();
    await reflowsAndTargets(phone, "profile at 320 px");
    await joinAsAttendee(phone, ev.code, { viaForm: false, search: "foundation", org: "Foundation", room: null });
    await phone.locator("#act-role").waitFor();
    await reflowsAndTargets(phone, "attendee at 320 px");
    await axe(phone, "attendee at 320 px");
    await shot(phone, "attendee-320", false);

    const presenter = await (await browser.newContext({ viewport: { width: 800, height: 450 } })).newPage();
    await presenter.goto(ev.present_url);
    await presenter.locator("#stage-title").waitFor();
    await reflowsAndTargets(presenter, "presenter at 200 % zoom");
  });
});
