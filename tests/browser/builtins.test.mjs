// Names that are JavaScript built-ins (`constructor`, `__proto__`, `toString`,
// `hasOwnProperty`, `valueOf`), typed as words, texts, organisations, rooms, sectors, card
// fields and questions, never break a page: the host dashboard, the presenter and the
// attendee page all render them as plain text, open, closed and revealed, with no page error.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { PHONE, DESKTOP, PROJECTOR, BASE, launch, createEvent, watch, within, shot } from "./lib.mjs";

const NAMES = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

/** The demo event, with built-in names as sectors, organisations, rooms and activity keys. */
function hostile(spec) {
  spec.sectors = [...spec.sectors, ...NAMES];
  spec.organisations = [...spec.organisations, ...NAMES.map((n, i) => ({ name: n, sector: NAMES[(i + 1) % NAMES.length] }))];
  spec.min_group_size = 3;
  spec.qa = { enabled: true, moderation: "none" };
  spec.sessions.push(
    { key: "builtins-a", title: "Built-ins in a room", room: "__proto__", activities: [
      { key: "constructor", kind: "words", prompt: "constructor: a word", max_words: 3 },
      { key: "valueof", kind: "choice", prompt: "valueOf: choose", options: ["toString", "__proto__", "constructor"] },
    ] },
    { key: "builtins-b", title: "Built-ins everywhere", room: "constructor", activities: [
      { key: "tostring", kind: "text", prompt: "toString: a text", max_len: 200 },
    ] },
  );
  return spec;
}

