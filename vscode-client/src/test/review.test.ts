import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_HUNKS, otherScope, type ReviewDocument, reviewNodes } from "../review";

const REVIEW: ReviewDocument = {
  root: "/repo",
  base: { name: "main", how: "merge-base of HEAD with main" },
  summary: { effort: 2, effort_reasons: ["17 lines added in 3 files"], files: 3, introduced: { error: 1, warning: 1 } },
  hunks: [
    { path: "app/jobs.py", new_start: 14, new_count: 2, score: 12, level: "high", reasons: ["new B602 (error)"], findings: ["f1"] },
    { path: "app/loader.py", new_start: 1, new_count: 5, score: 4, level: "medium", reasons: ["new B506 (warning)"], ai_lines: 0, findings: ["f2", "gone"] },
    { path: "app/removed.py", new_start: 3, new_count: 0, score: 0, level: "low", reasons: [] },
  ],
  findings: {
    introduced: [
      { path: "app/jobs.py", line: 15, column: 12, code: "B602", severity: "error", message: "shell=True", where: "changed", fingerprint: "f1" },
      { path: "app/loader.py", line: 5, column: 12, code: "B506", severity: "warning", message: "yaml.load", where: "adjacent", fingerprint: "f2" },
    ],
  },
  files: [{ path: "app/loader.py", ai: { unreviewed_blocks: [{ start: 4, end: 5 }] } }],
};

test("the tree lists the summary, then the hunks in the server's risk order, with their findings", () => {
  const [summary, first, second, ...rest] = reviewNodes(REVIEW);
  assert.equal(summary.kind, "summary");
  assert.equal(summary.label, "Against main: effort 2/5");
  assert.equal(summary.description, "3 files · 2 new findings");
  assert.equal(first.label, "app/jobs.py:14-15");
  assert.equal(first.description, "risk 12 · new B602 (error)");
  assert.deepEqual([first.path, first.line], ["app/jobs.py", 14]);
  assert.deepEqual(
    first.children.map((child) => [child.label, child.path, child.line]),
    [["B602 line 15", "app/jobs.py", 15]],
  );
  assert.equal(rest.length, 0, "a hunk that only removes lines has nowhere to open");
  assert.equal(second.children.length, 1, "unknown fingerprints are left out");
  assert.match(second.children[0].tooltip ?? "", /warning, adjacent/);
});

test("hunks in unreviewed AI-written blocks carry the AI badge", () => {
  const [, first, second] = reviewNodes(REVIEW);
  assert.equal(first.ai, false);
  assert.equal(second.ai, true);
  assert.ok(second.description?.startsWith("AI · "));
  assert.match(second.tooltip ?? "", /AI-written, not reviewed/);
});

test("a very large change lists the riskiest hunks and counts the rest", () => {
  const many: ReviewDocument = {
    ...REVIEW,
    hunks: Array.from({ length: MAX_HUNKS + 5 }, (_, index) => ({
      path: `m${index}.py`, new_start: 1, new_count: 1, score: 1, level: "low", reasons: [],
    })),
  };
  const nodes = reviewNodes(many);
  assert.equal(nodes.length, MAX_HUNKS + 1);
  assert.match(nodes[0].tooltip ?? "", /5 more hunks not listed/);
});

test("an empty or partial answer still gives a tree", () => {
  const [summary, ...rest] = reviewNodes({});
  assert.equal(summary.label, "Against ?: effort ?/5");
  assert.equal(rest.length, 0);
});

test("the scope switches between all findings and new code", () => {
  assert.equal(otherScope("all"), "changed");
  assert.equal(otherScope(undefined), "changed");
  assert.equal(otherScope("changed"), "all");
});
