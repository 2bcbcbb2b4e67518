import assert from "node:assert/strict";
import { test } from "node:test";
import {
  chooseInterpreter,
  type InterpreterCandidate,
  interpreterCandidates,
  isInside,
  isSupported,
  parseProbe,
  probe,
  type ProbeResult,
  projectInterpreter,
  resolveInterpreter,
  serverLaunch,
} from "../interpreter";

const base = { setting: undefined, pythonExtension: undefined, trusted: true, workspaceFolders: ["/work/project"] };

test("candidates come in order: setting, Python extension, python3 on PATH", () => {
  const candidates = interpreterCandidates({
    ...base,
    setting: ["/opt/py/bin/python3.12"],
    pythonExtension: ["/work/project/.venv/bin/python"],
  });
  assert.deepEqual(candidates, [
    { command: ["/opt/py/bin/python3.12"], source: "setting" },
    { command: ["/work/project/.venv/bin/python"], source: "python-extension" },
    { command: ["python3"], source: "path" },
  ]);
});

test("an empty or blank setting is no candidate", () => {
  assert.deepEqual(interpreterCandidates({ ...base, setting: [] }), [{ command: ["python3"], source: "path" }]);
  assert.deepEqual(interpreterCandidates({ ...base, setting: ["  "] }), [{ command: ["python3"], source: "path" }]);
});

test("the same interpreter from two sources is tried once", () => {
  const candidates = interpreterCandidates({ ...base, setting: ["python3"], pythonExtension: ["python3"] });
  assert.deepEqual(candidates, [{ command: ["python3"], source: "setting" }]);
});

test("an untrusted workspace ignores the Python extension and interpreters inside the workspace", () => {
  const candidates = interpreterCandidates({
    ...base,
    trusted: false,
    setting: ["/work/project/evil/python"],
    pythonExtension: ["/usr/bin/python3.12"],
  });
  assert.deepEqual(candidates, [{ command: ["python3"], source: "path" }]);
});

test("an untrusted workspace keeps a user-level interpreter outside the workspace", () => {
  const candidates = interpreterCandidates({ ...base, trusted: false, setting: ["/usr/bin/python3.12"] });
  assert.equal(candidates[0].command[0], "/usr/bin/python3.12");
});

test("the project interpreter is the setting's, else the Python extension's, never python3 on PATH", () => {
  const venv = "/work/project/.venv/bin/python";
  assert.equal(projectInterpreter({ ...base, setting: ["/opt/py/bin/python3.12"], pythonExtension: [venv] }), "/opt/py/bin/python3.12");
  assert.equal(projectInterpreter({ ...base, pythonExtension: [venv] }), venv);
  assert.equal(projectInterpreter(base), undefined);
  // A bare name names no environment folder: the server then finds the project's .venv itself.
  assert.equal(projectInterpreter({ ...base, setting: ["py", "-3.12"] }), undefined);
});

test("the project interpreter follows workspace trust as the server's interpreter does", () => {
  const venv = "/work/project/.venv/bin/python";
  assert.equal(projectInterpreter({ ...base, trusted: false, pythonExtension: [venv] }), undefined);
  assert.equal(projectInterpreter({ ...base, trusted: false, setting: [venv] }), undefined);
  assert.equal(projectInterpreter({ ...base, trusted: false, setting: ["/usr/bin/python3.12"] }), "/usr/bin/python3.12");
});

test("isInside tells workspace paths from the rest, without being fooled by prefixes or ..", () => {
  assert.equal(isInside("/work/project/.venv/bin/python", ["/work/project"]), true);
  assert.equal(isInside("/work/project-other/python", ["/work/project"]), false);
  assert.equal(isInside("/work/project/../elsewhere/python", ["/work/project"]), false);
  assert.equal(isInside("python3", ["/work/project"]), false);
});

test("3.11 and newer are supported, 3.10 is not", () => {
  assert.equal(isSupported([3, 11, 0]), true);
  assert.equal(isSupported([3, 13, 1]), true);
  assert.equal(isSupported([4, 0, 0]), true);
  assert.equal(isSupported([3, 10, 12]), false);
  assert.equal(isSupported([2, 7, 18]), false);
  assert.equal(isSupported(undefined), false);
});

const path3: InterpreterCandidate = { command: ["python3"], source: "path" };

test("the probe's last line is read, so noise printed before it is harmless", () => {
  const result = parseProbe(path3, 'hello from sitecustomize\n{"version": [3, 12, 1], "executable": "/usr/bin/python3", "clearsight": true}\n');
  assert.deepEqual(result.version, [3, 12, 1]);
  assert.equal(result.executable, "/usr/bin/python3");
  assert.equal(result.hasClearsight, true);
});

