// Unit tests of the organiser page's pure logic (web/organise-model.js): CSV register import,
// paths between the form and the spec, the spec sent to the server, and the phone preview.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  parseCsv, importRegister, parsePath, getPath, setPath, fieldFor, cleanSpec, newActivity,
  changeKind, slug, uniqueKey, linesToList, listToLines, preview, groupOf, phaseLabel, fromLocalInput, toLocalInput,
} from "../../web/organise-model.js";

describe("CSV", () => {
  it("reads quotes, doubled quotes, commas and newlines in quotes, CRLF and a BOM", () => {
    const rows = parseCsv('\uFEFFname,sector\r\n"Mind, York",Mental health\r\n"The ""Big"" Trust","NHS\nTrust"\n\n');
    assert.deepEqual(rows, [
      ["name", "sector"],
      ["Mind, York", "Mental health"],
      ['The "Big" Trust', "NHS\nTrust"],
    ]);
  });

  it("reads semicolon-separated files", () => {
    assert.deepEqual(parseCsv("A;B\nC;D"), [["A", "B"], ["C", "D"]]);
  });

  it("adds new organisations and sectors, skipping the header and names already listed", () => {
    const spec = { sectors: ["Police"], organisations: [{ name: "North Yorkshire Police", sector: "Police" }] };
    const { spec: out, report } = importRegister(spec,
      "Organisation,Sector\nnorth yorkshire  police,Police\nYork Carers Centre,Voluntary sector\nSelby Police Hub,police\n,Police\nNo Sector Ltd,\n");
    assert.deepEqual(out.sectors, ["Police", "Voluntary sector"]);
    assert.deepEqual(out.organisations.map((o) => [o.name, o.sector]), [
      ["North Yorkshire Police", "Police"],
      ["York Carers Centre", "Voluntary sector"],
      ["Selby Police Hub", "Police"],
    ]);
    assert.deepEqual(report.added, ["York Carers Centre", "Selby Police Hub"]);
    assert.deepEqual(report.skipped, ["north yorkshire  police"]);
    assert.deepEqual(report.newSectors, ["Voluntary sector"]);
    assert.equal(report.problems.length, 2);
    assert.match(report.problems[0], /line 5/);
    assert.deepEqual(spec.organisations.length, 1, "the input is not changed");
  });
});

describe("paths", () => {
  it("parse, read and write the server's error paths", () => {
    assert.deepEqual(parsePath("sessions[2].activities[0].options[1]"), ["sessions", 2, "activities", 0, "options", 1]);
    const spec = { sessions: [{ activities: [{ options: ["a", "b"] }] }] };
    assert.equal(getPath(spec, "sessions[0].activities[0].options[1]"), "b");
    setPath(spec, "sessions[0].activities[0].labels.min", "Low");
    assert.equal(spec.sessions[0].activities[0].labels.min, "Low");
    setPath(spec, "sessions[0].activities[0].options[0]", undefined);
    assert.deepEqual(spec.sessions[0].activities[0].options, ["b"]);
  });

  it("put an error beside the closest field the form has", () => {
    const fields = ["title", "sessions[0].activities[0].options", "sessions[0].activities[0].prompt"];
    assert.equal(fieldFor("sessions[0].activities[0].options[3]", fields), "sessions[0].activities[0].options");
    assert.equal(fieldFor("title", fields), "title");
    assert.equal(fieldFor("sessions[4].key", fields), null);
  });
});

