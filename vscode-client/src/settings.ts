/**
 * VS Code's `clearsight.*` settings mapped to the server's `[tool.clearsight]` table.
 *
 * Only settings the user set explicitly are sent: an unset one leaves the project's
 * pyproject.toml (and then the server's default) in charge, as the server lays the editor's
 * table over pyproject.toml's. Keys are kebab-case, as in pyproject.toml. Client-only settings
 * (interpreter, importStrategy) never reach the server, which would call them unknown.
 */

/** Returns the value the user set (user, workspace or folder level), or undefined. */
export type ReadSetting = (key: string) => unknown;

export type ServerSettings = Record<string, unknown>;

/** [VS Code key under `clearsight.`, path in the server's table]. */
export const SETTING_MAP: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["select", ["select"]],
  ["ignore", ["ignore"]],
  ["severity", ["severity"]],
  ["complexity.enabled", ["complexity", "enabled"]],
  ["complexity.maxComplexity", ["complexity", "max-complexity"]],
  ["complexity.minMaintainabilityRank", ["complexity", "min-maintainability-rank"]],
  ["security.enabled", ["security", "enabled"]],
  ["security.severity", ["security", "severity"]],
  ["security.confidence", ["security", "confidence"]],
  ["dependencies.enabled", ["dependencies", "enabled"]],
  ["performance.enabled", ["performance", "enabled"]],
  ["provenance", ["provenance"]],
  ["limits.maxFileBytes", ["limits", "max-file-bytes"]],
  ["debounce", ["debounce"]],
  ["scope", ["scope"]],
  ["base", ["base"]],
  ["baseline", ["baseline"]],
];

/** Settings the client keeps to itself. */
export const CLIENT_ONLY_SETTINGS = ["interpreter", "importStrategy", "trace.server"] as const;

/** The table sent as initializationOptions.settings and as the `clearsight` configuration section. */
export function serverSettings(read: ReadSetting): ServerSettings {
  const table: ServerSettings = {};
  for (const [key, target] of SETTING_MAP) {
    const value = read(key);
    if (value === undefined || value === null) {
      continue;
    }
    let node = table;
    for (const part of target.slice(0, -1)) {
      const next = node[part];
      node = (typeof next === "object" && next !== null ? next : (node[part] = {})) as ServerSettings;
    }
    node[target[target.length - 1]] = value;
  }
  return table;
}

/**
 * The table with the project's interpreter (resolved by the client, see `projectInterpreter`)
 * as `[tool.clearsight.dependencies] python`: the server checks imports against the user's
 * selected environment. Without one the table is unchanged, and pyproject.toml decides.
 */
export function withProjectInterpreter(table: ServerSettings, python: string | undefined): ServerSettings {
  if (python === undefined) {
    return table;
  }
  const current = table.dependencies;
  const dependencies = typeof current === "object" && current !== null ? (current as ServerSettings) : {};
  return { ...table, dependencies: { ...dependencies, python } };
}

/** The explicitly set value from `WorkspaceConfiguration.inspect()`, most specific first. */
export function explicitValue<T>(
  inspected:
    | {
        workspaceFolderLanguageValue?: T;
        workspaceLanguageValue?: T;
        globalLanguageValue?: T;
        workspaceFolderValue?: T;
        workspaceValue?: T;
        globalValue?: T;
      }
    | undefined,
): T | undefined {
  if (!inspected) {
    return undefined;
  }
  return (
    inspected.workspaceFolderLanguageValue ??
    inspected.workspaceLanguageValue ??
    inspected.globalLanguageValue ??
    inspected.workspaceFolderValue ??
    inspected.workspaceValue ??
    inspected.globalValue
  );
}
