"""1,000 seeded random LSP messages, valid and invalid, to the real server over stdio
(`tests/protocol_campaign.py`): it stays up, answers every request, fails no analysis and
still analyses a normal file afterwards. A new seed each run, printed;
CLEARSIGHT_PROTOCOL_SEED replays one."""

from __future__ import annotations

import os
import random

from protocol_campaign import describe, run

MESSAGES = 1000


def test_random_valid_and_invalid_traffic_never_breaks_the_server() -> None:
    seed = int(os.environ.get("CLEARSIGHT_PROTOCOL_SEED") or random.SystemRandom().randrange(10**9))
    print(f"\nprotocol campaign seed {seed} (CLEARSIGHT_PROTOCOL_SEED={seed} replays it)")
    outcome = run(MESSAGES, seed)
    print(describe(outcome))
    assert outcome.sent == MESSAGES and outcome.requests > 100
    assert outcome.alive, describe(outcome)
    assert outcome.unanswered == [], describe(outcome)
    assert outcome.failures == [], describe(outcome)
    assert outcome.answered == outcome.requests
    assert outcome.analyses_after == ["CS-S004"], describe(outcome)
