// The organiser's page: sign in with the organiser key (exchanged once for an HttpOnly
// session cookie; the key is never stored), the list of events, and the editor of an
// event's programme. The server is the only validator: the form sends the spec to
// POST /api/spec/validate as it is typed in and shows its errors beside the field.
import { people } from "./organise-people.js";
import { KINDS, KIND_NAMES, blankSpec, newActivity, changeKind, slug, uniqueKey, activityKeys, getPath, setPath, fieldFor, linesToList, listToLines, cleanSpec, importRegister, toLocalInput, fromLocalInput, groupOf, phaseLabel, preview } from "./organise-model.js";

const $ = (sel, root = document) => root.querySelector(sel);

/** An element with attributes (`text` sets its text) and children. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, "");
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { status: 0, body: { message: "The server cannot be reached. Check the connection and try again." }, headers: new Headers() };
  }
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  return { status: response.status, body: parsed, headers: response.headers };
}

function say(text) { $("#status").textContent = text; }

function show(section) {
  for (const id of ["signin", "events", "editor", "people"]) $(`#${id}`).hidden = id !== section;
  $("#sign-out").hidden = section === "signin";
}

// ------------------------------------------------------------------ sign in

async function start() {
  const r = await api("GET", "/api/organiser/session");
  if (r.status === 200) await showEvents();
  else showSignin();
}

function showSignin() {
  show("signin");
  $("#key").focus();
}

$("#signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("#key");
  const error = $("#key-error");
  const key = input.value.trim();
  if (!key) return fieldError(input, error, "Enter the organiser key.");
  const r = await api("POST", "/api/organiser/session", { key });
  input.value = "";
  if (r.status === 200) {
    fieldError(input, error, "");
    await showEvents();
    say("Signed in.");
  } else {
    fieldError(input, error, r.status === 401 ? "That is not the organiser key. Check it and try again."
      : (r.body && r.body.message) || "Signing in did not work; try again.");
    input.focus();
  }
});

function fieldError(input, node, message) {
  node.textContent = message;
  node.hidden = !message;
  if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
}

$("#sign-out").addEventListener("click", async () => {
  await api("DELETE", "/api/organiser/session");
  showSignin();
  say("Signed out.");
});

// ------------------------------------------------------------------ the list

const GROUPS = [
  ["live", "Live now", "Running today, or started and not yet ended."],
  ["upcoming", "Upcoming", null],
  ["rehearsals", "Rehearsals", "Practice copies: never compared with other years and never counted in the series."],
  ["ended", "Ended", null],
];

const STATE_BADGE = {
  live: ["Live", "ok"], upcoming: ["Upcoming", "accent"], rehearsals: ["Rehearsal", "warn"], ended: ["Ended", ""],
};

function when(iso) {
  if (!iso) return "No date set";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
}

async function showEvents() {
  show("events");
  const r = await api("GET", "/api/events");
  if (r.status === 401) return showSignin();
  const lists = $("#lists");
  lists.replaceChildren();
  if (r.status !== 200) {
    lists.append(el("p", { class: "notice error", text: "The events could not be loaded. Reload the page to try again." }));
    return;
  }
  const events = r.body.events || [];
  if (!events.length) lists.append(el("p", { class: "empty", text: "No events yet. Start with New event." }));
  for (const [group, title, note] of GROUPS) {
    const mine = events.filter((e) => groupOf(e) === group);
    if (!mine.length) continue;
    const id = `group-${group}`;
    lists.append(el("section", { class: "event-group", "aria-labelledby": id },
      el("h3", { id, text: `${title} (${mine.length})` }),
      note ? el("p", { class: "muted small", text: note }) : null,
      el("ul", { class: "event-list" }, mine.map((e) => el("li", {}, eventCard(e, group))))));
  }
}

function eventCard(e, group) {
  const [badge, tone] = STATE_BADGE[group];
  const label = (what) => `${what}: ${e.title}`;
  const reports = e.reports || {};
  return el("article", { class: "card event-card", "aria-label": e.title },
    el("div", { class: "row spread" },
      el("h4", { text: e.title }),
      el("span", { class: `badge ${tone}`, text: badge })),
    el("dl", { class: "facts" },
      el("dt", { text: "Code" }), el("dd", { class: "code", text: e.code }),
      el("dt", { text: "Starts" }), el("dd", { text: when(e.starts_at) }),
      el("dt", { text: "Phase" }), el("dd", { text: phaseLabel(e) }),
      el("dt", { text: "Joined" }), el("dd", { text: `${e.joined} ${e.joined === 1 ? "person" : "people"}` }),
      e.series ? el("dt", { text: "Series" }) : null, e.series ? el("dd", { text: e.series }) : null),
    el("p", { class: "row links" },
      el("a", { href: `/e/${e.code}`, target: "_blank", rel: "noopener", "aria-label": label("Attendee page") }, "Attendee page"),
      el("a", { href: reports.html, download: `joinup-${e.code}-report.html`, "aria-label": label("Report as a web page") }, "Report"),
      el("a", { href: reports.pdf, download: `joinup-${e.code}-report.pdf`, "aria-label": label("Report as PDF") }, "PDF"),
      el("a", { href: reports.csv, download: `joinup-${e.code}-answers.csv`, "aria-label": label("Answers as CSV") }, "Answers (CSV)"),
      el("a", { href: `/e/${e.code}/privacy`, target: "_blank", rel: "noopener", "aria-label": label("Privacy notice") }, "Privacy notice"),
      el("a", { href: `/api/events/${e.code}/records.html`, download: `joinup-${e.code}-privacy-records.html`, "aria-label": label("Draft privacy records") }, "Privacy records")),
    el("div", { class: "row" },
      el("button", { type: "button", class: "btn small", "aria-label": label("Edit"), onclick: () => openEditor(e.code) }, "Edit"),
      el("button", { type: "button", class: "btn small secondary", "aria-label": label("People and links"), onclick: () => openPeople(e) }, "People and links"),
      el("button", { type: "button", class: "btn small secondary", "aria-label": label("Copy as next edition"), onclick: () => askCopy(e) }, "Copy as next edition"),
      e.rehearsal
        ? el("button", { type: "button", class: "btn small danger-outline", "aria-label": label("Reset rehearsal"), onclick: () => reset(e) }, "Reset rehearsal")
        : el("button", { type: "button", class: "btn small secondary", "aria-label": label("Rehearse"), onclick: () => rehearse(e) }, "Rehearse")));
}

/** The links of a new event, shown once: only their hashes are kept on the server. */
function showCreated(created, what) {
  const box = $("#created");
  const link = (name, url) => el("div", { class: "created-link" },
    el("dt", { text: name }),
    el("dd", {}, el("a", { href: url, target: "_blank", rel: "noopener", "data-link": name.toLowerCase() }, url)));
  box.replaceChildren(
    el("h3", { text: `${what}: code ${created.code}` }),
    el("p", { text: "Keep the host and presenter links somewhere safe now: for security they are shown only this once. Anyone with the host link can run the event." }),
    el("dl", { class: "created-links" },
      link("Attendees", created.attend_url), link("Host", created.host_url), link("Presenter", created.present_url)),
    el("button", { type: "button", class: "btn small quiet", onclick: () => { box.hidden = true; } }, "I have saved these links"));
  box.hidden = false;
  box.focus();
}

