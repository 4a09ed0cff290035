// The presenter screen with a realistic day's data: 44 phones (WebSockets from a driver
// page), long organisation names, a choice with long labels, a big word cloud, 44 approved
// text answers, a pledge signed by 20+ organisations, 36 questions, then the end. Each state
// is checked at 1920×1080, 1280×720 and 1024×768: nothing clips its content, everything is
// inside the screen, the QR and code stay visible, axe finds nothing; a screenshot of each.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BASE, FIXTURE, launch, createEvent, watch, axe, shot, within } from "./lib.mjs";

const SIZES = [[1920, 1080], [1280, 720], [1024, 768]];
const PHONES = 44;
const LONG_ORGS = [
  "The North Yorkshire and York Community Interest Company for Recovery, Housing and Wellbeing",
  "Scarborough, Whitby and Ryedale Lived Experience Peer Support and Advocacy Collective",
  "Harrogate District Dual Diagnosis Multi-Agency Partnership Development Programme",
];
const LONG_LABELS = [
  "Practitioner or clinician working directly with people who have co-existing mental health and substance use needs",
  "Team leader, service manager or clinical lead responsible for a multi-disciplinary team",
  "Commissioner, senior leader or board member deciding how services are funded",
  "Peer worker, volunteer or person with lived experience of dual diagnosis and recovery",
  "Researcher, educator or student",
  "Something else",
];
const WORDS = ["waiting lists", "funding", "stigma", "trust", "silos", "eligibility", "referrals", "thresholds",
  "information sharing", "capacity", "turnover", "commissioning", "attitudes", "housing", "gatekeeping",
  "paperwork", "culture", "time", "language", "it systems", "consent", "risk aversion", "boundaries",
  "caseloads", "training", "leadership", "pathways", "access", "communication", "distance", "transport",
  "exclusion", "assessment", "criteria", "budgets", "priorities", "workforce", "pressure", "burnout",
  "fragmentation", "bureaucracy", "confidentiality", "data", "geography", "waiting", "wellbeing"];

/* Runs in the driver page: phones and the host as WebSockets of the real protocol. */
function installDriver({ code, hostToken }) {
  const wsUrl = (p) => (location.protocol === "https:" ? "wss://" : "ws://") + location.host + p;
  const open = (path) => new Promise((res, rej) => {
    const ws = new WebSocket(wsUrl(path));
    ws.waiting = new Map();
    ws.frames = [];
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      ws.frames.push(m);
      const key = m.type === "ack" ? m.id : m.type === "ok" || m.type === "error" ? m.id : m.type === "welcome" || m.type === "snapshot" ? m.type : null;
      if (key !== null && ws.waiting.has(key)) { ws.waiting.get(key)(m); ws.waiting.delete(key); }
    };
    ws.onopen = () => res(ws);
    ws.onerror = rej;
  });
  const ask = (ws, msg, key) => new Promise((res) => { ws.waiting.set(key, res); ws.send(JSON.stringify(msg)); });
  let seq = 0;
  const d = window.driver = {
    phones: [],
    async host() {
      d.hostWs = await open(`/ws/host/${code}`);
      await ask(d.hostWs, { type: "auth", token: hostToken }, "snapshot");
    },
    async cmd(msg) {
      const id = ++seq;
      const reply = await ask(d.hostWs, { ...msg, id }, id);
      if (reply.type !== "ok") throw new Error(`${msg.type}: ${JSON.stringify(reply)}`);
    },
    async join(profiles) {
      d.phones = await Promise.all(profiles.map(async (p) => {
        const ws = await open(`/ws/e/${code}`);
        const welcome = await ask(ws, { type: "hello", attendee: null, ...p }, "welcome");
        if (welcome.type !== "welcome") throw new Error(JSON.stringify(welcome));
        return ws;
      }));
    },
    async send(i, msg) {
      const id = `m${++seq}`;
      const reply = await ask(d.phones[i], { ...msg, id }, id);
      if (reply.type !== "ack") throw new Error(`${msg.type}: ${JSON.stringify(reply)}`);
    },
    async answerAll(activity, values) {
      await Promise.all(values.map((v, i) => (v === undefined ? null : d.send(i, { type: "answer", activity, value: v }))));
    },
    /* Every pending item of a kind the host has heard of, approved in one batch. */
    async approve(item, filter = () => true) {
      const latest = new Map();
      for (const f of d.hostWs.frames) {
        if (item === "question" && f.type === "question") latest.set(f.question.id, f.question);
        if (item === "text" && f.type === "text") { if (f.replaces) latest.delete(f.replaces); latest.set(f.id, f); }
      }
      const targets = [...latest.values()].filter((x) => x.state === "pending" && filter(x)).map((x) => x.id);
      if (targets.length) await d.cmd({ type: "moderate", item, targets, action: "approve" });
      return targets.length;
    },
    heard(type) { return d.hostWs.frames.filter((f) => f.type === type).length; },
    questionIds() {
      const ids = [];
      for (const f of d.hostWs.frames) if (f.type === "question" && !ids.includes(f.question.id)) ids.push(f.question.id);
      return ids;
    },
  };
}

