// The main journey: a phone joins and answers every kind, the host sees it live, reveals,
// moderates and ends; the presenter follows. axe runs on every page in every state.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  BASE, PHONE, DESKTOP, PROJECTOR, launch, createEvent, watch, axe, shot, within, joinAsAttendee,
} from "./lib.mjs";

describe("attendee, host and presenter together", () => {
  let browser, ev, phone, host, presenter, watches = [], phoneSockets = 0, phoneStreams = 0;

  before(async () => {
    ev = await createEvent();
    browser = await launch();
    phone = await (await browser.newContext(PHONE)).newPage();
    host = await (await browser.newContext({ ...DESKTOP, acceptDownloads: true })).newPage();
    presenter = await (await browser.newContext(PROJECTOR)).newPage();
    // The report routes may not exist on this server yet: their 404 is reported to the host.
    const reports = /\/api\/events\/\w+\/(report\.html|report\.pdf|answers\.csv|summary\.json)/;
    watches = [watch(phone), watch(host, { allow: [reports] }), watch(presenter)];
    phone.on("websocket", (ws) => { if (ws.url().includes("/ws/e/")) phoneSockets++; });
    phone.on("request", (r) => { if (r.url().endsWith("/stream")) phoneStreams++; });
  });

  after(async () => {
    await browser?.close();
  });

  const hostBar = (key, i) => host.locator(`#h-${key} .bar-value`).nth(i);
  const hostTotal = (key) => host.locator(`#h-${key} .chart .total`);
  const saved = (key) => phone.locator(`#act-${key}-state`);

  it("the host dashboard and presenter screen load from their fragment tokens", async () => {
    assert.ok(!ev.host_url.includes("?"), "host token is never in the query string");
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
    await within(5000, async () => (await host.locator("#conn").textContent()) === "Live", "host live");
    await axe(host, "host dashboard (start)");

    await presenter.goto(ev.present_url);
    await within(5000, async () => (await presenter.locator("#conn").textContent()) === "Live", "presenter live");
    await presenter.locator("#join-code").filter({ hasText: ev.code }).waitFor();
    const qr = presenter.locator("#qr");
    await within(5000, () => qr.evaluate((img) => img.complete && img.naturalWidth > 0), "QR image loaded");
    const box = await qr.boundingBox();
    assert.ok(box.width >= 250 && box.height >= 250, `QR is large enough to scan from afar (${box.width}px)`);
    const fits = await presenter.evaluate(() => document.documentElement.scrollHeight <= innerHeight + 1 && document.documentElement.scrollWidth <= innerWidth);
    assert.ok(fits, "the presenter screen fits one screen without scrolling");
    await axe(presenter, "presenter (waiting)");
    await shot(presenter, "presenter-waiting", false);
  });

  it("a phone joins by typing the code, choosing an organisation and a room", async () => {
    await phone.goto(`${BASE}/`);
    await axe(phone, "join page");
    await shot(phone, "join");
    await phone.getByLabel("Event code").fill(ev.code.toLowerCase());
    await phone.getByRole("button", { name: "Join" }).click();
    await phone.waitForURL(`**/e/${ev.code}`);
    await phone.getByRole("searchbox", { name: "Search organisations" }).waitFor();
    await axe(phone, "attendee profile form");
    await phone.getByRole("searchbox", { name: "Search organisations" }).fill("york");
    assert.match(await phone.locator("#org-count").textContent(), /match/);
    assert.equal(await phone.getByRole("radio", { name: /^Humankind/ }).isVisible(), false, "the search filters the list");
    await phone.getByRole("radio", { name: /^York Mind/ }).check();
    assert.equal(await phone.getByLabel("Your sector").inputValue(), "Mental health", "the sector follows the organisation");
    await phone.getByRole("radio", { name: "Room A" }).check();
    await shot(phone, "attendee-profile");
    await phone.getByRole("button", { name: "Join" }).click();
    await phone.locator("#view-app").waitFor({ state: "visible" });
    await within(5000, async () => /Connected/.test(await phone.locator("#conn").textContent()), "attendee connected");
    assert.equal(phoneSockets, 1, "the phone talks over one WebSocket (the CSP allows it)");
    assert.equal(phoneStreams, 0, "no fallback where WebSocket works");
    await phone.getByRole("button", { name: "You" }).click();
    assert.match(await phone.locator("#you-summary").textContent(), /York Mind.*Mental health.*Room A/);
    await phone.getByRole("button", { name: /^Answer/ }).click();
    await within(3000, async () => (await host.locator("#att-joined").textContent()) === "1", "host sees the attendee");
    assert.match(await host.locator("#att-org").textContent(), /York Mind/);
    assert.match(await host.locator("#att-sector").textContent(), /Mental health/);
    await axe(phone, "attendee, nothing open");
  });

  it("the host opens one activity of every kind and the phone shows them", async () => {
    const keys = ["role", "pre-prescribing", "barrier-word", "barriers", "concern", "partnership-priority", "pledge"];
    for (const key of keys) {
      await host.locator(`#h-${key}`).getByRole("button", { name: "Open", exact: true }).click();
      await host.locator(`#h-${key}`).getByRole("button", { name: "Close", exact: true }).waitFor();
    }
    for (const key of keys) await phone.locator(`#act-${key}`).waitFor();
    assert.equal(await phone.locator("#open-count").textContent(), String(keys.length));
    await axe(phone, "attendee, activities open");
    await axe(host, "host, activities open");
    await shot(phone, "attendee-open");
  });

  async function answerAndTime(key, act, hostChanged) {
    await act();
    const ms = await within(1000, hostChanged, `${key}: the host's chart changes`);
    await within(5000, async () => /Saved/.test(await saved(key).textContent()), `${key}: Saved after the ack`);
    return ms;
  }

  it("the phone answers every kind, sees Saved, and the host's chart moves within a second", async () => {
    const card = (key) => phone.locator(`#act-${key}`);
    const timings = {};

    // Single choice.
    assert.equal(await saved("role").textContent(), "", "nothing saved before answering");
    timings.role = await answerAndTime("role", async () => {
      await card("role").getByRole("radio", { name: "Team leader or manager" }).check();
      await card("role").getByRole("button", { name: "Send answer" }).click();
    }, async () => (await hostBar("role", 1).textContent()) === "1 · 100%");

    // Scale with labelled ends.
    assert.match(await card("pre-prescribing").textContent(), /1 = Not at all.*5 = Very/);
    timings.scale = await answerAndTime("pre-prescribing", async () => {
      await card("pre-prescribing").getByRole("radio", { name: "4", exact: true }).click();
      await card("pre-prescribing").getByRole("button", { name: "Send answer" }).click();
    }, async () => /Average 4\.0/.test(await host.locator("#h-pre-prescribing .mean").textContent()));

    // Words.
    timings.words = await answerAndTime("barrier-word", async () => {
      await card("barrier-word").getByLabel("Word or phrase 1").fill("Trust");
      await card("barrier-word").getByLabel("Word or phrase 2 (optional)").fill("waiting   lists");
      await card("barrier-word").getByRole("button", { name: "Send answer" }).click();
    }, async () => (await host.locator("#h-barrier-word .cloud li").count()) === 2);
    assert.match(await host.locator("#h-barrier-word .cloud").textContent(), /trust.*waiting lists|waiting lists.*trust/);

    // Multiple choice with its limit.
    assert.match(await card("barriers").textContent(), /Choose up to 3/);
    for (const o of ["Funding", "Attitudes", "Waiting lists"]) await card("barriers").getByRole("checkbox", { name: o }).check();
    assert.equal(await card("barriers").getByRole("checkbox", { name: "Information sharing" }).isDisabled(), true, "a fourth choice is refused");
    timings.multiple = await answerAndTime("barriers", async () => {
      await card("barriers").getByRole("button", { name: "Send answer" }).click();
    }, async () => (await hostBar("barriers", 0).textContent()) === "1 · 100%" && (await hostBar("barriers", 5).textContent()) === "1 · 100%");

    // Text with a character count.
    const concern = "Nobody picks up the phone when it matters";
    await card("concern").getByRole("textbox").fill(concern);
    assert.match(await card("concern").locator(".counter").textContent(), new RegExp(`^${concern.length} of 500`));
    timings.text = await answerAndTime("concern", async () => {
      await card("concern").getByRole("button", { name: "Send answer" }).click();
    }, async () => (await host.locator("#h-concern .bignum").textContent()) === "1");
    await within(2000, async () => (await host.locator("#h-concern .feed").textContent()).includes(concern), "the text reaches the host's feed");

    // A room's activity.
    timings.room = await answerAndTime("partnership-priority", async () => {
      await card("partnership-priority").getByRole("radio", { name: "Shared care plans" }).check();
      await card("partnership-priority").getByRole("button", { name: "Send answer" }).click();
    }, async () => (await hostBar("partnership-priority", 0).textContent()) === "1 · 100%");

    // Pledge, signed for the organisation.
    timings.pledge = await answerAndTime("pledge", async () => {
      await card("pledge").getByRole("button", { name: "Sign the pledge" }).click();
    }, async () => /York Mind/.test(await host.locator("#h-pledge .bars").textContent()));
    assert.match(await saved("pledge").textContent(), /Signed for York Mind/);

    // An answer can be changed while open (its folded card opens with "Change answer").
    await card("role").getByRole("button", { name: "Change answer" }).click();
    await card("role").getByRole("radio", { name: "Student" }).check();
    assert.match(await saved("role").textContent(), /Changed/);
    await answerAndTime("role", async () => {
      await card("role").getByRole("button", { name: "Update answer" }).click();
    }, async () => (await hostBar("role", 4).textContent()) === "1 · 100%" && (await hostBar("role", 1).textContent()) === "0 · 0%");

    assert.match(await host.locator("#h-role .rate").textContent(), /1 response · 100% of 1 here now/);
    await shot(phone, "attendee-answered");
    await shot(host, "host-live");
    console.log("  answer to host chart (ms):", JSON.stringify(timings));
  });

  it("reveal shows results on the phone and the presenter follows the host's focus", async () => {
    await host.locator("#h-role").getByRole("button", { name: "Show on screen" }).click();
    await presenter.locator("#stage-title").filter({ hasText: "What best describes your role?" }).waitFor();
    await within(2000, async () => /1\s*response/.test(await presenter.locator(".count").textContent()), "presenter shows the count");
    assert.match(await presenter.locator("#stage").textContent(), /Results appear here when the host reveals them/);

    await host.locator("#h-role").getByRole("button", { name: "Show results" }).click();
    await host.locator("#h-barrier-word").getByRole("button", { name: "Show results" }).click();
    await phone.locator("#res-role").waitFor();
    await phone.locator("#res-barrier-word").waitFor();
    assert.match(await phone.locator("#res-role").textContent(), /Student\s*1 · 100%/);
    assert.match(await phone.locator("#res-barrier-word .cloud").textContent(), /trust/);
    await presenter.locator("#stage .bars").waitFor();
    assert.match(await presenter.locator("#stage .bars").textContent(), /Student\s*1 · 100%/);
    await within(5000, async () => (await phone.locator("#announcer").textContent()).startsWith("Results."), "results are announced politely");

    await axe(phone, "attendee with results");
    await axe(presenter, "presenter with results");
    await axe(host, "host with results revealed");
    await phone.locator("#results-block").scrollIntoViewIfNeeded();
    await shot(phone, "attendee-results");
    await shot(presenter, "presenter-results", false);
    // The table alternative opens and is announced as a table.
    await phone.locator("#res-role summary").click();
    assert.equal(await phone.locator("#res-role table").getByRole("row").count(), 7);
    await axe(phone, "attendee with a data table open");
  });

  it("questions: ask, moderate (flagged items marked), upvote, answered", async () => {
    await phone.getByRole("button", { name: "Q&A" }).click();
    await axe(phone, "attendee Q&A (empty)");
    await phone.getByLabel("Your question").fill("How do we share care plans across services?");
    await phone.getByRole("button", { name: "Ask" }).click();
    await within(5000, async () => /Sent/.test(await phone.locator("#ask-state").textContent()), "question acknowledged");
    await phone.getByLabel("Your question").fill("Why are the waiting lists such bollocks?");
    await phone.getByRole("button", { name: "Ask" }).click();
    await within(5000, async () => (await host.locator("#modlist li", { hasText: "Question" }).count()) === 2, "both questions wait for the host");
    await host.getByRole("button", { name: "Texts", exact: true }).click();
    assert.match(await host.locator("#modlist").textContent(), /Nobody picks up the phone/, "text answers wait for moderation too, in their own queue");
    await host.getByRole("button", { name: "Questions", exact: true }).click();
    const flagged = host.locator("#modlist li.flagged");
    assert.equal(await flagged.count(), 1, "the rude one is flagged");
    assert.match(await flagged.textContent(), /Flagged/);
    await axe(host, "host moderation queue");
    await shot(host, "host-moderation");

    const good = host.locator("#modlist li", { hasText: "care plans" });
    await good.getByRole("button", { name: "Approve" }).click();
    await phone.locator("#qlist li", { hasText: "care plans" }).waitFor();
    assert.equal(await phone.locator("#qlist li").count(), 1, "only approved questions are visible");
    // The presenter shows the questions on the whole screen once nothing else is on it.
    await host.locator("#h-role").getByRole("button", { name: "Show on screen" }).click();
    await presenter.locator("#pq-list li", { hasText: "care plans" }).waitFor();

    const vote = phone.locator("#qlist li").getByRole("button");
    await vote.click();
    await within(5000, async () => (await vote.getAttribute("aria-pressed")) === "true" && /Voted/.test(await vote.textContent()), "upvote acknowledged");
    await within(3000, async () => /1\s*vote/.test(await presenter.locator("#pq-list").textContent()), "presenter shows the vote");

    await host.getByRole("button", { name: "Questions", exact: true }).click();
    await host.locator("#modlist li", { hasText: "care plans" }).getByRole("button", { name: "Mark answered" }).click();
    await phone.locator("#qlist li .badge:not([hidden])", { hasText: "Answered" }).waitFor();
    assert.equal(await host.locator("#modlist li.flagged").count(), 1, "a flagged item is never removed by itself");
    await axe(phone, "attendee Q&A with questions");
    await shot(phone, "attendee-qa");
  });

  it("directory: share a card with consent, the host approves, others can browse it", async () => {
    await phone.getByRole("button", { name: "Directory" }).click();
    await phone.getByText("Share your service card").click();
    assert.equal(await phone.getByRole("textbox", { name: "Organisation", exact: true }).inputValue(), "York Mind", "prefilled from the profile");
    await phone.getByLabel("Service or team").fill("Crisis café");
    await phone.getByLabel("What you offer").fill("Evening drop-in, no appointment needed");
    await phone.getByLabel("How to refer").fill("Self-referral");
    await phone.getByLabel("Contact (phone, email or website)").fill("01904 000000");
    const share = phone.getByRole("button", { name: "Share my card" });
    assert.equal(await share.isDisabled(), true, "no sharing without consent");
    await axe(phone, "attendee card form");
    await phone.getByRole("checkbox", { name: /I agree to share this card/ }).check();
    await share.click();
    await within(5000, async () => /Shared/.test(await phone.locator("#card-state").textContent()), "card acknowledged");
    await host.getByRole("button", { name: "Cards", exact: true }).click();
    await host.locator("#modlist li", { hasText: "Crisis café" }).getByRole("button", { name: "Approve" }).click();
    await phone.locator("#cards li", { hasText: "Crisis café" }).waitFor();
    assert.match(await phone.locator("#cards").textContent(), /01904 000000/);
    await axe(phone, "attendee directory");
    await shot(phone, "attendee-directory");
  });

  it("reports download with the host's bearer token, never a token in the URL", async () => {
    const [request] = await Promise.all([
      host.waitForRequest((r) => r.url().endsWith("/summary.json")),
      host.getByRole("button", { name: "Summary (JSON)" }).click(),
    ]);
    assert.equal(request.headers().authorization, `Bearer ${ev.host_token}`);
    assert.ok(!request.url().includes(ev.host_token));
    const response = await request.response();
    if (response.status() === 200) {
      await within(5000, async () => /Downloaded/.test(await host.locator("#rep-state").textContent()), "download done");
    } else {
      await within(5000, async () => /Could not download summary\.json/.test(await host.locator("#rep-state").textContent()), "a clear message when the report is not there");
    }
  });

  it("the host closes an activity, then ends the event after confirming; the phone says thank you", async () => {
    await host.locator("#h-role").getByRole("button", { name: "Close", exact: true }).click();
    await phone.locator("#act-role").waitFor({ state: "detached" });
    await host.getByRole("button", { name: "End the event…" }).click();
    const dialog = host.getByRole("dialog", { name: "End the event now?" });
    await dialog.waitFor();
    await axe(host, "host end-event dialog");
    await shot(host, "host-end-dialog", false);
    await dialog.getByRole("button", { name: "Keep it running" }).click();
    assert.equal(await dialog.isVisible(), false);
    assert.match(await phone.locator("#conn").textContent(), /Connected/, "cancelling keeps the event going");

    await host.getByRole("button", { name: "End the event…" }).click();
    await dialog.getByRole("button", { name: "End the event" }).click();
    await phone.getByRole("heading", { name: "Thank you for taking part" }).waitFor();
    await host.locator("#ended-banner").waitFor({ state: "visible" });
    await axe(phone, "attendee after the event ended");
    await axe(host, "host after the event ended");
    await shot(phone, "attendee-ended");
    await shot(host, "host-ended");
    for (const w of watches) w.assertClean("flow");
  });
});