let copying = null;

function askCopy(e) {
  copying = e;
  const next = (e.title || "").replace(/\b(19|20)\d\d\b/, (y) => String(Number(y) + 1));
  $("#copy-name").value = next;
  let date = "";
  if (e.starts_at) {
    const d = new Date(e.starts_at);
    d.setFullYear(d.getFullYear() + 1);
    date = toLocalInput(d.toISOString());
  }
  $("#copy-date").value = date;
  $("#copy-dialog").showModal();
}

$("#copy-dialog").addEventListener("close", async () => {
  const dialog = $("#copy-dialog");
  if (dialog.returnValue !== "copy" || !copying) return;
  const from = copying;
  copying = null;
  const body = { title: $("#copy-name").value.trim() || from.title };
  const starts = fromLocalInput($("#copy-date").value);
  if (starts) body.starts_at = starts;
  const r = await api("POST", `/api/events/${from.code}/copy`, body);
  if (r.status === 201) {
    await showEvents();
    showCreated(r.body, `Copied into "${body.title}"`);
  } else say((r.body && r.body.message) || "The copy was not made.");
});

async function rehearse(e) {
  const r = await api("POST", `/api/events/${e.code}/rehearse`, {});
  if (r.status === 201) {
    await showEvents();
    showCreated(r.body, `Rehearsal of "${e.title}"`);
  } else say((r.body && r.body.message) || "The rehearsal was not made.");
}