/* Runs in the presenter page: what clips, what lies outside the screen. */
function layoutProblems() {
  const problems = [];
  const hiddenForEyes = (e) => {
    for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
      const cs = getComputedStyle(n);
      if (cs.clip === "rect(0px, 0px, 0px, 0px)") return true;
    }
    return false;
  };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "");
  const root = document.documentElement;
  if (root.scrollHeight > innerHeight + 1 || root.scrollWidth > innerWidth + 1) {
    problems.push(`the page scrolls: ${root.scrollWidth}×${root.scrollHeight} in ${innerWidth}×${innerHeight}`);
  }
  for (const e of document.body.querySelectorAll("*")) {
    const r = e.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    if (getComputedStyle(e).visibility === "hidden" || hiddenForEyes(e)) continue;
    const cs = getComputedStyle(e);
    if (cs.overflowX !== "visible" || cs.overflowY !== "visible") {
      if (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1) {
        problems.push(`${name(e)} clips its content: ${e.scrollWidth}×${e.scrollHeight} in ${e.clientWidth}×${e.clientHeight}`);
      }
    }
    if (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1) {
      problems.push(`${name(e)} is outside the screen: ${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)}`);
    }
  }
  return problems;
}

describe("presenter screen with a day's data", () => {
  let browser, ev, driver, presenter, watched;

  before(async () => {
    ev = await createEvent(BASE, (spec) => {
      spec.sessions[0].activities.push({ key: "long-role", kind: "choice", prompt: "Which of these best describes the work you do with people who have co-existing mental health and substance use needs?", options: LONG_LABELS });
      // One Q&A for the whole day: the 36 questions asked at the start fill the screen
      // whichever session is on (a Q&A per session is phases.test.mjs's).
      spec.qa = { ...spec.qa, scope: "event" };
      return spec;
    });
    browser = await launch();
    driver = await (await browser.newContext()).newPage();
    await driver.goto(`${BASE}/`);
    await driver.evaluate(installDriver, { code: ev.code, hostToken: ev.host_token });
    await driver.evaluate(() => window.driver.host());
    const names = JSON.parse(readFileSync(FIXTURE, "utf8")).organisations.map((o) => o.name);
    const profiles = Array.from({ length: PHONES }, (_, i) => ({
      organisation: i < LONG_ORGS.length ? LONG_ORGS[i] : names.length ? names[i % names.length] : "York Mind",
    }));
    await driver.evaluate((p) => window.driver.join(p), profiles);
    presenter = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    watched = watch(presenter);
    await presenter.goto(ev.present_url);
    await presenter.locator("#conn[data-state=live]").waitFor();
  });

  after(async () => {
    await browser?.close();
  });

  const drive = (fn, arg) => driver.evaluate(fn, arg);
  const stageText = () => presenter.locator("#stage").textContent();

  /* The same checks at each size, with a screenshot of each. */
  async function everySize(state, { joinShown = true, check = async () => {} } = {}) {
    for (const [width, height] of SIZES) {
      await presenter.setViewportSize({ width, height });
      // Two frames: present.js fits the stage on the next animation frame after a resize.
      await presenter.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      // Results build up for 1.3 s after a reveal; a resize does not replay it.
      if (width === 1920 && state !== "join") await presenter.waitForTimeout(1300);
      // Anything still fading in (a wall re-rendered by the resize, a build-up) settles
      // first: mid-fade, axe measures a blended colour and layout a moving box.
      await presenter.evaluate(() => Promise.all(document.getAnimations()
        .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime))
        .map((a) => a.finished.catch(() => {}))));
      const label = `${state} at ${width}×${height}`;
      assert.deepEqual(await presenter.evaluate(layoutProblems), [], `${label}: nothing clipped, nothing off screen`);
      if (joinShown) {
        const qr = await presenter.locator("#qr").boundingBox();
        assert.ok(qr && qr.width >= 70 && qr.y + qr.height <= height && qr.x + qr.width <= width, `${label}: the QR is on screen (${JSON.stringify(qr)})`);
        assert.ok(await presenter.locator("#qr").evaluate((img) => img.complete && img.naturalWidth > 0), `${label}: the QR loaded`);
        assert.ok(await presenter.locator("#join-code").isVisible(), `${label}: the code is visible`);
        assert.equal(await presenter.locator("#join-code").textContent(), ev.code);
      }
      await check({ width, height, label });
      await axe(presenter, `presenter ${label}`);
      await shot(presenter, `presenter-${state}-${width}x${height}`, false);
    }
  }

  async function show(key, answer) {
    await drive((k) => window.driver.cmd({ type: "open", activity: k }), key);
    if (answer) await drive(answer.fn, answer.arg);
    await drive((k) => window.driver.cmd({ type: "focus", activity: k }), key);
    await drive((k) => window.driver.cmd({ type: "reveal", activity: k, show: true }), key);
  }

  it("the join screen: a big QR and code, a welcome", async () => {
    // Questions asked before the start wait for moderation: the screen stays a welcome.
    await drive(async () => {
      const d = window.driver;
      await Promise.all(Array.from({ length: 36 }, (_, i) => d.send(i % 44, {
        type: "ask",
        text: i % 5 === 0
          ? `Question ${i + 1}: how can commissioners make sure that people with co-existing mental health and substance use needs are not bounced between services that each say the other should go first, and who holds the risk while they wait?`
          : `Question ${i + 1}: what does joined-up care look like in ${["York", "Scarborough", "Harrogate", "Selby"][i % 4]}?`,
      })));
    });
    await everySize("join", {
      check: async ({ label, width }) => {
        assert.match(await stageText(), /Join now/, label);
        const qr = await presenter.locator("#qr").boundingBox();
        assert.ok(qr.width >= Math.min(250, width * 0.2), `${label}: the QR is big before anything is on screen (${qr.width})`);
      },
    });
  });

  it("a 1–5 scale: the whole scale and the mean, values beside tall bars, no table drawn", async () => {
    const values = Array.from({ length: PHONES }, (_, i) => [1, 2, 3, 3, 4, 4, 4, 5, 5, 2][i % 10]);
    await show("pre-prescribing", { fn: (v) => window.driver.answerAll("pre-prescribing", v), arg: values });
    await within(5000, async () => /Average/.test(await stageText()), "the mean is shown");
    await everySize("scale", {
      check: async ({ label, height }) => {
        assert.equal(await presenter.locator("#stage .bar-row").count(), 5, label);
        assert.ok(await presenter.locator("#stage .mean").isVisible(), `${label}: the mean is shown`);
        for (let i = 0; i < 5; i++) {
          const row = presenter.locator("#stage .bar-row").nth(i);
          const track = await row.locator(".bar-track").boundingBox();
          const value = await row.locator(".bar-value").boundingBox();
          const mid = value.y + value.height / 2;
          assert.ok(mid >= track.y - 2 && mid <= track.y + track.height + 2 && value.x >= track.x + track.width,
            `${label}: the value of bar ${i + 1} is beside its bar (${JSON.stringify({ track, value })})`);
          if (height === 1080) assert.ok(track.height >= 24, `${label}: bars are tall enough at 1080p (${track.height}px)`);
        }
        // The table is there for screen readers (in the accessibility tree), not drawn, with
        // no "Show as a table" control nobody can see.
        const table = presenter.locator("#stage .table-alt");
        assert.equal(await presenter.locator("#stage summary").count(), 0, `${label}: no hidden disclosure to tab to`);
        const box = await table.boundingBox();
        assert.ok(!box || (box.width <= 1 && box.height <= 1), `${label}: the table is not drawn (${JSON.stringify(box)})`);
        assert.equal(await presenter.getByRole("table", { name: "Responses" }).count(), 1, `${label}: the table is in the accessibility tree`);
      },
    });
  });

  it("results build up when revealed, and not for people who ask for less motion", async () => {
    // The scale on screen was revealed with motion allowed: its chart built up.
    assert.equal(await presenter.locator("#stage .chart.build").count(), 1, "the chart is marked to build up");
    const still = await (await browser.newContext({ viewport: { width: 1280, height: 720 }, reducedMotion: "reduce" })).newPage();
    await still.goto(ev.present_url);
    await still.locator("#stage .bar-row").first().waitFor();
    assert.equal(await still.locator("#stage .chart.build").count(), 0, "no build-up with reduced motion");
    await still.context().close();
  });

  it("a choice with long labels: every label wrapped in full, each option its own colour", async () => {
    const values = Array.from({ length: PHONES }, (_, i) => [[0], [0], [1], [2], [3], [3], [3], [4], [5], [0]][i % 10]);
    await show("long-role", { fn: (v) => window.driver.answerAll("long-role", v), arg: values });
    await within(5000, async () => (await presenter.locator("#stage .bar-row").count()) === 6, "six bars");
    await everySize("choice", {
      check: async ({ label }) => {
        const text = await stageText();
        for (const l of LONG_LABELS) assert.ok(text.includes(l), `${label}: "${l}" is shown in full`);
        const colours = await presenter.locator("#stage .bar-fill").evaluateAll((fills) => fills.map((f) => getComputedStyle(f).backgroundColor));
        assert.equal(new Set(colours).size, 6, `${label}: each option has its own colour (${colours})`);
      },
    });
  });

  it("a word cloud of many words: a wide size range, colours that stay with their word", async () => {
    const values = Array.from({ length: PHONES }, (_, i) => [WORDS[0], WORDS[(i % 7) + 1], WORDS[(i * 5) % WORDS.length]]
      .filter((w, j, all) => all.indexOf(w) === j));
    await show("barrier-word", { fn: (v) => window.driver.answerAll("barrier-word", v), arg: values });
    await within(5000, async () => (await presenter.locator("#stage .cloud li").count()) >= 40, "many words");
    const colours = () => presenter.locator("#stage .cloud li").evaluateAll((lis) =>
      Object.fromEntries(lis.map((li) => [li.firstChild.textContent, getComputedStyle(li).color])));
    const before = await colours();
    // New answers move the ranks: each word keeps its colour.
    const moved = Array.from({ length: PHONES }, (_, i) => (i < 30 ? ["funding", "trust", WORDS[(i * 3) % WORDS.length]].filter((w, j, a) => a.indexOf(w) === j) : undefined));
    await drive((v) => window.driver.answerAll("barrier-word", v), moved);
    await within(5000, async () => (await presenter.locator("#stage .cloud li").first().textContent()).startsWith("funding"), "the ranks moved");
    const after = await colours();
    for (const [w, c] of Object.entries(after)) if (before[w]) assert.equal(c, before[w], `"${w}" keeps its colour`);
    await everySize("words", {
      check: async ({ label, height }) => {
        const sizes = await presenter.locator("#stage .cloud li:not([hidden])").evaluateAll((lis) => lis.map((li) => parseFloat(getComputedStyle(li).fontSize)));
        const ratio = Math.max(...sizes) / Math.min(...sizes);
        if (height === 1080) assert.ok(ratio >= 3, `${label}: the biggest word is at least 3 times the smallest (${ratio.toFixed(2)})`);
        const shownWords = sizes.length, all = await presenter.locator("#stage .cloud li").count();
        if (shownWords < all) assert.match(await stageText(), new RegExp(`and ${all - shownWords} more`), label);
      },
    });
  });

  it("a wall of approved text answers, paged when there are more than fit", async () => {
    await drive((k) => window.driver.cmd({ type: "open", activity: k }), "concern");
    const texts = Array.from({ length: PHONES }, (_, i) => (i === 7
      ? "This one stays in moderation and never reaches the projector"
      : `Answer ${i + 1}: ${["Waiting lists for assessments are far too long", "Nobody picks up the phone when someone is in crisis at night or at the weekend, and the duty line only takes messages", "Housing first", "We need shared care plans that every service can read and add to, with the person's own words at the centre", "Stop excluding people who are still using"][i % 5]}`));
    await drive((v) => window.driver.answerAll("concern", v), texts);
    await within(5000, () => drive(() => window.driver.heard("text")), "the host heard the texts");
    const approved = await drive(() => window.driver.approve("text", (t) => !t.text.startsWith("This one stays")));
    assert.equal(approved, PHONES - 1);
    await drive((k) => window.driver.cmd({ type: "focus", activity: k }), "concern");
    await drive((k) => window.driver.cmd({ type: "reveal", activity: k, show: true }), "concern");
    await within(5000, async () => (await presenter.locator("#stage .wall li").count()) === PHONES - 1, "the wall holds every approved answer");
    assert.doesNotMatch(await stageText(), /stays in moderation/, "an unapproved answer is never shown");
    await everySize("texts", {
      check: async ({ label }) => {
        const shownTexts = await presenter.locator("#stage .wall li:not([hidden])").count();
        assert.ok(shownTexts >= 4, `${label}: a page of answers is shown (${shownTexts})`);
        if (shownTexts < PHONES - 1) {
          assert.match(await stageText(), new RegExp(`${shownTexts} of ${PHONES - 1} answers`), `${label}: says that more are coming`);
        }
      },
    });
  });

  it("a pledge: its wording and who signed it, by organisation", async () => {
    await show("pledge", { fn: (n) => window.driver.answerAll("pledge", Array.from({ length: n }, () => true)), arg: PHONES });
    await within(5000, async () => (await presenter.locator("#stage .chart-pledge .bar-row").count()) >= 20, "20+ organisations");
    await everySize("pledge", {
      check: async ({ label }) => {
        const text = await stageText();
        assert.match(text, /We pledge to put the person first/, `${label}: the pledge's wording is shown`);
        assert.match(text, /44 signatures from 3\d organisations/, `${label}: how many organisations signed`);
        const rows = presenter.locator("#stage .chart-pledge .bar-row");
        const all = await rows.count(), visible = await presenter.locator("#stage .chart-pledge .bar-row:not([hidden])").count();
        assert.ok(all >= 20 && visible >= 6, `${label}: organisations are listed (${visible} of ${all})`);
        if (visible < all) assert.match(text, new RegExp(`and ${all - visible} more`), label);
        assert.ok(text.includes(LONG_ORGS[0]) || visible < all, `${label}: long names are shown in full`);
      },
    });
  });

  it("Q&A on the whole screen: the question being answered stands out, the top ones by votes", async () => {
    const top = await drive(async () => {
      const d = window.driver;
      await d.approve("question");
      const ids = d.questionIds();
      // Question i gets fewer votes the later it is; the 4th the most.
      const votes = ids.map((_, i) => (i === 3 ? 40 : Math.max(0, 30 - i)));
      await Promise.all(d.phones.map((_, p) => (async () => {
        for (const [i, id] of ids.entries()) if (p < votes[i]) await d.send(p, { type: "upvote", question: id });
      })()));
      await d.cmd({ type: "focus", activity: null });
      return d.hostWs.frames.find((f) => f.type === "question" && f.question.id === ids[3]).question.text;
    });
    await within(8000, async () => presenter.evaluate((t) => (document.querySelector("#stage .qa-now")?.textContent || "").includes(t), top), "the most voted question stands out")
      .catch(async (e) => { throw new Error(`${e.message}; the stage says: ${await stageText()}`); });
    await everySize("qa", {
      check: async ({ label }) => {
        const now = presenter.locator("#stage .qa-now");
        assert.match(await now.textContent(), /^Being answered40 votes/, `${label}: the question being answered is highlighted`);
        assert.ok((await now.textContent()).includes(top), `${label}: it is the one with most votes`);
        const visible = await presenter.locator("#stage .qa-list li:not([hidden])").count();
        assert.ok(visible >= 3, `${label}: several questions are shown (${visible})`);
        assert.match(await stageText(), new RegExp(`and ${36 - visible} more`), `${label}: and how many more`);
      },
    });
  });

  it("the event ended: thanks, no join prompt, not 'Live'", async () => {
    await drive(() => window.driver.cmd({ type: "end" }));
    await within(5000, async () => /Thank you/.test(await stageText()), "thanks on screen");
    await everySize("ended", {
      joinShown: false,
      check: async ({ label }) => {
        assert.ok(!(await presenter.locator("#join").isVisible()), `${label}: no join panel after the end`);
        assert.doesNotMatch(await presenter.locator("body").innerText(), /Join now|\bLive\b/, `${label}: no "Join now… Live"`);
        assert.equal(await presenter.locator("#conn").textContent(), "Event ended");
      },
    });
    watched.assertClean("presenter");
  });
});