describe("the spec sent", () => {
  it("leaves out blank optional fields and other kinds' fields", () => {
    const spec = {
      title: "T", series: " ", starts_at: "", organiser: "", contact: "data@example.org",
      sessions: [{ key: "s", title: "S", room: "", activities: [
        { ...changeKind({ ...newActivity("choice", "q"), options: ["a", "b"] }, "scale"), prompt: "How?", labels: { min: "", max: "Very" }, pair: "" },
        { ...newActivity("choice", "c"), prompt: "?", options: ["a", "b"], multiple: false, max_choices: 2, max_len: 5 },
      ] }],
    };
    const clean = cleanSpec(spec);
    assert.equal("series" in clean, false);
    assert.equal("starts_at" in clean, false);
    assert.equal("organiser" in clean, false);
    assert.equal(clean.contact, "data@example.org");
    assert.equal("room" in clean.sessions[0], false);
    assert.deepEqual(clean.sessions[0].activities[0], { key: "q", kind: "scale", prompt: "How?", min: 1, max: 5, labels: { max: "Very" } });
    assert.deepEqual(clean.sessions[0].activities[1], { key: "c", kind: "choice", prompt: "?", options: ["a", "b"] });
    assert.equal(spec.series, " ", "the form's own copy is kept");
  });

  it("keeps ranking and points options, the points budget, when an activity opens, and the windows' dates", () => {
    const spec = {
      title: "T", opens_at: "2026-11-20T09:00:00Z", closes_at: "", qa: { scope: "session" },
      sessions: [{ key: "s", title: "S", activities: [
        { ...newActivity("ranking", "r"), prompt: "Order", options: ["a", "b", "c"], window: "before" },
        { ...newActivity("points", "p"), prompt: "Share", options: ["a", "b"], budget: 50, window: "" },
        { ...newActivity("scale", "e"), prompt: "Useful?", window: "after" },
      ] }],
    };
    const clean = cleanSpec(spec);
    assert.equal(clean.opens_at, "2026-11-20T09:00:00Z");
    assert.equal("closes_at" in clean, false);
    assert.equal(clean.qa.scope, "session");
    const [r, p, e] = clean.sessions[0].activities;
    assert.deepEqual(r, { key: "r", kind: "ranking", prompt: "Order", options: ["a", "b", "c"], window: "before" });
    assert.deepEqual(p, { key: "p", kind: "points", prompt: "Share", options: ["a", "b"], budget: 50 });
    assert.equal(e.window, "after");
  });

  it("makes keys from titles, unique within the event", () => {
    assert.equal(slug("Break-out: Room B"), "break-out-room-b");
    assert.equal(slug("Café & co"), "cafe-co");
    assert.equal(slug("!!!"), "item");
    assert.equal(uniqueKey("role", ["role", "role-2"]), "role-3");
    assert.equal(slug("x".repeat(60)).length, 40);
  });

  it("turn lines into options and back", () => {
    assert.deepEqual(linesToList(" a \n\n b\r\nc "), ["a", "b", "c"]);
    assert.equal(listToLines(["a", "b"]), "a\nb");
  });

  it("converts a local date and time to RFC 3339 UTC and back", () => {
    const iso = fromLocalInput("2026-11-23T09:30");
    assert.match(iso, /^2026-11-2[23]T\d\d:30:00Z$/);
    assert.equal(toLocalInput(iso), "2026-11-23T09:30");
    assert.equal(fromLocalInput(""), "");
  });
});

describe("the list and the preview", () => {
  it("groups events", () => {
    assert.equal(groupOf({ rehearsal: true, state: "live" }), "rehearsals");
    assert.equal(groupOf({ state: "ended" }), "ended");
    assert.equal(groupOf({ state: "live", upcoming: true }), "upcoming");
    assert.equal(groupOf({ state: "live", upcoming: false }), "live");
    assert.equal(phaseLabel({ state: "live", phase: "after" }), "After the day: the evaluation is open");
    assert.equal(phaseLabel({ state: "live", phase: "before" }), "Before the day: taking questions in advance");
    assert.equal(phaseLabel({ state: "ended", phase: "closed" }), "Closed");
    assert.equal(phaseLabel({ state: "ended" }), "Closed", "a server without phases");
    assert.equal(phaseLabel({ state: "live" }), "During the day");
  });

  it("shows each kind as a phone would", () => {
    assert.deepEqual(preview({ kind: "choice", prompt: "Role?", options: ["a", " ", "b"], multiple: true, max_choices: 2 }),
      { kind: "choice", prompt: "Role?", options: ["a", "b"], hint: "Choose up to 2" });
    const scale = preview({ kind: "scale", prompt: "How?", min: 0, max: 4, labels: { min: "Low" } });
    assert.deepEqual(scale.points, [0, 1, 2, 3, 4]);
    assert.deepEqual(scale.labels, { min: "Low", max: "" });
    assert.deepEqual(preview({ kind: "scale", min: 1, max: 50 }).points, []);
    assert.equal(preview({ kind: "words", max_words: 3 }).hint, "Up to 3 words");
    assert.equal(preview({ kind: "pledge", text: "I will" }).text, "I will");
    assert.equal(preview({ kind: "text" }).prompt, "(no question yet)");
  });
});