async function reset(e) {
  if (!window.confirm(`Clear every answer, question and attendee of the rehearsal "${e.title}"? Phones connected to it start again.`)) return;
  const r = await api("POST", `/api/events/${e.code}/reset`, {});
  if (r.status === 200) {
    await showEvents();
    say(`The rehearsal "${e.title}" was reset: no answers, nobody joined.`);
  } else say((r.body && r.body.message) || "The rehearsal was not reset.");
}

const links = people({ api, el, say, leave: () => showEvents(), signedOut: () => showSignin() });

async function openPeople(e) {
  show("people");
  await links.open(e);
}

$("#new-event").addEventListener("click", () => openSpec(null, null, blankSpec()));
$("#back").addEventListener("click", () => showEvents());

// ------------------------------------------------------------------ the editor

// `refusal`: the server's reasons for refusing the last save (a list), shown until the next
// change.
const editing = { code: null, etag: null, spec: null, fresh: new WeakSet(), timer: 0, asked: 0, refusal: null };

async function openEditor(code) {
  const r = await api("GET", `/api/events/${code}/spec`);
  if (r.status !== 200) return say((r.body && r.body.message) || "The event could not be opened.");
  openSpec(code, r.headers.get("ETag"), r.body);
}

function openSpec(code, etag, spec) {
  editing.code = code;
  editing.etag = etag;
  editing.spec = spec;
  editing.fresh = new WeakSet();
  editing.refusal = null;
  if (!code) {
    for (const s of spec.sessions) editing.fresh.add(s);
  }
  $("#editor-title").textContent = code ? `Edit ${spec.title} (${code})` : "New event";
  $("#editor-live").hidden = !code;
  $("#save").textContent = code ? "Save changes" : "Create event";
  $("#save-state").textContent = "";
  $("#error-summary").hidden = true;
  renderForm();
  show("editor");
  $("#editor-title").setAttribute("tabindex", "-1");
  $("#editor-title").focus();
}

const idOf = (path) => `f-${path.replace(/[^a-z0-9]+/gi, "-")}`;

/** A labelled field bound to `path` in the spec. `type`: text, number, bool, lines, datetime, select, textarea. */
function field(path, label, { type = "text", hint, options, min, max } = {}) {
  const id = idOf(path);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const value = getPath(editing.spec, path);
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  let input;
  if (type === "bool") {
    input = el("input", { type: "checkbox", id, "data-path": path, "data-type": type, "aria-describedby": describedBy });
    input.checked = !!value;
    return el("div", { class: "field check" },
      el("label", { for: id }, input, ` ${label}`),
      hintId ? el("p", { class: "hint", id: hintId, text: hint }) : null,
      el("p", { class: "field-error", id: errorId, hidden: true }));
  }
  if (type === "select") {
    input = el("select", { id, "data-path": path, "data-type": type, "aria-describedby": describedBy },
      options.map(([v, text]) => el("option", { value: v, text, selected: String(value ?? "") === v })));
  } else if (type === "lines" || type === "textarea") {
    input = el("textarea", { id, "data-path": path, "data-type": type, rows: 4, "aria-describedby": describedBy });
    input.value = type === "lines" ? listToLines(value) : (value ?? "");
  } else {
    const inputType = type === "datetime" ? "datetime-local" : type;
    input = el("input", { type: inputType, id, "data-path": path, "data-type": type, min, max, "aria-describedby": describedBy });
    input.value = type === "datetime" ? toLocalInput(value) : (value ?? "");
  }
  return el("div", { class: "field" },
    el("label", { for: id, text: label }),
    hintId ? el("p", { class: "hint", id: hintId, text: hint }) : null,
    input,
    el("p", { class: "field-error", id: errorId, "data-error-for": path, hidden: true }));
}