/** An attendee over the HTTP fallback: a POSTed hello, then messages with its cookie. */
async function bot(code, hello) {
  let cookie = "";
  async function post(msg) {
    const r = await fetch(`${BASE}/api/events/${code}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) },
      body: JSON.stringify(msg),
    });
    const set = r.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0];
    assert.equal(r.status, 200, `POST ${msg.type}: ${r.status}`);
    return r.json();
  }
  const welcome = await post({ type: "hello", attendee: null, ...hello });
  assert.equal(welcome.type, "welcome", JSON.stringify(welcome));
  let n = 0;
  return {
    welcome,
    async send(msg) {
      const reply = await post({ id: `${welcome.attendee.slice(0, 8)}-${n++}`, ...msg });
      assert.equal(reply.type, "ack", `${msg.type}: ${JSON.stringify(reply)}`);
    },
  };
}

describe("built-in names as user input", () => {
  let browser, ev, host, presenter, phone, watches;

  before(async () => {
    ev = await createEvent(BASE, hostile);
    browser = await launch();
    host = await (await browser.newContext(DESKTOP)).newPage();
    presenter = await (await browser.newContext(PROJECTOR)).newPage();
    phone = await (await browser.newContext(PHONE)).newPage();
    watches = [watch(host), watch(presenter), watch(phone)];
    await host.goto(ev.host_url);
    await host.locator("#h-constructor").waitFor();
    await presenter.goto(ev.present_url);
    await presenter.locator("#conn[data-state=live]").waitFor();
  });

  after(async () => { await browser?.close(); });

  const clickIn = async (key, name) => {
    await host.locator(`#h-${key}`).getByRole("button", { name, exact: true }).click();
    await within(5000, async () => !(await host.locator(`#h-${key} button[aria-busy]`).count()), `${name} ${key}`);
  };

  it("every page renders them, open, revealed and closed, with no page error", async () => {
    // In programme order: the run of show folds a session once a later one has begun.
    for (const key of ["role", "barrier-word", "pledge", "constructor", "valueof", "tostring"]) await clickIn(key, "Open");
    await clickIn("constructor", "Show on screen");

    // The phone joins with a typed organisation that is a built-in, in the "__proto__" room.
    await phone.goto(`${ev.attend_url.replace(/^https?:\/\/[^/]+/, BASE)}`);
    await phone.getByRole("searchbox", { name: "Search organisations" }).fill("nothing like it");
    await phone.getByRole("radio", { name: "My organisation isn't listed" }).check();
    await phone.getByLabel("Name of your organisation").fill("hasOwnProperty");
    await phone.getByLabel("Your sector").selectOption("valueOf");
    await phone.getByRole("radio", { name: "__proto__", exact: true }).check();
    await phone.getByRole("button", { name: "Join" }).click();
    await phone.locator("#view-app").waitFor({ state: "visible" });
    await phone.locator("#act-constructor").getByLabel("Word or phrase 1").fill("constructor");
    await phone.locator("#act-constructor").getByLabel("Word or phrase 2 (optional)").fill("__proto__");
    await phone.locator("#act-constructor").getByLabel("Word or phrase 3 (optional)").fill("valueOf");
    await phone.locator("#act-constructor").getByRole("button", { name: "Send answer" }).click();
    await within(5000, async () => /Saved/.test(await phone.locator("#act-constructor-state").textContent()), "the phone's words are saved");

    // Attendees over the fallback, each with a built-in as organisation, sector and room:
    // three of each, so the small-group rule lets the host see every name.
    const bots = [];
    for (const [i, name] of NAMES.entries()) {
      for (let r = 0; r < 3; r++) {
        const b = await bot(ev.code, { organisation: name, sector: NAMES[(i + 2) % NAMES.length], room: i % 2 ? "constructor" : "__proto__" });
        bots.push(b);
        await b.send({ type: "answer", activity: "barrier-word", value: [name.toLowerCase(), "constructor"] });
        await b.send({ type: "answer", activity: "role", value: [(i + r) % 3] });
        await b.send({ type: "answer", activity: "pledge", value: true });
        if (i % 2) await b.send({ type: "answer", activity: "tostring", value: name });
        else {
          await b.send({ type: "answer", activity: "constructor", value: ["__proto__", name.toLowerCase()] });
          await b.send({ type: "answer", activity: "valueof", value: [r] });
        }
        if (r) continue;
        await b.send({ type: "ask", text: name });
        await b.send({ type: "card", card: { organisation: name, service: "__proto__", offer: "constructor", referral: "toString", contact: "valueOf", name: "hasOwnProperty", role: name } });
      }
    }
    await bots[0].send({ type: "profile", organisation: "toString", sector: "__proto__" });

    await within(5000, async () => /__proto__/.test(await presenter.locator("#stage").textContent()), "the presenter shows the focused words");
    for (const key of ["constructor", "valueof", "barrier-word", "role", "pledge"]) await clickIn(key, "Show results");
    await within(5000, async () => (await phone.locator("#res-constructor .cloud li").count()) >= 3, "the phone's cloud");
    await phone.getByRole("button", { name: "Q&A" }).click();
    // A question goes to its asker's room's current session (docs/protocol.md "A Q&A per
    // session"): the phone, in "__proto__", lists the questions asked there, each once.
    const inPhonesRoom = NAMES.filter((_, i) => i % 2 === 0);
    await within(5000, async () => (await phone.locator("#qlist li").count()) === inPhonesRoom.length, "the phone lists every question of its room");
    for (const name of inPhonesRoom) assert.equal(await phone.locator("#qlist li .qtext").getByText(name, { exact: true }).count(), 1, `${name} is listed`);
    await phone.getByRole("button", { name: "Directory" }).click();
    await within(5000, async () => (await phone.locator("#cards li").count()) >= NAMES.length, "the phone lists every card");
    await phone.getByRole("button", { name: "You" }).click();
    assert.match(await phone.locator("#you-summary").textContent(), /hasOwnProperty.*valueOf.*__proto__/);

    for (const key of ["constructor", "valueof", "tostring", "role", "pledge"]) await clickIn(key, "Close");
    await clickIn("barrier-word", "Show on screen");
    await within(5000, async () => /constructor/.test(await presenter.locator("#stage").textContent()), "the presenter shows the other cloud");
    await clickIn("pledge", "Show on screen");
    await within(5000, async () => /hasOwnProperty/.test(await presenter.locator("#stage").textContent()), "the presenter shows the pledge by organisation");

    // What each page shows: the names as text, never a built-in's source or "No words yet".
    const cloud = await host.locator("#h-constructor .cloud").textContent();
    for (const w of ["constructor", "__proto__", "valueof"]) assert.match(cloud, new RegExp(w), `the host's cloud has ${w}`);
    const orgs = await host.locator("#att-org").textContent();
    for (const n of NAMES) assert.match(orgs, new RegExp(n.replace(/_/g, "_")), `the host's attendance lists ${n}`);
    for (const page of [host, presenter, phone]) {
      assert.doesNotMatch(await page.locator("body").textContent(), /\[native code\]|function \w*\(/, "no built-in's source on a page");
    }
    assert.doesNotMatch(await host.locator("#h-pledge").textContent(), /No words yet/);
    await phone.reload();
    await phone.locator("#view-app").waitFor({ state: "visible" });
    await host.reload();
    await host.locator("#h-constructor .cloud li").first().waitFor();
    await presenter.reload();
    await within(5000, async () => /hasOwnProperty/.test(await presenter.locator("#stage").textContent()), "the presenter after a reload");
    await shot(host, "builtins-host");
    for (const [i, w] of watches.entries()) w.assertClean(["host", "presenter", "attendee"][i]);
  });
});
