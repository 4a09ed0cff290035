/* Joinup's words on the attendee page, in the person's language.
   Catalogues live in i18n/CODE.js, one ES module each, a flat table of key -> text. A text
   may hold {name} placeholders; a text that depends on a number is a table of plural
   categories (Intl.PluralRules: zero, one, two, few, many, other) chosen by the number in
   {n}. English is complete by definition; every other catalogue has exactly its keys (a unit
   test checks). The organiser's own text (titles, prompts, options) is never translated.
   Nothing here touches the DOM at import, so Node's tests import it as it is. */
import en from "./i18n/en.js";

/** The languages offered, in the order of the switch: code, own name, writing direction. */
export const LANGUAGES = [
  { code: "en", name: "English", dir: "ltr" },
  { code: "pl", name: "Polski", dir: "ltr" },
  { code: "ar", name: "العربية", dir: "rtl" }
];

export const FALLBACK = "en";
const STORE_KEY = "joinup.lang";

let current = FALLBACK;
let table = en;
let rules = new Intl.PluralRules(FALLBACK);

function known(code) { return LANGUAGES.some(function (l) { return l.code === code; }); }

/** The first of `preferred` (BCP 47 tags, best first) we have, by its primary language
 * ("pl-PL" -> "pl"); English when none. A `stored` choice of ours wins over the browser. */
export function negotiate(preferred, stored) {
  if (stored && known(stored)) return stored;
  const list = Array.isArray(preferred) ? preferred : [];
  for (const tag of list) {
    const primary = String(tag || "").toLowerCase().split("-")[0];
    if (known(primary)) return primary;
  }
  return FALLBACK;
}

/** Loads `code`'s catalogue (English if it fails) and makes it the current one. */
export async function use(code) {
  const lang = known(code) ? code : FALLBACK;
  let next = en;
  if (lang !== FALLBACK) {
    try { next = (await import("./i18n/" + lang + ".js")).default; }
    catch (e) { return use(FALLBACK); }
  }
  current = lang;
  table = next;
  rules = new Intl.PluralRules(lang);
  return lang;
}

export function language() { return current; }
export function direction() {
  const l = LANGUAGES.filter(function (x) { return x.code === current; })[0];
  return l ? l.dir : "ltr";
}

/** `text` with each {name} replaced by vars[name] (numbers in the language's digits and
 * separators); a placeholder with no value stays as written, so a gap is visible. */
export function fill(text, vars) {
  return text.replace(/\{([a-z_]+)\}/g, function (all, name) {
    if (!vars || !Object.prototype.hasOwnProperty.call(vars, name)) return all;
    const v = vars[name];
    return typeof v === "number" ? new Intl.NumberFormat(current).format(v) : String(v);
  });
}

/** The form of a plural table for `n`: its category, else "other". */
export function pick(forms, n, pluralRules) {
  const cat = (pluralRules || rules).select(n);
  return Object.prototype.hasOwnProperty.call(forms, cat) ? forms[cat] : forms.other;
}

/** The text of `key` in the current language (English where the catalogue lacks it, the key
 * itself where English does too), filled with `vars`; `vars.n` chooses a plural form. */
export function t(key, vars) {
  let entry = Object.prototype.hasOwnProperty.call(table, key) ? table[key]
    : Object.prototype.hasOwnProperty.call(en, key) ? en[key] : key;
  if (entry && typeof entry === "object") entry = pick(entry, vars && typeof vars.n === "number" ? vars.n : 0);
  return fill(entry, vars);
}

/** The language to start in: the one chosen on this device, else the browser's. */
export function initial(nav, storage) {
  let stored = null;
  try { stored = storage && storage.getItem(STORE_KEY); } catch (e) { stored = null; }
  return negotiate((nav && (nav.languages || [nav.language])) || [], stored);
}

/** Remembers the person's choice on this device (nothing if storage is refused). */
export function remember(code, storage) {
  try { if (storage) storage.setItem(STORE_KEY, code); } catch (e) { /* this visit only */ }
}

/** Puts the page's own words into the current language: `data-i18n="key"` sets the text,
 * `data-i18n-attr="attr:key attr:key"` sets attributes (aria-label, placeholder…); <html>
 * gets `lang` and `dir`. */
export function translatePage(doc) {
  const root = doc.documentElement;
  root.setAttribute("lang", current);
  root.setAttribute("dir", direction());
  doc.querySelectorAll("[data-i18n]").forEach(function (node) {
    const text = t(node.getAttribute("data-i18n"));
    if (node.textContent !== text) node.textContent = text;
  });
  doc.querySelectorAll("[data-i18n-attr]").forEach(function (node) {
    node.getAttribute("data-i18n-attr").split(/\s+/).forEach(function (pair) {
      const at = pair.indexOf(":");
      if (at > 0) node.setAttribute(pair.slice(0, at), t(pair.slice(at + 1)));
    });
  });
}
