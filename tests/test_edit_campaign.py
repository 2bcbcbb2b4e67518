"""A 500-edit sample of the differential campaign (`tests/edit_campaign.py`): after every
random edit of a standard-library module, the editor's incremental analysis must equal the
whole-file engine's. A new seed each run, printed; CLEARSIGHT_CAMPAIGN_SEED replays one."""

from __future__ import annotations

import os
import random

from edit_campaign import describe, modules, run

SAMPLE_EDITS = 500


def test_a_sample_of_random_edits_gives_the_whole_file_engine_s_findings() -> None:
    seed = int(os.environ.get("CLEARSIGHT_CAMPAIGN_SEED") or random.SystemRandom().randrange(10**9))
    print(f"\nedit campaign seed {seed} (CLEARSIGHT_CAMPAIGN_SEED={seed} replays it)")
    assert len(modules()) > 50  # the sample draws from many real modules
    report = run(SAMPLE_EDITS, seed)
    print(describe(report))
    assert report.edits == SAMPLE_EDITS
    assert report.parsed > SAMPLE_EDITS // 4  # most of it is code that parses, not just errors
    assert report.mismatches == [], describe(report)
