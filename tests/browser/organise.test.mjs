// The organiser's page as a new organiser uses it: sign in, copy last year's edition into
// this year's, change a session, add an organisation from a CSV file, rehearse with phones,
// reset, go live, fix a typo while phones are connected, issue a moderator link and revoke
// it while its dashboard is open, end, download the report. axe on every view; screenshots
// at 1440x900 and 390x844.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { ORGANISER_KEY, PHONE_390, launch, startServer, watch, axe, shot, joinAsAttendee, within } from "./lib.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE_2025 = join(here, "../../server/fixtures/dual-diagnosis-2025.json");
const LAPTOP = { viewport: { width: 1440, height: 900 } };
const TITLE_2026 = "Dual Diagnosis Network Annual Conference 2026";

describe("the organiser's page", () => {
  let server, browser, lastYear;
  const s = {};

  before(async () => {
    server = await startServer();
    const spec = JSON.parse(readFileSync(FIXTURE_2025, "utf8"));
    const r = await fetch(`${server.base}/api/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ORGANISER_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify(spec),
    });
    assert.equal(r.status, 201);
    lastYear = await r.json();
    const end = await fetch(`${server.base}/api/events/${lastYear.code}/end`, {
      method: "POST", headers: { Authorization: `Bearer ${lastYear.host_token}` },
    });
    assert.equal(end.status, 200);
    lastYear.title = spec.title;
    browser = await launch();
    s.ctx = await browser.newContext({ ...LAPTOP, acceptDownloads: true });
    s.page = await s.ctx.newPage();
    // Expected refusals: the page asks whether it is signed in (401 before signing in), a
    // wrong key (401), and the edit refused on purpose (409).
    s.watch = watch(s.page, { allow: [/status of 401 .*\/api\/organiser\/session$/, /status of 409 .*\/spec$/] });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.remove();
  });

  it("signs in with the key once, and keeps it nowhere the page can read", async () => {
    const { page } = s;
    await page.goto(`${server.base}/organise`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await axe(page, "sign in");
    await shot(page, "organise-signin-1440");
    await page.getByLabel("Organiser key").fill("not-the-key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That is not the organiser key").waitFor();
    await axe(page, "sign in, wrong key");
    await page.getByLabel("Organiser key").fill(ORGANISER_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Events", exact: true }).waitFor();
    const kept = await page.evaluate(() => ({
      local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage),
      cookie: document.cookie, url: location.href, field: document.getElementById("key").value,
    }));
    for (const [where, value] of Object.entries(kept)) assert.ok(!value.includes(ORGANISER_KEY), `the key is in ${where}`);
    assert.equal(kept.cookie, "", "the session cookie is HttpOnly");
    await page.getByRole("heading", { name: /^Ended/ }).waitFor();
    await page.getByRole("article", { name: lastYear.title }).waitFor();
    await axe(page, "events");
    await shot(page, "organise-events-1440");
  });

  it("copies the 2025 edition into 2026, with new dates and a new code", async () => {
    const { page } = s;
    await page.getByRole("button", { name: `Copy as next edition: ${lastYear.title}` }).click();
    const dialog = page.getByRole("dialog", { name: "Copy as the next edition" });
    await dialog.waitFor();
    assert.equal(await page.getByLabel("Title of the new edition").inputValue(), TITLE_2026);
    await page.getByLabel("Starts").fill("2026-11-23T09:30");
    await axe(page, "copy dialog");
    await dialog.getByRole("button", { name: "Copy", exact: true }).click();
    const created = page.locator("#created");
    await created.getByText(/Copied into/).waitFor();
    s.code = (await created.locator("h3").innerText()).match(/code ([A-Z0-9]{6})/)[1];
    const hostUrl = await created.locator("a[data-link=host]").innerText();
    s.hostToken = hostUrl.split("#")[1];
    assert.ok(s.code !== lastYear.code && s.hostToken.length >= 32);
    await axe(page, "events with the new links");
    await shot(page, "organise-copied-1440");
  });

  it("changes a session and adds an organisation from a CSV file, errors shown as typed", async () => {
    const { page } = s;
    await page.getByRole("button", { name: `Edit: ${TITLE_2026}`, exact: true }).click();
    await page.getByRole("heading", { name: new RegExp(`Edit .*${s.code}`) }).waitFor();
    // The server's own message appears beside the field while typing.
    const title = page.getByLabel("Title", { exact: true });
    await title.fill(" ");
    await page.locator("#f-title-error").getByText("must not be empty").waitFor();
    assert.equal(await title.getAttribute("aria-invalid"), "true");
    await title.fill(TITLE_2026);
    await page.locator("#f-title-error").waitFor({ state: "hidden" });

    await page.getByLabel("Session title").first().fill("Welcome and who is here");
    await page.locator("#csv-file").setInputFiles({
      name: "register.csv", mimeType: "text/csv",
      buffer: Buffer.from("Organisation,Sector\r\nYork Carers Centre,Voluntary sector\r\nYork Mind,Mental health\r\n"),
    });
    await page.getByText(/1 organisation added; new sector: Voluntary sector; 1 already listed/).waitFor();
    const names = page.getByRole("textbox", { name: /^Name of organisation/ });
    assert.equal(await names.last().inputValue(), "York Carers Centre");
    // The phone preview follows the form.
    const prompt = page.getByLabel("Question or instruction").first();
    await prompt.fill("What is your role today?");
    await page.locator("[data-preview] .pv-prompt").first().getByText("What is your role today?").waitFor();
    await axe(page, "editor");
    await page.locator(".activity-edit").first().scrollIntoViewIfNeeded();
    await shot(page, "organise-editor-1440", false);
    await page.locator("#csv-report").scrollIntoViewIfNeeded();
    await shot(page, "organise-register-1440", false);
    await page.setViewportSize(PHONE_390.viewport);
    await shot(page, "organise-editor-390", false);
    await axe(page, "editor at 390");
    await page.setViewportSize(LAPTOP.viewport);
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator("#save-state").getByText(/^Saved/).waitFor();

    const r = await fetch(`${server.base}/api/events/${s.code}/spec`, { headers: { Authorization: `Bearer ${ORGANISER_KEY}` } });
    const spec = await r.json();
    assert.equal(spec.sessions[0].title, "Welcome and who is here");
    assert.equal(spec.sessions[0].activities[0].prompt, "What is your role today?");
    assert.ok(spec.organisations.some((o) => o.name === "York Carers Centre" && o.sector === "Voluntary sector"));
    assert.ok(spec.sectors.includes("Voluntary sector"));
    assert.equal(spec.starts_at.slice(0, 10), "2026-11-23");
  });

  it("refuses an edit that would misread answers, saying why beside the field", async () => {
    const { page } = s;
    // The host opens the first question of the live event (so it may have answers) ...
    const opened = await page.evaluate(({ code, token }) => new Promise((resolve) => {
      const ws = new WebSocket(`${location.origin.replace("http", "ws")}/ws/host/${code}`);
      ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.type === "snapshot") ws.send(JSON.stringify({ type: "open", activity: "role", id: 1 }));
        if (msg.id === 1) { ws.close(); resolve(msg.type); }
      };
      ws.onerror = () => resolve("error");
    }), { code: s.code, token: s.hostToken });
    assert.equal(opened, "ok");
    // ... then the organiser swaps two options.
    const options = page.getByLabel("Options, one a line").first();
    const lines = (await options.inputValue()).split("\n");
    [lines[0], lines[1]] = [lines[1], lines[0]];
    await options.fill(lines.join("\n"));
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator("#error-summary").getByText(/cannot move to 1/).waitFor();
    await page.locator("[id$='options-error']").first().getByText(/stored by the position/).waitFor();
    // The reason stays until the organiser changes something.
    await page.waitForTimeout(1000);
    assert.ok(await page.locator("#error-summary").isVisible(), "the refusal is still shown");
    await axe(page, "editor, refused edit");
    await shot(page, "organise-refused-1440", false);
    [lines[0], lines[1]] = [lines[1], lines[0]];
    await options.fill(lines.join("\n"));
  });

  it("rehearses with phones, then resets the rehearsal", async () => {
    const { page } = s;
    await page.getByRole("button", { name: "Back to events" }).click();
    await page.getByRole("button", { name: `Rehearse: ${TITLE_2026}` }).click();
    const created = page.locator("#created");
    await created.getByText(/Rehearsal of/).waitFor();
    const code = (await created.locator("h3").innerText()).match(/code ([A-Z0-9]{6})/)[1];
    const rehearsal = `${TITLE_2026} (rehearsal)`;
    await page.getByRole("heading", { name: /^Rehearsals/ }).waitFor();
    const phones = [];
    for (let i = 0; i < 2; i++) {
      const ctx = await browser.newContext(PHONE_390);
      const phone = await ctx.newPage();
      await joinAsAttendee(phone, code, { viaForm: false, base: server.base });
      phones.push(ctx);
    }
    await page.reload();
    const card = page.getByRole("article", { name: rehearsal });
    await card.getByText("2 people").waitFor();
    page.once("dialog", (d) => d.accept());
    await page.getByRole("button", { name: `Reset rehearsal: ${rehearsal}` }).click();
    await page.getByText(/was reset/).waitFor();
    await page.getByRole("article", { name: rehearsal }).getByText("0 people").waitFor();
    await axe(page, "events after reset");
    await page.setViewportSize(PHONE_390.viewport);
    await shot(page, "organise-events-390");
    await page.setViewportSize(LAPTOP.viewport);
    for (const ctx of phones) await ctx.close();
  });

  it("goes live and fixes a typo while phones are connected: they show it without reloading", async () => {
    const { page } = s;
    const phones = [];
    for (let i = 0; i < 3; i++) {
      const ctx = await browser.newContext(PHONE_390);
      const phone = await ctx.newPage();
      await joinAsAttendee(phone, s.code, { viaForm: false, base: server.base });
      await phone.evaluate(() => { window.notReloaded = true; });
      phones.push({ ctx, phone });
    }
    await page.reload();
    await page.getByRole("article", { name: TITLE_2026 }).getByText("3 people").waitFor();
    await page.getByRole("button", { name: `Edit: ${TITLE_2026}`, exact: true }).click();
    await page.getByLabel("Title", { exact: true }).fill(`${TITLE_2026}, York`);
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator("#save-state").getByText(/^Saved/).waitFor();
    for (const { phone } of phones) {
      await within(15000, async () => (await phone.locator("#event-title").innerText()) === `${TITLE_2026}, York`,
        "a phone shows the new title");
      assert.equal(await phone.evaluate(() => window.notReloaded), true, "the phone did not reload");
    }
    for (const { ctx } of phones) await ctx.close();
  });

  it("issues a moderator link, and revoking it disconnects the open moderator dashboard", async () => {
    const { page } = s;
    const title = `${TITLE_2026}, York`;
    await page.getByRole("button", { name: "Back to events" }).click();
    await page.getByRole("button", { name: `People and links: ${title}` }).click();
    await page.getByRole("heading", { name: "People and links" }).waitFor();
    await page.getByText("No links issued yet.").waitFor();
    await axe(page, "people and links");
    // A label is needed; the server's message appears beside the field.
    await page.getByRole("button", { name: "Issue link" }).click();
    await page.locator("#link-label-error").getByText(/whose link/).waitFor();
    assert.equal(await page.getByLabel("Whose link (a label)").getAttribute("aria-invalid"), "true");
    await axe(page, "people and links, no label");
    await page.getByLabel("Role").selectOption("moderator");
    await page.getByLabel("Whose link (a label)").fill("Room B moderator");
    await page.getByRole("button", { name: "Issue link" }).click();
    const issued = page.locator("#issued");
    await issued.getByText(/Moderator link for "Room B moderator"/).waitFor();
    const url = await page.getByLabel("The link").inputValue();
    assert.match(url, new RegExp(`/host/${s.code}#[0-9a-f]{48}$`));
    const item = page.locator(".link-item", { hasText: "Room B moderator" });
    await item.getByText("Active").waitFor();
    await axe(page, "people and links, link issued");
    await shot(page, "organise-people-1440");
    await page.setViewportSize(PHONE_390.viewport);
    await shot(page, "organise-people-390");
    await axe(page, "people and links at 390");
    await page.setViewportSize(LAPTOP.viewport);
    // A presenter link for Room B's screen.
    await page.getByLabel("Role").selectOption("presenter");
    await page.getByLabel("Screen").selectOption("Room B");
    await page.getByLabel("Whose link (a label)").fill("Room B projector");
    await page.getByRole("button", { name: "Issue link" }).click();
    await issued.getByText(/Presenter link for "Room B projector"/).waitFor();
    const projector = await page.getByLabel("The link").inputValue();
    assert.match(projector, new RegExp(`/present/${s.code}\\?room=Room%20B#`));
    await page.locator(".link-item", { hasText: "Room B projector" }).getByText(/Room B screen/).waitFor();
    // Opened at Room A's address, it is still Room B's screen: the server bound it.
    const pctx = await browser.newContext(LAPTOP);
    const screen = await pctx.newPage();
    await screen.goto(projector.replace("room=Room%20B", "room=Room%20A"));
    await screen.locator("#conn[data-state=live]").waitFor();
    await screen.locator("#event-title").getByText(/ · Room B$/).waitFor();
    await pctx.close();

    // The moderator's dashboard: told its role, without the controls it cannot use.
    const mctx = await browser.newContext(LAPTOP);
    const mod = await mctx.newPage();
    const modWatch = watch(mod, { allow: [/status of 403 /] });
    await mod.goto(url);
    await mod.locator("#conn[data-state=live]").waitFor();
    await mod.locator("#role-chip").getByText("Moderator: Room B moderator").waitFor();
    assert.equal(await mod.locator("#end-card").isVisible(), false, "no End button for a moderator");
    assert.equal(await mod.locator('[data-report="answers.csv"]').isVisible(), false, "no raw answers for a moderator");
    assert.equal(await mod.locator('[data-report="report.html"]').isVisible(), true);
    await axe(mod, "moderator dashboard");
    await shot(mod, "host-moderator-1440", false);
    await mod.setViewportSize(PHONE_390.viewport);
    await shot(mod, "host-moderator-390", false);
    await axe(mod, "moderator dashboard at 390");

    // Revoked, after a confirmation: the open dashboard is disconnected at once.
    await item.getByRole("button", { name: "Revoke: Room B moderator" }).click();
    const confirm = page.getByRole("dialog", { name: "Revoke this link?" });
    await confirm.waitFor();
    await axe(page, "revoke dialog");
    await confirm.getByRole("button", { name: "Revoke link" }).click();
    await page.locator("#status").getByText(/Revoked "Room B moderator"/).waitFor();
    await item.getByText("Revoked", { exact: true }).waitFor();
    await mod.locator("#conn").getByText("Access key refused").waitFor();
    await mod.locator("#host-error").getByText(/revoked/).waitFor();
    await axe(mod, "moderator dashboard, revoked");
    await shot(mod, "host-moderator-revoked-1440", false);
    await axe(page, "people and links, link revoked");
    modWatch.assertClean("moderator dashboard");
    await mctx.close();
    await page.getByRole("button", { name: "Back to events" }).click();
  });

  it("links the privacy notice from the attendee page", async () => {
    const ctx = await browser.newContext(PHONE_390);
    const phone = await ctx.newPage();
    await phone.goto(`${server.base}/e/${s.code}`);
    const [notice] = await Promise.all([
      ctx.waitForEvent("page"),
      phone.getByRole("link", { name: /Privacy notice/ }).click(),
    ]);
    await notice.waitForLoadState();
    assert.equal(new URL(notice.url()).pathname, `/e/${s.code}/privacy`);
    await notice.getByRole("heading", { name: "Privacy notice" }).waitFor();
    await notice.getByText(/fewer than 5 people/).waitFor();
    await axe(notice, "privacy notice");
    await shot(notice, "privacy-notice-390");
    await ctx.close();
  });

  it("ends the event from the host's dashboard and downloads its report", async () => {
    const { page } = s;
    const hctx = await browser.newContext(LAPTOP);
    const host = await hctx.newPage();
    await host.goto(`${server.base}/host/${s.code}#${s.hostToken}`);
    await host.locator("#conn[data-state=live]").waitFor();
    assert.equal(await host.locator("#end-card").isVisible(), true, "the host can end the event");
    await host.getByRole("button", { name: "End the event…" }).click();
    await host.getByRole("dialog", { name: "End the event now?" }).getByRole("button", { name: "End the event", exact: true }).click();
    await host.locator("#conn").getByText("Event ended").waitFor();
    await hctx.close();
    await page.reload();
    const card = page.getByRole("article", { name: `${TITLE_2026}, York` });
    await card.getByText("Ended").waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      card.getByRole("link", { name: /Report as a web page/ }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `joinup-${s.code}-report.html`);
    const path = await download.path();
    const html = readFileSync(path, "utf8");
    assert.match(html, /Dual Diagnosis Network Annual Conference 2026, York/);
    await axe(page, "events at the end");
    s.watch.assertClean("organise");
  });
});