function readInput(input) {
  switch (input.dataset.type) {
    case "bool": return input.checked;
    case "number": return input.value === "" ? undefined : Number(input.value);
    case "lines": return linesToList(input.value);
    case "datetime": return fromLocalInput(input.value) || undefined;
    default: return input.value;
  }
}

function renderForm() {
  const spec = editing.spec;
  editing.refusal = null;
  const form = $("#spec-form");
  const keep = document.activeElement && document.activeElement.id;
  form.replaceChildren(
    el("fieldset", { class: "card" },
      el("legend", { text: "About the event" }),
      field("title", "Title"),
      field("series", "Series", { hint: "The same name every year, so each edition is compared with the one before. Leave empty for a one-off event." }),
      field("starts_at", "Starts", { type: "datetime" }),
      el("div", { class: "grid-2" },
        field("opens_at", "Questions open from", { type: "datetime", hint: "Optional: from then until the start, people can send questions and answer the activities marked 'before the event'. Needs a start." }),
        field("closes_at", "Evaluation open until", { type: "datetime", hint: "Optional: when the live part ends, the activities marked 'after the event' stay open until then." })),
      field("organiser", "Organised by", { hint: "The organisation responsible for the event and its data, named in the attendees' privacy notice." }),
      field("contact", "Contact for questions about data", { hint: "An email address, phone number or web page, shown in the privacy notice." })),
    el("fieldset", { class: "card" },
      el("legend", { text: "Privacy, questions and directory" }),
      field("min_group_size", "Smallest group shown", { type: "number", min: 3, max: 1000, hint: "No result is shown for a group of fewer people than this, so nobody can be picked out. 5 or more is usual." }),
      field("qa.enabled", "Attendees may ask questions", { type: "bool" }),
      field("qa.scope", "Questions are asked", { type: "select", options: [["session", "in each session (and for the event as a whole)"], ["event", "for the whole event, in one list"]] }),
      field("qa.moderation", "Questions appear", { type: "select", options: [["pre", "after a host approves them"], ["post", "at once; a host can hide them"], ["none", "at once, unmoderated"]] }),
      field("directory.enabled", "Attendees may share a contact card in the directory", { type: "bool" }),
      field("allow_other_organisation", "Attendees may type an organisation that is not listed", { type: "bool" })),
    el("fieldset", { class: "card" },
      el("legend", { text: "Programme" }),
      spec.sessions.map((s, si) => sessionBlock(s, si)),
      el("button", { type: "button", class: "btn secondary", onclick: addSession }, "Add a session")),
    organisationsBlock());
  if (keep && document.getElementById(keep)) document.getElementById(keep).focus();
  scheduleValidate(0);
}

function sessionBlock(session, si) {
  const base = `sessions[${si}]`;
  const headingId = `session-${si}-title`;
  return el("section", { class: "session-edit", "aria-labelledby": headingId },
    el("h3", { id: headingId, text: `Session ${si + 1}: ${session.title || "untitled"}` }),
    el("div", { class: "grid-2" },
      field(`${base}.title`, "Session title"),
      field(`${base}.room`, "Room", { hint: "For a break-out: only attendees who choose this room see its activities. Empty for everyone." })),
    el("p", { class: "field-error", id: `${idOf(`${base}.key`)}-error`, "data-error-for": `${base}.key`, hidden: true }),
    el("p", { class: "field-error", id: `${idOf(`${base}.activities`)}-error`, "data-error-for": `${base}.activities`, hidden: true }),
    (session.activities || []).map((a, ai) => activityBlock(a, si, ai)),
    el("div", { class: "row add-activity" },
      el("label", { for: `add-kind-${si}`, class: "inline", text: "New activity" }),
      el("select", { id: `add-kind-${si}` }, KINDS.map((k) => el("option", { value: k, text: KIND_NAMES[k] }))),
      el("button", { type: "button", class: "btn small secondary", onclick: () => addActivity(si, $(`#add-kind-${si}`).value) }, "Add at the end of this session")),
    el("button", { type: "button", class: "btn small danger-outline", onclick: () => removeItem(`sessions[${si}]`, `session "${session.title}"`) }, `Remove session ${si + 1}`));
}

