"""`IdleCollector`: full collections wait for a pause in typing, and then happen."""

from __future__ import annotations

import asyncio
import gc
import weakref

from clearsight.lsp.idle_gc import YOUNG_THRESHOLD, IdleCollector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _old_cycle() -> weakref.ref[Node]:
    """A reference cycle that lived long enough to reach the oldest generation, then
    became garbage: only a full collection frees it."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    gc.collect()  # a and b survive into the oldest generation
    return weakref.ref(a)


def _allocate_until_a_young_collection() -> None:
    keep = []
    while gc.get_count()[2] == 0:
        keep.append([[] for _ in range(1000)])
        if len(keep) > 100:
            keep.clear()


async def test_a_full_collection_waits_for_the_pause_then_runs() -> None:
    busy = [False]
    collector = IdleCollector(lambda: busy[0], quiet=0.3)
    collector.start()
    try:
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        cycle = _old_cycle()
        _allocate_until_a_young_collection()
        # Typing: activity every 0.1 s for a second, so no pause of 0.3 s.
        for _ in range(10):
            collector.activity()
            await asyncio.sleep(0.1)
        assert collector.collections == 0
        assert cycle() is not None  # young collections do not reach it
        # An analysis still running: no collection either.
        busy[0] = True
        await asyncio.sleep(0.6)
        assert collector.collections == 0
        busy[0] = False
        for _ in range(40):  # the pause: collected within a few checks
            await asyncio.sleep(0.1)
            if collector.collections:
                break
        assert collector.collections == 1
        assert cycle() is None
    finally:
        collector.stop()
    assert gc.get_threshold() == (700, 10, 10)


async def test_an_idle_server_that_allocates_nothing_does_not_collect_again() -> None:
    collector = IdleCollector(lambda: False, quiet=0.2)
    collector.start()
    try:
        gc.collect()  # nothing pending
        await asyncio.sleep(1.0)
        assert collector.collections == 0
    finally:
        collector.stop()
