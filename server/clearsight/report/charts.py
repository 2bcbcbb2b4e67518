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


KIND_COLOURS = {"human": "#2ca02c", "ai": "#9467bd", "mixed": "#e377c2", "unknown": "#c7c7c7"}
KIND_NAMES = {
    "human": "human",
    "ai": "AI",
    "mixed": "mixed (AI co-author or tool named)",
    "unknown": "unknown",
}


def authorship_trend(data: dict[str, Any]) -> Figure:
    """Added Python lines per week, stacked by who wrote them; the hover of the AI and mixed
    bars names the tools and models."""
    weeks = data["authorship"]["weeks"]
    x = [w["week"] for w in weeks]
    tools = [
        "<br>".join(f"{name}: {lines}" for name, lines in w["tools"].items()) or "no tool named"
        for w in weeks
    ]
    traces = []
    for kind in ("human", "mixed", "ai", "unknown"):
        y = [w["lines"][kind] for w in weeks]
        if not any(y):
            continue
        named = kind in ("ai", "mixed")
        traces.append({
            "type": "bar",
            "name": KIND_NAMES[kind],
            "x": x,
            "y": y,
            "marker": {"color": KIND_COLOURS[kind]},
            "customdata": tools if named else [w["commits"] for w in weeks],
            "hovertemplate": (
                f"%{{y}} lines {KIND_NAMES[kind]}, week of %{{x}}"
                + ("<br>%{customdata}" if named else "<br>%{customdata} commit(s)")
                + "<extra></extra>"
            ),
        })  # fmt: skip
    unreviewed = data["authorship"]["unreviewed_ai_lines"]
    layout = _layout(
        barmode="stack",
        xaxis={"type": "category", "title": {"text": "week"}},
        yaxis={"title": {"text": "Python lines added"}},
        legend={"orientation": "h", "y": -0.3},
        title={"text": f"AI-written lines not reviewed, still in the code: {unreviewed}",
               "font": {"size": 13}, "x": 0},
    )  # fmt: skip
    return {"data": traces, "layout": layout}


def dependency_trend(data: dict[str, Any]) -> Figure:
    """Declared distributions added (up) and removed (down) per week; names flagged as
    not on PyPI or a typosquat are their own, red, bars."""
    changes = data["dependencies"]
    weeks = sorted({c["week"] for c in changes})
    groups = {
        "added": [c for c in changes if c["change"] == "added" and not c["verdict"]],
        "flagged": [c for c in changes if c["change"] == "added" and c["verdict"]],
        "removed": [c for c in changes if c["change"] == "removed"],
    }
    colours = {"added": "#1f77b4", "flagged": "#d62728", "removed": "#7f7f7f"}
    names = {
        "added": "added",
        "flagged": "added, flagged (not on PyPI or a typosquat)",
        "removed": "removed",
    }
    traces = []
    for group, items in groups.items():
        if not items:
            continue
        sign = -1 if group == "removed" else 1
        y = [sign * sum(1 for c in items if c["week"] == week) for week in weeks]
        text = [
            "<br>".join(
                c["name"] + (f" ({c['verdict']})" if c["verdict"] else "") + f" in {c['where']}"
                for c in items if c["week"] == week
            )
            for week in weeks
        ]  # fmt: skip
        traces.append({
            "type": "bar",
            "name": names[group],
            "x": weeks,
            "y": y,
            "customdata": text,
            "marker": {"color": colours[group]},
            "hovertemplate": f"{names[group]}, week of %{{x}}:<br>%{{customdata}}<extra></extra>",
        })  # fmt: skip
    layout = _layout(
        barmode="relative",
        xaxis={"type": "category", "title": {"text": "week"}},
        yaxis={"title": {"text": "distributions"}, "zeroline": True},
        legend={"orientation": "h", "y": -0.3},
    )
    return {"data": traces, "layout": layout}


def figures(data: dict[str, Any]) -> dict[str, Figure]:
    """Every chart of the page, by the id of the element it is drawn in."""
    return {
        "hotspots": hotspot_map(data),
        "trend": findings_trend(data),
        "severities": severity_trend(data),
        "authorship": authorship_trend(data),
        "dependencies": dependency_trend(data),
    }
