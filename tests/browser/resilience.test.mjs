// A reload or a dropped connection keeps the attendee's identity and answers: this test runs
// its own server so it can stop and restart it under a connected phone.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { PHONE, DESKTOP, launch, createEvent, watch, axe, shot, within, joinAsAttendee, startServer } from "./lib.mjs";

describe("reloads and dropped connections", () => {
  let browser, server, base, ev, phone, host, watches, frames = [], posted = [];

  before(async () => {
    server = await startServer();
    base = server.base;
    ev = await createEvent(base);
    browser = await launch();
    phone = await (await browser.newContext(PHONE)).newPage();
    phone.on("websocket", (ws) => ws.on("framesent", (f) => frames.push(String(f.payload))));
    phone.on("request", (r) => { if (r.method() === "POST") posted.push(r.postData() || ""); });
    host = await (await browser.newContext(DESKTOP)).newPage();
    // While the server is down, the pages' reconnect attempts fail by design.
    const refused = /ERR_CONNECTION_REFUSED|WebSocket connection to .* failed|Failed to load resource/;
    watches = [watch(phone, { allow: [refused] }), watch(host, { allow: [refused] })];
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
    for (const key of ["role", "pre-prescribing"]) {
      await host.locator(`#h-${key}`).getByRole("button", { name: "Open", exact: true }).click();
      await host.locator(`#h-${key}`).getByRole("button", { name: "Close", exact: true }).waitFor();
    }
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.remove();
  });

  const tokenOf = () => phone.evaluate((c) => localStorage.getItem(`joinup.attendee.${c}`), ev.code);

  it("a reload keeps the identity, the profile and the saved answers", async () => {
    await joinAsAttendee(phone, ev.code, { base, search: "police", org: "North Yorkshire Police", room: null });
    await phone.locator("#act-role").getByRole("radio", { name: "Student" }).check();
    await phone.locator("#act-role").getByRole("button", { name: "Send answer" }).click();
    await within(5000, async () => /Saved/.test(await phone.locator("#act-role-state").textContent()), "Saved");
    const token = await tokenOf();
    assert.match(JSON.parse(token), /^[0-9a-f]{48}$/);

    await phone.reload();
    await within(5000, async () => /Saved/.test(await phone.locator("#act-role-state").textContent()), "Saved after reload");
    await phone.locator("#act-role").getByRole("button", { name: "Change answer" }).click();  // a saved card is folded
    assert.equal(await phone.locator("#act-role").getByRole("radio", { name: "Student" }).isChecked(), true);
    assert.equal(await tokenOf(), token, "the same attendee");
    await phone.getByRole("button", { name: "You" }).click();
    assert.match(await phone.locator("#you-summary").textContent(), /North Yorkshire Police.*Police/);
    await phone.getByRole("button", { name: /^Answer/ }).click();
    await within(3000, async () => (await host.locator("#att-joined").textContent()) === "1", "still one attendee");
    assert.equal(await host.locator("#h-role .bar-value").nth(4).textContent(), "1 · 100%");
  });

  it("an answer given while the server is down is kept, resent with the same id, and saved", async () => {
    const token = await tokenOf();
    await server.stop();
    await within(10000, async () => /Reconnecting/.test(await phone.locator("#conn").textContent()), "the phone says it is reconnecting");

    await phone.locator("#act-pre-prescribing").getByRole("radio", { name: "3", exact: true }).click();
    await phone.locator("#act-pre-prescribing").getByRole("button", { name: "Send answer" }).click();
    await within(2000, async () => /Not sent yet/.test(await phone.locator("#act-pre-prescribing-state").textContent()), "not sent yet");
    assert.match(await phone.locator("#conn").textContent(), /1 answer will be sent/);
    assert.doesNotMatch(await phone.locator("#act-pre-prescribing-state").textContent(), /Saved/, "never Saved without an ack");
    const outbox = await phone.evaluate((c) => JSON.parse(localStorage.getItem(`joinup.outbox.${c}`)), ev.code);
    assert.equal(outbox.length, 1);
    const { id } = outbox[0];
    assert.deepEqual({ ...outbox[0], id: undefined }, { type: "answer", id: undefined, activity: "pre-prescribing", value: 3 });
    await shot(phone, "attendee-reconnecting", false);
    await axe(phone, "attendee while reconnecting");

    server = await startServer({ port: server.port, dir: server.dir });
    await within(40000, async () => /Saved/.test(await phone.locator("#act-pre-prescribing-state").textContent()), "Saved once the server is back");
    const sent = [...frames, ...posted].map((f) => { try { return JSON.parse(f); } catch { return {}; } });
    assert.ok(sent.some((m) => m.type === "answer" && m.id === id), "the queued answer went out with its original id");
    const hello = sent.filter((m) => m.type === "hello").pop();
    assert.equal(hello.attendee, JSON.parse(token), "the reconnect resumed the same attendee");
    assert.equal(await tokenOf(), token);
    assert.match(await phone.locator("#conn").textContent(), /Connected/);
    await within(40000, async () => /Average 3\.0/.test(await host.locator("#h-pre-prescribing .mean").textContent()), "the host sees it after reconnecting");
    assert.equal(await host.locator("#att-joined").textContent(), "1");
    for (const w of watches) w.assertClean("resilience");
  });
});
