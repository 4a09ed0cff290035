// The attendee page never drops an answer silently: every answer ends as saved or "not saved,
// and why", on its card and under "You", also after the card is gone and after a reload; a
// WebSocket blocked after it worked falls back to POST + event stream; a reload while offline
// shows the page from its offline shell; a handshake or welcome that never comes is given up.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, DESKTOP, PHONE_390, launch, createEvent, watch, axe, shot, within, joinAsAttendee, network } from "./lib.mjs";

// While a phone is offline or its WebSocket blocked, its attempts fail by design.
const EXPECTED = /ERR_INTERNET_DISCONNECTED|ERR_CONNECTION|WebSocket connection to .* failed|Failed to load resource|net::ERR_FAILED/;

const text = (page, sel) => page.locator(sel).textContent();
const item = (page, key) => page.locator(`#you-answers li[data-activity="${key}"]`);

async function openActivity(host, key, name = "Open") {
  await host.locator(`#h-${key}`).getByRole("button", { name, exact: true }).click();
  await within(5000, async () => !(await host.locator(`#h-${key} button[aria-busy]`).count()), `${name} ${key}`);
}

describe("every answer ends saved or not saved, with the reason", () => {
  let browser, ev, host, ctx, phone, net, watches;

  before(async () => {
    ev = await createEvent();
    browser = await launch();
    host = await (await browser.newContext(DESKTOP)).newPage();
    ctx = await browser.newContext(PHONE_390);
    net = await network(ctx);
    phone = await ctx.newPage();
    watches = [watch(host), watch(phone, { allow: [EXPECTED] })];
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
    await openActivity(host, "role");
    await openActivity(host, "pre-prescribing");
    await joinAsAttendee(phone, ev.code, { search: "police", org: "North Yorkshire Police", room: null });
  });

  after(async () => { await browser?.close(); });

  it("an answer refused because its activity closed meanwhile says so, after the card is gone and after a reload", async () => {
    await phone.locator("#act-role").getByRole("radio", { name: "Student" }).check();
    await phone.locator("#act-role").getByRole("button", { name: "Send answer" }).click();
    await within(5000, async () => /Saved/.test(await text(phone, "#act-role-state")), "Saved");
    await shot(phone, "attendee-saved", false);

    await net.offline(true);
    // A saved answer folds its card; "Change answer" opens it again.
    await phone.locator("#act-role").getByRole("button", { name: "Change answer" }).click();
    await phone.locator("#act-role").getByRole("radio", { name: "Practitioner or clinician" }).check();
    await phone.locator("#act-role").getByRole("button", { name: "Update answer" }).click();
    await within(3000, async () => /Not sent yet/.test(await text(phone, "#act-role-state")), "waiting");
    await openActivity(host, "role", "Close");
    await net.offline(false);

    // Back online: the welcome removes the card, the answer is refused, and the page says so.
    await within(20000, async () => (await item(phone, "role").getAttribute("data-state")) === "refused", "refused under You");
    assert.equal(await phone.locator("#act-role").count(), 0, "the card is gone");
    assert.match(await text(phone, "#answer-notice-text"), /1 answer to a closed question was not saved/);
    assert.match(await text(phone, "#conn"), /Connected/);
    await shot(phone, "attendee-not-saved-notice", false);
    await phone.getByRole("button", { name: "See your answers" }).click();
    const shown = await item(phone, "role").textContent();
    assert.match(shown, /You gave: Practitioner or clinician/);
    assert.match(shown, /Not saved: This question closed before your answer reached us\./);
    assert.match(shown, /We kept your earlier answer: Student\./);
    await axe(phone, "attendee: your answers, one not saved");
    await shot(phone, "attendee-your-answers", true);

    await phone.reload();
    await phone.locator("#view-app").waitFor({ state: "visible" });
    await within(10000, async () => /Connected/.test(await text(phone, "#conn")), "connected after reload");
    assert.equal(await item(phone, "role").getAttribute("data-state"), "refused", "still not saved after a reload");
    assert.match(await item(phone, "role").textContent(), /Not saved: This question closed/);

    // The host reopens it: the card shows the answer given, not the older one as saved.
    await openActivity(host, "role", "Reopen");
    await phone.getByRole("button", { name: /^Answer/ }).click();
    await phone.locator("#act-role").waitFor();
    const state = await text(phone, "#act-role-state");
    assert.doesNotMatch(state, /Saved/);
    assert.match(state, /Not saved: This question closed before your answer reached us\. We kept your earlier answer: Student\./);
    assert.equal(await phone.locator("#act-role").getByRole("radio", { name: "Practitioner or clinician" }).isChecked(), true);
    await phone.locator("#act-role-state").scrollIntoViewIfNeeded();
    await shot(phone, "attendee-not-saved-card", false);
    await phone.locator("#act-role").getByRole("button", { name: "Send again" }).click();
    await within(5000, async () => /Saved/.test(await text(phone, "#act-role-state")), "saved when sent again");
    assert.equal(await item(phone, "role").getAttribute("data-state"), "saved");
    assert.equal(await phone.locator("#answer-notice").isHidden(), true);
  });

  it("a WebSocket blocked after it worked falls back to POST + event stream while HTTP works", async () => {
    const posts = [];
    phone.on("request", (r) => { if (r.url().endsWith("/messages") && r.method() === "POST") posts.push(r.postData()); });
    await net.blockWs("refuse");
    await phone.locator("#act-pre-prescribing").getByRole("radio", { name: "4", exact: true }).click();
    await phone.locator("#act-pre-prescribing").getByRole("button", { name: "Send answer" }).click();
    await within(30000, async () => /Saved/.test(await text(phone, "#act-pre-prescribing-state")), "saved over the fallback");
    assert.ok(posts.some((p) => JSON.parse(p).type === "answer"), "the answer went as a POST");
    assert.match(await text(phone, "#you-conn"), /compatibility mode/);
    await within(5000, async () => /Average 4\.0/.test(await text(host, "#h-pre-prescribing .mean")), "the host sees it");
    await net.blockWs(false);
    for (const w of watches) w.assertClean("answers");
  });
});

