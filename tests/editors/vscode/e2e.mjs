// Real VS Code end to end: the built clearsight.vsix installed into code-server (VS Code in a
// browser), driven by Debian's Chromium through playwright-core. Prints one JSON report on
// stdout ({ok, checks: [{name, ok, detail}], ...}); tests/test_editors.py asserts on it.
//
// Usage: node e2e.mjs --vsix X.vsix --code-server BIN --node-bin DIR --scratch DIR
//                     [--scenario trusted|untrusted|garbage] [--screenshot PNG]
//                     [--with-provenance] [--chromium /usr/bin/chromium] [--timeout MS]
// Scenarios: trusted (findings of each family, Ctrl+. fix, a live setting, a killed server),
// untrusted (Restricted Mode: only the bundled server, never the workspace's interpreter),
// garbage (a server printing to stdout is explained in the output channel).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: args } = parseArgs({
  options: {
    vsix: { type: "string" },
    "code-server": { type: "string" },
    "node-bin": { type: "string" },
    scratch: { type: "string" },
    screenshot: { type: "string" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    "with-provenance": { type: "boolean", default: false },
    // "trusted" (the main scenario) or "untrusted" (workspace trust and restricted settings)
    scenario: { type: "string", default: "trusted" },
    timeout: { type: "string", default: "60000" },
  },
});
const TIMEOUT = Number(args.timeout);
const scratch = path.resolve(args.scratch);
const report = { ok: false, checks: [], problems: {}, log: [] };
let codeServerPid = 0;

function log(message) {
  report.log.push(`${new Date().toISOString()} ${message}`);
  process.stderr.write(`[e2e] ${message}\n`);
}

function check(name, ok, detail) {
  report.checks.push({ name, ok: Boolean(ok), detail });
  log(`${ok ? "PASS" : "FAIL"} ${name}: ${JSON.stringify(detail)}`);
  return Boolean(ok);
}

// -- the workspace: an insecure file, a too-complex function, an AI-written block in git ------

const INSECURE = [
  "import subprocess",
  "",
  "import yaml",
  "",
  "",
  "def load(data):",
  "    return yaml.load(data)",
  "",
  "",
  "def run(cmd):",
  "    return subprocess.call(cmd, shell=True)",
  "",
].join("\n");

function branchy(name, branches) {
  const lines = [`def ${name}(a):`, "    total = 0"];
  for (let i = 1; i <= branches; i += 1) {
    lines.push(`    if a == ${i}:`, `        total += ${i}`);
  }
  lines.push("    return total");
  return lines;
}

// tangled: complexity 12 (above the default 10); medium: complexity 6.
const COMPLEX_LINES = [...branchy("tangled", 11), "", "", ...branchy("medium", 5), ""];
const COMPLEX = COMPLEX_LINES.join("\n");
const TANGLED_LINE = 1;
const MEDIUM_LINE = COMPLEX_LINES.indexOf("def medium(a):") + 1;

const AI_HELPER = [
  "def normalise(names):",
  '    """Lower-case, strip and de-duplicate names, keeping their order."""',
  "    seen = set()",
  "    result = []",
  "    for name in names:",
  "        key = name.strip().lower()",
  "        if key and key not in seen:",
  "            seen.add(key)",
  "            result.append(key)",
  "    return result",
  "",
].join("\n");

function git(cwd, ...gitArgs) {
  return execFileSync("git", gitArgs, { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null" } });
}

function makeWorkspace(root) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(path.join(root, ".vscode"), { recursive: true });
  writeFileSync(path.join(root, "insecure.py"), INSECURE);
  writeFileSync(path.join(root, "complex.py"), COMPLEX);
  writeFileSync(path.join(root, ".vscode", "settings.json"), "{}\n");
  git(root, "init", "-q", "-b", "main");
  git(root, "config", "user.name", "Human Developer");
  git(root, "config", "user.email", "human@example.com");
  git(root, "add", "insecure.py", "complex.py");
  git(root, "commit", "-q", "-m", "Human-written code");
  writeFileSync(path.join(root, "ai_helper.py"), AI_HELPER);
  git(root, "add", "ai_helper.py");
  git(root, "commit", "-q", "-m", "Add a name normaliser\n\nCo-authored-by: Claude <noreply@anthropic.com>");
}

// -- code-server ---------------------------------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function scratchEnv() {
  const env = { ...process.env };
  for (const [name, folder] of [
    ["XDG_CONFIG_HOME", "config"],
    ["XDG_DATA_HOME", "data-home"],
    ["XDG_CACHE_HOME", "cache"],
    ["XDG_STATE_HOME", "state"],
    ["TMPDIR", "tmp"],
  ]) {
    env[name] = path.join(scratch, folder);
    mkdirSync(env[name], { recursive: true });
  }
  env.HOME = path.join(scratch, "home");
  mkdirSync(env.HOME, { recursive: true });
  env.PATH = `${path.resolve(args["node-bin"])}${path.delimiter}${env.PATH}`;
  return env;
}

