// The attendee page in a frame beside the conference's video stream (issue 22, point 5): a
// page on another site the organiser allows (embed.allowed_origins) frames it, and the person
// joins and answers there, also with WebSocket blocked (POST + event stream, with a
// partitioned cookie); a frame refused its storage keeps the token in memory and says so; a
// site not on the list is refused; the host page is never framed.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { BASE, DESKTOP, PHONE_390, launch, createEvent, watch, axe, shot, within, network, freePort } from "./lib.mjs";

const EXPECTED = /WebSocket connection to .* failed|Failed to load resource|frame-ancestors|Refused to frame/;
// The Joinup server by another name: framed from 127.0.0.1, it is another site.
const JOINUP = BASE.replace("127.0.0.1", "localhost");

/** A page on its own origin (`port`, or a free one) that frames `src` beside a stand-in for
 * the video stream. */
async function parentSite(src, port = null) {
  port = port || await freePort();
  const server = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><title>Conference stream</title></head><body>
<main aria-label="Conference stream" style="display:flex;gap:8px"><div role="img" aria-label="Video stream" style="flex:1;background:#111;min-height:400px"></div>
<iframe id="joinup" title="Joinup" src="${src}" style="width:390px;height:780px;border:0"></iframe></main></body></html>`);
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

async function openActivity(host, key) {
  await host.locator(`#h-${key}`).getByRole("button", { name: "Open", exact: true }).click();
  await within(5000, async () => !(await host.locator(`#h-${key} button[aria-busy]`).count()), `open ${key}`);
}

describe("the attendee page framed by an allowed site", () => {
  let browser, ev, host, allowed, refused, allowedPort;

  before(async () => {
    allowedPort = await freePort();
    const origin = `http://127.0.0.1:${allowedPort}`;
    ev = await createEvent(BASE, (spec) => ({ ...spec, embed: { allowed_origins: [origin] } }));
    browser = await launch();
    host = await (await browser.newContext(DESKTOP)).newPage();
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
    await openActivity(host, "role");
    await openActivity(host, "pre-prescribing");
  });

  after(async () => {
    await browser?.close();
    await allowed?.close();
    await refused?.close();
  });

  it("the attendee page of an event allows exactly its origins; other pages allow none", async () => {
    const page = await fetch(`${BASE}/e/${ev.code}`);
    assert.match(page.headers.get("content-security-policy"), new RegExp(`frame-ancestors 'self' http://127\\.0\\.0\\.1:${allowedPort}$`));
    const plain = await createEvent();
    assert.match((await fetch(`${BASE}/e/${plain.code}`)).headers.get("content-security-policy"), /frame-ancestors 'none'$/);
    for (const path of [`/host/${ev.code}`, `/present/${ev.code}`, "/"]) {
      assert.match((await fetch(`${BASE}${path}`)).headers.get("content-security-policy"), /frame-ancestors 'none'$/, path);
    }
    assert.match((await fetch(`${BASE}/e/NOPE99`)).headers.get("content-security-policy"), /frame-ancestors 'none'$/);
  });

  it("joins and answers in the frame, over WebSocket and then over the fallback", async () => {
    allowed = await parentSite(`${JOINUP}/e/${ev.code}`, allowedPort);
    const ctx = await browser.newContext({ ...DESKTOP });
    const net = await network(ctx);
    const page = await ctx.newPage();
    const w = watch(page, { allow: [EXPECTED] });
    await page.goto(allowed.origin);
    const frame = page.frameLocator("#joinup");
    await frame.getByRole("searchbox", { name: "Search organisations" }).fill("police");
    await frame.getByRole("radio", { name: /^North Yorkshire Police/ }).check();
    await frame.getByRole("button", { name: "Join", exact: true }).click();
    await frame.locator("#view-app").waitFor({ state: "visible" });
    const card = frame.locator("#act-role");
    await card.getByRole("radio", { name: "Student" }).check();
    await card.getByRole("button", { name: "Send answer" }).click();
    await within(8000, async () => /Saved/.test(await card.locator(".save-state").textContent()), "saved over WebSocket in the frame");
    assert.equal(await frame.locator("#memory-only").isHidden(), true, "storage works (partitioned) in this frame");
    await shot(page, "embed-framed-1440", false);

    // WebSocket blocked: the fallback (POST + event stream) works from the frame too.
    const posts = [];
    page.on("request", (r) => { if (r.url().endsWith("/messages") && r.method() === "POST") posts.push(r.url()); });
    await net.blockWs("refuse");
    const scale = frame.locator("#act-pre-prescribing");
    await scale.getByRole("radio", { name: "4", exact: true }).click();
    await scale.getByRole("button", { name: "Send answer" }).click();
    await within(30000, async () => /Saved/.test(await scale.locator(".save-state").textContent()), "saved over the fallback in the frame");
    assert.ok(posts.some((u) => u.startsWith(JOINUP)), "sent by POST");
    await frame.locator("#tab-you").click();
    await within(5000, async () => /compatibility mode/.test(await frame.locator("#you-conn").textContent()), "on the fallback");
    w.assertClean("framed page");
    await ctx.close();
  });

  it("a frame refused storage keeps the token in memory, says so gently, and still answers", async () => {
    const ctx = await browser.newContext({ ...PHONE_390 });
    // What a browser that blocks third-party storage does: localStorage throws in the frame.
    await ctx.addInitScript(() => {
      if (window.top === window) return;
      Object.defineProperty(window, "localStorage", { get() { throw new DOMException("blocked", "SecurityError"); } });
    });
    const page = await ctx.newPage();
    const w = watch(page, { allow: [EXPECTED] });
    await page.goto(allowed.origin);
    const frame = page.frameLocator("#joinup");
    assert.equal(await frame.locator("#memory-only-join").isVisible(), true, "said on the join form");
    assert.match(await frame.locator("#memory-only-join").textContent(), /Open Joinup in its own tab/);
    await frame.getByRole("searchbox", { name: "Search organisations" }).fill("york mind");
    await frame.getByRole("radio", { name: /^York Mind/ }).check();
    await frame.getByRole("button", { name: "Join", exact: true }).click();
    await frame.locator("#view-app").waitFor({ state: "visible" });
    const card = frame.locator("#act-role");
    await card.getByRole("radio", { name: "Other" }).check();
    await card.getByRole("button", { name: "Send answer" }).click();
    await within(8000, async () => /Saved/.test(await card.locator(".save-state").textContent()), "saved with the token in memory");
    await frame.locator("#tab-you").click();
    assert.equal(await frame.locator("#memory-only").isVisible(), true, "said under You");
    await axe(page, "framed page refused storage");
    await shot(page, "embed-memory-only-390", false);
    w.assertClean("memory only");
    await ctx.close();
  });

  it("a site not on the list is refused the frame", async () => {
    refused = await parentSite(`${JOINUP}/e/${ev.code}`);
    const ctx = await browser.newContext({ ...DESKTOP });
    const page = await ctx.newPage();
    const blocked = [];
    page.on("console", (m) => { if (/frame-ancestors|Refused to frame/.test(m.text())) blocked.push(m.text()); });
    await page.goto(refused.origin);
    await within(5000, async () => blocked.length > 0, "the browser refuses the frame");
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const loaded = frame ? await frame.evaluate(() => !!document.getElementById("view-app")).catch(() => false) : false;
    assert.equal(loaded, false, "the attendee page is not shown");
    await ctx.close();
  });
});
