/* The host's page for the report's themes: rename a theme, or merge themes by giving them
   one name, over GET/PUT /api/events/{code}/themes. The host token comes from the URL
   fragment, as on the host dashboard. The pure parts are exported for node:test. */

/** The PUT body from the form's rows ({id, default_name, value}): a name only where it is
 * not blank and not the default (a blank field keeps the default). */
export function namesBody(rows) {
  const names = {};
  for (const r of rows) {
    const v = (r.value || "").trim();
    if (v && v !== r.default_name) names[r.id] = v;
  }
  return { names };
}

/** What each set of themes says, one line per theme: "Money: 6 of 12". */
export function setLines(set) {
  if (!set.total) return ["No approved texts yet"];
  if (set.withheld) {
    return [`${set.total} ${set.total === 1 ? "text" : "texts"}: too few to group into themes safely`];
  }
  return set.themes.map((t) => `${t.name}: ${t.count} of ${set.total}`);
}

/** The event code in /host/{code}/themes. */
export function codeFromPath(path) {
  const m = /^\/host\/([^/]+)\/themes\/?$/.exec(path);
  return m ? decodeURIComponent(m[1]) : "";
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

function render(data) {
  const rows = document.getElementById("theme-rows");
  rows.replaceChildren();
  for (const t of data.themes) {
    const id = `name-${t.id}`;
    const input = el("input", { id, type: "text", value: t.name, maxLength: 80, autocomplete: "off" });
    input.dataset.id = t.id;
    input.dataset.default = t.default_name;
    rows.append(el("tr", {},
      el("td", {}, el("label", { htmlFor: id, textContent: t.default_name })),
      el("td", {}, input)));
  }
  const sets = document.getElementById("theme-sets");
  sets.replaceChildren();
  for (const s of data.sets) {
    sets.append(el("h3", { textContent: s.prompt }));
    sets.append(el("ul", {}, ...setLines(s).map((l) => el("li", { textContent: l }))));
  }
  if (!data.sets.length) sets.append(el("p", { textContent: "No open-text answers or questions yet." }));
  if (data.purged) {
    showError("The raw answers were deleted: the report's themes are final and names no longer change them.");
  }
}

function showError(message) {
  const box = document.getElementById("themes-error");
  box.textContent = message;
  box.hidden = !message;
}

async function main() {
  const code = codeFromPath(location.pathname);
  const token = (location.hash || "").replace(/^#/, "").trim();
  document.getElementById("event-code").textContent = code;
  if (!code || !/^[A-Za-z0-9]{16,128}$/.test(token)) {
    showError("Open this page from the host dashboard: its link carries the host token.");
    return;
  }
  const url = `/api/events/${encodeURIComponent(code)}/themes`;
  const headers = { Authorization: `Bearer ${token}` };
  const status = document.getElementById("themes-status");
  const load = async (response) => {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(body.message || `The server answered ${response.status}.`);
      return false;
    }
    showError("");
    render(body);
    return true;
  };
  await load(await fetch(url, { headers, cache: "no-store" }));
  document.getElementById("theme-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "Saving…";
    const rows = [...document.querySelectorAll("#theme-rows input")].map((i) => ({
      id: i.dataset.id, default_name: i.dataset.default, value: i.value,
    }));
    const response = await fetch(url, {
      method: "PUT",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify(namesBody(rows)),
    }).catch(() => null);
    if (!response) {
      status.textContent = "";
      showError("The server could not be reached: nothing was saved.");
      return;
    }
    status.textContent = (await load(response)) ? "Saved. The next report uses these names." : "";
  });
}

if (typeof document !== "undefined") main();
