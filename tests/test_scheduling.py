"""The language server's adaptive scheduling policy: when an edit is analysed, as a pure
function of what the document's analyses cost and how fast edits come; `debounce` fixes it.
(Latency itself is measured in benchmarks/bench_lsp.py, never in a test.)"""

from __future__ import annotations

import pytest

from clearsight.lsp.server import (
    CHEAP_ANALYSIS_SECONDS,
    SLOW_DELAY_CAP_SECONDS,
    ClearsightServer,
    adaptive_delay,
)


@pytest.mark.parametrize(
    ("cost", "since", "delay"),
    [
        (None, None, 0.0),  # never analysed: at once
        (0.013, 0.001, 0.0),  # cheap, however fast the typing
        (CHEAP_ANALYSIS_SECONDS, 0.0, 0.0),
        (0.2, None, 0.0),  # slow, first edit: at once
        (0.2, 0.5, 0.0),  # slow, but edits come more slowly than it is analysed
        (0.2, 0.05, 0.2),  # slow and typed faster: wait one analysis's time
        (3.0, 0.05, SLOW_DELAY_CAP_SECONDS),  # never longer than the cap
    ],
)
def test_adaptive_delay(cost: float | None, since: float | None, delay: float) -> None:
    assert adaptive_delay(cost, since) == delay


def test_debounce_is_adaptive_unless_the_editor_fixes_it() -> None:
    server = ClearsightServer()
    assert server.debounce is None
    server.update_editor_settings(client={"debounce": 0})
    assert server.debounce == 0.0
    server.update_editor_settings(client={"debounce": 150})
    assert server.debounce == 0.15
    server.update_editor_settings(client={"debounce": "soon"})
    assert server.debounce is None  # a bad value is not a fixed wait
