/**
 * The Review Changes view's tree, built from the server's `clearsight/review` answer (the
 * JSON document of `clearsight review`, docs/review.md). Pure: no VS Code API here, so the
 * Node test runner checks it.
 */

export interface ReviewFinding {
  path: string;
  line: number;
  column: number;
  code: string;
  severity: string;
  message: string;
  where?: string;
  fingerprint?: string;
}

export interface ReviewHunk {
  path: string;
  new_start: number;
  new_count: number;
  score: number;
  level: string;
  reasons: string[];
  ai_lines?: number;
  findings?: string[];
}

export interface ReviewDocument {
  root?: string;
  base?: { name?: string; commit?: string; how?: string };
  summary?: { effort?: number; effort_reasons?: string[]; files?: number; introduced?: Record<string, number> };
  hunks?: ReviewHunk[];
  findings?: { introduced?: ReviewFinding[] };
  files?: { path: string; ai?: { unreviewed_blocks?: { start: number; end: number }[] } }[];
}

export interface ReviewNode {
  label: string;
  description?: string;
  tooltip?: string;
  /** Where a click goes: a path relative to the root, and a 1-based line. */
  path?: string;
  line?: number;
  /** "summary", "hunk" or "finding": the tree item's icon. */
  kind: "summary" | "hunk" | "finding";
  level?: string;
  ai?: boolean;
  children: ReviewNode[];
}

/** At most this many hunks are listed: the rest are counted in the summary's tooltip. */
export const MAX_HUNKS = 200;

export function reviewNodes(review: ReviewDocument): ReviewNode[] {
  const hunks = (review.hunks ?? []).filter((hunk) => hunk.new_count > 0);
  const findings = new Map<string, ReviewFinding>();
  for (const finding of review.findings?.introduced ?? []) {
    if (finding.fingerprint) {
      findings.set(finding.fingerprint, finding);
    }
  }
  const unreviewed = unreviewedLines(review);
  const nodes: ReviewNode[] = [summaryNode(review, hunks.length)];
  for (const hunk of hunks.slice(0, MAX_HUNKS)) {
    const end = hunk.new_start + Math.max(hunk.new_count, 1) - 1;
    const ai = (hunk.ai_lines ?? 0) > 0 || overlapsUnreviewed(unreviewed.get(hunk.path), hunk.new_start, end);
    const children = (hunk.findings ?? [])
      .map((fingerprint) => findings.get(fingerprint))
      .filter((finding): finding is ReviewFinding => finding !== undefined)
      .map((finding) => ({
        label: `${finding.code} line ${finding.line}`,
        description: finding.message,
        tooltip: `${finding.code} [${finding.severity}${finding.where && finding.where !== "changed" ? `, ${finding.where}` : ""}] ${finding.message}`,
        path: finding.path,
        line: finding.line,
        kind: "finding" as const,
        level: finding.severity,
        children: [],
      }));
    nodes.push({
      label: `${hunk.path}:${hunk.new_start}${end > hunk.new_start ? `-${end}` : ""}`,
      description: `${ai ? "AI · " : ""}risk ${hunk.score}${hunk.reasons.length ? ` · ${hunk.reasons.join("; ")}` : ""}`,
      tooltip: [`Risk ${hunk.score} (${hunk.level})`, ...hunk.reasons, ai ? "AI-written, not reviewed" : ""]
        .filter(Boolean)
        .join("\n"),
      path: hunk.path,
      line: hunk.new_start,
      kind: "hunk",
      level: hunk.level,
      ai,
      children,
    });
  }
  return nodes;
}

function summaryNode(review: ReviewDocument, hunkCount: number): ReviewNode {
  const summary = review.summary ?? {};
  const introduced = Object.values(summary.introduced ?? {}).reduce((a, b) => a + b, 0);
  const base = review.base?.name ?? "?";
  const shown = Math.min(hunkCount, MAX_HUNKS);
  const more = hunkCount > shown ? `; ${hunkCount - shown} more hunks not listed` : "";
  return {
    label: `Against ${base}: effort ${summary.effort ?? "?"}/5`,
    description: `${summary.files ?? 0} files · ${introduced} new findings`,
    tooltip: [review.base?.how ?? "", ...(summary.effort_reasons ?? [])].filter(Boolean).join("\n") + more,
    kind: "summary",
    children: [],
  };
}

function unreviewedLines(review: ReviewDocument): Map<string, [number, number][]> {
  const found = new Map<string, [number, number][]>();
  for (const file of review.files ?? []) {
    const blocks = file.ai?.unreviewed_blocks ?? [];
    if (blocks.length) {
      found.set(
        file.path,
        blocks.map((block) => [block.start, block.end]),
      );
    }
  }
  return found;
}

function overlapsUnreviewed(blocks: [number, number][] | undefined, first: number, last: number): boolean {
  return (blocks ?? []).some(([start, end]) => start <= last && end >= first);
}

/** The other scope: "all" <-> "changed". */
export function otherScope(scope: unknown): "all" | "changed" {
  return scope === "changed" ? "all" : "changed";
}
