// The attendee page speaks the person's language (issue 22, point 4): English, Polish and
// Arabic, chosen from the browser's languages or the switch under "You"; Arabic laid out right
// to left; the organiser's own text as written. Each language at 390×844 and 320×640, axe clean.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, DESKTOP, launch, createEvent, watch, axe, shot, within } from "./lib.mjs";

const SIZES = {
  "390": { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  "320": { viewport: { width: 320, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
};
const LANGS = [
  { locale: "en-GB", lang: "en", dir: "ltr", join: "Join", you: "You", answer: "Answer", search: "Search organisations", live: /Connected/, none: /Nothing to answer/ },
  { locale: "pl-PL", lang: "pl", dir: "ltr", join: "Dołącz", you: "Ty", answer: "Odpowiedz", search: "Szukaj organizacji", live: /Połączono/, none: /nie ma nic do odpowiedzi/ },
  { locale: "ar-EG", lang: "ar", dir: "rtl", join: "انضم", you: "أنت", answer: "أجب", search: "ابحث عن مؤسسة", live: /متصل/, none: /لا يوجد ما تجيب عنه/ },
];

async function openActivity(host, key) {
  await host.locator(`#h-${key}`).getByRole("button", { name: "Open", exact: true }).click();
  await within(5000, async () => !(await host.locator(`#h-${key} button[aria-busy]`).count()), `open ${key}`);
}

describe("the attendee page in the person's language", () => {
  let browser, ev, host;

  before(async () => {
    ev = await createEvent();
    browser = await launch();
    host = await (await browser.newContext(DESKTOP)).newPage();
    await host.goto(ev.host_url);
    await host.locator("#h-role").waitFor();
    await openActivity(host, "role");
    await openActivity(host, "barrier-word");
  });

  after(async () => { await browser?.close(); });

  for (const L of LANGS) {
    for (const [size, device] of Object.entries(SIZES)) {
      it(`${L.lang} from the browser's language, at ${size} px`, async () => {
        const ctx = await browser.newContext({ ...device, locale: L.locale });
        const page = await ctx.newPage();
        const w = watch(page);
        await page.goto(`${BASE}/e/${ev.code}`);
        await page.getByRole("searchbox", { name: L.search }).waitFor();
        assert.equal(await page.getAttribute("html", "lang"), L.lang);
        assert.equal(await page.getAttribute("html", "dir"), L.dir);
        // The organiser's own text stays as written.
        assert.match(await page.locator("#profile-title").textContent(), /Dual Diagnosis/);
        await page.getByRole("searchbox", { name: L.search }).fill("york mind");
        await page.getByRole("radio", { name: /^York Mind/ }).check();
        await page.getByRole("radio", { name: "Room A" }).check();
        await axe(page, `${L.lang} join form at ${size}`);
        await shot(page, `lang-${L.lang}-join-${size}`, false);
        await page.getByRole("button", { name: L.join, exact: true }).click();
        await page.locator("#view-app").waitFor({ state: "visible" });
        await within(5000, async () => L.live.test(await page.locator("#conn").textContent()), "connected, in the language");
        await page.locator("#act-role").waitFor();
        assert.equal(await page.locator("#act-role .prompt").textContent(), "What best describes your role?", "prompts as written");
        assert.equal(await page.locator(".tabs [data-tab=answer] [data-i18n]").textContent(), L.answer);
        assert.equal(await page.locator("#tab-you").textContent(), L.you);

        // Every tab whole, nothing sideways, and in Arabic the page mirrored: the first tab on
        // the right, the counter and card borders on the start (right) side.
        const tabs = await page.locator(".tabs button:not([hidden])").evaluateAll((bs) => bs.map((b) => ({ fits: b.scrollWidth <= b.clientWidth + 1, left: b.getBoundingClientRect().left, right: b.getBoundingClientRect().right })));
        tabs.forEach((tab, i) => assert.ok(tab.fits, `tab ${i} is cut`));
        const bar = await page.locator(".tabs").boundingBox();
        tabs.forEach((tab, i) => assert.ok(tab.left >= bar.x - 0.5 && tab.right <= bar.x + bar.width + 0.5, `tab ${i} runs out of the bar`));
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "no sideways scroll");
        if (L.dir === "rtl") {
          assert.ok(tabs[0].left > tabs[1].left, "the first tab is on the right");
          const card = await page.locator("#act-role").boundingBox();
          const label = await page.locator("#act-role .option").first().boundingBox();
          const radio = await page.locator("#act-role .option input").first().boundingBox();
          assert.ok(radio.x > label.x + label.width / 2, "a radio sits on the right of its option");
          assert.ok(card.x >= 0);
        } else {
          assert.ok(tabs[0].left < tabs[1].left);
        }
        await axe(page, `${L.lang} answering at ${size}`);
        await shot(page, `lang-${L.lang}-answer-${size}`, false);
        await page.locator("#tab-you").click();
        await axe(page, `${L.lang} You at ${size}`);
        await shot(page, `lang-${L.lang}-you-${size}`, false);
        w.assertClean(`${L.lang} at ${size}`);
        await ctx.close();
      });
    }
  }

  it("the switch under You changes the language at once, keeps typed text, and is remembered", async () => {
    const ctx = await browser.newContext({ ...SIZES["390"], locale: "en-GB" });
    const page = await ctx.newPage();
    const w = watch(page);
    await page.goto(`${BASE}/e/${ev.code}`);
    await page.getByRole("searchbox", { name: "Search organisations" }).fill("york mind");
    await page.getByRole("radio", { name: /^York Mind/ }).check();
    await page.getByRole("button", { name: "Join", exact: true }).click();
    await page.locator("#act-barrier-word").waitFor();
    await page.locator("#act-barrier-word input").first().fill("trust");
    await page.locator("#tab-you").click();
    await page.getByRole("combobox", { name: "Language" }).selectOption("ar");
    await within(3000, async () => (await page.getAttribute("html", "dir")) === "rtl", "right to left");
    assert.equal(await page.getAttribute("html", "lang"), "ar");
    assert.equal(await page.locator("#tab-you").textContent(), "أنت");
    assert.match(await page.locator("#you-answers-title").textContent(), /إجاباتك/);
    await page.getByRole("combobox", { name: "اللغة" }).selectOption("pl");
    await within(3000, async () => (await page.locator("#tab-you").textContent()) === "Ty", "Polish");
    assert.equal(await page.getAttribute("html", "dir"), "ltr");
    await page.locator(".tabs [data-tab=answer]").click();
    assert.equal(await page.locator("#act-barrier-word input").first().inputValue(), "trust", "typed text kept");
    assert.equal(await page.locator("#act-role").getByRole("button", { name: "Wyślij odpowiedź" }).count(), 1, "cards re-worded");
    await page.reload();
    await page.locator("#act-role").waitFor();
    assert.equal(await page.getAttribute("html", "lang"), "pl", "the choice is remembered");
    assert.equal(await page.locator("#tab-you").textContent(), "Ty");
    w.assertClean("switching");
    await ctx.close();
  });
});

// Ranking, 100 points and the reactions bar (web/kinds.js, charts.js's reaction names and
// summaries) in Polish and Arabic on the phone; the host's page keeps its English names.
describe("ranking, points and reactions in the person's language", () => {
  const RANKING = "commissioner-priorities";
  const POINTS = "network-budget";
  const WORDS = {
    pl: { up: (o) => `Przesuń „${o}” w górę`, moved: (o) => `„${o}” jest teraz na miejscu 1 z 5.`, hint: /^Ustaw wszystkie opcje/,
      left: "Zostało 100 punktów do rozdzielenia", left22: "Zostały 22 punkty do rozdzielenia", more: (o) => `5 punktów więcej dla „${o}”`,
      slow: "Wolniej", react: "Zareaguj", ranked: "Najwyżej w rankingu: B.", most: "Najwięcej punktów: A." },
    ar: { up: (o) => `انقل «${o}» إلى الأعلى`, moved: (o) => new RegExp(`^«${o}» الآن في المرتبة (1|١) من (5|٥)\\.$`), hint: /^رتّب كل الخيارات/,
      left: /^بقيت (100|١٠٠) نقطة للتوزيع$/, left22: /^بقيت (22|٢٢) نقطة للتوزيع$/, more: (o) => `أضف 5 نقاط إلى «${o}»`,
      slow: "على مهل", react: "تفاعل", ranked: "الأعلى ترتيبًا: B.", most: "الأكثر نقاطًا: A." },
  };
  const same = (got, want, what) => (want instanceof RegExp ? assert.match(got, want, what) : assert.equal(got, want, what));
  // The page's own instance of charts.js (the same address), speaking the page's language.
  const tally = (page) => page.evaluate(async () => {
    const { describeTally } = await import("/assets/charts.js");
    return [
      describeTally({ kind: "ranking", prompt: "P", options: ["A", "B"] }, { total: 3, mean_rank: [1.7, 1.3] }),
      describeTally({ kind: "points", prompt: "P", options: ["A", "B"] }, { total: 3, points: [200, 100] }),
    ];
  });
  let browser, ev, host;

  before(async () => {
    ev = await createEvent();
    browser = await launch();
    host = await (await browser.newContext(DESKTOP)).newPage();
    await host.goto(ev.host_url);
    await host.locator(`#h-${RANKING}`).waitFor();
    await openActivity(host, RANKING);
    await openActivity(host, POINTS);
  });

  after(async () => { await browser?.close(); });

  for (const L of LANGS.filter((l) => l.lang !== "en")) {
    it(`${L.lang}: a ranking, 100 points and reactions at 390 px`, async () => {
      const W = WORDS[L.lang];
      const ctx = await browser.newContext({ ...SIZES["390"], locale: L.locale });
      const page = await ctx.newPage();
      const w = watch(page);
      await page.goto(`${BASE}/e/${ev.code}`);
      await page.getByRole("searchbox", { name: L.search }).fill("york mind");
      await page.getByRole("radio", { name: /^York Mind/ }).check();
      await page.getByRole("button", { name: L.join, exact: true }).click();

      const ranking = page.locator(`#act-${RANKING}`);
      await ranking.waitFor();
      assert.match(await ranking.locator(".hint").first().textContent(), W.hint);
      const labels = await ranking.locator(".rank-label").allTextContents();
      await ranking.getByRole("button", { name: W.up(labels[1]) }).click();
      await within(3000, async () => (await ranking.locator(".rank-label").first().textContent()) === labels[1], "moved up");
      same(await ranking.locator("[aria-live]").first().textContent(), W.moved(labels[1]), "moved, said in the language");
      await ranking.scrollIntoViewIfNeeded();
      await shot(page, `lang-${L.lang}-ranking-390`, false);

      const points = page.locator(`#act-${POINTS}`);
      const left = points.locator(".points-left");
      same(await left.textContent(), W.left, "points left");
      await points.getByRole("spinbutton").nth(0).fill("78");
      same(await left.textContent(), W.left22, "points left, plural form");
      const option = (await points.locator(".points-label").nth(1).textContent()).trim();
      assert.equal(await points.getByRole("button", { name: W.more(option) }).count(), 1, "stepper named in the language");
      await points.scrollIntoViewIfNeeded();
      await shot(page, `lang-${L.lang}-points-390`, false);

      const bar = page.locator("#reactions");
      assert.equal(await bar.locator("h2").textContent(), W.react);
      assert.equal(await bar.getByRole("button", { name: W.slow }).count(), 1, "reaction named in the language");
      const cut = await bar.locator("button.reaction").evaluateAll((bs) => bs.filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => b.textContent));
      assert.deepEqual(cut, [], "every reaction's name fits its button");
      await bar.scrollIntoViewIfNeeded();
      await shot(page, `lang-${L.lang}-reactions-390`, false);
      const [rankedSaid, pointsSaid] = await tally(page);
      assert.ok(rankedSaid.endsWith(" " + W.ranked), rankedSaid);
      assert.ok(pointsSaid.endsWith(" " + W.most), pointsSaid);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), "no sideways scroll");
      await axe(page, `${L.lang} ranking, points and reactions`);
      w.assertClean(`${L.lang} kinds`);
      await ctx.close();
    });
  }

  it("the host's page keeps English reaction names and summaries", async () => {
    assert.equal(await host.locator('#host-reactions li[data-key="slow_down"] .reaction-label').textContent(), "Slow down");
    const [rankedSaid, pointsSaid] = await tally(host);
    assert.equal(rankedSaid, "P: 3 responses. Ranked highest: B.");
    assert.equal(pointsSaid, "P: 3 responses. Most points: A.");
  });
});
