"""UIE decoding against PaddleNLP Taskflow's own functions (fixture: tests/reference/uie_decoding_reference.py)."""

from __future__ import annotations

import json

import pytest
from tests.conftest import ROOT

from erniem.uie.decoding import character_spans, join_windows, pair_positions, positions_above, window_results

FIXTURE = json.loads((ROOT / "tests" / "data" / "uie_decoding.json").read_text(encoding="utf-8"))


def as_positions(items):
    return [(index, probability) for index, probability in items]


@pytest.mark.parametrize("window", FIXTURE["windows"], ids=lambda w: f"{w['prompt']}|{w['text']}")
def test_window_decoding_reproduces_taskflow(window):
    expected = window["expected"]
    starts, ends = positions_above(window["start"]), positions_above(window["end"])
    assert starts == as_positions(expected["starts"]) and ends == as_positions(expected["ends"])
    pairs = pair_positions(starts, ends)
    # Same pairs in the same (set iteration) order: Taskflow's results come out in this order.
    assert [list(map(list, pair)) for pair in pairs] == expected["pairs"]
    spans, probabilities = character_spans(pairs, [tuple(o) for o in window["offsets"]])
    assert [list(span) for span in spans] == expected["spans"]
    assert probabilities == pytest.approx(expected["probabilities"], abs=0, rel=1e-12)
    results = window_results(window["text"], window["prompt"], spans, probabilities)
    assert results == expected["results"]


def test_the_fixture_covers_every_branch():
    spans = [span for window in FIXTURE["windows"] for span in window["expected"]["spans"]]
    assert any(start < 0 <= end for start, end in spans)  # prompt-to-text spans, dropped
    assert any(end < 0 for _, end in spans)  # classification answers from the prompt
    assert any(start >= 0 for start, _ in spans)  # text spans
    assert any(not window["expected"]["pairs"] for window in FIXTURE["windows"])  # nothing found


@pytest.mark.parametrize("case", FIXTURE["joins"], ids=lambda c: str(c["mapping"]))
def test_joining_windows_reproduces_taskflow(case):
    mapping = {int(key): value for key, value in case["mapping"].items()}
    assert join_windows(case["results"], case["texts"], mapping) == case["expected"]


def test_pairing_takes_the_latest_start_before_each_end():
    # Starts at 1, 2 and 6; ends at 3, 4 and 5. End 3 takes start 2, the latest one before it (start 1 is
    # overtaken); ends 4 and 5 have no start left before them; start 6 has no end after it.
    starts, ends = [(1, 0.9), (2, 0.8), (6, 0.7)], [(3, 0.6), (4, 0.95), (5, 0.5)]
    assert pair_positions(starts, ends) == {((2, 0.8), (3, 0.6))}
    assert pair_positions([(4, 0.9)], [(4, 0.8)]) == {((4, 0.9), (4, 0.8))}  # a one-token span