test("a probe that prints nonsense is an error, not a crash", () => {
  assert.match(parseProbe(path3, "Python 3.12.1\n").error ?? "", /not a Python version/);
  assert.match(parseProbe(path3, "").error ?? "", /not a Python version/);
});

test("a real python3 is probed for its version", async () => {
  const result = await probe(path3);
  assert.equal(result.error, undefined);
  assert.equal(result.version?.[0], 3);
  assert.ok(result.executable && result.executable.length > 0);
});

test("a missing interpreter is reported as not found", async () => {
  const result = await probe({ command: ["/nonexistent/bin/python9"], source: "setting" });
  assert.equal(result.error, "not found");
});

test("a program that is not Python is reported, not trusted", async () => {
  const result = await probe({ command: ["/bin/true"], source: "setting" });
  assert.match(result.error ?? "", /not a Python version/);
});

test("resolution falls through a missing setting to python3 on PATH", async () => {
  const choice = await resolveInterpreter([{ command: ["/nonexistent/python"], source: "setting" }, path3]);
  assert.equal(choice.ok, true);
  if (choice.ok) {
    assert.equal(choice.result.candidate.source, "path");
    assert.equal(choice.skipped.length, 1);
    assert.match(choice.skipped[0], /\/nonexistent\/python \(the clearsight.interpreter setting\): not found/);
  }
});

test("no suitable Python: one message naming what was tried, the version needed and the setting", () => {
  const old: ProbeResult = { candidate: path3, version: [3, 9, 2], executable: "/usr/bin/python3" };
  const missing: ProbeResult = { candidate: { command: ["/opt/python"], source: "setting" }, error: "not found" };
  const choice = chooseInterpreter([missing, old]);
  assert.equal(choice.ok, false);
  if (!choice.ok) {
    assert.match(choice.message, /needs Python 3\.11 or newer/);
    assert.match(choice.message, /\/opt\/python \(the clearsight.interpreter setting\): not found/);
    assert.match(choice.message, /python3 \(python3 on PATH\) is Python 3\.9\.2/);
    assert.match(choice.message, /"clearsight\.interpreter"/);
  }
});

test("the untrusted message says why the workspace's interpreters were not used", () => {
  const choice = chooseInterpreter([{ candidate: path3, error: "not found" }], false);
  assert.equal(choice.ok, false);
  if (!choice.ok) {
    assert.match(choice.message, /untrusted/);
    assert.match(choice.message, /user settings/);
  }
});

const python: ProbeResult = { candidate: { command: ["/usr/bin/python3", "-X", "utf8"], source: "setting" }, version: [3, 12, 0] };

test("useBundled runs python -m clearsight server with the bundled libraries first on PYTHONPATH", () => {
  const launch = serverLaunch({ interpreter: python, strategy: "useBundled", trusted: true, bundledLibs: "/ext/bundled/libs", env: { PYTHONPATH: "/mine", HOME: "/h" } });
  assert.equal(launch.command, "/usr/bin/python3");
  assert.deepEqual(launch.args, ["-X", "utf8", "-m", "clearsight", "server"]);
  assert.equal(launch.env.PYTHONPATH, "/ext/bundled/libs:/mine");
  assert.equal(launch.env.HOME, "/h");
  assert.equal(launch.strategy, "useBundled");
});

test("fromEnvironment leaves PYTHONPATH alone when the environment has clearsight", () => {
  const launch = serverLaunch({ interpreter: { ...python, hasClearsight: true }, strategy: "fromEnvironment", trusted: true, bundledLibs: "/b", env: {} });
  assert.equal(launch.strategy, "fromEnvironment");
  assert.equal(launch.env.PYTHONPATH, undefined);
});

test("fromEnvironment without clearsight installed falls back to the bundled server and says so", () => {
  const launch = serverLaunch({ interpreter: { ...python, hasClearsight: false }, strategy: "fromEnvironment", trusted: true, bundledLibs: "/b", env: {} });
  assert.equal(launch.strategy, "useBundled");
  assert.equal(launch.env.PYTHONPATH, "/b");
  assert.match(launch.note ?? "", /cannot import clearsight/);
});

test("an untrusted workspace always runs the bundled server", () => {
  const launch = serverLaunch({ interpreter: { ...python, hasClearsight: true }, strategy: "fromEnvironment", trusted: false, bundledLibs: "/b", env: {} });
  assert.equal(launch.strategy, "useBundled");
  assert.match(launch.note ?? "", /untrusted/);
});
