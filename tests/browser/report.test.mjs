// report.html is opened from disk and mailed around: its own Content-Security-Policy must
// refuse any script and any load, and the report must still show its styles and charts.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BASE, DESKTOP, SHOTS, launch, createEvent } from "./lib.mjs";

/** Joins an attendee over the no-WebSocket fallback (Node 20 has no WebSocket client). */
async function joinAs(code, organisation) {
  const r = await fetch(`${BASE}/api/events/${code}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type: "hello", attendee: null, organisation }),
  });
  assert.equal(r.status, 200, `hello: ${r.status}`);
}

describe("report.html opened from disk", () => {
  let browser, dir, file;
  before(async () => {
    const ev = await createEvent();
    for (const org of ["York Mind", "York Mind", "Changing Lives"]) await joinAs(ev.code, org);
    const r = await fetch(`${BASE}/api/events/${ev.code}/report.html`, {
      headers: { Authorization: `Bearer ${ev.host_token}` },
    });
    assert.equal(r.status, 200);
    dir = mkdtempSync(join(tmpdir(), "joinup-report-"));
    file = join(dir, "report.html");
    writeFileSync(file, await r.text());
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shows its styles and charts, and runs or loads nothing", async () => {
    const ctx = await browser.newContext(DESKTOP);
    const page = await ctx.newPage();
    const refused = [];
    page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) refused.push(m.text()); });
    const requests = [];
    page.on("request", (req) => requests.push(req.url()));
    await page.goto(pathToFileURL(file).href);

    // The inline styles apply (the title's colour and the tiles' grid come from <style>).
    const look = await page.evaluate(() => ({
      h1: getComputedStyle(document.querySelector("h1")).color,
      tiles: getComputedStyle(document.querySelector(".tiles")).display,
      charts: [...document.querySelectorAll("svg.chart")].map((s) => s.getBoundingClientRect().height),
    }));
    assert.equal(look.h1, "rgb(0, 48, 135)", "the <style> block applies");
    assert.equal(look.tiles, "grid");
    assert.ok(look.charts.length > 0 && look.charts.every((h) => h > 50), `charts drawn: ${look.charts}`);
    assert.deepEqual(refused, [], "nothing the report itself needs is refused");
    assert.deepEqual(requests.filter((u) => !u.startsWith("file:")), [], "nothing fetched");

    // What a tampered or hostile copy might add is refused: an inline script, an image.
    await page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__ran = true";
      document.body.append(s);
      const img = document.createElement("img");
      img.src = "http://127.0.0.1:9/pixel.png";
      document.body.append(img);
    });
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => window.__ran === true), false, "an inline script is refused");
    assert.ok(refused.some((t) => /script/i.test(t)), `the script was refused by the CSP: ${refused}`);
    assert.ok(refused.some((t) => /img|image/i.test(t)), `the image was refused by the CSP: ${refused}`);
    await page.screenshot({ path: join(SHOTS, "report-from-disk.png") });
    await ctx.close();
  });
});
