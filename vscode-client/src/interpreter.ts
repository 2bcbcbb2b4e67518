/**
 * Which Python runs the Clearsight server. Pure logic plus one real probe (a child process):
 * nothing here imports `vscode`, so it is unit-tested with the Node test runner.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";

/** The bundled server and its dependencies are built for Python 3.11 and newer. */
export const MIN_PYTHON: readonly [number, number] = [3, 11];

export type InterpreterSource = "setting" | "python-extension" | "path";

export interface InterpreterCandidate {
  /** The executable and any arguments before the script (`["py", "-3.12"]`). */
  command: string[];
  source: InterpreterSource;
}

export interface InterpreterInputs {
  /** `clearsight.interpreter` as VS Code resolved it (in an untrusted workspace: user value only). */
  setting: readonly string[] | undefined;
  /** The interpreter the Python extension selected for this resource, when that extension is present. */
  pythonExtension: readonly string[] | undefined;
  /** Is the workspace trusted? */
  trusted: boolean;
  /** The workspace folders' paths: in an untrusted workspace no interpreter inside them is run. */
  workspaceFolders: readonly string[];
  /** The name looked up on PATH last. */
  pathPython?: string;
}

function usable(command: readonly string[] | undefined): command is string[] {
  return Array.isArray(command) && command.length > 0 && command.every((part) => typeof part === "string" && part.trim() !== "");
}

/** Is `file` inside one of `folders`? (An executable in an untrusted workspace is untrusted.) */
export function isInside(file: string, folders: readonly string[]): boolean {
  if (!path.isAbsolute(file)) {
    return false; // a bare name is looked up on PATH, outside the workspace
  }
  const resolved = path.resolve(file);
  return folders.some((folder) => {
    const relative = path.relative(path.resolve(folder), resolved);
    return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
  });
}

/**
 * The interpreters to try, in order: the `clearsight.interpreter` setting, the Python
 * extension's selection, then `python3` on PATH. In an untrusted workspace the Python
 * extension's choice (often the workspace's own `.venv`) and anything inside the workspace
 * are left out: only an interpreter from outside the workspace may run.
 */
export function interpreterCandidates(inputs: InterpreterInputs): InterpreterCandidate[] {
  const candidates: InterpreterCandidate[] = [];
  if (usable(inputs.setting)) {
    candidates.push({ command: [...inputs.setting], source: "setting" });
  }
  if (inputs.trusted && usable(inputs.pythonExtension)) {
    candidates.push({ command: [...inputs.pythonExtension], source: "python-extension" });
  }
  candidates.push({ command: [inputs.pathPython ?? "python3"], source: "path" });
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    const key = JSON.stringify(candidate.command);
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return inputs.trusted || !isInside(candidate.command[0], inputs.workspaceFolders);
  });
}

/**
 * The project's interpreter, whose environment the server looks imports up in (it reads that
 * environment's files and never runs it): the `clearsight.interpreter` setting or the Python
 * extension's selection, under the same workspace-trust rules as for running the server, even
 * when the server itself runs elsewhere (that interpreter is too old, say). Never the
 * `python3` fallback, and only an absolute path (a bare name such as `py` names no folder):
 * otherwise undefined, and the server uses the project's .venv or its own environment.
 */
export function projectInterpreter(inputs: InterpreterInputs): string | undefined {
  const chosen = interpreterCandidates(inputs).find((candidate) => candidate.source !== "path");
  const executable = chosen?.command[0];
  return executable !== undefined && path.isAbsolute(executable) ? executable : undefined;
}

/** What one interpreter said about itself. */
export interface ProbeResult {
  candidate: InterpreterCandidate;
  /** [major, minor, micro] when it ran. */
  version?: [number, number, number];
  executable?: string;
  /** Can this environment import `clearsight` itself (for importStrategy fromEnvironment)? */
  hasClearsight?: boolean;
  /** Why it could not be used to ask (not found, crashed, printed nonsense). */
  error?: string;
}

/** Run by each candidate: prints its version, its path and whether it has clearsight. */
export const PROBE_SCRIPT =
  "import importlib.util, json, sys; print(json.dumps({'version': list(sys.version_info[:3]), " +
  "'executable': sys.executable, 'clearsight': importlib.util.find_spec('clearsight') is not None}))";

/** Parse the probe's stdout (the last non-empty line, so a noisy sitecustomize cannot break it). */
export function parseProbe(candidate: InterpreterCandidate, stdout: string): ProbeResult {
  const lines = stdout.split(/\r?\n/).filter((line) => line.trim() !== "");
  const last = lines[lines.length - 1];
  try {
    const data = JSON.parse(last ?? "") as { version?: unknown; executable?: unknown; clearsight?: unknown };
    const version = data.version;
    if (Array.isArray(version) && version.length === 3 && version.every((n) => Number.isInteger(n))) {
      return {
        candidate,
        version: version as [number, number, number],
        executable: typeof data.executable === "string" ? data.executable : undefined,
        hasClearsight: data.clearsight === true,
      };
    }
  } catch {
    // fall through
  }
  return { candidate, error: `printed something that is not a Python version: ${JSON.stringify(stdout.slice(0, 200))}` };
}

