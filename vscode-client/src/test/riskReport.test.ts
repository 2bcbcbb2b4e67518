import assert from "node:assert/strict";
import test from "node:test";
import { makeNonce, openRequest, webviewPage } from "../riskReport";

const SLOT = "<!-- clearsight:plotly -->";
const PAGE = `<!DOCTYPE html><html><head><title>r</title>${SLOT}</head><body>
<script type="application/json" id="clearsight-data">{}</script><script>run()</script></body></html>`;
const PARTS = { cspSource: "vscode-resource:", plotlySrc: "vscode-resource:/media/plotly.min.js", nonce: "N0nce" };

test("the page gets a CSP, plotly.js at the slot and a nonce on each inline script", () => {
  const page = webviewPage(PAGE, SLOT, PARTS);
  assert.match(page, /<head>\n<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src vscode-resource: 'nonce-N0nce'/);
  assert.ok(page.includes('<script nonce="N0nce" src="vscode-resource:/media/plotly.min.js"></script>'));
  assert.ok(!page.includes(SLOT));
  assert.equal((page.match(/<script nonce="N0nce"/g) ?? []).length, 3);
  assert.ok(!page.includes("'unsafe-eval'"));
});

test("a page without the slot is refused", () => {
  assert.throws(() => webviewPage("<html><head></head></html>", SLOT, PARTS), /no place for plotly.js/);
});

test("only open messages for paths inside the repository are followed", () => {
  assert.deepEqual(openRequest({ type: "open", path: "app/views.py", line: 12 }), { path: "app/views.py", line: 12 });
  assert.deepEqual(openRequest({ type: "open", path: "a.py", line: -3 }), { path: "a.py", line: 1 });
  assert.equal(openRequest({ type: "open", path: "../../etc/passwd", line: 1 }), undefined);
  assert.equal(openRequest({ type: "open", path: "/etc/passwd" }), undefined);
  assert.equal(openRequest({ type: "run", path: "a.py" }), undefined);
  assert.equal(openRequest("open a.py"), undefined);
});

test("nonces are 32 characters of letters and digits", () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{32}$/);
  assert.notEqual(nonce, makeNonce());
});
