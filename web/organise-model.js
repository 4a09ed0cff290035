// The organiser page's pure logic: the spec as the form edits it, paths to its fields, the
// organisations register from CSV, and what each activity looks like on a phone. No DOM, no
// network: tests/browser/organise-model.test.mjs runs it under Node.

export const KINDS = ["choice", "scale", "words", "text", "pledge", "ranking", "points"];

export const KIND_NAMES = {
  choice: "Multiple choice",
  scale: "Rating scale",
  words: "Word cloud",
  text: "Open text",
  pledge: "Pledge",
  ranking: "Ranking",
  points: "Share out points",
};

/** The fields each kind of activity has besides key, kind and prompt. */
const KIND_FIELDS = {
  choice: ["options", "multiple", "max_choices"],
  scale: ["min", "max", "labels", "pair", "phase"],
  words: ["max_words"],
  text: ["max_len"],
  pledge: ["text"],
  ranking: ["options"],
  points: ["options", "budget"],
};

/** The fields every kind of activity may have: when it opens by itself, before or after the day. */
const COMMON_FIELDS = ["window"];

/** A new event's spec: one session, nothing else; the server fills in the defaults. */
export function blankSpec() {
  return {
    title: "",
    sectors: [],
    organisations: [],
    sessions: [{ key: "welcome", title: "Welcome", activities: [] }],
  };
}

/** A new activity of `kind` with sensible starting values. */
export function newActivity(kind, key) {
  const base = { key, kind, prompt: "" };
  switch (kind) {
    case "choice": return { ...base, options: ["", ""] };
    case "scale": return { ...base, min: 1, max: 5 };
    case "words": return { ...base, max_words: 1 };
    case "text": return { ...base, max_len: 280 };
    case "pledge": return { ...base, text: "" };
    case "ranking": return { ...base, options: ["", ""] };
    case "points": return { ...base, options: ["", ""], budget: 100 };
    default: throw new Error(`unknown kind ${kind}`);
  }
}

/** The activity as another kind: its key and prompt kept, the new kind's fields fresh. */
export function changeKind(activity, kind) {
  return { ...newActivity(kind, activity.key), prompt: activity.prompt };
}

/** A key (a-z, 0-9, '-', at most 40) from a title: "Break-out: Room B" -> "break-out-room-b". */
export function slug(text) {
  const s = String(text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
  return s || "item";
}

/** `base`, or `base-2`, `base-3`... whichever is not in `taken`. */
export function uniqueKey(base, taken) {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const key = base.slice(0, 40 - suffix.length) + suffix;
    if (!used.has(key)) return key;
  }
}

/** Every activity key in the spec. */
export function activityKeys(spec) {
  return (spec.sessions || []).flatMap((s) => (s.activities || []).map((a) => a.key));
}

/** `sessions[2].activities[0].options` -> ["sessions", 2, "activities", 0, "options"]. */
export function parsePath(path) {
  const parts = [];
  for (const piece of String(path).split(".")) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(piece);
    if (!m) return null;
    if (m[1]) parts.push(m[1]);
    for (const i of m[2].matchAll(/\[(\d+)\]/g)) parts.push(Number(i[1]));
  }
  return parts;
}

export function getPath(obj, path) {
  const parts = parsePath(path) || [];
  let at = obj;
  for (const p of parts) {
    if (at == null) return undefined;
    at = at[p];
  }
  return at;
}

/** Sets the field at `path`, making the objects on the way; `undefined` deletes it. */
export function setPath(obj, path, value) {
  const parts = parsePath(path);
  if (!parts || !parts.length) return obj;
  let at = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    if (at[parts[i]] == null || typeof at[parts[i]] !== "object") {
      at[parts[i]] = typeof parts[i + 1] === "number" ? [] : {};
    }
    at = at[parts[i]];
  }
  const last = parts[parts.length - 1];
  if (value === undefined) {
    if (Array.isArray(at)) at.splice(last, 1); else delete at[last];
  } else at[last] = value;
  return obj;
}

/**
 * The form field an error's path belongs to: the longest prefix of `path` among `fields`
 * (an error on `options[2]` shows beside the options box); `null` when none is.
 */
export function fieldFor(path, fields) {
  const have = new Set(fields);
  let p = String(path || "");
  while (p) {
    if (have.has(p)) return p;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) break;
    p = p.slice(0, cut);
  }
  return null;
}

/** Text in a box, one item a line, as a list: blank lines dropped, spaces trimmed. */
export function linesToList(text) {
  return String(text || "").split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}

export function listToLines(list) {
  return (list || []).join("\n");
}

/**
 * The spec as the server is sent it: empty optional fields left out (a blank room, series,
 * start or label means none), and each activity holding only its own kind's fields.
 */
export function cleanSpec(spec) {
  const out = structuredClone(spec);
  for (const field of ["series", "starts_at", "opens_at", "closes_at", "organiser", "contact"]) {
    if (out[field] == null || String(out[field]).trim() === "") delete out[field];
  }
  for (const session of out.sessions || []) {
    if (session.room == null || String(session.room).trim() === "") delete session.room;
    session.activities = (session.activities || []).map((a) => {
      const kept = { key: a.key, kind: a.kind, prompt: a.prompt };
      for (const f of (KIND_FIELDS[a.kind] || []).concat(COMMON_FIELDS)) {
        if (a[f] !== undefined && a[f] !== null && a[f] !== "") kept[f] = a[f];
      }
      if (kept.labels) {
        const labels = {};
        for (const end of ["min", "max"]) {
          if (kept.labels[end] && String(kept.labels[end]).trim()) labels[end] = kept.labels[end];
        }
        if (Object.keys(labels).length) kept.labels = labels; else delete kept.labels;
      }
      if (kept.kind === "choice" && !kept.multiple) {
        delete kept.max_choices;
        if (kept.multiple === false) delete kept.multiple;
      }
      if (kept.kind === "scale" && !kept.pair) { delete kept.pair; delete kept.phase; }
      return kept;
    });
  }
  return out;
}

