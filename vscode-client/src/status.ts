/** The status-bar item's counts, computed from the open file's diagnostics (pure). */

export interface DiagnosticLike {
  code?: string | number | { value: string | number };
  source?: string;
}

export interface Counts {
  security: number;
  complexity: number;
  unreviewedAi: number;
}

export const SOURCE = "clearsight";

export function codeOf(diagnostic: DiagnosticLike): string {
  const code = diagnostic.code;
  if (code === undefined) {
    return "";
  }
  return String(typeof code === "object" ? code.value : code);
}

/** security = bandit's B codes, complexity = CS-C…, unreviewed AI = CS-P001. */
export function countFindings(diagnostics: readonly DiagnosticLike[]): Counts {
  const counts: Counts = { security: 0, complexity: 0, unreviewedAi: 0 };
  for (const diagnostic of diagnostics) {
    if (diagnostic.source !== undefined && diagnostic.source !== SOURCE) {
      continue;
    }
    const code = codeOf(diagnostic);
    if (code.startsWith("B")) {
      counts.security += 1;
    } else if (code.startsWith("CS-C")) {
      counts.complexity += 1;
    } else if (code === "CS-P001") {
      counts.unreviewedAi += 1;
    }
  }
  return counts;
}

export type ServerState = "starting" | "running" | "stopped" | "failed";

const ICONS: Record<ServerState, string> = {
  starting: "$(sync~spin)",
  running: "$(shield)",
  stopped: "$(circle-slash)",
  failed: "$(error)",
};

/**
 * `$(shield) Clearsight 2 sec · 1 cx · 0 AI` (counts only when a Python file is open). In the
 * new code mode (`scope` "changed") the diagnostics are the change's, and the text says so:
 * `$(shield) Clearsight new: 2 sec · 1 cx · 0 AI`.
 */
export function statusText(state: ServerState, counts: Counts | undefined, scope?: string): string {
  const base = `${ICONS[state]} Clearsight`;
  if (state !== "running" || !counts) {
    return state === "running" ? base : `${base} (${state})`;
  }
  const label = scope === "changed" ? " new:" : "";
  return `${base}${label} ${counts.security} sec · ${counts.complexity} cx · ${counts.unreviewedAi} AI`;
}

export function statusTooltip(state: ServerState, counts: Counts | undefined, scope?: string): string {
  const lines = [`Clearsight server: ${state}`];
  if (scope === "changed") {
    lines.push("New code: only what the change introduced, and adjacent findings.");
  }
  if (counts) {
    lines.push(
      `Security findings: ${counts.security}`,
      `Complexity findings: ${counts.complexity}`,
      `Unreviewed AI blocks: ${counts.unreviewedAi}`,
    );
  }
  lines.push("Click to show the provenance report.");
  return lines.join("\n");
}
