// The attendee's polish (issue 19, points 10 to 13): an answered card folds and says thanks,
// the tab's title counts what is left to answer, results mark "your answer"; a question
// closed while typing keeps the text; no ack for a few seconds says "offline" plainly; the
// join form lists organisations alphabetically without an inner scroll, keeps what was typed,
// puts errors by their field; a code typed in lower case or with a space works; nothing is
// cut at 320 px.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, DESKTOP, PHONE_390, launch, createEvent, watch, axe, shot, within, joinAsAttendee } from "./lib.mjs";

const PHONE_320 = { viewport: { width: 320, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const EXPECTED = /WebSocket connection to .* failed|Failed to load resource/;

async function openActivity(host, key, name = "Open") {
  await host.locator(`#h-${key}`).getByRole("button", { name, exact: true }).click();
  await within(5000, async () => !(await host.locator(`#h-${key} button[aria-busy]`).count()), `${name} ${key}`);
}

describe("the attendee's polish", () => {
  let browser, ev, host, ctx, phone, watches;
  // While `drop` is on, the phone's answers never reach the server (a network that swallows
  // them without the socket noticing).
  const net = { drop: false, sockets: new Set() };

  before(async () => {
    ev = await createEvent();
    browser = await launch();
    host = await (await browser.newContext(DESKTOP)).newPage();
    ctx = await browser.newContext(PHONE_390);
    await ctx.routeWebSocket(/\/ws\/e\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        if (net.drop && typeof m === "string" && m.includes('"type":"answer"')) return;
        server.send(m);
      });
      net.sockets.add(ws);
      ws.onClose(() => { net.sockets.delete(ws); server.close().catch(() => {}); });
      server.onClose(() => { net.sockets.delete(ws); ws.close().catch(() => {}); });
    });
    phone = await ctx.newPage();
    watches = [watch(host), watch(phone, { allow: [EXPECTED] })];
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
  });

  after(async () => { await browser?.close(); });

  it("joining: alphabetical organisations without an inner scroll, typed name kept, errors by their field, code in lower case with a space", async () => {
    const code = ev.code;
    const messy = `${code.slice(0, 3).toLowerCase()} ${code.slice(3).toLowerCase()}`;
    await phone.goto(`${BASE}/e/${encodeURIComponent(messy)}`);
    await within(5000, async () => new URL(phone.url()).pathname === `/e/${code}`, "the address shows the code as spelt");
    const names = await phone.locator("#org-list label:not([data-always]) input").evaluateAll((xs) => xs.map((x) => x.value));
    assert.ok(names.length > 20);
    assert.deepEqual(names, names.slice().sort((a, b) => a.localeCompare(b, undefined, { sensitivity: "base" })), "alphabetical");
    const list = await phone.locator("#org-list").evaluate((n) => ({ overflow: getComputedStyle(n).overflowY, scroll: n.scrollHeight, client: n.clientHeight }));
    assert.equal(list.overflow, "visible", "the list is part of the page, not a box that scrolls");
    assert.ok(list.scroll <= list.client + 1, "nothing hidden inside the list");

    await phone.getByRole("searchbox", { name: "Search organisations" }).fill("Tyneside Harm Reduction Hub");
    assert.match(await phone.locator("#org-count").textContent(), /0 organisations match/);
    await phone.getByRole("radio", { name: "My organisation isn't listed" }).check();
    assert.equal(await phone.locator("#org-other").inputValue(), "Tyneside Harm Reduction Hub", "what was typed is kept");
    await phone.locator("#org-other").fill("");
    await phone.getByRole("button", { name: "Join" }).click();
    const error = phone.locator("#org-other-field #org-other-error");
    assert.equal(await error.isVisible(), true, "the error sits under its field");
    assert.match(await error.textContent(), /Type the name of your organisation/);
    assert.equal(await phone.locator("#org-other").getAttribute("aria-invalid"), "true");
    assert.match(await phone.locator("#org-other").getAttribute("aria-describedby"), /org-other-error/);
    await axe(phone, "join form with an error");
    await shot(phone, "attendee-join-error-390", false);
    await phone.locator("#org-other").fill("Tyneside Harm Reduction Hub");
    assert.equal(await error.isVisible(), false, "typing clears the error");
    await phone.getByRole("combobox", { name: "Your sector" }).selectOption({ index: 1 });
    await phone.getByRole("radio", { name: "Room A" }).check();
    await phone.getByRole("button", { name: "Join" }).click();
    await phone.locator("#view-app").waitFor({ state: "visible" });

    // The landing page takes the code however it is typed.
    const other = await ctx.newPage();
    await other.goto(`${BASE}/`);
    await other.getByLabel("Event code").fill(` ${messy} `);
    await other.getByRole("button", { name: "Join" }).click();
    await other.waitForURL(`**/e/${code}`);
    await other.close();
  });

  it("an answered card folds and thanks; the title counts what is left; results mark your answer", async () => {
    await openActivity(host, "role");
    await openActivity(host, "pre-prescribing");
    const card = (k) => phone.locator(`#act-${k}`);
    await card("role").waitFor();
    await card("pre-prescribing").waitFor();
    await within(3000, async () => /^\(2\) /.test(await phone.title()), "two to answer in the title");
    assert.equal(await phone.locator("#open-count").textContent(), "2");

    await card("role").getByRole("radio", { name: "Student" }).check();
    await card("role").getByRole("button", { name: "Send answer" }).click();
    await within(5000, async () => /Saved/.test(await card("role").locator(".save-state").textContent()), "saved");
    assert.equal(await card("role").getByRole("radio", { name: "Student" }).isVisible(), false, "the card is folded");
    assert.equal(await card("role").getByRole("button", { name: "Change answer" }).isVisible(), true);
    assert.equal(await card("role").locator(".thanks").isVisible(), false, "no thanks while another waits");
    await within(3000, async () => /^\(1\) /.test(await phone.title()), "one left in the title");

    await card("pre-prescribing").getByRole("radio", { name: "4", exact: true }).click();
    await card("pre-prescribing").getByRole("button", { name: "Send answer" }).click();
    await within(5000, async () => /Saved/.test(await card("pre-prescribing").locator(".save-state").textContent()), "saved");
    await within(3000, async () => !/^\(/.test(await phone.title()), "nothing left: no count in the title");
    assert.equal(await card("pre-prescribing").locator(".thanks").textContent(), "Thanks, waiting for the next question");
    assert.equal(await card("pre-prescribing").locator(".thanks").isVisible(), true);
    assert.equal(await phone.locator("#open-count").isHidden(), true);
    await axe(phone, "answered and folded");
    await shot(phone, "attendee-answered-folded-390", false);

    // Unfolding shows the answer given; the host's results mark it.
    await card("role").getByRole("button", { name: "Change answer" }).click();
    assert.equal(await card("role").getByRole("radio", { name: "Student" }).isChecked(), true);
    await host.locator("#h-role").getByRole("button", { name: "Show results" }).click();
    await phone.locator("#res-role").waitFor();
    assert.match(await phone.locator("#res-role .your-answer").textContent(), /Your answer: Student/);
    const mine = phone.locator("#res-role .bar-row.mine");
    assert.equal(await mine.count(), 1);
    assert.match(await mine.textContent(), /Your answer\s*Student/);
    await phone.locator("#res-role").scrollIntoViewIfNeeded();
    await shot(phone, "attendee-results-mine-390", false);
  });

  it("a question closed while typing keeps the text and says it just closed", async () => {
    await openActivity(host, "concern");
    const card = phone.locator("#act-concern");
    await card.waitFor();
    const typed = "Waiting lists for joint assessment are far too long in Gateshead.";
    await card.locator("textarea").fill(typed);
    await openActivity(host, "concern", "Close");
    await within(5000, async () => (await card.getAttribute("data-state")) === "closed", "the card stays, closed");
    assert.match(await card.locator(".save-state").textContent(), /This question just closed/);
    assert.equal(await card.locator("textarea").inputValue(), typed);
    assert.equal(await card.locator("textarea").evaluate((n) => n.readOnly), true);
    assert.equal(await card.getByRole("button", { name: "Send answer" }).count(), 0);
    await axe(phone, "closed while typing");
    await card.scrollIntoViewIfNeeded();
    await shot(phone, "attendee-closed-while-typing-390", false);
    await card.getByRole("button", { name: "Dismiss" }).click();
    assert.equal(await card.count(), 0);
  });

  it("no ack within a few seconds says offline plainly, keeps the button, and sends when back", async () => {
    await openActivity(host, "pre-trauma");
    const card = phone.locator("#act-pre-trauma");
    await card.waitFor();
    net.drop = true;
    await card.getByRole("radio", { name: "2", exact: true }).click();
    await card.getByRole("button", { name: "Send answer" }).click();
    assert.match(await card.locator(".save-state").textContent(), /Sending/);
    let seen = "";
    await within(12000, async () => /You're offline: your answer will be sent when you're back/.test(seen = await card.locator(".save-state").textContent()), "offline said plainly")
      .catch(async (e) => { throw new Error(`${e.message}; the card said "${seen}", the status line "${await phone.locator("#conn").textContent()}"`); });
    assert.equal(await card.getByRole("button", { name: "Update answer" }).isDisabled(), false, "the button is not stuck");
    assert.match(await phone.locator("#conn").textContent(), /You're offline/);
    await shot(phone, "attendee-no-ack-390", false);
    // The network comes back: the socket is replaced and the answer goes with the same id.
    net.drop = false;
    for (const ws of [...net.sockets]) await ws.close().catch(() => {});
    await within(20000, async () => /Saved/.test(await card.locator(".save-state").textContent()), "saved once back");
    watches.forEach((w, i) => w.assertClean(i ? "phone" : "host"));
  });

  it("nothing is cut at 320 px, including the You tab", async () => {
    const small = await browser.newContext(PHONE_320);
    const page = await small.newPage();
    const w = watch(page);
    await joinAsAttendee(page, ev.code, { viaForm: false });
    const tabs = await page.locator(".tabs button:not([hidden])").evaluateAll((bs) => bs.map((b) => ({ text: b.textContent, fits: b.scrollWidth <= b.clientWidth + 1, right: b.getBoundingClientRect().right })));
    for (const tab of tabs) assert.ok(tab.fits, `the tab ${tab.text} is cut`);
    const bar = await page.locator(".tabs").boundingBox();
    assert.ok(tabs.every((tab) => tab.right <= bar.x + bar.width + 0.5), `a tab runs out of the bar: ${JSON.stringify(tabs)}`);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), "no sideways scroll");
    await axe(page, "320 px");
    await shot(page, "attendee-320", false);
    w.assertClean("320 px");
    await small.close();
  });
});
