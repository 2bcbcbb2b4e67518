import assert from "node:assert/strict";
import { test } from "node:test";
import { CLIENT_ONLY_SETTINGS, explicitValue, SETTING_MAP, serverSettings, withProjectInterpreter } from "../settings";

function reader(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

test("nothing set sends an empty table, so pyproject.toml stays in charge", () => {
  assert.deepEqual(serverSettings(reader({})), {});
});

test("dotted VS Code settings become the server's kebab-case [tool.clearsight] tables", () => {
  const table = serverSettings(
    reader({
      select: ["B", "CS-C"],
      "complexity.maxComplexity": 5,
      "complexity.minMaintainabilityRank": "A",
      "complexity.enabled": true,
      "security.severity": "medium",
      "security.confidence": "high",
      "dependencies.enabled": false,
      "performance.enabled": false,
      "limits.maxFileBytes": 1000,
      severity: { B: "warning", B303: "error" },
      debounce: 0,
      scope: "changed",
      base: "origin/main",
      baseline: ".clearsight-baseline.json",
    }),
  );
  assert.deepEqual(table, {
    select: ["B", "CS-C"],
    complexity: { "max-complexity": 5, "min-maintainability-rank": "A", enabled: true },
    security: { severity: "medium", confidence: "high" },
    dependencies: { enabled: false },
    performance: { enabled: false },
    limits: { "max-file-bytes": 1000 },
    severity: { B: "warning", B303: "error" },
    debounce: 0,
    scope: "changed",
    base: "origin/main",
    baseline: ".clearsight-baseline.json",
  });
});

test("false and 0 are sent; only undefined means unset", () => {
  const table = serverSettings(reader({ "security.enabled": false, debounce: 0 }));
  assert.deepEqual(table, { security: { enabled: false }, debounce: 0 });
});

test("provenance options pass through as [tool.clearsight.provenance]", () => {
  const table = serverSettings(reader({ provenance: { "bulk-insert-lines": 3 } }));
  assert.deepEqual(table, { provenance: { "bulk-insert-lines": 3 } });
});

test("client-only settings never reach the server", () => {
  const table = serverSettings(reader({ interpreter: ["/usr/bin/python3"], importStrategy: "fromEnvironment", "trace.server": "verbose" }));
  assert.deepEqual(table, {});
  for (const key of CLIENT_ONLY_SETTINGS) {
    assert.ok(!SETTING_MAP.some(([name]) => name === key), key);
  }
});

test("the project interpreter is sent as dependencies.python, beside the other dependency settings", () => {
  const table = serverSettings(reader({ "dependencies.enabled": true, select: ["CS-D"] }));
  assert.deepEqual(withProjectInterpreter(table, "/work/project/.venv/bin/python"), {
    select: ["CS-D"],
    dependencies: { enabled: true, python: "/work/project/.venv/bin/python" },
  });
  assert.deepEqual(withProjectInterpreter({}, "/usr/bin/python3"), { dependencies: { python: "/usr/bin/python3" } });
  assert.deepEqual(table, { select: ["CS-D"], dependencies: { enabled: true } }); // not changed in place
});

test("without a project interpreter nothing is added, so pyproject.toml decides", () => {
  assert.deepEqual(withProjectInterpreter({ debounce: 0 }, undefined), { debounce: 0 });
});

test("every mapped setting is declared in package.json, and every declared one is mapped or client-only", async () => {
  const { readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
  const declared = Object.keys(manifest.contributes.configuration.properties).map((key: string) => key.replace(/^clearsight\./, ""));
  const mapped = SETTING_MAP.map(([name]) => name);
  assert.deepEqual([...declared].sort(), [...mapped, ...CLIENT_ONLY_SETTINGS].sort());
  assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, ["clearsight.interpreter", "clearsight.importStrategy"]);
});

test("the most specific explicitly set value wins; defaults are not explicit", () => {
  assert.equal(explicitValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
  assert.equal(explicitValue({ globalValue: 1, workspaceValue: 2 }), 2);
  assert.equal(explicitValue({ globalValue: 1 }), 1);
  assert.equal(explicitValue({ globalValue: 1, workspaceLanguageValue: 5 }), 5);
  assert.equal(explicitValue({ defaultValue: 10 } as never), undefined);
  assert.equal(explicitValue(undefined), undefined);
});