// ------------------------------------------------------------------ CSV

/** RFC 4180 CSV (quotes, doubled quotes, commas and newlines in quotes; CRLF or LF). */
export function parseCsv(text) {
  const rows = [];
  let row = [], field = "", quoted = false;
  const s = String(text || "").replace(/^\uFEFF/, "");
  // Spreadsheets set to some languages save with semicolons.
  const sep = s.includes(",") || !s.includes(";") ? "," : ";";
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '"') {
        if (s[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === sep) { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && s[i + 1] === "\n") i++;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows.map((r) => r.map((f) => f.trim())).filter((r) => r.some((f) => f !== ""));
}

const fold = (s) => String(s).trim().replace(/\s+/g, " ").toLowerCase();

/**
 * Adds the organisations of a CSV register (name, sector; a header row is recognised and
 * skipped) to `spec`'s organisations and sectors. A name already listed is left as it is;
 * a sector not yet listed is added. Returns what happened, line by line, for the page to say.
 */
export function importRegister(spec, text) {
  const rows = parseCsv(text);
  const organisations = [...(spec.organisations || [])];
  const sectors = [...(spec.sectors || [])];
  const names = new Set(organisations.map((o) => fold(o.name)));
  const sectorBy = new Map(sectors.map((s) => [fold(s), s]));
  const report = { added: [], skipped: [], problems: [], newSectors: [] };
  rows.forEach((cols, i) => {
    const line = i + 1;
    if (i === 0 && /^(organi[sz]ation|name)$/i.test(cols[0] || "") && /^sector$/i.test(cols[1] || "")) return;
    const [name = "", sector = ""] = cols;
    if (!name) { report.problems.push(`line ${line}: no organisation name`); return; }
    if (!sector) { report.problems.push(`line ${line}: ${name} has no sector`); return; }
    if (names.has(fold(name))) { report.skipped.push(name); return; }
    let spelled = sectorBy.get(fold(sector));
    if (!spelled) {
      spelled = sector;
      sectors.push(sector);
      sectorBy.set(fold(sector), sector);
      report.newSectors.push(sector);
    }
    organisations.push({ name, sector: spelled });
    names.add(fold(name));
    report.added.push(name);
  });
  return { spec: { ...spec, organisations, sectors }, report };
}

// ------------------------------------------------------------------ dates

/** An RFC 3339 instant as a `datetime-local` value in this browser's time zone. */
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A `datetime-local` value (this browser's time zone) as RFC 3339 UTC; "" for none. */
export function fromLocalInput(value) {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return "";
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ------------------------------------------------------------------ the list

/** Which group of the organiser's list an event belongs in. */
export function groupOf(event) {
  if (event.rehearsal) return "rehearsals";
  if (event.state === "ended") return "ended";
  if (event.upcoming) return "upcoming";
  return "live";
}

/**
 * The event's phase in words (docs/protocol.md, "Phases"); a server without phases sends
 * only `state`.
 */
export function phaseLabel(event) {
  switch (event.phase) {
    case "before": return "Before the day: taking questions in advance";
    case "live": return "During the day";
    case "after": return "After the day: the evaluation is open";
    case "closed": return "Closed";
    default: return event.state === "ended" ? "Closed" : "During the day";
  }
}

// ------------------------------------------------------------------ preview

/**
 * What a phone shows for an activity, as plain data the page renders: the prompt, then
 * its choices, scale points, word boxes, text box or pledge.
 */
export function preview(activity) {
  const a = activity || {};
  const out = { prompt: a.prompt || "(no question yet)", kind: a.kind };
  switch (a.kind) {
    case "choice":
      out.options = (a.options || []).filter((o) => String(o).trim());
      out.hint = a.multiple
        ? (a.max_choices ? `Choose up to ${a.max_choices}` : "Choose all that apply")
        : "Choose one";
      break;
    case "scale": {
      const min = Number(a.min), max = Number(a.max);
      out.points = Number.isInteger(min) && Number.isInteger(max) && max > min && max - min <= 10
        ? Array.from({ length: max - min + 1 }, (_, i) => min + i) : [];
      out.labels = { min: a.labels?.min || "", max: a.labels?.max || "" };
      break;
    }
    case "words":
      out.boxes = Math.max(1, Math.min(5, Number(a.max_words) || 1));
      out.hint = out.boxes === 1 ? "One word" : `Up to ${out.boxes} words`;
      break;
    case "text":
      out.hint = `Up to ${Number(a.max_len) || 0} characters`;
      break;
    case "pledge":
      out.text = a.text || "";
      break;
    case "ranking":
      out.options = (a.options || []).filter((o) => String(o).trim());
      out.hint = "Put these in order, most important first";
      break;
    case "points":
      out.options = (a.options || []).filter((o) => String(o).trim());
      out.hint = `Share ${Number(a.budget) || 100} points across these`;
      break;
    default: break;
  }
  return out;
}