async function waitFor(predicate, what, timeout = TIMEOUT, interval = 250) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last) {
      return last;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
}

async function startCodeServer(env, userData, extensions) {
  const port = await freePort();
  const child = spawn(
    args["code-server"],
    [
      "--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--disable-telemetry",
      "--disable-update-check", "--user-data-dir", userData, "--extensions-dir", extensions,
      ...(args.scenario === "untrusted" ? [] : ["--disable-workspace-trust"]),
    ],
    { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  const output = [];
  child.stdout.on("data", (chunk) => output.push(String(chunk)));
  child.stderr.on("data", (chunk) => output.push(String(chunk)));
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  await waitFor(async () => {
    if (child.exitCode !== null) {
      throw new Error(`code-server exited (${child.exitCode}): ${output.join("").slice(-2000)}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      return response.ok;
    } catch {
      return false;
    }
  }, "code-server's /healthz");
  return { port, pid: child.pid, stop, output };
}

// -- reading VS Code's UI ------------------------------------------------------------------

const CODE = /\b(B\d{3}|CS-[A-Z]\d{3})\b/;
const POSITION = /\[Ln (\d+), Col (\d+)\]/;

/** The Problems panel's marker rows: [{file, code, line, column, text}]. */
async function problems(page) {
  const rows = await page.$$eval(".markers-panel .monaco-list-row", (elements) =>
    elements.map((element) => ({ text: element.innerText, label: element.getAttribute("aria-label") ?? "" })),
  );
  const markers = [];
  let file = "";
  for (const row of rows) {
    const text = `${row.text} ${row.label}`.replace(/\s+/g, " ");
    const code = text.match(CODE);
    const position = text.match(POSITION);
    if (code && position) {
      markers.push({ file, code: code[1], line: Number(position[1]), column: Number(position[2]), text: row.text.replace(/\s+/g, " ").trim() });
    } else {
      // A resource row ("insecure.py 2") heads the markers of that file.
      file = (row.text.trim().match(/^([\w.-]+\.(?:py|ipynb))\b/) ?? ["", ""])[1];
    }
  }
  return markers;
}

function has(markers, file, code, line) {
  return markers.some((marker) => marker.file === file && marker.code === code && marker.line === line);
}

/** Open the quick-input box with `keys`; focus the editor and retry if a toast or webview held the keys. */
async function quickInput(page, keys) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    await page.keyboard.press(keys);
    try {
      await page.waitForSelector(".quick-input-widget:not(.hidden) input", { timeout: 5000 });
      return;
    } catch {
      const editor = await page.$(".editor-group-container.active .monaco-editor .view-lines");
      await (editor ? editor.click() : page.click(".monaco-workbench .part.statusbar"));
    }
  }
  await page.waitForSelector(".quick-input-widget:not(.hidden) input", { timeout: TIMEOUT });
}

/**
 * Quick open `name` and wait for its tab. Retried: a webview (the provenance report) or a
 * toast can take the focus back between the keys, so the input is clicked before typing and
 * its value checked before Enter.
 */
async function openFile(page, name) {
  const input = ".quick-input-widget:not(.hidden) input";
  const tab = `.tab.active[data-resource-name="${name}"], .tab.active[aria-label*="${name}"]`;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    await quickInput(page, "Control+P");
    // The webview can take the focus back at once, hiding the input it just showed: then
    // the next attempt opens it again (a click on a hidden input would wait a minute).
    const clicked = await page.click(input, { timeout: 5000 }).then(() => true, () => false);
    if (!clicked) {
      log(`open ${name} attempt ${attempt}: quick open was hidden before the click`);
      await page.keyboard.press("Escape");
      continue;
    }
    await page.keyboard.type(name, { delay: 20 });
    const typed = await page.$eval(input, (element) => element.value).catch(() => "");
    const listed = await waitFor(
      async () => (await page.$$eval(".quick-input-list .monaco-list-row", (rows) => rows.map((row) => row.innerText))).some((text) => text.includes(name)),
      `${name} in quick open`,
      15000,
    ).catch(() => false);
    if (typed.endsWith(name) && listed) {
      await page.focus(input).catch(() => undefined);
      await page.keyboard.press("Enter");
      try {
        await page.waitForSelector(tab, { timeout: attempt === 3 ? TIMEOUT : 20000 });
        return;
      } catch (error) {
        if (attempt === 3) {
          throw error;
        }
      }
    }
    const tabs = await page.$$eval(".tab", (items) => items.map((item) => `${item.classList.contains("active") ? "*" : ""}${item.innerText.trim()}`)).catch(() => []);
    log(`open ${name} attempt ${attempt}: typed ${JSON.stringify(typed)}, listed ${Boolean(listed)}, tabs ${JSON.stringify(tabs)}`);
    await page.keyboard.press("Escape");
  }
  throw new Error(`could not open ${name} through quick open`);
}

async function goToLine(page, line, column) {
  await quickInput(page, "Control+G");
  await page.keyboard.type(`${line}:${column}`, { delay: 20 });
  await page.keyboard.press("Enter");
}

/**
 * Ctrl+. at line:column; the code action menu's items. Retried: on a loaded machine the key
 * can arrive before the cursor moved or before the diagnostics reached the editor.
 */
async function codeActionsAt(page, line, column) {
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    await page.click(".editor-group-container.active .monaco-editor .view-lines");
    await goToLine(page, line, column);
    await waitFor(async () => {
      const texts = await page.$$eval(".statusbar-item", (items) => items.map((item) => item.innerText));
      return texts.some((text) => text.includes(`Ln ${line}, Col ${column}`));
    }, `the cursor at ${line}:${column}`, 10000).catch(() => undefined);
    await page.keyboard.press("Control+.");
    const items = await waitFor(async () => {
      const rows = await page.$$eval(".action-widget .monaco-list-row", (found) => found.map((row) => row.innerText.trim()));
      return rows.length ? rows : false;
    }, "the code action menu", 10000).catch(() => []);
    if (items.length) {
      return items;
    }
    log(`Ctrl+. attempt ${attempt}: no code action menu`);
    await page.keyboard.press("Escape");
  }
  return [];
}

async function editorText(page) {
  return page.$eval(".editor-group-container.active .monaco-editor .view-lines", (element) => element.innerText.replace(/\u00a0/g, " "));
}

// -- the scenario ----------------------------------------------------------------------------

async function scenario(page, workspace) {
  await page.goto(`http://127.0.0.1:${report.port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: TIMEOUT });
  log("workbench loaded");

  await openFile(page, "complex.py");
  await openFile(page, "insecure.py");
  await page.keyboard.press("Control+Shift+M");
  await page.waitForSelector(".markers-panel", { timeout: TIMEOUT });

  // 1. Findings of each family, with the right codes and lines.
  let markers;
  try {
    markers = await waitFor(async () => {
      const found = await problems(page);
      return has(found, "insecure.py", "B506", 7) && has(found, "insecure.py", "B602", 11) && has(found, "complex.py", "CS-C001", TANGLED_LINE) ? found : false;
    }, "B506, B602 and CS-C001 in Problems");
  } catch (error) {
    markers = await problems(page);
    log(String(error));
  }
  report.problems.initial = markers;
  check("security: yaml.load is B506 on insecure.py line 7", has(markers, "insecure.py", "B506", 7), markers);
  check("security: subprocess.call(shell=True) is B602 on insecure.py line 11", has(markers, "insecure.py", "B602", 11), markers);
  check(`complexity: tangled() is CS-C001 on complex.py line ${TANGLED_LINE}`, has(markers, "complex.py", "CS-C001", TANGLED_LINE), markers);
  check(
    `complexity: medium() (complexity 6) is within the default limit`,
    !has(markers, "complex.py", "CS-C001", MEDIUM_LINE),
    markers.filter((marker) => marker.code === "CS-C001"),
  );

  // The status bar item counts the open file's findings.
  const statusText = await waitFor(
    async () => {
      const texts = await page.$$eval(".statusbar-item", (items) => items.map((item) => item.innerText));
      return texts.find((text) => /Clearsight \d+ sec/.test(text));
    },
    "the Clearsight status bar item",
  ).catch(() => undefined);
  check("status bar shows insecure.py's counts", statusText && /Clearsight [1-9]\d* sec · 0 cx · 0 AI/.test(statusText), statusText);

  // 2. A quick fix through the editor (Ctrl+.): yaml.load -> yaml.safe_load, and B506 goes.
  const actions = await codeActionsAt(page, 7, 17);
  check("Ctrl+. offers 'Use yaml.safe_load()'", actions.some((text) => text.includes("Use yaml.safe_load()")), actions);
  const index = actions.findIndex((text) => text.includes("Use yaml.safe_load()"));
  if (index >= 0) {
    await page.click(`.action-widget .monaco-list-row >> nth=${index}`);
  } else {
    await page.keyboard.press("Escape");
  }
  let afterFix = [];
  try {
    afterFix = await waitFor(async () => {
      const found = await problems(page);
      return !found.some((marker) => marker.code === "B506") && has(found, "insecure.py", "B602", 11) ? found : false;
    }, "B506 to go away");
  } catch (error) {
    afterFix = await problems(page);
    log(String(error));
  }
  report.problems.afterFix = afterFix;
  const text = await editorText(page);
  check("the fix rewrote the call to yaml.safe_load(data)", text.includes("yaml.safe_load(data)"), text.split("\n").filter((line) => line.includes("yaml.")));
  check("B506 is gone, B602 stays", !afterFix.some((m) => m.code === "B506") && has(afterFix, "insecure.py", "B602", 11), afterFix);

  // 3. A setting changes and the diagnostics follow: max complexity 5 reports medium() too.
  writeFileSync(
    path.join(workspace, ".vscode", "settings.json"),
    JSON.stringify({ "clearsight.complexity.maxComplexity": 5 }, null, 2),
  );
  let afterSetting = [];
  try {
    afterSetting = await waitFor(async () => {
      const found = await problems(page);
      return has(found, "complex.py", "CS-C001", MEDIUM_LINE) ? found : false;
    }, "CS-C001 on medium() after the setting changed");
  } catch (error) {
    afterSetting = await problems(page);
    log(String(error));
  }
  report.problems.afterSetting = afterSetting;
  check(
    `maxComplexity 5: medium() is CS-C001 on line ${MEDIUM_LINE}, tangled() still is`,
    has(afterSetting, "complex.py", "CS-C001", MEDIUM_LINE) && has(afterSetting, "complex.py", "CS-C001", TANGLED_LINE),
    afterSetting.filter((marker) => marker.code === "CS-C001"),
  );

  if (args["with-provenance"]) {
    await checkProvenance(page);
  }

  await checkReview(page, workspace);
  await checkRiskReport(page);
  await checkNotebook(page, workspace);

  if (args.screenshot) {
    await page.screenshot({ path: args.screenshot });
    report.screenshot = args.screenshot;
  }

  await crashAndRecover(page);
}

/** Processes below `root` (code-server's) whose command line is `… -m clearsight server`. */
function clearsightServers(root) {
  const parents = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const below = (pid) => {
    for (let current = pid; current > 1; current = parents.get(current) ?? 0) {
      if (current === root) {
        return true;
      }
    }
    return false;
  };
  return [...parents.keys()].filter((pid) => {
    if (!below(pid)) {
      return false;
    }
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").includes("-m clearsight server");
    } catch {
      return false;
    }
  });
}

/** Kill the server: the extension restarts it, says so once, and diagnostics come back. */
async function crashAndRecover(page) {
  const before = clearsightServers(codeServerPid);
  check("exactly one Clearsight server runs", before.length === 1, before);
  if (before.length !== 1) {
    return;
  }
  process.kill(before[0], "SIGKILL");
  log(`killed the server (pid ${before[0]})`);
  const after = await waitFor(async () => {
    const now = clearsightServers(codeServerPid);
    return now.length === 1 && now[0] !== before[0] ? now : false;
  }, "a new server process").catch(() => clearsightServers(codeServerPid));
  check("the extension started a new server", after.length === 1 && after[0] !== before[0], { before, after });
  const toast = await waitFor(async () => {
    const texts = await page.$$eval(".notification-toast", (items) => items.map((item) => item.innerText));
    return texts.find((text) => text.includes("stopped unexpectedly"));
  }, "the crash notification").catch(() => undefined);
  check("the user is told the server stopped and is being restarted", Boolean(toast), toast);
  // An edit after the restart is analysed by the new server: eval() is B307.
  await openFile(page, "insecure.py");
  await page.click(".editor-group-container.active .monaco-editor .view-lines");
  await page.keyboard.press("Control+End");
  await page.keyboard.type("\n\ndef risky(text):\n    return eval(text)\n", { delay: 10 });
  let found = [];
  try {
    found = await waitFor(async () => {
      const markers = await problems(page);
      // Wait for what is checked below: the panel can show the new B307 before B602.
      const back = markers.some((marker) => marker.file === "insecure.py" && marker.code === "B307");
      return back && has(markers, "insecure.py", "B602", 11) ? markers : false;
    }, "B307 and B602 from the restarted server");
  } catch (error) {
    found = await problems(page);
    log(String(error));
  }
  report.problems.afterCrash = found;
  check(
    "after the crash, diagnostics come back: the new eval() is B307",
    found.some((marker) => marker.file === "insecure.py" && marker.code === "B307") && has(found, "insecure.py", "B602", 11),
    found.filter((marker) => marker.file === "insecure.py"),
  );
}

async function runCommand(page, title) {
  await quickInput(page, "Control+Shift+P");
  await page.keyboard.type(title, { delay: 15 });
  await waitFor(
    async () => (await page.$$eval(".quick-input-list .monaco-list-row", (rows) => rows.map((row) => row.innerText))).some((text) => text.includes(title)),
    `${title} in the command palette`,
  );
  await page.keyboard.press("Enter");
}

/**
 * Provenance, end to end. Run only with --with-provenance: the server's side (issue 4: the
 * CS-P001 diagnostic, workspace/executeCommand clearsight.markReviewed and the
 * clearsight/provenanceReport request) is being built; enable this when it lands.
 *  - the block committed with a `Co-authored-by: Claude` trailer is CS-P001 on its first line;
 *  - the status bar counts it as unreviewed AI;
 *  - "Show Provenance Report" opens the report the server renders;
 *  - "Mark Selection as Reviewed" over the block makes CS-P001 go away.
 */
async function checkProvenance(page) {
  await openFile(page, "ai_helper.py");
  let found = [];
  try {
    found = await waitFor(async () => {
      const markers = await problems(page);
      return has(markers, "ai_helper.py", "CS-P001", 1) ? markers : false;
    }, "CS-P001 on ai_helper.py line 1");
  } catch (error) {
    found = await problems(page);
    log(String(error));
  }
  report.problems.provenance = found;
  check("provenance: the Claude-co-authored block is CS-P001 on ai_helper.py line 1", has(found, "ai_helper.py", "CS-P001", 1), found);
  const statusText = await waitFor(async () => {
    const texts = await page.$$eval(".statusbar-item", (items) => items.map((item) => item.innerText));
    return texts.find((text) => /Clearsight \d+ sec · \d+ cx · [1-9]\d* AI/.test(text));
  }, "the unreviewed-AI count in the status bar").catch(() => undefined);
  check("provenance: the status bar counts the unreviewed AI block", Boolean(statusText), statusText);

  await runCommand(page, "Clearsight: Show Provenance Report");
  const tab = await waitFor(async () => {
    const tabs = await page.$$eval(".tab", (items) => items.map((item) => item.innerText));
    return tabs.find((text) => text.includes("Clearsight: Provenance"));
  }, "the provenance report tab").catch(() => undefined);
  check("provenance: Show Provenance Report opens the report", Boolean(tab), tab);

  // The report's webview has the focus, and keys sent there never reach the workbench.
  await page.click('.tab[data-resource-name="ai_helper.py"], .tab:has-text("ai_helper.py")');
  await page.click(".editor-group-container.active .monaco-editor .view-lines");
  await page.keyboard.press("Control+A");
  await runCommand(page, "Clearsight: Mark Selection as Reviewed");
  let after = [];
  try {
    after = await waitFor(async () => {
      const markers = await problems(page);
      return !has(markers, "ai_helper.py", "CS-P001", 1) ? markers : false;
    }, "CS-P001 to go after Mark Selection as Reviewed");
  } catch (error) {
    after = await problems(page);
    log(String(error));
  }
  report.problems.afterReview = after;
  check("provenance: Mark Selection as Reviewed clears CS-P001", !has(after, "ai_helper.py", "CS-P001", 1), after);
  // Close the report: its webview can take the keyboard focus when it re-renders.
  await page.click('.tab:has-text("Clearsight: Provenance") .tab-actions .action-label', { timeout: 5000 }).catch(() => undefined);
}

/**
 * The Review Changes view (Source Control sidebar): an untracked file is part of the change,
 * so after a refresh the view lists its hunk with the risk of its new eval(); a click opens
 * the file; switching the scope to new code says so in the status bar.
 */
async function checkReview(page, workspace) {
  writeFileSync(path.join(workspace, "fresh.py"), "def run(text):\n    return eval(text)\n");
  await runCommand(page, "Focus on Clearsight: Review Changes View");
  await runCommand(page, "Clearsight: Refresh Review");
  const listed = await waitFor(async () => {
    const panes = await page.$$eval(".pane", (items) =>
      items
        .filter((pane) => (pane.querySelector(".pane-header")?.innerText ?? "").includes("Review Changes"))
        .map((pane) => pane.innerText),
    );
    return panes.find((text) => text.includes("fresh.py:1-2") && /risk \d/.test(text));
  }, "fresh.py's hunk in the Review Changes view").catch(() => undefined);
  report.review = listed;
  check("review: the Review Changes view lists the new file's hunk with its risk", Boolean(listed), listed);
  let opened;
  if (listed) {
    // fresh.py was never opened before: a tab for it is the click's doing.
    await page.click('.pane .monaco-list-row:has-text("fresh.py:1-2")');
    opened = await waitFor(async () => {
      // The label, not innerText: a narrow tab wraps its name ("fresh\n.py").
      const tabs = await page.$$eval(".tab", (items) => items.map((tab) => tab.getAttribute("aria-label") ?? ""));
      return tabs.find((label) => label.startsWith("fresh.py"));
    }, "fresh.py opened from the view").catch(() => undefined);
  }
  check("review: a click on a hunk opens its file", Boolean(opened), opened);
  await runCommand(page, "Clearsight: Switch Between All Findings and New Code");
  const statusText = await waitFor(async () => {
    const texts = await page.$$eval(".statusbar-item", (items) => items.map((item) => item.innerText));
    return texts.find((text) => /Clearsight new: \d+ sec/.test(text));
  }, "the new code mode in the status bar").catch(() => undefined);
  check("review: switching the scope shows new code in the status bar", Boolean(statusText), statusText);
  // complex.py is as committed: its old CS-C001 leaves the Problems panel in the new code
  // mode, while fresh.py's new eval() stays.
  const newOnly = await waitFor(async () => {
    const markers = await problems(page);
    return !has(markers, "complex.py", "CS-C001", TANGLED_LINE) && has(markers, "fresh.py", "B307", 2) ? markers : false;
  }, "complex.py's old finding to leave Problems").catch(() => undefined);
  report.problems.newCode = newOnly ?? (await problems(page));
  check("review: in new code mode Problems drops the committed file's finding and keeps the new one", Boolean(newOnly), report.problems.newCode);
  await runCommand(page, "Clearsight: Switch Between All Findings and New Code");
  await waitFor(async () => {
    const texts = await page.$$eval(".statusbar-item", (items) => items.map((item) => item.innerText));
    return texts.some((text) => /Clearsight \d+ sec/.test(text));
  }, "every finding shown again").catch(() => undefined);
  const everything = await waitFor(async () => {
    const markers = await problems(page);
    return has(markers, "complex.py", "CS-C001", TANGLED_LINE) ? markers : false;
  }, "complex.py's finding back in Problems").catch(() => undefined);
  check("review: switching back brings the committed file's finding back to Problems", Boolean(everything), everything ?? (await problems(page)));
}

/**
 * Clearsight: Show Risk Report: the server's page in a webview, with the extension's own
 * plotly.js (the page's CSP allows nothing else): the hotspot map is drawn, and a file link
 * of the functions table opens that file.
 */
/** A Jupyter notebook opened in VS Code's notebook editor: its cells' findings, in the cell. */
async function checkNotebook(page, workspace) {
  const cells = [
    { cell_type: "markdown", metadata: {}, source: ["# Loading data"] },
    { cell_type: "code", execution_count: null, metadata: {}, outputs: [], source: ["%matplotlib inline\n", "import os"] },
    { cell_type: "code", execution_count: null, metadata: {}, outputs: [], source: ["def load(text):\n", "    return eval(text)"] },
  ];
  const notebook = { cells, metadata: { kernelspec: { display_name: "Python 3", language: "python", name: "python3" }, language_info: { name: "python" } }, nbformat: 4, nbformat_minor: 5 };
  writeFileSync(path.join(workspace, "analysis.ipynb"), JSON.stringify(notebook, null, 1) + "\n");
  await openFile(page, "analysis.ipynb");
  let found = [];
  try {
    found = await waitFor(async () => {
      const markers = await problems(page);
      return has(markers, "analysis.ipynb", "B307", 2) ? markers : false;
    }, "B307 in the notebook's cell");
  } catch (error) {
    found = await problems(page);
    log(String(error));
  }
  report.problems.notebook = found;
  if (args.screenshot) {
    await page.screenshot({ path: args.screenshot.replace(/\.png$/, "-notebook.png") });
  }
  check("notebook: eval() in the third cell is B307 on the cell's line 2", has(found, "analysis.ipynb", "B307", 2), found);
  check(
    "notebook: the %matplotlib magic is not a syntax error",
    found.length > 0 && !found.some((marker) => marker.file === "analysis.ipynb" && marker.code === "CS-E001"),
    found.filter((marker) => marker.file === "analysis.ipynb"),
  );
}

async function checkRiskReport(page) {
  await runCommand(page, "Clearsight: Show Risk Report");
  // The webview's document is a frame inside VS Code's webview frames.
  const frame = await waitFor(async () => {
    for (const candidate of page.frames()) {
      const drawn = await candidate
        .evaluate(() => document.querySelectorAll("#hotspots g.slice").length)
        .catch(() => 0);
      if (drawn > 0) return candidate;
    }
    return false;
  }, "the risk report's hotspot map in its webview", 120000).catch(() => undefined);
  let tiles = 0;
  let links = 0;
  if (frame) {
    tiles = await frame.evaluate(() => document.querySelectorAll("#hotspots g.slice").length);
    links = await frame.evaluate(() => document.querySelectorAll("#functions a.place").length);
  }
  report.riskReport = { tiles, links };
  check("risk report: Show Risk Report draws the hotspot map with the bundled plotly.js", tiles > 1, report.riskReport);
  let opened;
  if (frame && links) {
    const target = await frame.evaluate(() => document.querySelector("#functions a.place").textContent);
    const name = target.split(":")[0].split("/").pop();
    await frame.click("#functions a.place");
    opened = await waitFor(async () => {
      const tabs = await page.$$eval(".tab", (items) => items.map((tab) => tab.getAttribute("aria-label") ?? ""));
      return tabs.find((label) => label.startsWith(name));
    }, `${name} opened from the risk report`).catch(() => undefined);
  }
  check("risk report: a file link in the report opens the file", Boolean(opened), opened);
}

// -- an untrusted workspace ------------------------------------------------------------------

/**
 * A workspace whose settings name an interpreter inside it (which would leave a marker file
 * if it ever ran) and importStrategy fromEnvironment. Opened untrusted (Restricted Mode),
 * the extension must ignore both, run the bundled server with python3 from PATH, and say so.
 */
function makeUntrustedWorkspace(root) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(path.join(root, ".vscode"), { recursive: true });
  writeFileSync(path.join(root, "insecure.py"), INSECURE);
  const evil = path.join(root, "evil-python");
  writeFileSync(evil, `#!/bin/sh\ntouch "${path.join(root, "EVIL_RAN")}"\nexec python3 "$@"\n`, { mode: 0o755 });
  writeFileSync(
    path.join(root, ".vscode", "settings.json"),
    JSON.stringify({ "clearsight.interpreter": [evil], "clearsight.importStrategy": "fromEnvironment" }, null, 2),
  );
}

async function untrustedScenario(page, workspace) {
  await page.goto(`http://127.0.0.1:${report.port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: TIMEOUT });
  log("workbench loaded (untrusted)");
  await openFile(page, "insecure.py");
  await page.keyboard.press("Control+Shift+M");
  await page.waitForSelector(".markers-panel", { timeout: TIMEOUT });
  let markers = [];
  try {
    markers = await waitFor(async () => {
      const found = await problems(page);
      return has(found, "insecure.py", "B506", 7) ? found : false;
    }, "B506 from the bundled server");
  } catch (error) {
    markers = await problems(page);
    log(String(error));
  }
  report.problems.untrusted = markers;
  const restricted = await page.$$eval(".statusbar-item, .window-title, .monaco-workbench", (items) =>
    items.some((item) => /Restricted Mode/.test(item.innerText ?? "")),
  );
  check("the workspace is open in Restricted Mode", restricted, undefined);
  check("untrusted: the bundled server still reports B506 on insecure.py line 7", has(markers, "insecure.py", "B506", 7), markers);
  check("untrusted: the workspace's own interpreter never ran", !existsSync(path.join(workspace, "EVIL_RAN")), undefined);
  const toast = await waitFor(async () => {
    const texts = await page.$$eval(".notification-toast", (items) => items.map((item) => item.innerText));
    return texts.find((text) => text.includes("untrusted"));
  }, "the untrusted-workspace notification").catch(() => undefined);
  check("untrusted: the user is told only the bundled server runs", Boolean(toast) && /bundled server/.test(toast), toast);
  const servers = clearsightServers(codeServerPid).map((pid) => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((v) => v.startsWith("PYTHONPATH=")) ?? "");
  check("untrusted: the server runs with the bundled libraries on PYTHONPATH", servers.length === 1 && servers[0].includes(`${path.sep}bundled${path.sep}libs`), servers);
}

// -- a server that prints garbage on stdout ---------------------------------------------------

/**
 * clearsight.interpreter (user settings) names a wrapper, outside the workspace, that prints a
 * line to stdout before starting Python: the LSP stream is broken. The extension must say so,
 * in words, in its output channel.
 */
function makeNoisyInterpreter(folder) {
  mkdirSync(folder, { recursive: true });
  const wrapper = path.join(folder, "noisy-python");
  writeFileSync(wrapper, '#!/bin/sh\necho "DEBUG: hello from a noisy sitecustomize"\nexec python3 "$@"\n', { mode: 0o755 });
  return wrapper;
}

function filesUnder(folder) {
  if (!existsSync(folder)) {
    return [];
  }
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(folder, entry.name)) : [path.join(folder, entry.name)],
  );
}

async function garbageScenario(page, workspace, userData) {
  await page.goto(`http://127.0.0.1:${report.port}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: TIMEOUT });
  await openFile(page, "insecure.py");
  const logs = path.join(userData, "logs");
  const said = await waitFor(() => {
    const logFile = filesUnder(logs).find((file) => /Clearsight\.log$/.test(file));
    const text = logFile ? readFileSync(logFile, "utf8") : "";
    return text.includes("not LSP") ? text : false;
  }, "the output channel to explain the broken stream").catch(() => "");
  report.outputChannel = said.split("\n").filter((line) => /not LSP|DEBUG/.test(line)).slice(0, 5);
  check("garbage on stdout: the output channel says the server wrote something that is not LSP", said.includes("not LSP"), report.outputChannel);
  check("garbage on stdout: the message quotes what was printed", said.includes("hello from a noisy sitecustomize"), undefined);
  const toast = await waitFor(async () => {
    const texts = await page.$$eval(".notification-toast", (items) => items.map((item) => item.innerText));
    return texts.find((text) => text.includes("not LSP"));
  }, "the broken-stream notification").catch(() => undefined);
  check("garbage on stdout: the user is told, with a way to the output", Boolean(toast) && toast.includes("Show Output"), toast);
}

async function main() {
  const started = Date.now();
  const env = scratchEnv();
  const userData = path.join(scratch, "user-data");
  const extensions = path.join(scratch, "extensions");
  rmSync(userData, { recursive: true, force: true });
  rmSync(extensions, { recursive: true, force: true });
  mkdirSync(path.join(userData, "User"), { recursive: true });
  writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify(
      {
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "workbench.enableExperiments": false,
        "extensions.autoUpdate": false,
        "extensions.autoCheckUpdates": false,
        "extensions.ignoreRecommendations": true,
        "telemetry.telemetryLevel": "off",
        "chat.disableAIFeatures": true,
        "git.enabled": false,
        "window.commandCenter": false,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        // No trust dialog: a folder nobody trusted opens in Restricted Mode.
        "security.workspace.trust.startupPrompt": "never",
      },
      null,
      2,
    ),
  );
  const untrusted = args.scenario === "untrusted";
  const garbage = args.scenario === "garbage";
  if (garbage) {
    const wrapper = makeNoisyInterpreter(path.join(scratch, "noisy"));
    const settingsFile = path.join(userData, "User", "settings.json");
    const settings = JSON.parse(readFileSync(settingsFile, "utf8"));
    settings["clearsight.interpreter"] = [wrapper];
    writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  }
  const workspace = path.join(scratch, untrusted ? "untrusted-workspace" : "workspace");
  if (untrusted) {
    makeUntrustedWorkspace(workspace);
  } else {
    makeWorkspace(workspace);
  }
  report.workspace = workspace;

  log("installing the extension");
  execFileSync(args["code-server"], ["--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", path.resolve(args.vsix)], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  check("the .vsix installs into code-server", existsSync(extensions) && readFileSync(path.join(extensions, "extensions.json"), "utf8").includes("clearsight"), undefined);

  const server = await startCodeServer(env, userData, extensions);
  report.port = server.port;
  codeServerPid = server.pid;
  log(`code-server on port ${server.port}`);
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: args.chromium,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
      ],
      env,
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(TIMEOUT);
    try {
      if (untrusted) {
        await untrustedScenario(page, workspace);
      } else if (garbage) {
        await garbageScenario(page, workspace, userData);
      } else {
        await scenario(page, workspace);
      }
    } catch (error) {
      check("the scenario ran to its end", false, String(error && error.stack ? error.stack : error));
      await page.screenshot({ path: path.join(scratch, "failure.png") }).catch(() => undefined);
    }
  } finally {
    await browser?.close().catch(() => undefined);
    server.stop();
  }
  report.seconds = (Date.now() - started) / 1000;
  report.ok = report.checks.length > 0 && report.checks.every((item) => item.ok);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

main().catch((error) => {
  check("the driver ran", false, String(error && error.stack ? error.stack : error));
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = 1;
});
