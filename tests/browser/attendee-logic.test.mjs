// Unit tests of the attendee page's pure parts: the values the controls send and answers
// in words (web/kinds.js). No browser, no server: the modules touch the DOM only when called.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { wordsValue, textLength, textValue, choiceValue, describe as say } from "../../web/kinds.js";

describe("the controls' values", () => {
  it("sends words tidied, each once", () => {
    assert.deepEqual(wordsValue(["  Housing ", "housing", "mental   Health", ""]), ["housing", "mental health"]);
    assert.equal(wordsValue(["", "  "]), null);
  });
  it("counts a text's characters as a person does, and keeps it within its length", () => {
    assert.equal(textLength("  café 👍 "), 6);
    assert.equal(textValue("  hi  ", 10), "hi");
    assert.equal(textValue("   ", 10), null);
    assert.equal(textValue("abcdef", 5), null);
  });
  it("sends 1 to max choices", () => {
    assert.deepEqual(choiceValue([false, true, true], 2), [1, 2]);
    assert.equal(choiceValue([true, true, true], 2), null);
    assert.equal(choiceValue([false, false], 2), null);
  });
  it("puts an answer in words, whatever its kind", () => {
    assert.equal(say({ key: "c", kind: "choice", options: ["A", "B", "C"] }, [0, 2]), "A, C");
    assert.equal(say({ key: "s", kind: "scale", min: 1, max: 5 }, 4), "4 out of 5");
    assert.equal(say({ key: "w", kind: "words" }, ["a", "b"]), "a, b");
    assert.equal(say({ key: "p", kind: "pledge" }, true), "Signed");
    assert.equal(say({ key: "r", kind: "ranking", options: ["A", "B"] }, [1, 0]), "1. B, 2. A");
    assert.equal(say({ key: "t", kind: "text" }, "hello"), "hello");
    assert.equal(say(null, "gone"), "gone", "an activity no longer in the event");
    assert.equal(say(null, [1]), "[1]");
  });
});
