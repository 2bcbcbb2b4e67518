// Opens the risk report's HTML page in headless Chromium with every request that is not
// for the file itself blocked, and writes what it found as JSON: requests that tried to
// leave the page, script errors, each chart's traces as plotly.js holds them and how many
// marks it drew, what a click on a file of the treemap shows, and the functions table.
// tests/test_report_page.py asserts on it.
//
//   node check_page.mjs --page report.html --chromium /usr/bin/chromium --out found.json \
//     [--click app.py] [--filter pick] [--screenshot page.png]
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: args } = parseArgs({
  options: {
    page: { type: "string" },
    chromium: { type: "string" },
    out: { type: "string" },
    click: { type: "string" },
    filter: { type: "string" },
    screenshot: { type: "string" },
  },
});

const found = { blocked: [], errors: [], charts: {} };
const browser = await chromium.launch({
  executablePath: args.chromium,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const address = pathToFileURL(args.page).href;
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url === address) return route.continue();
    found.blocked.push(url);
    return route.abort();
  });
  page.on("console", (message) => {
    if (message.type() === "error") found.errors.push(message.text());
  });
  page.on("pageerror", (error) => found.errors.push(String(error)));
  await page.goto(address);
  await page.waitForSelector('body[data-rendered="true"]', { timeout: 60000 });
  found.charts = await page.evaluate(() => {
    const charts = {};
    for (const element of document.querySelectorAll(".chart")) {
      charts[element.id] = {
        traces: (element.data || []).map((trace) => ({
          type: trace.type, name: trace.name ?? null, ids: trace.ids ?? null,
          values: trace.values ?? null, x: trace.x ?? null, y: trace.y ?? null,
        })),
        // What plotly.js drew: treemap tiles, line markers, bars.
        tiles: element.querySelectorAll("g.slice").length,
        markers: element.querySelectorAll(".scatterlayer .point").length,
        bars: element.querySelectorAll(".barlayer .point").length,
      };
    }
    return charts;
  });
  if (args.click) {
    const name = args.click.split("/").pop();
    await page.locator("#hotspots g.slice", { hasText: name }).last().click();
    await page.waitForFunction(
      (path) => document.getElementById("hotspot-details").textContent.includes(path),
      args.click, { timeout: 10000 },
    );
    found.details = await page.$eval("#hotspot-details", (element) => element.innerText);
  }
  found.flaggedList = await page.$eval("#flagged", (element) => element.innerText);
  found.functionRows = await page.$$eval("#functions tbody tr", (rows) =>
    rows.map((row) => Array.from(row.cells, (cell) => cell.innerText)));
  if (args.filter) {
    await page.fill("#function-filter", args.filter);
    found.filteredRows = await page.$$eval("#functions tbody tr", (rows) =>
      rows.map((row) => Array.from(row.cells, (cell) => cell.innerText)));
  }
  if (args.screenshot) {
    await page.fill("#function-filter", "");
    await page.screenshot({ path: args.screenshot, fullPage: true });
  }
  found.ok = true;
} catch (error) {
  found.ok = false;
  found.message = String(error);
} finally {
  await browser.close();
  writeFileSync(args.out, JSON.stringify(found, null, 2));
}