export function isSupported(version: readonly number[] | undefined): boolean {
  if (!version) {
    return false;
  }
  const [major, minor] = version;
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/** Ask one interpreter (a real child process) about itself. */
export function probe(candidate: InterpreterCandidate, timeoutMs = 15000): Promise<ProbeResult> {
  const [file, ...args] = candidate.command;
  return new Promise((resolve) => {
    execFile(file, [...args, "-c", PROBE_SCRIPT], { timeout: timeoutMs, windowsHide: true }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const reason =
          code === "ENOENT"
            ? "not found"
            : code === "EACCES"
              ? "not executable"
              : `failed: ${(stderr || error.message).trim().split(/\r?\n/).slice(-1)[0]}`;
        resolve({ candidate, error: reason });
        return;
      }
      resolve(parseProbe(candidate, stdout));
    });
  });
}

const SOURCE_NAMES: Record<InterpreterSource, string> = {
  setting: "the clearsight.interpreter setting",
  "python-extension": "the interpreter selected in the Python extension",
  path: "python3 on PATH",
};

function describe(result: ProbeResult): string {
  const command = result.candidate.command.join(" ");
  if (result.error) {
    return `${command} (${SOURCE_NAMES[result.candidate.source]}): ${result.error}`;
  }
  return `${command} (${SOURCE_NAMES[result.candidate.source]}) is Python ${result.version?.join(".")}`;
}

export type Choice = { ok: true; result: ProbeResult; skipped: string[] } | { ok: false; message: string };

/**
 * The first candidate that runs and is new enough. Otherwise one message that says which
 * Pythons were tried, which version is needed and which setting to change.
 */
export function chooseInterpreter(results: readonly ProbeResult[], trusted = true): Choice {
  const skipped: string[] = [];
  for (const result of results) {
    if (!result.error && isSupported(result.version)) {
      return { ok: true, result, skipped };
    }
    skipped.push(describe(result));
  }
  const needed = `Python ${MIN_PYTHON.join(".")} or newer`;
  const fix = trusted
    ? `Install ${needed}, or set "clearsight.interpreter" to one (e.g. ["/usr/bin/python3.12"]), or choose one with "Python: Select Interpreter".`
    : `This workspace is untrusted, so only an interpreter from outside it is used: install ${needed} as python3 on PATH, set "clearsight.interpreter" in your user settings, or trust the workspace.`;
  return {
    ok: false,
    message: `Clearsight needs ${needed} to run its server. Tried: ${skipped.join("; ")}. ${fix}`,
  };
}

/** Probe the candidates in order and choose (stops at the first usable one). */
export async function resolveInterpreter(
  candidates: readonly InterpreterCandidate[],
  trusted = true,
  run: (candidate: InterpreterCandidate) => Promise<ProbeResult> = probe,
): Promise<Choice> {
  const results: ProbeResult[] = [];
  for (const candidate of candidates) {
    const result = await run(candidate);
    results.push(result);
    if (!result.error && isSupported(result.version)) {
      break;
    }
  }
  return chooseInterpreter(results, trusted);
}

export type ImportStrategy = "useBundled" | "fromEnvironment";

export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** What actually runs: the bundled server or the environment's clearsight. */
  strategy: ImportStrategy;
  /** Something worth saying in the output channel (a fallback taken). */
  note?: string;
}

/**
 * How to start the server with the chosen interpreter. `useBundled` puts the extension's
 * bundled libraries first on PYTHONPATH; `fromEnvironment` runs the environment's own
 * clearsight, falling back to the bundled one when that environment lacks it. In an
 * untrusted workspace only the bundled server runs.
 */
export function serverLaunch(options: {
  interpreter: ProbeResult;
  strategy: ImportStrategy | undefined;
  trusted: boolean;
  bundledLibs: string;
  env: Readonly<Record<string, string | undefined>>;
}): Launch {
  const [command, ...prefix] = options.interpreter.candidate.command;
  const args = [...prefix, "-m", "clearsight", "server"];
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.env)) {
    if (value !== undefined) {
      env[key] = value;
    }
  }
  env.PYTHONUNBUFFERED = "1";
  let note: string | undefined;
  let strategy: ImportStrategy = options.strategy === "fromEnvironment" ? "fromEnvironment" : "useBundled";
  if (!options.trusted && strategy !== "useBundled") {
    strategy = "useBundled";
    note = "The workspace is untrusted: running the bundled server (clearsight.importStrategy is ignored).";
  } else if (strategy === "fromEnvironment" && !options.interpreter.hasClearsight) {
    strategy = "useBundled";
    note = `${options.interpreter.executable ?? command} cannot import clearsight: running the bundled server instead.`;
  }
  if (strategy === "useBundled") {
    env.PYTHONPATH = [options.bundledLibs, env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  }
  return { command, args, env, strategy, note };
}
