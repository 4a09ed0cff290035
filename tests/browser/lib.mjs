// Shared helpers for the browser tests: the server under test, Chromium, axe, screenshots.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import AxeBuilderModule from "@axe-core/playwright";

const AxeBuilder = AxeBuilderModule.default || AxeBuilderModule;
const here = dirname(fileURLToPath(import.meta.url));

export const BASE = process.env.JOINUP_URL || "http://127.0.0.1:8089";
export const ORGANISER_KEY = process.env.JOINUP_ORGANISER_KEY || "browser-tests-organiser-key";
export const FIXTURE = process.env.JOINUP_FIXTURE || join(here, "../../server/fixtures/dual-diagnosis-2026.json");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const SHOTS = join(here, "screenshots");
mkdirSync(SHOTS, { recursive: true });

// Playwright's launch() always starts from a fresh, temporary --user-data-dir.
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60000 });
}

export const PHONE = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const DESKTOP = { viewport: { width: 1366, height: 900 } };
export const PROJECTOR = { viewport: { width: 1600, height: 900 } };

/** A fresh copy of the demo event, so tests never share state. */
export async function createEvent(base = BASE, patch = (spec) => spec) {
  const spec = patch(JSON.parse(readFileSync(FIXTURE, "utf8")));
  const r = await fetch(`${base}/api/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${ORGANISER_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(spec),
  });
  const text = await r.text();
  assert.equal(r.status, 201, `creating an event: ${r.status} ${text}`);
  return JSON.parse(text);
}

/** Collects script errors and CSP reports a page logs; assertClean() fails on any. */
export function watch(page, { allow = [] } = {}) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const text = `${m.text()} ${m.location().url || ""}`;
    if (allow.some((re) => re.test(text))) return;
    errors.push(`console: ${text}`);
  });
  return {
    errors,
    assertClean(label) {
      assert.deepEqual(errors, [], `${label}: the page logged errors`);
    },
  };
}

/** axe-core on the page as it is now, every rule including WCAG 2.2's target size (off by
 * default in axe): zero violations, whatever their impact. */
export async function axe(page, label) {
  const result = await new AxeBuilder({ page })
    .options({ rules: { "target-size": { enabled: true } } })
    .analyze();
  const lines = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " :: " + n.failureSummary.replace(/\n/g, " ")).join("\n    ")}`);
  assert.equal(result.violations.length, 0, `axe found violations on ${label}:\n  ${lines.join("\n  ")}`);
  return result;
}

export async function shot(page, name, fullPage = true) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** Resolves with how long it took `check` to pass (polling every 25 ms). */
export async function within(ms, check, what) {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The attendee joins from the join page: code, organisation search, room. */
export async function joinAsAttendee(page, code, { search = "york mind", org = "York Mind", room = "Room A", viaForm = true, base = BASE } = {}) {
  if (viaForm) {
    await page.goto(`${base}/`);
    await page.getByLabel("Event code").fill(code.toLowerCase());
    await page.getByRole("button", { name: "Join" }).click();
    await page.waitForURL(`**/e/${code}`);
  } else {
    await page.goto(`${base}/e/${code}`);
  }
  await page.getByRole("searchbox", { name: "Search organisations" }).fill(search);
  await page.getByRole("radio", { name: new RegExp(`^${org}`) }).check();
  if (room) await page.getByRole("radio", { name: room }).check();
  await page.getByRole("button", { name: "Join" }).click();
  await page.locator("#view-app").waitFor({ state: "visible" });
}

export const PHONE_390 = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

const BIN = process.env.JOINUP_BIN
  || join(resolve(here, "../.."), process.env.CARGO_TARGET_DIR || "target", "debug", "joinup");

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

/** A server of its own (SQLite in a fresh folder), for tests that stop it or read its
 * database. `port` and `dir` carry over a restart. */
export async function startServer({ port, dir } = {}) {
  port = port || await freePort();
  dir = dir || mkdtempSync(join(tmpdir(), "joinup-browser-"));
  const child = spawn(BIN, ["serve", "--addr", `127.0.0.1:${port}`, "--database", `sqlite://${dir}/joinup.db`,
    "--organiser-key", ORGANISER_KEY], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => { log += d; });
  child.stderr.on("data", (d) => { log += d; });
  const exited = new Promise((res) => child.once("exit", res));
  const started = Date.now();
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (child.exitCode !== null || Date.now() - started > 20000) throw new Error(`server did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port, dir, base: `http://127.0.0.1:${port}`, db: join(dir, "joinup.db"),
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
      await exited;
      clearTimeout(timer);
    },
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
}

/**
 * The network of one browser context, as a phone meets it. `offline(true)` drops HTTP and
 * every WebSocket (Playwright's setOffline alone leaves an open socket working);
 * `blockWs("refuse" | "hang" | false)` stops new WebSockets, mid-event if need be, while
 * HTTP works: "refuse" closes them at once, "hang" never answers (a frozen node).
 * `next` (a function of the attempt number) can override the mode for single attempts.
 */
export async function network(context, { next = null } = {}) {
  const n = { sockets: new Set(), ws: false, isOffline: false, attempts: 0, next };
  await context.routeWebSocket(/\/ws\/e\//, (ws) => {
    const mode = (n.next && n.next(n.attempts)) || (n.isOffline ? "refuse" : n.ws);
    n.attempts++;
    if (mode === "hang") return;
    if (mode === "refuse") { ws.close({ code: 1011, reason: "blocked" }).catch(() => {}); return; }
    const server = ws.connectToServer();
    const pair = { ws, server };
    n.sockets.add(pair);
    ws.onClose(() => { n.sockets.delete(pair); server.close().catch(() => {}); });
    server.onClose(() => { n.sockets.delete(pair); ws.close().catch(() => {}); });
  });
  n.cut = async () => {
    const all = [...n.sockets];
    n.sockets.clear();
    await Promise.all(all.map(({ ws, server }) => Promise.all([ws.close().catch(() => {}), server.close().catch(() => {})])));
  };
  n.offline = async (on) => {
    n.isOffline = on;
    await context.setOffline(on);
    if (on) await n.cut();
  };
  n.blockWs = async (mode) => {
    n.ws = mode;
    if (mode) await n.cut();
  };
  return n;
}
