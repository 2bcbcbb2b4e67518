import assert from "node:assert/strict";
import { test } from "node:test";
import { describeGarbage, isMethodNotFound, shouldRestart } from "../errors";
import { countFindings, statusText } from "../status";

test("findings are counted by family from their codes", () => {
  const counts = countFindings([
    { code: "B506", source: "clearsight" },
    { code: "B602", source: "clearsight" },
    { code: "CS-C001", source: "clearsight" },
    { code: "CS-C002", source: "clearsight" },
    { code: { value: "CS-C001" }, source: "clearsight" },
    { code: "CS-P001", source: "clearsight" },
    { code: "CS-D001", source: "clearsight" },
    { code: "E501", source: "flake8" },
    { source: "clearsight" },
  ]);
  assert.deepEqual(counts, { security: 2, complexity: 3, unreviewedAi: 1 });
});

test("the status text shows the counts only while the server runs", () => {
  const counts = { security: 2, complexity: 1, unreviewedAi: 0 };
  assert.equal(statusText("running", counts), "$(shield) Clearsight 2 sec · 1 cx · 0 AI");
  assert.equal(statusText("running", undefined), "$(shield) Clearsight");
  assert.equal(statusText("failed", counts), "$(error) Clearsight (failed)");
  assert.equal(statusText("running", counts, "changed"), "$(shield) Clearsight new: 2 sec · 1 cx · 0 AI");
  assert.equal(statusText("running", counts, "all"), "$(shield) Clearsight 2 sec · 1 cx · 0 AI");
});

test("method-not-found answers are told apart from real failures", () => {
  assert.equal(isMethodNotFound({ code: -32601, message: "Method Not Found: clearsight/provenanceReport" }), true);
  assert.equal(isMethodNotFound({ code: -32602, message: "Command name 'clearsight.markReviewed' is not defined" }), true);
  assert.equal(isMethodNotFound({ code: -32603, message: "KeyError: 'uri'" }), false);
  assert.equal(isMethodNotFound(new Error("timeout")), false);
  assert.equal(isMethodNotFound(undefined), false);
});

test("crashes restart the server until too many happen too quickly", () => {
  const now = 1_000_000;
  assert.equal(shouldRestart([now], now), true);
  assert.equal(shouldRestart([now - 3, now - 2, now - 1, now], now), true);
  assert.equal(shouldRestart([now - 4, now - 3, now - 2, now - 1, now], now), false);
  // old crashes no longer count
  assert.equal(shouldRestart([now - 400_000, now - 300_000, now - 200_000, now - 1, now], now), true);
});

test("garbage on stdout is described, quoted and shortened", () => {
  const text = describeGarbage("hello world\n".repeat(50));
  assert.match(text, /not LSP/);
  assert.ok(text.length < 400);
});
