"""The API and the edge agree on how many start segments can be warmed: the master names at most
EDGE_WARM_SEGMENTS (`warm0`...), and the edge's configuration has a mirror and a slot for each
(infra/edge/edge.conf.template; through a real nginx: tests/e2e/test_edge_cache.py)."""
from __future__ import annotations

import re

from services.api.playback import service
from tests.live import ROOT


def test_the_edge_has_a_warm_slot_for_every_segment_the_master_may_name():
    template = (ROOT / "infra/edge/edge.conf.template").read_text()
    slots = range(service.EDGE_WARM_SEGMENTS)
    assert re.findall(r"mirror (/_lb/warm/\d+);", template) == [f"/_lb/warm/{n}" for n in slots]
    assert re.findall(r"map \$arg_(warm\d+) ", template) == [f"warm{n}" for n in slots]
    assert re.findall(r"(/_lb/warm/\d+)\s+\$lb_(warm\d+);", template) == [(f"/_lb/warm/{n}", f"warm{n}") for n in slots]
