"""The risk report's charts as Plotly figure specifications (plain JSON data: traces and
layout), drawn by plotly.js in the page. Nothing here lays anything out: the treemap's
rectangles, the axes and the hovers are plotly.js's work; this module only says which data
goes in which trace.

Each builder takes the report's JSON document (`report.data.report_data`), so the charts
show exactly what `--format json` says.
"""

from __future__ import annotations

from posixpath import dirname
from typing import Any

Figure = dict[str, Any]

SEVERITIES = ("error", "warning", "info", "hint")
SEVERITY_COLOURS = {"error": "#d62728", "warning": "#ff7f0e", "info": "#1f77b4", "hint": "#7f7f7f"}
FAMILY_ORDER = ("security", "performance", "dependencies", "complexity", "provenance", "engine")


def _layout(**extra: Any) -> dict[str, Any]:
    return {
        "margin": {"l": 50, "r": 20, "t": 30, "b": 50},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"align": "left"},
        **extra,
    }


def hotspot_map(data: dict[str, Any]) -> Figure:
    """A treemap of the files at HEAD: sized by lines of code, coloured by risk. Folders
    hold the sum of their files' lines and their mean risk, weighted by lines."""
    spots = data["hotspots"]
    ids: list[str] = []
    parents: list[str] = []
    values: list[int] = []
    risks: list[float] = []
    hover: list[str] = []
    folders: dict[str, tuple[int, float]] = {}  # lines, sum of risk * lines
    for spot in spots:
        size = max(1, spot["lines"])
        folder = dirname(spot["path"])
        while True:
            lines, weighted = folders.get(folder, (0, 0.0))
            folders[folder] = (lines + size, weighted + spot["risk"] * size)
            if not folder:
                break
            folder = dirname(folder)
    for folder, (lines, weighted) in sorted(folders.items()):
        ids.append(folder or ".")
        parents.append("" if not folder else (dirname(folder) or "."))
        values.append(lines)
        risks.append(round(weighted / lines, 1))
        hover.append("folder: its files' mean risk, weighted by lines")
    for spot in spots:
        ids.append(spot["path"])
        parents.append(dirname(spot["path"]) or ".")
        values.append(max(1, spot["lines"]))
        risks.append(spot["risk"])
        hover.append("<br>".join(spot["reasons"]) or "nothing stands out")
    labels = [identifier.rpartition("/")[2] for identifier in ids]
    trace = {
        "type": "treemap",
        "ids": ids,
        "labels": labels,
        "parents": parents,
        "values": values,
        "branchvalues": "total",
        "customdata": [[risk, text] for risk, text in zip(risks, hover, strict=True)],
        "hovertemplate": (
            "<b>%{id}</b><br>%{value} lines, risk %{customdata[0]}<br>%{customdata[1]}"
            "<extra></extra>"
        ),
        "marker": {
            "colors": risks,
            "colorscale": "YlOrRd",
            "reversescale": True,  # plotly.js's YlOrRd runs from red at 0: red is risky
            "cmin": 0,
            "cmax": max([*risks, 1.0]),
            "showscale": True,
            "colorbar": {"title": {"text": "risk"}},
        },
        # Every level down to the deepest file, up to 6 (deeper ones show on a click).
        "maxdepth": min(6, 1 + max((i.count("/") + 2 for i in ids), default=1)),
        "textinfo": "label",
    }
    return {"data": [trace], "layout": _layout(margin={"l": 0, "r": 0, "t": 10, "b": 0})}


def _revision_labels(data: dict[str, Any]) -> list[str]:
    return [f"{r['short'][:7]} {r['date'][:10]}" for r in data["revisions"]]


def findings_trend(data: dict[str, Any]) -> Figure:
    """Open findings of each family at each revision (one line per family; the hover gives
    the severities and the commit)."""
    revisions = data["revisions"]
    labels = _revision_labels(data)
    present = {family for r in revisions for family in r["findings"]}
    families = [f for f in FAMILY_ORDER if f in present] + sorted(present - set(FAMILY_ORDER))
    traces = []
    for family in families:
        counts = [r["findings"].get(family, {}) for r in revisions]
        traces.append({
            "type": "scatter",
            "mode": "lines+markers",
            "name": family,
            "x": labels,
            "y": [sum(c.values()) for c in counts],
            "customdata": [
                [", ".join(f"{c[s]} {s}" for s in SEVERITIES if c.get(s)) or "none", r["subject"]]
                for c, r in zip(counts, revisions, strict=True)
            ],
            "hovertemplate": (
                f"<b>{family}</b>: %{{y}} (%{{customdata[0]}})<br>%{{x}} %{{customdata[1]}}"
                "<extra></extra>"
            ),
        })  # fmt: skip
    layout = _layout(
        xaxis={"type": "category", "title": {"text": "revision"}},
        yaxis={"title": {"text": "open findings"}, "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.3},
    )
    return {"data": traces, "layout": layout}


def severity_trend(data: dict[str, Any]) -> Figure:
    """All families' open findings at each revision, stacked by severity."""
    revisions = data["revisions"]
    labels = _revision_labels(data)
    traces = []
    for severity in SEVERITIES:
        counts = [sum(by.get(severity, 0) for by in r["findings"].values()) for r in revisions]
        if not any(counts):
            continue
        traces.append({
            "type": "bar",
            "name": severity,
            "x": labels,
            "y": counts,
            "marker": {"color": SEVERITY_COLOURS[severity]},
            "hovertemplate": f"%{{y}} {severity}<br>%{{x}}<extra></extra>",
        })  # fmt: skip
    layout = _layout(
        barmode="stack",
        xaxis={"type": "category", "title": {"text": "revision"}},
        yaxis={"title": {"text": "open findings"}},
        legend={"orientation": "h", "y": -0.3},
    )
    return {"data": traces, "layout": layout}


def figures(data: dict[str, Any]) -> dict[str, Figure]:
    """Every chart of the page, by the id of the element it is drawn in."""
    return {
        "hotspots": hotspot_map(data),
        "trend": findings_trend(data),
        "severities": severity_trend(data),
    }
