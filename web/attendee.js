/* Joinup attendee page: join, answer, ask, share a card, see results. This file starts it
   and joins its parts: attendee-session.js (state, server), attendee-cards.js (activities,
   results; their controls are kinds.js's), attendee-you.js (profile, answers, directory),
   attendee-qa.js; here, views, tabs, language and the offline shell.
   Every answer ends, visibly, as saved (acknowledged) or not saved with the reason, on its
   card while the activity is open and under "You" always, across reloads. */
import { pageState, attendeeSession, moderated } from "./attendee-session.js";
import { activityCards, resultsView } from "./attendee-cards.js";
import { youView, directoryView } from "./attendee-you.js";
import { qaView } from "./attendee-qa.js";
import { t, use, initial, remember, translatePage, LANGUAGES, language } from "./i18n.js";
import * as J from "./common.js";
import { setTranslate } from "./charts.js";

// The page's own words, in the person's language, before anything is shown.
await use(initial(navigator, safeStorage()));
translatePage(document);
setTranslate(t);  // the result charts (charts.js) speak the page's language too

/** localStorage, or null where the browser refuses it (a frame on another site may). */
function safeStorage() {
  try { const s = window.localStorage; s.getItem("joinup.lang"); return s; } catch (e) { return null; }
}

/** The event code of /e/CODE, however it was typed: lower case, with spaces or hyphens
 * ("/e/abc 234" is ABC234); the address then shows it as the server spells it. */
function codeFromAddress() {
  const m = /^\/e\/([^/]{1,40})\/?$/.exec(location.pathname);
  if (!m) return "";
  let raw;
  try { raw = decodeURIComponent(m[1]); } catch (e) { return ""; }
  const c = raw.replace(/[\s-]+/g, "").toUpperCase();
  if (!/^[A-Z0-9]{1,12}$/.test(c)) return "";
  if (m[1] !== c) history.replaceState(null, "", "/e/" + c + location.search + location.hash);
  return c;
}

const $ = J.$;
const s = pageState(codeFromAddress(), J.store);

const VIEWS = ["loading", "error", "ended", "profile", "app"];
/** The views and tabs. */
const page = {
  show: (name) => {
    VIEWS.forEach((v) => { $("#view-" + v).hidden = v !== name; });
  },
  showError: (text) => {
    J.setText($("#error-text"), text);
    page.show("error");
  },
  selectTab: (name) => {
    Array.prototype.forEach.call(document.querySelectorAll(".tabs button"), (b) => {
      const on = b.getAttribute("data-tab") === name;
      if (on) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
      $("#panel-" + b.getAttribute("data-tab")).hidden = !on;
    });
  }
};
$(".tabs").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-tab]");
  if (b) page.selectTab(b.getAttribute("data-tab"));
});

// Each part gets the state and this table of the others, full before anything is drawn.
const ui = { page: page };
ui.session = attendeeSession(s, ui);
ui.cards = activityCards(s, ui);
ui.results = resultsView(s);
ui.you = youView(s, ui);
ui.directory = directoryView(s, ui);
ui.qa = qaView({
  facts: () => s.facts,
  profile: () => s.profile,
  questions: () => s.questions,
  voted: s.voted,
  pendingVote: (id) => {
    let pending = false;
    s.outbox.forEach((m) => { if (m.type === "upvote" && m.question === id) pending = true; });
    return pending;
  },
  send: ui.session.send,
  ready: () => s.link.ready,
  chooseRoom: (room) => {
    const p = s.profile || {};
    ui.session.send({ type: "profile", id: J.uuid(), organisation: p.organisation || null, sector: p.sector || null, room: room });
  }
});

// The switch under "You": every language offered, by its own name. A change re-words the
// page in place (typed text stays); the choice is kept on this device.
function buildLanguageSwitch() {
  const select = $("#lang");
  LANGUAGES.forEach((l) => {
    select.appendChild(J.el("option", { value: l.code, lang: l.code, dir: l.dir, text: l.name, selected: l.code === language() }));
  });
  select.value = language();
  select.addEventListener("change", () => {
    use(select.value).then((lang) => {
      remember(lang, safeStorage());
      rewordPage();
    });
  });
}

function rewordPage() {
  translatePage(document);
  ui.qa.render();
  ui.cards.reword();
  if (s.facts) {
    J.setText($("#ask-hint"), t(moderated(s.facts) ? "qa.moderated" : "qa.unmoderated"));
    ui.you.reword();
  }
  if (s.ended) J.setText($("#ended-text"), t("ended.text"));
  ui.qa.askInput();
  ui.session.setConn();
  ui.you.renderProfile();
  ui.qa.renderQuestions();
  ui.directory.render();
  ui.you.renderLog();
  ui.cards.updateCount();
  ui.results.markAll();
}

// A service worker keeps this page and its scripts, so a reload without a network shows
// the page, its outbox and what was saved (from this phone's storage), not an error page.
function keepOffline() {
  const sw = navigator.serviceWorker;
  if (!sw || !window.isSecureContext) return;
  sw.register("/sw.js", { scope: "/e/" }).then(() => sw.ready).then((reg) => {
    const urls = [location.pathname];
    performance.getEntriesByType("resource").forEach((e) => {
      const u = new URL(e.name);
      if (u.origin === location.origin && u.pathname.indexOf("/assets/") === 0) urls.push(u.pathname + u.search);
    });
    if (reg.active) reg.active.postMessage({ type: "keep", urls: urls });
  }).catch(() => { /* no offline shell: the page works as before */ });
}

// A frame on another site may be refused this phone's storage: the page then keeps the
// token in memory only, and says what that means.
const storageRefused = safeStorage() === null;
$("#memory-only").hidden = !storageRefused;
$("#memory-only-join").hidden = !storageRefused;

// Outbox items of a previous visit keep the status line honest from the start.
buildLanguageSwitch();
ui.qa.askInput();
ui.session.setConn();
ui.you.renderLog();
ui.session.start();
keepOffline();