describe("the offline shell", () => {
  let browser, ev, host, ctx, phone, net, w;

  before(async () => {
    ev = await createEvent();
    browser = await launch();
    host = await (await browser.newContext(DESKTOP)).newPage();
    ctx = await browser.newContext(PHONE_390);
    net = await network(ctx);
    phone = await ctx.newPage();
    w = watch(phone, { allow: [EXPECTED] });
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
    await openActivity(host, "pre-trauma");
    await joinAsAttendee(phone, ev.code, { search: "york mind", org: "York Mind", room: null });
  });

  after(async () => { await browser?.close(); });

  it("a reload while offline shows the page, its outbox and a plain offline state, and sends when back", async () => {
    // The page installs its service worker on the first visit (a page without one fails below).
    await within(10000, async () => phone.evaluate(() => !!navigator.serviceWorker?.controller), "a service worker").catch(() => {});
    await phone.reload();
    await phone.locator("#act-pre-trauma").waitFor();
    await net.offline(true);
    await phone.locator("#act-pre-trauma").getByRole("radio", { name: "2", exact: true }).click();
    await phone.locator("#act-pre-trauma").getByRole("button", { name: "Send answer" }).click();
    await within(3000, async () => /Not sent yet/.test(await text(phone, "#act-pre-trauma-state")), "waiting");

    await phone.reload();
    await phone.locator("#view-app").waitFor({ state: "visible" });
    await within(5000, async () => /You're offline: 1 answer will be sent when you're back online/.test(await text(phone, "#conn")), "offline state");
    assert.equal(await phone.locator("#conn").getAttribute("data-state"), "offline");
    assert.match(await text(phone, "#event-title"), /Dual Diagnosis/);
    assert.match(await text(phone, "#answer-notice-text"), /1 answer is waiting on this phone to be sent/);
    await shot(phone, "attendee-offline-shell", false);
    await phone.getByRole("button", { name: "You", exact: true }).click();
    assert.match(await text(phone, "#you-summary"), /York Mind/, "the details as last seen");
    assert.equal(await item(phone, "pre-trauma").getAttribute("data-state"), "pending");
    assert.match(await item(phone, "pre-trauma").textContent(), /You gave: 2 out of 5.*Not sent yet/);
    await axe(phone, "attendee offline shell");
    await shot(phone, "attendee-offline-you", true);

    await net.offline(false);
    await within(20000, async () => (await item(phone, "pre-trauma").getAttribute("data-state")) === "saved", "saved once back");
    await within(5000, async () => /Average 2\.0/.test(await text(host, "#h-pre-trauma .mean")), "the host sees it");
    w.assertClean("offline shell");
  });
});

describe("a handshake or welcome that never comes", () => {
  for (const how of ["no welcome", "no handshake"]) {
    it(`is given up and a new WebSocket connection is made (${how})`, async () => {
      const ev = await createEvent();
      const browser = await launch();
      try {
        const ctx = await browser.newContext(PHONE_390);
        let net = null;
        if (how === "no welcome") net = await network(ctx, { next: (n) => (n === 0 ? "hang" : null) });
        else {
          // The first socket never opens: a node that accepts the connection and freezes.
          await ctx.addInitScript(() => {
            const Real = window.WebSocket;
            let first = true;
            window.WebSocket = function (url, p) {
              if (!first) return new Real(url, p);
              first = false;
              return { readyState: 0, send() { throw new Error("not open"); }, close() { this.readyState = 3; } };
            };
          });
        }
        const phone = await ctx.newPage();
        const w = watch(phone, { allow: [EXPECTED] });
        const posts = [];
        phone.on("request", (r) => { if (r.url().endsWith("/messages")) posts.push(r); });
        await joinAsAttendee(phone, ev.code, { search: "york mind", org: "York Mind", room: null });
        await within(20000, async () => /Connected/.test(await text(phone, "#conn")), "connected on a second WebSocket");
        assert.doesNotMatch(await text(phone, "#you-conn"), /compatibility mode/, "still on WebSocket");
        assert.equal(posts.length, 0, "no fallback for one silent node");
        if (net) assert.equal(net.attempts, 2, "the second connection is a new one");
        w.assertClean(how);
      } finally {
        await browser.close();
      }
    });
  }
});
