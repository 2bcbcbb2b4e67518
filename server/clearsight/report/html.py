"""The risk report as one self-contained HTML page: plotly.js, the charts' specifications,
the report's data and the page's own script are all inline, so it opens with no network
(a browser offline, a VS Code webview). plotly.js comes from the `plotly` package, the
optional extra `clearsight[report]`.

Text from the repository (paths, messages, commit subjects) reaches the page only as JSON
and is put in with `textContent`, never as markup.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

from clearsight.report.charts import figures

PLOTLY_MISSING = (
    "the HTML report draws its charts with Plotly, which is not installed: "
    "pip install 'clearsight[report]' (or --format json)"
)
SCRIPT_SLOT = "<!-- clearsight:plotly -->"


class ReportError(Exception):
    """The page cannot be made; the message says why and what to do."""


def plotly_script() -> str:
    """plotly.js, as the installed `plotly` package ships it."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as error:
        raise ReportError(PLOTLY_MISSING) from error
    return get_plotlyjs()


def _json_for_script(value: Any) -> str:
    # Inside <script>, "</" would end the element early: JSON allows "<\/" instead.
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def _asset(name: str) -> str:
    return resources.files("clearsight").joinpath("data", "report", name).read_text("utf-8")


def page(data: dict[str, Any], script: str | None = None) -> str:
    """The page for the report's JSON document. `script`: plotly.js's source; None leaves
    `SCRIPT_SLOT` for a host that loads plotly.js itself (the VS Code webview)."""
    root = data.get("root", "")
    title = f"Clearsight risk report: {root.rstrip('/').rpartition('/')[2] or root}"
    # "</script" inside plotly.js's strings would end the element: "<\/" reads the same.
    plotly = (
        SCRIPT_SLOT
        if script is None
        else "<script>" + script.replace("</script", "<\\/script") + "</script>"
    )
    # One pass over the template: a slot's text is never searched for other slots.
    slots = {
        "title": html.escape(title),
        "style": _asset("report.css"),
        "plotly": plotly,
        "data": _json_for_script(data),
        "figures": _json_for_script(figures(data)),
        "script": _asset("report.js"),
    }
    return re.sub(r"\{(title|style|plotly|data|figures|script)\}", lambda m: slots[m[1]],
                  _asset("page.html"))  # fmt: skip
