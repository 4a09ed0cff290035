// An organiser's edit while the event runs, as people see it: a phone with an open card and
// half-typed text gets the typo fix in the prompt and a reworded option without reloading,
// keeping its text, its cursor and its focus; the host's dashboard shows the new wording;
// the organise page shows several errors at once, each beside its field. axe on each
// view; screenshots at 390x844 (phone), 1440x900 (laptop) and 1920x1080 (projector).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ORGANISER_KEY, FIXTURE, PHONE_390, launch, startServer, watch, axe, shot, joinAsAttendee, within } from "./lib.mjs";

const LAPTOP = { viewport: { width: 1440, height: 900 } };
const PROJECTOR = { viewport: { width: 1920, height: 1080 } };
const HALF_TYPED = "Waiting lists for people who use alcohol and ";

async function api(base, method, path, body, headers = {}) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ORGANISER_KEY}`, "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, etag: r.headers.get("etag"), body: await r.json().catch(() => null) };
}

describe("an edit while the event runs", () => {
  let server, browser, created;
  const s = {};

  before(async () => {
    server = await startServer();
    const r = await api(server.base, "POST", "/api/events", JSON.parse(readFileSync(FIXTURE, "utf8")));
    assert.equal(r.status, 201);
    created = r.body;
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.remove();
  });

  it("reaches a phone typing an answer: new prompt and option, the text kept", async () => {
    // The host's dashboard, on a laptop, opens two questions.
    s.hostCtx = await browser.newContext(LAPTOP);
    s.host = await s.hostCtx.newPage();
    s.hostWatch = watch(s.host);
    await s.host.goto(created.host_url.replace(/^https?:\/\/[^/]+/, server.base));
    await s.host.locator("#conn[data-state=live]").waitFor();
    const phoneCtx = await browser.newContext(PHONE_390);
    const phone = await phoneCtx.newPage();
    const phoneWatch = watch(phone);
    await joinAsAttendee(phone, created.code, { viaForm: false, base: server.base });
    await phone.evaluate(() => { window.notReloaded = true; });
    const opened = await s.host.evaluate(({ code, token }) => new Promise((resolve) => {
      const ws = new WebSocket(`${location.origin.replace("http", "ws")}/ws/host/${code}`);
      let id = 0;
      ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
      ws.onmessage = (m) => {
        const msg = JSON.parse(m.data);
        if (msg.type === "snapshot") {
          ws.send(JSON.stringify({ type: "open", activity: "role", id: 1 }));
          ws.send(JSON.stringify({ type: "open", activity: "concern", id: 2 }));
        }
        if (msg.type === "ok" && ++id === 2) { ws.close(); resolve("ok"); }
        if (msg.type === "error") { ws.close(); resolve(JSON.stringify(msg)); }
      };
    }), { code: created.code, token: created.host_token });
    assert.equal(opened, "ok");

    // The phone answers the choice, and half-types its concern (cursor in the middle).
    const role = phone.locator("#act-role");
    await role.getByRole("radio", { name: "Team leader or manager" }).check();
    await role.getByRole("button", { name: "Send" }).click();
    await role.locator("[data-state=saved], .save-state").getByText(/Saved/).waitFor();
    const text = phone.locator("#act-concern textarea");
    await text.click();
    await text.fill(HALF_TYPED);
    await text.evaluate((ta) => ta.setSelectionRange(8, 8));

    // The organiser fixes a typo in the prompt and rewords the option the phone chose.
    const got = await api(server.base, "GET", `/api/events/${created.code}/spec`);
    const spec = got.body;
    spec.sessions[2].activities[0].prompt = "Which concern would you like commissioners and senior leaders to hear?";
    spec.sessions[0].activities[0].options[1] = "Team lead or manager";
    spec.sessions[0].activities[0].options.push("Volunteer");
    const put = await api(server.base, "PUT", `/api/events/${created.code}/spec`, spec, { "If-Match": got.etag });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    await phone.locator("#act-concern .prompt").getByText("Which concern would you like").waitFor();
    assert.equal(await text.inputValue(), HALF_TYPED, "the half-typed text is kept, spaces and all");
    const where = await phone.evaluate(() => {
      const ta = document.querySelector("#act-concern textarea");
      return { focused: document.activeElement === ta, at: ta.selectionStart };
    });
    assert.deepEqual(where, { focused: true, at: 8 }, "focus and cursor are kept");
    assert.equal(await phone.evaluate(() => window.notReloaded), true, "the phone did not reload");
    await phone.locator("#act-concern").scrollIntoViewIfNeeded();
    await shot(phone, "liveedit-phone-typing-390", false);
    // Typing carries on where it was, and the answer is sent and saved.
    await phone.keyboard.type("drugs ");
    await within(5000, async () => (await text.inputValue()).startsWith("Waiting drugs "), "typing carries on at the cursor");
    await phone.locator("#act-concern").getByRole("button", { name: "Send" }).click();
    await phone.locator("#act-concern .save-state").getByText(/Saved/).waitFor();
    // The answered card, unfolded, shows the reworded option chosen and the added one.
    await role.getByRole("button", { name: "Change" }).click();
    assert.equal(await role.getByRole("radio", { name: "Team lead or manager" }).isChecked(), true);
    await role.getByRole("radio", { name: "Volunteer" }).waitFor();
    await axe(phone, "phone after a live edit");
    await shot(phone, "liveedit-phone-390");

    // The host's dashboard shows the new wording, its socket never closed.
    await s.host.locator("#programme h4").getByText("Which concern would you like commissioners").waitFor();
    await axe(s.host, "host after a live edit");
    await shot(s.host, "liveedit-host-1440", false);
    await s.host.setViewportSize(PROJECTOR.viewport);
    await shot(s.host, "liveedit-host-1920", false);
    phoneWatch.assertClean("phone");
    s.hostWatch.assertClean("host");
    await phoneCtx.close();
  });

  it("shows every error of the spec at once, each beside its field", async () => {
    const ctx = await browser.newContext(LAPTOP);
    const page = await ctx.newPage();
    await page.goto(`${server.base}/organise`);
    await page.getByLabel("Organiser key").fill(ORGANISER_KEY);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: /^Edit: /, exact: false }).first().click();
    await page.getByRole("heading", { name: new RegExp(`Edit .*${created.code}`) }).waitFor();
    await page.getByLabel("Title", { exact: true }).fill(" ");
    await page.getByLabel("Question or instruction").first().fill("");
    await page.getByLabel("Session title").nth(1).fill("");
    await page.locator("#f-title-error").getByText("must not be empty").waitFor();
    await page.locator("[data-error-for='sessions[0].activities[0].prompt']").getByText(/must not be empty/).waitFor();
    await page.locator("[data-error-for='sessions[1].title']").getByText(/must not be empty/).waitFor();
    const invalid = await page.locator("[aria-invalid=true]").count();
    assert.ok(invalid >= 3, `three fields marked invalid, not ${invalid}`);
    await axe(page, "editor with several errors");
    await page.getByLabel("Title", { exact: true }).scrollIntoViewIfNeeded();
    await shot(page, "liveedit-organise-errors-1440", false);
    await page.setViewportSize(PHONE_390.viewport);
    await page.locator("[data-error-for='sessions[0].activities[0].prompt']").scrollIntoViewIfNeeded();
    await shot(page, "liveedit-organise-errors-390", false);
    await ctx.close();
  });
});
