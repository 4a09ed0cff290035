// Networks that block WebSocket: the attendee page carries on over POST + Server-Sent Events
// without the person noticing, and the host sees every answer.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { PHONE, DESKTOP, launch, createEvent, watch, axe, shot, within, joinAsAttendee } from "./lib.mjs";

const BLOCKERS = {
  // The constructor throws, as some locked-down browsers and proxies make it.
  throws: () => {
    window.WebSocket = function () { throw new Error("WebSocket is blocked on this network"); };
  },
  // The socket is created but never opens: a proxy that swallows the upgrade.
  hangs: () => {
    window.WebSocket = class {
      constructor(url) { this.url = url; this.readyState = 0; }
      send() { throw new Error("not open"); }
      close() { this.readyState = 3; }
    };
  },
};

for (const [how, blocker] of Object.entries(BLOCKERS)) {
  describe(`WebSocket blocked (${how})`, () => {
    let browser, ev, phone, host, sockets = 0, streams = 0, posts = 0, watches;

    before(async () => {
      ev = await createEvent();
      browser = await launch();
      const ctx = await browser.newContext(PHONE);
      await ctx.addInitScript(blocker);
      phone = await ctx.newPage();
      phone.on("websocket", () => sockets++);
      phone.on("request", (r) => {
        if (r.url().endsWith("/stream")) streams++;
        if (r.url().endsWith("/messages") && r.method() === "POST") posts++;
      });
      host = await (await browser.newContext(DESKTOP)).newPage();
      watches = [watch(phone), watch(host)];
      await host.goto(ev.host_url);
      await host.locator("#h-role").waitFor();
    });

    after(async () => { await browser?.close(); });

    it("the attendee joins, answers, sees Saved, and the host sees it", async () => {
      await joinAsAttendee(phone, ev.code, { search: "changing", org: "Changing Lives", room: "Room B" });
      // "hangs": three silent WebSocket attempts of 5 s each, then the fallback.
      await within(30000, async () => /Connected/.test(await phone.locator("#conn").textContent()), "connected over the fallback");
      assert.ok(streams >= 1, "the Server-Sent Events stream is open");

      // Opened after joining: this reaches the phone over the stream.
      await host.locator("#h-role").getByRole("button", { name: "Open", exact: true }).click();
      await host.locator("#h-connected-word").getByRole("button", { name: "Open", exact: true }).click();
      await phone.locator("#act-role").waitFor();
      await phone.locator("#act-connected-word").waitFor();

      await phone.locator("#act-role").getByRole("radio", { name: "Practitioner or clinician" }).check();
      await phone.locator("#act-role").getByRole("button", { name: "Send answer" }).click();
      await within(1000, async () => (await host.locator("#h-role .bar-value").first().textContent()) === "1 · 100%", "the host's chart changes");
      await within(5000, async () => /Saved/.test(await phone.locator("#act-role-state").textContent()), "Saved");

      await phone.locator("#act-connected-word").getByLabel("Your word").fill("Trust");
      await phone.locator("#act-connected-word").getByRole("button", { name: "Send answer" }).click();
      await within(5000, async () => /Saved/.test(await phone.locator("#act-connected-word-state").textContent()), "Saved");
      await within(1000, async () => /trust/.test(await host.locator("#h-connected-word .cloud").textContent()), "the host's cloud shows the word");

      await host.locator("#h-role").getByRole("button", { name: "Show results" }).click();
      await phone.locator("#res-role").waitFor();
      assert.match(await phone.locator("#res-role").textContent(), /Practitioner or clinician\s*1 · 100%/);

      assert.equal(sockets, 0, "no WebSocket ever connected");
      assert.ok(posts >= 3, "messages went as POSTs");
      await axe(phone, `attendee over the fallback (${how})`);
      await shot(phone, `attendee-fallback-${how}`, false);
    });

    it("a reload keeps the identity and the answers over the fallback", async () => {
      const token = await phone.evaluate((c) => localStorage.getItem(`joinup.attendee.${c}`), ev.code);
      await phone.reload();
      await phone.locator("#act-role").waitFor();
      await within(15000, async () => /Saved/.test(await phone.locator("#act-role-state").textContent()), "Saved after reload");
      await phone.locator("#act-role").getByRole("button", { name: "Change answer" }).click();  // a saved card is folded
      assert.equal(await phone.locator("#act-role").getByRole("radio", { name: "Practitioner or clinician" }).isChecked(), true);
      assert.equal(await phone.evaluate((c) => localStorage.getItem(`joinup.attendee.${c}`), ev.code), token);
      assert.equal(await host.locator("#att-joined").textContent(), "1", "still one attendee");
      assert.equal(sockets, 0);
      for (const w of watches) w.assertClean(`fallback (${how})`);
    });
  });
}
