// The host's page for the report's themes: its pure logic under Node, then the real page in
// Chromium: it lists the themes, saves a rename and a merge that the report then uses, and
// axe finds nothing on it (at phone, laptop and projector sizes) nor on the report itself.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BASE, launch, createEvent, axe, shot, watch } from "./lib.mjs";
import { namesBody, setLines, codeFromPath } from "../../web/themes.js";

describe("themes.js logic", () => {
  it("sends only names that differ from the default and are not blank", () => {
    const body = namesBody([
      { id: "funding", default_name: "Funding and commissioning", value: " Money " },
      { id: "access", default_name: "Access, thresholds and waiting", value: "Access, thresholds and waiting" },
      { id: "housing", default_name: "Housing and homelessness", value: "   " },
    ]);
    assert.deepEqual(body, { names: { funding: "Money" } });
  });
  it("describes sets, withheld ones too", () => {
    assert.deepEqual(setLines({ withheld: false, total: 12, themes: [{ name: "Money", count: 6 }, { name: "Other (small groups)", count: 6 }] }),
      ["Money: 6 of 12", "Other (small groups): 6 of 12"]);
    assert.deepEqual(setLines({ withheld: true, total: 3, themes: [] }), ["3 texts: too few to group into themes safely"]);
    assert.deepEqual(setLines({ withheld: true, total: 0, themes: [] }), ["No approved texts yet"]);
    assert.equal(codeFromPath("/host/K7QX2M/themes"), "K7QX2M");
    assert.equal(codeFromPath("/host/K7QX2M"), "");
  });
});

describe("the themes page", () => {
  let browser, ev;
  before(async () => {
    ev = await createEvent();
    browser = await launch();
  });
  after(async () => { await browser?.close(); });

  for (const [name, viewport] of [
    ["phone", { width: 390, height: 844 }],
    ["laptop", { width: 1440, height: 900 }],
    ["projector", { width: 1920, height: 1080 }],
    ["projector-small", { width: 1280, height: 720 }],
  ]) {
    it(`lists the themes and is axe-clean (${name})`, async () => {
      const ctx = await browser.newContext({ viewport });
      const page = await ctx.newPage();
      const w = watch(page);
      await page.goto(`${BASE}/host/${ev.code}/themes#${ev.host_token}`);
      await page.waitForSelector("#name-funding");
      assert.equal(await page.inputValue("#name-funding"), "Funding and commissioning");
      await axe(page, `themes page (${name})`);
      await shot(page, `themes-${name}`);
      w.assertClean(`themes page (${name})`);
      await ctx.close();
    });
  }

  it("saves a rename and a merge that the report uses", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/host/${ev.code}/themes#${ev.host_token}`);
    await page.waitForSelector("#name-funding");
    await page.fill("#name-funding", "Money");
    await page.fill("#name-housing", "Money");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.getElementById("themes-status").textContent.startsWith("Saved"));
    const r = await fetch(`${BASE}/api/events/${ev.code}/themes`, { headers: { Authorization: `Bearer ${ev.host_token}` } });
    const got = await r.json();
    const named = Object.fromEntries(got.themes.map((t) => [t.id, t.name]));
    assert.equal(named.funding, "Money");
    assert.equal(named.housing, "Money");
    assert.equal(named.access, "Access, thresholds and waiting");
    // Reloaded, the page shows the saved names.
    await page.reload();
    await page.waitForSelector("#name-funding");
    assert.equal(await page.inputValue("#name-housing"), "Money");
    await ctx.close();
  });

  it("says what to do without a host token, and refuses a wrong one", async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${BASE}/host/${ev.code}/themes`);
    await page.waitForSelector("#themes-error:not([hidden])");
    assert.match(await page.textContent("#themes-error"), /host dashboard/);
    await page.goto(`${BASE}/host/${ev.code}/themes#${"x".repeat(32)}`);
    await page.waitForSelector("#themes-error:not([hidden])");
    assert.match(await page.textContent("#themes-error"), /host token/);
    await ctx.close();
  });

  // The report of the server's event, or (JOINUP_REPORT_HTML) a full one, such as the 2026
  // demo's from `cargo run -p joinup-reports --example render -- DIR`.
  it("the report itself has no axe violation", async () => {
    let html;
    if (process.env.JOINUP_REPORT_HTML) {
      html = readFileSync(process.env.JOINUP_REPORT_HTML, "utf8");
    } else {
      const r = await fetch(`${BASE}/api/events/${ev.code}/report.html`, { headers: { Authorization: `Bearer ${ev.host_token}` } });
      assert.equal(r.status, 200);
      html = await r.text();
    }
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await ctx.newPage();
    await page.setContent(html);
    await axe(page, "report.html");
    await ctx.close();
  });
});
