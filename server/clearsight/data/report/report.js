(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("clearsight-data").textContent);
  const figures = JSON.parse(document.getElementById("clearsight-figures").textContent);
  const vscode = typeof acquireVsCodeApi === "function" ? acquireVsCodeApi() : null;
  const element = (tag, text, className) => {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  };
  // A place in a file: in VS Code a link that opens it, elsewhere plain text.
  const place = (path, line) => {
    const label = line ? `${path}:${line}` : path;
    if (!vscode) return element("span", label);
    const link = element("a", label, "place");
    link.addEventListener("click", () => vscode.postMessage({ type: "open", path, line: line || 1 }));
    return link;
  };

  document.getElementById("title").textContent = document.title;
  const window_ = data.window;
  if (window_.first) {
    document.getElementById("window").textContent =
      `${window_.revisions} revision(s), ${window_.first.short} (${window_.first.date.slice(0, 10)}) to ` +
      `${window_.last.short} (${window_.last.date.slice(0, 10)}); Clearsight ${data.version}`;
  }
  const notes = document.getElementById("notes");
  for (const note of data.notes) notes.appendChild(element("li", note));

  const colour = getComputedStyle(document.body).color;
  const config = { displaylogo: false, responsive: true };
  for (const [id, figure] of Object.entries(figures)) {
    const empty = figure.data.every((trace) => !(trace.ids || trace.x || []).length);
    if (empty) {
      document.getElementById(id).replaceChildren(element("p", "Nothing to show in this window.", "hint"));
      continue;
    }
    const layout = Object.assign({}, figure.layout, { font: { color: colour } });
    Plotly.newPlot(id, figure.data, layout, config);
  }

  const spots = new Map(data.hotspots.map((spot) => [spot.path, spot]));
  const details = document.getElementById("hotspot-details");
  const showSpot = (path) => {
    const spot = spots.get(path);
    if (!spot) return;
    details.replaceChildren();
    const heading = element("h3");
    heading.append(place(path), element("span", ` risk ${spot.risk}`));
    details.appendChild(heading);
    const reasons = element("ul");
    for (const reason of spot.reasons) reasons.appendChild(element("li", reason));
    details.appendChild(reasons);
    const list = element("ul", undefined, "findings");
    for (const finding of spot.top_findings) {
      const item = element("li");
      item.append(place(path, finding.line), element("span", ` ${finding.code} `),
        element("span", finding.severity, `severity-${finding.severity}`),
        element("span", ` ${finding.message}`));
      list.appendChild(item);
    }
    if (!spot.top_findings.length) list.appendChild(element("li", "no open findings"));
    details.appendChild(list);
  };
  // A click on a file lists its findings (and does not zoom: a file has nothing inside);
  // a click on a folder zooms into it, as plotly.js does.
  const map = document.getElementById("hotspots");
  if (map.on) map.on("plotly_treemapclick", (event) => {
    const point = event.points && event.points[0];
    if (!point || !spots.has(point.id)) return true;
    showSpot(point.id);
    return false;
  });

  const flagged = document.getElementById("flagged");
  for (const change of data.dependencies) {
    if (!change.verdict) continue;
    const item = element("li");
    item.append(element("strong", change.name), element("span", ` (${change.verdict}, ${change.week}, in ${change.where}): ${change.detail}`));
    flagged.appendChild(item);
  }

  const body = document.querySelector("#functions tbody");
  let rows = data.functions.slice();
  let sortKey = null, descending = true;
  const renderFunctions = () => {
    const filter = document.getElementById("function-filter").value.toLowerCase();
    body.replaceChildren();
    for (const fn of rows) {
      if (filter && !`${fn.path} ${fn.name}`.toLowerCase().includes(filter)) continue;
      const row = element("tr");
      const file = element("td");
      file.appendChild(place(fn.path, fn.line));
      row.append(file, element("td", fn.name),
        element("td", fn.before === null ? "new" : fn.before, "number"),
        element("td", fn.complexity, "number"), element("td", fn.changes, "number"));
      body.appendChild(row);
    }
  };
  document.getElementById("function-filter").addEventListener("input", renderFunctions);
  for (const header of document.querySelectorAll("#functions th")) {
    header.addEventListener("click", () => {
      const key = header.dataset.key;
      descending = sortKey === key ? !descending : true;
      sortKey = key;
      rows.sort((a, b) => {
        const x = a[key] === null ? -1 : a[key], y = b[key] === null ? -1 : b[key];
        const order = x < y ? -1 : x > y ? 1 : 0;
        return descending ? -order : order;
      });
      renderFunctions();
    });
  }
  renderFunctions();
  document.body.dataset.rendered = "true";
})();
