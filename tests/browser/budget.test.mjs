// The attendee page's first load stays within 60 KB compressed (HTML, CSS, JS, icon; no
// fonts: system fonts only) and is usable on a slow 3G connection.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { BASE, PHONE, launch, createEvent, watch, within } from "./lib.mjs";

const SLOW_3G = { offline: false, latency: 400, downloadThroughput: (400 * 1024) / 8, uploadThroughput: (400 * 1024) / 8 };

describe("attendee page budget", () => {
  let browser, ev;
  before(async () => { ev = await createEvent(); browser = await launch(); });
  after(async () => { await browser?.close(); });

  it("first load is at most 60 KB compressed and usable on slow 3G", async () => {
    const ctx = await browser.newContext(PHONE);
    const page = await ctx.newPage();
    const w = watch(page);
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
    const bodies = [];
    page.on("requestfinished", (req) => {
      bodies.push(req.response().then(async (res) => ({ url: req.url(), type: res.headers()["content-type"] || "", body: await res.body() })));
    });

    const started = Date.now();
    await page.goto(`${BASE}/e/${ev.code}`);
    await page.locator("#org-search").waitFor({ state: "visible" });
    const usable = Date.now() - started;

    const files = (await Promise.all(bodies)).filter((f) => !f.url.includes("/api/"));
    const kinds = files.map((f) => new URL(f.url).pathname);
    assert.ok(kinds.some((p) => p.endsWith(".css")) && kinds.some((p) => p.endsWith("attendee.js")), `loaded: ${kinds.join(", ")}`);
    assert.ok(!files.some((f) => /font/.test(f.type)), "no web fonts");
    assert.ok(files.every((f) => f.url.startsWith(BASE)), "nothing from another host");
    const raw = files.reduce((n, f) => n + f.body.length, 0);
    const gz = files.reduce((n, f) => n + gzipSync(f.body, { level: 9 }).length, 0);
    console.log(`  attendee first load: ${files.length} files, ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzip; usable on slow 3G after ${usable} ms`);
    assert.ok(gz <= 60 * 1024, `first load is ${gz} bytes compressed`);
    assert.ok(usable < 10000, `usable on slow 3G after ${usable} ms`);

    // And it still works at that speed: join and get connected.
    await page.getByRole("searchbox", { name: "Search organisations" }).fill("carers");
    await page.getByRole("radio", { name: /^Carers Plus Yorkshire/ }).check();
    await page.getByRole("button", { name: "Join" }).click();
    await within(15000, async () => /Connected/.test(await page.locator("#conn").textContent()), "connected on slow 3G");
    w.assertClean("slow 3G");
  });
});