function activityBlock(a, si, ai) {
  const base = `sessions[${si}].activities[${ai}]`;
  const kindFields = {
    choice: () => [
      field(`${base}.options`, "Options, one a line", { type: "lines", hint: "Answers are kept by position: once people have answered, add new options at the end." }),
      field(`${base}.multiple`, "People may choose several", { type: "bool" }),
      a.multiple ? field(`${base}.max_choices`, "At most this many", { type: "number", min: 1 }) : null,
    ],
    scale: () => [
      el("div", { class: "grid-2" }, field(`${base}.min`, "Lowest", { type: "number" }), field(`${base}.max`, "Highest", { type: "number" })),
      el("div", { class: "grid-2" }, field(`${base}.labels.min`, "Label for the lowest"), field(`${base}.labels.max`, "Label for the highest")),
      el("div", { class: "grid-2" },
        field(`${base}.pair`, "Before-and-after topic", { hint: "Give the same topic to a 'before' and an 'after' scale to compare them in the report." }),
        field(`${base}.phase`, "Asked", { type: "select", options: [["", "on its own"], ["pre", "before (pre)"], ["post", "after (post)"]] })),
    ],
    words: () => [field(`${base}.max_words`, "Words each person may give", { type: "number", min: 1, max: 5 })],
    text: () => [field(`${base}.max_len`, "Longest answer, in characters", { type: "number", min: 1, max: 1000 })],
    pledge: () => [field(`${base}.text`, "Pledge text", { type: "textarea" })],
    ranking: () => [
      field(`${base}.options`, "Options to put in order, one a line", { type: "lines", hint: "2 to 10 options. Once people have answered, the options cannot change." }),
    ],
    points: () => [
      field(`${base}.options`, "Options to share points across, one a line", { type: "lines", hint: "2 to 10 options. Once people have answered, the options and the points cannot change." }),
      field(`${base}.budget`, "Points each person shares out", { type: "number", min: 10, max: 1000 }),
    ],
  };
  const kindId = idOf(`${base}.kind`);
  return el("div", { class: "activity-edit", "data-activity": base },
    el("div", { class: "activity-fields" },
      el("div", { class: "field" },
        el("label", { for: kindId, text: `Activity ${ai + 1}: kind` }),
        el("select", { id: kindId, "data-kind": base, "aria-describedby": `${kindId}-error` },
          KINDS.map((k) => el("option", { value: k, text: KIND_NAMES[k], selected: a.kind === k }))),
        el("p", { class: "field-error", id: `${kindId}-error`, "data-error-for": `${base}.kind`, hidden: true })),
      field(`${base}.prompt`, "Question or instruction", { type: "textarea" }),
      (kindFields[a.kind] || (() => []))(),
      field(`${base}.window`, "Opens", { type: "select", options: [["", "when a host opens it, on the day"], ["before", "by itself before the event (from 'Questions open from')"], ["after", "by itself when the live part ends (until 'Evaluation open until')"]] }),
      el("p", { class: "field-error", id: `${idOf(`${base}.key`)}-error`, "data-error-for": `${base}.key`, hidden: true }),
      el("p", { class: "field-error", id: `${idOf(base)}-error`, "data-error-for": base, hidden: true }),
      el("button", { type: "button", class: "btn small quiet", onclick: () => removeItem(base, `activity "${a.prompt || a.key}"`) }, `Remove activity ${ai + 1}`)),
    el("figure", { class: "phone-preview", "data-preview": base }, phonePreview(a)));
}

