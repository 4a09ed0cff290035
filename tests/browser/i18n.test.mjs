// Unit tests of the attendee page's words (web/i18n.js and web/i18n/*.js): every catalogue
// has exactly English's keys and placeholders, plural tables have exactly their language's
// categories, and every key the page uses exists. No browser, no server.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LANGUAGES, negotiate, use, t, fill, pick, initial, remember, language, direction } from "../../web/i18n.js";
import { STRINGS, describeKind } from "../../web/kinds.js";

const web = join(dirname(fileURLToPath(import.meta.url)), "../../web");
const catalogue = async (code) => (await import(`../../web/i18n/${code}.js`)).default;
const placeholders = (text) => new Set([...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]));
const forms = (entry) => (typeof entry === "string" ? [entry] : Object.values(entry));
const union = (entry) => new Set(forms(entry).flatMap((f) => [...placeholders(f)]));

describe("catalogues", () => {
  it("every language has exactly English's keys, the same placeholders, and its own plural forms", async () => {
    const en = await catalogue("en");
    assert.ok(Object.keys(en).length > 100, "English is the full list");
    for (const { code } of LANGUAGES) {
      const cat = await catalogue(code);
      assert.deepEqual(Object.keys(cat).sort(), Object.keys(en).sort(), `${code}: keys`);
      const categories = new Intl.PluralRules(code).resolvedOptions().pluralCategories.slice().sort();
      for (const [key, want] of Object.entries(en)) {
        const got = cat[key];
        assert.equal(typeof got, typeof want, `${code} ${key}: a text where English has a text, a table where it has a table`);
        for (const form of forms(got)) {
          assert.equal(typeof form, "string", `${code} ${key}`);
          assert.ok(form.trim().length > 0, `${code} ${key}: empty`);
          for (const p of placeholders(form)) assert.ok(union(want).has(p), `${code} ${key}: {${p}} is not in English`);
        }
        if (typeof want === "string") {
          assert.deepEqual([...placeholders(got)].sort(), [...placeholders(want)].sort(), `${code} ${key}: placeholders`);
        } else {
          assert.deepEqual(Object.keys(got).sort(), categories, `${code} ${key}: plural categories`);
          // A form may leave out {n} ("one answer"), but every other placeholder is kept, and
          // the table as a whole uses each of English's.
          assert.deepEqual([...union(got)].sort(), [...union(want)].sort(), `${code} ${key}: placeholders across forms`);
          for (const form of forms(got)) {
            for (const p of union(want)) if (p !== "n") assert.ok(placeholders(form).has(p), `${code} ${key}: a form lacks {${p}}`);
          }
        }
      }
      if (code !== "en") {
        const same = Object.keys(en).filter((k) => typeof en[k] === "string" && cat[k] === en[k] && !/^[({\s})n]*$/.test(en[k].replace(/\{[a-z_]+\}/g, "")));
        assert.ok(same.length <= 2, `${code}: left in English: ${same.join(", ")}`);
      }
    }
  });

  it("every key the attendee page uses exists, and every key exists for a reason", async () => {
    const en = await catalogue("en");
    const sources = ["attendee.js", "attendee-session.js", "attendee-cards.js", "attendee-you.js", "attendee.html", "attendee-qa.js", "phases.js", "outbox.js", "charts.js", "kinds.js"].map((f) => readFileSync(join(web, f), "utf8")).join("\n");
    // The reactions' names: "reaction.KEY" for each key of charts.js's REACTIONS.
    const charts = readFileSync(join(web, "charts.js"), "utf8");
    const reactionTable = charts.match(/export const REACTIONS = \{([^}]*(?:\}[^}]*)*?)\n\};/);
    assert.ok(reactionTable, "charts.js has its REACTIONS table");
    const reactions = [...reactionTable[1].matchAll(/^\s*([a-z_]+): \{ label: "([^"]+)" \}/gm)];
    assert.ok(reactions.length >= 6, "the reactions are read from charts.js");
    for (const [, key, label] of reactions) {
      assert.ok(`reaction.${key}` in en, `the reaction ${key} has no words in the catalogue`);
      assert.equal(en[`reaction.${key}`], label, `reaction.${key}: English as the host's and presenter's pages show it`);
    }
    const used = new Set([
      ...[...sources.matchAll(/\b(?:t|say)\("([a-z_]+(?:\.[a-z_]+)*)"/g)].map((m) => m[1]),
      ...[...sources.matchAll(/data-i18n"?[=:] ?"([a-z_.]+)"/g)].map((m) => m[1]),
      ...[...sources.matchAll(/:([a-z_]+\.[a-z_]+)/g)].map((m) => m[1]).filter((k) => k in en),
      ...[...sources.matchAll(/"([a-z_]+\.[a-z_]+)"/g)].map((m) => m[1]).filter((k) => k in en),
      ...reactions.map(([, key]) => `reaction.${key}`),
    ]);
    for (const key of used) assert.ok(key in en, `the page uses ${key}, which English lacks`);
    // Keys built from a server's code: err.CODE, reason.CODE.
    const dynamic = (k) => /^(err|reason)\./.test(k);
    const unused = Object.keys(en).filter((k) => !used.has(k) && !dynamic(k));
    assert.deepEqual(unused, [], "keys nothing uses");
  });
});

describe("t()", () => {
  it("chooses plural forms with Intl.PluralRules in each language", async () => {
    await use("en");
    assert.equal(t("conn.offline_pending", { n: 1 }), "You're offline: 1 answer will be sent when you're back online");
    assert.equal(t("conn.offline_pending", { n: 3 }), "You're offline: 3 answers will be sent when you're back online");
    await use("pl");
    assert.equal(language(), "pl");
    assert.match(t("answer.waiting_here", { n: 1 }), /^1 odpowiedź czeka/);
    assert.match(t("answer.waiting_here", { n: 3 }), /^3 odpowiedzi czekają/);
    assert.match(t("answer.waiting_here", { n: 5 }), /^5 odpowiedzi czeka /);
    assert.match(t("answer.waiting_here", { n: 22 }), /^22 odpowiedzi czekają/);
    assert.match(t("profile.org_total", { n: 27 }), /^27 organizacji/);
    assert.match(t("profile.org_total", { n: 24 }), /^24 organizacje/);
    await use("ar");
    assert.equal(direction(), "rtl");
    assert.match(t("conn.offline_pending", { n: 1 }), /إجابة واحدة/);
    assert.match(t("conn.offline_pending", { n: 2 }), /إجابتان/);
    assert.match(t("conn.offline_pending", { n: 3 }), /(3|٣) إجابات/, "few form");
    assert.match(t("conn.offline_pending", { n: 11 }), /(11|١١) إجابة/, "many form");
    await use("en");
    assert.equal(direction(), "ltr");
  });

  it("gives ranking, points and reactions (kinds.js) in the current language, with plurals", async () => {
    await use("en");
    assert.equal(STRINGS.pointsLeft(1), "1 point left to share");
    assert.equal(STRINGS.pointsOver(3), "3 too many: take 3 points off somewhere");
    assert.equal(STRINGS.moved("B", 1, 3), "“B” is now 1 of 3.");
    await use("pl");
    assert.equal(STRINGS.pointsLeft(1), "Został 1 punkt do rozdzielenia");
    assert.equal(STRINGS.pointsLeft(22), "Zostały 22 punkty do rozdzielenia");
    assert.equal(STRINGS.pointsLeft(25), "Zostało 25 punktów do rozdzielenia");
    assert.equal(STRINGS.less(5, "Szkolenia"), "5 punktów mniej dla „Szkolenia”");
    assert.equal(STRINGS.pointsHint(100), "Rozdziel wszystkie 100 punktów między opcje. Daj 0 opcji, której nie chcesz finansować.");
    assert.equal(STRINGS.moveUp(), "W górę");
    assert.equal(STRINGS.reactionSent("Wolniej"), "Wolniej: wysłano.");
    assert.equal(describeKind({ kind: "ranking", options: ["A", "B", "C"] }, [2, 0, 1]), "1. C, 2. A i 3. B");
    await use("ar");
    assert.match(STRINGS.pointsLeft(2), /بقيت نقطتان/);
    assert.match(STRINGS.pointsLeft(5), /بقيت (5|٥) نقاط/, "few form");
    assert.match(STRINGS.pointsLeft(40), /بقيت (40|٤٠) نقطة/, "many form");
    assert.match(STRINGS.more(5, "X"), /^أضف (5|٥) نقاط إلى «X»$/);
    await use("en");
    assert.equal(STRINGS.pointsHint(100), "Share all 100 points across the options. Give 0 to an option you would not fund.");
  });

  it("fills placeholders, keeps an unknown one visible, and falls back to the key", async () => {
    await use("en");
    assert.equal(t("err.no_event", { code: "ABC234" }), "No event has the code ABC234. Check the code on the screen.");
    assert.equal(fill("{a} and {b}", { a: "x" }), "x and {b}");
    assert.equal(t("no.such.key"), "no.such.key");
    assert.equal(pick({ one: "a", other: "b" }, 1, new Intl.PluralRules("en")), "a");
    assert.equal(pick({ other: "b" }, 1, new Intl.PluralRules("en")), "b");
    // A language we do not have falls back to English.
    assert.equal(await use("xx"), "en");
  });
});

describe("negotiation", () => {
  it("takes the browser's first language we have, unless the person chose one here", () => {
    assert.equal(negotiate(["pl-PL", "en-GB"]), "pl");
    assert.equal(negotiate(["ur-PK", "ar-EG", "en"]), "ar");
    assert.equal(negotiate(["de-DE", "fr"]), "en");
    assert.equal(negotiate([]), "en");
    assert.equal(negotiate(["pl"], "ar"), "ar");
    assert.equal(negotiate(["pl"], "klingon"), "pl");
    const stored = new Map();
    const storage = { getItem: (k) => stored.get(k) ?? null, setItem: (k, v) => stored.set(k, v) };
    assert.equal(initial({ languages: ["en-GB", "pl"] }, storage), "en");
    remember("pl", storage);
    assert.equal(initial({ languages: ["en-GB"] }, storage), "pl");
    const refusing = { getItem() { throw new Error("SecurityError"); }, setItem() { throw new Error("SecurityError"); } };
    assert.equal(initial({ languages: ["ar"] }, refusing), "ar");
    remember("pl", refusing);
  });
});
