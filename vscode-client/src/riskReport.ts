/**
 * The risk report's page (the server's `clearsight/riskReport`) made fit for a webview:
 * a Content-Security-Policy that allows only the extension's own plotly.js and the page's
 * inline scripts (by nonce), plotly.js put at the page's slot, and the page's "open this
 * file" messages checked before anything is opened. Pure: no vscode import, unit-tested.
 */

export interface WebviewParts {
  /** The webview's `cspSource` (where its local resources come from). */
  cspSource: string;
  /** The webview URI of the extension's plotly.min.js. */
  plotlySrc: string;
  nonce: string;
}

/** The page with its CSP, plotly.js at `slot`, and a nonce on every inline script. */
export function webviewPage(html: string, slot: string, parts: WebviewParts): string {
  if (!html.includes(slot)) {
    throw new Error("the report page has no place for plotly.js");
  }
  const policy = [
    "default-src 'none'",
    `script-src ${parts.cspSource} 'nonce-${parts.nonce}'`,
    // plotly.js styles its charts with inline styles and <style> elements.
    `style-src ${parts.cspSource} 'unsafe-inline'`,
    `img-src ${parts.cspSource} data:`,
    `font-src ${parts.cspSource}`,
  ].join("; ");
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}">`;
  const withNonces = html.replace(/<script(?=[\s>])/g, `<script nonce="${parts.nonce}"`);
  const script = `<script nonce="${parts.nonce}" src="${parts.plotlySrc}"></script>`;
  return withNonces.replace("<head>", `<head>\n${meta}`).replace(slot, script);
}

export interface OpenRequest {
  path: string;
  line: number;
}

/** A message from the page asking to open a file of the report, or undefined. Paths are
 * the report's (relative to the repository root); anything leaving it is refused. */
export function openRequest(message: unknown): OpenRequest | undefined {
  if (typeof message !== "object" || message === null) {
    return undefined;
  }
  const { type, path, line } = message as Record<string, unknown>;
  if (type !== "open" || typeof path !== "string" || !path || path.startsWith("/")) {
    return undefined;
  }
  if (path.split(/[\\/]/).some((part) => part === "..")) {
    return undefined;
  }
  const number = typeof line === "number" && Number.isInteger(line) && line > 0 ? line : 1;
  return { path, line: number };
}

/** A nonce for the page's scripts. */
export function makeNonce(random: () => number = Math.random): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let nonce = "";
  for (let i = 0; i < 32; i += 1) {
    nonce += alphabet.charAt(Math.floor(random() * alphabet.length));
  }
  return nonce;
}