function phonePreview(a) {
  const p = preview(a);
  const body = [el("p", { class: "pv-prompt", text: p.prompt })];
  if (p.hint) body.push(el("p", { class: "pv-hint", text: p.hint }));
  if (p.options) body.push(el("ul", { class: "pv-options" }, p.options.map((o) => el("li", { text: o }))));
  if (p.points) {
    body.push(el("ul", { class: "pv-scale" }, p.points.map((n) => el("li", { text: String(n) }))));
    if (p.labels.min || p.labels.max) body.push(el("p", { class: "pv-ends" }, el("span", { text: p.labels.min }), el("span", { text: p.labels.max })));
  }
  if (p.boxes) for (let i = 0; i < p.boxes; i++) body.push(el("p", { class: "pv-box", text: "A word" }));
  if (a.kind === "text") body.push(el("p", { class: "pv-box tall", text: "Your answer" }));
  if (a.kind === "pledge") body.push(el("blockquote", { class: "pv-pledge", text: p.text || "(no pledge text yet)" }), el("p", { class: "pv-button", text: "I pledge" }));
  return [el("figcaption", { text: "On a phone" }), el("div", { class: "pv-screen" }, body)];
}

function organisationsBlock() {
  const spec = editing.spec;
  const orgs = spec.organisations || [];
  return el("fieldset", { class: "card" },
    el("legend", { text: "Organisations and sectors" }),
    el("p", { class: "muted", text: "Attendees choose their organisation from this register; results are broken down by sector." }),
    field("sectors", "Sectors, one a line", { type: "lines" }),
    el("h3", { text: `Organisations (${orgs.length})` }),
    orgs.length ? el("table", { class: "org-table" },
      el("caption", { class: "sr-only", text: "Organisations in the register" }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Name" }), el("th", { scope: "col", text: "Sector" }), el("th", { scope: "col" }, el("span", { class: "sr-only", text: "Remove" })))),
      el("tbody", {}, orgs.map((o, i) => el("tr", {},
        el("td", {}, orgInput(`organisations[${i}].name`, `Name of organisation ${i + 1}`)),
        el("td", {}, orgInput(`organisations[${i}].sector`, `Sector of ${o.name || `organisation ${i + 1}`}`)),
        el("td", {}, el("button", { type: "button", class: "btn small quiet", "aria-label": `Remove ${o.name || `organisation ${i + 1}`}`, onclick: () => removeItem(`organisations[${i}]`, o.name) }, "Remove"))))))
      : el("p", { class: "empty", text: "No organisations yet." }),
    el("div", { class: "field" },
      el("label", { for: "csv-text", text: "Add organisations from a spreadsheet" }),
      el("p", { class: "hint", id: "csv-hint", text: "Paste two columns, name then sector (a CSV saved from Excel works), or upload the file. Names already listed are left as they are; new sectors are added." }),
      el("textarea", { id: "csv-text", rows: 4, "aria-describedby": "csv-hint" }),
      el("div", { class: "row" },
        el("button", { type: "button", class: "btn small secondary", onclick: () => addRegister($("#csv-text").value) }, "Add pasted organisations"),
        el("label", { for: "csv-file", class: "btn small secondary file-button" }, "Upload a CSV file"),
        el("input", { type: "file", id: "csv-file", accept: ".csv,text/csv,text/plain", class: "sr-only", onchange: uploadRegister }))),
    el("p", { id: "csv-report", role: "status", class: "muted" }));
}

function orgInput(path, label) {
  const id = idOf(path);
  const input = el("input", { type: "text", id, "data-path": path, "data-type": "text", "aria-label": label, "aria-describedby": `${id}-error` });
  input.value = getPath(editing.spec, path) ?? "";
  return [input, el("p", { class: "field-error", id: `${id}-error`, "data-error-for": path, hidden: true })];
}

function addRegister(text) {
  const { spec, report } = importRegister(editing.spec, text);
  editing.spec = spec;
  renderForm();
  const parts = [`${report.added.length} organisation${report.added.length === 1 ? "" : "s"} added`];
  if (report.newSectors.length) parts.push(`new sector${report.newSectors.length === 1 ? "" : "s"}: ${report.newSectors.join(", ")}`);
  if (report.skipped.length) parts.push(`${report.skipped.length} already listed`);
  if (report.problems.length) parts.push(`not added: ${report.problems.join("; ")}`);
  $("#csv-report").textContent = `${parts.join("; ")}.`;
}

async function uploadRegister(e) {
  const file = e.target.files && e.target.files[0];
  if (!file) return;
  if (file.size > 1024 * 1024) { $("#csv-report").textContent = "That file is larger than 1 MB; a register is usually a few KB."; return; }
  addRegister(await file.text());
}

function addSession() {
  const spec = editing.spec;
  const key = uniqueKey("session", spec.sessions.map((s) => s.key));
  const session = { key, title: "", activities: [] };
  editing.fresh.add(session);
  spec.sessions.push(session);
  renderForm();
  document.getElementById(idOf(`sessions[${spec.sessions.length - 1}].title`)).focus();
}

function addActivity(si, kind) {
  const spec = editing.spec;
  const activity = newActivity(kind, uniqueKey(kind, activityKeys(spec)));
  editing.fresh.add(activity);
  spec.sessions[si].activities = spec.sessions[si].activities || [];
  spec.sessions[si].activities.push(activity);
  renderForm();
  document.getElementById(idOf(`sessions[${si}].activities[${spec.sessions[si].activities.length - 1}].prompt`)).focus();
}

function removeItem(path, what) {
  if (!window.confirm(`Remove ${what}?`)) return;
  setPath(editing.spec, path, undefined);
  renderForm();
}

$("#spec-form").addEventListener("input", (e) => {
  const input = e.target;
  const path = input.dataset && input.dataset.path;
  if (!path) return;
  setPath(editing.spec, path, readInput(input));
  editing.refusal = null;
  // A new session or activity takes its key from its title or prompt.
  const m = /^(sessions\[\d+\](?:\.activities\[\d+\])?)\.(title|prompt)$/.exec(path);
  if (m) {
    const item = getPath(editing.spec, m[1]);
    if (item && editing.fresh.has(item) && input.value.trim()) {
      const taken = m[1].includes("activities")
        ? activityKeys(editing.spec).filter((k) => k !== item.key)
        : editing.spec.sessions.filter((s) => s !== item).map((s) => s.key);
      item.key = uniqueKey(slug(input.value.split(/\s+/).slice(0, 5).join(" ")), taken);
    }
  }
  const act = input.closest("[data-activity]");
  if (act) {
    const frame = act.querySelector("[data-preview]");
    frame.replaceChildren(...phonePreview(getPath(editing.spec, act.dataset.activity)));
  }
  scheduleValidate(400);
});

$("#spec-form").addEventListener("change", (e) => {
  const input = e.target;
  if (input.dataset && input.dataset.kind) {
    const path = input.dataset.kind;
    const old = getPath(editing.spec, path);
    const next = changeKind(old, input.value);
    if (editing.fresh.has(old)) editing.fresh.add(next);
    setPath(editing.spec, path, next);
    renderForm();
    document.getElementById(idOf(`${path}.kind`)).focus();
  } else if (input.dataset && (input.dataset.path || "").endsWith(".multiple")) {
    renderForm();
  }
});

// ------------------------------------------------------------------ errors and saving

function scheduleValidate(delay) {
  clearTimeout(editing.timer);
  editing.timer = setTimeout(validate, delay);
}

async function validate() {
  const asked = ++editing.asked;
  const r = await api("POST", "/api/spec/validate", cleanSpec(editing.spec));
  if (asked !== editing.asked || r.status !== 200) return;
  const errors = r.body.errors || [];
  showErrors(editing.refusal ? [...errors, ...editing.refusal] : errors, !!editing.refusal);
}

/** Shows each error beside its field, and, when `summary`, in the list at the top too. */
function showErrors(errors, summary) {
  const form = $("#spec-form");
  for (const node of form.querySelectorAll(".field-error")) { node.hidden = true; node.textContent = ""; }
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const slots = Array.from(form.querySelectorAll("[data-error-for]")).map((n) => n.dataset.errorFor);
  const box = $("#error-summary");
  const items = [];
  for (const e of errors) {
    const where = fieldFor(e.path, slots);
    const message = humanise(e);
    const input = where ? document.getElementById(idOf(where)) : null;
    if (where) {
      const node = document.getElementById(`${idOf(where)}-error`);
      // Several errors may belong to one field (two options of one list).
      if (node) { node.textContent = node.textContent ? `${node.textContent} ${message}` : message; node.hidden = false; }
      if (input) input.setAttribute("aria-invalid", "true");
    }
    items.push(el("li", {}, input ? el("a", { href: `#${input.id}`, text: message }) : message));
  }
  if (summary && items.length) {
    box.replaceChildren(el("h3", { text: "This cannot be saved yet" }), el("ul", {}, items));
    box.hidden = false;
    box.focus();
  } else if (!items.length) box.hidden = true;
}

/** The server's message, with the path put the way the form names things. */
function humanise(e) {
  const m = /^sessions\[(\d+)\](?:\.activities\[(\d+)\])?/.exec(e.path || "");
  if (!m) return e.message;
  const where = m[2] !== undefined ? `Session ${Number(m[1]) + 1}, activity ${Number(m[2]) + 1}` : `Session ${Number(m[1]) + 1}`;
  return `${where}: ${e.message}`;
}

$("#save").addEventListener("click", save);

async function save() {
  clearTimeout(editing.timer);
  editing.asked++;
  const spec = cleanSpec(editing.spec);
  const state = $("#save-state");
  state.textContent = "Saving…";
  if (!editing.code) {
    const r = await api("POST", "/api/events", spec);
    if (r.status === 201) {
      await showEvents();
      showCreated(r.body, `Created "${spec.title}"`);
      return;
    }
    return refused(r);
  }
  const r = await api("PUT", `/api/events/${editing.code}/spec`, spec, { "If-Match": editing.etag || "" });
  if (r.status === 200) {
    editing.etag = r.body.etag;
    $("#error-summary").hidden = true;
    state.textContent = r.body.changed
      ? `Saved at ${new Date().toLocaleTimeString()}. Phones, hosts and presenters connected to this event now have the change.`
      : "Nothing had changed.";
    return;
  }
  refused(r);
}

/** Every error of a refusal: its `errors`, or (an older server) its one `path` and `message`. */
function refusals(body) {
  if (Array.isArray(body.errors) && body.errors.length) return body.errors;
  const prefix = `${body.path}: `;
  const message = String(body.message || "");
  return [{ path: body.path, message: message.startsWith(prefix) ? message.slice(prefix.length) : message }];
}

function refused(r) {
  const state = $("#save-state");
  if (r.status === 412) {
    state.textContent = "";
    const box = $("#error-summary");
    box.replaceChildren(
      el("h3", { text: "Someone else changed this event" }),
      el("p", { text: "Another organiser saved a change since you opened it. Your changes were not saved, so theirs are not lost. Load their version, then make your change again." }),
      el("button", { type: "button", class: "btn small", onclick: () => openEditor(editing.code) }, "Load the latest version"));
    box.hidden = false;
    box.focus();
    return;
  }
  if (r.status === 401) { state.textContent = "You have been signed out. Sign in again; your changes here are not saved."; return; }
  if (r.body && typeof r.body.path === "string") {
    state.textContent = r.status === 409 ? "Not saved: this change would alter answers already given." : "Not saved: something needs fixing.";
    const errors = refusals(r.body);
    // A refused edit stays on show while the form is validated again; invalid fields are
    // shown by the validation itself.
    editing.refusal = r.status === 409 ? errors : null;
    showErrors(errors, true);
    return;
  }
  state.textContent = (r.body && r.body.message) || "Not saved; try again.";
}

start();
